"""The fast paths of the control-layer measures against the plain way (issue 18, speed).

- the index queried by boxes only, the exact ``intersects`` test kept for the pairs the
  convex clip does not measure: the same (site, piece) rows and areas as the indexed
  ``intersects`` query with GEOS intersections;
- the clip cutting each pair only by the window edges its subject straddles, with
  windows oriented once: the areas GEOS gives, 0 for shapes whose boxes meet but not
  they, and the same numbers whether the windows come oriented or not;
- categoricals built without pandas' re-checks: equal to ``Categorical.from_codes`` /
  ``Categorical``;
- sums per group in NumPy: equal to pandas' ``groupby().sum()``;
- a layer's fingerprint: an in-place change of a column that decides what is measured
  is seen.

No timings are asserted here; ``benchmarks/bench_controls.py`` measures them.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import box

from jixi_geo._kernels import ellipsoidal_area, ellipsoidal_length
from jixi_geo.controls import occupy as O
from jixi_geo.controls.clip import ccw_rings, clip_area, convex_windows, eligible_subjects, rings
from jixi_geo.controls.layers import ControlLayer
from jixi_geo.controls import verdicts as V
from jixi_geo import _categorical
from jixi_geo.controls.verdicts import categorical_from_codes, sorted_categorical
from jixi_geo.measures import site_measures

X0, Y0 = 450_000.0, 5_035_000.0


def _rotated(cx, cy, w, h, ang):
    r = shapely.box(-w / 2, -h / 2, w / 2, h / 2)
    xy = shapely.get_coordinates(r)
    c, s = np.cos(ang), np.sin(ang)
    return shapely.set_coordinates(r, np.column_stack([xy[:, 0] * c - xy[:, 1] * s + cx,
                                                       xy[:, 0] * s + xy[:, 1] * c + cy]))


def _mosaic(rng, side=12, cell=100.0):
    """A jittered grid of quadrilaterals sharing their edges, plus one concave polygon of many vertices."""
    gx, gy = np.meshgrid(np.arange(side + 1) * cell + X0, np.arange(side + 1) * cell + Y0)
    gx = gx + rng.uniform(-15, 15, gx.shape)
    gy = gy + rng.uniform(-15, 15, gy.shape)
    cells = [shapely.Polygon([(gx[j, i], gy[j, i]), (gx[j, i + 1], gy[j, i + 1]),
                              (gx[j + 1, i + 1], gy[j + 1, i + 1]), (gx[j + 1, i], gy[j + 1, i])])
             for j in range(side) for i in range(side)]
    star_ang = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    rad = np.where(np.arange(90) % 2 == 0, 260.0, 150.0)
    star = shapely.Polygon(np.column_stack([X0 + 1900 + rad * np.cos(star_ang),
                                            Y0 + 600 + rad * np.sin(star_ang)]))
    return cells + [star]


def _layer(geoms):
    n = len(geoms)
    gdf = gpd.GeoDataFrame({"control_id": [f"c{i}" for i in range(n)], "name": "", "level": "",
                            "class_code": ["0101"] * n, "class_known": [True] * n},
                           geometry=list(geoms), crs=4553).to_crs(4490)
    return ControlLayer("landcover", gdf)


def _sites(rng):
    n = 150
    rects = [_rotated(x, y, w, h, a) for x, y, w, h, a in zip(
        rng.uniform(X0 - 50, X0 + 2200, n), rng.uniform(Y0 - 50, Y0 + 1250, n), rng.uniform(5, 160, n),
        rng.uniform(5, 120, n), rng.uniform(0, np.pi, n), strict=True)]
    aligned = [box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300), box(X0 + 400, Y0, X0 + 500, Y0 + 50)]
    concave = [shapely.Polygon([(X0 + 610, Y0 + 610), (X0 + 790, Y0 + 610), (X0 + 790, Y0 + 790),
                                (X0 + 700, Y0 + 650), (X0 + 610, Y0 + 790)])]
    corner = [_rotated(X0 + 1900 + 300, Y0 + 600 + 300, 60, 60, np.pi / 4)]  # its box meets the star's, not the star
    points = list(shapely.points(rng.uniform(X0, X0 + 1200, 20), rng.uniform(Y0, Y0 + 1200, 20)))
    lines = [shapely.LineString([(X0 + 20, Y0 + 30), (X0 + 900, Y0 + 700)]), shapely.LineString(
        [(X0 + 1700, Y0 + 600), (X0 + 2100, Y0 + 620)])]
    return np.array(rects + aligned + concave + corner + points + lines, dtype=object)


def _reference_pieces(sites, dims, pc):
    """(site, piece) -> (m2, len_m) the plain way: the indexed intersects query and GEOS intersections."""
    s, t = pc.pz.tree.query(sites, predicate="intersects")
    geom = shapely.intersection(sites[s], pc.pz.tiles[t])
    d = dims[s]
    m2 = np.where(d == 2, ellipsoidal_area(geom), 0.0)
    ln = np.where(d == 1, ellipsoidal_length(geom), 0.0)
    ref = pd.DataFrame({"site": s, "piece": pc.pz.tile_zone[t], "m2": m2, "len_m": ln}).groupby(
        ["site", "piece"], as_index=False).sum()
    keep = (dims[ref["site"]] == 0) | (ref["m2"] > 0) | (ref["len_m"] > 0)
    return ref[keep.to_numpy()].reset_index(drop=True)


@pytest.mark.parametrize("tile_m", [O.TILE_M, 250.0])  # pieces whole, and pieces cut into tiles
def test_box_query_and_clip_give_the_rows_of_the_indexed_intersects_query(tile_m):
    rng = np.random.default_rng(18)
    pc = O.prepare_control(_layer(_mosaic(rng)), tile_m=tile_m)
    sites = _sites(rng)
    dims, area, length = site_measures(sites)
    site, piece, m2, ln = O._pieces(sites, dims, area, length, pc, O._windows(sites, dims))
    ref = _reference_pieces(sites, dims, pc)
    got = pd.DataFrame({"site": site, "piece": piece, "m2": m2, "len_m": ln}).sort_values(
        ["site", "piece"], ignore_index=True)
    # tiny GEOS slivers along shared edges are float noise the clip does not make: compare what counts
    big = ref[(ref["m2"] > 1e-6) | (ref["len_m"] > 0) | (dims[ref["site"]] == 0)].reset_index(drop=True)
    got = got[(got["m2"] > 1e-6) | (got["len_m"] > 0) | (dims[got["site"]] == 0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got[["site", "piece"]], big[["site", "piece"]], check_dtype=False)
    np.testing.assert_allclose(got["m2"], big["m2"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(got["len_m"], big["len_m"], rtol=1e-9)
    assert (dims[got["site"]] == 0).sum() > 5 and (dims[got["site"]] == 1).sum() >= 2
    # boxes that meet without the shapes meeting were there to drop
    convex = O._windows(sites, dims)[0]
    s, t = pc.pz.tree.query(sites)
    apart = ~shapely.intersects(sites[s], pc.pz.tiles[t])
    assert (apart & convex[s]).sum() > 10 and (apart & ~convex[s]).sum() > 0


def test_clip_areas_of_aligned_contained_and_box_only_pairs_are_those_of_geos():
    cells = [box(X0 + i * 100, Y0 + j * 100, X0 + (i + 1) * 100, Y0 + (j + 1) * 100)
             for i in range(4) for j in range(4)]
    windows = [box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300),      # edges on the cells' edges
               box(X0 + 120, Y0 + 130, X0 + 180, Y0 + 170),      # inside one cell
               shapely.reverse(box(X0 + 50, Y0 + 50, X0 + 350, Y0 + 250)),  # counter-clockwise
               _rotated(X0 + 200, Y0 + 200, 141.42, 141.42, np.pi / 4),     # corners on cell edges
               _rotated(X0 + 115, Y0 + 115, 30, 30, np.pi / 4)]  # its box meets a cell its shape misses
    ok, hull = convex_windows(np.array(windows, dtype=object))
    assert ok.all()
    subjects = np.array(cells, dtype=object)
    assert eligible_subjects(subjects).all()
    si, wi = np.meshgrid(np.arange(len(cells)), np.arange(len(windows)))
    si, wi = si.ravel(), wi.ravel()
    area, _ = clip_area(rings(subjects), rings(hull), si, wi)
    want = shapely.area(shapely.intersection(subjects[si], np.array(windows, dtype=object)[wi]))
    np.testing.assert_allclose(area, want, rtol=1e-9, atol=1e-9)
    assert (area[want == 0] == 0).all()  # shapes that do not meet (or only touch): exactly nothing
    box_only = (wi == 4) & shapely.intersects(shapely.envelope(subjects[si]), shapely.envelope(hull[wi]))
    box_only &= want == 0
    assert box_only.any()


def test_windows_oriented_once_give_the_same_numbers():
    rng = np.random.default_rng(3)
    n = 500
    windows = np.array([_rotated(x, y, w, h, a) for x, y, w, h, a in zip(
        rng.uniform(0, 500, n), rng.uniform(0, 500, n), rng.uniform(5, 100, n), rng.uniform(5, 100, n),
        rng.uniform(0, np.pi, n), strict=True)], dtype=object)
    windows = np.where(rng.random(n) < 0.5, windows, shapely.reverse(windows))  # both orientations
    subjects = np.array([_rotated(x, y, w, h, a) for x, y, w, h, a in zip(
        rng.uniform(0, 500, n), rng.uniform(0, 500, n), rng.uniform(5, 150, n), rng.uniform(5, 150, n),
        rng.uniform(0, np.pi, n), strict=True)], dtype=object)
    si, wi = rng.integers(0, n, 4000), rng.integers(0, n, 4000)
    plain = clip_area(rings(subjects), rings(windows), si, wi)
    oriented = clip_area(rings(subjects), ccw_rings(rings(windows)), si, wi)
    for a, b in zip(plain, oriented, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(plain[0], shapely.area(shapely.intersection(subjects[si], windows[wi])),
                               rtol=1e-9, atol=1e-9)


def test_clip_noise_of_shapes_that_do_not_meet_is_dropped():
    site = np.array([box(0, 0, 10, 10), box(0, 0, 10, 10)], dtype=object)
    tile = np.array([box(10 + 1e-7, 0, 20, 10), box(9, 0, 20, 10)], dtype=object)  # apart, and overlapping
    out = O._disjoint_noise(np.array([1e-9, 1e-4]), site, tile)
    np.testing.assert_array_equal(out, [0.0, 1e-4])


def test_group_sums_equal_pandas():
    rng = np.random.default_rng(5)
    key = rng.integers(0, 300, 5000)
    v = rng.uniform(0, 1e5, 5000)
    w = rng.uniform(0, 1, 5000)
    uniq, (sv, sw) = O._group_sums(key, v, w)
    ref = pd.DataFrame({"k": key, "v": v, "w": w}).groupby("k", sort=True).sum()
    np.testing.assert_array_equal(uniq, ref.index.to_numpy())
    np.testing.assert_allclose(sv, ref["v"].to_numpy(), rtol=1e-13)
    np.testing.assert_allclose(sw, ref["w"].to_numpy(), rtol=1e-13)


@pytest.mark.parametrize("n", [1, 5, 127, 200, 40_000])
def test_categorical_from_codes_equals_pandas(n, monkeypatch):
    rng = np.random.default_rng(n)
    cats = [f"句子 {i} / sentence {i * 7}" for i in rng.permutation(n)]
    codes = rng.integers(0, n, 3 * n + 10)
    want = pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype="str"))
    got = categorical_from_codes(codes, cats)
    pd.testing.assert_extension_array_equal(got, want)
    assert got.codes.dtype == want.codes.dtype and got.categories.dtype == want.categories.dtype
    assert list(got.categories) == cats

    def gone(*args, **kwargs):
        raise AttributeError("not in this pandas")

    monkeypatch.setattr(_categorical, "_unchecked", gone)  # the fallback
    pd.testing.assert_extension_array_equal(categorical_from_codes(codes, cats), want)


@pytest.mark.parametrize("labels", [
    [f"位于生态保护红线内，重叠 {i / 7:,.2f} 公顷 / {i / 7:,.2f} ha inside 🌲" for i in range(3_000)],
    ["", "a"] * 600,  # empty texts and repeats
    [f"{i}" for i in range(1_500)] + [None],  # a missing value: the public way
    [f"{i}" for i in range(1_500)] + [7],  # a number: pandas makes it "7"
    ["x", "y"],  # few: the public way
])
def test_str_index_equals_pandas(labels):
    want = pd.Index(labels, dtype="str")
    got = _categorical.str_index(labels)
    pd.testing.assert_index_equal(got, want, exact=True)
    assert got.dtype == want.dtype


def test_sorted_categorical_equals_pandas():
    rng = np.random.default_rng(11)
    labels = np.array(["second", "", "first", "quasi", "unused"], dtype=object)
    codes = rng.integers(0, 4, 1000)
    want = pd.Categorical(labels[codes].astype(str))
    got = sorted_categorical(codes, labels)
    pd.testing.assert_extension_array_equal(got, want)
    assert got.codes.dtype == want.codes.dtype and got.categories.dtype == want.categories.dtype


def test_fingerprint_sees_in_place_changes():
    lc = _layer([box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)]).gdf
    lc["black_soil"] = [False, False]
    first = O.prepare_control(ControlLayer("landcover", lc))
    assert O.prepare_control(ControlLayer("landcover", lc)) is first
    lc.loc[0, "class_code"] = "0103"
    second = O.prepare_control(ControlLayer("landcover", lc))
    assert second is not first and list(second.pz.zones["class_code"]) == ["0103", "0101"]
    lc.loc[1, "black_soil"] = True
    third = O.prepare_control(ControlLayer("landcover", lc))
    assert third is not second and list(third.pz.zones["black_soil"]) == [False, True]


def test_sentences_joined_in_arrow_equal_those_joined_in_python():
    rng = np.random.default_rng(21)
    base = np.array([f"生态红线理由 {i} / red-line reason {i}" for i in range(40)], dtype=object)
    role = np.array(["永久基本农田：不占用。 / Farmland: outside.",
                     "永久基本农田：占用 1.00 公顷。 / Farmland: 1.00 ha.",
                     "永久基本农田：不占用。 / Farmland: outside."], dtype=object)  # two read alike
    water = np.array([f"水源保护区：{k} / Water: {k}" for k in range(7)], dtype=object)
    n = 300
    words = [(base, rng.integers(0, 40, n)), (role, rng.integers(0, 3, n)), (water, rng.integers(0, 7, n))]
    codes = rng.integers(0, n, 2000)
    a = V.joined_categorical(words, codes, arrow=True)
    b = V.joined_categorical(words, codes, arrow=False)
    pd.testing.assert_extension_array_equal(a, b)
    assert a.codes.dtype == b.codes.dtype and a.categories.dtype == b.categories.dtype
    assert len(a.categories) < n  # alike sentences are one category
    first = codes[0]
    assert a[0] == " ".join([base[words[0][1][first]], role[words[1][1][first]], water[words[2][1][first]]])
    unique_words = [(base, np.arange(40)), (water, np.arange(40) % 7)]
    c = V.joined_categorical(unique_words, np.arange(40)[::-1], arrow=True)
    pd.testing.assert_extension_array_equal(c, V.joined_categorical(unique_words, np.arange(40)[::-1], arrow=False))
