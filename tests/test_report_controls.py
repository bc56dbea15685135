"""The report's three control lines and land classes (issue 18): tables, totals, sources, stamp, xlsx.

The results are those of a real ``check_sites`` over constructed sites (EPSG:4553, metres), with the
columns of a check with control layers added by hand as the issue-18 contract defines them: known
fractions of each site's area. Every expected figure follows from that construction; the sites' areas
are measured independently with ``pyproj.Geod`` on the GRS80/CGCS2000 ellipsoid (the code uses
``crs.geodesic_area``).
"""

from __future__ import annotations

import html
import importlib.util
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely import Point, box

import jixi_geo as jg
from jixi_geo import _report_controls as RC
from jixi_geo.report import report_html, write_report

X, Y = 520_000.0, 5_030_000.0  # EPSG:4553, inside Jixi
XSS = "<script>alert('ctl')</script>"
FNAME = "<img src=x onerror=alert('f')>"  # a file name cannot hold "/"
FORMULA = '=HYPERLINK("http://evil.example/","x")'
SHA = "ab" * 32
STAMP = "合成示例·非真实数据 / synthetic example, not real data"


def _geod_ha(geom_4553) -> float:
    """Area (ha) on the ellipsoid by pyproj.Geod (independent of the code's geodesic_area)."""
    ll = gpd.GeoSeries([geom_4553], crs="EPSG:4553").to_crs("EPSG:4490").iloc[0]
    area, _ = Geod(ellps="GRS80").geometry_area_perimeter(ll)
    return abs(area) / 10_000


def _infos(synthetic=True):
    return [
        {"role": "permanent_farmland", "name_zh": "永久基本农田", "name_en": "permanent basic farmland",
         "source": f"/data/{FNAME}永久基本农田.gpkg", "sha256": SHA, "year": "2023", "synthetic": synthetic,
         "features": 12, "layer": f"YJJBNT{XSS}", "crs": "EPSG:4523", "findings": [f"重投影 reprojected {XSS}"]},
        {"role": "urban_boundary", "name_zh": "城镇开发边界", "name_en": "urban development boundary",
         "source": "城镇开发边界.shp", "sha256": "cd" * 32, "year": None, "synthetic": synthetic, "features": 3,
         "layer": None, "crs": "EPSG:4490", "findings": []},
        {"role": "landcover", "name_zh": "地类图斑", "name_en": "land cover", "source": "DLTB.gdb",
         "sha256": "ef" * 32, "year": "2022", "synthetic": synthetic, "features": 100, "layer": "DLTB",
         "crs": "EPSG:4490", "findings": []},
    ]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """S1: 1 km square (west half in a red-line zone), half on 永久基本农田, land classes in known shares;
    S2: 500 m × 400 m inside the urban boundary, all forest; S3: a point on farmland."""
    tmp = tmp_path_factory.mktemp("ctl")
    zpath = tmp / "zones.gpkg"
    gpd.GeoDataFrame({"id": ["RL-1"], "name_zh": ["用户红线区"], "name_en": ["RL"],
                      "control_level": ["ecological_redline"]},
                     geometry=[box(X - 1000, Y - 1000, X, Y + 1000)], crs="EPSG:4553").to_file(zpath)
    zones = jg.validate_zones(zpath)
    g1, g2 = box(X - 500, Y - 500, X + 500, Y + 500), box(X + 20_200, Y + 200, X + 20_700, Y + 600)
    sites = gpd.GeoDataFrame({"site_id": ["S1", "S2", "S3"], "name": [XSS, FORMULA, "点位"],
                              "activity": ["wind_farm", "housing", "road"]},
                             geometry=[g1, g2, Point(X + 30_000, Y)], crs="EPSG:4553")
    res = jg.check_sites(sites, zones=zones)
    a1, a2 = _geod_ha(g1), _geod_ha(g2)
    nan = np.nan
    res["eco_verdict"] = res["verdict"].astype(str)
    res["verdict"] = ["prohibited", "clear", "prohibited"]
    cols = {
        "farmland_verdict": ["prohibited", "clear", "prohibited"], "farmland_relation": ["partly", "outside", "inside"],
        "farmland_ha": [0.5 * a1, 0.0, nan], "farmland_pct": [50.0, 0.0, 100.0], "farmland_level": ["", "", ""],
        "farmland_rule_id": ["PF-1", "PF-0", "PF-1"],
        "urban_verdict": ["conditional", "clear", "conditional"], "urban_relation": ["outside", "inside", "outside"],
        "urban_ha": [0.0, a2, nan], "urban_pct": [0.0, 100.0, 0.0], "urban_level": ["", "", ""],
        "urban_rule_id": ["UB-2", "UB-1", "UB-2"],
        "cultivated_ha": [0.4 * a1, 0.0, nan], "paddy_ha": [0.3 * a1, 0.0, nan], "irrigated_ha": [0.0, 0.0, nan],
        "dryland_ha": [0.1 * a1, 0.0, nan], "black_soil_ha": [0.25 * a1, 0.0, nan],
        "unclassified_ha": [0.05 * a1, 0.0, nan], "controls_synthetic": [True, True, True],
    }
    for k, v in cols.items():
        res[k] = v
    res.attrs["controls"] = _infos()
    det = [("S1", "0101", "水田", "paddy field", "cultivated", 0.3 * a1),
           ("S1", "0103", "旱地", "dry land", "cultivated", 0.1 * a1),
           ("S1", "0301", "乔木林地", "arbor forest", "forest", 0.35 * a1),
           ("S1", "0702", "农村宅基地", "rural homestead", "construction", 0.2 * a1),
           ("S1", "", "未分类", "unclassified", "", 0.05 * a1),
           ("S2", "0301", "乔木林地", "arbor forest", "forest", a2)]
    detail = pd.DataFrame({"site_id": [d[0] for d in det], "relation": "occupies", "role": "landcover",
                           "level": "", "land_class_code": [d[1] for d in det], "land_class_zh": [d[2] for d in det],
                           "land_class_en": [d[3] for d in det], "land_group": [d[4] for d in det],
                           "overlap_ha": [d[5] for d in det], "black_soil_ha": nan})
    detail["overlap_mu"] = detail["overlap_ha"] * 15
    page = report_html(res, zones=zones, occupation=detail)
    return res, detail, zones, (a1, a2), page


