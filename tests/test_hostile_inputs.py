"""Hostile and malformed inputs (issue 13, items 2, 5, 6; issue 19's exit 3 for a missing file).

Every case asserts the exact outcome: the exit code or error class, a message that
names the problem, no file created beside the input (the input folder is listed
before and after) and every input unchanged (sha256).
"""

from __future__ import annotations

import hashlib
import math
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from shapely import Point, box

import jixi_geo as jg
from jixi_geo.cli import main
from jixi_geo.errors import CRSError, EncodingError, InputError, JixiGeoError, JixiGeoWarning, SchemaError

IN_RESERVE = Point(132.45, 45.43)  # inside a nature reserve of the bundled zones: prohibited for wind farms
CLEAR = Point(131.05, 45.45)  # in no zone, far from all
ACCEPTED_WORDS = ("GeoJSON", "GeoPackage", "Shapefile", "KML", "CSV", "WKT", "GeoParquet")


# --------------------------------------------------------------------------- helpers


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with its sha256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cli(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


@pytest.fixture
def inbox(tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    return d


@pytest.fixture
def secret_csv(tmp_path) -> Path:
    """A file the user never names: its rows must never show up in any output."""
    d = tmp_path / "elsewhere"
    d.mkdir()
    p = d / "secret.csv"
    p.write_text("site_id,lon,lat\nSECRET-ROW,131.05,45.45\n", encoding="utf-8")
    return p


def vrt_text(secret: Path) -> str:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="secret"><SrcDataSource>{secret}</SrcDataSource>'
            '<GeometryType>wkbPoint</GeometryType><LayerSRS>EPSG:4490</LayerSRS>'
            '<GeometryField encoding="PointFromColumns" x="lon" y="lat"/></OGRVRTLayer></OGRVRTDataSource>')


def sites_gdf(points=(IN_RESERVE, CLEAR), ids=("a", "b")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"site_id": list(ids)}, geometry=list(points), crs="EPSG:4490")


def assert_refused_cli(path: Path, tmp_path: Path, *words, extra=()):
    """CLI: exit 3, message naming the file and ``words``; nothing created or changed in its folder."""
    before = snapshot(path.parent)
    code, out = cli("check", path, "--out", tmp_path / "out", *extra)
    assert code == 3, out
    assert path.name in out
    for w in words:
        assert w in out, (w, out)
    assert "Traceback" not in out
    assert snapshot(path.parent) == before
    assert not (tmp_path / "out").exists()
    return out


# --------------------------------------------------------------------------- 2. driver allow-list


REFUSED_CONTENT = {
    # name: (how to make the file from the VRT text, words the message must hold)
    "sites.vrt": (lambda v: v, ("VRT", "SrcDataSource")),
    "sites.geojson": (lambda v: v, ("not GeoJSON",)),
    "sites.json": (lambda v: v, ("not GeoJSON",)),
    "sites.gpkg": (lambda v: v, ("not a GeoPackage",)),
    "sites.shp": (lambda v: v, ("not a Shapefile",)),
    "sites.kml": (lambda v: v, ("not KML",)),
    "sites.parquet": (lambda v: v, ("not a Parquet file",)),
    "sites.fgb": (lambda v: v, ("extension .fgb",)),
    "sites.sqlite": (lambda v: v, ("SQLite",)),
    "sites": (lambda v: v, ("(no extension)",)),
}


@pytest.mark.parametrize("name", sorted(REFUSED_CONTENT))
def test_vrt_content_under_any_name_is_refused_by_cli(name, inbox, tmp_path, secret_csv):
    make, words = REFUSED_CONTENT[name]
    p = inbox / name
    p.write_text(make(vrt_text(secret_csv)), encoding="utf-8")
    secret_before = snapshot(secret_csv.parent)
    out = assert_refused_cli(p, tmp_path, *words)
    assert "SECRET-ROW" not in out
    assert snapshot(secret_csv.parent) == secret_before


@pytest.mark.parametrize("name", ["sites.vrt", "sites.geojson", "sites.gpkg", "sites.kml"])
def test_vrt_content_is_refused_by_read_sites_and_check_sites(name, inbox, secret_csv):
    p = inbox / name
    p.write_text(vrt_text(secret_csv), encoding="utf-8")
    before = snapshot(inbox)
    for fn in (jg.read_sites, jg.check_sites):
        with pytest.raises(InputError) as e:
            fn(p)
        assert p.name in str(e.value) and "SECRET-ROW" not in str(e.value)
    assert snapshot(inbox) == before


def test_vrt_refusal_names_the_accepted_formats(inbox, secret_csv):
    p = inbox / "sites.vrt"
    p.write_text(vrt_text(secret_csv), encoding="utf-8")
    with pytest.raises(InputError) as e:
        jg.read_sites(p)
    msg = str(e.value)
    assert all(w in msg for w in ACCEPTED_WORDS), msg
    assert msg.index("VRT") < msg.index("/ ")  # Chinese first, then English
    assert "VRT 文件会读取" in msg


