import sys, tempfile, numpy as np, pandas as pd, geopandas as gpd, time
sys.path.insert(0, "benchmarks")
from pathlib import Path
from bench_controls import build
import jixi_geo as jg
from jixi_geo.controls import load_controls
from jixi_geo.controls import occupy as O
tmp = Path(tempfile.mkdtemp())
sites, path, others = build(10000, 100000, tmp)
sites = jg.read_sites(sites)
lc = gpd.read_file(path)
ctl = load_controls({"landcover": lc, **others})
jg.check_sites(sites, controls=ctl)
for k in range(3):
    for thr in (10_000, 10**9):
        O.PARALLEL_MIN_PAIRS = thr
        t=time.perf_counter(); c=time.process_time(); jg.check_sites(sites); b=time.perf_counter()-t; bc=time.process_time()-c
        t=time.perf_counter(); c=time.process_time(); jg.check_sites(sites, controls=ctl); w=time.perf_counter()-t; wc=time.process_time()-c
        print(thr, f"base {b:.2f} ({bc:.2f} cpu) ctl {w:.2f} ({wc:.2f} cpu) ratio {w/b:.2f}")