def _site(page, sid):
    return page.split(f'id="site-{sid}"', 1)[1].split('class="end"', 1)[0]


def _table(part, cls):
    return part.split(f'<table class="{cls}">', 1)[1].split("</table>", 1)[0]


def _num(s):
    return float(s.replace(",", ""))


def _rows(table):
    """Table rows as lists of cell texts (tags stripped)."""
    out = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, flags=re.S)
        out.append([html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells])
    return out


def test_line_table_gives_half_the_site_on_farmland_in_ha_and_mu(case):
    res, _, _, (a1, _), page = case
    rows = {r[0]: r for r in _rows(_table(_site(page, "S1"), "lines"))[1:]}
    farm = rows["永久基本农田 permanent basic farmland"]
    assert farm[1] == "禁止 prohibited" and farm[2].startswith(RC.term("relation", "partly")[0])
    ha, mu = _num(farm[3]), _num(farm[4])
    assert ha == pytest.approx(0.5 * a1, abs=6e-5) and mu == pytest.approx(7.5 * a1, abs=6e-3)
    assert mu == pytest.approx(15 * ha, abs=0.006) and farm[5] == "50.0" and farm[6] == "PF-1"
    # the ecological row: the check's own verdict and overlap (the west half in the red line)
    eco = rows["生态保护红线 Ecological protection red line"]
    assert eco[1].startswith(jg.vocab.label("verdict", res.loc[0, "eco_verdict"]))
    assert eco[5] == "50.0" and _num(eco[3]) == pytest.approx(50.0, rel=1e-4)
    assert eco[2].endswith("· 生态保护红线 Ecological protection red line")  # the strictest level of the zones
    # water was not given: said so, no verdict
    water = rows["饮用水水源保护区 drinking-water source protection area"]
    assert "未核查" in water[1] and len(water) == 2


def test_point_site_counts_as_occupying_with_no_area(case):
    _, _, _, _, page = case
    farm = [r for r in _rows(_table(_site(page, "S3"), "lines")) if r[0].startswith("永久基本农田")][0]
    assert farm[3] == "—" and farm[4] == "—" and farm[5] == "100.0"


def test_land_table_shares_add_up_and_split_cultivated_land(case):
    _, _, _, (a1, _), page = case
    rows = _rows(_table(_site(page, "S1"), "land"))[1:]
    by_code = {r[0] or r[1]: r for r in rows}
    expected = {"01": 40.0, "0101": 30.0, "0102": 0.0, "0103": 10.0, "0301": 35.0, "0702": 20.0}
    for code, pct in expected.items():
        r = by_code[code]
        assert _num(r[4].split("（")[0]) == pytest.approx(pct, abs=0.051), r
        assert _num(r[2]) == pytest.approx(pct / 100 * a1, abs=6e-5)
        assert _num(r[3]) == pytest.approx(15 * _num(r[2]), abs=0.006)
    black = [r for r in rows if "黑土" in r[1]][0]
    assert black[4] == "25.0（占耕地 of cultivated 62.5）"
    unclassified = [r for r in rows if r[1].startswith("未分类")][0]
    assert unclassified[4] == "5.0"
    # 耕地 total + the other classes + 未分类 = the site (the 水田/水浇地/旱地/黑土 rows are "of which")
    total = sum(_num(by_code[c][2]) for c in ("01", "0301", "0702")) + _num(unclassified[2])
    assert total == pytest.approx(a1, abs=4e-4)
    assert _num(by_code["0101"][2]) + _num(by_code["0102"][2]) + _num(by_code["0103"][2]) == \
        pytest.approx(_num(by_code["01"][2]), abs=2e-4)


