import sys, tempfile, numpy as np, pandas as pd, geopandas as gpd, cProfile, pstats, time
sys.path.insert(0, "benchmarks")
from pathlib import Path
from bench_controls import build
import jixi_geo as jg
from jixi_geo.controls import Controls, load_controls
tmp = Path(tempfile.mkdtemp())
sites, path, others = build(10000, 100000, tmp)
sites = jg.read_sites(sites)
lc = gpd.read_file(path)
ctl = load_controls({"landcover": lc, **others})
t=time.perf_counter(); jg.check_sites(sites); print("base", time.perf_counter()-t)
t=time.perf_counter(); jg.check_sites(sites, controls=ctl); print("first", time.perf_counter()-t)
pr = cProfile.Profile(); pr.enable()
t=time.perf_counter(); jg.check_sites(sites, controls=ctl); print("warm", time.perf_counter()-t)
pr.disable()
pstats.Stats(pr).sort_stats("cumulative").print_stats("jixi_geo", 30)
