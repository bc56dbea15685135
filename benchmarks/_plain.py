"""The plain geopandas way of the site check, written as a careful analyst would (benchmark yardstick).

Shared by the benchmark's worker processes; not part of the package.
"""

import geopandas as gpd
import pandas as pd

from jixi_geo import rules as R
from jixi_geo.crs import ANALYSIS_CRS


def plain(sites, zones, boundary, *, kind, activity, search):
    # the plain geopandas way, written as a careful analyst would
    sp = sites.to_crs(ANALYSIS_CRS)
    zp = zones.to_crs(ANALYSIS_CRS)[["id", "name_zh", "control_level", "geometry"]]
    bp = boundary.to_crs(ANALYSIS_CRS)[["geometry"]]
    inj = gpd.sjoin(sp[["geometry"]], bp, predicate="intersects", how="inner")
    in_jixi = sp.index.isin(inj.index)
    if kind == "points":
        hits = gpd.sjoin(sp, zp, predicate="intersects", how="inner").reset_index(names="site")
        hits = hits[["site", "name_zh", "control_level"]]
    else:
        sp2 = sp[["geometry"]].reset_index(names="site")
        ov = gpd.overlay(sp2, zp, how="intersection", keep_geom_type=True)
        ov["overlap_m2"] = ov.area
        hits = ov[ov["overlap_m2"] >= 100.0][["site", "name_zh", "control_level"]]  # 0.01 ha slivers
    rules = R.verdict_rules()
    rules = rules[rules["activity"] == activity][["control_level", "verdict"]]
    hits = hits.merge(rules, on="control_level", how="left")
    hits["rank"] = hits["verdict"].map(R.VERDICT_RANK)  # 0 = prohibited, the most severe
    best = hits.sort_values(["site", "rank"]).drop_duplicates("site").set_index("site")
    names = hits.groupby("site")["name_zh"].agg("; ".join)
    res = pd.DataFrame({"site_id": sites["site_id"].to_numpy()}, index=sp.index)
    res["verdict"] = best["verdict"].reindex(res.index).fillna("clear")
    res["zones_hit"] = names.reindex(res.index).fillna("")
    rest = sp[~sp.index.isin(best.index) & in_jixi]
    near = gpd.sjoin_nearest(rest[["geometry"]], zp, max_distance=search, distance_col="distance_m")
    near = near[~near.index.duplicated()]
    res["nearest_zone"] = near["name_zh"].reindex(res.index)
    res["distance_m"] = near["distance_m"].reindex(res.index)
    res.loc[res.index.isin(best.index), "distance_m"] = 0.0
    res.loc[res.index.isin(near.index), "verdict"] = "attention"
    res.loc[~in_jixi, "verdict"] = "outside_jixi"
    return res