GML = ('<?xml version="1.0"?><ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" '
       'xmlns:gml="http://www.opengis.net/gml"><gml:featureMember><ogr:s><ogr:geometryProperty>'
       '<gml:Point srsName="EPSG:4490"><gml:coordinates>131.05,45.45</gml:coordinates></gml:Point>'
       '</ogr:geometryProperty><ogr:site_id>g1</ogr:site_id></ogr:s></gml:featureMember>'
       '</ogr:FeatureCollection>')


@pytest.mark.parametrize("name", ["sites.gml", "sites.xml", "sites.GML"])
def test_gml_is_refused_and_no_gfs_is_written(name, inbox, tmp_path):
    p = inbox / name
    p.write_text(GML, encoding="utf-8")
    assert_refused_cli(p, tmp_path, ".gfs")
    with pytest.raises(InputError, match="gfs"):
        jg.read_sites(p)
    assert sorted(x.name for x in inbox.iterdir()) == [name]  # no .gfs beside it


def test_gdalg_pipeline_named_json_is_refused(inbox, tmp_path, secret_csv):
    p = inbox / "sites.json"
    p.write_text('{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline ! read '
                 f'{secret_csv} ! write --output-format stream streamed_dataset"}}', encoding="utf-8")
    out = assert_refused_cli(p, tmp_path, "GDALG")
    assert "SECRET-ROW" not in out


def test_gdalg_suffix_is_refused(inbox, secret_csv):
    p = inbox / "sites.gdalg.json"
    p.write_text('{"type": "gdal_streamed_alg"}', encoding="utf-8")
    with pytest.raises(InputError, match="GDALG"):
        jg.read_sites(p)


def test_plain_sqlite_named_gpkg_is_refused(inbox, tmp_path):
    import sqlite3

    p = inbox / "sites.gpkg"
    con = sqlite3.connect(p)
    con.execute("create table t (x)")
    con.commit()
    con.close()
    assert_refused_cli(p, tmp_path, "not a GeoPackage", "virtual tables")


def kml_doc(body: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f'{body}</Document></kml>')


PLACEMARK = "<Placemark><name>k1</name><Point><coordinates>131.05,45.45</coordinates></Point></Placemark>"
NETWORK_LINK = "<NetworkLink><Link><href>other.kml</href></Link></NetworkLink>"


def test_kml_with_network_link_is_refused(inbox, tmp_path):
    p = inbox / "sites.kml"
    p.write_text(kml_doc(PLACEMARK + NETWORK_LINK), encoding="utf-8")
    (inbox / "other.kml").write_text(kml_doc(PLACEMARK.replace("k1", "SECRET-ROW")), encoding="utf-8")
    out = assert_refused_cli(p, tmp_path, "NetworkLink")
    assert "SECRET-ROW" not in out


def test_network_link_far_into_a_large_kml_is_found(inbox):
    p = inbox / "sites.kml"
    filler = "<!--" + "x" * (3 << 20) + "-->"  # the link after 3 MB of comment: read in chunks
    p.write_text(kml_doc(PLACEMARK + filler + NETWORK_LINK), encoding="utf-8")
    with pytest.raises(InputError, match="NetworkLink"):
        jg.read_sites(p)


def test_kmz_with_network_link_is_refused(inbox):
    p = inbox / "sites.kmz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("doc.kml", kml_doc(PLACEMARK + NETWORK_LINK))
    before = snapshot(inbox)
    with pytest.raises(InputError, match="NetworkLink"):
        jg.read_sites(p)
    assert snapshot(inbox) == before


def test_plain_kml_and_kmz_are_still_read(inbox):
    k = inbox / "sites.kml"
    k.write_text(kml_doc(PLACEMARK), encoding="utf-8")
    z = inbox / "sites.kmz"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("doc.kml", kml_doc(PLACEMARK))
    before = snapshot(inbox)
    for p in (k, z):
        s = jg.read_sites(p)
        assert len(s) == 1 and s.geometry.iloc[0].equals_exact(CLEAR, 1e-9)
    assert snapshot(inbox) == before


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".parquet"])
def test_documented_formats_are_read(suffix, inbox):
    p = inbox / f"sites{suffix}"
    g = sites_gdf()
    if suffix == ".parquet":
        g.to_parquet(p)
    else:
        g.to_file(p)
    before = snapshot(inbox)
    r = jg.check_sites(p, activity="wind_farm")
    assert list(r["site_id"]) == ["a", "b"] and list(r["verdict"]) == ["prohibited", "clear"]
    assert snapshot(inbox) == before


def write_shapefile(folder: Path, stem="sites", gdf=None) -> Path:
    p = folder / f"{stem}.shp"
    (gdf if gdf is not None else sites_gdf()).to_file(p)
    return p


