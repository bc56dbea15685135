"""The report a planner can file (issue 15 section 2): header, provenance of the zones used,
压占 / 界址点 / proximity tables, control lines not checked, A4 print to PDF, Excel workbook.

Inputs are built here in EPSG:4553 (metres), so that every expected area and distance follows
from the construction, not from the code under test.
"""

import hashlib
import re
import shutil

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner
from shapely import Point, box

from jixi_geo.cli import main

X, Y = 520_000.0, 5_030_000.0  # EPSG:4553, inside Jixi (near 虎林/密山 border, 132.26°E 45.4°N)
HOSTILE = '<img src=x onerror=alert(1)>'


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _zones(tmp_path, rows):
    z = gpd.GeoDataFrame({"id": [r[0] for r in rows], "name_zh": [r[1] for r in rows],
                          "name_en": [r[0] for r in rows], "control_level": [r[2] for r in rows]},
                         geometry=[r[3] for r in rows], crs="EPSG:4553")
    path = tmp_path / "official_zones.gpkg"
    z.to_file(path, driver="GPKG")
    return path


def _sites(tmp_path, rows, name="sites.gpkg"):
    s = gpd.GeoDataFrame({"site_id": [r[0] for r in rows], "项目名称": [r[1] for r in rows],
                          "activity": [r[2] for r in rows]}, geometry=[r[3] for r in rows], crs="EPSG:4553")
    path = tmp_path / name
    s.to_file(path, driver="GPKG", layer="sites")
    return path


def _check(args):
    return CliRunner().invoke(main, ["check", *map(str, args)])


@pytest.fixture
def user_run(tmp_path):
    """One 1 km × 1 km site (100 ha), its west half in a user red-line zone; a second site
    500 m × 400 m (20 ha) in general ecological space; zones given with --zones."""
    zones = _zones(tmp_path, [
        ("RL-1", "用户红线区", "ecological_redline", box(X - 1000, Y - 1000, X, Y + 1000)),
        ("GES-1", "用户一般生态空间", "general_ecological_space", box(X + 20_000, Y, X + 21_000, Y + 1000)),
    ])
    sites = _sites(tmp_path, [
        ("S1", "东区风电", "wind_farm", box(X - 500, Y - 500, X + 500, Y + 500)),
        ("S2", HOSTILE, "patrol_monitoring", box(X + 20_200, Y + 200, X + 20_700, Y + 600)),
    ], name="申报地块.gpkg")
    out = tmp_path / "out"
    r = _check([sites, "--zones", zones, "--project", "鸡西东区风电项目", "--applicant", HOSTILE,
                "--xlsx", "--out", out])
    assert r.exit_code == 1, r.output
    return sites, zones, out, (out / "report.html").read_text(encoding="utf-8")


def test_user_zones_are_named_with_their_file_hash_count_and_crs(user_run):
    sites, zones, out, page = user_run
    assert "official_zones.gpkg" in page and _sha(zones) in page
    assert "要素数 features 2" in page and "EPSG:4553" in page
    # the bundled model's warning and credits are not on a report made with the user's zones
    assert "示意性模型" not in page and "schematic model" not in page and "Natural Earth" not in page


def test_bundled_zones_carry_the_schematic_warning(tmp_path):
    sites = _sites(tmp_path, [("A", "甲", "housing", box(X - 50, Y - 50, X + 50, Y + 50))], name="<b onmouseover=x>地块.gpkg")
    r = _check([sites, "--out", tmp_path / "out"])
    assert r.exit_code in (0, 1), r.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "示意性模型" in page and "Natural Earth" in page and "official_zones" not in page
    assert "<b onmouseover" not in page and "&lt;b onmouseover=x&gt;地块.gpkg" in page  # hostile file name, escaped


def test_header_identifies_the_project(user_run):
    sites, _, _, page = user_run
    head = page.split("<h2>", 1)[0]
    assert "<td>鸡西东区风电项目</td>" in head
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in head  # applicant escaped
    assert "申报地块.gpkg" in head and _sha(sites) in head
    assert "EPSG:4553" in head and "2000国家大地坐标系 3度带 第44带" in head  # code and Chinese name
    assert "<tr><th>地块数 Parcels</th><td>2</td></tr>" in head
    # 100 ha + 20 ha = 120 ha = 1 800 亩 (1 亩 = 666.67 m²)
    assert "120.00 公顷 ha / 1,800.00 亩 mu" in head
    assert '<meta name="viewport"' in page


def test_overlap_table_gives_each_zone_in_ha_and_mu(user_run):
    _, _, _, page = user_run
    s1 = page.split('id="site-S1"', 1)[1].split('class="end"', 1)[0]
    table = s1.split('<table class="overlap">', 1)[1].split("</table>", 1)[0]
    # the west half of a 1 km square: 50 ha = 750 亩, 50 % of the site, in the red line
    m = re.search(r"<td>用户红线区</td><td>生态保护红线 Ecological protection red line</td>"
                  r"<td>([\d.]+)</td><td>([\d,.]+)</td><td>50\.0</td>", table)
    assert m, table
    ha, mu = float(m.group(1)), float(m.group(2).replace(",", ""))
    assert ha == pytest.approx(50.0, rel=1e-4) and mu == pytest.approx(750.0, rel=1e-4)
    assert mu == pytest.approx(ha * 15, abs=0.006)  # 1 ha = 15 亩
    assert "风电场" in s1 and "wind_farm" not in s1  # activity named from the vocabulary


