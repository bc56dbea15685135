"""overlap / overlap_matrix / share_split: known answers, invariants, CRS handling and
an independent cross-check with GDAL/SpatiaLite SQL."""

import re
import shutil
import subprocess
import warnings
from io import StringIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely import Point, Polygon, box
from shapely.affinity import rotate

from jixi_geo import load_layer
from jixi_geo.errors import (
    CRSError,
    InputError,
    InvalidGeometryError,
    JixiGeoWarning,
    UnknownCodeError,
)
from jixi_geo.overlap import UNCLASSIFIED, overlap, overlap_matrix, share_split

# On the central meridian of EPSG:4553 (132°E) near 45°N the GK scale factor is 1, so
# planar and geodesic areas agree to ~1e-6 there: 1 km² squares are 100 ha.
X0, Y0 = 500_000, 5_000_000
KM = 1000


def gdf(geoms, keys=None, key="id", crs="EPSG:4553", **cols):
    keys = keys if keys is not None else [f"f{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({key: keys, **cols}, geometry=list(geoms), crs=crs)


def sq(x, y, size=KM):
    return box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


@pytest.fixture
def two_squares():
    a = gdf([sq(0, 0)], ["A"], name_zh=["甲"])
    b = gdf([sq(500, 500)], ["B"], name_zh=["乙"])
    return a, b


@pytest.fixture(scope="module")
def random_layers():
    """Two layers of random rotated rectangles and discs near 132°E 45°N."""
    rng = np.random.default_rng(42)

    def layer(n, prefix):
        geoms = []
        for _ in range(n):
            x, y = rng.uniform(0, 20 * KM, 2)
            if rng.random() < 0.5:
                g = box(X0 + x, Y0 + y, X0 + x + rng.uniform(1, 6) * KM, Y0 + y + rng.uniform(1, 6) * KM)
                g = rotate(g, rng.uniform(0, 90))
            else:
                g = Point(X0 + x, Y0 + y).buffer(rng.uniform(0.5, 4) * KM)
            geoms.append(g)
        return gdf(geoms, [f"{prefix}{i}" for i in range(n)])

    return layer(25, "a"), layer(20, "b")


# --------------------------------------------------------------------------- known answers


def test_two_squares_known_answer(two_squares):
    a, b = two_squares
    t = overlap(a, b)
    assert list(t.columns) == ["a_id", "b_id", "a_name_zh", "b_name_zh", "overlap_ha",
                               "share_of_a_pct", "share_of_b_pct", "a_ha", "b_ha"]
    assert len(t) == 1
    r = t.iloc[0]
    assert (r.a_id, r.b_id, r.a_name_zh, r.b_name_zh) == ("A", "B", "甲", "乙")
    assert r.overlap_ha == pytest.approx(25, rel=1e-5)
    assert r.share_of_a_pct == pytest.approx(25, rel=1e-6)
    assert r.share_of_b_pct == pytest.approx(25, rel=1e-6)
    assert r.a_ha == pytest.approx(100, rel=1e-5)


@pytest.mark.parametrize("units, value", [("ha", 25), ("m2", 250_000), ("km2", 0.25), ("mu", 375)])
def test_units(two_squares, units, value):
    t = overlap(*two_squares, units=units)
    assert t[f"overlap_{units}"].iloc[0] == pytest.approx(value, rel=1e-5)
    assert t[f"a_{units}"].iloc[0] == pytest.approx(value * 4, rel=1e-5)


def test_areas_are_geodesic_not_planar_far_from_central_meridian():
    # 2.5° west of 132°E GK areas are enlarged by k² ≈ 1.00095; the reported area is the
    # ellipsoidal one (computed here independently with pyproj's Geod on the 4490 polygon).
    x0, y0 = pyproj.Transformer.from_crs(4490, 4553, always_xy=True).transform(129.5, 45.0)
    a = gdf([box(x0, y0, x0 + 2 * KM, y0 + 2 * KM)], ["A"])
    b = gdf([box(x0 + KM, y0, x0 + 3 * KM, y0 + 2 * KM)], ["B"])
    t = overlap(a, b, units="m2")
    piece = gpd.GeoSeries([box(x0 + KM, y0, x0 + 2 * KM, y0 + 2 * KM)], crs=4553).to_crs(4490)
    geod = pyproj.Geod(ellps="GRS80")  # CGCS2000 uses the GRS80 ellipsoid (flattening differs 1e-13)
    expected = abs(geod.geometry_area_perimeter(piece.iloc[0])[0])
    assert t.overlap_m2.iloc[0] == pytest.approx(expected, rel=1e-7)
    assert t.overlap_m2.iloc[0] < 2_000_000 / 1.0009  # not the planar 2 km²


# --------------------------------------------------------------------------- invariants


def test_invariants_on_random_layers(random_layers):
    a, b = random_layers
    t = overlap(a, b, units="m2", tolerance_ha=0)
    assert len(t) > 10
    assert t.share_of_a_pct.between(0, 100).all() and t.share_of_b_pct.between(0, 100).all()
    assert (t.overlap_m2 <= t.a_m2 * (1 + 1e-9)).all()
    assert (t.overlap_m2 <= t.b_m2 * (1 + 1e-9)).all()
    # shares are consistent with the areas
    np.testing.assert_allclose(t.share_of_a_pct, t.overlap_m2 / t.a_m2 * 100, rtol=1e-12)
    # every pair reported really intersects; every intersecting pair is reported (main or sliver)
    main, sl = overlap(a, b, tolerance_ha=0, return_slivers=True)
    ga, gb = a.set_index("id").geometry, b.set_index("id").geometry
    brute = {(i, j) for i in ga.index for j in gb.index if ga[i].intersects(gb[j])}
    assert set(zip(main.a_id, main.b_id)) | set(zip(sl.a_id, sl.b_id)) == brute


def test_sum_of_overlaps_with_disjoint_partners_never_exceeds_area():
    # b tiles a's area in 4 disjoint quarters: overlaps add up to a's area, shares to 100 %
    a = gdf([sq(0, 0)], ["A"])
    b = gdf([sq(0, 0, 500), sq(500, 0, 500), sq(0, 500, 500), sq(500, 500, 500)])
    t = overlap(a, b)
    assert len(t) == 4
    # 1e-7: the quarters have extra vertices at the edge midpoints, and a straight GK edge
    # is not quite a geodesic, so the pieces' geodesic areas add up to the whole within ~1e-8
    assert t.overlap_ha.sum() == pytest.approx(t.a_ha.iloc[0], rel=1e-7)
    assert t.share_of_a_pct.sum() == pytest.approx(100, rel=1e-7)
    assert t.share_of_b_pct.tolist() == pytest.approx([100] * 4, rel=1e-9)


def test_a_by_b_is_b_by_a_transposed(random_layers):
    a, b = random_layers
    ab = overlap(a, b)
    ba = overlap(b, a)
    swapped = ba.rename(columns={"a_id": "b_id", "b_id": "a_id", "share_of_a_pct": "share_of_b_pct",
                                 "share_of_b_pct": "share_of_a_pct", "a_ha": "b_ha", "b_ha": "a_ha"})
    swapped = swapped[ab.columns].sort_values(["a_id", "b_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ab.sort_values(["a_id", "b_id"]).reset_index(drop=True), swapped,
                                  rtol=1e-9)


def test_duplicate_keys_are_dissolved_so_shares_stay_within_100():
    # two rows of key "A" overlapping each other (union = 1.5 km²), overlapping the layer itself
    lay = gdf([sq(0, 0), sq(500, 0), sq(5000, 0)], ["A", "A", "C"], name_zh=["甲", "甲二", "丙"])
    t = overlap(lay, lay)
    assert t.share_of_a_pct.max() <= 100 and t.share_of_b_pct.max() <= 100
    a_row = t[(t.a_id == "A") & (t.b_id == "A")].iloc[0]
    assert a_row.a_ha == pytest.approx(150, rel=1e-5)  # not 200: nothing counted twice
    assert a_row.overlap_ha == pytest.approx(150, rel=1e-5)
    assert a_row.share_of_a_pct == pytest.approx(100)
    assert a_row.a_name_zh == "甲、甲二"
    assert set(zip(t.a_id, t.b_id)) == {("A", "A"), ("C", "C")}


def test_non_string_keys_work_and_keep_their_type():
    a = gdf([sq(0, 0), sq(2000, 0)], [10, 20], key="zone_no")
    b = gdf([sq(500, 0), sq(2500, 0), sq(2600, 0)], [1.5, 2.5, 2.5], key="code")
    t = overlap(a, b, a_key="zone_no", b_key="code")
    assert list(t.columns[:2]) == ["a_zone_no", "b_code"]
    assert t.a_zone_no.tolist() == [10, 20] and t.b_code.tolist() == [1.5, 2.5]
    assert pd.api.types.is_integer_dtype(t.a_zone_no)
    assert t.overlap_ha.tolist() == pytest.approx([50, 50], rel=1e-5)


def test_same_answer_whatever_the_input_crs(random_layers):
    a, b = random_layers
    ref = overlap(a, b)
    for crs_a, crs_b in [("EPSG:4490", "EPSG:4553"), ("EPSG:4326", "EPSG:32652"),
                         ("EPSG:3857", "EPSG:4490")]:
        t = overlap(a.to_crs(crs_a), b.to_crs(crs_b))
        assert t[["a_id", "b_id"]].equals(ref[["a_id", "b_id"]])
        np.testing.assert_allclose(t.overlap_ha, ref.overlap_ha, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(t.share_of_a_pct, ref.share_of_a_pct, rtol=1e-4, atol=1e-6)


def test_geographic_inputs_never_use_planar_degrees(two_squares, monkeypatch):
    a, b = (g.to_crs("EPSG:4490") for g in two_squares)

    def no_planar(self):
        raise AssertionError("planar .area used")

    monkeypatch.setattr(gpd.GeoSeries, "area", property(no_planar))
    monkeypatch.setattr(gpd.GeoDataFrame, "area", property(no_planar))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # also geopandas' "geographic CRS" UserWarning
        t = overlap(a, b)
    assert t.overlap_ha.iloc[0] == pytest.approx(25, rel=1e-4)
    monkeypatch.undo()
    # the planar area of the degree square, in "ha", is what a planar-degrees bug returns
    degrees_ha = a.geometry.iloc[0].intersection(b.geometry.iloc[0]).area / 1e4
    assert degrees_ha < 1e-3 and abs(t.overlap_ha.iloc[0] - degrees_ha) > 24


def test_missing_crs_is_refused(two_squares):
    a, b = two_squares
    with pytest.raises(CRSError, match="set_crs"):
        overlap(a.set_crs(None, allow_override=True), b)
    with pytest.raises(CRSError, match="b \\(GeoDataFrame\\)"):
        overlap(a, gpd.GeoDataFrame(b.drop(columns="geometry"), geometry=list(b.geometry)))


def test_invalid_polygon_reported_with_reason_unless_make_valid(two_squares):
    a, _ = two_squares
    bowtie = Polygon([(X0, Y0), (X0 + KM, Y0 + KM), (X0 + KM, Y0), (X0, Y0 + KM)])
    b = gdf([bowtie], ["bad"])
    with pytest.raises(InvalidGeometryError, match=r"id='bad': Self-intersection\[500500 5000500\]"):
        overlap(a, b)
    t = overlap(a, b, make_valid=True)
    assert t.overlap_ha.iloc[0] == pytest.approx(50, rel=1e-5)  # the two triangles


def test_empty_layer_is_an_error(two_squares):
    a, b = two_squares
    with pytest.raises(InputError, match="no features"):
        overlap(a, b.iloc[:0])


def test_mixed_geometry_types_error_names_the_fix(two_squares):
    a, _ = two_squares
    b = gdf([sq(0, 0), Point(X0, Y0)], ["p", "q"])
    with pytest.raises(InvalidGeometryError, match=r"mixed geometry types.*geom_type\.isin"):
        overlap(a, b)
    with pytest.raises(InvalidGeometryError, match="buffer"):
        overlap(a, gdf([Point(X0, Y0)], ["p"]))


def test_slivers_reported_separately():
    a = gdf([sq(0, 0)], ["A"])
    b = gdf([sq(1000, 0), box(X0 + 990, Y0, X0 + 1010, Y0 + 2), sq(900, 0)],  # touch, 20 m², 10 ha
            ["touch", "tiny", "real"])
    main, sl = overlap(a, b, return_slivers=True)
    assert main.b_id.tolist() == ["real"]
    assert sl.b_id.tolist() == ["touch", "tiny"]
    assert sl.overlap_ha.tolist() == pytest.approx([0, 0.002], abs=1e-6)
    assert main.attrs["overlap"]["n_slivers"] == 2
    assert list(sl.columns) == list(main.columns)
    # a lower tolerance keeps the tiny overlap, never the mere touch
    assert overlap(a, b, tolerance_ha=0.001).b_id.tolist() == ["tiny", "real"]
    assert overlap(a, b, tolerance_ha=0).b_id.tolist() == ["tiny", "real"]
    # results concatenate (attrs hold no DataFrames)
    pd.concat([main, sl])


def test_bad_options(two_squares):
    with pytest.raises(InputError, match=r"units must be one of .*'acre'"):
        overlap(*two_squares, units="acre")
    with pytest.raises(InputError, match="tolerance_ha must be a number ≥ 0"):
        overlap(*two_squares, tolerance_ha=-1)
    with pytest.raises(InputError, match="bundled layer name"):
        overlap(42, two_squares[1])


def test_candidate_pairs_come_from_the_strtree(monkeypatch):
    # 40 squares in a row against 40 shifted ones: only neighbours are intersected
    a = gdf([sq(2000 * i, 0) for i in range(40)])
    b = gdf([sq(2000 * i + 500, 0) for i in range(40)])
    calls = []
    real = shapely.intersection

    def spy(x, y, *args, **kw):
        calls.append(np.size(x))
        return real(x, y, *args, **kw)

    monkeypatch.setattr(shapely, "intersection", spy)
    t = overlap(a, b)
    # each neighbour pair intersected once (40), plus cutting each b square into its 5 km
    # tiles once (at most 4 tiles per square); not all 1600 pairs
    assert len(t) == 40 and 40 <= sum(calls) <= 40 + 4 * 40


# --------------------------------------------------------------------------- bundled layers


def test_bundled_layers_invariants():
    t, sl = overlap("corridors", "protected_areas", return_slivers=True)
    pa = load_layer("protected_areas")
    assert set(t.b_id) <= set(pa.id)
    assert t.share_of_a_pct.between(0, 100).all() and t.share_of_b_pct.between(0, 100).all()
    # the feature areas agree with the catalogue's geodesic area_ha column
    stored = pa.set_index("id").area_ha
    np.testing.assert_allclose(t.b_ha, stored[t.b_id].to_numpy(), rtol=1e-5)
    # the 七虎林 reserve is a river band along the 七虎林河: inside its corridor
    r = t[(t.a_id == "corridor-qihulin") & (t.b_id == "pa-qihulin")].iloc[0]
    assert r.share_of_b_pct > 99


# --------------------------------------------------------------------------- overlap_matrix


@pytest.fixture
def three_layers():
    return {
        "x": gdf([sq(0, 0), sq(3000, 0)], ["x1", "x2"]),
        "y": gdf([sq(500, 0), sq(3500, 0)], [1, 2], key="code"),
        "z": gdf([sq(0, 500)], ["z1"]),
    }


def test_overlap_matrix_long(three_layers):
    m = overlap_matrix(three_layers, key={"y": "code"})
    assert list(m.columns) == ["a_layer", "a_key", "b_layer", "b_key", "a_name_zh", "b_name_zh",
                               "overlap_ha", "share_of_a_pct", "share_of_b_pct", "a_ha", "b_ha"]
    pairs = list(zip(m.a_layer, m.a_key, m.b_layer, m.b_key))
    assert pairs == [("x", "x1", "y", 1), ("x", "x2", "y", 2), ("x", "x1", "z", "z1"),
                     ("y", 1, "z", "z1")]
    assert m.overlap_ha.tolist() == pytest.approx([50, 50, 50, 25], rel=1e-5)
    # each block equals overlap() of that pair
    t = overlap(three_layers["x"], three_layers["y"], b_key="code")
    np.testing.assert_allclose(m.overlap_ha[:2], t.overlap_ha)


def test_overlap_matrix_wide(three_layers):
    w = overlap_matrix(three_layers, key={"y": "code"}, form="wide")
    labels = ["x:x1", "x:x2", "y:1", "y:2", "z:z1"]
    assert list(w.index) == labels and list(w.columns) == labels
    v = w.to_numpy()
    np.testing.assert_array_equal(np.isnan(v), np.isnan(v.T))
    np.testing.assert_allclose(np.nan_to_num(v), np.nan_to_num(v.T))  # symmetric
    assert np.diag(v) == pytest.approx([100, 100, 100, 100, 100], rel=1e-5)  # own areas
    assert np.isnan(w.loc["x:x1", "x:x2"]) and np.isnan(w.loc["y:1", "y:2"])  # same layer
    assert w.loc["x:x1", "y:1"] == pytest.approx(50, rel=1e-5)
    assert w.loc["x:x2", "y:1"] == 0
    assert w.loc["z:z1", "y:1"] == pytest.approx(25, rel=1e-5)


def test_overlap_matrix_checks(three_layers):
    with pytest.raises(InputError, match="at least two layers"):
        overlap_matrix({"x": three_layers["x"]})
    with pytest.raises(InputError, match="form must be one of"):
        overlap_matrix(three_layers, key={"y": "code"}, form="square")
    with pytest.raises(InputError, match="name the GeoDataFrames with a dict"):
        overlap_matrix([three_layers["x"], three_layers["z"]])
    with pytest.raises(InputError, match="repeated: \\['corridors'\\]"):
        overlap_matrix(["corridors", "corridors"])


def test_overlap_matrix_bundled_pattern():
    m = overlap_matrix(["lake", "barriers", "corridors", "protected_areas"])
    assert (m.overlap_ha > 0).all()
    assert m.share_of_a_pct.between(0, 100).all() and m.share_of_b_pct.between(0, 100).all()
    # 兴凯湖 reserve appears in both 'lake' and 'protected_areas': identical polygons
    r = m[(m.a_key == "pa-xingkaihu") & (m.b_key == "pa-xingkaihu")].iloc[0]
    assert r.share_of_a_pct == pytest.approx(100) and r.share_of_b_pct == pytest.approx(100)


# --------------------------------------------------------------------------- share_split


def test_share_split_known_answer_with_unclassified():
    zones = gdf([sq(0, 0), sq(2000, 0)], ["Z1", "Z2"], name_zh=["一", "二"])
    lu = gdf([sq(0, 0, 500), sq(500, 0, 500), sq(2000, 0, 1000)], [0, 1, 2], key="fid",
             code=["R21", "G1", "R22"])
    s = share_split(zones, lu, zone_key="id", class_key="code")
    assert list(s.columns) == ["zone", "zone_name_zh", "class", "area_ha", "share_pct", "zone_area_ha"]
    assert list(zip(s.zone, s["class"])) == [("Z1", "G1"), ("Z1", "R21"), ("Z1", UNCLASSIFIED),
                                             ("Z2", "R22"), ("Z2", UNCLASSIFIED)]
    assert s.share_pct.tolist() == pytest.approx([25, 25, 50, 100, 0], abs=1e-6)
    assert s.groupby("zone").share_pct.sum().tolist() == pytest.approx([100, 100])
    assert s.area_ha.iloc[0] == pytest.approx(25, rel=1e-5)

    major = share_split(zones, lu, zone_key="id", class_key="code", level="major")
    assert list(zip(major.zone, major["class"], major.share_pct.round(6))) == [
        ("Z1", "G", 25), ("Z1", "R", 25), ("Z1", UNCLASSIFIED, 50), ("Z2", "R", 100),
        ("Z2", UNCLASSIFIED, 0)]


def test_share_split_dissolves_each_class_first():
    zones = gdf([sq(0, 0)], ["Z"])
    # two R features overlapping each other by 0.25 km²: R covers 0.75 km², not 1.0
    lu = gdf([sq(0, 0, 500), box(X0 + 250, Y0, X0 + 750, Y0 + 500)], code=["R", "R"])
    s = share_split(zones, lu, zone_key="id", class_key="code")
    assert s.set_index("class").share_pct.to_dict() == pytest.approx({"R": 37.5, UNCLASSIFIED: 62.5})


def test_share_split_overlapping_classes_go_to_first_in_sorted_order():
    zones = gdf([sq(0, 0)], ["Z"])
    # M covers the left 60 %, B covers the right 60 %: they share 20 % of the zone
    lu = gdf([box(X0, Y0, X0 + 600, Y0 + KM), box(X0 + 400, Y0, X0 + KM, Y0 + KM)], code=["M", "B"])
    with pytest.warns(JixiGeoWarning, match=r"'M' loses 20 ha"):
        s = share_split(zones, lu, zone_key="id", class_key="code")
    assert s.set_index("class").share_pct.to_dict() == pytest.approx(
        {"B": 60, "M": 40, UNCLASSIFIED: 0}, abs=1e-6)
    assert s.share_pct.sum() == pytest.approx(100)
    assert s.attrs["share_split"]["class_overlap_ha"] == pytest.approx(20, rel=1e-5)


def test_share_split_unknown_major_code():
    zones = gdf([sq(0, 0)], ["Z"])
    lu = gdf([sq(0, 0, 500), sq(500, 0, 500)], code=["R2", "X9"])
    with pytest.raises(UnknownCodeError, match=r"'X9'"):
        share_split(zones, lu, zone_key="id", class_key="code", level="major")
    with pytest.raises(InputError, match="level must be None or 'major'"):
        share_split(zones, lu, zone_key="id", class_key="code", level="minor")


def test_share_split_zone_crs_and_duplicates():
    zones = gdf([sq(0, 0, 500), sq(500, 0, 500)], ["Z", "Z"]).to_crs("EPSG:4490")
    lu = gdf([sq(0, 0)], code=["E1"]).to_crs("EPSG:32652")
    s = share_split(zones, lu, zone_key="id", class_key="code", units="km2")
    assert s["class"].tolist() == ["E1", UNCLASSIFIED]
    assert s.area_km2.iloc[0] == pytest.approx(0.5, rel=1e-4)
    assert s.share_pct.iloc[0] == pytest.approx(100, abs=1e-6)


# --------------------------------------------------------------------------- independent check


def _export_gpkg(path, a, b):
    """Both layers in one GeoPackage, EPSG:4553 (v1.3 for older GDAL command-line tools)."""
    pyogrio.write_dataframe(a.to_crs(4553)[["id", "geometry"]], path, layer="a",
                            dataset_options={"VERSION": "1.3"})
    pyogrio.write_dataframe(b.to_crs(4553)[["id", "geometry"]], path, layer="b")


_SQL = ("SELECT a.id AS a_id, b.id AS b_id, ST_Area(ST_Intersection(a.geom, b.geom)) AS planar_m2, "
        "ST_X(ST_Centroid(ST_Intersection(a.geom, b.geom))) AS cx, "
        "ST_Y(ST_Centroid(ST_Intersection(a.geom, b.geom))) AS cy "
        "FROM a, b WHERE ST_Intersects(a.geom, b.geom)")


def _compare_with_sql(sql_result: pd.DataFrame, ours: pd.DataFrame):
    """Planar 4553 (SQL) vs our geodesic areas.

    EPSG:4553 enlarges areas by the areal scale factor k² (1 on 132°E, ≈1.001 at the
    western edge of Jixi). Raw figures must agree within 0.5 %; after dividing the SQL
    area by k² at the piece's centroid (pyproj, independent of jixi_geo) within 0.1 %.
    """
    sql_result = sql_result[sql_result.planar_m2 > 100]  # slivers/touches
    merged = ours.merge(sql_result, on=["a_id", "b_id"], how="outer", indicator=True)
    assert (merged._merge == "both").all(), merged[merged._merge != "both"]
    lon, lat = pyproj.Transformer.from_crs(4553, 4490, always_xy=True).transform(
        merged.cx.to_numpy(), merged.cy.to_numpy())
    k2 = pyproj.Proj("EPSG:4553").get_factors(lon, lat).areal_scale
    np.testing.assert_allclose(merged.overlap_m2, merged.planar_m2, rtol=5e-3)
    np.testing.assert_allclose(merged.overlap_m2, merged.planar_m2 / k2, rtol=1e-3)
    return merged


def _spatialite_missing(message: str) -> bool:
    """Whether an SQL error says GDAL was built without SpatiaLite (the only reason to skip)."""
    return bool(re.search(r"no such function:\s*ST_", message, re.I))


@pytest.fixture(scope="module")
def crosscheck_layers():
    return load_layer("barriers"), pd.concat([load_layer("corridors"), load_layer("protected_areas")],
                                             ignore_index=True)


def test_against_ogr2ogr_sqlite_cli(tmp_path, crosscheck_layers):
    exe = shutil.which("ogr2ogr")
    if exe is None:
        pytest.skip("GDAL command-line tools not installed (Debian package gdal-bin; .ci/run installs it)")
    a, b = crosscheck_layers
    path = tmp_path / "pair.gpkg"
    _export_gpkg(path, a, b)
    proc = subprocess.run([exe, "-f", "CSV", "/vsistdout/", str(path), "-dialect", "SQLITE",
                           "-sql", _SQL], capture_output=True, text=True, check=False)
    if _spatialite_missing(proc.stderr):
        pytest.skip(f"ogr2ogr SQLite dialect without SpatiaLite functions: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr  # any other failure is a failure, not a skip
    sql = pd.read_csv(StringIO(proc.stdout))
    ours = overlap(a, b, units="m2")
    merged = _compare_with_sql(sql, ours)
    # 5 barrier×corridor + 7 barrier×protected-area pairs (8 before issue 16: the 曙光 placeholder moved
    # from 梨树区 in the 老爷岭 barrier to 虎林 near 迎春, outside both barriers)
    assert len(merged) == 12


def test_against_pyogrio_spatialite_sql(tmp_path, crosscheck_layers):
    a, b = crosscheck_layers
    path = tmp_path / "pair.gpkg"
    _export_gpkg(path, a, b)
    try:
        sql = pyogrio.read_dataframe(path, sql=_SQL, sql_dialect="SQLITE", read_geometry=False)
    except Exception as e:
        if not _spatialite_missing(str(e)):
            raise  # a broken export or query is a failure, not a skip
        pytest.skip(f"GDAL's SQLite dialect lacks SpatiaLite functions here: {e}")
    merged = _compare_with_sql(sql, overlap(a, b, units="m2"))
    # 5 barrier×corridor + 7 barrier×protected-area pairs (8 before issue 16: the 曙光 placeholder moved
    # from 梨树区 in the 老爷岭 barrier to 虎林 near 迎春, outside both barriers)
    assert len(merged) == 12


def test_tiled_overlap_equals_the_old_way_and_caches_the_dissolve():
    """overlap() through 5 km tiles of the zones, measuring only features in a pair, gives the
    pairs and areas of the old way (whole-zone intersections, every feature measured), including
    sites cut by tile edges, sites wholly inside a tile, and duplicate keys dissolved."""
    import importlib

    import shapely

    O = importlib.import_module("jixi_geo.overlap")
    from jixi_geo.crs import geodesic_area

    rng = np.random.default_rng(31)
    zones = load_layer("redline_zones")
    b = load_layer("boundary", crs="EPSG:4553").total_bounds
    n = 3000
    x, y = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    x[:300] = np.round(x[:300] / 5000) * 5000 - 100  # straddling tile edges
    size = rng.uniform(50, 3000, n)
    sites = gpd.GeoDataFrame({"id": np.arange(n) % 2900}, geometry=shapely.box(x, y, x + size, y + size * 0.7),
                             crs="EPSG:4553")  # ids 0..99 twice: dissolved
    tol = 0.5  # ha: some pairs are slivers at this tolerance, whatever the zones' current shape
    new, new_sl = overlap(sites, zones, return_slivers=True, tolerance_ha=tol)
    A = O._prepare(sites, key="id", arg="a", make_valid=False)
    B = O._prepare(zones, key="id", arg="b", make_valid=False)
    ia, ib, ov = O._pairs(A, B)  # the old way: whole zones, every pair intersected
    old = O._pair_table(A, B, ia, ib, ov, "ha", "a_id", "b_id")
    old_main, old_sl = O._split_slivers(old, ov, tol)
    assert len(new) > 300 and len(new_sl) > 0
    pd.testing.assert_frame_equal(new[["a_id", "b_id"]], old_main[["a_id", "b_id"]])
    pd.testing.assert_frame_equal(new_sl[["a_id", "b_id"]], old_sl[["a_id", "b_id"]])
    for col in ("overlap_ha", "a_ha", "b_ha", "share_of_a_pct", "share_of_b_pct"):
        np.testing.assert_allclose(new[col].to_numpy(float), old_main[col].to_numpy(float), rtol=1e-9, atol=1e-7,
                                   err_msg=col)  # 1e-7 ha = 0.001 m²
    # feature areas: the fast ring-by-ring measure gives geodesic_area's numbers exactly
    g = A.geoms[:500]
    np.testing.assert_array_equal(O._measure(g), geodesic_area(gpd.GeoSeries(list(g), crs="EPSG:4553"), unit="m2"))
    # the dissolve of each layer is cached: a second call does not dissolve again
    calls = []
    real = O.dissolve_by_key
    O.dissolve_by_key = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        again = overlap(sites, zones, tolerance_ha=tol)
        moved = sites.copy()
        moved["geometry"] = moved.geometry.translate(10, 0)
        overlap(moved, zones, tolerance_ha=tol)  # changed content: dissolved again
    finally:
        O.dissolve_by_key = real
    assert calls == [1]
    pd.testing.assert_frame_equal(again, new)
