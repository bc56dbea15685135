"""The fast paths of polygon checks give the reference kernel's answers (issue 17).

Random polygon sites of every kind the shortcuts distinguish: wholly inside a tile,
crossing tile edges inside one zone (answered by the zone's ``covers``), crossing
zone edges (cut), crossing the city border (share outside measured from the city's
tiles), touching nothing, and slivers just under and over ``tolerance_ha``. Answers
are compared with ``method="reference"`` (plain geopandas ``sjoin``/``intersection``
with whole zones) and with measures computed here from whole geometries, never with
the fast path's own output.
"""

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import jixi_geo as jg
from jixi_geo.redline import check_sites

TILE_M = 5_000.0


def _sites(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    zones = jg.load_layer("redline_zones", crs="EPSG:4553")
    city = jg.load_layer("boundary", crs="EPSG:4553")
    b = city.total_bounds
    k = n // 8
    geoms = []
    # anywhere: squares, triangles, discs with a hole
    x, y = rng.uniform(b[0], b[2], 3 * k), rng.uniform(b[1], b[3], 3 * k)
    s = rng.uniform(30, 900, 3 * k)
    geoms += list(shapely.box(x[:k], y[:k], x[:k] + s[:k], y[:k] + s[:k]))
    a = rng.uniform(0, 2 * np.pi, k)
    geoms += [shapely.Polygon([(x0, y0), (x0 + r * np.cos(t), y0 + r * np.sin(t)),
                               (x0 + r * np.cos(t + 1.1), y0 + r * np.sin(t + 1.1))])
              for x0, y0, r, t in zip(x[k:2 * k], y[k:2 * k], s[k:2 * k], a, strict=True)]
    c = shapely.points(x[2 * k:], y[2 * k:])
    geoms += list(shapely.difference(shapely.buffer(c, s[2 * k:] / 2, quad_segs=4),
                                      shapely.buffer(c, s[2 * k:] / 6, quad_segs=4)))
    # across zone edges and across the city border: boxes around their vertices
    for layer in (zones, city):
        v = shapely.get_coordinates(layer.geometry.boundary.values)
        v = v[rng.integers(0, len(v), 2 * k)]
        w = rng.uniform(5, 700, 2 * k)
        geoms += list(shapely.box(v[:, 0] - w * rng.uniform(0.1, 1, 2 * k), v[:, 1] - w * rng.uniform(0.1, 1, 2 * k),
                                  v[:, 0] + w, v[:, 1] + w))
    # wholly inside a zone but across a tile edge (the zone covers them)
    inner = shapely.buffer(zones.geometry.union_all(), -600)
    gx = np.round(rng.uniform(b[0], b[2], 40 * k) / TILE_M) * TILE_M
    gy = rng.uniform(b[1], b[3], 40 * k)
    ok = shapely.contains_xy(inner, gx, gy)
    gx, gy = gx[ok][:k], gy[ok][:k]
    w = rng.uniform(20, 500, len(gx))
    geoms += list(shapely.box(gx - w, gy - w / 2, gx + w / 3, gy + w))
    # slivers: squares reaching into a zone by about the tolerance (0.01 ha = 100 m²)
    e = shapely.get_coordinates(zones.geometry.values[:8])
    e = e[rng.integers(0, len(e), k)]
    d = rng.choice([9.0, 10.0, 11.0], k)
    geoms += list(shapely.box(e[:, 0] - d, e[:, 1] - d, e[:, 0] + d, e[:, 1] + d))
    return gpd.GeoDataFrame({"site_id": [f"p{i}" for i in range(len(geoms))],
                             "activity": rng.choice(["wind_farm", "road", "ecological_restoration", ""], len(geoms))},
                            geometry=geoms, crs="EPSG:4553")


@pytest.fixture(scope="module")
def results():
    s = _sites(10_000, 17)
    fast = check_sites(s, method="fast").drop(columns=["checked_at"])
    ref = check_sites(s, method="reference").drop(columns=["checked_at"])
    return s, fast, ref


def test_ten_thousand_polygons_fast_equals_reference(results):
    s, a, r = results
    assert len(a) >= 10_000
    # the sample reaches every path: in zones, partly in zones, border crossings, slivers
    pct = a["overlap_pct"].to_numpy()
    assert (pct == 100).sum() > 500 and ((pct > 0) & (pct < 100)).sum() > 500
    assert ((a["outside_jixi_pct"] > 0) & (a["outside_jixi_pct"] < 100)).sum() > 300
    assert len(set(a["verdict"].astype(str))) >= 5
    same_amounts = np.ones(len(a), dtype=bool)
    for col in a.columns:
        if col == "geometry":
            assert a.geometry.equals(r.geometry)
        elif pd.api.types.is_float_dtype(a[col]):
            x, y = a[col].to_numpy(float), r[col].to_numpy(float)
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6, err_msg=col)
        elif col != "reasons":
            assert a[col].astype(str).tolist() == r[col].astype(str).tolist(), col
    # the reasons carry the amounts rounded for reading (0.01 ha, 0.1 %): a sentence may differ
    # only where float noise between the two kernels crosses a rounding step, and then only in digits
    for col, nd in (("overlap_ha", 2), ("overlap_pct", 1), ("outside_jixi_pct", 1)):
        x, y = a[col].to_numpy(float), r[col].to_numpy(float)
        same_amounts &= np.isnan(x) | (np.round(x, nd) == np.round(y, nd))
    ta, tr = a["reasons"].astype(str).to_numpy(), r["reasons"].astype(str).to_numpy()
    assert (ta[same_amounts] == tr[same_amounts]).all()
    digits = re.compile(r"[0-9][0-9,.]*")
    assert all(digits.sub("#", p) == digits.sub("#", q) for p, q in zip(ta[~same_amounts], tr[~same_amounts],
                                                                        strict=True))
    assert (~same_amounts).sum() <= 5