def test_boundary_points_table_gives_count_and_coordinates(user_run):
    _, _, _, page = user_run
    s1 = page.split('id="site-S1"', 1)[1].split('class="end"', 1)[0]
    pts = s1.split('<table class="points">', 1)[1].split("</table>", 1)[0]
    assert "共 4 点" in pts
    rows = re.findall(r"<tr><td>J(\d)</td><td>([\d.]+)</td><td>([\d.]+)</td>", pts)
    corners = {(round(float(n)), round(float(e))) for _, n, e in rows}  # X = north, Y = east
    assert corners == {(Y - 500, X - 500), (Y - 500, X + 500), (Y + 500, X + 500), (Y + 500, X - 500)}


def test_allowed_in_general_ecological_space_has_its_own_label_and_lists_unchecked_lines(user_run):
    _, _, out, page = user_run
    s2 = page.split('id="site-S2"', 1)[1].split('class="end"', 1)[0]
    assert "一般生态空间内·活动允许" in s2 and "邻近管控区" not in s2
    assert "未核查 Not checked" in s2 and "永久基本农田" in s2 and "城镇开发边界" in s2 and "饮用水水源保护区" in s2
    import pandas as pd

    res = pd.read_csv(out / "results.csv", encoding="utf-8-sig", dtype=str).set_index("site_id")
    assert res.loc["S2", "verdict"] == "attention"  # the verdict value itself is unchanged
    s1 = page.split('id="site-S1"', 1)[1].split('class="end"', 1)[0]
    assert "未核查 Not checked" not in s1  # a restricted site is not "clear": no such line on it


def test_near_a_zone_keeps_the_near_label(tmp_path):
    zones = _zones(tmp_path, [("RL-1", "用户红线区", "ecological_redline", box(X, Y, X + 1000, Y + 1000))])
    sites = _sites(tmp_path, [("N1", "近处", "housing", box(X - 600, Y + 100, X - 400, Y + 300))])
    r = _check([sites, "--zones", zones, "--out", tmp_path / "out"])
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert r.exit_code == 1
    n1 = page.split('id="site-N1"', 1)[1]
    assert "邻近管控区" in n1 and "一般生态空间内·活动允许" not in n1
    # the zone begins 400 m east of the site's east edge; its nearest point lies due east of the centroid
    assert "<td>1 km</td><td>用户红线区</td><td>生态保护红线</td><td>东 0.4 km (E)</td>" in n1


# ------------------------------------------------------------------ proximity (report-side)

def test_proximity_distances_bands_and_directions_of_a_constructed_case():
    from jixi_geo._proximity import compass, proximity

    site = box(X - 100, Y - 100, X + 100, Y + 100)  # centroid (X, Y)
    zones = gpd.GeoDataFrame({
        "id": ["NE", "W", "S", "FAR", "IN"], "name_zh": ["东北区", "西区", "南区", "远区", "包含区"],
        "control_level": ["nature_reserve", "ecological_redline", "general_ecological_space",
                          "nature_reserve", "ecological_redline"]},
        geometry=[box(X + 3000, Y + 4000, X + 5000, Y + 6000),   # nearest corner (3 000, 4 000) from the centroid
                  box(X - 800, Y - 200, X - 600, Y + 200),      # 500 m west of the site's west edge
                  box(X - 100, Y - 9500, X + 100, Y - 9000),    # 8 900 m south of its south edge
                  box(X + 12_000, Y, X + 13_000, Y + 1000),     # beyond 10 km
                  box(X - 50, Y - 50, X + 50, Y + 50)],         # holds the centroid
        crs="EPSG:4553")
    p = proximity(gpd.GeoSeries([site], crs="EPSG:4553"), zones).set_index("zone_id")
    assert set(p.index) == {"NE", "W", "S", "IN"}
    # NE: from the site's corner (X+100, Y+100) to (X+3000, Y+4000): hypot(2900, 3900)
    assert p.loc["NE", "distance_m"] == pytest.approx(np.hypot(2900, 3900))
    assert p.loc["NE", "bearing_deg"] == pytest.approx(np.degrees(np.arctan2(3000, 4000)))  # 36.87°
    assert (p.loc["NE", "direction_zh"], p.loc["NE", "band_m"]) == ("东北", 5000)
    assert (p.loc["W", "distance_m"], p.loc["W", "direction_zh"], p.loc["W", "band_m"]) == (500, "西", 1000)
    assert (p.loc["S", "distance_m"], p.loc["S", "direction_zh"], p.loc["S", "band_m"]) == (8900, "南", 10000)
    assert (p.loc["IN", "distance_m"], p.loc["IN", "direction_zh"]) == (0, "")
    assert list(p["distance_m"]) == sorted(p["distance_m"])  # nearest first
    zh, en = compass([0, 22.4, 22.6, 90, 180, 247.4, 337.6, 359.9])
    assert list(zh) == ["北", "北", "东北", "东", "南", "西南", "北", "北"]
    assert list(en)[3] == "E"


