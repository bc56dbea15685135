"""read_sites: every format, every CRS path, every refused input.

Fixtures are built in code into tmp_path; the reference polygon is a ~15 ha
site near Jixi city in CGCS2000 lon/lat.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import GeometryCollection, Point, Polygon

from jixi_geo import coords as C
from jixi_geo.readers.planner_formats import DATUM_NOTE
from jixi_geo.crs import geodesic_area
from jixi_geo.errors import (
    CRSError,
    EncodingError,
    InputError,
    InvalidGeometryError,
    JixiGeoWarning,
)
from jixi_geo.sites import SiteProblemsError, iter_sites_csv, read_sites, write_csv_excel

REF = Polygon([(130.95, 45.28), (131.00, 45.28), (131.00, 45.32), (130.96, 45.33)])
POINT = Point(131.02, 45.30)
SQUARE = shapely.box(131.015, 45.295, 131.025, 45.305)
OUT_TAIL = ["site_id", "site_name", "input_crs", "crs_from", "converted_from", "note", "geometry"]


def ref_gdf(crs="EPSG:4490") -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(
        {"名称": ["鸡西矿区扩建", "湿地观测站"], "编号": ["JX-001", "JX-002"], "面积": [12.5, 0.1]},
        geometry=[REF, SQUARE],
        crs="EPSG:4490",
    )
    return g.to_crs(crs) if crs != "EPSG:4490" else g


def assert_same_geometry(read: gpd.GeoDataFrame, expected=(REF, SQUARE)):
    assert read.crs.to_epsg() == 4490
    for got, exp in zip(read.geometry, expected):
        a = shapely.get_coordinates(shapely.normalize(got))
        b = shapely.get_coordinates(shapely.normalize(exp))
        assert a.shape == b.shape
        assert np.abs(a - b).max() < 1e-6
    if expected[0].geom_type == "Polygon":
        area = geodesic_area(read.iloc[:1])[0]
        assert area == pytest.approx(geodesic_area([expected[0]], crs="EPSG:4490")[0], rel=1e-3)


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def d(tmp_path) -> Path:
    p = tmp_path / "in"
    p.mkdir()
    return p


# --------------------------------------------------------------------------- formats


def test_geojson(d):
    f = d / "sites.geojson"
    ref_gdf().to_crs(4326).to_file(f)
    out = read_sites(f)
    assert list(out.columns) == ["名称", "编号", "面积"] + OUT_TAIL
    assert out["site_id"].tolist() == ["JX-001", "JX-002"]  # from 编号
    assert out["名称"].tolist() == ["鸡西矿区扩建", "湿地观测站"]
    assert out["input_crs"].unique().tolist() == ["EPSG:4326"]
    assert out["converted_from"].tolist() == ["", ""]
    assert out["note"].tolist() == ["", ""]  # the file declares its datum: nothing assumed
    assert out["site_name"].tolist() == ["鸡西矿区扩建", "湿地观测站"]  # from 名称
    assert out.attrs["read_sites"]["crs_from"] == "file"
    assert_same_geometry(out)


def test_geopackage_with_layers(d):
    f = d / "sites.gpkg"
    ref_gdf().to_file(f, layer="proposed")
    ref_gdf().iloc[:1].to_file(f, layer="old", mode="a")
    with pytest.raises(InputError, match=r"2 layers.*layer="):
        read_sites(f)
    with pytest.raises(InputError, match="not in sites.gpkg"):
        read_sites(f, layer="nope")
    out = read_sites(f, layer="proposed")
    assert len(out) == 2 and out["input_crs"].iloc[0] == "EPSG:4490"
    assert_same_geometry(out)


def test_shapefile_utf8_with_cpg(d):
    f = d / "sites.shp"
    ref_gdf().to_file(f, encoding="utf-8")
    assert (d / "sites.cpg").exists()
    out = read_sites(f)
    assert out["名称"].tolist() == ["鸡西矿区扩建", "湿地观测站"]
    assert_same_geometry(out)


@pytest.mark.parametrize("enc", ["gbk", "utf-8"])
def test_shapefile_without_cpg_is_detected(d, enc):
    f = d / "sites.shp"
    ref_gdf().to_file(f, encoding=enc)
    (d / "sites.cpg").unlink(missing_ok=True)
    raw = (d / "sites.dbf").read_bytes()
    assert ("鸡西".encode(enc)) in raw  # the fixture really is in that encoding
    out = read_sites(f)
    assert out["名称"].tolist() == ["鸡西矿区扩建", "湿地观测站"]
    assert out["编号"].tolist() == ["JX-001", "JX-002"]
    assert out.attrs["read_sites"]["encoding"] in (("gb18030",) if enc == "gbk" else ("utf-8",))
    # an explicit encoding is used as given
    assert read_sites(f, encoding=enc)["名称"].iloc[0] == "鸡西矿区扩建"


def test_shapefile_wrong_explicit_encoding(d):
    f = d / "sites.shp"
    ref_gdf().to_file(f, encoding="gbk")
    (d / "sites.cpg").unlink(missing_ok=True)
    with pytest.raises(EncodingError, match='encoding="gbk"'):
        read_sites(f, encoding="utf-8")


def test_kml(d):
    f = d / "sites.kml"
    ref_gdf().to_crs(4326).to_file(f, driver="KML")
    out = read_sites(f)
    assert out["编号"].tolist() == ["JX-001", "JX-002"]
    assert out["site_id"].tolist() == ["JX-001", "JX-002"]
    assert out["input_crs"].iloc[0] == "EPSG:4326"
    assert_same_geometry(out)


def _csv_frame():
    return pd.DataFrame({"编号": ["001", "002"], "名称": ["鸡西矿区扩建", "湿地观测站"],
                         "经度": [131.02, 130.98], "纬度": [45.30, 45.31]})


def test_csv_jingdu_weidu_utf8_bom(d):
    f = d / "sites.csv"
    _csv_frame().to_csv(f, index=False, encoding="utf-8-sig")
    out = read_sites(f)
    assert out["site_id"].tolist() == ["001", "002"]  # leading zeros kept
    assert list(out.columns) == ["编号", "名称", "经度", "纬度"] + OUT_TAIL
    assert out.geometry.iloc[0].equals(Point(131.02, 45.30))
    assert out["input_crs"].iloc[0] == "EPSG:4490" and out.attrs["read_sites"]["crs_from"] == "assumed lon/lat"
    assert out["crs_from"].tolist() == ["assumed lon/lat"] * 2


def test_csv_gbk_detected_and_encoding_errors(d):
    f = d / "gbk.csv"
    _csv_frame().to_csv(f, index=False, encoding="gbk")
    out = read_sites(f)
    assert out["名称"].tolist() == ["鸡西矿区扩建", "湿地观测站"]
    assert out.attrs["read_sites"]["encoding"] == "gb18030"
    assert read_sites(f, encoding="gbk")["名称"].iloc[1] == "湿地观测站"
    with pytest.raises(EncodingError, match=r'utf-8.*encoding="gbk"'):
        read_sites(f, encoding="utf-8")
    # a UTF-8 file forced through GBK: either it fails to decode, or it decodes to mojibake
    u = d / "utf8.csv"
    _csv_frame().to_csv(u, index=False, encoding="utf-8")
    with pytest.raises(EncodingError, match='looks like UTF-8: pass encoding="utf-8"'):
        read_sites(u, encoding="gbk")
    text = "名称,lon,lat\n鸡西,131.0,45.3\n"
    assert text.encode("utf-8").decode("gbk")  # decodes, as 鍚嶇О… mojibake
    m = d / "mojibake.csv"
    m.write_bytes(text.encode("utf-8"))
    with pytest.raises(EncodingError, match=r"mojibake.*its bytes are UTF-8.*encoding=\"utf-8\""):
        read_sites(m, encoding="gbk")


def test_csv_already_garbled_text_is_refused(d):
    f = d / "garbled.csv"
    text = _csv_frame().to_csv(index=False)
    f.write_text(text.encode("utf-8").decode("latin-1"), encoding="utf-8")  # double-encoded
    with pytest.raises(EncodingError, match=r"mojibake.*Tried: utf-8"):
        read_sites(f)


def test_csv_other_column_names_and_separators(d):
    f = d / "semi.csv"
    f.write_text("Name;LNG;LAT\nA;131.0;45.3\nB;131.1;45.4\n", encoding="utf-8")
    out = read_sites(f)
    assert out["site_id"].tolist() == ["S0001", "S0002"]
    assert out.geometry.iloc[1].equals(Point(131.1, 45.4))
    g = d / "wkt.csv"
    g.write_text('id,wkt\nP1,"POLYGON ((130.95 45.28, 131 45.28, 131 45.32, 130.96 45.33, '
                 '130.95 45.28))"\n', encoding="utf-8")
    out = read_sites(g)
    assert list(out.columns) == ["id"] + OUT_TAIL and out["site_id"].iloc[0] == "P1"
    assert_same_geometry(out, (REF,))


def test_csv_without_coordinate_columns(d):
    f = d / "nocoords.csv"
    f.write_text("名称,地址\nA,鸡西\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no longitude column.*Columns found: 名称, 地址.*经度/纬度"):
        read_sites(f)


def test_wkt_text_formats(d):
    f = d / "sites.wkt"
    f.write_text(
        "# sites for review\n"
        f"A-1;{REF.wkt}\n"
        f"A-2,{SQUARE.wkt}\n",
        encoding="utf-8",
    )
    out = read_sites(f)
    assert out["site_id"].tolist() == ["A-1", "A-2"]
    assert_same_geometry(out)
    bare = d / "bare.txt"
    bare.write_text(f"{REF.wkt}\n\n{SQUARE.wkt}\n", encoding="utf-8")
    out = read_sites(bare)
    assert out["site_id"].tolist() == ["S0001", "S0002"] and list(out.columns) == OUT_TAIL
    ewkt = d / "ewkt.wkt"
    gk = gpd.GeoSeries([REF], crs=4490).to_crs(4553).iloc[0]
    ewkt.write_text(f"SRID=4553;{gk.wkt}\n", encoding="utf-8")
    out = read_sites(ewkt)
    assert out["input_crs"].iloc[0] == "EPSG:4553"
    assert_same_geometry(out, (REF,))


def test_wkt_text_bad_lines_are_all_listed(d):
    f = d / "bad.wkt"
    f.write_text(f"A;{POINT.wkt}\nB;POLYGON ((1 2, 3\nC;{POINT.wkt}\n;{POINT.wkt}\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read_sites(f)
    msg = str(ei.value)
    assert "line 2: could not parse the WKT" in msg and "line 4: no id" in msg
    assert len(ei.value.problems) == 2


def test_dataframe_and_geodataframe_sources():
    df = pd.DataFrame({"lon": [131.0], "lat": [45.3], "site_id": ["X"]})
    out = read_sites(df)
    assert out["site_id"].tolist() == ["X"] and list(out.columns) == ["lon", "lat"] + OUT_TAIL
    g = ref_gdf().rename_geometry("geom")
    out = read_sites(g)
    assert out.geometry.name == "geometry" and out["site_id"].tolist() == ["JX-001", "JX-002"]
    with pytest.raises(CRSError, match="crs='EPSG:4490'"):
        read_sites(gpd.GeoDataFrame(geometry=[POINT]))
    assert read_sites(gpd.GeoDataFrame(geometry=[POINT]), crs="EPSG:4490")["input_crs"].iloc[0] == "EPSG:4490"
    with pytest.raises(InputError, match="file path, a GeoDataFrame"):
        read_sites(42)
    with pytest.raises(InputError, match="no such file"):
        read_sites("/nonexistent/sites.geojson")


# --------------------------------------------------------------------------- CRS paths


def test_same_polygon_through_every_crs_path(d):
    """4326, 4553, zone-prefixed GK without CRS (4532) and GCJ-02 all give REF in 4490."""
    base = ref_gdf()
    # EPSG:4326 GeoJSON
    f1 = d / "wgs84.geojson"
    base.to_crs(4326).to_file(f1)
    # EPSG:4553 GeoPackage
    f2 = d / "gk.gpkg"
    base.to_crs(4553).to_file(f2)
    # zone-prefixed eastings (EPSG:4532) in a shapefile without .prj, and in a bare WKT file
    f3 = d / "prefixed.shp"
    base.to_crs(4532).to_file(f3, encoding="utf-8")
    (d / "prefixed.prj").unlink()
    f3b = d / "prefixed.wkt"
    f3b.write_text("\n".join(base.to_crs(4532).geometry.to_wkt()), encoding="utf-8")
    # GCJ-02 lon/lat as copied from 高德
    f4 = d / "gcj.geojson"
    gcj = base.copy()
    gcj.geometry = shapely.transform(base.geometry.values,
                                     lambda c: np.column_stack(C.wgs84_to_gcj02(c[:, 0], c[:, 1])))
    gcj.set_crs(4326, allow_override=True).to_file(f4)
    # BD-09 in a CSV with 经度/纬度 (a point)
    f5 = d / "baidu.csv"
    blon, blat = C.wgs84_to_bd09(POINT.x, POINT.y)
    pd.DataFrame({"经度": [blon], "纬度": [blat]}).to_csv(f5, index=False)

    results = {
        "4326": read_sites(f1),
        "4553": read_sites(f2),
        "prefixed shp": read_sites(f3),
        "prefixed wkt": read_sites(f3b),
        "gcj02": read_sites(f4, coords="gcj02"),
    }
    for name, out in results.items():
        assert_same_geometry(out)
    assert results["4553"]["input_crs"].iloc[0] == "EPSG:4553"
    assert results["prefixed shp"]["input_crs"].iloc[0] == "EPSG:4532"
    assert results["prefixed shp"].attrs["read_sites"]["crs_from"] == "zone prefix"
    assert results["gcj02"]["converted_from"].tolist() == ["gcj02", "gcj02"]
    baidu = read_sites(f5, coords="bd09")
    assert_same_geometry(baidu, (POINT,))
    assert baidu["converted_from"].iloc[0] == "bd09" and baidu["input_crs"].iloc[0] == "EPSG:4326"
    # unconverted GCJ-02 is a few hundred metres off: the conversion matters
    raw = read_sites(f4)
    shift = gpd.GeoSeries([raw.geometry.iloc[1], SQUARE], crs=4490).to_crs(4553).centroid
    assert 100 < shift.iloc[0].distance(shift.iloc[1]) < 700


def test_crs_argument_for_sources_without_one(d):
    f = d / "noprj.shp"
    ref_gdf().to_file(f, encoding="utf-8")
    (d / "noprj.prj").unlink()
    with pytest.raises(CRSError, match=r"the shapefile has no \.prj: pass crs='EPSG:4490'"):
        read_sites(f)
    assert_same_geometry(read_sites(f, crs="EPSG:4490"))
    g = d / "gk.csv"
    pts = gpd.GeoSeries([POINT], crs=4490).to_crs(4553)
    pd.DataFrame({"X": pts.x, "Y": pts.y}).to_csv(g, index=False)
    with pytest.raises(CRSError, match="crs='EPSG:4553'"):
        read_sites(g)
    assert_same_geometry(read_sites(g, crs="EPSG:4553"), (POINT,))


def test_crs_argument_never_relabels(d):
    f = d / "s.geojson"
    ref_gdf().to_crs(4326).to_file(f)
    with pytest.raises(CRSError, match="never relabels"):
        read_sites(f, crs="EPSG:4553")
    assert len(read_sites(f, crs="EPSG:4326")) == 2  # agreeing is fine
    with pytest.raises(CRSError, match="not a coordinate reference system"):
        read_sites(f, crs="EPSG:99999999")


def test_projected_file_labelled_4326_is_refused(d):
    f = d / "mislabelled.geojson"
    wrong = ref_gdf().to_crs(4553).set_crs(4326, allow_override=True)
    wrong.to_file(f)
    with pytest.raises(CRSError, match=r"not degrees.*EPSG:4326.*EPSG:4553"):
        read_sites(f)


def test_wrong_gauss_kruger_zone_is_refused(d):
    f = d / "zone.gpkg"
    ref_gdf().to_crs(4553).set_crs(4552, allow_override=True).to_file(f)  # CM 129E instead of 132E
    with pytest.raises(CRSError) as ei:
        read_sites(f)
    msg = str(ei.value)
    assert "far from Jixi" in msg and "Bounds found" in msg and "zone" in msg and "EPSG:4552" in msg


def test_swapped_lon_lat(d):
    f = d / "swapped.csv"
    pd.DataFrame({"id": ["a", "b"], "lon": [45.30, 45.31], "lat": [131.02, 130.98]}).to_csv(f, index=False)
    with pytest.raises(CRSError, match=r"longitude and latitude look swapped for sites a, b"):
        read_sites(f)


def test_site_in_russia_near_the_border_is_accepted():
    # Spassk-Dalny (Russia), ~28 km south of Jixi's bounding box; a site in Beijing is refused
    df = pd.DataFrame({"site_id": ["RU", "JX"], "lon": [132.81, 131.0], "lat": [44.60, 45.3]})
    out = read_sites(df)
    assert out["site_id"].tolist() == ["RU", "JX"]
    bad = pd.DataFrame({"site_id": ["BJ", "JX"], "lon": [116.4, 131.0], "lat": [39.9, 45.3]})
    with pytest.raises(CRSError, match=r"1 of 2 sites lie far from Jixi: BJ.*typos"):
        read_sites(bad)


def test_coords_option_errors():
    df = pd.DataFrame({"lon": [131.0], "lat": [45.3]})
    with pytest.raises(CRSError, match="coords='gcj02'"):
        read_sites(df, coords="google")
    pts = gpd.GeoDataFrame(geometry=[POINT], crs=4490).to_crs(4553)
    with pytest.raises(CRSError, match="Drop coords="):
        read_sites(pts, coords="gcj02")
    assert read_sites(df, coords="wgs84")["converted_from"].iloc[0] == ""


# --------------------------------------------------------------------------- refused inputs


def test_zero_features(d):
    f = d / "empty.geojson"
    f.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputError, match="no sites"):
        read_sites(f)
    c = d / "empty.csv"
    c.write_text("lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError, match="no sites"):
        read_sites(c)
    with pytest.raises(InputError, match="no sites"):
        list(iter_sites_csv(c))


BOWTIE = Polygon([(131.0, 45.3), (131.01, 45.31), (131.01, 45.3), (131.0, 45.31)])


def test_self_intersecting_polygon(d):
    f = d / "bowtie.geojson"
    gpd.GeoDataFrame({"编号": ["B1", "OK"]}, geometry=[BOWTIE, REF], crs=4490).to_file(f)
    with pytest.raises(InvalidGeometryError, match=r"B1: Self-intersection.*make_valid=True"):
        read_sites(f)
    out = read_sites(f, make_valid=True)
    assert out.is_valid.all() and out.geometry.iloc[0].geom_type == "MultiPolygon"
    assert "make_valid" in out["note"].iloc[0] and out["note"].iloc[1] == ""


def test_geometry_collection(d):
    g = gpd.GeoDataFrame({"id": ["gc"]}, geometry=[GeometryCollection([POINT, REF])], crs=4490)
    with pytest.raises(InvalidGeometryError, match=r"GeometryCollection.*gc.*explode"):
        read_sites(g)


def test_z_coordinates_are_dropped_and_noted(d):
    f = d / "z.gpkg"
    z = shapely.force_3d(REF, 230.0)
    gpd.GeoDataFrame({"id": ["z", "flat"]}, geometry=[z, shapely.force_3d(POINT, 0.0)], crs=4490).to_file(f)
    out = read_sites(f)
    assert not out.has_z.any()
    assert out["note"].tolist() == ["Z coordinates dropped", ""]  # z = 0 carries nothing
    assert_same_geometry(out, (REF, POINT))


def test_nan_and_non_numeric_coordinates(d):
    f = d / "nan.csv"
    f.write_text("编号,经度,纬度\nA,131.0,45.3\nB,,45.3\nC,131°02′,45.3\nD,inf,45.3\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read_sites(f)
    msg = str(ei.value)
    assert "'131°02′'" in msg and "decimal degrees" in msg and "(site C)" in msg
    assert "NaN or infinite coordinates: B, D" in msg


def test_non_finite_vertex_named_among_lines_and_polygons():
    # a NaN or infinite vertex deep inside a polygon or line (not its first), among sites
    # with more vertices before them and an absent one: each bad site is named, no other
    bad_ring = Polygon([(131.0, 45.3), (131.01, 45.3), (131.01, float("nan")), (131.0, 45.31)])
    bad_line = shapely.LineString([(131.0, 45.3), (float("inf"), 45.31), (131.02, 45.32)])
    g = gpd.GeoDataFrame({"id": ["ref", "none", "ring", "sq", "line", "pt"]},
                         geometry=[REF, None, bad_ring, SQUARE, bad_line, POINT], crs=4490)
    with pytest.raises(InputError) as ei:
        read_sites(g)
    msg = str(ei.value)
    assert "NaN or infinite coordinates: ring, line;" in msg
    assert "without geometry (null or empty): none" in msg


def test_null_and_empty_geometry():
    g = gpd.GeoDataFrame({"id": ["n", "e", "ok"]}, geometry=[None, Polygon(), POINT], crs=4490)
    with pytest.raises(InvalidGeometryError, match=r"without geometry \(null or empty\): n, e"):
        read_sites(g)


def test_duplicate_ids(d):
    df = pd.DataFrame({"code": ["A", "B", "A", "C", "C"], "lon": [131.0] * 5, "lat": [45.3] * 5})
    with pytest.raises(InputError, match=r"duplicate site ids in column 'code': A, C"):
        read_sites(df, id_column="code")
    with pytest.raises(InputError, match="id_column='nope' is not a column"):
        read_sites(df, id_column="nope")
    # an auto-detected 编号 column that is not unique is not used: ids are generated
    auto = df.rename(columns={"code": "编号"})
    assert read_sites(auto)["site_id"].tolist() == ["S0001", "S0002", "S0003", "S0004", "S0005"]
    # … but a column called site_id must be unique
    with pytest.raises(InputError, match="duplicate site ids in column 'site_id'"):
        read_sites(df.rename(columns={"code": "site_id"}))


def test_all_problems_in_one_error():
    g = gpd.GeoDataFrame(
        {"site_id": ["bow", "gc", "null", "ok"]},
        geometry=[BOWTIE, GeometryCollection([POINT]), None, POINT],
        crs=4490,
    )
    with pytest.raises(InvalidGeometryError) as ei:  # three geometry problems, one class
        read_sites(g)
    assert len(ei.value.problems) == 3 and not isinstance(ei.value, SiteProblemsError)
    for text in ("null or empty): null", "GeometryCollection", "bow: Self-intersection"):
        assert text in str(ei.value)
    g2 = g.assign(site_id=["x", "x", "n", "ok"])
    with pytest.raises(SiteProblemsError) as ei:
        read_sites(g2)
    err = ei.value
    assert isinstance(err, InputError) and isinstance(err, InvalidGeometryError)
    assert "duplicate site ids" in str(err) and "Self-intersection" in str(err)


def test_id_check_on_a_thread_reports_the_same(monkeypatch):
    """Large inputs check ids on a second thread: the same problems, in the same order,
    and errors raised there reach the caller."""
    import jixi_geo.readers.checks as S

    g = gpd.GeoDataFrame({"site_id": ["x", "x", "n", "ok"]},
                         geometry=[BOWTIE, GeometryCollection([POINT]), None, POINT], crs=4490)
    seen = {}
    for threaded in (False, True):
        monkeypatch.setattr(S, "BACKGROUND_MIN", 1 if threaded else 10**12)
        with pytest.raises(SiteProblemsError) as ei:
            read_sites(g)
        seen[threaded] = ei.value.problems
        with pytest.raises(InputError, match="id_column='nope' is not a column"):
            read_sites(g, id_column="nope")
        assert read_sites(g.iloc[[3]])["site_id"].tolist() == ["ok"]
    assert seen[True] == seen[False] and any("duplicate site ids" in p for p in seen[True])


def test_reserved_column_names_are_kept():
    df = pd.DataFrame({"lon": [131.0], "lat": [45.3], "note": ["业主备注"], "site_id": ["old"],
                       "code": ["K1"]})
    out = read_sites(df)
    # lon/lat in a table that states no CRS: the note says which datum was assumed (issue 15)
    assert out["note_input"].iloc[0] == "业主备注" and out["note"].iloc[0] == DATUM_NOTE
    assert out["site_id"].iloc[0] == "old" and "site_id_input" not in out
    out = read_sites(df, id_column="code")
    assert out["site_id"].iloc[0] == "K1" and out["site_id_input"].iloc[0] == "old"
    assert list(out.columns) == ["lon", "lat", "note_input", "site_id_input", "code"] + OUT_TAIL


# --------------------------------------------------------------------------- read-only


def test_input_files_are_not_modified(d):
    ref_gdf().to_crs(4326).to_file(d / "a.geojson")
    ref_gdf().to_file(d / "b.gpkg")
    ref_gdf().to_file(d / "c.shp", encoding="gbk")
    (d / "c.cpg").unlink()
    ref_gdf().to_crs(4326).to_file(d / "d.kml", driver="KML")
    _csv_frame().to_csv(d / "e.csv", index=False, encoding="gbk")
    (d / "f.wkt").write_text(f"A;{REF.wkt}\n", encoding="utf-8")
    before = snapshot(d)
    for name in ("a.geojson", "b.gpkg", "c.shp", "d.kml", "e.csv", "f.wkt"):
        read_sites(d / name)
    list(iter_sites_csv(d / "e.csv", chunksize=1))
    with pytest.raises(CRSError):
        read_sites(d / "a.geojson", crs="EPSG:4553")
    assert snapshot(d) == before  # same files, same bytes, nothing added


# --------------------------------------------------------------------------- CSV out, streaming


def test_write_csv_excel_round_trip(tmp_path):
    sites = read_sites(ref_gdf())
    f = write_csv_excel(sites, tmp_path / "out" / "sites.csv")
    data = f.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "鸡西矿区扩建".encode() in data
    assert [p.name for p in f.parent.iterdir()] == ["sites.csv"]  # no temporary left behind
    back = read_sites(f)
    assert back["site_id"].tolist() == ["JX-001", "JX-002"]
    assert back["input_crs_input"].tolist() == ["EPSG:4490"] * 2
    assert_same_geometry(back)
    write_csv_excel(pd.DataFrame({"a": [1]}), f)  # replaces atomically
    assert f.read_text(encoding="utf-8-sig") == "a\n1\n"


def test_write_csv_excel_warns_about_excel_cell_limit(tmp_path):
    big = Point(131.0, 45.3).buffer(0.01, quad_segs=2000)
    with pytest.warns(JixiGeoWarning, match="32767"):
        write_csv_excel(gpd.GeoDataFrame(geometry=[big], crs=4490), tmp_path / "big.csv")


def test_iter_sites_csv_matches_read_sites(d):
    f = d / "many.csv"
    n = 25
    rng = np.random.default_rng(1)
    pd.DataFrame({"名称": [f"站{i}" for i in range(n)], "经度": rng.uniform(130.5, 133.5, n),
                  "纬度": rng.uniform(45.0, 46.5, n)}).to_csv(f, index=False, encoding="gbk")
    chunks = list(iter_sites_csv(f, chunksize=10, coords="gcj02"))
    assert [len(c) for c in chunks] == [10, 10, 5]
    streamed = pd.concat(chunks)
    whole = read_sites(f, coords="gcj02")
    assert streamed["site_id"].tolist() == whole["site_id"].tolist() == [f"S{i:04d}" for i in range(1, n + 1)]
    assert streamed.index.tolist() == list(range(n))
    assert streamed.geometry.geom_equals_exact(whole.geometry, 1e-12).all()
    assert (streamed["名称"] == whole["名称"]).all()


def test_iter_sites_csv_checks_ids_before_streaming(d):
    f = d / "dups.csv"
    pd.DataFrame({"site_id": ["a", "b", "c", "a"], "lon": [131.0] * 4, "lat": [45.3] * 4}).to_csv(f, index=False)
    with pytest.raises(InputError, match="duplicate site ids in column 'site_id': a"):
        iter_sites_csv(f, chunksize=2)  # raised by the call, before any chunk
    g = d / "bad_row.csv"
    pd.DataFrame({"lon": [131.0, 131.0, np.nan], "lat": [45.3] * 3}).to_csv(g, index=False)
    it = iter_sites_csv(g, chunksize=2)
    assert len(next(it)) == 2
    with pytest.raises(InputError, match="S0003"):
        next(it)


@pytest.mark.slow
def test_iter_sites_csv_streams_a_large_file_in_bounded_memory(tmp_path):
    f = tmp_path / "big.csv"
    n = 1_000_000
    rng = np.random.default_rng(0)
    pd.DataFrame({
        "名称": np.char.add("站点", np.arange(n).astype(str)),
        "经度": np.round(rng.uniform(130.5, 133.8, n), 6),
        "纬度": np.round(rng.uniform(44.9, 46.5, n), 6),
    }).to_csv(f, index=False)
    size = f.stat().st_size
    assert size > 30e6
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        rows = 0
        last = None
        for chunk in iter_sites_csv(f, chunksize=100_000):
            rows += len(chunk)
            last = chunk["site_id"].iloc[-1]
            assert chunk.crs.to_epsg() == 4490
            del chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == n and last == "S1000000"
    growth = peak - base
    # bounded by the chunk (~450 B/row × 100 000 rows), not the file: well below size × 5
    assert growth < 2 * size


@pytest.mark.parametrize("crs_from, input_crs, head", [
    ("zone prefix", "EPSG:4532", "坐标系由带号推断为 CGCS2000 3° 带 44 (EPSG:4532)；若为北京54/西安80请用 --crs 指定 / "
                                 "CRS inferred from the zone prefix of the eastings as CGCS2000 3-degree zone 44 "
                                 "(EPSG:4532)"),
    ("zone prefix", "EPSG:4500", "坐标系由带号推断为 CGCS2000 6° 带 22 (EPSG:4500)；若为北京54/西安80请用 --crs 指定 / "
                                 "CRS inferred from the zone prefix of the eastings as CGCS2000 6-degree zone 22 "
                                 "(EPSG:4500)"),
    ("assumed lon/lat", "EPSG:4326", "文件未注明坐标系，经纬度按 WGS 84 (EPSG:4326) 读取；若为其他坐标系请用 --crs 指定 / "
                                     "The file states no CRS: lon/lat read as WGS 84 (EPSG:4326)"),
    ("file", "EPSG:4532", ""), ("given", "EPSG:4490", ""),
])
def test_crs_note_names_the_inferred_crs(crs_from, input_crs, head):
    from jixi_geo.sites import crs_note

    note = crs_note(crs_from, input_crs)
    assert note.startswith(head) and bool(note) == bool(head)
    if crs_from == "zone prefix":
        assert note.endswith("if the data are Beijing 1954 or Xian 1980, give the CRS with --crs (crs= in Python).")
    # a CRS that is not a Gauss-Kruger zone is named as it is
    assert crs_note("zone prefix", "EPSG:4490").startswith("坐标系由带号推断为 CGCS2000 China Geodetic Coordinate System 2000")


@pytest.mark.parametrize("code", [2441, 2389, 4214])  # Beijing 1954 GK, Xian 1980 GK, Beijing 1954 lon/lat
def test_sites_on_a_ballpark_datum_are_refused_not_shifted_by_zero(code):
    """A frame or file in Beijing 1954 / Xian 1980 would be moved to CGCS2000 by PROJ's null shift
    (tens of metres off, silently): refused with the fix, Chinese first; +towgs84 is accepted."""
    import geopandas as gpd
    from pyproj import CRS
    from shapely import Point

    import jixi_geo as jg
    from jixi_geo.errors import CRSError

    xy = (132.0, 45.3) if CRS.from_epsg(code).is_geographic else (500_000.0, 5_015_000.0)
    g = gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[Point(*xy)], crs=code)
    with pytest.raises(CRSError) as e:
        jg.read_sites(g)
    assert "+towgs84" in str(e.value) and "坐标系" in str(e.value) and f"EPSG:{code}" in str(e.value)
    bound = CRS.from_epsg(code).to_proj4() + " +towgs84=24,-123,-94,0.02,-0.25,-0.13,1.1"
    assert len(jg.read_sites(g.set_crs(bound, allow_override=True))) == 1


def test_read_frame_shares_nothing_writable_with_the_input():
    """read_sites builds its result from its own columns without copying them: writing into the
    result never reaches the caller's frame, nor the other way round."""
    g = ref_gdf()
    before = g.copy()
    out = read_sites(g)
    out.loc[out.index[0], "名称"] = "改了"
    out.loc[out.index[0], "geometry"] = POINT
    pd.testing.assert_frame_equal(pd.DataFrame(g.drop(columns="geometry")), pd.DataFrame(before.drop(columns="geometry")))
    assert g.geometry.geom_equals_exact(before.geometry, 0).all()
    g.loc[g.index[1], "名称"] = "也改了"
    assert out["名称"].iloc[1] == before["名称"].iloc[1]
