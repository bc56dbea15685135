import sys, tempfile, numpy as np, pandas as pd, geopandas as gpd, time, shapely
sys.path.insert(0, "benchmarks")
from pathlib import Path
from bench_controls import build
import jixi_geo as jg
from jixi_geo.controls import load_controls
from jixi_geo.controls.occupy import prepare_control
from jixi_geo._zones import thread_tiles
from jixi_geo.crs import ANALYSIS_CRS
tmp = Path(tempfile.mkdtemp())
sites, path, others = build(10000, 100000, tmp)
sites = jg.read_sites(sites)
lc = gpd.read_file(path)
ctl = load_controls({"landcover": lc, **others})
g = np.asarray(sites.to_crs(ANALYSIS_CRS).geometry.values)
for role in ctl.roles:
    pc = prepare_control(ctl[role]); pz = pc.pz
    t=time.perf_counter(); s, ti = pz.tree.query(g, predicate="intersects"); tq=time.perf_counter()-t
    t=time.perf_counter(); w = shapely.contains_properly(thread_tiles(pz)[ti], g[s]); tc=time.perf_counter()-t
    t=time.perf_counter(); x = shapely.intersection(g[s[~w]], pz.tiles[ti[~w]]); tx=time.perf_counter()-t
    print(role, len(pz.tiles), len(s), w.sum(), f"query {tq:.3f} cp {tc:.3f} inter {tx:.3f}", shapely.get_num_coordinates(pz.tiles).mean())
