"""Compliance checks: verdicts follow the rule table, geometry answers are exact.

Most tests use zones built here (squares in EPSG:4553 in the middle of Jixi) so the
expected answers follow from the construction and from ``verdict_rules.csv`` read
directly, not from the engine.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely import LineString, Point, box

import jixi_geo as jg
from jixi_geo.errors import SchemaError, UnknownCodeError
from jixi_geo.redline import check_sites, check_sites_detail, validate_zones

RULES = pd.read_csv(jg.layers.layers_dir() / "rules" / "verdict_rules.csv", dtype=str, keep_default_na=False)
# EPSG:4553 origin of the test squares: 131.55E 45.42N, inside 密山市 (well inside Jixi)
X0, Y0 = (round(v) for v in pyproj.Transformer.from_crs(4490, 4553, always_xy=True).transform(131.55, 45.42))
GEOD = pyproj.CRS.from_epsg(4490).get_geod()


def expected(level, activity):
    row = RULES[(RULES.control_level == level) & (RULES.activity == activity)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.fixture(scope="module")
def zones():
    # three 2 km squares side by side, 1 km apart: NR | ERL | GES
    return gpd.GeoDataFrame({
        "id": ["z-nr", "z-erl", "z-ges"],
        "name_zh": ["测试保护区", "测试红线", "测试一般生态空间"],
        "name_en": ["test reserve", "test red line", "test general space"],
        "control_level": ["nature_reserve", "ecological_redline", "general_ecological_space"],
    }, geometry=[box(X0, Y0, X0 + 2000, Y0 + 2000), box(X0 + 3000, Y0, X0 + 5000, Y0 + 2000),
                 box(X0 + 6000, Y0, X0 + 8000, Y0 + 2000)], crs="EPSG:4553")


def sites_gdf(geoms, **cols):
    return gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(len(geoms))], **cols}, geometry=geoms,
                            crs="EPSG:4553")


@pytest.mark.parametrize("activity", ["wind_farm", "ecological_restoration", "industry", "patrol_monitoring",
                                      "road", "tourism", "unspecified"])
def test_each_level_gives_the_rule_tables_verdict(zones, activity):
    pts = [Point(X0 + 1000, Y0 + 1000), Point(X0 + 4000, Y0 + 1000), Point(X0 + 7000, Y0 + 1000)]
    r = check_sites(sites_gdf(pts), activity=None if activity == "unspecified" else activity, zones=zones)
    for lvl, (_, row) in zip(["nature_reserve", "ecological_redline", "general_ecological_space"], r.iterrows()):
        e = expected(lvl, activity)
        assert row["verdict"] == e["verdict"]
        assert row["rule_id"] == e["rule_id"]
        assert row["basis"] == e["basis"]
        assert row["control_level"] == lvl
        assert row["distance_m"] == 0 and row["overlap_pct"] == 100
        assert e["rule_zh"] in row["reasons"] and e["rule_en"] in row["reasons"]
    if activity == "unspecified":
        assert (r["activity"] == "unspecified").all()
        assert r["reasons"].str.contains("strictest reading").all()


def test_wind_farm_prohibited_but_restoration_allowed_in_the_red_line(zones):
    s = sites_gdf([Point(X0 + 4000, Y0 + 1000)] * 2, activity=["风电场", "生态修复"])
    r = check_sites(s, zones=zones)
    assert list(r["verdict"]) == ["prohibited", "restricted"]
    assert list(r["activity"]) == ["wind_farm", "ecological_restoration"]
    assert "142" in r["basis"].iloc[1]


def test_near_clear_and_outside(zones):
    pts = [Point(X0 - 600, Y0 + 1000),      # 600 m west of the reserve
           Point(X0 - 5000, Y0 + 1000),     # 5 km away
           Point(132.82, 44.60)]            # Spassk-Dalny, Russia (given in lon/lat below)
    s = sites_gdf(pts[:2])
    ru = gpd.GeoDataFrame({"site_id": ["s2"]}, geometry=[pts[2]], crs="EPSG:4490").to_crs(4553)
    s = pd.concat([s, ru], ignore_index=True)
    r = check_sites(s, zones=zones, buffer_m=1000)
    assert list(r["verdict"]) == ["attention", "clear", "outside_jixi"]
    assert r["distance_m"].iloc[0] == pytest.approx(600, abs=0.5)
    assert r["nearest_zone_id"].iloc[0] == "z-nr"
    assert np.isnan(r["distance_m"].iloc[1]) or r["distance_m"].iloc[1] > 1000
    r2 = check_sites(s.iloc[:1], zones=zones, buffer_m=500)
    assert r2["verdict"].iloc[0] == "clear"


def test_polygon_overlap_area_and_share_are_exact(zones):
    # a 1 km square, half inside the red-line square
    site = box(X0 + 2500, Y0 + 500, X0 + 3500, Y0 + 1500)
    r = check_sites(sites_gdf([site]), activity="industry", zones=zones)
    assert r["overlap_pct"].iloc[0] == pytest.approx(50, abs=1e-6)
    inter = gpd.GeoSeries([box(X0 + 3000, Y0 + 500, X0 + 3500, Y0 + 1500)], crs=4553).to_crs(4490).iloc[0]
    geodesic_ha = abs(GEOD.geometry_area_perimeter(inter)[0]) / 1e4
    assert r["overlap_ha"].iloc[0] == pytest.approx(geodesic_ha, rel=1e-5)
    assert r["verdict"].iloc[0] == expected("ecological_redline", "industry")["verdict"]


def test_strictest_zone_decides_and_all_zones_are_listed(zones):
    site = box(X0 + 1500, Y0 + 500, X0 + 3500, Y0 + 1500)  # across NR and ERL
    r = check_sites(sites_gdf([site]), activity="tourism", zones=zones)
    nr, erl = expected("nature_reserve", "tourism"), expected("ecological_redline", "tourism")
    order = ["prohibited", "restricted", "conditional", "attention"]
    assert r["verdict"].iloc[0] == min([nr["verdict"], erl["verdict"]], key=order.index)
    assert r["zone_ids"].iloc[0] == "z-nr; z-erl"
    assert r["overlap_pct"].iloc[0] == pytest.approx(50, abs=1e-6)  # 0.5 + 0.5 of 2.0 km²


def test_line_length_inside(zones):
    road = LineString([(X0 - 1000, Y0 + 1000), (X0 + 9000, Y0 + 1000)])  # crosses all three squares
    r = check_sites(sites_gdf([road]), activity="road", zones=zones)
    assert r["overlap_m"].iloc[0] == pytest.approx(6000, rel=2e-4)  # GK scale at the CM is ~1
    assert r["overlap_pct"].iloc[0] == pytest.approx(60, rel=2e-4)
    assert np.isnan(r["overlap_ha"].iloc[0])
    d = check_sites_detail(sites_gdf([road]), activity="road", zones=zones)
    assert list(d["zone_id"]) == ["z-nr", "z-erl", "z-ges"]  # sorted by the zones' order in the layer
    assert list(d["relation"]) == ["inside"] * 3
    np.testing.assert_allclose(d["overlap_m"], [2000, 2000, 2000], rtol=2e-4)  # each square is 2 km wide


def test_sliver_below_tolerance_is_not_a_hit(zones):
    sliver = box(X0 + 1999.9, Y0 + 500, X0 + 2400, Y0 + 1500)  # 0.01 ha inside the reserve
    r = check_sites(sites_gdf([sliver]), activity="industry", zones=zones, tolerance_ha=0.05)
    assert r["verdict"].iloc[0] == "attention" and r["distance_m"].iloc[0] == 0
    r2 = check_sites(sites_gdf([sliver]), activity="industry", zones=zones, tolerance_ha=0.001)
    assert r2["verdict"].iloc[0] == expected("nature_reserve", "industry")["verdict"]


def test_input_order_and_attributes_kept(zones):
    s = sites_gdf([Point(X0 + 7000, Y0 + 1000), Point(X0 + 1000, Y0 + 1000)], owner=["甲", "乙"])
    s["site_id"] = ["z9", "a1"]
    r = check_sites(s, activity="housing", zones=zones)
    assert list(r["site_id"]) == ["z9", "a1"] and list(r["owner"]) == ["甲", "乙"]
    assert r.crs.to_epsg() == 4490


def test_audit_stamp(zones):
    r = check_sites(sites_gdf([Point(X0, Y0)]), zones=zones)
    assert r["jixi_geo_version"].iloc[0] == jg.__version__
    assert len(r["zones_sha256"].iloc[0]) == 64
    assert r["rules_version"].iloc[0] == (jg.layers.layers_dir() / "rules" / "rules_version.txt").read_text().strip()
    moved = zones.copy()
    moved["geometry"] = moved.translate(1.0)
    assert check_sites(sites_gdf([Point(X0, Y0)]), zones=moved)["zones_sha256"].iloc[0] != r["zones_sha256"].iloc[0]


def test_unknown_activity_is_refused_with_the_list(zones):
    with pytest.raises(UnknownCodeError, match="wind_farm"):
        check_sites(sites_gdf([Point(X0, Y0)]), activity="spaceport", zones=zones)


def test_user_zones_are_validated():
    bad = gpd.GeoDataFrame({"id": [1, 1], "control_level": ["red", "nature_reserve"]},
                           geometry=[Point(0, 0), box(0, 0, 1, 1)])
    with pytest.raises(SchemaError) as exc:
        validate_zones(bad)
    msg = str(exc.value)
    for part in ("name_zh", "no CRS", "red", "duplicate ids", "non-polygon"):
        assert part in msg


def test_bundled_zones_sample_verdicts():
    # places whose answers follow from the published facts: the lake reserve covers the
    # north-shore plain; Russia is outside; the city centre is in no zone
    s = gpd.GeoDataFrame({"site_id": ["lake", "russia"]}, geometry=[Point(132.45, 45.43), Point(132.82, 44.60)],
                         crs="EPSG:4490")
    r = check_sites(s, activity="wind_farm")
    assert list(r["verdict"]) == ["prohibited", "outside_jixi"]
    assert "兴凯湖" in r["zones_hit"].iloc[0]


def test_same_site_in_four_coordinate_forms_gives_the_same_answer(tmp_path):
    """EPSG:4326, EPSG:4553, a zone-prefixed GK easting file without CRS, GCJ-02 lon/lat."""
    from jixi_geo.coords import wgs84_to_gcj02

    site = box(130.90, 45.20, 130.95, 45.24)  # across the Muling corridor south of 鸡西
    base = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[site], crs="EPSG:4326")
    forms = {"4326": base, "4553": base.to_crs(4553)}
    gk = base.to_crs(4532)  # 3° zone 44 with the zone prefix on eastings
    p = tmp_path / "gk.shp"  # a Shapefile without .prj: the CRS comes from the easting prefix
    with pytest.warns(UserWarning, match="crs"):
        gk.set_crs(None, allow_override=True).to_file(p)
    assert not p.with_suffix(".prj").exists()
    lon, lat = wgs84_to_gcj02(*np.asarray(site.exterior.coords).T)
    forms["gcj02"] = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[shapely.Polygon(np.column_stack([lon, lat]))])
    results = {k: check_sites(v, activity="industry") for k, v in forms.items() if k != "gcj02"}
    results["gk_prefixed"] = check_sites(p, activity="industry")
    results["gcj02"] = check_sites(forms["gcj02"], activity="industry", coords="gcj02", crs="EPSG:4326")
    ref = results["4326"]
    assert ref["overlap_ha"].iloc[0] > 10
    for k, r in results.items():
        assert r["verdict"].iloc[0] == ref["verdict"].iloc[0], k
        assert r["zone_ids"].iloc[0] == ref["zone_ids"].iloc[0], k
        assert r["overlap_ha"].iloc[0] == pytest.approx(ref["overlap_ha"].iloc[0], rel=1e-3), k
    assert results["gk_prefixed"]["input_crs"].iloc[0] == "EPSG:4532"
    assert results["gcj02"]["converted_from"].iloc[0] == "gcj02"


ZONE_NOTE = "坐标系由带号推断为 CGCS2000 3° 带 44 (EPSG:4532)；若为北京54/西安80请用 --crs 指定"


def _prefixed_shapefile(path, site):
    gk = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[site], crs="EPSG:4326").to_crs(4532)
    with pytest.warns(UserWarning, match="crs"):
        gk.set_crs(None, allow_override=True).to_file(path)
    assert not path.with_suffix(".prj").exists()
    return path


def test_an_inferred_crs_is_recorded_in_every_output(tmp_path):
    """A Shapefile without .prj, eastings with zone prefix 44: read as CGCS2000 zone 44,
    and the result says so (column, reasons, report, CSV, GeoJSON)."""
    site = box(130.90, 45.20, 130.95, 45.24)
    inferred = check_sites(_prefixed_shapefile(tmp_path / "gk.shp", site), activity="industry")
    assert inferred["crs_from"].tolist() == ["zone prefix"]
    assert ZONE_NOTE in inferred["reasons"].iloc[0] and "Beijing 1954 or Xian 1980" in inferred["reasons"].iloc[0]
    # the same file with its CRS given: no inference, no note, the same verdict
    given = check_sites(tmp_path / "gk.shp", activity="industry", crs="EPSG:4532")
    assert given["crs_from"].tolist() == ["given"] and "带号" not in given["reasons"].iloc[0]
    assert inferred["reasons"].iloc[0].startswith(given["reasons"].iloc[0])
    declared = check_sites(gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[site], crs="EPSG:4326"),
                           activity="industry")
    assert declared["crs_from"].tolist() == ["file"] and declared["reasons"].iloc[0] == given["reasons"].iloc[0]
    paths = jg.write_report(inferred, tmp_path / "out")
    assert f'<p class="note crs">{ZONE_NOTE}' in paths["html"].read_text(encoding="utf-8")  # the report's head
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert csv["crs_from"].tolist() == ["zone prefix"] and ZONE_NOTE in csv["reasons"].iloc[0]
    assert gpd.read_file(paths["geojson"])["crs_from"].tolist() == ["zone prefix"]
    assert "带号" not in jg.write_report(given, tmp_path / "given")["html"].read_text(encoding="utf-8")


def test_assumed_lon_lat_is_recorded(tmp_path):
    src = tmp_path / "sites.csv"
    pd.DataFrame({"site_id": ["a", "b"], "lon": [132.45, 131.05], "lat": [45.43, 45.45]}).to_csv(src, index=False)
    r = check_sites(src, activity="wind_farm")
    assert r["crs_from"].tolist() == ["assumed lon/lat"] * 2
    note = "文件未注明坐标系，经纬度按 China Geodetic Coordinate System 2000 (EPSG:4490) 读取"
    assert all(note in t for t in r["reasons"]), r["reasons"].tolist()
    # the rest of each reason is the one a declared CRS gives
    declared = check_sites(gpd.GeoDataFrame({"site_id": ["a", "b"]}, geometry=[Point(132.45, 45.43),
                           Point(131.05, 45.45)], crs="EPSG:4490"), activity="wind_farm")
    assert [t.split(" 文件未注明")[0] for t in r["reasons"]] == declared["reasons"].tolist()
    with_crs = check_sites(src, activity="wind_farm", crs="EPSG:4490")
    assert with_crs["crs_from"].tolist() == ["given"] * 2 and with_crs["reasons"].tolist() == declared["reasons"].tolist()


def test_overlap_with_several_zones_is_measured_once():
    """Lines and polygons in overlapping zones: the overlap is the site's part inside the
    union of the zones it hits, measured here independently (whole zones, geodesic
    length/area with pyproj.Geod) — never more than the site itself."""
    rng = np.random.default_rng(42)
    zones = jg.load_layer("redline_zones", crs="EPSG:4553").set_index("id")
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    n = 400  # the lines and squares of test_fast_and_reference_kernels_agree, and more
    xs, ys = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    geoms = [box(x, y, x + s, y + s) for x, y, s in zip(xs[200:320], ys[200:320], rng.uniform(200, 8000, 120))]
    geoms += [LineString([(x, y), (x + dx, y + dy)]) for x, y, dx, dy in
              zip(xs[320:], ys[320:], rng.uniform(-9000, 9000, 80), rng.uniform(-9000, 9000, 80))]
    geoms += [LineString([(x, y), (x + dx, y + dy)]) for x, y, dx, dy in
              zip(xs[:200], ys[:200], rng.uniform(-9000, 9000, 200), rng.uniform(-9000, 9000, 200))]
    n = len(geoms)
    s = gpd.GeoDataFrame({"site_id": [f"o{i}" for i in range(n)]}, geometry=geoms, crs="EPSG:4553")
    r = check_sites(s, activity="road", tolerance_ha=0)
    geod = pyproj.Geod(ellps="GRS80")
    to_geo = pyproj.Transformer.from_crs(4553, 4490, always_xy=True).transform
    several = 0
    for site, (_, row) in zip(geoms, r.iterrows()):
        if not row["zone_ids"]:
            continue
        ids = row["zone_ids"].split("; ")
        several += len(ids) > 1
        part = shapely.transform(site.intersection(shapely.union_all(zones.loc[ids].geometry.values)),
                                 lambda c: np.column_stack(to_geo(c[:, 0], c[:, 1])))
        if site.geom_type == "LineString":
            want = geod.geometry_length(part)
            assert row["overlap_m"] == pytest.approx(want, rel=1e-4, abs=0.01), row["site_id"]
            whole = shapely.transform(site, lambda c: np.column_stack(to_geo(c[:, 0], c[:, 1])))
            assert row["overlap_m"] <= geod.geometry_length(whole) * (1 + 1e-6)
        else:
            want = abs(geod.geometry_area_perimeter(part)[0]) / 1e4
            assert row["overlap_ha"] == pytest.approx(want, rel=1e-4, abs=1e-4), row["site_id"]
    assert several >= 10  # the sample really has sites in several overlapping zones


def test_reasons_of_polygons_and_lines_carry_their_own_amounts():
    """Reasons are built once per distinct (template, amount, share): every site still gets the
    sentence with its own overlap and share, and the head of its own zones and rule."""
    rng = np.random.default_rng(23)
    zones = jg.load_layer("redline_zones", crs="EPSG:4553")
    # sites around zone vertices, so that many overlap partly
    verts = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(zones.geometry.values)))
    c = verts[rng.choice(len(verts), 300, replace=False)]
    size = rng.uniform(100, 3000, 300)
    polys = shapely.box(c[:200, 0] - size[:200] / 2, c[:200, 1] - size[:200] / 3, c[:200, 0] + size[:200] / 2,
                        c[:200, 1] + size[:200] / 3)
    lines = shapely.linestrings(np.stack([c[200:] - size[200:, None], c[200:] + size[200:, None] * [1, 0.5]], axis=1))
    s = gpd.GeoDataFrame({"site_id": [f"m{i}" for i in range(300)],
                          "activity": rng.choice(["wind_farm", "road", "research"], 300)},
                         geometry=np.concatenate([polys, lines]), crs="EPSG:4553")
    r = check_sites(s)
    inside = r["control_level"].astype(str) != ""
    poly, line = inside & (r.geom_type == "Polygon"), inside & (r.geom_type == "LineString")
    assert poly.sum() > 50 and line.sum() > 20 and r.loc[poly, "overlap_pct"].nunique() > 30
    for _, row in r[poly].iterrows():
        ha, pct = row["overlap_ha"], row["overlap_pct"]
        assert f"，重叠 {ha:,.2f} 公顷，占场址 {pct:.1f}%" in row["reasons"], row["site_id"]
        assert f", {ha:,.2f} ha, {pct:.1f}% of the site" in row["reasons"], row["site_id"]
    for _, row in r[line].iterrows():
        m, pct = row["overlap_m"], row["overlap_pct"]
        assert f"，区内长度 {m:,.0f} 米，占 {pct:.1f}%" in row["reasons"], row["site_id"]
        assert f", {m:,.0f} m inside, {pct:.1f}% of its length" in row["reasons"], row["site_id"]
    for _, row in r[inside].iterrows():
        first_zone = str(row["zones_hit"]).split("; ")[0]
        assert str(row["rule_zh"]) in row["reasons"] and str(row["rule"]) in row["reasons"]
        assert first_zone in row["reasons"] or any(z in row["reasons"] for z in str(row["zones_hit"]).split("; "))


def test_general_ecological_space_verdicts_the_readme_describes(zones):
    """README 'Verdicts': chemical industry is prohibited even in general ecological space
    (GES-18); a benign activity inside it is `attention`, told apart from a near-zone
    `attention` by its level, zone, overlap and rule."""
    inside = Point(X0 + 7000, Y0 + 1000)  # the middle of the GES square
    near = Point(X0 + 8500, Y0 + 1000)  # 500 m east of it, in no zone
    assert check_sites(sites_gdf([inside]), activity="chemical_industry", zones=zones)["verdict"].iloc[0] \
        == "prohibited"
    r = check_sites(sites_gdf([inside, near]), activity="research", zones=zones)
    assert r["verdict"].tolist() == ["attention", "attention"]
    assert r["rule_id"].tolist() == [expected("general_ecological_space", "research")["rule_id"], "NEAR"]
    assert r["control_level"].tolist() == ["general_ecological_space", ""]
    assert r["zones_hit"].tolist() == ["测试一般生态空间", ""]
    assert r["overlap_pct"].tolist() == [100.0, 0.0] and r["distance_m"].tolist() == [0.0, 500.0]
    assert r["reasons"].iloc[0].startswith("位于一般生态空间（测试一般生态空间）内")
    assert "Inside the general ecological space" in r["reasons"].iloc[0]
    assert r["reasons"].iloc[1].startswith("距测试一般生态空间 500 米")


def test_crs_notes_follow_each_sites_own_crs():
    """Sites read from different sources (e.g. two read_sites outputs put together) each get
    the note of their own CRS decision, and only those whose CRS was inferred."""
    from jixi_geo.assembly import with_crs_notes
    from jixi_geo.sites import crs_note

    reasons = pd.Categorical(["A", "B", "A", "A"])
    frame = pd.DataFrame({"crs_from": ["zone prefix", "zone prefix", "file", "assumed lon/lat"],
                          "input_crs": ["EPSG:4532", "EPSG:4532", "EPSG:4490", "EPSG:4490"]})
    got = list(with_crs_notes(reasons, frame))
    zone, lonlat = crs_note("zone prefix", "EPSG:4532"), crs_note("assumed lon/lat", "EPSG:4490")
    assert zone and lonlat and zone != lonlat
    assert got == [f"A {zone}", f"B {zone}", "A", f"A {lonlat}"]


def test_row_codes_never_merge_distinct_rows():
    """The (site, zone, …) grouping key: equal rows get equal codes, distinct rows never share
    one, however large the values (no float keys, no int64 wrap-around)."""
    from jixi_geo.assembly import row_codes

    assert list(row_codes([np.array([1, 2, 1]), np.array([3, 3, 3])])) == [0, 1, 0]
    # keys near 2**59: a float64 key would merge the first two rows
    assert list(row_codes([np.array([2**19, 2**19, 0]), np.array([0, 1, 2**40])])) == [0, 1, 2]
    # a radix product beyond 2**64: a mixed-radix int64 key would wrap (2**32, 5) onto (0, 5)
    assert list(row_codes([np.array([0, 2**32, 7]), np.array([5, 5, 2**32 - 1])])) == [0, 1, 2]


def test_check_sites_pauses_the_collector_and_leaves_it_as_it_was():
    """check_sites runs with Python's cyclic collector paused (it makes geometry objects, no cycles):
    afterwards the collector is enabled again, also when the check refused its input, stays disabled
    for a caller who disabled it, and a call leaves no cyclic garbage behind for it to find."""
    import gc

    import geopandas as gpd
    from shapely import Point, box

    from jixi_geo.errors import JixiGeoError

    sites = gpd.GeoDataFrame({"site_id": ["a", "b", "c"]},
                             geometry=[Point(132.45, 45.43), box(131.0, 45.4, 131.02, 45.42), Point(131.05, 45.45)],
                             crs="EPSG:4490")
    seen = []
    real = gc.disable

    check_sites(sites, activity="wind_farm")  # warm: caches filled
    assert gc.isenabled()
    gc.collect()
    gc.disable = lambda: (seen.append(True), real())[1]
    try:
        check_sites(sites, activity="wind_farm")
    finally:
        gc.disable = real
    assert seen and gc.isenabled()
    assert gc.collect() == 0  # nothing cyclic was left to collect
    with pytest.raises(JixiGeoError):
        check_sites(sites, activity="wind_farm", buffer_m=-1)
    assert gc.isenabled()
    gc.disable()
    try:
        check_sites(sites, activity="wind_farm")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_check_sites_detail_pauses_the_collector_too(monkeypatch):
    """check_sites_detail, like check_sites, runs with the cyclic collector paused (also after its
    kernel, while it builds the rows) and restores it, also after refusing its input; its
    documented signature is the undecorated one."""
    import gc
    import inspect

    import geopandas as gpd
    from shapely import Point, box

    import jixi_geo.redline as rl
    from jixi_geo.errors import JixiGeoError

    sites = gpd.GeoDataFrame({"site_id": ["a", "b"]},
                             geometry=[Point(132.45, 45.43), box(131.0, 45.4, 131.02, 45.42)], crs="EPSG:4490")
    check_sites_detail(sites, activity="wind_farm")
    seen = []
    real = rl.hit_table
    monkeypatch.setattr(rl, "hit_table", lambda *a, **k: (seen.append(gc.isenabled()), real(*a, **k))[1])
    gc.collect()
    rows = check_sites_detail(sites, activity="wind_farm")
    assert seen == [False] and gc.isenabled() and len(rows) >= 1
    assert gc.collect() == 0
    with pytest.raises(JixiGeoError):
        check_sites_detail(sites, activity="wind_farm", buffer_m=-1)
    assert gc.isenabled()
    assert "buffer_m" in inspect.signature(check_sites_detail).parameters
    assert "{read_options}" not in check_sites_detail.__doc__ and "coords" in check_sites_detail.__doc__


def _random_hits(rng, n_sites, *, shuffled):
    """One row per (site, zone), with a verdict rank and a level rank, as hit_table gives them."""
    rows = sorted({(int(s), int(z)) for s, z in zip(rng.integers(0, n_sites, 4 * n_sites),
                                                     rng.integers(0, 40, 4 * n_sites), strict=True)})
    h = pd.DataFrame(rows, columns=["site", "zone"])
    h["rank"] = rng.integers(0, 4, len(h))
    h["level_rank"] = rng.integers(1, 7, len(h))
    return h.sample(frac=1, random_state=1).reset_index(drop=True) if shuffled else h


@pytest.mark.parametrize("shuffled", [False, True])
def test_deciding_hit_and_zone_order_equal_pandas_sorting(shuffled):
    """Each site's deciding hit (least verdict rank, then level, then zone) and each site's zones in
    (level, zone) order are what pandas' sort_values gives, for hits in the kernels' (site, zone) order
    and shuffled, with integer ranks (packed keys) and with a float rank (pandas' own way)."""
    from jixi_geo._rowcodes import first_by, zone_combinations
    from jixi_geo.assembly import _Labels, _zone_columns, _ZoneLabels

    rng = np.random.default_rng(3)
    h = _random_hits(rng, 3000, shuffled=shuffled)
    for hits in (h, h.assign(level_rank=h["level_rank"].astype(float))):
        want = hits.sort_values(["site", "rank", "level_rank", "zone"]).drop_duplicates("site")
        got = hits.iloc[first_by(hits, ["rank", "level_rank", "zone"])]
        pd.testing.assert_frame_equal(got, want)
        names = np.array([f"z{i}" for i in range(40)], dtype=object)
        zl = _ZoneLabels(_Labels([""]), _Labels([""]), np.arange(1, 41), np.arange(1, 41), names, names)
        zh, _ = _zone_columns(hits, 3000, zl)
        ordered = hits.sort_values(["site", "level_rank", "zone"])
        sites, code, combos = zone_combinations(ordered["site"].to_numpy(), ordered["zone"].to_numpy())
        want_text = {int(s): "; ".join(names[list(combos[c])]) for s, c in zip(sites, code, strict=True)}
        got_text = {int(s): zl.names.labels[zh[s]] for s in range(3000) if zh[s]}
        assert got_text == want_text
        assert any("; " in t for t in got_text.values())  # sites with several zones, in an order that matters


@pytest.mark.parametrize("n", [0, 1, 5000])
def test_small_unique_equals_numpy_unique(n):
    from jixi_geo.assembly import _small_unique

    key = np.random.default_rng(n).integers(3, 40, n) * 2  # values with gaps, none at 0
    want_u, want_inv = np.unique(key, return_inverse=True)
    got_u, got_inv = _small_unique(key, 100)
    np.testing.assert_array_equal(got_u, want_u)
    np.testing.assert_array_equal(got_inv, want_inv)


@pytest.mark.parametrize("n", [0, 1, 2, 4000])
def test_first_rows_equal_numpy_unique_index(n):
    from jixi_geo._rowcodes import first_rows, row_codes

    rng = np.random.default_rng(n + 1)
    codes = row_codes([rng.integers(0, 7, n), rng.integers(0, 5, n)])
    np.testing.assert_array_equal(first_rows(codes), np.unique(codes, return_index=True)[1])


def test_packed_key_orders_as_the_rows_and_refuses_what_it_cannot_pack():
    from jixi_geo._rowcodes import packed_key

    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 50, 2000), rng.integers(0, 7, 2000).astype(np.int32)
    key = packed_key([a, b])
    np.testing.assert_array_equal(np.argsort(key, kind="stable"), np.lexsort((b, a)))
    assert (key[:, None] == key[None, :]).sum() == ((a[:, None] == a[None, :]) & (b[:, None] == b[None, :])).sum()
    assert packed_key([a.astype(float), b]) is None  # not integers
    assert packed_key([a - 1, b]) is None  # a negative value
    assert packed_key([np.array([2**40]), np.array([2**30])]) is None  # beyond 62 bits
