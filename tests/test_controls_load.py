"""load_controls: control layers by role, read and checked (issue 18, loading half).

Known answers are built by construction: squares laid out in EPSG:4553 (CGCS2000
Gauss-Kruger CM 132E, metres) near Jixi, whose areas are cross-checked on the
ellipsoid with pyproj.Geod (independent of jixi_geo's kernels). Every input file is
hashed before and after loading: loading never writes.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely

from jixi_geo.controls import Controls, load_controls
from jixi_geo.controls.read import file_sha256
from jixi_geo.controls.schema import overlap_ha
from jixi_geo.crs import ANALYSIS_CRS
from jixi_geo.errors import CRSError, InputError, SchemaError
from jixi_geo.readers import registry

X0, Y0 = 500_000.0, 5_000_000.0  # on the central meridian 132°E, about 45.1°N: inside Jixi
GEOD = pyproj.Geod(ellps="GRS80")  # the CGCS2000 ellipsoid's axes


def sq(dx_km: float, dy_km: float, w_km: float = 1.0, h_km: float = 1.0):
    return shapely.box(X0 + dx_km * 1e3, Y0 + dy_km * 1e3, X0 + (dx_km + w_km) * 1e3, Y0 + (dy_km + h_km) * 1e3)


def geod_ha(geom_4553) -> float:
    """Area (ha) on the ellipsoid of an EPSG:4553 polygon, with pyproj.Geod (densified edges)."""
    g = shapely.segmentize(geom_4553, 10.0)
    t = pyproj.Transformer.from_crs(ANALYSIS_CRS, "EPSG:4490", always_xy=True)
    g4490 = shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
    return abs(GEOD.geometry_area_perimeter(g4490)[0]) / 1e4


def frame(geoms, crs="EPSG:4553", **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


def tree_sha(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def chinese_first(msg: str) -> bool:
    """A CJK character comes early and before the English half (after ' / ')."""
    m = re.search(r"[\u4e00-\u9fff]", msg)
    cut = msg.find(" / ")
    return m is not None and m.start() < 40 and (cut < 0 or m.start() < cut)


def ha_in(finding: str, label: str) -> float:
    return float(re.search(label + r"\s*([0-9.]+) ha", finding).group(1))


# ------------------------------------------------------------------ land cover: codes


def test_numeric_codes_get_their_leading_zero_back_and_black_soil_is_read():
    lc = frame([sq(0, 0), sq(2, 0), sq(4, 0), sq(6, 0)], DLBM=[101, 102, 103, 305], HTGD=[1, 0, 1, 0])
    layer = load_controls({"landcover": lc})["landcover"]
    assert list(layer.gdf["class_code"]) == ["0101", "0102", "0103", "0305"]
    assert layer.gdf["class_known"].all()
    assert list(layer.gdf["black_soil"]) == [True, False, True, False]
    assert any("0101" in f and "数值" in f for f in layer.findings)
    assert layer.gdf.crs.to_epsg() == 4490


def test_text_codes_in_the_old_scheme_are_not_padded():
    # "011" has the GB/T 21010-2007 shape: "101" is then 铁路用地 of that scheme, not 水田
    lc = frame([sq(0, 0), sq(2, 0)], DLBM=["011", "101"])
    layer = load_controls({"landcover": lc})["landcover"]
    assert list(layer.gdf["class_code"]) == ["011", "101"]
    assert not layer.gdf["class_known"].any()
    assert any("GB/T 21010-2007" in f for f in layer.findings)


def test_names_only_layer_gets_codes_from_dlmc():
    lc = frame([sq(0, 0), sq(2, 0), sq(4, 0)], DLMC=["水浇地", "沼泽草地", "魔法地"])
    layer = load_controls({"landcover": lc})["landcover"]
    assert list(layer.gdf["class_code"]) == ["0102", "0402", "魔法地"]
    assert list(layer.gdf["class_known"]) == [True, True, False]
    assert "black_soil" not in layer.gdf.columns  # the layer does not say


def test_code_and_name_together_fill_gaps_and_report_contradictions():
    lc = frame([sq(0, 0), sq(2, 0), sq(4, 0)], DLBM=["0101", None, "0103"], DLMC=["水田", "旱地", "水田"])
    layer = load_controls({"landcover": lc})["landcover"]
    assert list(layer.gdf["class_code"]) == ["0101", "0103", "0103"]  # the code wins over a contradicting name
    assert any("1 个图斑缺地类编码" in f for f in layer.findings)
    assert any("0103≠水田" in f for f in layer.findings)


def test_zipped_shapefile_and_geoparquet_layers(tmp_path):
    g = frame([sq(0, 0), sq(2, 0)], 级别=["一级", "二级"])
    g.to_file(tmp_path / "ws.shp", encoding="utf-8")
    z = tmp_path / "ws.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(tmp_path.glob("ws.*")):
            if p != z:
                zf.write(p, p.name)
    g.to_parquet(tmp_path / "ws.parquet")
    for path in (z, tmp_path / "ws.parquet"):
        layer = load_controls({"water_source": path})["water_source"]
        assert list(layer.gdf["level"]) == ["first", "second"], path.name


def test_unknown_codes_are_listed_with_their_area():
    a = sq(0, 0, 1, 1)      # 100 ha, code 9999
    b = sq(3, 0, 2, 1)      # 200 ha, code 0199
    lc = frame([a, b, sq(6, 0)], DLBM=["9999", "0199", "0101"])
    layer = load_controls({"landcover": lc})["landcover"]
    f = next(f for f in layer.findings if "不在登记表" in f)
    assert ha_in(f, "9999") == pytest.approx(geod_ha(a), abs=0.01)
    assert ha_in(f, "0199") == pytest.approx(geod_ha(b), abs=0.01)
    assert list(layer.gdf["class_known"]) == [False, False, True]
    assert list(layer.gdf["class_code"][:2]) == ["9999", "0199"]  # kept as given


def test_overlap_finding_has_the_overlap_area_cross_checked_two_ways():
    a, b = sq(0, 0, 1, 1), sq(0.8, 0, 1, 1)  # overlap 200 m x 1000 m
    c = sq(5, 0, 1, 1)
    d = sq(6, 0, 1, 1)  # shares an edge with c: not an overlap
    lc = frame([a, b, c, d], DLBM=["0101", "0103", "0301", "0301"])
    layer = load_controls({"landcover": lc})["landcover"]
    f = next(f for f in layer.findings if "重叠" in f)
    inter = a.intersection(b)
    planar_ha = inter.area / 1e4  # k = 1 on the central meridian
    assert planar_ha == pytest.approx(20.0)
    assert float(re.search(r"重叠面积 ([0-9.]+) ha", f).group(1)) == pytest.approx(geod_ha(inter), abs=1e-3)
    assert "1 对" in f
    ha, pairs, exact = overlap_ha(np.array([a, b, c, d]))
    assert pairs == 1 and exact and ha == pytest.approx(geod_ha(inter), rel=1e-5)


def test_a_place_covered_three_times_counts_once_in_the_overlap(monkeypatch):
    from jixi_geo.controls import schema

    a, b, c = sq(0, 0), sq(0, 0), sq(0.5, 0)  # a = b; c covers the east half of both
    ha, pairs, exact = overlap_ha(np.array([a, b, c]))
    assert pairs == 3 and exact and ha == pytest.approx(geod_ha(a), rel=1e-5)
    # past the limit: the sum of the pairwise overlaps, flagged as a bound (100 + 50 + 50 ha)
    monkeypatch.setattr(schema, "EXACT_OVERLAP_MAX", 0)
    ha, pairs, exact = overlap_ha(np.array([a, b, c]))
    assert not exact and ha == pytest.approx(2 * geod_ha(a), rel=1e-5)


# ------------------------------------------------------------------ CRS and location


@pytest.mark.parametrize("epsg", [4326, 4532, 4528, 4553, 4490])  # 4528 is zone 40 (CM 120E), not Jixi's
def test_other_crs_is_reprojected_never_relabelled_with_the_same_areas(epsg):
    geoms = [sq(0, 0, 1, 1), sq(3, 2, 2, 1)]
    lc = frame(geoms, DLBM=["0101", "0103"]).to_crs(epsg)
    layer = load_controls({"landcover": lc})["landcover"]
    assert layer.crs == f"EPSG:{epsg}"
    assert (epsg != 4490) == any("重新标注" in f and f"EPSG:{epsg}" in f for f in layer.findings)
    got = [abs(GEOD.geometry_area_perimeter(g)[0]) / 1e4 for g in layer.gdf.geometry]
    assert got == pytest.approx([geod_ha(g) for g in geoms], rel=1e-6)
    x = layer.gdf.geometry.bounds["minx"].iloc[0]
    assert 131.9 < x < 132.1  # lon/lat of the central meridian, not relabelled metres


@pytest.mark.parametrize("crs", ["EPSG:4553", "EPSG:4490"])
def test_z_coordinates_are_dropped_with_a_finding(crs):
    g = frame([shapely.force_3d(sq(0, 0), 120.0)], DLBM=["0101"]).to_crs(crs)
    assert shapely.has_z(g.geometry.values).all()
    layer = load_controls({"landcover": g})["landcover"]
    assert not shapely.has_z(layer.gdf.geometry.values).any() and any("Z" in f for f in layer.findings)


def test_missing_crs_is_refused():
    lc = frame([sq(0, 0)], crs=None, DLBM=["0101"])
    with pytest.raises(CRSError) as e:
        load_controls({"landcover": lc})
    assert "坐标系" in str(e.value) and chinese_first(str(e.value))


def test_far_away_coordinates_are_refused():
    far = frame([shapely.box(116.3, 39.9, 116.4, 40.0)], crs="EPSG:4490", 级别=["一级"])  # Beijing
    with pytest.raises(CRSError) as e:
        load_controls({"water_source": far})
    assert "远离鸡西" in str(e.value) and chinese_first(str(e.value))


def test_mixed_geometry_is_refused():
    g = frame([sq(0, 0), shapely.LineString([(X0, Y0), (X0 + 10, Y0 + 10)]), shapely.Point(X0, Y0)])
    with pytest.raises(SchemaError) as e:
        load_controls({"permanent_farmland": g})
    msg = str(e.value)
    assert "混合" in msg and "LineString" in msg and "Point" in msg and chinese_first(msg)


def test_invalid_polygons_refused_with_counts_or_repaired_on_request():
    bow = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    g = frame([sq(3, 0), bow, bow])
    with pytest.raises(SchemaError) as e:
        load_controls({"urban_boundary": g})
    assert "2 个面无效" in str(e.value)
    layer = load_controls({"urban_boundary": {"gdf": g, "make_valid": True}})["urban_boundary"]
    assert layer.gdf.is_valid.all() and any("make_valid" in f for f in layer.findings)
    # the bow tie's two triangles: a quarter of the square each
    fixed_ha = abs(GEOD.geometry_area_perimeter(layer.gdf.geometry.iloc[1])[0]) / 1e4
    assert fixed_ha == pytest.approx(geod_ha(sq(0, 0)) / 2, rel=1e-4)
    flat = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0), (X0 + 2000, Y0)])  # no area at all
    with pytest.raises(SchemaError, match="不剩任何面"):
        load_controls({"urban_boundary": {"gdf": frame([sq(3, 0), flat]), "make_valid": True}})


def test_every_problem_is_reported_at_once():
    g = frame([sq(0, 0), shapely.Point(X0, Y0)], crs=None, 级别=["一级", "四级"])
    with pytest.raises(SchemaError) as e:
        load_controls({"water_source": g})
    assert len(e.value.problems) == 3  # point, unknown level, no CRS
    assert chinese_first(str(e.value))


# ------------------------------------------------------------------ water-source levels


def test_water_levels_mapped_through_data_and_unknown_refused():
    g = frame([sq(0, 0), sq(2, 0), sq(4, 0), sq(6, 0)], 保护区级别=["一级保护区", "二级", "准保护区", "first"])
    layer = load_controls({"water_source": g})["water_source"]
    assert list(layer.gdf["level"]) == ["first", "second", "quasi", "first"]
    bad = frame([sq(0, 0)], 级别=["特级"])
    with pytest.raises(SchemaError) as e:
        load_controls({"water_source": bad})
    assert "特级" in str(e.value) and "一级保护区" in str(e.value)
    with pytest.raises(SchemaError, match="级别"):
        load_controls({"water_source": frame([sq(0, 0)])})


# ------------------------------------------------------------------ inputs


def test_unknown_role_is_refused_naming_the_roles():
    with pytest.raises(InputError) as e:
        load_controls({"farmland": frame([sq(0, 0)])})
    msg = str(e.value)
    assert chinese_first(msg)
    for r in ("permanent_farmland", "urban_boundary", "water_source", "landcover"):
        assert r in msg


def test_landcover_layer_without_landcover_is_refused():
    with pytest.raises(InputError) as e:
        load_controls({"urban_boundary": frame([sq(0, 0)])}, landcover_layer="DLTB")
    assert "--landcover" in str(e.value) and chinese_first(str(e.value))


def test_none_and_controls_pass_through():
    assert load_controls(None) is None
    c = Controls({})
    assert load_controls(c) is c


@pytest.fixture()
def gdb(tmp_path) -> Path:
    """A File Geodatabase written by GDAL (OpenFileGDB) with two layers."""
    path = tmp_path / "survey.gdb"
    lc = frame([sq(0, 0), sq(2, 0)], DLBM=["0101", "0301"], DLMC=["水田", "乔木林地"],
               BSM=np.array([11, 12], dtype="int32"))
    pyogrio.write_dataframe(lc.to_crs(4490), path, layer="DLTB", driver="OpenFileGDB")
    pyogrio.write_dataframe(frame([sq(0, 0, 10, 10)], XZQMC=["鸡东县"]).to_crs(4490), path, layer="XZQ",
                            driver="OpenFileGDB")
    return path


def test_file_geodatabase_written_by_gdal_is_read_with_its_layer(gdb):
    before = tree_sha(gdb)
    with pytest.raises(InputError) as e:
        load_controls({"landcover": gdb})
    msg = str(e.value)
    assert "DLTB" in msg and "XZQ" in msg and "--landcover-layer" in msg and chinese_first(msg)
    layer = load_controls({"landcover": gdb}, landcover_layer="DLTB")["landcover"]
    assert layer.layer == "DLTB"
    assert list(layer.gdf["class_code"]) == ["0101", "0301"] and list(layer.gdf["control_id"]) == ["11", "12"]
    assert layer.sha256 == file_sha256(gdb)
    same = load_controls({"landcover": {"path": str(gdb), "layer": "DLTB"}})["landcover"]
    assert same.sha256 == layer.sha256
    with pytest.raises(InputError, match="DLTB"):
        load_controls({"landcover": gdb}, landcover_layer="NOPE")
    assert tree_sha(gdb) == before  # GDAL wrote nothing into the folder


def test_zipped_file_geodatabase(gdb, tmp_path):
    z = tmp_path / "survey.gdb.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(gdb.iterdir()):
            zf.write(p, f"survey.gdb/{p.name}")
    layer = load_controls({"landcover": z}, landcover_layer="DLTB")["landcover"]
    assert list(layer.gdf["class_code"]) == ["0101", "0301"]
    assert layer.sha256 == hashlib.sha256(z.read_bytes()).hexdigest()


def test_file_geodatabase_only_for_control_layers_and_checked_before_gdal(gdb, tmp_path):
    with pytest.raises(InputError, match="文件夹"):
        registry.identify(gdb)  # a site file may not be a .gdb folder
    fake = tmp_path / "fake.gdb"
    fake.mkdir()
    (fake / "a00000001.gdbtable").write_bytes(b"<OGRVRTDataSource>")
    with pytest.raises(InputError) as e:
        load_controls({"landcover": fake})
    assert "a00000001.gdbtable" in str(e.value)
    (fake / "a00000001.gdbtable").write_bytes(b"\x03\x00\x00\x00")
    (fake / "sub").mkdir()
    with pytest.raises(InputError, match="子文件夹"):
        registry.identify(fake, controls=True)


def test_a_gdb_folder_that_gdal_opens_with_another_driver_is_refused(tmp_path):
    fake = tmp_path / "shapes.gdb"
    fake.mkdir()
    frame([sq(0, 0)], DLBM=["0101"]).to_file(fake / "x.shp")  # GDAL reads a folder of Shapefiles too
    (fake / "a00000001.gdbtable").write_bytes(b"\x03\x00\x00\x00" + bytes(60))  # passes the byte check
    with pytest.raises(InputError) as e:
        load_controls({"landcover": fake})
    assert "ESRI Shapefile" in str(e.value) and "OpenFileGDB" in str(e.value) and chinese_first(str(e.value))


def test_gbk_shapefile_with_survey_columns(tmp_path):
    shp = tmp_path / "地类图斑.shp"
    lc = frame([sq(0, 0), sq(2, 0), sq(4, 0)], DLBM=["0101", "0103", "0404"], DLMC=["水田", "旱地", "其他草地"],
               黑土耕地=["是", "否", "否"])
    pyogrio.write_dataframe(lc, shp, encoding="GBK")
    for p in tmp_path.glob("地类图斑.cpg"):
        p.unlink()  # as many Chinese GIS exports: no .cpg, attributes in GBK
    dbf = (tmp_path / "地类图斑.dbf").read_bytes()
    assert "水田".encode("gbk") in dbf and "水田".encode() not in dbf
    before = tree_sha(tmp_path)
    layer = load_controls({"landcover": str(shp)})["landcover"]
    assert list(layer.gdf["class_name"]) == ["水田", "旱地", "其他草地"]
    assert list(layer.gdf["black_soil"]) == [True, False, False]
    assert layer.source == str(shp) and layer.sha256 != hashlib.sha256(shp.read_bytes()).hexdigest()
    assert tree_sha(tmp_path) == before
    # the checksum covers the attribute table: a changed 地类 in the .dbf alone changes it
    (tmp_path / "地类图斑.dbf").write_bytes(dbf.replace("水田".encode("gbk"), "旱地".encode("gbk"), 1))
    assert load_controls({"landcover": str(shp)})["landcover"].sha256 != layer.sha256


def test_controls_toml_paths_are_relative_to_the_toml(tmp_path, monkeypatch):
    data = tmp_path / "office" / "data"
    data.mkdir(parents=True)
    frame([sq(0, 0)], 级别=["二级保护区"]).to_file(data / "water.gpkg", layer="water", driver="GPKG")
    frame([sq(2, 0)]).to_file(data / "pbf.geojson", driver="GeoJSON")
    toml = tmp_path / "office" / "controls.toml"
    toml.write_text('permanent_farmland = "data/pbf.geojson"\n\n[water_source]\npath = "data/water.gpkg"\n'
                    'year = 2024\n', encoding="utf-8")
    before = tree_sha(tmp_path / "office")
    monkeypatch.chdir(tmp_path)  # not the toml's folder
    c = load_controls(str(toml))
    assert c.roles == ("permanent_farmland", "water_source")
    assert c["water_source"].year == "2024" and list(c["water_source"].gdf["level"]) == ["second"]
    assert c["permanent_farmland"].year is None
    assert tree_sha(tmp_path / "office") == before
    toml.write_text('[landcover]\npth = "x.shp"\npath = "y.shp"\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_controls(toml)
    assert "pth" in str(e.value) and chinese_first(str(e.value))


def test_refused_format_and_missing_file(tmp_path):
    vrt = tmp_path / "x.vrt"
    vrt.write_text("<OGRVRTDataSource/>", encoding="utf-8")
    for bad in (vrt, tmp_path / "missing.gpkg"):
        with pytest.raises(InputError) as e:
            load_controls({"urban_boundary": bad})
        assert chinese_first(str(e.value))


def test_year_and_synthetic_flag_from_columns():
    g = frame([sq(0, 0), sq(2, 0)], year=[2023, 2023], synthetic=[1, 1])
    layer = load_controls({"urban_boundary": g})["urban_boundary"]
    assert layer.year == "2023" and layer.synthetic
    assert load_controls({"urban_boundary": {"gdf": g, "year": "2021"}})["urban_boundary"].year == "2021"
    plain = load_controls({"urban_boundary": frame([sq(0, 0)])})["urban_boundary"]
    assert not plain.synthetic and plain.sha256 and plain.source == "<GeoDataFrame>"


def test_frame_sha256_follows_content():
    a = load_controls({"urban_boundary": frame([sq(0, 0)])})["urban_boundary"].sha256
    b = load_controls({"urban_boundary": frame([sq(0, 0)])})["urban_boundary"].sha256
    c = load_controls({"urban_boundary": frame([sq(0, 0.001)])})["urban_boundary"].sha256
    assert a == b != c


# ------------------------------------------------------------------ rules


def test_line_rule_answers_every_role_level_relation_and_activity():
    from jixi_geo import vocab
    from jixi_geo.controls import RELATIONS, line_rule, role_levels
    from jixi_geo.rules import activities

    acts = [*activities()["activity"], "unspecified", "", None]
    verdicts = set(vocab.keys("verdict"))
    for role in ("permanent_farmland", "urban_boundary", "water_source"):
        levels = [*role_levels(role)["level"], ""]
        for level in levels:
            for rel in RELATIONS:
                for act in acts:
                    r = line_rule(role, level=level, relation=rel, activity=act)
                    assert r["verdict"] in verdicts and r["role"] == role and r["relation"] == rel
                    assert r["level"] in (level, "*") and r["activity"] in (act, "*")


def test_line_rule_fallback_order():
    from jixi_geo.controls import line_rule

    # exact level + activity beats level + *, which beats * + activity
    assert line_rule("water_source", level="first", relation="inside", activity="water_infrastructure")["rule_id"] \
        != line_rule("water_source", level="first", relation="inside", activity="housing")["rule_id"]
    r = line_rule("water_source", level="second", relation="partly", activity="housing")
    assert (r["level"], r["activity"], r["verdict"]) == ("second", "*", "restricted")
    r = line_rule("permanent_farmland", level="", relation="inside", activity="road")
    assert (r["level"], r["activity"], r["verdict"]) == ("*", "road", "restricted")
    assert line_rule("permanent_farmland", relation="inside", activity=None)["verdict"] == "prohibited"
    with pytest.raises(KeyError, match="landcover"):
        line_rule("landcover", relation="inside")
    with pytest.raises(KeyError, match="relation"):
        line_rule("urban_boundary", relation="near")


@pytest.mark.parametrize("code", [2441, 2389])  # Beijing 1954 / Xian 1980, 3-degree GK CM 132E
def test_ballpark_datum_layer_is_refused_and_towgs84_is_taken(code):
    """pyproj takes Beijing 1954 / Xian 1980 to CGCS2000 by a null shift (tens of metres off):
    such a layer is refused, Chinese first, naming the fix; with +towgs84 it is used, shifted."""
    from pyproj import CRS

    geom = [shapely.box(500_000, 5_015_000, 501_000, 5_016_000)]
    with pytest.raises(CRSError) as e:
        load_controls({"landcover": gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=geom, crs=code)})
    text = str(e.value)
    assert "+towgs84" in text and re.search(r"[\u4e00-\u9fff]", text.splitlines()[0])
    assert f"EPSG:{code}" in text
    bound = CRS.from_epsg(code).to_proj4() + " +towgs84=24,-123,-94,0.02,-0.25,-0.13,1.1"
    layer = load_controls({"landcover": gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=geom, crs=bound)})["landcover"]
    null = gpd.GeoSeries(geom, crs=code).to_crs(4490).iloc[0].centroid
    moved = layer.gdf.geometry.iloc[0].centroid
    assert moved.distance(null) > 1e-5  # the +towgs84 shift was applied (metres, not the null shift)
