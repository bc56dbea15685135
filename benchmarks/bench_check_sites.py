"""Benchmark: jixi_geo.check_sites against the plain geopandas way, side by side in one run.

For random sites over Jixi's bounding box (EPSG:4553, about half of them outside the
city, as in a province-wide screening clipped to a rectangle), each size is run in
a fresh process per method, and the script prints:

- points 10³…10⁶ and polygons 10³…10⁵ (squares of 50–500 m): sites/s of
  ``check_sites(sites, activity="wind_farm", search_m=1000, buffer_m=1000)`` — the
  verdict, the zones hit, the overlap (polygons) and the distance to the nearest
  zone within 1 km — and of the *plain geopandas way* doing the same job on the
  same sites: ``to_crs``, ``sjoin`` with the city boundary (inside Jixi?),
  ``sjoin`` with the zones (points) or ``overlay(how="intersection")`` + area
  (polygons), the verdict per zone from the rule table with ``merge``, the most
  severe per site, the zone names per site with ``groupby().agg("; ".join)``, and
  ``sjoin_nearest(max_distance=1000)`` for sites in no zone;
- for polygons also the ``overlay`` step alone, the narrowest yardstick;
- each call twice in its process: the first call ("cold", what a one-off command
  pays: fresh memory) and a repeat ("warm", as in a notebook session);
- the ratio, the peak memory of each process (ru_maxrss) and jixi_geo's one-off
  preparation of the zone layer (tiles, index, cell grid; cached for the session),
  which is timed apart from the check;
- whether the two ways agree: the share of sites given the same verdict;
- the time of ``import jixi_geo`` and, with ``--make-run``, the wall time of ``make run``.

Usage: python benchmarks/bench_check_sites.py [--quick] [--make-run] [--repeat K] [--max-plain N]
(``make bench``; the full run takes about 5 minutes, mostly the plain way at 10⁶ points).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time, resource
import numpy as np, pandas as pd, geopandas as gpd, shapely
import jixi_geo as jg
from jixi_geo import rules as R
from jixi_geo.crs import ANALYSIS_CRS
kind, n, how, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ACTIVITY, SEARCH = "wind_farm", 1000.0
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
zones, boundary = jg.load_layer("redline_zones"), jg.load_layer("boundary")
prep = 0.0


def plain(sites):
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
    rules = rules[rules["activity"] == ACTIVITY][["control_level", "verdict"]]
    hits = hits.merge(rules, on="control_level", how="left")
    hits["rank"] = hits["verdict"].map(R.VERDICT_RANK)  # 0 = prohibited, the most severe
    best = hits.sort_values(["site", "rank"]).drop_duplicates("site").set_index("site")
    names = hits.groupby("site")["name_zh"].agg("; ".join)
    res = pd.DataFrame({"site_id": sites["site_id"].to_numpy()}, index=sp.index)
    res["verdict"] = best["verdict"].reindex(res.index).fillna("clear")
    res["zones_hit"] = names.reindex(res.index).fillna("")
    rest = sp[~sp.index.isin(best.index) & in_jixi]
    near = gpd.sjoin_nearest(rest[["geometry"]], zp, max_distance=SEARCH, distance_col="distance_m")
    near = near[~near.index.duplicated()]
    res["nearest_zone"] = near["name_zh"].reindex(res.index)
    res["distance_m"] = near["distance_m"].reindex(res.index)
    res.loc[res.index.isin(best.index), "distance_m"] = 0.0
    res.loc[res.index.isin(near.index), "verdict"] = "attention"
    res.loc[~in_jixi, "verdict"] = "outside_jixi"
    return res


if how == "jixi_geo":
    from jixi_geo import _grid, _kernels
    from jixi_geo._zones import prepare
    t = time.perf_counter()
    pz, jx = prepare(zones), prepare(boundary)
    if kind == "points" and n >= _kernels.GRID_MIN_POINTS:
        _grid.build(pz, jx).answers(SEARCH)
    prep = time.perf_counter() - t
def run():
    if how == "jixi_geo":
        r = jg.check_sites(sites, activity=ACTIVITY, search_m=SEARCH, buffer_m=SEARCH)
        return r["verdict"].to_numpy(dtype=str)
    if how == "plain":
        return plain(sites)["verdict"].to_numpy(dtype=str)
    sp = sites.to_crs(ANALYSIS_CRS)  # the overlay step alone
    ov = gpd.overlay(sp, zones.to_crs(ANALYSIS_CRS)[["control_level", "geometry"]], how="intersection",
                     keep_geom_type=True)
    ov["area_m2"] = ov.area
    return np.array([], dtype=str)


# first call in this process ("cold"), then a repeat on the same sites ("warm", as in a session)
times = []
for _ in range(2):
    t = time.perf_counter()
    verdict = run()
    times.append(time.perf_counter() - t)
np.save(out, verdict)
print(json.dumps({"seconds": times[0], "warm": times[1], "prep": prep,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_worker(kind: str, n: int, how: str, tmp: Path) -> tuple[dict, np.ndarray]:
    out = tmp / f"{kind}-{n}-{how}.npy"
    proc = subprocess.run([sys.executable, "-c", WORKER, kind, str(n), how, str(out)], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode:
        sys.exit(f"benchmark worker failed ({kind}, {n}, {how}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out)


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
    ap.add_argument("--repeat", type=int, default=3,
                    help="fresh processes per size for jixi_geo; the median is shown (first calls vary with "
                         "the machine's memory state)")
    ap.add_argument("--max-plain", type=int, default=1_000_000,
                    help="largest size for which the plain geopandas way is timed (it takes minutes at 10⁶)")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"import jixi_geo: {import_time():.2f} s (best of 3, fresh interpreter)")
    sizes = {"points": [1_000, 10_000, 100_000, 1_000_000], "polygons": [1_000, 10_000, 100_000]}
    if args.quick:
        sizes = {k: v[:2] for k, v in sizes.items()}
    head = (f"{'kind':<9}{'n':>10} | {'jixi_geo s':>10} {'warm s':>7} {'sites/s':>9} {'MB':>5} {'prep s':>6} | "
            f"{'plain s':>8} {'warm s':>7} {'sites/s':>8} {'MB':>5} | {'ratio':>5} {'warm':>5} {'same':>7} | "
            f"{'overlay s':>9} {'ratio':>5}")
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind, ns in sizes.items():
            for n in ns:
                runs = [run_worker(kind, n, "jixi_geo", tmp) for _ in range(args.repeat)]
                va = runs[0][1]
                a = {k: float(np.median([r[0][k] for r in runs])) for k in runs[0][0]}
                line = (f"{kind:<9}{n:>10,} | {a['seconds']:>10.2f} {a['warm']:>7.2f} {n / a['seconds']:>9,.0f} "
                        f"{a['maxrss_mb']:>5.0f} {a['prep']:>6.2f} | ")
                if n <= args.max_plain:
                    g, vg = run_worker(kind, n, "plain", tmp)
                    same = float(np.mean(va == vg)) * 100
                    line += (f"{g['seconds']:>8.2f} {g['warm']:>7.2f} {n / g['seconds']:>8,.0f} "
                             f"{g['maxrss_mb']:>5.0f} | {g['seconds'] / a['seconds']:>4.0f}x "
                             f"{g['warm'] / a['warm']:>4.0f}x {same:>6.2f}% | ")
                else:
                    line += f"{'(skipped)':>31} | {'':>19} | "
                if kind == "polygons" and n <= args.max_plain:
                    o, _ = run_worker(kind, n, "overlay", tmp)
                    line += f"{o['seconds']:>9.2f} {o['seconds'] / a['seconds']:>4.1f}x"
                print(line, flush=True)
    print(f"s: first call in a fresh process; warm: the same call repeated in that process (as in a session);\n"
          f"jixi_geo: median of {args.repeat} processes; plain/overlay: one process each;\n"
          "sites/s from the first call; MB: peak memory of the process; prep: jixi_geo's one-off zone preparation;\n"
          "ratio: plain seconds / jixi_geo seconds (first calls; warm: repeats); same: sites given the same verdict;\n"
          "overlay: geopandas.overlay + area alone (first call) and its ratio to jixi_geo's whole check")
    if args.make_run:
        t = time.perf_counter()
        subprocess.run(["make", "run"], cwd=ROOT, check=True, capture_output=True)
        print(f"make run: {time.perf_counter() - t:.1f} s wall")


if __name__ == "__main__":
    main()
