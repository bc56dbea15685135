"""The geometry kernels and the cell grid: the fast paths give the reference kernel's answers.

Moved from ``test_redline.py``: the fast kernel against the plain-geopandas reference,
its thread split, the certified cell grid of :mod:`jixi_geo._grid`, and concurrent
checks. The bundled layers are the zones; answers are compared with the reference
kernel or with shapely predicates computed here, never with the fast path's own output.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, box

import jixi_geo as jg
from jixi_geo.redline import check_sites, check_sites_detail


def test_fast_and_reference_kernels_agree():
    rng = np.random.default_rng(42)
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    n = 400
    xs, ys = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    geoms = list(shapely.points(xs[:200], ys[:200]))
    geoms += [box(x, y, x + s, y + s) for x, y, s in zip(xs[200:320], ys[200:320], rng.uniform(200, 8000, 120))]
    geoms += [LineString([(x, y), (x + dx, y + dy)]) for x, y, dx, dy in
              zip(xs[320:], ys[320:], rng.uniform(-9000, 9000, 80), rng.uniform(-9000, 9000, 80))]
    s = gpd.GeoDataFrame({"site_id": [f"r{i}" for i in range(n)],
                          "activity": rng.choice(["wind_farm", "road", "ecological_restoration", ""], n)},
                         geometry=geoms, crs="EPSG:4553")
    a = check_sites(s, method="fast").drop(columns=["checked_at"])
    r = check_sites(s, method="reference").drop(columns=["checked_at"])
    assert len(set(a["verdict"])) >= 4  # the sample exercises several verdicts
    for col in a.columns:
        if col == "geometry":
            assert a.geometry.equals(r.geometry)
        elif pd.api.types.is_float_dtype(a[col]):
            np.testing.assert_allclose(a[col].to_numpy(float), r[col].to_numpy(float), rtol=1e-6, atol=1e-6,
                                       err_msg=col)
        else:
            assert a[col].astype(str).tolist() == r[col].astype(str).tolist(), col
    da = check_sites_detail(s, method="fast")
    dr = check_sites_detail(s, method="reference")
    assert da[["site_id", "zone_id", "relation"]].equals(dr[["site_id", "zone_id", "relation"]])
    np.testing.assert_allclose(da["overlap_ha"].fillna(-1), dr["overlap_ha"].fillna(-1), rtol=1e-6)
    np.testing.assert_allclose(da["distance_m"], dr["distance_m"], rtol=1e-6, atol=1e-6)


def test_parallel_fast_kernel_equals_single_chunk():
    from jixi_geo import _kernels as K
    from jixi_geo._zones import prepare

    rng = np.random.default_rng(3)
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    n = 3000
    geoms = np.concatenate([shapely.points(rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)),
                            shapely.buffer(shapely.points(rng.uniform(b[0], b[2], 300), rng.uniform(b[1], b[3], 300)), 800)])
    pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
    one = K.fast(geoms, pz, jx, buffer_m=1000, search_m=5000)
    K_min = K.PARALLEL_MIN_SITES
    try:
        K.PARALLEL_MIN_SITES = 100
        par = K.fast_parallel(geoms, pz, jx, buffer_m=1000, search_m=5000, workers=3)
    finally:
        K.PARALLEL_MIN_SITES = K_min
    pd.testing.assert_frame_equal(one.hits.reset_index(drop=True), par.hits, check_dtype=False)
    pd.testing.assert_frame_equal(one.near.reset_index(drop=True), par.near, check_dtype=False)
    np.testing.assert_array_equal(one.nearest_zone, par.nearest_zone)
    np.testing.assert_array_equal(one.in_jixi, par.in_jixi)
    np.testing.assert_allclose(one.nearest_m, par.nearest_m)


def _compare_results(a, r, *, rtol=1e-9):
    for col in a.columns:
        if col == "geometry":
            assert a.geometry.equals(r.geometry)
        elif pd.api.types.is_float_dtype(a[col]):
            np.testing.assert_allclose(a[col].to_numpy(float), r[col].to_numpy(float), rtol=rtol, atol=1e-9,
                                       err_msg=col)
        else:
            assert a[col].astype(str).tolist() == r[col].astype(str).tolist(), col


@pytest.mark.parametrize("search_m", [1000.0, 10_000.0])
def test_cell_grid_path_equals_reference_kernel(monkeypatch, search_m):
    """Points answered by the certified cell grid get exactly the reference answers,
    including points lying on cell edges and on zone edges."""
    from jixi_geo import _grid
    from jixi_geo import _kernels as K

    rng = np.random.default_rng(5)
    zones = jg.load_layer("redline_zones", crs="EPSG:4553")
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    n = 2500
    xs, ys = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    xs[:300] = np.round(xs[:300] / 250) * 250  # on vertical cell edges
    ys[300:600] = np.round(ys[300:600] / 250) * 250  # on horizontal cell edges
    # points on zone boundaries (vertices) and a few metres either side
    verts = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(zones.geometry.values)))
    pick = verts[rng.choice(len(verts), 300, replace=False)]
    xs[600:900], ys[600:900] = pick[:, 0] + rng.choice([-2.0, 0.0, 2.0], 300), pick[:, 1]
    s = gpd.GeoDataFrame({"site_id": [f"g{i}" for i in range(n)],
                          "activity": rng.choice(["wind_farm", "road", "research", ""], n)},
                         geometry=shapely.points(xs, ys), crs="EPSG:4553")
    monkeypatch.setattr(K, "GRID_MIN_POINTS", 1)
    calls = []
    real = K.fast_points
    monkeypatch.setattr(K, "fast_points", lambda *a, **k: calls.append(1) or real(*a, **k))
    import jixi_geo.redline as RL
    monkeypatch.setattr(RL, "fast_points", K.fast_points)
    a = check_sites(s, search_m=search_m).drop(columns=["checked_at"])
    assert calls, "the grid path was not taken"
    r = check_sites(s, search_m=search_m, method="reference").drop(columns=["checked_at"])
    assert len(set(a["verdict"])) >= 5
    _compare_results(a, r)
    # the grid really answered most points on its own (else this test proves nothing)
    grid = _grid.build(*[__import__("jixi_geo._zones", fromlist=["prepare"]).prepare(jg.load_layer(x))
                         for x in ("redline_zones", "boundary")])
    xy = np.column_stack([xs, ys])
    state = grid.lookup(xy, search_m)
    assert (state[900:] >= 0).mean() > 0.6  # of the randomly placed points
    assert (state[:600] < 0).all()  # cell-edge points are always left to the exact kernel


def test_cell_grid_states_agree_with_geometry():
    """Every state the grid assigns says which zones contain the point, and whether it is in Jixi."""
    from jixi_geo import _grid
    from jixi_geo._zones import prepare

    pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
    grid = _grid.build(pz, jx)
    rng = np.random.default_rng(8)
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    xy = np.column_stack([rng.uniform(b[0], b[2], 20_000), rng.uniform(b[1], b[3], 20_000)])
    state = grid.lookup(xy, 1000.0)
    ok = np.flatnonzero(state >= 0)
    pts = shapely.points(xy[ok])
    zones = jg.load_layer("redline_zones", crs="EPSG:4553").geometry.values
    city = shapely.union_all(jg.load_layer("boundary", crs="EPSG:4553").geometry.values)
    inside = np.column_stack([shapely.intersects(z, pts) for z in zones])
    for i, st in zip(range(len(ok)), state[ok]):
        assert set(np.flatnonzero(inside[i])) == set(grid.state_zones[st].tolist())
    np.testing.assert_array_equal(shapely.intersects(city, pts), grid.state_in_jixi[state[ok]])
    # zone-free points in Jixi that the grid answers have no zone within the search radius
    free = np.array([len(grid.state_zones[s]) == 0 for s in state[ok]]) & grid.state_in_jixi[state[ok]]
    d = shapely.distance(shapely.union_all(zones), pts[free])
    assert (d > 1000.0).all()


def test_checks_run_safely_from_several_threads(monkeypatch):
    """Prepared tiles are per thread: concurrent checks (each splitting over cores)
    neither crash GEOS nor change answers."""
    from concurrent.futures import ThreadPoolExecutor

    from jixi_geo import _kernels as K

    monkeypatch.setattr(K, "PARALLEL_MIN_SITES", 200)
    rng = np.random.default_rng(9)
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    frames = []
    for k in range(4):
        xs, ys = rng.uniform(b[0], b[2], 1500), rng.uniform(b[1], b[3], 1500)
        sq = rng.uniform(50, 3000, 1500)
        frames.append(gpd.GeoDataFrame({"site_id": [f"t{k}-{i}" for i in range(1500)]},
                                       geometry=shapely.box(xs, ys, xs + sq, ys + sq), crs="EPSG:4553"))
    one = [check_sites(f, activity="road").drop(columns=["checked_at"]) for f in frames]
    with ThreadPoolExecutor(4) as ex:
        many = list(ex.map(lambda f: check_sites(f, activity="road").drop(columns=["checked_at"]), frames))
    for a, r in zip(many, one):
        _compare_results(a, r)
    assert sum((r["overlap_pct"] == 100).sum() for r in one) > 100  # wholly-inside sites occur


@pytest.mark.parametrize("n", [0, 1, 7, 5_000])
def test_pair_sums_equal_pandas_groupby_bit_for_bit(n):
    """The kernel's (site, zone) totals equal pandas' groupby sum (Kahan-compensated, in row order) and
    min exactly, on values whose sum depends on the order and method of adding."""
    from jixi_geo._kernels import pair_sums

    rng = np.random.default_rng(n)
    site = rng.integers(0, max(n // 50, 1), n)  # about five rows per (site, zone) group
    zone = rng.integers(0, 9, n)
    # magnitudes far apart, so that naive, pairwise and compensated sums differ in the last bits
    a = rng.uniform(0, 1, n) * 10.0 ** rng.integers(-6, 9, n)
    b = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 1e-3, n))
    frame = pd.DataFrame({"site": site, "zone": zone, "overlap_m2": a, "overlap_len_m": b})
    want = frame.groupby(["site", "zone"], sort=True, as_index=False).sum()
    got = pair_sums(site, zone, {"overlap_m2": a, "overlap_len_m": b})
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    want_min = frame.groupby(["site", "zone"], sort=True, as_index=False)["overlap_m2"].min()
    pd.testing.assert_frame_equal(pair_sums(site, zone, {"overlap_m2": a}, how="min"), want_min, check_exact=True)
    if n > 100:  # the values really are ones where the way of adding matters
        naive = np.array([float(np.sum(g.to_numpy())) for _, g in frame.groupby(["site", "zone"])["overlap_m2"]])
        seq = np.array([sum(g.tolist()) for _, g in frame.groupby(["site", "zone"])["overlap_m2"]])
        assert (seq != got["overlap_m2"].to_numpy()).any() or (naive != got["overlap_m2"].to_numpy()).any()


def test_cell_grid_lookup_in_blocks_equals_one_point_at_a_time(monkeypatch):
    """The blocked lookup gives, for every point, what reading its one cell by hand gives: the state
    of a cell the grid answers, -1 near a cell edge (within EDGE_EPS), off the grid, for NaN, or in a
    cell it does not answer; blocks of any size, ends included."""
    from jixi_geo import _grid
    from jixi_geo._zones import prepare

    pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
    grid = _grid.build(pz, jx)
    ny, nx = grid.shape
    rng = np.random.default_rng(31)
    m = 5000
    xs = grid.x0 + rng.uniform(-3, nx + 3, m) * grid.size
    ys = grid.y0 + rng.uniform(-3, ny + 3, m) * grid.size
    ix, iy = rng.integers(0, nx, 300), rng.integers(0, ny, 300)  # on cell edges, and a hair inside
    edge = np.column_stack([grid.x0 + ix * grid.size, grid.y0 + iy * grid.size + 10.0])
    hair = edge + np.array([grid.size * 2e-6, 0.0])
    xy = np.vstack([np.column_stack([xs, ys]), edge, hair, [[np.nan, ys[0]], [xs[0], np.inf]]])
    ok = grid.answers(700.0)
    want = np.full(len(xy), -1)
    for k, (x, y) in enumerate(xy):
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        fx, fy = (x - grid.x0) / grid.size, (y - grid.y0) / grid.size
        cx, cy = int(np.floor(fx)), int(np.floor(fy))
        inner = all(_grid.EDGE_EPS < f - np.floor(f) < 1 - _grid.EDGE_EPS for f in (fx, fy))
        if inner and 0 <= cx < nx and 0 <= cy < ny and ok[cy, cx]:
            want[k] = grid.state[cy, cx]
    assert (want >= 0).sum() > 1000 and (want[m:m + 300] == -1).all() and (want[m + 300:m + 600] >= 0).any()
    for block in (7, 4096, 1 << 16):
        monkeypatch.setattr(_grid, "LOOKUP_BLOCK", block)
        np.testing.assert_array_equal(grid.lookup(xy, 700.0), want)


def test_site_zone_order_equals_pandas_stable_sort():
    """_concat's ordering of (site, zone) rows equals pandas' stable sort_values, ties (equal pairs) in
    arrival order, for integer columns (one packed key); anything else is left to pandas (None)."""
    from jixi_geo._kernels import _site_zone_order

    rng = np.random.default_rng(4)
    n = 3000
    df = pd.DataFrame({"site": rng.integers(0, 400, n), "zone": rng.integers(0, 30, n), "v": np.arange(n) * 0.5})
    want = df.sort_values(["site", "zone"], kind="stable", ignore_index=True)
    order = _site_zone_order(df["site"].to_numpy(), df["zone"].to_numpy())
    pd.testing.assert_frame_equal(df.take(order).reset_index(drop=True), want)
    assert df.duplicated(["site", "zone"]).any()  # ties present, so stability is tested
    assert _site_zone_order(df["site"].to_numpy(float), df["zone"].to_numpy()) is None
    assert _site_zone_order(df["site"].to_numpy()[:1], df["zone"].to_numpy()[:1]) is None


def test_joined_kernel_parts_equal_pandas_concat_and_sort():
    """_concat's join of the parts' (site, zone) rows equals remapping each part, pd.concat and a stable
    sort: values, order and dtypes, with empty parts of float columns (as a kernel part with no row
    gives them) among integer ones."""
    from jixi_geo._kernels import _join_rows

    rng = np.random.default_rng(9)

    def part(m, n_sites):
        return pd.DataFrame({"site": np.sort(rng.integers(0, n_sites, m)), "zone": rng.integers(0, 12, m),
                             "distance_m": rng.uniform(0, 900, m)})

    def remap(df, k):
        df = df.copy()
        df["site"] = positions[k][df["site"].to_numpy().astype(np.int64)]
        return df

    empty = pd.DataFrame({"site": [], "zone": [], "distance_m": []})  # float64 columns
    positions = [rng.permutation(5000)[:400], rng.permutation(5000)[:300], np.arange(4000, 4100)]
    for frames in ([part(900, 400), part(700, 300), part(50, 100)], [part(900, 400), empty, part(50, 100)],
                   [empty, empty, empty]):
        want = pd.concat([remap(f, k) for k, f in enumerate(frames)], ignore_index=True)
        want = want.sort_values(["site", "zone"], kind="stable", ignore_index=True)
        pd.testing.assert_frame_equal(_join_rows(frames, positions, remap), want)



def test_cells_along_tile_edges_are_answered_by_the_grid():
    """A zone or the city running on across a 5 km tile edge only touches the cells beside that edge:
    those cells are pure (answered by the grid), not mixed. Points in them, in Jixi and far from the
    zones and the city's outline, are all answered, and with the state the geometry gives."""
    from jixi_geo import _grid
    from jixi_geo._zones import TILE_M, prepare

    pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
    grid = _grid.build(pz, jx)
    rng = np.random.default_rng(23)
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    m = 20_000
    # points in the cells on either side of a vertical 5 km tile edge
    lines = np.floor(rng.uniform(b[0], b[2], m) / TILE_M) * TILE_M
    x = lines + np.where(rng.random(m) < 0.5, 1, -1) * rng.uniform(1.0, grid.size - 1.0, m)
    y = rng.uniform(b[1], b[3], m)
    pts = shapely.points(x, y)
    zones = shapely.union_all(jg.load_layer("redline_zones", crs="EPSG:4553").geometry.values)
    city = shapely.union_all(jg.load_layer("boundary", crs="EPSG:4553").geometry.values)
    clear = (shapely.distance(zones, pts) > 2 * 2000.0) & (shapely.distance(city.boundary, pts) > 2 * grid.size)
    clear &= shapely.intersects(city, pts)
    assert clear.sum() > 2000
    state = grid.lookup(np.column_stack([x, y])[clear], 1000.0)
    assert (state >= 0).all()
    assert grid.state_in_jixi[state].all() and all(len(grid.state_zones[s]) == 0 for s in set(state.tolist()))