def test_sites_covered_across_tile_edges_overlap_by_their_own_area(results):
    """Boxes lying inside one zone across a tile edge: overlap 100 %, and overlap_ha equal to the
    site's area measured here (planar area in EPSG:4553 / k², k from the site's centroid)."""
    s, a, _ = results
    g = s.geometry.values
    in_one = np.zeros(len(g), dtype=bool)
    for z in jg.load_layer("redline_zones", crs="EPSG:4553").geometry.values:
        in_one |= shapely.within(g, z)
    b = shapely.bounds(g)
    across = (np.floor(b[:, 0] / TILE_M) != np.floor(b[:, 2] / TILE_M)) & in_one
    assert across.sum() > 300
    assert (a.loc[across, "overlap_pct"] == 100).all()
    x = shapely.get_x(shapely.centroid(g[across])) - 500_000
    r = 6_378_137.0 * np.sqrt(1 - 0.00669438002290) / (1 - 0.00669438002290 * np.sin(np.radians(45.5)) ** 2)
    k = 1 + x * x / (2 * r * r)
    np.testing.assert_allclose(a.loc[across, "overlap_ha"], shapely.area(g[across]) / k ** 2 / 1e4,
                               rtol=1e-9, atol=5.1e-7)  # overlap_ha is rounded to 1e-6 ha


def test_share_outside_of_border_crossings_matches_the_whole_city(results):
    """The share outside Jixi, measured by the fast path from the city's tiles, equals the
    share computed here from one intersection with the whole city outline (planar ratio in
    EPSG:4553: the areal scale factor cancels to 1e-7 over a site)."""
    s, a, _ = results
    g = s.geometry.values
    city = jg.load_layer("boundary", crs="EPSG:4553").geometry.union_all()
    part = np.flatnonzero(shapely.intersects(g, city.boundary) & (shapely.area(g) > 0))
    assert len(part) > 300
    want = 100 * (1 - shapely.area(shapely.intersection(g[part], city)) / shapely.area(g[part]))
    want = np.where(want < 1e-4, 0.0, want)
    np.testing.assert_allclose(a["outside_jixi_pct"].to_numpy()[part], want, atol=1e-3)