# ------------------------------------------------------------------ Excel workbook

def test_xlsx_holds_results_and_overlaps_with_formulas_neutralised(tmp_path):
    from openpyxl import load_workbook

    zones = _zones(tmp_path, [("RL-1", "用户红线区", "ecological_redline", box(X - 1000, Y - 1000, X, Y + 1000))])
    evil = '=HYPERLINK("http://e","x")'
    sites = _sites(tmp_path, [("S1", evil, "wind_farm", box(X - 500, Y - 500, X + 500, Y + 500))])
    r = _check([sites, "--zones", zones, "--xlsx", "--out", tmp_path / "out"])
    assert r.exit_code == 1, r.output
    wb = load_workbook(tmp_path / "out" / "results.xlsx")
    assert wb.sheetnames == ["检查结果 results", "压占分析 overlaps"]
    res = [[c.value for c in row] for row in wb["检查结果 results"].iter_rows()]
    head = res[0]
    assert res[1][head.index("site_id")] == "S1"
    names = [v for v in res[1] if isinstance(v, str) and "HYPERLINK" in v]
    assert names and set(names) == {"'" + evil}  # as in the CSV: a leading apostrophe, never a formula
    assert all(c.data_type != "f" for row in wb["检查结果 results"].iter_rows() for c in row)
    ov = [[c.value for c in row] for row in wb["压占分析 overlaps"].iter_rows()]
    h = ov[0]
    assert len(ov) == 2 and ov[1][h.index("zone_id")] == "RL-1"
    assert ov[1][h.index("overlap_ha")] == pytest.approx(50.0, rel=1e-4)
    assert ov[1][h.index("overlap_mu")] == pytest.approx(ov[1][h.index("overlap_ha")] * 15)
    manifest = (tmp_path / "out" / "results.manifest.json").read_text(encoding="utf-8")
    assert "results.xlsx" in manifest  # written with the set


# ------------------------------------------------------------------ PDF through Chromium

def test_pdf_without_a_browser_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    sites = _sites(tmp_path, [("A", "甲", "housing", box(X - 50, Y - 50, X + 50, Y + 50))])
    r = _check([sites, "--pdf", "--out", tmp_path / "out"])
    assert r.exit_code == 3
    assert r.output.index("未找到") < r.output.index("none was found")  # Chinese first
    assert "--pdf" in r.output and "apt install chromium" in r.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian chromium")
def test_pdf_prints_one_site_per_page_and_no_card_splits(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    n = 5
    zones = _zones(tmp_path, [("RL-1", "用户红线区", "ecological_redline", box(X - 1000, Y - 1000, X, Y + 1000))])
    rows = [(f"P{i}", f"地块{i}", "wind_farm", box(X - 500 + i * 3000, Y - 500, X + 500 + i * 3000, Y + 500))
            for i in range(n)]
    sites = _sites(tmp_path, rows)
    r = _check([sites, "--zones", zones, "--pdf", "--project", "打印测试", "--out", tmp_path / "out"])
    assert r.exit_code == 1, r.output
    reader = pypdf.PdfReader(tmp_path / "out" / "report.pdf")
    texts = [p.extract_text() for p in reader.pages]
    # cover (header, summary, provenance), the table of all sites, one page per site, the sources
    assert len(texts) == n + 3, [t[:60] for t in texts]
    for sid, *_ in rows:
        starts = [i for i, t in enumerate(texts) if f"Site {sid} " in t]
        ends = [i for i, t in enumerate(texts) if f"end of site {sid}" in t]
        assert len(starts) == 1 and starts == ends, (sid, starts, ends)  # the card is on one page
    assert len({i for sid, *_ in rows for i, t in enumerate(texts) if f"Site {sid} " in t}) == n
    box_ = reader.pages[0].mediabox
    assert (round(float(box_.width) * 25.4 / 72), round(float(box_.height) * 25.4 / 72)) == (210, 297)  # A4


def test_label_files_refer_to_known_verdicts_and_levels():
    """result_labels.csv names real verdicts and control levels; the unchecked control lines are
    none of the levels the bundled zones hold (else the report would call them unchecked wrongly)."""
    from jixi_geo import vocab
    from jixi_geo.layers import load_layer

    t = vocab._result_labels()
    assert t and all(v in vocab.keys("verdict") and lv in vocab.keys("control_level") for v, lv in t)
    assert vocab.result_label("attention", "general_ecological_space") != vocab.result_label("attention", "near")
    assert vocab.result_label("prohibited", "nature_reserve") == vocab.label("verdict", "prohibited")
    bundled = set(load_layer("redline_zones")["control_level"].astype(str))
    u = vocab.unchecked_controls(bundled)
    assert list(u["name_zh"]) == ["永久基本农田", "城镇开发边界", "饮用水水源保护区"]
    assert vocab.unchecked_controls(["permanent_farmland"])["name_zh"].tolist() == ["城镇开发边界", "饮用水水源保护区"]
