import sys, tempfile, numpy as np, pandas as pd, geopandas as gpd
sys.path.insert(0, "benchmarks")
from pathlib import Path
from bench_controls import build
import jixi_geo as jg
from jixi_geo.controls import Controls, load_controls
from jixi_geo.crs import ANALYSIS_CRS
from jixi_geo._kernels import ellipsoidal_area
tmp = Path(tempfile.mkdtemp())
sites, path, others = build(300, 5000, tmp)
sites = jg.read_sites(sites)
lc = gpd.read_file(path)
ctl = load_controls({"landcover": lc})
d = jg.check_sites_detail(sites, controls=ctl)
got = d[(d["role"] == "landcover") & (d["land_class_code"] != "")].groupby(["site_id", "land_class_code"])["overlap_ha"].sum() * 1e4
lcp = lc.to_crs(ANALYSIS_CRS); sp = sites.to_crs(ANALYSIS_CRS)[["site_id", "geometry"]]
ov = gpd.overlay(sp, lcp[["class_code", "geometry"]], how="intersection", keep_geom_type=True)
ov["m2"] = ellipsoidal_area(ov.geometry.values)
ref = ov.groupby(["site_id", "class_code"])["m2"].sum(); ref = ref[ref > 0]
ref.index = ref.index.set_names(["site_id", "land_class_code"])
j = pd.concat([got.rename("a"), ref.rename("b")], axis=1).fillna(0)
j["d"] = (j.a - j.b).abs()
print(j.sort_values("d").tail(10))
print(lc.class_code.value_counts().head(), lc.dtypes)