@pytest.mark.parametrize(("buffer_m", "search_m"), [(1000.0, 400.0), (1000.0, 1000.0), (500.0, 5000.0),
                                                     (0.0, 3000.0)])
def test_nearest_zone_from_the_buffer_query_equals_the_reference(buffer_m, search_m):
    """The nearest zone of a site with zones within buffer_m is taken from the buffer query;
    sites with none are searched up to search_m: the reference's answers either side."""
    from jixi_geo import _kernels as K
    from jixi_geo._zones import prepare

    g = _sites(4000, 5).geometry.values
    pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
    f = K.fast(g, pz, jx, buffer_m=buffer_m, search_m=search_m)
    r = K.reference(g, pz, jx, buffer_m=buffer_m, search_m=search_m)
    assert (f.nearest_zone >= 0).sum() > 5 and (len(f.near) > 10 or buffer_m == 0)
    np.testing.assert_array_equal(f.nearest_zone, r.nearest_zone)
    np.testing.assert_allclose(f.nearest_m, r.nearest_m, rtol=1e-9, atol=1e-6)
    assert f.near[["site", "zone"]].astype(int).values.tolist() == r.near[["site", "zone"]].astype(int).values.tolist()
    np.testing.assert_allclose(f.near["distance_m"], r.near["distance_m"], rtol=1e-9, atol=1e-6)


def test_overlap_measure_equals_geodesic_area_for_holes_and_multipolygons():
    """overlap()'s ring-by-ring geodesic measure gives crs.geodesic_area's numbers exactly."""
    import importlib

    from jixi_geo.crs import geodesic_area

    O = importlib.import_module("jixi_geo.overlap")
    rng = np.random.default_rng(2)
    n = 400
    x, y = rng.uniform(400_000, 600_000, n), rng.uniform(4.95e6, 5.15e6, n)
    holed = shapely.difference(shapely.buffer(shapely.points(x, y), rng.uniform(200, 3000, n)),
                               shapely.buffer(shapely.points(x + 20, y - 10), rng.uniform(10, 150, n)))
    multi = shapely.multipolygons([[p, q] for p, q in zip(shapely.box(x, y, x + 80, y + 60),
                                                          shapely.box(x + 200, y, x + 290, y + 95), strict=True)])
    g = np.concatenate([holed, multi, [shapely.Polygon(), None]])
    got = O._measure(g)
    want = geodesic_area(gpd.GeoSeries(list(g), crs="EPSG:4553"), unit="m2")
    np.testing.assert_array_equal(got, want)
    assert (got[:2 * n] > 0).all() and got[-1] == 0 and got[-2] == 0


