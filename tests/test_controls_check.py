"""check_sites with control layers (永久基本农田, 城镇开发边界, 水源保护区, 地类图斑): known answers.

Every layer is built in EPSG:4553 from boxes, so each expected area is known by
construction; expected areas are cross-checked two independent ways: the planar
area in EPSG:4553 (shapely) and the geodesic area of the lon/lat polygon on the
GRS80 ellipsoid (pyproj.Geod), which the CGCS2000 ellipsoid equals to 1e-10.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely import box

from jixi_geo import vocab
from jixi_geo.controls.occupy import prepare_control
from jixi_geo.controls.layers import ControlLayer
from jixi_geo.controls.rules import line_rule
from jixi_geo.layers import load_layer
from jixi_geo.redline import check_sites, check_sites_detail
from jixi_geo.rules import VERDICT_RANK

GEOD = pyproj.Geod(ellps="GRS80")
TO_LL = pyproj.Transformer.from_crs(4553, 4490, always_xy=True)
#: A place in Jixi more than 3 km from every bundled zone (131.36 E, 45.45 N; 50 km west of the
#: central meridian, where planar and ellipsoidal areas differ by ~6e-5).
X0, Y0 = 450_000.0, 5_035_000.0


def geod_m2(g4553) -> float:
    """Area (m²) of an EPSG:4553 polygon, geodesic on GRS80, computed from its lon/lat vertices."""
    ll = shapely.transform(shapely.segmentize(g4553, 10.0), lambda xy: np.column_stack(TO_LL.transform(*xy.T)))
    return abs(GEOD.geometry_area_perimeter(ll)[0])


def geod_len(g4553) -> float:
    ll = shapely.transform(shapely.segmentize(g4553, 10.0), lambda xy: np.column_stack(TO_LL.transform(*xy.T)))
    return GEOD.geometry_length(ll)


def sites(geoms, activity="industry", ids=None):
    ids = ids or [f"s{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"site_id": ids, "activity": activity}, geometry=list(geoms), crs=4553).to_crs(4490)


def layer(geoms, *, level=None, codes=None, known=None, black=None):
    n = len(geoms)
    cols = {"control_id": [f"c{i}" for i in range(n)], "name": "", "level": level or [""] * n}
    if codes is not None:
        cols["class_code"] = codes
        cols["class_known"] = known if known is not None else [True] * n
        if black is not None:
            cols["black_soil"] = black
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=4553).to_crs(4490)


def close(a, b, rel=1e-3):
    return abs(a - b) <= rel * abs(b)


SITE = box(X0, Y0, X0 + 200, Y0 + 200)  # 4 ha


def test_half_on_farmland_gets_the_farmland_verdict_and_half_its_area():
    farm = layer([box(X0 - 300, Y0 - 300, X0 + 100, Y0 + 500)])  # covers the west half of the site
    s = sites([SITE])
    r = check_sites(s, controls={"permanent_farmland": farm}).iloc[0]
    half = box(X0, Y0, X0 + 100, Y0 + 200)
    assert close(r["farmland_ha"], half.area / 1e4) and close(r["farmland_ha"], geod_m2(half) / 1e4)
    assert r["farmland_pct"] == pytest.approx(50.0, abs=0.05)
    assert r["farmland_relation"] == "partly" and r["farmland_level"] == ""
    assert r["eco_verdict"] == "clear"
    assert r["farmland_verdict"] == "prohibited" and r["verdict"] == "prohibited"
    assert r["farmland_rule_id"] == line_rule("permanent_farmland", level="", relation="partly",
                                              activity="industry")["rule_id"]
    assert "永久基本农田" in r["reasons"] and "Permanent basic farmland" in r["reasons"]
    d = check_sites_detail(s, controls={"permanent_farmland": farm})
    occ = d[d["relation"] == "occupies"]
    assert list(occ["role"]) == ["permanent_farmland"]
    assert close(occ["overlap_ha"].iloc[0], geod_m2(half) / 1e4)
    assert occ["overlap_mu"].iloc[0] == pytest.approx(occ["overlap_ha"].iloc[0] * 15)
    assert occ["verdict"].iloc[0] == "prohibited"


def test_land_classes_add_up_to_the_site_with_overlaps_counted_once():
    # paddy (black soil) over x 0..80, forest x 60..140 overlapping the paddy by 20 m (paddy is first:
    # it wins), dryland x 140..180, an unknown code x 180..190, nothing over x 190..200
    lc = layer([box(X0 - 50, Y0 - 50, X0 + 80, Y0 + 250), box(X0 + 60, Y0 - 50, X0 + 140, Y0 + 250),
                box(X0 + 140, Y0 - 50, X0 + 180, Y0 + 250), box(X0 + 180, Y0 - 50, X0 + 190, Y0 + 250)],
               codes=["0101", "0301", "0103", "9999"], known=[True, True, True, False],
               black=[True, False, False, False])
    s = sites([SITE])
    r = check_sites(s, controls={"landcover": lc})
    row = r.iloc[0]
    strip = lambda a, b: box(X0 + a, Y0, X0 + b, Y0 + 200)  # noqa: E731
    paddy, forest, dry, unknown_uncovered = (geod_m2(strip(0, 80)), geod_m2(strip(80, 140)),
                                             geod_m2(strip(140, 180)), geod_m2(strip(180, 200)))
    assert close(row["paddy_ha"], paddy / 1e4) and close(row["paddy_ha"], strip(0, 80).area / 1e4)
    assert close(row["dryland_ha"], dry / 1e4)
    assert row["irrigated_ha"] == 0
    assert close(row["cultivated_ha"], (paddy + dry) / 1e4)
    assert close(row["black_soil_ha"], paddy / 1e4)
    assert close(row["unclassified_ha"], unknown_uncovered / 1e4)
    site_ha = geod_m2(SITE) / 1e4
    d = check_sites_detail(s, controls={"landcover": lc})
    lcr = d[d["role"] == "landcover"]
    assert sorted(lcr["land_class_code"]) == ["", "0101", "0103", "0301"]
    assert lcr["overlap_ha"].sum() == pytest.approx(site_ha, rel=1e-6)
    forest_row = lcr[lcr["land_class_code"] == "0301"].iloc[0]
    assert close(forest_row["overlap_ha"], forest / 1e4)  # not 80 m wide: the overlap went to the paddy
    assert forest_row["land_group"] == "forest" and forest_row["land_class_zh"]
    un = lcr[lcr["land_class_code"] == ""].iloc[0]
    assert un["land_class_zh"] == "未分类" and un["land_class_en"] == "unclassified"
    meta = r.attrs["controls"][0]
    assert meta["role"] == "landcover" and meta["features"] == 4
    assert close(meta["overlap_ha"], 20 * 300 / 1e4, rel=1e-3)  # the layer's own overlap, counted once
    assert not r["controls_synthetic"].any()


def test_water_levels_that_overlap_count_at_the_strictest_level_only():
    first = box(X0 - 100, Y0 - 100, X0 + 120, Y0 + 300)
    second = box(X0 + 80, Y0 - 100, X0 + 160, Y0 + 300)  # overlaps the first grade over x 80..120
    water = layer([second, first], level=["second", "first"])  # the second grade first in layer order
    s = sites([SITE], activity="industry")
    r = check_sites(s, controls={"water_source": water}).iloc[0]
    assert r["water_level"] == "first" and r["water_relation"] == "partly"
    assert close(r["water_ha"], geod_m2(box(X0, Y0, X0 + 160, Y0 + 200)) / 1e4)
    assert r["water_verdict"] == "prohibited" and r["verdict"] == "prohibited"
    d = check_sites_detail(s, controls={"water_source": water})
    w = d[d["role"] == "water_source"].set_index("level")
    assert close(w.loc["first", "overlap_ha"], geod_m2(box(X0, Y0, X0 + 120, Y0 + 200)) / 1e4)
    assert close(w.loc["second", "overlap_ha"], geod_m2(box(X0 + 120, Y0, X0 + 160, Y0 + 200)) / 1e4)


def _general_space_point():
    z = load_layer("redline_zones").to_crs(4553)
    ges = z[z["control_level"] == "general_ecological_space"]
    others = z[z["control_level"] != "general_ecological_space"].union_all().buffer(2000)
    for g in ges.geometry:
        inner = g.buffer(-2000).difference(others)
        if not inner.is_empty:
            return inner.representative_point()
    raise AssertionError("no general ecological space clear of other zones")


@pytest.mark.parametrize("activity", ["research", "housing"])
def test_inside_urban_boundary_in_general_ecological_space_reads_as_the_rules_intend(activity):
    p = _general_space_point()
    site = box(p.x - 50, p.y - 50, p.x + 50, p.y + 50)
    urban = layer([p.buffer(1000)])
    r = check_sites(sites([site], activity=activity), controls={"urban_boundary": urban}).iloc[0]
    assert r["control_level"] == "general_ecological_space"
    assert r["urban_relation"] == "inside" and r["urban_pct"] == pytest.approx(100)
    expected_urban = line_rule("urban_boundary", level="", relation="inside", activity=activity)["verdict"]
    assert r["urban_verdict"] == expected_urban and expected_urban in ("clear", "conditional")
    if activity == "research":  # allowed in general ecological space: attention, labelled as such
        assert r["eco_verdict"] == "attention"
        assert vocab.result_label(r["eco_verdict"], r["control_level"]) == "一般生态空间内·活动允许"
    else:
        assert r["eco_verdict"] == "conditional"
    strictest = min((r["eco_verdict"], r["urban_verdict"]), key=VERDICT_RANK.get)
    assert r["verdict"] == strictest


def test_one_rule_per_role():
    far = box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)
    # first-grade water + industry: prohibited
    water = layer([box(X0 - 100, Y0 - 100, X0 + 300, Y0 + 300)], level=["first"])
    r = check_sites(sites([SITE], "industry"), controls={"water_source": water}).iloc[0]
    assert (r["water_relation"], r["water_level"], r["water_verdict"]) == ("inside", "first", "prohibited")
    # outside the urban boundary + housing: restricted
    r = check_sites(sites([SITE], "housing"), controls={"urban_boundary": layer([far])}).iloc[0]
    assert (r["urban_relation"], r["urban_verdict"], r["verdict"]) == ("outside", "restricted", "restricted")
    # farmland + road: restricted, State Council approval named in the reason
    farm = layer([box(X0 - 100, Y0 - 100, X0 + 300, Y0 + 300)])
    r = check_sites(sites([SITE], "road"), controls={"permanent_farmland": farm}).iloc[0]
    assert (r["farmland_relation"], r["farmland_verdict"]) == ("inside", "restricted")
    assert "国务院" in r["reasons"]


def test_lines_and_points():
    farm = layer([box(X0 - 300, Y0 - 300, X0 + 100, Y0 + 500)])
    line = shapely.LineString([(X0 - 200, Y0), (X0 + 300, Y0 + 100)])
    inside_pt, outside_pt = shapely.Point(X0, Y0), shapely.Point(X0 + 400, Y0)
    lc = layer([box(X0 - 300, Y0 - 300, X0 + 100, Y0 + 500)], codes=["0101"])
    s = sites([line, inside_pt, outside_pt], activity="road")
    r = check_sites(s, controls={"permanent_farmland": farm, "landcover": lc})
    cut = shapely.intersection(line, box(X0 - 300, Y0 - 300, X0 + 100, Y0 + 500))
    assert r["farmland_pct"].iloc[0] == pytest.approx(100 * geod_len(cut) / geod_len(line), abs=0.01)
    assert r["farmland_pct"].iloc[0] == pytest.approx(100 * cut.length / line.length, abs=0.01)
    assert list(r["farmland_relation"]) == ["partly", "inside", "outside"]
    assert r["farmland_ha"].isna().all()
    assert list(r["farmland_pct"].iloc[1:]) == [100.0, 0.0]
    assert r[["paddy_ha", "unclassified_ha", "cultivated_ha"]].isna().all().all()  # polygons only
    d = check_sites_detail(s, controls={"permanent_farmland": farm})
    f = d[d["role"] == "permanent_farmland"].set_index("site_id")
    assert list(f.index) == ["s0", "s1"]
    assert f.loc["s0", "overlap_m"] == pytest.approx(geod_len(cut), rel=1e-5)


def test_overall_verdict_is_the_strictest_and_outside_jixi_stays():
    reserve = load_layer("redline_zones").to_crs(4553)
    reserve = reserve[reserve["control_level"] == "nature_reserve"].geometry.iloc[0]
    p = reserve.representative_point()
    in_reserve = box(p.x, p.y, p.x + 100, p.y + 100)
    abroad = box(350_000, 5_030_000, 350_100, 5_030_100)  # ~130.08 E: outside Jixi, near it
    water = layer([SITE.buffer(10), abroad.buffer(10)], level=["first", "first"])
    s = sites([in_reserve, SITE, abroad], activity="industry")
    r = check_sites(s, controls={"water_source": water})
    assert list(r["eco_verdict"]) == ["prohibited", "clear", "outside_jixi"]
    assert list(r["water_verdict"]) == ["clear", "prohibited", "prohibited"]
    assert list(r["verdict"]) == ["prohibited", "prohibited", "outside_jixi"]


def test_results_without_controls_are_unchanged():
    s = sites([SITE, box(X0 + 1000, Y0, X0 + 1100, Y0 + 100)])
    plain = check_sites(s)
    none = check_sites(s, controls=None)
    pd.testing.assert_frame_equal(plain.drop(columns="checked_at"), none.drop(columns="checked_at"))
    farm = layer([box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)])  # touches no site: verdicts unchanged
    with_c = check_sites(s, controls={"permanent_farmland": farm})
    for c in plain.columns.drop(["checked_at", "reasons"]):
        pd.testing.assert_series_equal(plain[c], with_c[c], check_names=False)
    assert all(w.startswith(str(p)) for p, w in zip(plain["reasons"], with_c["reasons"], strict=True))
    d0, d1 = check_sites_detail(s), check_sites_detail(s, controls=None)
    pd.testing.assert_frame_equal(d0, d1)
    assert "role" not in d0.columns


def _yardstick(site_gdf: gpd.GeoDataFrame, lc: gpd.GeoDataFrame) -> pd.Series:
    """Per (site, class) area (m²) the plain geopandas way: flatten by overlay difference in layer
    order, intersect by overlay, measure on GRS80 with pyproj.Geod."""
    lc = lc.to_crs(4553).reset_index(drop=True)
    kept = []
    for i in range(len(lc)):
        cur = lc.iloc[[i]]
        if kept:
            cur = gpd.overlay(cur, pd.concat(kept)[["geometry"]], how="difference")
        if len(cur) and not cur.geometry.iloc[0].is_empty:
            kept.append(cur)
    flat = pd.concat(kept, ignore_index=True)
    inter = gpd.overlay(site_gdf.to_crs(4553)[["site_id", "geometry"]], flat[["class_code", "geometry"]],
                        how="intersection", keep_geom_type=True)
    inter["m2"] = [geod_m2(g) for g in inter.geometry]
    return inter.groupby(["site_id", "class_code"])["m2"].sum()


@pytest.mark.filterwarnings("ignore:`keep_geom_type=True`:UserWarning")  # the yardstick drops edge contacts
def test_fast_and_reference_and_a_plain_overlay_agree():
    rng = np.random.default_rng(18)
    cx, cy = rng.uniform(X0, X0 + 3000, 60), rng.uniform(Y0, Y0 + 3000, 60)
    w = rng.uniform(100, 700, 60)
    lc_geoms = [box(x, y, x + a, y + a * 0.8) for x, y, a in zip(cx, cy, w, strict=True)]  # many overlap
    # every third an L (concave: its overlaps are found by GEOS, not by the convex clip)
    lc_geoms = [g.difference(box(g.bounds[0], g.bounds[1], (g.bounds[0] + g.bounds[2]) / 2,
                                 (g.bounds[1] + g.bounds[3]) / 2)) if i % 3 == 0 else g
                for i, g in enumerate(lc_geoms)]
    codes = list(rng.choice(["0101", "0102", "0103", "0301", "0401", "0601"], 60))
    lc = layer(lc_geoms, codes=codes)
    sx, sy = rng.uniform(X0, X0 + 3000, 40), rng.uniform(Y0, Y0 + 3000, 40)
    site_geoms = [shapely.Point(x, y).buffer(rng.uniform(30, 250), quad_segs=4) for x, y in zip(sx, sy, strict=True)]
    site_geoms = [g.difference(shapely.Point(g.centroid.x + 60, g.centroid.y).buffer(40)) if i % 4 == 0 else g
                  for i, g in enumerate(site_geoms)]  # some concave sites (measured by GEOS)
    s = sites(site_geoms)
    fast = check_sites_detail(s, controls={"landcover": lc})
    ref = check_sites_detail(s, controls={"landcover": lc}, method="reference")
    pd.testing.assert_frame_equal(fast, ref)
    got = fast[(fast["role"] == "landcover") & (fast["land_class_code"] != "")].groupby(
        ["site_id", "land_class_code"])["overlap_ha"].sum() * 1e4
    want = _yardstick(s, lc)
    want.index = want.index.set_names(["site_id", "land_class_code"])
    assert len(want) > 40
    assert set(got.index) == set(want[want > 1e-6].index)
    np.testing.assert_allclose(got.sort_index().to_numpy(), want[want > 1e-6].sort_index().to_numpy(), rtol=1e-5)


def test_prepared_layers_are_cached_by_content():
    lc = layer([box(X0, Y0, X0 + 100, Y0 + 100)], codes=["0101"])
    a = prepare_control(ControlLayer("landcover", lc))
    assert prepare_control(ControlLayer("landcover", lc.copy())) is a
    other = lc.assign(class_code=["0103"])
    b = prepare_control(ControlLayer("landcover", other))
    assert b is not a and list(b.pz.zones["class_code"]) == ["0103"]
    r = check_sites(sites([SITE]), controls={"landcover": other}).iloc[0]
    assert r["dryland_ha"] > 0 and r["paddy_ha"] == 0


def test_convex_clip_matches_geos():
    """The NumPy clip of convex sites (Sutherland–Hodgman) against shapely.intersection, the yardstick."""
    from jixi_geo.controls.clip import clip_area, convex_windows, eligible_subjects

    rng = np.random.default_rng(7)
    n = 3000
    c = rng.uniform(0, 800, (n, 2)) + [X0, Y0]
    pts = rng.normal(size=(n, 6, 2)) * rng.uniform(20, 300, n)[:, None, None] + c[:, None, :]
    windows = shapely.convex_hull(shapely.multipoints(pts))
    ang = np.sort(rng.uniform(0, 2 * np.pi, (n, 9)), axis=1)
    r = rng.uniform(50, 400, (n, 9))
    s = rng.uniform(0, 800, (n, 2)) + [X0, Y0]
    ring = np.stack([s[:, :1] + r * np.cos(ang), s[:, 1:] + r * np.sin(ang)], -1)
    subjects = shapely.polygons(np.concatenate([ring, ring[:, :1]], 1))  # star-shaped: mostly concave
    subjects = np.where(rng.random(n) < 0.5, subjects, shapely.reverse(subjects))  # both orientations
    ok, hull = convex_windows(windows)
    sel = ok & eligible_subjects(subjects) & shapely.is_valid(subjects)
    assert sel.sum() > 2500
    area, cx = clip_area(subjects[sel], hull[sel])
    want = shapely.intersection(subjects[sel], windows[sel])
    np.testing.assert_allclose(area, shapely.area(want), rtol=1e-9, atol=1e-6)
    some = shapely.area(want) > 1
    assert some.sum() > 500 and (shapely.area(want) == 0).sum() > 100  # both cases are exercised
    np.testing.assert_allclose(cx[some], shapely.get_x(shapely.centroid(want[some])), atol=1e-6)
    # concave sites are not windows
    concave = shapely.Polygon([(0, 0), (10, 0), (10, 10), (5, 2), (0, 10)])
    assert not convex_windows(np.array([concave]))[0][0]


def test_prepared_layers_survive_the_disk_cache():
    from jixi_geo.controls.occupy import clear_memory_cache

    lc = layer([box(X0 - 50, Y0 - 50, X0 + 80, Y0 + 250), box(X0 + 60, Y0 - 50, X0 + 300, Y0 + 250)],
               codes=["0101", "0103"])
    s = sites([SITE, shapely.Polygon([(X0, Y0), (X0 + 150, Y0), (X0 + 150, Y0 + 150), (X0 + 75, Y0 + 20),
                                      (X0, Y0 + 150)])])  # a convex and a concave site
    first = check_sites(s, controls={"landcover": lc})
    clear_memory_cache()
    again = check_sites(s, controls={"landcover": lc})
    cols = ["paddy_ha", "dryland_ha", "unclassified_ha", "cultivated_ha"]
    pd.testing.assert_frame_equal(first[cols], again[cols])
    assert again["paddy_ha"].iloc[0] == pytest.approx(geod_m2(box(X0, Y0, X0 + 80, Y0 + 200)) / 1e4, rel=1e-3)
