import sys, tempfile, time, numpy as np, geopandas as gpd, shapely, os
os.environ["JIXI_GEO_CACHE"] = "0"
sys.path.insert(0, "benchmarks")
from pathlib import Path
from bench_controls import build
from jixi_geo.controls.layers import ControlLayer
from jixi_geo.controls import occupy as O
from jixi_geo.crs import ANALYSIS_CRS
tmp = Path(tempfile.mkdtemp())
sites, path, others = build(100, 100000, tmp)
lc = gpd.read_file(path)
T = lambda: time.perf_counter()
t=T(); g = np.asarray(lc.geometry.to_crs(ANALYSIS_CRS).values); print("to_crs", T()-t)
t=T(); g = shapely.make_valid(g); print("make_valid", T()-t)
t=T(); tree = shapely.STRtree(g); a,b = tree.query(g, predicate="intersects"); print("query", T()-t, len(a))
k=b<a; a,b=a[k],b[k]
t=T(); x = shapely.touches(g[a], g[b]); print("touches", T()-t)
t=T(); a2,b2 = tree.query(g, predicate="overlaps"); print("query overlaps", T()-t, len(a2))
t=T(); O.control_sha256(lc); print("sha", T()-t)
t=T(); O._tile(g, 5000.0); print("tile", T()-t)
t=T(); pc = O.prepare_control(ControlLayer("landcover", lc)); print("prepare total", T()-t)
print(shapely.geos_version)
t=T(); e = shapely.coverage_invalid_edges(g); print("coverage_invalid_edges", T()-t, (~shapely.is_empty(e)).sum())
t=T(); tree.query(g); print("bbox query", T()-t)