def test_threaded_validation_and_projection_equal_the_single_thread(monkeypatch):
    """read_sites' validity test on a second thread and the projection of polygon coordinates in
    chunks on threads give exactly what one thread gives: the same validity verdicts (invalid sites
    refused by name, or repaired alike), and bit-identical EPSG:4553 coordinates (checked against one
    pyproj Transformer over the whole array)."""
    import pyproj

    from jixi_geo import crs as jcrs
    from jixi_geo.readers import checks
    from jixi_geo.sites import read_sites

    rng = np.random.default_rng(5)
    n = 3000
    xs, ys = rng.uniform(130.6, 133.8, n), rng.uniform(45.0, 46.5, n)
    geoms = shapely.box(xs, ys, xs + 0.004, ys + 0.003)
    bow = shapely.Polygon([(131.0, 45.0), (131.01, 45.01), (131.01, 45.0), (131.0, 45.01)])  # self-crossing
    geoms[[7, 2500]] = bow
    # 3-D sites: their Z is dropped (in place, in the array being validated) while validity is
    # tested on the other thread, which works on its own copy
    geoms[[11, 2999]] = shapely.force_3d(geoms[[11, 2999]], z=12.5)
    s = gpd.GeoDataFrame({"site_id": [f"v{i}" for i in range(n)]}, geometry=geoms, crs=4490)

    def run():
        with pytest.raises(jg.errors.InvalidGeometryError) as e:
            read_sites(s)
        fixed = read_sites(s, make_valid=True)
        return str(e.value), shapely.to_wkb(fixed.geometry.values), fixed["note"].astype(str).tolist()

    single = run()
    monkeypatch.setattr(checks, "BACKGROUND_MIN", 1)  # validity on a second thread at any size
    threaded = run()
    assert "v7" in single[0] and "v2500" in single[0]
    assert threaded[0] == single[0]
    assert (threaded[1] == single[1]).all() and threaded[2] == single[2]
    assert "Z coordinates dropped" in threaded[2][11] and "Z coordinates dropped" in threaded[2][2999]
    assert not shapely.has_z(shapely.from_wkb(threaded[1])).any()

    good = shapely.force_2d(np.delete(geoms, [7, 2500]))
    tr = pyproj.Transformer.from_crs(4490, 4553, always_xy=True)
    want = shapely.transform(good, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    monkeypatch.setattr(jcrs, "PARALLEL_TRANSFORM_MIN", 10**9)
    one = jcrs.project(good, 4490, 4553)
    monkeypatch.setattr(jcrs, "PARALLEL_TRANSFORM_MIN", 1)  # chunks on threads at any size
    many = jcrs.project(good, 4490, 4553)
    assert (shapely.to_wkb(one) == shapely.to_wkb(want)).all()
    assert (shapely.to_wkb(many) == shapely.to_wkb(want)).all()


def test_kernel_pieces_and_site_sizes_give_what_measuring_again_gives():
    """The assembly reuses what the fast kernel measured: the cut pieces of sites in several zones
    (their union is the overlap) and the area of sites a tile or zone held whole. Both equal what
    union_overlap and site_measures compute on their own, bit for bit, on sites chosen to lie in
    two overlapping zones (a reserve inside a barrier) and across tile edges."""
    from jixi_geo import _kernels as K
    from jixi_geo._zones import prepare
    from jixi_geo.measures import site_measures, union_overlap

    pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
    zones = jg.load_layer("redline_zones", crs="EPSG:4553")
    rng = np.random.default_rng(11)
    # boxes around vertices of zones that overlap other zones: in several zones, partly
    v = shapely.get_coordinates(zones.geometry.boundary.values)
    v = v[rng.integers(0, len(v), 3000)]
    w = rng.uniform(50, 2500, len(v))
    g = np.concatenate([shapely.box(v[:, 0] - w, v[:, 1] - w, v[:, 0] + w / 2, v[:, 1] + w),
                        _sites(4000, 23).geometry.values])
    pairs = K.fast(g, pz, jx, buffer_m=1000.0, search_m=1000.0)
    assert pairs.pieces is not None and pairs.site_size is not None
    hits = pairs.hits
    several = hits.groupby("site").size()
    assert (several > 1).sum() > 300 and len(pairs.pieces[0]) > 600
    dims, area, length = site_measures(g, where=hits["site"].to_numpy())
    dims2, area2, length2 = site_measures(g, where=hits["site"].to_numpy(), known=pairs.site_size)
    assert np.isfinite(pairs.site_size).sum() > 500
    np.testing.assert_array_equal(area2, area)
    np.testing.assert_array_equal(length2, length)
    a0, l0 = union_overlap(g, pz, hits, dims, area, length)
    a1, l1 = union_overlap(g, pz, hits, dims, area, length, pairs.pieces)
    np.testing.assert_array_equal(a1, a0)
    np.testing.assert_array_equal(l1, l0)
    # and the union is not the plain sum for some: the overlap of the zones is counted once
    summed = np.bincount(hits["site"].to_numpy().astype(int), weights=hits["overlap_m2"].to_numpy(),
                         minlength=len(g))
    assert (summed - a1 > 1.0).sum() > 20


def test_threaded_kernel_keeps_pieces_and_sizes_in_site_order(monkeypatch):
    """fast_parallel splits the sites in chunks: the pieces and sizes it returns, mapped back to the
    whole, are those of one pass."""
    from jixi_geo import _kernels as K
    from jixi_geo._zones import prepare

    pz, jx = prepare(jg.load_layer("redline_zones")), prepare(jg.load_layer("boundary"))
    g = _sites(6000, 29).geometry.values
    one = K.fast(g, pz, jx, buffer_m=1000.0, search_m=1000.0)
    monkeypatch.setattr(K, "PARALLEL_MIN_SITES", 1)
    many = K.fast_parallel(g, pz, jx, buffer_m=1000.0, search_m=1000.0, workers=3)
    np.testing.assert_array_equal(many.site_size, one.site_size)
    for a, b in zip(many.pieces[:2], one.pieces[:2], strict=True):
        np.testing.assert_array_equal(a, b)
    assert (shapely.to_wkb(many.pieces[2]) == shapely.to_wkb(one.pieces[2])).all()
    assert len(one.pieces[0]) > 50
    # the dimensions the kernel read, which the assembly takes instead of reading them again
    c = shapely.centroid(g[:900])
    mixed = np.concatenate([g[:900], c, shapely.linestrings(np.stack([shapely.get_coordinates(c),
                                                                      shapely.get_coordinates(c) + 700.0], 1))])
    np.random.default_rng(1).shuffle(mixed)
    got = K.fast_parallel(mixed, pz, jx, buffer_m=1000.0, search_m=1000.0, workers=3)
    np.testing.assert_array_equal(got.dims, shapely.get_dimensions(mixed))
    assert set(np.unique(got.dims)) == {0, 1, 2}
    xy = shapely.get_coordinates(c)
    monkeypatch.setattr(K, "PARALLEL_MIN_SITES", 10**9)
    pts, _ = K.fast_points(xy, pz, jx, buffer_m=1000.0, search_m=1000.0)  # grid and exact parts joined
    np.testing.assert_array_equal(pts.dims, np.zeros(len(xy)))


def test_distinct_label_categorical_equals_the_checked_constructor():
    """from_distinct skips pandas' uniqueness check for many labels: the column it builds equals
    from_codes' code for code and label for label, and a code outside the labels is refused."""
    from jixi_geo._categorical import FASTPATH_MIN_LABELS, from_distinct

    for n in (3, FASTPATH_MIN_LABELS + 500, 40_000):
        labels = [f"位于第 {i} 区 / in zone {i}" for i in range(n)]
        codes = np.random.default_rng(n).integers(0, n, 3 * n)
        got = from_distinct(codes, labels)
        want = pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype="str"))
        assert got.dtype == want.dtype and got.codes.dtype == want.codes.dtype
        assert (got.codes == want.codes).all() and list(got.categories) == list(want.categories)
        assert pd.Series(got).equals(pd.Series(want))
        with pytest.raises(ValueError):
            from_distinct(np.r_[codes, n], labels)


