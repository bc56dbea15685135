"""The persistent cache of prepared zones and cell grids: hits and misses give the reference
answers, corrupt files are recomputed, JIXI_GEO_CACHE=0 switches it off, `cache clear` empties it,
two processes starting together both succeed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import jixi_geo as jg
from jixi_geo import _cache, _grid, _kernels, _zones
from jixi_geo.cli import main
from jixi_geo.redline import check_sites

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder and empty in-memory caches (as in a fresh process)."""
    d = tmp_path / "cache"
    monkeypatch.setenv("JIXI_GEO_CACHE_DIR", str(d))
    monkeypatch.delenv("JIXI_GEO_CACHE", raising=False)
    _forget()
    yield d
    _forget()


def _forget():
    _zones._CACHE.clear()
    _grid._CACHE.clear()


def _sites(n=3000, seed=11):
    rng = np.random.default_rng(seed)
    zones = jg.load_layer("redline_zones", crs="EPSG:4553")
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    xs, ys = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    xs[:200] = np.round(xs[:200] / 250) * 250  # on cell edges
    verts = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(zones.geometry.values)))
    pick = verts[rng.choice(len(verts), 200, replace=False)]
    xs[200:400], ys[200:400] = pick[:, 0] + rng.choice([-2.0, 0.0, 2.0], 200), pick[:, 1]  # on zone edges
    geoms = np.concatenate([shapely.points(xs[:-100], ys[:-100]),
                            shapely.box(xs[-100:], ys[-100:], xs[-100:] + 900, ys[-100:] + 700)])
    return gpd.GeoDataFrame({"site_id": [f"c{i}" for i in range(n)],
                             "activity": rng.choice(["wind_farm", "road", "research", ""], n)},
                            geometry=geoms, crs="EPSG:4553")


def _grid_check(s, monkeypatch):
    """check_sites with the cell grid used at any size (the path the cache serves)."""
    monkeypatch.setattr(_kernels, "GRID_MIN_POINTS", 1)
    pts = s[s.geom_type == "Point"]
    return check_sites(pts, search_m=1000.0).drop(columns=["checked_at"])


def _same(a, r):
    for col in a.columns:
        if col == "geometry":
            assert a.geometry.equals(r.geometry)
        elif pd.api.types.is_float_dtype(a[col]):
            np.testing.assert_allclose(a[col].to_numpy(float), r[col].to_numpy(float), rtol=1e-9, atol=1e-9,
                                       err_msg=col)
        else:
            assert a[col].astype(str).tolist() == r[col].astype(str).tolist(), col


def _reference(s):
    pts = s[s.geom_type == "Point"]
    return check_sites(pts, search_m=1000.0, method="reference").drop(columns=["checked_at"])


def test_cache_miss_then_hit_give_the_reference_answers(cache, monkeypatch):
    s = _sites()
    ref = _reference(s)
    assert len(set(ref["verdict"])) >= 4
    miss = _grid_check(s, monkeypatch)  # computes, then stores
    files = sorted(p.name.split("-")[0] for p in cache.glob("*.npz") if not p.name.startswith("layer-"))
    assert files == ["grid", "zones", "zones"]  # the zone layer, the city boundary, the grid
    _forget()  # a fresh process: only the files remain
    loads = []
    real_load = _cache.load
    monkeypatch.setattr(_cache, "load", lambda *a, **k: loads.append(r := real_load(*a, **k)) or r)
    monkeypatch.setattr(_grid, "_build", lambda *a, **k: pytest.fail("the grid was rebuilt on a cache hit"))
    monkeypatch.setattr(_zones, "tile", lambda *a, **k: pytest.fail("zones were tiled again on a cache hit"))
    hit = _grid_check(s, monkeypatch)
    assert len(loads) == 3 and all(x is not None for x in loads)
    _same(miss, ref)
    _same(hit, ref)
    # polygons and lines (the tiled kernel, not the grid) from cached tiles, too
    _same(check_sites(s, method="fast").drop(columns=["checked_at"]),
          check_sites(s, method="reference").drop(columns=["checked_at"]))


