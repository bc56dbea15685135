"""Benchmark: a large user land-use table loaded and validated (issue 13, item 7).

A simple-layout CSV (``code, name, area_ha``) of N rows is written to a temporary
folder: blocks of GB 50137-2011 major classes followed by their medium and minor
classes, and minor classes printed without their parents (B11, B12 with no B1
or B row, as tables that skip a level do), repeated, with a total row at the end. The script times
``landuse.load_table(path=...)`` and ``landuse.validate(table)`` for each N in a
fresh process and prints the seconds and the rows per second. The cost should
grow linearly with N: the parent of each row is found through an index of the
latest row per code, not by rescanning earlier rows. The goal is 100 000 rows in
under 5 s (load + validate).

Side by side, the *plain pandas way* is timed too: ``pd.read_csv`` of the same
file and a ``groupby`` sum of the areas by major class, the narrowest yardstick
(no structure, no checks).

Usage: python benchmarks/bench_landuse.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_BLOCK = [("R", "居住用地"), ("R2", "二类居住用地"), ("R21", "住宅用地"), ("R22", "服务设施用地"),
          ("M", "工业用地"), ("M1", "一类工业用地"), ("M2", "二类工业用地"),
          ("G", "绿地与广场用地"), ("G1", "公园绿地"), ("B11", "零售商业用地"), ("B12", "批发市场用地")]
_AREAS = {"R21": 3.0, "R22": 1.0, "R2": 4.0, "R": 4.0, "M1": 2.0, "M2": 3.0, "M": 5.0, "G1": 1.5, "G": 1.5,
          "B11": 0.5, "B12": 0.25}


def write_table(path: Path, n_rows: int) -> None:
    """A CSV of about ``n_rows`` class rows plus a total row."""
    lines = ["code,name,area_ha"]
    total = 0.0
    while len(lines) - 1 < n_rows:
        for code, name in _BLOCK:
            lines.append(f"{code},{name},{_AREAS[code]:.2f}")
            if len(code) == 1 or code.startswith("B"):  # B11, B12: printed without B1 and B
                total += _AREAS[code]
    lines.append(f",合计,{total:.2f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _child(path: str) -> dict:
    t0 = time.perf_counter()
    import jixi_geo.landuse as lu

    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    table = lu.load_table("user", "planned", path=path)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    findings = lu.validate(table)
    t_validate = time.perf_counter() - t0
    cpu = time.process_time() - c0
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_csv(path, dtype={"code": str})
    df.groupby(df["code"].str[:1])["area_ha"].sum()
    t_plain = time.perf_counter() - t0
    return {"rows": len(table), "findings": len(findings), "import_s": t_import, "load_s": t_load,
            "validate_s": t_validate, "cpu_s": cpu, "plain_s": t_plain}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(_child(a.child)))
        return 0
    print(f"{'rows':>8} {'load s':>8} {'validate s':>11} {'total s':>8} {'CPU s':>7} {'rows/s':>10} "
          f"{'plain pandas s':>15} {'findings':>9}")
    ok = True
    with tempfile.TemporaryDirectory() as d:
        for n in a.sizes:
            path = Path(d) / f"landuse_{n}.csv"
            write_table(path, n)
            out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                                 check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            total = r["load_s"] + r["validate_s"]
            print(f"{r['rows']:>8} {r['load_s']:>8.2f} {r['validate_s']:>11.2f} {total:>8.2f} {r['cpu_s']:>7.2f} "
                  f"{r['rows'] / total:>10,.0f} {r['plain_s']:>15.3f} {r['findings']:>9}")
            if n >= 100_000 and total >= 5.0:
                ok = False
    print(f"goal: 100 000 rows loaded and validated in < 5 s (wall): {'met' if ok else 'NOT met'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (CPU s is the time the process "
          "ran, unaffected by other processes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