def test_amounts_that_read_alike_share_one_sentence():
    """Overlaps of 0.681 and 0.684 ha both read "0.68": one reason sentence serves both sites, so the
    sentences are distinct, and each site's reason shows its own rounded amount."""
    from jixi_geo.assembly import _formatted

    texts, codes = _formatted(np.array([0.681, 0.684, 1.0, 0.679, 1234.5]), "{:,.2f}")
    assert texts == ["0.68", "1.00", "1,234.50"]
    assert [texts[c] for c in codes] == ["0.68", "0.68", "1.00", "0.68", "1,234.50"]
    z = jg.load_layer("redline_zones", crs="EPSG:4553")
    inner = shapely.buffer(z.geometry.values[0], -2000)
    x, y = shapely.get_coordinates(shapely.point_on_surface(inner))[0]
    sides = np.sqrt(np.array([6810.0, 6840.0, 6810.0]))  # 0.681, 0.684 and 0.681 ha on the plane
    boxes = [shapely.box(x + 300 * i, y, x + 300 * i + s, y + s) for i, s in enumerate(sides)]
    r = check_sites(gpd.GeoDataFrame({"site_id": ["a", "b", "c"]}, geometry=boxes, crs="EPSG:4553"),
                    activity="wind_farm")
    assert (r["overlap_pct"] == 100).all() and r["overlap_ha"].round(2).tolist() == [0.68, 0.68, 0.68]
    assert r["reasons"].nunique() == 1 and "0.68 公顷" in r["reasons"].iloc[0]
    assert len(r["reasons"].cat.categories) == len(set(r["reasons"].cat.categories))