def test_loaded_prepared_zones_and_grid_equal_the_computed_ones(cache):
    zones, boundary = jg.load_layer("redline_zones"), jg.load_layer("boundary")
    pz, jx = _zones.prepare(zones), _zones.prepare(boundary)
    g = _grid.build(pz, jx)
    _forget()
    pz2, jx2 = _zones.prepare(zones), _zones.prepare(boundary)
    g2 = _grid.build(pz2, jx2)
    for a, b in ((pz, pz2), (jx, jx2)):
        assert a is not b
        assert shapely.equals_exact(a.tiles, b.tiles, tolerance=0).all()
        assert shapely.equals_exact(a.geoms, b.geoms, tolerance=0).all()
        np.testing.assert_array_equal(a.tile_zone, b.tile_zone)
        assert list(a.zones.columns) == list(b.zones.columns)
        pd.testing.assert_frame_equal(pd.DataFrame(a.zones.drop(columns="geometry")),
                                      pd.DataFrame(b.zones.drop(columns="geometry")))
        assert a.zones.geometry.geom_equals_exact(b.zones.geometry, 0).all()
        assert a.zones.crs == b.zones.crs
    np.testing.assert_array_equal(g.state, g2.state)
    np.testing.assert_array_equal(g.dist, g2.dist)
    np.testing.assert_array_equal(g.state_in_jixi, g2.state_in_jixi)
    assert [list(z) for z in g.state_zones] == [list(z) for z in g2.state_zones]
    assert (g.x0, g.y0, g.size) == (g2.x0, g2.y0, g2.size)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "foreign_npz"])
def test_corrupt_cache_files_are_recomputed_with_equal_results(cache, monkeypatch, damage):
    s = _sites(1500, seed=3)
    ref = _reference(s)
    _grid_check(s, monkeypatch)
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 3
    for p in files:
        raw = p.read_bytes()
        if damage == "truncate":
            p.write_bytes(raw[: len(raw) // 2])
        elif damage == "garbage":
            p.write_bytes(np.random.default_rng(0).bytes(len(raw)))
        elif damage == "empty":
            p.write_bytes(b"")
        else:  # a valid npz holding something else (wrong shapes, indices out of range)
            np.savez(p, _key=np.array("another key"), state=np.ones(3))
    _forget()
    got = _grid_check(s, monkeypatch)
    _same(got, ref)
    for p in files:  # rewritten, readable again
        with np.load(p, allow_pickle=False) as f:
            assert "_key" in f.files and len(f.files) > 2


def test_a_file_with_the_right_key_but_inconsistent_arrays_is_ignored(cache, monkeypatch):
    s = _sites(1500, seed=4)
    ref = _reference(s)
    _grid_check(s, monkeypatch)
    (grid_file,) = cache.glob("grid-*.npz")
    with np.load(grid_file) as f:
        arrays = dict(f)
    arrays["zones"] = arrays["zones"] + 10_000  # zone positions that do not exist
    np.savez(grid_file, **arrays)
    _forget()
    _same(_grid_check(s, monkeypatch), ref)


def test_cache_switched_off_writes_nothing(cache, monkeypatch):
    monkeypatch.setenv("JIXI_GEO_CACHE", "0")
    s = _sites(800, seed=5)
    got = _grid_check(s, monkeypatch)
    assert not cache.exists() or not list(cache.iterdir())
    _same(got, _reference(s))


def test_key_changes_with_version_and_parameters(monkeypatch):
    import jixi_geo

    k = _cache.key("zones", sha256="abc", tile_m=5000.0)
    assert k == _cache.key("zones", tile_m=5000.0, sha256="abc")
    assert k != _cache.key("zones", sha256="abc", tile_m=2500.0)
    assert k != _cache.key("zones", sha256="abd", tile_m=5000.0)
    assert k != _cache.key("grid", sha256="abc", tile_m=5000.0)
    monkeypatch.setattr(jixi_geo, "__version__", "99.0")
    assert k != _cache.key("zones", sha256="abc", tile_m=5000.0)


def test_other_zones_get_their_own_entry(cache):
    zones = jg.load_layer("redline_zones")
    _zones.prepare(zones)
    before = set(cache.glob("zones-*.npz"))
    moved = zones.copy()
    moved["geometry"] = moved.geometry.translate(0.001, 0)
    pz = _zones.prepare(moved)
    after = set(cache.glob("zones-*.npz"))
    assert len(after - before) == 1
    # the entry holds the moved zones, not the first ones
    _forget()
    pz2 = _zones.prepare(moved)
    assert shapely.equals_exact(pz.tiles, pz2.tiles, tolerance=0).all()


def test_cli_cache_clear_empties_the_cache(cache, monkeypatch):
    _grid_check(_sites(600, seed=6), monkeypatch)
    assert len(list(cache.glob("*.npz"))) == 3
    r = CliRunner().invoke(main, ["cache", "clear"])
    assert r.exit_code == 0, r.output
    assert "3" in r.output and str(cache) in r.output
    assert list(cache.glob("*.npz")) == []
    r = CliRunner().invoke(main, ["cache", "info"])
    assert r.exit_code == 0 and str(cache) in r.output


def test_unwritable_cache_dir_still_checks(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("JIXI_GEO_CACHE_DIR", str(blocker / "sub"))
    _forget()
    s = _sites(500, seed=8)
    _same(_grid_check(s, monkeypatch), _reference(s))
    _forget()


SCRIPT = r"""
import sys, numpy as np, jixi_geo as jg
from jixi_geo import _grid
from jixi_geo._zones import prepare
pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
g = _grid.build(pz, jx)
np.save(sys.argv[1], np.r_[g.state.ravel()[::97], len(pz.tiles), len(jx.tiles)])
"""


@pytest.mark.slow
def test_two_processes_starting_together_both_succeed(tmp_path):
    d = tmp_path / "cache"
    env = {**os.environ, "JIXI_GEO_CACHE_DIR": str(d)}
    env.pop("JIXI_GEO_CACHE", None)
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / f"out{i}.npy")], env=env, cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    a, b = np.load(tmp_path / "out0.npy"), np.load(tmp_path / "out1.npy")
    np.testing.assert_array_equal(a, b)
    # zones, boundary and grid (plus the GDAL-free copies of the two layers)
    assert len([p for p in d.glob("*.npz") if not p.name.startswith("layer-")]) == 3 and not list(d.glob("*.tmp"))
    # a third process reads what they wrote and gets the same grid
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "out2.npy")], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    np.testing.assert_array_equal(a, np.load(tmp_path / "out2.npy"))