def test_shapefile_without_dbf_is_refused(inbox, tmp_path):
    p = write_shapefile(inbox)
    (inbox / "sites.dbf").unlink()
    out = assert_refused_cli(p, tmp_path, ".dbf", "attribute")
    assert "属性" in out
    with pytest.raises(InputError, match=r"lacks its \.dbf"):
        jg.read_sites(p)


def test_shapefile_without_shx_is_refused(inbox):
    p = write_shapefile(inbox)
    (inbox / "sites.shx").unlink()
    before = snapshot(inbox)
    with pytest.raises(InputError, match=r"lacks its \.shx"):
        jg.read_sites(p)
    assert snapshot(inbox) == before  # GDAL's SHAPE_RESTORE_SHX would have written one


def zip_folder(src: Path, dest: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for f in sorted(src.iterdir()):
            z.write(f, prefix + f.name)
    return dest


def test_zip_with_a_folder_of_shapefile_parts_is_read(tmp_path, inbox):
    parts = tmp_path / "parts"
    parts.mkdir()
    plain = write_shapefile(parts)
    z = zip_folder(parts, inbox / "sites.zip", prefix="项目/shp/")
    before = snapshot(inbox)
    got = jg.read_sites(z)
    want = jg.read_sites(plain)
    assert list(got["site_id"]) == list(want["site_id"]) == ["a", "b"]
    assert got.geometry.geom_equals_exact(want.geometry, 1e-9).all()
    assert snapshot(inbox) == before


def test_zip_with_two_shapefiles_needs_layer(tmp_path, inbox):
    parts = tmp_path / "parts"
    parts.mkdir()
    write_shapefile(parts, "east", sites_gdf([IN_RESERVE], ["e"]))
    write_shapefile(parts, "west", sites_gdf([CLEAR], ["w"]))
    z = zip_folder(parts, inbox / "sites.zip", prefix="d/")
    with pytest.raises(InputError) as e:
        jg.read_sites(z)
    assert "d/east.shp" in str(e.value) and "d/west.shp" in str(e.value) and "layer" in str(e.value)
    assert list(jg.read_sites(z, layer="west")["site_id"]) == ["w"]
    code, out = cli("check", z, "--layer", "east", "--activity", "wind_farm", "--out", tmp_path / "o")
    assert code == 1 and "prohibited=1" in out, out


def test_zip_without_shapefile_is_refused_listing_its_contents(inbox, tmp_path, secret_csv):
    z = inbox / "sites.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("layer.vrt", vrt_text(secret_csv))
        f.writestr("readme.txt", "hello")
    out = assert_refused_cli(z, tmp_path, "no .shp", "layer.vrt")
    assert "SECRET-ROW" not in out


def test_zip_shapefile_without_dbf_is_refused(tmp_path, inbox):
    parts = tmp_path / "parts"
    parts.mkdir()
    write_shapefile(parts)
    (parts / "sites.dbf").unlink()
    z = zip_folder(parts, inbox / "sites.zip")
    with pytest.raises(InputError, match=r"inside the zip.*\.dbf"):
        jg.read_sites(z)


def test_corrupt_zip_is_refused(inbox):
    p = inbox / "sites.zip"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="not a valid zip"):
        jg.read_sites(p)


def fake_xlsx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return path


@pytest.mark.parametrize("name", ["sites.xlsx", "sites.xls", "sites.XLSX", "sites.ods"])
def test_excel_gets_a_clean_exit_3(name, inbox, tmp_path):
    p = fake_xlsx(inbox / name)
    out = assert_refused_cli(p, tmp_path, "Excel", "CSV UTF-8")
    assert "AttributeError" not in out
    with pytest.raises(InputError, match="Excel"):
        jg.read_sites(p)


def test_excel_bytes_named_csv_are_refused(inbox):
    p = fake_xlsx(inbox / "sites.csv")
    with pytest.raises(InputError, match="Excel workbook or a zip"):
        jg.read_sites(p)


def test_folder_given_as_sites_exits_3(inbox, tmp_path):
    code, out = cli("check", inbox, "--out", tmp_path / "out")
    assert code == 3 and "is a folder" in out, out


def test_missing_site_file_exits_3_not_2(tmp_path):
    missing = tmp_path / "nope.csv"
    code, out = cli("check", missing, "--out", tmp_path / "out")
    assert code == 3, out
    assert str(missing) in out and "no such file" in out and "找不到" in out
    assert not (tmp_path / "out").exists()


def test_missing_zones_file_exits_3(tmp_path, inbox):
    p = inbox / "s.geojson"
    sites_gdf().to_file(p)
    code, out = cli("check", p, "--zones", tmp_path / "zones.gpkg", "--out", tmp_path / "out")
    assert code == 3 and "zones.gpkg" in out and "zones file" in out, out
    assert not (tmp_path / "out").exists()


