"""Site files as planners receive them (issue 15, section 1): 部标 界址点 TXT, CAD DXF,
Excel point and 界址点 tables, a GBK Shapefile with 项目名称.

Every input is built here. Each is checked through the CLI against the same sites
given as GeoJSON: same verdicts, areas within 0.1% of an area computed
independently (shoelace in the Gauss-Kruger plane), names in the report, bad
files refused with exit 3 and a message in Chinese first. Inputs stay unchanged
and nothing is written beside them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from jixi_geo import read_sites
from jixi_geo.readers.planner import gk_crs, parse_dms
from jixi_geo.readers.planner_formats import DATUM_NOTE
from jixi_geo.cli import main

ezdxf = pytest.importorskip("ezdxf")
openpyxl = pytest.importorskip("openpyxl")

GK44 = "EPSG:4532"  # CGCS2000 3-degree Gauss-Kruger zone 44 (eastings with the 44 prefix)
_TO_GK = pyproj.Transformer.from_crs(4490, 4532, always_xy=True)
_GEOD = pyproj.Geod(ellps="GRS80")  # CGCS2000's ellipsoid, for an independent geodesic area
# inside 兴凯湖国家级自然保护区 (prohibited) and in open farmland west of Jixi city (clear)
IN_RESERVE = (132.45, 45.43)
OPEN_LAND = (131.05, 45.45)
CJK = re.compile(r"[\u4e00-\u9fff]")


def square(lonlat, half_m: float) -> list[tuple[float, float]]:
    """Corners (east, north) of a square of side 2 × half_m metres around lon/lat, counter-clockwise."""
    x, y = _TO_GK.transform(*lonlat)
    x, y = round(x, 3), round(y, 3)
    return [(x - half_m, y - half_m), (x + half_m, y - half_m), (x + half_m, y + half_m), (x - half_m, y + half_m)]


def shoelace_ha(ring) -> float:
    """Planar area of a ring (x, y) in hectares, by the shoelace formula."""
    xy = np.asarray(ring, dtype=float)
    x, y = xy[:, 0], xy[:, 1]
    return abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2 / 10_000


def geodesic_ha(geom) -> float:
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 10_000


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def run(args):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def check(path: Path, out: Path, *extra) -> pd.DataFrame:
    """Run the CLI on ``path``; assert the input is unchanged and nothing appeared beside it."""
    before = {p.name: sha(p) for p in path.parent.iterdir() if p.is_file()}
    r = run([path, "--out", out, *extra])
    assert r.exit_code in (0, 1), r.output
    after = {p.name: sha(p) for p in path.parent.iterdir() if p.is_file()}
    assert after == before  # inputs unchanged (sha256), no file created beside them
    return pd.read_csv(out / "results.csv", dtype={"site_id": str}, keep_default_na=False)


def chinese_first(message: str, english: str) -> None:
    """The message says it in Chinese before it says it in English."""
    body = message.split("error:", 1)[-1]
    m = CJK.search(body)
    assert m is not None, message
    assert english in body, message
    assert m.start() < body.index(english), message


def refused(path: Path, tmp_path: Path, english: str, *extra) -> str:
    before = sha(path)
    r = run([path, "--out", tmp_path / "refused", *extra])
    assert r.exit_code == 3, r.output
    assert not (tmp_path / "refused").exists()
    assert sha(path) == before
    chinese_first(r.stderr, english)
    return r.stderr


def geojson_reference(tmp_path: Path, geoms_gk, names, stem="ref") -> pd.DataFrame:
    """The same sites as GeoJSON (built from the same coordinates with geopandas), checked by the CLI."""
    d = tmp_path / f"{stem}_in"
    d.mkdir()
    f = d / "ref.geojson"
    gpd.GeoDataFrame({"名称": names}, geometry=geoms_gk, crs=GK44).to_crs(4326).to_file(f)
    return check(f, tmp_path / f"{stem}_out")


def same_verdicts_and_areas(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert got["verdict"].tolist() == ref["verdict"].tolist()
    for a, b in zip(got["overlap_ha"], ref["overlap_ha"]):
        assert (a == "" and b == "") or abs(float(a) - float(b)) <= 0.001 * max(float(b), 1e-9)


# --------------------------------------------------------------------------- 部标 TXT


def bubiao_text(parcels, *, header=None) -> str:
    """A 部标 界址点 file: ``parcels`` = [(name, number, [ring, ...], declared ha or None, kind)]."""
    head = {"格式版本号": "1.01", "数据产生单位": "某测绘院", "坐标系": "2000国家大地坐标系", "几度分带": "3",
            "投影类型": "高斯克吕格", "计量单位": "米", "带号": "44", "精度": "0.001", "转换参数": ",,,,,,"}
    head.update(header or {})
    lines = ["[属性描述]"] + [f"{k}={v}" for k, v in head.items() if v is not None] + ["[地块坐标]"]
    for name, no, rings, declared, kind, *jz in parcels:
        rows = []
        k = 1
        for r, ring in enumerate(rings, start=1):
            for x, y in list(ring) + [ring[0]]:
                rows.append(f"J{k},{r},{y:.3f},{x:.3f}")  # X = north, Y = east
                k += 1
        area = declared if declared is not None else shoelace_ha(rings[0]) - sum(map(shoelace_ha, rings[1:]))
        n = jz[0] if jz else len(rows)
        lines.append(f"{n},{area:.4f},{no},{name},{kind},L52G001001,建设用地,0601,,@")
        lines += rows
    return "\r\n".join(lines) + "\r\n"


def write_gbk(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("gbk"))
    return path


@pytest.fixture()
def two_parcels():
    outer = square(IN_RESERVE, 400)  # 64 ha
    hole = square(IN_RESERVE, 100)[::-1]  # 4 ha, clockwise as surveyors often draw holes
    other = square(OPEN_LAND, 300)  # 36 ha
    return [("湖滨安置区地块", "D-01", [outer, hole], None, "面"), ("东方红物流园", "D-02", [other], None, "面")]


def test_bubiao_gbk_two_parcels_one_with_a_hole_matches_geojson(tmp_path, two_parcels):
    f = write_gbk(tmp_path / "in" / "界址点.txt", bubiao_text(two_parcels))
    got = check(f, tmp_path / "out")
    (_, _, (outer, hole), _, _), (_, _, (other,), _, _) = two_parcels
    ref = geojson_reference(tmp_path, [shapely.Polygon(outer, [hole]), shapely.Polygon(other)],
                            ["湖滨安置区地块", "东方红物流园"])
    same_verdicts_and_areas(got, ref)
    assert got["verdict"].tolist() == ["prohibited", "clear"]
    assert got["site_id"].tolist() == ["D-01", "D-02"]  # 地块编号
    assert got["site_name"].tolist() == ["湖滨安置区地块", "东方红物流园"]  # 地块名称
    assert got["input_crs"].tolist() == ["EPSG:4532"] * 2  # 2000 3° zone 44 = EPSG:4513 + 19
    # the hole is subtracted: 64 − 4 = 60 ha, wholly inside the reserve
    expect = shoelace_ha(outer) - shoelace_ha(hole)
    assert expect == pytest.approx(60.0, abs=1e-6)
    assert float(got["overlap_ha"].iloc[0]) == pytest.approx(expect, rel=1e-3)
    geoms = gpd.read_file(tmp_path / "out" / "results.geojson").geometry
    assert geodesic_ha(geoms.iloc[0]) == pytest.approx(expect, rel=1e-3)
    assert geodesic_ha(geoms.iloc[1]) == pytest.approx(shoelace_ha(other), rel=1e-3)
    assert len(geoms.iloc[0].interiors) == 1
    assert "岛洞" in got["note"].iloc[0]  # the decision is said
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "湖滨安置区地块" in html and "东方红物流园" in html
    assert "面积差" not in got["note"].iloc[0]  # declared areas agree: no finding


def test_bubiao_utf8_bom_without_zone_prefix_and_ring_outside_is_a_part(tmp_path):
    a = square(OPEN_LAND, 200)
    b = [(x + 2000, y) for x, y in a]  # a second ring 2 km east: another part, not a hole
    text = bubiao_text([("两片地", "P1", [a, b], None, "面")])
    # 去大数: drop the 44 prefix from every easting; 带号 in the header still says 44
    text = re.sub(r",44(\d{6}\.\d{3})", r",\1", text)
    f = tmp_path / "in" / "p.txt"
    f.parent.mkdir()
    f.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    out = read_sites(f)
    assert out["input_crs"].iloc[0] == "EPSG:4553"  # CM 132E without prefix = EPSG:4534 + 19
    g = out.to_crs(4553).geometry.iloc[0]
    assert g.geom_type == "MultiPolygon" and g.area / 1e4 == pytest.approx(2 * shoelace_ha(a), rel=1e-6)
    assert "另一部分" in out["note"].iloc[0] and "去大数" in out["note"].iloc[0]


def test_bubiao_declared_area_checked_against_coordinates(tmp_path):
    ring = square(OPEN_LAND, 300)  # 36 ha
    f = write_gbk(tmp_path / "in" / "a.txt", bubiao_text([("甲", "1", [ring], 40.0, "面"),
                                                             ("乙", "2", [square(IN_RESERVE, 50)], None, "面")]))
    out = read_sites(f)
    assert "申报面积 40 公顷" in out["note"].iloc[0] and "36.0000" in out["note"].iloc[0]
    assert out["面积差_公顷"].iloc[0] == pytest.approx(-4.0, abs=1e-4)
    assert "申报面积" not in out["note"].iloc[1]


def test_bubiao_line_and_point_parcels(tmp_path):
    line = square(OPEN_LAND, 500)[:2]
    f = write_gbk(tmp_path / "in" / "l.txt", bubiao_text([("道路", "R1", [line], 0, "线"),
                                                           ("井位", "W1", [[square(IN_RESERVE, 1)[0]]], 0, "点")]))
    out = read_sites(f)
    assert out.geometry.geom_type.tolist()[0] == "LineString"
    assert out.geometry.geom_type.tolist()[1] in ("Point", "MultiPoint")


@pytest.mark.parametrize("case, english", [
    ("not_closed", "is not closed"),
    ("jzds", "JZDS=9"),
    ("beijing54", "no accurate transformation to CGCS2000"),
    ("zone_mismatch", "the header says zone 43"),
    ("no_zone", "pass --crs"),
    ("bad_zone", "has no EPSG code"),
])
def test_bubiao_refusals(tmp_path, case, english):
    ring = square(OPEN_LAND, 300)
    header, parcels = {}, [("甲", "1", [ring], None, "面")]
    if case == "jzds":
        parcels = [("甲", "1", [ring], None, "面", 9)]
    elif case == "beijing54":
        header = {"坐标系": "1954北京坐标系"}
    elif case == "zone_mismatch":
        header = {"带号": "43"}
    elif case == "bad_zone":
        header = {"带号": "46"}
    text = bubiao_text(parcels, header=header)
    if case == "not_closed":  # drop the closing point J5, and say 4 points
        lines = [ln for ln in text.split("\r\n") if not ln.startswith("J5,")]
        text = "\r\n".join("4" + ln[1:] if ln.endswith("@") else ln for ln in lines)
    if case in ("no_zone", "bad_zone"):
        text = re.sub(r",44(\d{6}\.\d{3})", r",\1", text)
        if case == "no_zone":
            text = text.replace("带号=44\r\n", "")
    f = write_gbk(tmp_path / "in" / "x.txt", text)
    msg = refused(f, tmp_path, english)
    if case == "beijing54":
        assert "1954北京坐标系" in msg and "EPSG:2420" in msg  # 北京54 3° zone 44, checked with pyproj


def test_wkt_txt_files_still_read_as_wkt(tmp_path):
    f = tmp_path / "w.txt"
    f.write_text("A;POINT (131.05 45.45)\n", encoding="utf-8")
    assert read_sites(f)["site_id"].tolist() == ["A"]


# --------------------------------------------------------------------------- Gauss-Kruger codes


def test_every_gauss_kruger_code_in_the_table_is_the_one_pyproj_names():
    table = pd.read_csv(Path(__file__).resolve().parents[1] / "layers" / "rules" / "gk_zone_crs.csv", dtype=str)
    n = 0
    for r in table.itertuples():
        for zone in range(int(r.first_zone), int(r.last_zone) + 1):
            crs, shift = gk_crs(r.datum, int(r.zone_width), zone, prefixed=r.zone_prefix == "yes")
            cm = zone * 3 if r.zone_width == "3" else zone * 6 - 3
            assert crs.name.startswith(r.datum)
            assert crs.name.endswith(f"zone {zone}" if r.zone_prefix == "yes" else f"CM {cm}E")
            params = {p.name: p.value for p in crs.coordinate_operation.params}
            assert params["Longitude of natural origin"] == cm
            assert params["False easting"] == (zone * 1e6 + 5e5 if r.zone_prefix == "yes" else 5e5)
            assert shift == ("identity" if r.datum == "CGCS2000" else "ballpark")
            n += 1
    assert n == 3 * 2 * (21 + 11)  # 3 datums × (prefixed, plain) × (21 3° zones + 11 6° zones)
    assert gk_crs("CGCS2000", 3, 44, prefixed=True)[0].to_epsg() == 4532
    assert gk_crs("CGCS2000", 3, 44, prefixed=False)[0].to_epsg() == 4553


# --------------------------------------------------------------------------- DXF


def make_dxf(path: Path, *, prefix=True, extra_layer=False) -> dict:
    poly = square(IN_RESERVE, 300)
    line_pts = square(OPEN_LAND, 400)[:2]
    shift = 0 if prefix else -44_000_000
    poly = [(x + shift, y) for x, y in poly]
    line_pts = [(x + shift, y) for x, y in line_pts]
    doc = ezdxf.new("R2000")
    doc.encoding = "gbk"  # written with $DWGCODEPAGE = ANSI_936
    msp = doc.modelspace()
    msp.add_lwpolyline(poly, close=True, dxfattribs={"layer": "红线"})
    msp.add_lwpolyline(line_pts, dxfattribs={"layer": "红线"})
    cx = sum(p[0] for p in poly) / 4
    cy = sum(p[1] for p in poly) / 4
    msp.add_text("兴凯湖观测站", dxfattribs={"insert": (cx, cy), "layer": "注记"})
    msp.add_text("图例说明", dxfattribs={"insert": (cx + 50_000, cy), "layer": "注记"})
    if extra_layer:
        msp.add_lwpolyline(square(OPEN_LAND, 100), close=True, dxfattribs={"layer": "底图"})
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.saveas(path)
    return {"poly": poly, "line": line_pts}


def test_dxf_closed_polyline_is_a_polygon_named_by_its_label(tmp_path):
    f = tmp_path / "in" / "红线.dxf"
    g = make_dxf(f)
    assert b"ANSI_936" in f.read_bytes() and "兴凯湖观测站".encode("gbk") in f.read_bytes()
    got = check(f, tmp_path / "out")
    ref = geojson_reference(tmp_path, [shapely.Polygon(g["poly"]), shapely.LineString(g["line"])], ["a", "b"])
    same_verdicts_and_areas(got, ref)
    assert got["verdict"].tolist() == ["prohibited", "clear"]
    # a polygon, with its area (not the perimeter as a line length)
    assert float(got["overlap_ha"].iloc[0]) == pytest.approx(shoelace_ha(g["poly"]), rel=1e-3)
    assert got["overlap_m"].iloc[0] == ""
    assert got["site_name"].tolist() == ["兴凯湖观测站", ""]
    assert len(got) == 2  # the labels are not sites
    assert "图例说明" in got["note"].iloc[0]  # the text outside every polygon is listed
    assert "开口多段线" in got["note"].iloc[1]
    geoms = gpd.read_file(tmp_path / "out" / "results.geojson").geometry
    assert geoms.geom_type.tolist() == ["Polygon", "LineString"]
    assert "兴凯湖观测站" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_dxf_layer_choice(tmp_path):
    f = tmp_path / "in" / "a.dxf"
    make_dxf(f, extra_layer=True)
    assert len(read_sites(f)) == 3
    out = read_sites(f, cad_layer="红线")
    assert len(out) == 2 and set(out["图层"]) == {"红线"}
    r = run([f, "--cad-layer", "红线", "--out", tmp_path / "o"])
    assert r.exit_code == 1 and "prohibited=1" in r.output
    refused(f, tmp_path, "has no layer 道路", "--cad-layer", "道路")


def test_dxf_without_prefix_needs_crs(tmp_path):
    f = tmp_path / "in" / "b.dxf"
    g = make_dxf(f, prefix=False)
    refused(f, tmp_path, "a DXF carries no CRS")
    got = check(f, tmp_path / "out", "--crs", "EPSG:4553")
    assert got["verdict"].tolist() == ["prohibited", "clear"]
    assert float(got["overlap_ha"].iloc[0]) == pytest.approx(shoelace_ha(g["poly"]), rel=1e-3)


def test_dwg_is_refused_with_save_as_dxf(tmp_path):
    f = tmp_path / "in" / "a.dwg"
    f.parent.mkdir()
    f.write_bytes(b"AC1032" + bytes(200))
    msg = refused(f, tmp_path, "save it as DXF")
    assert "另存为 DXF" in msg
    g = tmp_path / "in" / "disguised.dxf"  # a DWG renamed .dxf: its first bytes tell
    g.write_bytes(b"AC1027" + bytes(200))
    refused(g, tmp_path, "save it as DXF")


# --------------------------------------------------------------------------- Excel


def test_excel_points_with_dms_text_match_geojson(tmp_path):
    f = tmp_path / "in" / "点位.xlsx"
    f.parent.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "场址"
    ws.append(["名称", "经度", "纬度"])
    ws.append(["观测站", "132°27′0″", "45°25′48″"])  # 132.45, 45.43
    ws.append(["物流园", 131.05, 45.45])
    wb.create_sheet("说明").append(["本表坐标为 CGCS2000"])
    wb.save(f)
    got = check(f, tmp_path / "out")
    ref = geojson_reference(tmp_path, gpd.GeoSeries.from_xy([132.45, 131.05], [45.43, 45.45], crs=4490)
                            .to_crs(GK44).values, ["观测站", "物流园"])
    assert got["verdict"].tolist() == ref["verdict"].tolist() == ["prohibited", "clear"]
    assert got["site_name"].tolist() == ["观测站", "物流园"]
    assert (got["note"].str.contains(DATUM_NOTE, regex=False)).all()  # the datum assumed is stated
    assert "观测站" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    got2 = check(f, tmp_path / "out2", "--coords", "gcj02")
    assert not got2["note"].str.contains("坐标按 CGCS2000", regex=False).any()


def boundary_xlsx(path: Path, parcels, *, header=("地块号", "地块名称", "点号", "X", "Y"), swap=False) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["鸡西某项目界址点坐标成果表"])  # a title row above the header
    ws.append(list(header))
    for no, name, ring in parcels:
        for k, (x, y) in enumerate(ring + ring[:1]):
            ws.append([no if k == 0 else None, name if k == 0 else None, f"J{k + 1}",
                       *((round(x, 3), round(y, 3)) if swap else (round(y, 3), round(x, 3)))])
    ws.append(["合计", None, None, None, None])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_excel_boundary_point_table_matches_geojson(tmp_path):
    a, b = square(IN_RESERVE, 250), square(OPEN_LAND, 350)
    f = tmp_path / "in" / "界址点.xlsx"
    boundary_xlsx(f, [("A1", "湖区站", a), ("A2", "物流园", b)])
    got = check(f, tmp_path / "out", "--sheet", "1")
    ref = geojson_reference(tmp_path, [shapely.Polygon(a), shapely.Polygon(b)], ["湖区站", "物流园"])
    same_verdicts_and_areas(got, ref)
    assert got["site_id"].tolist() == ["A1", "A2"] and got["site_name"].tolist() == ["湖区站", "物流园"]
    assert float(got["overlap_ha"].iloc[0]) == pytest.approx(shoelace_ha(a), rel=1e-3)
    assert got["note"].str.contains("Y 列以 44 开头，判断为东坐标（X=北）", regex=False).all()
    assert got["note"].str.contains("合计行已跳过", regex=False).all()


def test_excel_axes_decided_from_values_never_silently(tmp_path):
    a = square(IN_RESERVE, 250)
    f = tmp_path / "in" / "swapped.xlsx"
    boundary_xlsx(f, [("A1", "湖区站", a)], swap=True)  # X holds the easting: GIS habit
    out = read_sites(f)
    assert out.to_crs(GK44).geometry.iloc[0].area / 1e4 == pytest.approx(shoelace_ha(a), rel=1e-6)
    assert "X 列以 44 开头" in out["note"].iloc[0] and "与列名的测量习惯相反" in out["note"].iloc[0]
    # both columns alike: refuse rather than guess
    g = tmp_path / "in2" / "ambiguous.xlsx"
    boundary_xlsx(g, [("A1", "x", [(500_000 + dx, 500_100 + dy) for dx, dy in ((0, 0), (99, 0), (99, 99))])])
    refused(g, tmp_path, "cannot tell from the values which of X/Y is the northing")


def test_excel_xy_columns_holding_degrees_are_lon_lat_by_value(tmp_path):
    f = tmp_path / "in" / "xy.xlsx"
    f.parent.mkdir()
    wb = openpyxl.Workbook()
    wb.active.append(["名称", "X", "Y"])
    wb.active.append(["甲", 45.43, 132.45])  # X = north: the latitude first
    wb.save(f)
    out = read_sites(f)
    assert (out.geometry.x.iloc[0], out.geometry.y.iloc[0]) == pytest.approx((132.45, 45.43))
    assert "Y 为经度" in out["note"].iloc[0] and DATUM_NOTE in out["note"].iloc[0]


def test_excel_sheet_and_unknown_sheet(tmp_path):
    f = tmp_path / "in" / "b.xlsx"
    boundary_xlsx(f, [("A1", "湖区站", square(IN_RESERVE, 250))])
    refused(f, tmp_path, "has no sheet '坐标'", "--sheet", "坐标")
    csv = tmp_path / "in" / "c.csv"
    csv.write_text("经度,纬度\n131.05,45.45\n", encoding="utf-8")
    refused(csv, tmp_path, "--sheet is for Excel files", "--sheet", "1")


def test_parse_dms():
    assert parse_dms("131°58′12″") == pytest.approx(131.97)
    assert parse_dms("45度30分36秒") == pytest.approx(45.51)
    assert parse_dms("45°30'36\"N") == pytest.approx(45.51)
    assert np.isnan(parse_dms("45°75′")) and np.isnan(parse_dms("东经"))


# --------------------------------------------------------------------------- names


def test_gbk_shapefile_with_project_name_column(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    geoms = [shapely.Polygon(square(IN_RESERVE, 200)), shapely.Polygon(square(OPEN_LAND, 200))]
    gdf = gpd.GeoDataFrame({"项目名称": ["兴凯湖码头", "东方红物流园"], "编号": ["X1", "X2"]}, geometry=geoms, crs=GK44)
    gdf.to_file(d / "sites.shp", encoding="gbk")
    (d / "sites.cpg").unlink(missing_ok=True)  # as planners receive them: GBK .dbf, no .cpg
    assert "兴凯湖码头".encode("gbk") in (d / "sites.dbf").read_bytes()
    got = check(d / "sites.shp", tmp_path / "out")
    ref = geojson_reference(tmp_path, geoms, ["兴凯湖码头", "东方红物流园"])
    same_verdicts_and_areas(got, ref)
    assert got["site_name"].tolist() == ["兴凯湖码头", "东方红物流园"]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<td>兴凯湖码头</td>" in html and "<td>东方红物流园</td>" in html
    got2 = check(d / "sites.shp", tmp_path / "out2", "--name-column", "编号")
    assert got2["site_name"].tolist() == ["X1", "X2"]
    refused(d / "sites.shp", tmp_path, "is not a column of the input", "--name-column", "项目")


def test_kml_placemark_names(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    gpd.GeoDataFrame({"Name": ["奥维标注一"]}, geometry=[shapely.Point(131.05, 45.45)], crs=4326).to_file(
        d / "a.kml", driver="KML")
    out = read_sites(d / "a.kml")
    assert out["site_name"].tolist() == ["奥维标注一"]


def test_bubiao_beijing54_read_with_a_towgs84_crs(tmp_path, two_parcels):
    """With --crs carrying a datum shift, a 北京54 file is read, and the shift is applied."""
    b54 = "+proj=tmerc +lat_0=0 +lon_0=132 +k=1 +x_0=44500000 +y_0=0 +ellps=krass " \
          "+towgs84=15.8,-154.4,-82.3,0,0,0,0 +units=m +no_defs"
    f = write_gbk(tmp_path / "in" / "b54.txt", bubiao_text(two_parcels, header={"坐标系": "1954北京坐标系"}))
    g = write_gbk(tmp_path / "in2" / "cgcs.txt", bubiao_text(two_parcels))
    a, b = read_sites(f, crs=b54).to_crs(GK44), read_sites(g).to_crs(GK44)
    shift = a.geometry.centroid.distance(b.geometry.centroid)
    assert ((shift > 5) & (shift < 300)).all()  # moved by the datum shift, not relabelled
    assert a.geometry.area.to_numpy() == pytest.approx(b.geometry.area.to_numpy(), rel=1e-3)


def test_dxf_old_style_polyline_and_mtext_name(tmp_path):
    poly = square(IN_RESERVE, 300)
    doc = ezdxf.new("R2000")
    msp = doc.modelspace()
    msp.add_polyline2d(poly, close=True, dxfattribs={"layer": "规划红线"})
    cx, cy = np.mean(poly, axis=0)
    msp.add_mtext("湖区\\P观测站", dxfattribs={"insert": (cx, cy), "layer": "注记"})
    hatch = msp.add_hatch()
    hatch.paths.add_polyline_path(poly)  # a hatch duplicating the boundary: not another site
    f = tmp_path / "in" / "p.dxf"
    f.parent.mkdir()
    doc.saveas(f)
    out = read_sites(f)
    # written as ANSI_1252 with \\U+ escapes for the Chinese: decoded
    assert len(out) == 1 and out["site_name"].iloc[0] == "湖区 观测站" and out["图层"].iloc[0] == "规划红线"
    assert out.to_crs(GK44).geometry.iloc[0].area / 1e4 == pytest.approx(shoelace_ha(poly), rel=1e-6)
    assert "HATCH ×1" in out["note"].iloc[0]


def test_bubiao_written_with_x_as_easting_is_diagnosed(tmp_path, two_parcels):
    text = bubiao_text(two_parcels)
    swapped = re.sub(r"^(J\d+,\d+),([\d.]+),([\d.]+)(?=\r?$)", r"\1,\3,\2", text, flags=re.M)
    assert swapped != text
    f = write_gbk(tmp_path / "in" / "s.txt", swapped)
    a, b = read_sites(f), read_sites(write_gbk(tmp_path / "in2" / "ok.txt", text))
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-9).all()
    assert "X 列以 44 开头，判断为东坐标（Y=北）" in a["note"].iloc[0]


def test_csv_with_survey_columns_reads_x_as_north(tmp_path):
    a = square(IN_RESERVE, 250)
    f = tmp_path / "in" / "界址点.csv"
    f.parent.mkdir()
    rows = ["地块号,点号,X,Y"] + [f"Q1,J{k + 1},{y:.3f},{x:.3f}" for k, (x, y) in enumerate(a)]
    f.write_bytes("\r\n".join(rows).encode("gbk"))
    got = check(f, tmp_path / "out")
    assert got["verdict"].tolist() == ["prohibited"] and got["site_id"].tolist() == ["Q1"]
    assert float(got["overlap_ha"].iloc[0]) == pytest.approx(shoelace_ha(a), rel=1e-3)
    assert "Y 列以 44 开头，判断为东坐标（X=北）" in got["note"].iloc[0]
    g = tmp_path / "in2" / "pts.csv"  # X/Y points, Y zone-prefixed: X is the northing
    g.parent.mkdir()
    g.write_text("名称,X,Y\n站点,{1:.3f},{0:.3f}\n".format(*a[0]), encoding="utf-8")
    out = read_sites(g)
    assert out.to_crs(GK44).geometry.iloc[0].coords[0] == pytest.approx(a[0], abs=1e-3)
    assert out["site_name"].tolist() == ["站点"] and "X=北" in out["note"].iloc[0]


@pytest.mark.parametrize("name", ["bad.xlsx", "bad.xls", "bad.ods"])
def test_damaged_workbook_is_refused_cleanly(tmp_path, name):
    f = tmp_path / "in" / name
    f.parent.mkdir()
    f.write_bytes(b"PK\x03\x04 not a workbook")
    msg = refused(f, tmp_path, "could not be read as an Excel workbook")
    assert "另存为 .xlsx" in msg and "Traceback" not in msg