def test_cover_totals_are_the_sums_of_the_site_rows(case):
    _, _, _, (a1, a2), page = case
    cover = page.split("</section>", 1)[0]
    tot = {r[0]: r for r in _rows(_table(cover, "lines-total"))[1:]}
    farm = tot["永久基本农田 permanent basic farmland"]
    assert farm[1] == "2"  # S1 partly, S3 (a point) inside
    assert _num(farm[2]) == pytest.approx(0.5 * a1, abs=6e-5) and _num(farm[3]) == pytest.approx(7.5 * a1, abs=6e-3)
    urban = tot["城镇开发边界 urban development boundary"]
    assert urban[1] == "1" and _num(urban[2]) == pytest.approx(a2, abs=6e-5)
    assert "未核查" in tot["饮用水水源保护区 drinking-water source protection area"][1]
    # the site tables, summed, give the cover's figures
    site_sum = sum(_num(r[3]) for sid in ("S1", "S2", "S3") for r in _rows(_table(_site(page, sid), "lines"))
                   if r[0].startswith("城镇开发边界") and r[3] != "—")
    assert _num(urban[2]) == pytest.approx(site_sum, abs=2e-4)
    land = {r[0] or r[1]: r for r in _rows(_table(cover, "land-total"))[1:]}
    assert _num(land["0301"][2]) == pytest.approx(0.35 * a1 + a2, abs=6e-5)
    assert _num(land["0301"][3]) == pytest.approx(15 * (0.35 * a1 + a2), abs=6e-3)
    assert _num(land["01"][2]) == pytest.approx(0.4 * a1, abs=6e-5)


def test_synthetic_stamp_on_the_cover_and_every_table(case):
    _, _, _, _, page = case
    cover = page.split("</section>", 1)[0]
    assert f'<p class="synthetic big">{STAMP}</p>' in cover
    for sid in ("S1", "S2", "S3"):
        site = _site(page, sid)
        cap = site.split('<table class="lines"><caption>', 1)[1].split("</caption>", 1)[0]
        assert STAMP in cap
    for sid in ("S1", "S2"):  # the point has no land table
        assert STAMP in _site(page, sid).split('<table class="land"><caption>', 1)[1].split("</caption>", 1)[0]
    assert '<table class="land">' not in _site(page, "S3")


def test_no_stamp_when_no_layer_is_synthetic(case):
    res, detail, zones, _, _ = case
    real = res.copy()
    real["controls_synthetic"] = False
    page = report_html(real, zones=zones, occupation=detail, controls=_infos(synthetic=False))
    assert "合成示例" not in page and "synthetic example" not in page
    assert '<table class="lines">' in page  # the tables are still there


def test_unchecked_list_drops_the_roles_given(case):
    _, _, _, _, page = case
    s2 = _site(page, "S2")  # overall clear: lists what was not checked
    note = s2.split('<p class="unchecked">', 1)[1].split("</p>", 1)[0]
    assert "饮用水水源保护区" in note and "永久基本农田" not in note and "城镇开发边界" not in note


def test_sources_name_each_layer_with_hash_year_and_crs(case):
    _, _, _, _, page = case
    src = page.split('<div class="ctl-sources">', 1)[1].split("</div>", 1)[0]
    items = re.findall(r"<li><b>(.*?)</li>(?=<li><b>|</ul>$)", src, flags=re.S) or src.split("<li><b>")[1:]
    assert len(items) == 3
    assert SHA in items[0] and "2023" in items[0] and "EPSG:4523" in items[0] and "要素数 features 12" in items[0]
    assert "cd" * 32 in items[1] and "未注明 not given" in items[1]
    assert "DLTB.gdb" in items[2] and "图层 layer DLTB" in items[2]
    assert all("合成示例·非真实数据" in i for i in items)