def test_bad_option_type_stays_a_usage_error(tmp_path, inbox):
    p = inbox / "s.geojson"
    sites_gdf().to_file(p)
    code, out = cli("check", p, "--buffer", "abc", "--out", tmp_path / "out")
    assert code == 2 and "abc" in out  # click: not a number at all (documented as exit 2)


# --------------------------------------------------------------------------- zones files


def zones_gdf(geom, *, level="nature_reserve", zid="Z1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [zid], "name_zh": ["测试保护区"], "name_en": ["Test reserve"],
                             "control_level": [level]}, geometry=[geom], crs="EPSG:4490")


@pytest.fixture
def two_layer_zones(inbox) -> Path:
    p = inbox / "zones.gpkg"
    zones_gdf(box(130.5, 44.95, 130.55, 45.0), zid="far").to_file(p, layer="other")
    zones_gdf(IN_RESERVE.buffer(0.02), zid="near").to_file(p, layer="reserves", mode="a")
    return p


def test_multi_layer_zones_are_refused_naming_the_layers(two_layer_zones, tmp_path, inbox):
    s = inbox / "s.geojson"
    sites_gdf().to_file(s)
    before = snapshot(inbox)
    code, out = cli("check", s, "--zones", two_layer_zones, "--out", tmp_path / "out")
    assert code == 3, out
    assert "other" in out and "reserves" in out and "--zones-layer" in out
    with pytest.raises(InputError, match="2 layers"):
        jg.validate_zones(two_layer_zones)
    with pytest.raises(InputError, match="zones_layer="):
        jg.check_sites(s, zones=two_layer_zones)
    assert snapshot(inbox) == before


def test_zones_layer_chooses_the_layer(two_layer_zones, tmp_path, inbox):
    s = inbox / "s.geojson"
    sites_gdf().to_file(s)
    code, out = cli("check", s, "--zones", two_layer_zones, "--zones-layer", "reserves", "--activity",
                    "wind_farm", "--out", tmp_path / "out")
    assert code == 1 and "prohibited=1" in out, out
    r = jg.check_sites(s, zones=two_layer_zones, zones_layer="reserves", activity="wind_farm")
    assert list(r["verdict"]) == ["prohibited", "clear"] and r["zone_ids"].iloc[0] == "near"
    r = jg.check_sites(s, zones=two_layer_zones, zones_layer="other", activity="wind_farm")
    assert list(r["verdict"]) == ["clear", "clear"]


def test_unknown_zones_layer_names_the_layers(two_layer_zones, tmp_path, inbox):
    s = inbox / "s.geojson"
    sites_gdf().to_file(s)
    code, out = cli("check", s, "--zones", two_layer_zones, "--zones-layer", "nope", "--out", tmp_path / "o")
    assert code == 3 and "'nope'" in out and "other, reserves" in out, out


def test_zones_layer_without_zones_exits_3(tmp_path, inbox):
    s = inbox / "s.geojson"
    sites_gdf().to_file(s)
    code, out = cli("check", s, "--zones-layer", "x", "--out", tmp_path / "o")
    assert code == 3 and "--zones-layer needs --zones" in out, out


@pytest.mark.parametrize("name,content,words", [
    ("zones.txt", "not a vector file", ("extension .txt",)),
    ("zones.csv", "id,name\n1,a\n", ("extension .csv",)),
    ("zones.geojson", "{ this is not json", ("zones.geojson", "could not be opened")),
    ("zones.gpkg", "plain text", ("not a GeoPackage",)),
    ("zones.vrt", "<OGRVRTDataSource/>", ("VRT",)),
    ("zones.xlsx", None, ("Excel",)),
])
def test_non_vector_zones_files_get_a_clean_error(name, content, words, inbox):
    p = inbox / name
    if content is None:
        fake_xlsx(p)
    else:
        p.write_text(content, encoding="utf-8")
    before = snapshot(inbox)
    with pytest.raises(InputError) as e:
        jg.validate_zones(p)
    assert name in str(e.value)
    for w in words:
        assert w in str(e.value), str(e.value)
    assert snapshot(inbox) == before


def test_missing_zones_path_names_the_file(tmp_path):
    with pytest.raises(InputError, match="no such file.*zones file"):
        jg.validate_zones(tmp_path / "official.gpkg")


def test_zones_shapefile_with_truncated_control_level_is_accepted(inbox):
    shp = inbox / "zones.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's own "field name truncated" warning when writing
        zones_gdf(IN_RESERVE.buffer(0.02)).to_file(shp)
    assert "control_le" in gpd.read_file(shp).columns  # what the .dbf really holds
    before = snapshot(inbox)
    with pytest.warns(JixiGeoWarning, match=r"control_le.*control_level.*10 characters"):
        z = jg.validate_zones(shp)
    assert "control_level" in z.columns and "control_le" not in z.columns
    assert z.attrs["validate_zones"]["renamed"] == {"control_le": "control_level"}
    with pytest.warns(JixiGeoWarning):
        r = jg.check_sites(sites_gdf(), zones=shp, activity="wind_farm")
    assert list(r["verdict"]) == ["prohibited", "clear"]
    assert snapshot(inbox) == before


