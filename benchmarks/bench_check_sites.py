"""Benchmark: jixi_geo.check_sites against the plain geopandas way, in one run.

Prints, for random sites over Jixi's extent,
- points 10³…10⁶: sites/s of ``check_sites`` (fast kernel: verdict, zones, distance to
  the nearest zone within 1 km) and of the plain geopandas way on the same points
  (``sjoin`` for in-zone, ``sjoin_nearest`` for the nearest zone within 1 km), the
  ratio, and each run's peak memory (separate processes, ru_maxrss);
- polygons 10³…10⁵ (squares of 50–500 m): ``check_sites`` with overlap areas against
  ``geopandas.overlay`` (intersection) + area;
- the time of ``import jixi_geo`` and, with ``--make-run``, the wall time of ``make run``.

Usage: python benchmarks/bench_check_sites.py [--quick] [--make-run] [--max-geopandas N]
The plain geopandas way is timed up to --max-geopandas sites (default 10⁶ points,
10⁵ polygons); it takes minutes at the top sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time, resource
import numpy as np, geopandas as gpd, shapely
import jixi_geo as jg
from jixi_geo.redline import check_sites
from jixi_geo.crs import ANALYSIS_CRS
kind, n, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(12345)
b = jg.load_layer("boundary", crs=ANALYSIS_CRS).total_bounds
xs, ys = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
if kind == "points":
    geoms = shapely.points(xs, ys)
else:
    s = rng.uniform(50, 500, n)
    geoms = shapely.box(xs, ys, xs + s, ys + s)
sites = gpd.GeoDataFrame({"site_id": np.char.add("s", np.arange(n).astype(str))}, geometry=geoms,
                         crs=ANALYSIS_CRS).to_crs(4490)
zones = jg.load_layer("redline_zones")
# warm-up on a few sites (zone preparation is cached per zone layer, as in a session)
check_sites(sites.iloc[:10], activity="wind_farm", search_m=1000)
zp = zones.to_crs(ANALYSIS_CRS)
sp = sites.to_crs(ANALYSIS_CRS)
t = time.perf_counter()
if how == "jixi_geo":
    r = check_sites(sites, activity="wind_farm", search_m=1000, buffer_m=1000)
    summary = r["verdict"].astype(str).value_counts().to_dict()
elif kind == "points":
    inside = gpd.sjoin(sp, zp, predicate="intersects", how="left")
    out = sp[~sp.index.isin(inside.dropna(subset=["index_right"]).index)]
    near = gpd.sjoin_nearest(out, zp, max_distance=1000, distance_col="distance_m")
    summary = {"inside_pairs": int(inside["index_right"].notna().sum()), "near": int(len(near))}
else:
    ov = gpd.overlay(sp, zp[["control_level", "geometry"]], how="intersection", keep_geom_type=True)
    ov["area_m2"] = ov.area
    summary = {"pieces": int(len(ov))}
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "summary": summary}))
"""


def run_worker(kind: str, n: int, how: str) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKER, kind, str(n), how], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_time() -> float:
    best = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import jixi_geo"], check=True)
        best.append(time.perf_counter() - t)
    return min(best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only the two smallest sizes")
    ap.add_argument("--make-run", action="store_true", help="also time `make run`")
    ap.add_argument("--max-geopandas", type=int, default=1_000_000,
                    help="largest size for which the plain geopandas way is timed")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"import jixi_geo: {import_time():.2f} s (best of 3, fresh interpreter)")
    sizes = {"points": [1_000, 10_000, 100_000, 1_000_000], "polygons": [1_000, 10_000, 100_000]}
    if args.quick:
        sizes = {k: v[:2] for k, v in sizes.items()}
    print(f"{'kind':<9}{'n':>9} {'jixi_geo s':>11} {'sites/s':>11} {'MB':>6} | {'geopandas s':>12} "
          f"{'sites/s':>9} {'MB':>6} | {'ratio':>6}")
    for kind, ns in sizes.items():
        for n in ns:
            a = run_worker(kind, n, "jixi_geo")
            line = (f"{kind:<9}{n:>9,} {a['seconds']:>11.2f} {n / a['seconds']:>11,.0f} {a['maxrss_mb']:>6.0f} | ")
            limit = args.max_geopandas if kind == "points" else min(args.max_geopandas, 100_000)
            if n <= limit:
                g = run_worker(kind, n, "geopandas")
                line += f"{g['seconds']:>12.2f} {n / g['seconds']:>9,.0f} {g['maxrss_mb']:>6.0f} | " \
                        f"{g['seconds'] / a['seconds']:>5.0f}x"
            else:
                line += f"{'(skipped)':>12}"
            print(line, flush=True)
    if args.make_run:
        t = time.perf_counter()
        subprocess.run(["make", "run"], cwd=ROOT, check=True, capture_output=True)
        print(f"make run: {time.perf_counter() - t:.1f} s wall")


if __name__ == "__main__":
    main()
