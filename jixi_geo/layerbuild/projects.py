"""The sample project registry: the ecological plan's key projects and hand-made test sites.

Key projects (``tables/key_projects.csv``) carry their published attributes; their
sites (``params/project_sites.csv``) are illustrative placements in their county,
not surveyed locations. Test sites (``params/test_sites.csv``) are made to exercise
each verdict of the compliance check.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import ANALYSIS_CRS
from . import BuildContext, LayerSpec
from .geom import TO_PRJ

__all__ = ["PLAN", "build"]

PLAN = "鸡西市生态文明建设示范区规划（2024—2030年）附件 工程内容与投资估算"


def _site_geometry(rec) -> shapely.Geometry:
    """Point, north-aligned square or line centred on (lon, lat), built in EPSG:4553."""
    x, y = TO_PRJ.transform(rec.lon, rec.lat)
    if rec.geometry_type == "point":
        return shapely.Point(x, y)
    size = float(rec.size_m)
    if rec.geometry_type == "polygon":
        h = size / 2
        return shapely.box(x - h, y - h, x + h, y + h)
    if rec.geometry_type == "line":
        b = math.radians(float(rec.bearing_deg))
        dx, dy = math.sin(b) * size / 2, math.cos(b) * size / 2
        return shapely.LineString([(x - dx, y - dy), (x + dx, y + dy)])
    raise ValueError(f"{rec.project_id}: geometry_type {rec.geometry_type!r} is not point/polygon/line")


def build(ctx: BuildContext) -> list[LayerSpec]:
    kp = ctx.table("key_projects.csv", dtype=str, keep_default_na=False)
    sites = ctx.params_csv("project_sites.csv", dtype={"project_id": str})
    df = kp.merge(sites, on="project_id", how="left", validate="one_to_one")
    bad = sorted(set(df["location_precision"]) - {"illustrative", "not_spatial"})
    if bad:
        raise ValueError(f"location_precision values {bad} in project_sites.csv; use illustrative or not_spatial")
    if df["lon"].isna().any():
        raise ValueError(f"projects without a site: {df.loc[df['lon'].isna(), 'project_id'].tolist()}")
    geoms = [_site_geometry(r) for r in df.itertuples(index=False)]
    inv = pd.to_numeric(df["investment_wan_yuan"].replace("", np.nan))
    key = gpd.GeoDataFrame({
        "id": df["project_id"], "name_zh": df["name_zh"], "name_en": df["name_en"],
        "category": "key_project", "source": PLAN, "precision": "illustrative",
        "method": "site placed in its county from the project's description ("
                  + df["place_basis"].astype(str) + "); shape: " + df["geometry_type"]
                  + np.where(df["size_m"].notna(), " of " + df["size_m"].astype(str) + " m", ""),
        "official_area_ha": np.nan, "site_kind": "key_project", "activity": df["activity"],
        "county_zh": df["county_zh"], "county_en": df["county_en"], "table_section": df["table_section"],
        "investment_wan_yuan": inv, "investment_published": df["investment_published"],
        "period_published": df["period_published"], "content_zh": df["content_zh"],
        "location_precision": df["location_precision"], "intent": "",
    }, geometry=geoms, crs=ANALYSIS_CRS)
    ts = ctx.params_csv("test_sites.csv", dtype=str, keep_default_na=False)
    test = gpd.GeoDataFrame({
        "id": ts["site_id"], "name_zh": ts["name_zh"], "name_en": ts["name_en"], "category": "test_site",
        "source": "jixi_geo hand-made test site (layers/params/test_sites.csv)", "precision": "illustrative",
        "method": "hand-made to exercise the verdict '" + ts["intent"] + "': " + ts["note"],
        "official_area_ha": np.nan, "site_kind": "test_site", "activity": ts["activity"],
        "county_zh": "", "county_en": "", "table_section": "", "investment_wan_yuan": np.nan,
        "investment_published": "", "period_published": "", "content_zh": "",
        "location_precision": "illustrative", "intent": ts["intent"],
    }, geometry=gpd.GeoSeries.from_wkt(ts["geometry_wkt"], crs="EPSG:4326").to_crs(ANALYSIS_CRS).values,
        crs=ANALYSIS_CRS)
    layer = pd.concat([key, test], ignore_index=True)
    return [LayerSpec("projects", gpd.GeoDataFrame(layer, geometry="geometry", crs=ANALYSIS_CRS),
                      "重点项目与测试场址", "Key projects and test sites (sample registry)",
                      PLAN + "; hand-made test sites", "illustrative", "transcribed from the public plan",
                      "The plan's 31 key projects with illustrative sites, and hand-made sites for each verdict.")]