def test_alias_is_not_used_when_the_real_column_exists():
    z = zones_gdf(IN_RESERVE.buffer(0.02))
    z["control_le"] = "something else"
    with warnings.catch_warnings():
        warnings.simplefilter("error", JixiGeoWarning)
        out = jg.validate_zones(z)
    assert out["control_level"].iloc[0] == "nature_reserve" and out["control_le"].iloc[0] == "something else"


def test_upper_case_truncated_name_is_read_too():
    z = zones_gdf(IN_RESERVE.buffer(0.02)).rename(columns={"control_level": "CONTROL_LE"})
    with pytest.warns(JixiGeoWarning, match="CONTROL_LE"):
        out = jg.validate_zones(z)
    assert out["control_level"].iloc[0] == "nature_reserve"


def test_missing_level_column_points_to_the_alias_table():
    z = zones_gdf(IN_RESERVE.buffer(0.02)).rename(columns={"control_level": "level"})
    with pytest.raises(SchemaError) as e:
        jg.validate_zones(z)
    assert "missing column(s) ['control_level']" in str(e.value)
    assert "zone_column_aliases.csv" in str(e.value)


# --------------------------------------------------------------------------- 5. arguments


BAD_AMOUNTS = [
    (float("nan"), "not a finite number"),
    (float("inf"), "not a finite number"),
    (float("-inf"), "not a finite number"),
    (-1, "negative"),
    (-0.5, "negative"),
    ("1000", "text, not a number"),
    ("abc", "text, not a number"),
    (True, "a boolean"),
    (None, "of type NoneType"),
    ([1000], "of type list"),
    (np.float64("nan"), "not a finite number"),
]


@pytest.mark.parametrize("value,why", BAD_AMOUNTS, ids=[repr(v) for v, _ in BAD_AMOUNTS])
def test_bad_buffer_m_is_refused(value, why):
    with pytest.raises(InputError) as e:
        jg.check_sites(sites_gdf(), buffer_m=value)
    assert "buffer_m" in str(e.value) and why in str(e.value) and "必须" in str(e.value)


@pytest.mark.parametrize("option", ["search_m", "tolerance_ha"])
@pytest.mark.parametrize("value", [float("nan"), "10", -5])
def test_other_amounts_of_check_sites_are_refused(option, value):
    with pytest.raises(InputError, match=option):
        jg.check_sites(sites_gdf(), **{option: value})


def test_check_sites_detail_refuses_nan_buffer():
    with pytest.raises(InputError, match="buffer_m"):
        jg.check_sites_detail(sites_gdf(), buffer_m=float("nan"))


def test_overlap_refuses_text_tolerance():
    with pytest.raises(InputError, match=r"tolerance_ha.*text, not a number"):
        jg.overlap("jidong_parks", "redline_zones", tolerance_ha="0.01")