def test_hostile_layer_names_sources_and_findings_are_escaped(case):
    _, _, _, _, page = case
    assert XSS not in page and "<script" not in page
    esc = html.escape(XSS)
    assert "<img src" not in page and f"{html.escape(FNAME)}永久基本农田.gpkg" in page
    assert f"YJJBNT{esc}" in page and f"reprojected {esc}" in page


def test_sources_fall_back_to_attrs_and_explicit_controls_win(case):
    res, detail, zones, _, _ = case
    page = report_html(res, zones=zones, occupation=detail)
    assert SHA in page
    lost = res.copy()
    lost.attrs = {}
    assert SHA not in report_html(lost, zones=zones, occupation=detail)  # attrs lost: nothing to name
    assert SHA in report_html(lost, zones=zones, occupation=detail, controls=_infos())


def test_frames_agree_with_the_columns(case):
    res, detail, _, (a1, _), _ = case
    lines = RC.lines_frame(res, ("permanent_farmland", "urban_boundary", "landcover"))
    assert len(lines) == 3 * 4 and lines["checked"].sum() == 3 * 3
    assert np.allclose(lines["mu"].dropna(), 15 * lines["ha"].dropna())
    land = RC.land_frame(res, detail)
    s1 = land[land["site_id"] == "S1"].set_index("row", drop=False)
    parts = s1[s1["row"].isin(["cultivated", "class", "unclassified"])]
    assert parts["ha"].sum() == pytest.approx(a1, rel=1e-9) and parts["pct"].sum() == pytest.approx(100, abs=1e-3)


def test_xlsx_has_line_and_land_sheets_with_values_only(case, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    res, detail, zones, (a1, _), _ = case
    paths = write_report(res, tmp_path / "r", zones=zones, xlsx=True, occupation=detail, controls=_infos())
    wb = openpyxl.load_workbook(paths["xlsx"])
    assert RC.LINES_SHEET in wb.sheetnames and RC.LAND_SHEET in wb.sheetnames
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            assert all(c.data_type != "f" for c in row), ws.title
    lines = pd.DataFrame(list(wb[RC.LINES_SHEET].values)[1:], columns=list(wb[RC.LINES_SHEET].values)[0])
    assert len(lines) == 12
    f1 = lines[(lines["site_id"] == "S1") & (lines["line"] == "permanent_farmland")].iloc[0]
    assert f1["ha"] == pytest.approx(0.5 * a1, rel=1e-9) and f1["mu"] == pytest.approx(7.5 * a1, rel=1e-9)
    assert set(lines["data"]) == {STAMP}
    names = set(lines["site_name"])
    assert "'" + FORMULA in names and FORMULA not in names  # neutralised, as in the CSV
    land = pd.DataFrame(list(wb[RC.LAND_SHEET].values)[1:], columns=list(wb[RC.LAND_SHEET].values)[0])
    s1 = land[(land["site_id"] == "S1") & land["row"].isin(["cultivated", "class", "unclassified"])]
    assert s1["ha"].sum() == pytest.approx(a1, rel=1e-9)
    calamine = importlib.util.find_spec("python_calamine")
    if calamine is not None:  # a second, independent reader
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(paths["xlsx"])).get_sheet_by_name(RC.LINES_SHEET).to_python()
        assert len(sheet) == 13 and sheet[0][:3] == ["site_id", "site_name", "line"]


def test_csv_and_geojson_carry_the_new_columns(case, tmp_path):
    res, detail, zones, (a1, _), _ = case
    paths = write_report(res, tmp_path / "r", zones=zones, occupation=detail)
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig").set_index("site_id")
    for c in ("eco_verdict", "farmland_verdict", "farmland_ha", "urban_relation", "cultivated_ha", "black_soil_ha",
              "unclassified_ha", "controls_synthetic"):
        assert c in csv.columns, c
    assert csv["farmland_ha"].dtype == float and csv.loc["S1", "farmland_ha"] == pytest.approx(0.5 * a1, rel=1e-9)
    assert csv.loc["S2", "name"] == "'" + FORMULA
    gj = gpd.read_file(paths["geojson"]).set_index("site_id")
    assert gj.loc["S1", "farmland_relation"] == "partly" and bool(gj.loc["S1", "controls_synthetic"])


def test_report_without_controls_has_no_line_tables(case):
    _, _, zones, _, _ = case
    sites = gpd.GeoDataFrame({"site_id": ["A"]}, geometry=[box(X - 50, Y - 50, X + 50, Y + 50)], crs="EPSG:4553")
    page = report_html(jg.check_sites(sites, zones=zones), zones=zones)
    assert '<table class="lines">' not in page and "合成示例" not in page and "ctl-sources" not in page


# ------------------------------------------------------------------------------- Chromium