@pytest.mark.parametrize("name", ["redline_zones", "boundary", "counties", "rivers"])
def test_bundled_layer_from_the_cache_equals_the_gdal_read(cache, name):
    """A bundled layer read back from the cache (no GDAL) equals the GeoPackage read through pyogrio:
    columns, dtypes, missing values, WKB geometries and CRS; a corrupt copy is read through GDAL again."""
    from jixi_geo import layers as L

    info = L.layer_info(name)
    path = str(L.layer_path(name))
    gdal = gpd.read_file(path, layer=info.get("layer", name), engine="pyogrio")
    L._read.cache_clear()
    miss = L._read(path, info.get("layer", name), 0.0)
    assert len(list(cache.glob("layer-*.npz"))) == 1
    L._read.cache_clear()
    real = L._read_gdal
    try:
        L._read_gdal = lambda *a: pytest.fail("GDAL read on a cache hit")
        hit = L._read(path, info.get("layer", name), 0.0)
    finally:
        L._read_gdal = real
        L._read.cache_clear()
    for got in (miss, hit):
        pd.testing.assert_frame_equal(got.drop(columns="geometry"), gdal.drop(columns="geometry"), check_exact=True)
        assert got.crs == gdal.crs
        assert (shapely.to_wkb(got.geometry.values) == shapely.to_wkb(gdal.geometry.values)).all()
    next(cache.glob("layer-*.npz")).write_bytes(b"not a zip")
    again = L._read(path, info.get("layer", name), 0.0)
    L._read.cache_clear()
    assert (shapely.to_wkb(again.geometry.values) == shapely.to_wkb(gdal.geometry.values)).all()