def test_rasterize_refuses_nan_resolution(tmp_path):
    from jixi_geo.raster import rasterize

    with pytest.raises(InputError, match="resolution_m must be a positive number"):
        rasterize("jidong_function_zones", resolution_m=float("nan"), path=tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-5", "NaN"])
def test_cli_refuses_bad_buffer_with_exit_3(value, inbox, tmp_path):
    p = inbox / "s.geojson"
    sites_gdf().to_file(p)
    before = snapshot(inbox)
    code, out = cli("check", p, f"--buffer={value}", "--out", tmp_path / "out")
    assert code == 3, out
    assert "--buffer" in out and "none within nan" not in out
    assert not (tmp_path / "out").exists() and snapshot(inbox) == before


def test_nan_buffer_no_longer_turns_attention_into_clear():
    hit = zones_gdf(box(131.04, 45.44, 131.06, 45.46))  # a zone in the middle of the city
    xy = shapely.get_coordinates(hit.to_crs(4553).geometry.iloc[0])
    west = xy[np.argmin(xy[:, 0])]  # the zone's westernmost vertex; 300 m west of it is outside
    p = gpd.GeoSeries([Point(west[0] - 300, west[1])], crs=4553).to_crs(4490)
    site = gpd.GeoDataFrame({"site_id": ["n"]}, geometry=p.values, crs="EPSG:4490")
    r = jg.check_sites(site, zones=hit, buffer_m=1000)
    assert r["verdict"].iloc[0] == "attention" and r["distance_m"].iloc[0] == pytest.approx(300, abs=1)
    with pytest.raises(InputError, match="buffer_m"):
        jg.check_sites(site, zones=hit, buffer_m=float("nan"))


def test_check_file_refuses_nan_before_creating_output(tmp_path, inbox):
    from jixi_geo.batch import check_file

    p = inbox / "s.csv"
    pd.DataFrame({"site_id": ["a"], "lon": [131.05], "lat": [45.45]}).to_csv(p, index=False)
    with pytest.raises(InputError, match="buffer_m"):
        check_file(p, tmp_path / "r.parquet", buffer_m=float("nan"))
    with pytest.raises(InputError, match="no such file"):
        check_file(inbox / "missing.csv", tmp_path / "r.parquet")
    assert not (tmp_path / "r.parquet").exists()


@pytest.mark.parametrize("crs", ["EPSG:99999", "not a crs", 4490.5, float("nan"), True, object(), [4490]])
def test_load_layer_with_bad_crs_raises_jixi_crs_error(crs):
    with pytest.raises(CRSError) as e:
        jg.load_layer("counties", crs=crs)
    assert isinstance(e.value, JixiGeoError) and isinstance(e.value, ValueError)
    assert "counties" in str(e.value) and "EPSG:4553" in str(e.value)
    assert not isinstance(e.value, pyproj.exceptions.CRSError)


def test_load_layer_good_crs_still_works():
    assert jg.load_layer("counties", crs=4553).crs.to_epsg() == 4553


# --------------------------------------------------------------------------- 6. read wrong silently


CSV_TEXT = "编号,经度,纬度\nA1,131.05,45.45\nA2,132.45,45.43\n"


@pytest.mark.parametrize("enc,named", [("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")])
def test_utf16_without_bom_is_diagnosed(enc, named, inbox, tmp_path):
    p = inbox / "sites.csv"
    p.write_bytes(CSV_TEXT.encode(enc))
    out = assert_refused_cli(p, tmp_path, "UTF-16", f"--encoding {named}")
    assert "\x00" not in out
    with pytest.raises(EncodingError, match=f'encoding="{named}"'):
        jg.read_sites(p)
    s = jg.read_sites(p, encoding=named)
    assert list(s["site_id"]) == ["A1", "A2"]


def test_utf16_with_bom_is_read_and_recorded(inbox):
    p = inbox / "sites.csv"
    p.write_bytes(CSV_TEXT.encode("utf-16"))
    before = snapshot(inbox)
    s = jg.read_sites(p)
    assert list(s["site_id"]) == ["A1", "A2"] and list(s.columns[:3]) == ["编号", "经度", "纬度"]
    assert s.attrs["read_sites"]["encoding"] == "utf-16"
    assert snapshot(inbox) == before


def test_binary_nul_bytes_in_csv_are_refused(inbox):
    p = inbox / "sites.csv"
    p.write_bytes(b"id,lon,lat\n1,131.0,45.3\x00\x17\x99\xff\n")
    with pytest.raises(EncodingError, match="NUL bytes"):
        jg.read_sites(p)


def _geod_share_outside(geom_4490) -> float:
    """Share (%) of the geometry outside the bundled boundary, by pyproj.Geod on lon/lat."""
    geod = pyproj.Geod(ellps="GRS80")  # the CGCS2000 ellipsoid (flattening differs by 1e-11)
    city = jg.load_layer("boundary").geometry.union_all()
    inner = geom_4490.intersection(city)
    if geom_4490.geom_type.endswith("Polygon"):
        whole, part = abs(geod.geometry_area_perimeter(geom_4490)[0]), abs(geod.geometry_area_perimeter(inner)[0])
    else:
        whole, part = geod.geometry_length(geom_4490), geod.geometry_length(inner)
    return 100.0 * (1 - part / whole)


def _east_edge(lat: float) -> float:
    city = jg.load_layer("boundary").geometry.union_all()
    return shapely.LineString([(130, lat), (135, lat)]).intersection(city).bounds[2]


def test_multipolygon_partly_in_russia_reports_the_share_outside():
    x = _east_edge(45.8)
    inside = box(x - 0.06, 45.78, x - 0.02, 45.82)
    across = box(x - 0.015, 45.78, x + 0.04, 45.82)  # straddles the border
    mp = shapely.MultiPolygon([inside, across])
    s = gpd.GeoDataFrame({"site_id": ["MP", "IN"]}, geometry=[mp, inside], crs="EPSG:4490")
    r = jg.check_sites(s, activity="wind_farm")
    want = _geod_share_outside(mp)
    assert 10 < want < 60
    assert r["outside_jixi_pct"].iloc[0] == pytest.approx(want, abs=0.05)
    assert r["outside_jixi_pct"].iloc[1] == 0
    reason = r["reasons"].iloc[0]
    assert f"{want:.1f}% 在鸡西市域外" in reason or f"{r['outside_jixi_pct'].iloc[0]:.1f}% 在鸡西市域外" in reason
    assert "lies outside Jixi" in reason
    assert "outside Jixi" not in r["reasons"].iloc[1]


def test_line_partly_outside_reports_the_share_of_its_length():
    x = _east_edge(45.8)
    line = shapely.LineString([(x - 0.1, 45.8), (x + 0.05, 45.8)])
    s = gpd.GeoDataFrame({"site_id": ["L"]}, geometry=[line], crs="EPSG:4490")
    r = jg.check_sites(s)
    want = _geod_share_outside(line)
    assert r["outside_jixi_pct"].iloc[0] == pytest.approx(want, abs=0.05)
    assert 20 < want < 45 and "of the site's length lies outside Jixi" in r["reasons"].iloc[0]


def test_points_outside_share_is_all_or_nothing():
    s = gpd.GeoDataFrame({"site_id": ["in", "ru"]}, geometry=[CLEAR, Point(132.82, 44.60)], crs="EPSG:4490")
    r = jg.check_sites(s)
    assert list(r["verdict"]) == ["clear", "outside_jixi"]
    assert list(r["outside_jixi_pct"]) == [0.0, 100.0]


def test_share_outside_is_written_to_results_csv(tmp_path):
    x = _east_edge(45.8)
    mp = shapely.MultiPolygon([box(x - 0.06, 45.78, x - 0.02, 45.82), box(x + 0.01, 45.78, x + 0.03, 45.82)])
    s = gpd.GeoDataFrame({"site_id": ["MP"]}, geometry=[mp], crs="EPSG:4490")
    jg.write_report(jg.check_sites(s), tmp_path / "o")
    res = pd.read_csv(tmp_path / "o" / "results.csv", encoding="utf-8-sig")
    assert res["outside_jixi_pct"].iloc[0] == pytest.approx(_geod_share_outside(mp), abs=0.05)
    assert math.isfinite(res["outside_jixi_pct"].iloc[0])


# --------------------------------------------------------------------------- 7. land-use tables


def _naive_parents(codes_kinds):
    """Reference: a row's parent is the nearest earlier row of its block carrying an ancestor code
    (tried from the nearest ancestor up), found by scanning back; sums close a block."""
    from jixi_geo.landuse.codes import ancestors

    parents, start = [], 0
    for i, (code, kind) in enumerate(codes_kinds):
        if kind in ("subtotal", "total"):
            parents.append("sum")
            start = i + 1
            continue
        found = None
        for anc in ancestors(code) if code else []:
            for j in range(i - 1, start - 1, -1):
                if anc in codes_kinds[j][0].split():
                    found = j + 1
                    break
            if found is not None:
                break
        parents.append(found)
    return parents


def test_land_use_parents_match_a_scan_back_reference(tmp_path):
    rows = [("R", "class"), ("R2", "subclass"), ("R21", "subclass"), ("M", "class"), ("R22", "subclass"),
            ("B11", "subclass"), ("R", "class"), ("R21", "subclass"), ("R2", "subclass"), ("R22", "subclass"),
            ("", "subtotal"), ("R21", "subclass"), ("M1", "subclass"), ("M", "class"), ("M12", "subclass"),
            ("", "total")]
    p = tmp_path / "lu.csv"
    lines = ["code,name,area_ha,row_kind"] + [f"{c},{'合计' if not c else c},1.00,{k}" for c, k in rows]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    t = jg.landuse.load_table("user", "planned", path=p)
    got = [None if pd.isna(v) else int(v) for v in t["parent_row"]]
    want = _naive_parents(rows)
    for i, (g, w) in enumerate(zip(got, want)):
        if w != "sum":
            assert g == w or (w is None and g is not None and rows[g - 1][1] in ("subtotal", "total")), (i, g, w)
    # the nearest ancestor level is tried first (R21 after a second R still adds into R2, row 2);
    # among rows carrying it, the latest wins (R22 after a second R2 adds into row 9, not row 2);
    # a sum closes the block (R21 after the subtotal is top-level, M12 adds into M1 of its block)
    assert got[7] == 2 and got[4] == 2 and got[9] == 9 and got[14] == 13
    assert rows[got[11] - 1][1] == "total" and got[1] == 1 and got[2] == 2


def test_land_use_orphan_rows_add_into_the_total(tmp_path):
    """10 000 minor classes printed without their parents (the case that was quadratic; its
    timing is in benchmarks/bench_landuse.py): each is top-level and adds into the total."""
    p = tmp_path / "lu.csv"
    body = "\n".join(f"B{11 + (i % 3)},商业{i},0.01" for i in range(10_000))
    p.write_text(f"code,name,area_ha\nR,居住用地,1.00\n{body}\n,合计,101.00\n", encoding="utf-8")
    t = jg.landuse.load_table("user", "planned", path=p)
    f = jg.landuse.validate(t)
    assert t["parent_row"].iloc[1:-1].map(lambda v: t["row_kind"].iloc[int(v) - 1]).eq("total").all()
    assert "total_sum" not in set(f["rule"])  # 1 + 10 000 × 0.01 = 101


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 0, "abc", True])
def test_land_use_park_area_must_be_a_positive_number(value):
    t = jg.landuse.load_table("chemical", "current")
    with pytest.raises(InputError, match="park_area_km2=.*positive area in km²"):
        jg.landuse.validate(t, park_area_km2=value)


