import sys, tempfile, time, numpy as np, geopandas as gpd, shapely, os, cProfile, pstats
os.environ["JIXI_GEO_CACHE"] = "0"
sys.path.insert(0, "benchmarks")
from pathlib import Path
from bench_controls import build
from jixi_geo.controls.layers import ControlLayer
from jixi_geo.controls import occupy as O
tmp = Path(tempfile.mkdtemp())
sites, path, others = build(100, 100000, tmp)
lc = gpd.read_file(path)
pr = cProfile.Profile(); pr.enable()
t=time.perf_counter(); pc = O.prepare_control(ControlLayer("landcover", lc)); print("prepare total", time.perf_counter()-t)
pr.disable(); pstats.Stats(pr).sort_stats("tottime").print_stats(15)