def test_read_coordinates_handed_to_the_projection_only_when_kept_as_read(monkeypatch):
    """read_sites keeps the x/y it read of lines and polygons (EPSG:4490, none repaired) for the check's
    projection (``checks.take_coords``): the result is the one without the hand-over, a lie is believed
    for exactly that frame (so the coordinates are really used), and nothing is kept for sites it
    transformed, repaired, or that are not of one simple kind."""
    from jixi_geo import redline
    from jixi_geo.readers import checks
    from jixi_geo.sites import read_sites

    rng = np.random.default_rng(21)
    n = 2000
    xs, ys = rng.uniform(130.6, 133.8, n), rng.uniform(45.0, 46.5, n)
    polys = gpd.GeoDataFrame({"site_id": [f"p{i}" for i in range(n)]},
                             geometry=shapely.box(xs, ys, xs + 0.004, ys + 0.003), crs=4490)
    lines = gpd.GeoDataFrame({"site_id": [f"l{i}" for i in range(n)]},
                             geometry=shapely.linestrings(np.stack([np.c_[xs, ys], np.c_[xs + 0.01, ys + 0.02],
                                                                    np.c_[xs + 0.03, ys]], 1)), crs=4490)
    kw = {"activity": "wind_farm", "buffer_m": 1000, "search_m": 1000}
    for sites in (polys, lines):
        read = read_sites(sites)
        known = checks.take_coords(read)
        assert known is not None and checks.take_coords(read) is None  # taken once
        assert np.array_equal(known.xy, shapely.get_coordinates(read.geometry.values))
        assert np.array_equal(known.type_id, shapely.get_type_id(read.geometry.values))
        assert known.points is None
        handed = check_sites(sites, **kw).drop(columns=["checked_at"])
        with monkeypatch.context() as m:
            m.setattr(checks, "take_coords", lambda f: None)
            again = check_sites(sites, **kw).drop(columns=["checked_at"])
        pd.testing.assert_frame_equal(handed, again, check_exact=True)
        assert (handed["verdict"].astype(str) != "outside_jixi").any()
        # a lie (20° east: outside Jixi) for this very frame is believed, and ignored for any other frame
        read = read_sites(sites)
        checks._remember(read, known._replace(xy=known.xy + np.array([20.0, 0.0])))
        with redline.fresh_from_reader(read):
            lied = check_sites(read, **kw)
        assert (lied["verdict"].astype(str) == "outside_jixi").all()
        other = read_sites(sites)
        checks._remember(other, known._replace(xy=known.xy + np.array([20.0, 0.0])))
        fine = check_sites(other, **kw).drop(columns=["checked_at"])
        pd.testing.assert_frame_equal(fine, again, check_exact=True)
    # transformed on reading, repaired, or mixed/holed: nothing kept, or nothing the projection can use
    assert checks.take_coords(read_sites(polys.to_crs(4553))) is None
    bow = polys.copy()
    bow.loc[3, "geometry"] = shapely.Polygon([(131.0, 45.0), (131.01, 45.01), (131.01, 45.0), (131.0, 45.01)])
    assert checks.take_coords(read_sites(bow, make_valid=True)) is None
    mixed = pd.concat([polys.iloc[:5], lines.iloc[:5]], ignore_index=True)
    m = read_sites(mixed)
    assert checks.take_coords(m) is not None  # kept: the projection sees two kinds and reads the geometries
    want = check_sites(mixed, **kw)
    with monkeypatch.context() as mp:
        mp.setattr(checks, "take_coords", lambda f: None)
        pd.testing.assert_frame_equal(check_sites(mixed, **kw).drop(columns=["checked_at"]),
                                      want.drop(columns=["checked_at"]), check_exact=True)