def test_cli_reads_zones_shapefile_with_truncated_column(inbox, tmp_path):
    shp = inbox / "zones.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones_gdf(IN_RESERVE.buffer(0.02)).to_file(shp)
    s = inbox / "s.geojson"
    sites_gdf().to_file(s)
    before = snapshot(inbox)
    with pytest.warns(JixiGeoWarning, match="control_le"):
        code, out = cli("check", s, "--zones", shp, "--activity", "wind_farm", "--out", tmp_path / "o")
    assert code == 1 and "prohibited=1" in out and "clear=1" in out, out
    assert snapshot(inbox) == before


# --------------------------------------------------------------------------- rasters


@pytest.fixture
def class_raster(tmp_path):
    from jixi_geo.raster import rasterize

    d = tmp_path / "rasters"
    d.mkdir()
    layout = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(500_000, 5_000_000, 500_500, 5_001_000),
                                                              box(500_500, 5_000_000, 501_000, 5_001_000)],
                              crs="EPSG:4553")
    return rasterize(layout, resolution_m=50, path=d / "lu.tif", value_col="code")


def raster_vrt(src: Path) -> str:
    return (f'<VRTDataset rasterXSize="20" rasterYSize="20"><SRS>EPSG:4553</SRS>'
            '<GeoTransform>500000, 50, 0, 5001000, 0, -50</GeoTransform>'
            '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
            f'<SourceFilename relativeToVRT="0">{src}</SourceFilename><SourceBand>1</SourceBand>'
            '</SimpleSource></VRTRasterBand></VRTDataset>')


