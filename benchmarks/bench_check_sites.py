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
sys.path.insert(0, "benchmarks")
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


from _plain import plain as _plain_way


def plain(sites):
    return _plain_way(sites, zones, boundary, kind=kind, activity=ACTIVITY, search=SEARCH)


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
times, cpu = [], []
for _ in range(2):
    t, c = time.perf_counter(), time.process_time()
    verdict = run()
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
np.save(out, verdict)
print(json.dumps({"seconds": times[0], "warm": times[1], "prep": prep, "cpu": cpu[0], "cpu_warm": cpu[1],
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


# ----------------------------------------------------------------------------- end-to-end targets

MAKE_POINTS = r"""
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq, geopandas as gpd, shapely
import jixi_geo as jg
from jixi_geo.crs import ANALYSIS_CRS
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
b = jg.load_layer("boundary", crs=ANALYSIS_CRS).total_bounds
writer, step = None, 500_000
for start in range(0, n, step):  # written row group by row group: bounded memory
    m = min(step, n - start)
    xs, ys = rng.uniform(b[0], b[2], m), rng.uniform(b[1], b[3], m)
    g = gpd.GeoDataFrame({"site_id": np.char.add("s", np.arange(start, start + m).astype(str))},
                         geometry=shapely.points(xs, ys), crs=ANALYSIS_CRS).to_crs(4490)
    if path.endswith(".gpkg"):
        g.to_file(path)
        break
    t = pa.table(g.to_arrow(index=False, geometry_encoding="WKB"))
    if writer is None:
        g.iloc[:0].to_parquet(path + ".schema")
        meta = pq.read_schema(path + ".schema").metadata
        writer = pq.ParquetWriter(path, t.schema.with_metadata(meta))
    writer.write_table(t.replace_schema_metadata(meta), row_group_size=200_000)
if writer is not None:
    writer.close()
"""

E2E_JG = r"""
import time, sys
import jixi_geo as jg
r = jg.check_sites(sys.argv[1], activity="wind_farm", search_m=1000, buffer_m=1000)
done = time.time()
import numpy as np
np.save(sys.argv[2], r["verdict"].astype(str).to_numpy(dtype=str))
print(done)
"""

E2E_PLAIN = r"""
import time, sys
sys.path.insert(0, "benchmarks")
import geopandas as gpd
import jixi_geo as jg
from _plain import plain
zones, boundary = jg.load_layer("redline_zones"), jg.load_layer("boundary")
sites = gpd.read_parquet(sys.argv[1])
r = plain(sites, zones, boundary, kind="points", activity="wind_farm", search=1000.0)
done = time.time()
import numpy as np
np.save(sys.argv[2], r["verdict"].astype(str).to_numpy(dtype=str))
print(done)
"""

STREAM = r"""
import json, resource, sys, time
import jixi_geo as jg
t, c = time.perf_counter(), time.process_time()
jg.check_file(sys.argv[1], sys.argv[2], chunksize=200_000, progress=False, activity="wind_farm", search_m=1000,
              buffer_m=1000)
print(json.dumps({"seconds": time.perf_counter() - t, "check_cpu": time.process_time() - c,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

POLY_OVERLAP = r"""
import json, sys, time
import numpy as np, geopandas as gpd, shapely
import jixi_geo as jg
from jixi_geo.crs import ANALYSIS_CRS
n = int(sys.argv[1])
rng = np.random.default_rng(12345)
b = jg.load_layer("boundary", crs=ANALYSIS_CRS).total_bounds
xs, ys = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
s = rng.uniform(50, 500, n)
sites = gpd.GeoDataFrame({"id": np.arange(n)}, geometry=shapely.box(xs, ys, xs + s, ys + s),
                         crs=ANALYSIS_CRS).to_crs(4490)
zones = jg.load_layer("redline_zones")
out = {}
for k in range(2):
    t, c = time.perf_counter(), time.process_time()
    jg.overlap(sites, zones)
    out["overlap" if k == 0 else "overlap_warm"] = time.perf_counter() - t
    out["cpu" if k == 0 else "cpu_warm"] = time.process_time() - c
t = time.perf_counter()
O = __import__("importlib").import_module("jixi_geo.overlap")
A = O._prepare(sites, key="id", arg="a", make_valid=False)
B = O._prepare(zones, key="id", arg="b", make_valid=False)
ia, ib, ov = O._pairs(A, B)
O._pair_table(A, B, ia, ib, ov, "ha", "a_id", "b_id")
A.area_m2, B.area_m2
out["old_way"] = time.perf_counter() - t
t = time.perf_counter()
ovl = gpd.overlay(sites.to_crs(ANALYSIS_CRS), zones.to_crs(ANALYSIS_CRS)[["id", "geometry"]], how="intersection",
                  keep_geom_type=True)
ovl["area"] = ovl.area
out["overlay"] = time.perf_counter() - t
print(json.dumps(out))
"""

DASK = r"""
import json, sys, time
import numpy as np, geopandas as gpd
import jixi_geo as jg
n = int(sys.argv[1])
rng = np.random.default_rng(7)
b = jg.load_layer("boundary").total_bounds
g = gpd.GeoDataFrame({"site_id": np.char.add("d", np.arange(n).astype(str))},
                     geometry=gpd.points_from_xy(rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)),
                     crs="EPSG:4490")
import dask_geopandas, distributed
jg.check_sites(g.iloc[:1000])
out = {}
t = time.perf_counter()
ref = jg.check_sites(g)
out["in_process"] = time.perf_counter() - t
for parts in (2, 8):
    ddf = dask_geopandas.from_geopandas(g, npartitions=parts)
    t = time.perf_counter()
    r = jg.check_sites(ddf).compute(scheduler="threads")
    out[f"threads_{parts}"] = time.perf_counter() - t
    assert r.index.equals(g.index) and (r["verdict"].astype(str) == ref["verdict"].astype(str)).all()
t = time.perf_counter()
with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
        distributed.Client(cl) as client:
    out["cluster_start"] = time.perf_counter() - t
    for parts in (2, 8):
        ddf = dask_geopandas.from_geopandas(g, npartitions=parts)
        t = time.perf_counter()
        r = jg.check_sites(ddf).compute()
        out[f"processes_{parts}"] = time.perf_counter() - t
        assert r.index.equals(g.index) and (r["verdict"].astype(str) == ref["verdict"].astype(str)).all()
    # the data already on the workers (a cluster reading its own partitions from storage)
    ddf = client.persist(dask_geopandas.from_geopandas(g, npartitions=8))
    distributed.wait(ddf)
    t = time.perf_counter()
    r = jg.check_sites(ddf).compute()
    out["processes_8_scattered"] = time.perf_counter() - t
print(json.dumps(out))
"""


_CPU: list[float] = [0.0]  # CPU seconds (user + system) of the last child process


def _child_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _py(script: str, *args, env=None, check=True) -> tuple[float, str]:
    """Run a script in a fresh interpreter; (wall seconds from spawn to exit, stdout)."""
    t, c = time.perf_counter(), _child_cpu()
    p = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                       env=env)
    wall = time.perf_counter() - t
    _CPU[0] = _child_cpu() - c
    if check and p.returncode:
        sys.exit(f"benchmark worker failed:\n{p.stderr[-3000:]}")
    return wall, p.stdout


def _until_done(script: str, *args, env=None) -> float:
    """Seconds from spawning a fresh process to the moment it finished its work (printed as time.time())."""
    t0 = time.time()
    _, out = _py(script, *args, env=env)
    return float(out.strip().splitlines()[-1]) - t0


def _cli(args: list[str], env) -> float:
    t, c = time.perf_counter(), _child_cpu()
    p = subprocess.run([str(Path(sys.executable).parent / "jixi-geo"), *args], capture_output=True, text=True,
                       cwd=ROOT, env=env)
    _CPU[0] = _child_cpu() - c
    if p.returncode not in (0, 1):
        sys.exit(f"jixi-geo {' '.join(args)} failed:\n{p.stderr[-3000:]}")
    return time.perf_counter() - t


def _qgis(points_gpkg: Path, tmp: Path) -> float | None:
    """QGIS's join-by-location plus join-by-nearest on the same points (seconds), or None if absent."""
    import shutil

    exe = shutil.which("qgis_process")
    if exe is None:
        return None
    if Path(exe + ".bin").exists():  # Debian's wrapper adds --noversioncheck, which qgis_process refuses
        exe += ".bin"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    zones = tmp / "zones_4553.gpkg"
    pts = tmp / "points_4553.gpkg"
    code = ("import geopandas as gpd, jixi_geo as jg, sys; "
            "jg.load_layer('redline_zones').to_crs(4553).to_file(sys.argv[1]); "
            "gpd.read_file(sys.argv[2]).to_crs(4553).to_file(sys.argv[3])")
    _py(code, zones, points_gpkg, pts)
    total = 0.0
    for alg, params in (("native:joinattributesbylocation",
                         [f"INPUT={pts}", f"JOIN={zones}", "PREDICATE=0", "METHOD=0", "DISCARD_NONMATCHING=false",
                          f"OUTPUT={tmp / 'q1.gpkg'}"]),
                        ("native:joinbynearest",
                         [f"INPUT={pts}", f"INPUT_2={zones}", "NEIGHBORS=1", "MAX_DISTANCE=1000",
                          "DISCARD_NONMATCHING=false", f"OUTPUT={tmp / 'q2.gpkg'}"])):
        t = time.perf_counter()
        p = subprocess.run([exe, "run", alg, *[f"--{x}" for x in params]], capture_output=True, text=True, env=env)
        total += time.perf_counter() - t
        if p.returncode:
            print(f"qgis_process {alg} failed: {p.stderr[-500:]} {p.stdout[-500:]}")
            return None
    return total


def targets(tmp: Path, *, stream_n: int, dask_n: int, poly_n: int, skip_plain: bool) -> None:
    """The issue-17 targets, measured in this run, in one table."""
    cache = tmp / "cache"
    env = {**os.environ, "JIXI_GEO_CACHE_DIR": str(cache)}
    env.pop("JIXI_GEO_CACHE", None)
    rows = []
    p1m = tmp / "p1m.parquet"
    _py(MAKE_POINTS, p1m, 1_000_000, 1)
    # 1. a fresh process checks 10⁶ points from GeoParquet, import included: cache empty, then warm
    import shutil

    cold, warm, cold_cpu, warm_cpu = [], [], [], []
    for _ in range(3):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(_until_done(E2E_JG, p1m, tmp / "v_jg.npy", env=env))
        cold_cpu.append(_CPU[0])
        warm.append(_until_done(E2E_JG, p1m, tmp / "v_jg.npy", env=env))
        warm_cpu.append(_CPU[0])
    cold_s, warm_s = float(np.median(cold)), float(np.median(warm))
    cpu_note = (f"CPU s (whole process) cold {np.median(cold_cpu):.2f}, warm {np.median(warm_cpu):.2f}")
    plain_s = None
    same = ""
    if not skip_plain:
        plain_s = _until_done(E2E_PLAIN, p1m, tmp / "v_plain.npy", env=env)
        same = (f"{np.mean(np.load(tmp / 'v_jg.npy') == np.load(tmp / 'v_plain.npy')) * 100:.2f}% same verdicts; "
                f"plain CPU s {_CPU[0]:.1f}")
    rows.append(("10⁶ points, GeoParquet, fresh process incl. import, cache empty", cold_s, plain_s, None,
                 "≤ 2.5 s, ≥ 40×", same))
    rows.append(("10⁶ points, GeoParquet, fresh process incl. import, cache warm", warm_s, plain_s, None,
                 "≤ 2.5 s, ≥ 40×", cpu_note))
    # 2. the CLI, 10⁵ points from a GeoPackage to a finished output folder
    g100k = tmp / "p100k.gpkg"
    _py(MAKE_POINTS, g100k, 100_000, 2)
    cli, cli_cpu = [], []
    for i in range(3):
        cli.append(_cli(["check", str(g100k), "--activity", "wind_farm", "--out", str(tmp / f"out{i}")], env))
        cli_cpu.append(_CPU[0])
    qgis = _qgis(g100k, tmp)
    rows.append(("CLI: 10⁵ points GPKG → output folder (results.parquet + report.html)", float(np.median(cli)),
                 None, qgis, "≤ 2 s, 4× QGIS", f"CPU s {np.median(cli_cpu):.2f}" + (
                     "" if qgis is not None else "; qgis_process not installed")))
    gp = [_cli(["check", str(g100k), "--activity", "wind_farm", "--out", str(tmp / f"o{i}.gpkg")], env)
          for i in range(1)]
    rows.append(("CLI: 10⁵ points GPKG → results.gpkg", float(np.median(gp)), None, qgis, "", ""))
    # 3. 10⁷ points streamed from GeoParquet into GeoParquet parts
    if stream_n:
        big = tmp / "big.parquet"
        _py(MAKE_POINTS, big, stream_n, 3)
        _, out = _py(STREAM, big, tmp / "big_out.parquet", env=env)
        st = json.loads(out.strip().splitlines()[-1])
        st["cpu"] = _CPU[0]
        rows.append((f"{stream_n:,} points streamed GeoParquet → GeoParquet parts (check_file)", st["seconds"], None,
                     None, "≥ 500 000 sites/s, bounded memory",
                     f"{stream_n / st['seconds']:,.0f} sites/s, peak RSS {st['maxrss_mb']:,.0f} MB, "
                     f"CPU s {st['cpu']:.1f} (process), {st['check_cpu']:.1f} (check_file: "
                     f"{stream_n / st['check_cpu']:,.0f} sites per CPU-second)"))
    # 4. polygons and overlap()
    polys = [run_worker("polygons", poly_n, "jixi_geo", tmp)[0] for _ in range(3)]
    ovl, _ = run_worker("polygons", poly_n, "overlay", tmp)
    med = {k: float(np.median([p[k] for p in polys])) for k in ("seconds", "warm", "cpu", "cpu_warm")}
    rows.append((f"check_sites: {poly_n:,} polygons, fresh process, zones prepared (first call)",
                 med["seconds"], ovl["seconds"], None, "≤ 0.6 s, ≥ 5× the overlay step",
                 f"CPU s {med['cpu']:.2f} (2 threads in the kernel); warm {med['warm']:.2f} s, CPU s "
                 f"{med['cpu_warm']:.2f}; plain = geopandas.overlay + planar area alone (CPU s {ovl['cpu']:.2f})"))
    _, out = _py(POLY_OVERLAP, poly_n, env=env)
    ov = json.loads(out.strip().splitlines()[-1])
    rows.append((f"overlap(): {poly_n:,} sites × redline_zones (first call)", ov["overlap"], ov["overlay"], None,
                 "≤ 1 s", f"CPU s {ov['cpu']:.2f}; warm {ov['overlap_warm']:.2f} s (CPU s {ov['cpu_warm']:.2f}); "
                          f"old way (dissolve per key, whole zones) {ov['old_way']:.2f} s; "
                          "plain = geopandas.overlay + planar area"))
    # 5. dask
    if dask_n:
        _, out = _py(DASK, dask_n, env=env)
        dk = json.loads(out.strip().splitlines()[-1])
        rows.append((f"dask: {dask_n:,} points, in process", dk["in_process"], None, None, "", ""))
        for k in ("threads_2", "threads_8", "processes_2", "processes_8", "processes_8_scattered"):
            rows.append((f"dask: {dask_n:,} points, {k.replace('_', ' ')} partitions" if "scattered" not in k else
                         f"dask: {dask_n:,} points, LocalCluster, 8 partitions already on the workers",
                         dk[k], None, None, "", "LocalCluster 2 worker processes" if "processes" in k else ""))
        rows.append(("dask: LocalCluster start (2 processes)", dk["cluster_start"], None, None, "", ""))
    print()
    print("Targets of issue 17 (one run; seconds are wall time on this machine)")
    head = f"{'work':<76} | {'jixi_geo s':>10} | {'plain s':>8} {'ratio':>6} | {'QGIS s':>7} {'ratio':>6} | target; notes"
    print(head)
    print("-" * len(head))
    for name, a, pl, q, target, note in rows:
        # one decimal: a target of 40× must not be read off a 39.8× rounded up
        pr = f"{pl:>8.2f} {pl / a:>5.1f}x" if pl else f"{'':>8} {'':>6}"
        qr = f"{q:>7.2f} {q / a:>5.1f}x" if q else f"{'':>7} {'':>6}"
        print(f"{name:<76} | {a:>10.2f} | {pr} | {qr} | {'; '.join(x for x in (target, note) if x)}")
    print("cold: cache folder emptied before each process (median of 3); warm: the next process (median of 3);\n"
          "fresh-process figures run from spawning the interpreter to the end of the check; CLI: median of 3 runs,\n"
          "the whole command. plain: the same job the plain geopandas way (to_crs, sjoin, sjoin_nearest, rule merge)\n"
          "in a fresh process reading the same file.")


def run_worker(kind: str, n: int, how: str, tmp: Path) -> tuple[dict, np.ndarray]:
    out = tmp / f"{kind}-{n}-{how}.npy"
    proc = subprocess.run([sys.executable, "-c", WORKER, kind, str(n), how, str(out)], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "JIXI_GEO_CACHE_DIR": str(tmp / "cache")})
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


def cpu_probe() -> float:
    """Seconds for a fixed pure-Python loop (best of 3): how fast this machine runs right now.

    The same code measures differently on machines of the same kind, and on one machine from
    hour to hour (shared hosts); this figure, printed with every run, tells runs apart.
    """
    best = []
    for _ in range(3):
        t = time.perf_counter()
        sum(i * i for i in range(10_000_000))
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
    ap.add_argument("--stream", type=int, default=10_000_000, help="points streamed by check_file (0: skip)")
    ap.add_argument("--dask", type=int, default=400_000, help="points checked on dask (0: skip)")
    ap.add_argument("--no-sizes", action="store_true", help="only the targets table")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average before: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    # byte-compile the package first, as `pip install` does for a planner's copy: with PYTHONDONTWRITEBYTECODE
    # set (as on the build machine) every fresh process would otherwise compile jixi_geo from source (~0.1 s)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "jixi_geo")], check=True,
                   capture_output=True)
    print(f"import jixi_geo: {import_time():.2f} s (best of 3, fresh interpreter, package byte-compiled); "
          f"CPU probe (a pure-Python loop of 10⁷ squares): {cpu_probe():.2f} s (best of 3)")
    with tempfile.TemporaryDirectory() as tmp:
        targets(Path(tmp), stream_n=0 if args.quick else args.stream, dask_n=0 if args.quick else args.dask,
                poly_n=10_000 if args.quick else 100_000, skip_plain=args.quick)
    if args.no_sizes:
        return
    print()
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