# the ``browser`` fixture is shared from conftest.py


@pytest.mark.browser
def test_browser_shows_hostile_layer_text_literally(case, tmp_path, browser):
    res, detail, zones, _, page = case
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    context = browser.new_context()
    requests, dialogs = [], []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                  else (requests.append(r.request.url), r.abort()))
    tab = context.new_page()
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.goto(path.resolve().as_uri())
    text = tab.locator("body").inner_text()
    assert f"{FNAME}永久基本农田.gpkg" in text and f"YJJBNT{XSS}" in text and f"reprojected {XSS}" in text
    assert XSS in text and FORMULA in text  # site names, as text
    assert tab.evaluate("document.querySelectorAll('script, img').length") == 0
    assert "合成示例·非真实数据" in tab.locator(".synthetic.big").inner_text()
    tab.wait_for_timeout(200)
    context.close()
    assert not dialogs and not requests
    _ = shapely  # geometry helpers imported for the fixture


# ------------------------------------------------------------------------------- web map

def test_compliance_map_draws_control_layers_with_the_synthetic_stamp(case, tmp_path):
    import json

    from jixi_geo import maps
    from jixi_geo.controls import ControlLayer, Controls

    res, _, zones, _, _ = case
    farm = gpd.GeoDataFrame({"control_id": ["F1"], "name": ["农田一"], "level": [""]},
                            geometry=[box(X - 1000, Y - 1000, X, Y + 1000)], crs="EPSG:4553").to_crs("EPSG:4490")
    water = gpd.GeoDataFrame({"control_id": ["W1"], "name": [""], "level": ["first"]},
                             geometry=[box(X + 5000, Y, X + 6000, Y + 1000)], crs="EPSG:4553").to_crs("EPSG:4490")
    controls = Controls({"water_source": ControlLayer("water_source", water, source="水源.gpkg"),
                         "permanent_farmland": ControlLayer("permanent_farmland", farm, source="d/农田.gpkg",
                                                            synthetic=True)})
    page = maps.save_map(maps.compliance_map(res, zones=zones, controls=controls), tmp_path / "m.html")
    text = page.read_text(encoding="utf-8")
    blobs = [json.loads(b) for b in re.findall(r"L\.geoJson\((.*?), \{\s*pointToLayer", text, flags=re.S)]
    classes = {f["properties"]["style"]["className"].split()[-1] for b in blobs for f in b["features"]}
    assert {"jx-g-control-permanent_farmland", "jx-g-control-water_source"} <= classes
    popups = [html.unescape(f["properties"].get("_popup", "")) for b in blobs for f in b["features"]]
    farm_popup = next(p for p in popups if "农田一" in p)
    assert "农田.gpkg" in farm_popup and "d/农田" not in farm_popup  # the file's name, not its folder
    water_popup = next(p for p in popups if "W1" in p)
    assert RC.term("level", "first")[0] in water_popup
    s1 = next(p for p in popups if "S1" in p and "结论 Verdict" in p)
    assert "永久基本农田 permanent basic farmland" in s1 and "禁止 prohibited" in s1.split("永久基本农田", 1)[1]
    config = json.loads(re.search(r"L\.jixi\.setup\([^,]+, (.*?)\);\s*\n", text, flags=re.S).group(1))
    assert config["stamp"][0].startswith("合成示例·非真实数据")
    legend = [i["label"] for sec in config["legend"]["sections"] for i in sec["items"]]
    assert "永久基本农田 permanent basic farmland" in legend
    assert "饮用水水源保护区 drinking-water source protection area" in legend


@pytest.mark.skipif(__import__("shutil").which("chromium") is None, reason="needs Debian chromium")
def test_pdf_keeps_each_site_card_with_its_tables_on_one_page(case, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    res, detail, zones, _, _ = case
    paths = write_report(res, tmp_path / "r", zones=zones, occupation=detail, pdf=True)
    import unicodedata

    # the PDF's text layer may use CJK radical code points (⽰ for 示): compare in NFKC
    texts = [unicodedata.normalize("NFKC", p.extract_text()) for p in pypdf.PdfReader(paths["pdf"]).pages]
    pages = []
    for sid in ("S1", "S2", "S3"):
        starts = [i for i, t in enumerate(texts) if f"Site {sid} " in t]
        ends = [i for i, t in enumerate(texts) if f"end of site {sid}" in t]
        assert len(starts) == 1 and starts == ends, (sid, starts, ends)
        pages.append(starts[0])
    assert len(set(pages)) == 3
    assert "三线压占" in texts[pages[0]] and "地类" in texts[pages[0]]
    assert "合成示例·非真实数据" in texts[0]