@pytest.mark.parametrize("name", ["lu.vrt", "lu.tif"])
def test_raster_vrt_is_refused(name, class_raster, tmp_path):
    from jixi_geo.raster import read_class_lookup, zonal_composition

    d = tmp_path / "in"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(raster_vrt(class_raster), encoding="utf-8")
    zone = gpd.GeoDataFrame({"id": [1]}, geometry=[box(500_000, 5_000_000, 501_000, 5_001_000)], crs=4553)
    before = snapshot(d)
    for call in (lambda: zonal_composition(p, zone, zone_key="id"), lambda: read_class_lookup(p)):
        with pytest.raises(InputError, match="only GeoTIFF"):
            call()
    assert snapshot(d) == before


def test_geotiff_is_read_and_nothing_is_written_beside_it(class_raster):
    from jixi_geo.raster import zonal_composition

    zone = gpd.GeoDataFrame({"id": [1]}, geometry=[box(500_000, 5_000_000, 501_000, 5_001_000)], crs=4553)
    before = snapshot(class_raster.parent)
    z = zonal_composition(class_raster, zone, zone_key="id")
    shares = z.set_index("class")["share_pct"]
    assert shares["A"] == pytest.approx(50) and shares["B"] == pytest.approx(50)
    assert shares.sum() == pytest.approx(100)
    assert snapshot(class_raster.parent) == before  # no .aux.xml


def test_missing_raster_names_the_file(tmp_path):
    from jixi_geo.raster import read_class_lookup

    with pytest.raises(InputError, match="no such file.*nope.tif"):
        read_class_lookup(tmp_path / "nope.tif")


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_land_use_utf16_without_bom_is_diagnosed(enc, tmp_path):
    p = tmp_path / "lu.csv"
    p.write_bytes("code,name,area_ha\nR,居住用地,1.00\n,合计,1.00\n".encode(enc))
    with pytest.raises(EncodingError) as e:
        jg.landuse.load_table("user", "planned", path=p)
    assert f'encoding="{enc}"' in str(e.value) and "\x00" not in str(e.value)
    t = jg.landuse.load_table("user", "planned", path=p, encoding=enc)
    assert list(t["code"]) == ["R", ""] and t["area_ha"].tolist() == [1.0, 1.0]


def test_damaged_geopackage_is_refused_with_the_reason(tmp_path):
    """A file whose name and first bytes say GeoPackage but that GDAL cannot open: exit-3 error
    naming the file, the format it looked like and the fix (was an AttributeError in the handler)."""
    bad = tmp_path / "sites.gpkg"
    head = bytearray(b"SQLite format 3\x00" + bytes(84))
    head[68:72] = b"GPKG"
    bad.write_bytes(bytes(head) + b"\x00" * 400)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(jg.errors.InputError, match=r"sites\.gpkg.*(damaged|损坏)"):
        jg.read_sites(bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
