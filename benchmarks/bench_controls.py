"""Benchmark: check_sites with control layers (issue 18), against the check without them and a plain overlay.

In one process, on synthetic data built here (seeded, nothing of it is real):

- 10 000 random polygon sites of 1–20 ha (rotated rectangles) over part of Jixi;
- a land-cover layer of about 10⁵ polygons: a jittered grid of ~20 ha cells (a mosaic:
  neighbours share edges, no gaps) with random 三调 codes and a black-soil flag, written
  once to a temporary GeoPackage and read back;
- a permanent-farmland layer (2 000 boxes of 20–400 ha), an urban boundary (12 blobs around
  "county seats") and a water-source layer (20 sources with nested first/second/quasi grades,
  which overlap).

It prints, wall and CPU seconds:

- ``check_sites`` without controls (warm: the zones prepared);
- ``check_sites`` with the four layers, first call (the control layers flattened, tiled and
  indexed; the disk cache emptied) and warm (prepared layers cached in memory), and the ratio
  warm / without (issue 18 target ≤ 3×);
- the plain geopandas way of the land-class job: ``overlay(sites, landcover,
  how="intersection")``, area, ``groupby`` per (site, class) — which, unlike the check,
  counts overlapping land-cover polygons twice (the mosaic has none) — and whether the two
  give the same areas.

Usage: python benchmarks/bench_controls.py [--sites N] [--cells N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def build(n_sites: int, n_cells: int, tmp: Path):
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(18)
    x0, y0, cell = 420_000.0, 5_000_000.0, 447.0  # ~20 ha cells, south-west corner in Jixi
    side = int(np.sqrt(n_cells))
    # a jittered grid: vertices moved by up to 15% of a cell, shared by the four cells around them
    gx, gy = np.meshgrid(np.arange(side + 1) * cell + x0, np.arange(side + 1) * cell + y0)
    gx = gx + rng.uniform(-0.15, 0.15, gx.shape) * cell
    gy = gy + rng.uniform(-0.15, 0.15, gy.shape) * cell
    i, j = np.meshgrid(np.arange(side), np.arange(side))
    i, j = i.ravel(), j.ravel()
    ring = np.stack([np.stack([gx[j, i], gy[j, i]], -1), np.stack([gx[j, i + 1], gy[j, i + 1]], -1),
                     np.stack([gx[j + 1, i + 1], gy[j + 1, i + 1]], -1), np.stack([gx[j + 1, i], gy[j + 1, i]], -1),
                     np.stack([gx[j, i], gy[j, i]], -1)], axis=1)
    cells = shapely.polygons(ring)
    codes = rng.choice(["0101", "0102", "0103", "0301", "0401", "0601", "0701", "1003", "1101", "9999"],
                       len(cells), p=[.2, .05, .25, .2, .05, .05, .05, .05, .05, .05])
    lc = gpd.GeoDataFrame({"control_id": np.char.add("lc", np.arange(len(cells)).astype(str)), "name": "",
                           "level": "", "class_code": codes, "class_known": codes != "9999",
                           "black_soil": rng.random(len(cells)) < 0.3}, geometry=cells, crs=4553).to_crs(4490)
    path = tmp / "landcover.gpkg"
    lc.to_file(path, layer="landcover", engine="pyogrio")
    ext = side * cell
    # farmland: boxes of 20–400 ha, urban: blobs, water: nested grades
    fx, fy = rng.uniform(x0, x0 + ext, 2000), rng.uniform(y0, y0 + ext, 2000)
    fs = np.sqrt(rng.uniform(20, 400, 2000) * 1e4)
    farm = gpd.GeoDataFrame({"control_id": np.char.add("f", np.arange(2000).astype(str)), "name": "", "level": ""},
                            geometry=shapely.box(fx, fy, fx + fs, fy + fs), crs=4553).to_crs(4490)
    ux, uy = rng.uniform(x0, x0 + ext, 12), rng.uniform(y0, y0 + ext, 12)
    urban = gpd.GeoDataFrame({"control_id": [f"u{k}" for k in range(12)], "name": "", "level": ""},
                             geometry=shapely.buffer(shapely.points(ux, uy), rng.uniform(1500, 4000, 12)),
                             crs=4553).to_crs(4490)
    wx, wy = rng.uniform(x0, x0 + ext, 20), rng.uniform(y0, y0 + ext, 20)
    wg, wl = [], []
    for lv, r in (("first", 300), ("second", 1200), ("quasi", 3000)):
        wg.extend(shapely.buffer(shapely.points(wx, wy), r))
        wl.extend([lv] * 20)
    water = gpd.GeoDataFrame({"control_id": [f"w{k}" for k in range(60)], "name": "", "level": wl},
                             geometry=wg, crs=4553).to_crs(4490)
    # site centres inside the city (and the land cover), so that every site gets the full check
    from jixi_geo.layers import load_layer

    city = load_layer("boundary").to_crs(4553).union_all().intersection(
        shapely.box(x0 + 500, y0 + 500, x0 + ext - 500, y0 + ext - 500))
    shapely.prepare(city)
    sx, sy = np.empty(0), np.empty(0)
    while len(sx) < n_sites:
        cx, cy = rng.uniform(x0 + 500, x0 + ext - 500, n_sites), rng.uniform(y0 + 500, y0 + ext - 500, n_sites)
        inside = shapely.contains_xy(city, cx, cy)
        sx, sy = np.r_[sx, cx[inside]][:n_sites], np.r_[sy, cy[inside]][:n_sites]
    a = rng.uniform(1, 20, n_sites) * 1e4
    w = np.sqrt(a / rng.uniform(1, 3, n_sites))
    h = a / w
    rects = shapely.box(-w / 2, -h / 2, w / 2, h / 2)
    ang = rng.uniform(0, np.pi, n_sites)
    coords, idx = shapely.get_coordinates(rects, return_index=True)
    c, s = np.cos(ang[idx]), np.sin(ang[idx])
    moved = np.column_stack([coords[:, 0] * c - coords[:, 1] * s + sx[idx],
                             coords[:, 0] * s + coords[:, 1] * c + sy[idx]])
    sites = gpd.GeoDataFrame({"site_id": np.char.add("s", np.arange(n_sites).astype(str)), "activity": "industry"},
                             geometry=shapely.set_coordinates(rects, moved), crs=4553).to_crs(4490)
    return sites, path, {"permanent_farmland": farm, "urban_boundary": urban, "water_source": water}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--cells", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        os.environ["JIXI_GEO_CACHE_DIR"] = str(tmp / "cache")  # an empty disk cache: the first call is cold
        import geopandas as gpd
        import pandas as pd

        import jixi_geo as jg
        from jixi_geo.controls import Controls, load_controls
        from jixi_geo.crs import ANALYSIS_CRS
        from jixi_geo._kernels import ellipsoidal_area

        (sites, lc_path, others), t_build, _ = timed(lambda: build(args.sites, args.cells, tmp))
        print(f"load average before: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
        sites = jg.read_sites(sites)
        print(f"built {len(sites):,} sites and a land-cover GPKG in {t_build:.1f} s")

        def read_lc():
            try:  # the full loader (helper A1) reads the file itself
                return load_controls({"landcover": str(lc_path), **others})
            except Exception:  # the contract stub takes frames with the normalised columns
                return load_controls({"landcover": gpd.read_file(lc_path, engine="pyogrio"), **others})

        controls, t_read, c_read = timed(read_lc)
        print(f"land cover: {len(controls['landcover'].gdf):,} polygons; read (load_controls) {t_read:.2f} s "
              f"wall, {c_read:.2f} s CPU")
        jg.check_sites(sites.iloc[:10])  # zones prepared and cached, as for a warm session
        base, t_base, c_base = timed(lambda: jg.check_sites(sites))
        _, t_base2, c_base2 = timed(lambda: jg.check_sites(sites))
        first, t_first, c_first = timed(lambda: jg.check_sites(sites, controls=controls))
        warm, t_warm, c_warm = timed(lambda: jg.check_sites(sites, controls=controls))
        _, t_warm2, c_warm2 = timed(lambda: jg.check_sites(sites, controls=controls))
        from jixi_geo.controls import occupy as _occupy

        _occupy.clear_memory_cache()  # as in a new process: the prepared layers come from the disk cache
        _, t_disk, c_disk = timed(lambda: jg.check_sites(sites, controls=controls))
        t_b, c_b = min(t_base, t_base2), min(c_base, c_base2)
        t_w, c_w = min(t_warm, t_warm2), min(c_warm, c_warm2)

        def plain():
            lcp = gpd.read_file(lc_path, engine="pyogrio").to_crs(ANALYSIS_CRS)
            sp = sites.to_crs(ANALYSIS_CRS)[["site_id", "geometry"]]
            ov = gpd.overlay(sp, lcp[["class_code", "geometry"]], how="intersection", keep_geom_type=True)
            ov["m2"] = ellipsoidal_area(ov.geometry.values)
            return ov.groupby(["site_id", "class_code"])["m2"].sum()

        ref, t_plain, c_plain = timed(plain)
        d = jg.check_sites_detail(sites, controls=Controls({"landcover": controls["landcover"]}))
        got = d[(d["role"] == "landcover") & (d["land_class_code"] != "")].groupby(
            ["site_id", "land_class_code"])["overlap_ha"].sum() * 1e4
        ref = ref[(ref > 0) & (ref.index.get_level_values("class_code") != "9999")]  # unknown: unclassified
        ref.index = ref.index.set_names(["site_id", "land_class_code"])
        joined = pd.concat([got.rename("a"), ref.rename("b")], axis=1).fillna(0)
        rel = (joined["a"] - joined["b"]).abs().max() / joined["b"].max()
        area = warm["cultivated_ha"].sum()
        print()
        print(f"{'work (' + f'{len(sites):,} polygon sites, 1–20 ha' + ')':60s} | wall s |  CPU s | ratio")
        print("-" * 90)
        print(f"{'check_sites, no controls (warm, best of 2)':60s} | {t_b:6.2f} | {c_b:6.2f} |")
        print(f"{'check_sites + 4 control layers, first call (cold cache)':60s} | {t_first:6.2f} | {c_first:6.2f} |"
              f" {t_first / t_b:4.1f}x")
        print(f"{'check_sites + 4 control layers, disk cache warm (new session)':60s} | {t_disk:6.2f} | "
              f"{c_disk:6.2f} | {t_disk / t_b:4.1f}x")
        print(f"{'check_sites + 4 control layers, warm (best of 2)':60s} | {t_w:6.2f} | {c_w:6.2f} |"
              f" {t_w / t_b:4.1f}x wall, {c_w / c_b:.1f}x CPU (target ≤ 3x)")
        print(f"{'plain geopandas overlay, land classes only (read+overlay+area)':60s} | {t_plain:6.2f} | "
              f"{c_plain:6.2f} | {t_plain / t_w:4.1f}x the warm check")
        print(f"{'load_controls (read the GPKG etc.)':60s} | {t_read:6.2f} | {c_read:6.2f} |")
        print()
        print(f"same land-class areas as the plain overlay: {len(joined):,} (site, class) pairs, largest difference "
              f"{rel:.1e} of the largest area; cultivated land in the sites {area:,.0f} ha; "
              f"verdicts: {warm['verdict'].value_counts().to_dict()}")
        assert (first["verdict"] == warm["verdict"]).all() and len(base) == len(warm)


if __name__ == "__main__":
    main()
