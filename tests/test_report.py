"""The compliance report files: content, escaping, self-containment, Excel-friendly CSV."""

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import Point, box

from jixi_geo import vocab
from jixi_geo.redline import check_sites
from jixi_geo.report import report_html, write_report

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def results():
    s = gpd.GeoDataFrame({"site_id": ["w1", "x2", "c3"], "name_zh": ["兴凯湖风电", XSS, "城北住宅"],
                          "activity": ["wind_farm", "other", "housing"]},
                         geometry=[box(132.44, 45.42, 132.46, 45.44), Point(131.05, 45.45), Point(131.02, 45.42)],
                         crs="EPSG:4490")
    return check_sites(s)


def _verdict_rows():
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "layers" / "rules" / "verdicts.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_html_escapes_input_text_and_lists_every_site(results):
    page = report_html(results)
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for sid in results["site_id"]:
        assert f'id="site-{sid}"' in page
    counts = results["verdict"].astype(str).value_counts()
    names = {r["verdict"]: f'{r["zh"]} {r["en"]}' for r in _verdict_rows()}  # from the data file
    for v, n in counts.items():
        assert re.search(rf"{re.escape(names[v])}</span></td><td>{n}</td>", page), v
    assert "示意性模型" in page and "schematic" in page


def test_html_is_self_contained(results):
    page = report_html(results)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    n_sections = len(results) - (results["verdict"] == "outside_jixi").sum()
    assert page.count("<svg") == n_sections + 1  # one snippet per site section, and the cover's overview map
    assert page.count('<div class="overview"><h2>位置总图 / Overview map</h2><svg') == 1


def test_files_are_readable_in_excel_and_gis(results, tmp_path):
    paths = write_report(results, tmp_path)
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    back = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert list(back["site_id"]) == ["w1", "x2", "c3"] and back["name_zh"].iloc[0] == "兴凯湖风电"
    gj = gpd.read_file(paths["geojson"])
    assert list(gj["verdict"]) == list(results["verdict"].astype(str))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "results.csv", "results.geojson",
                                                          "results.manifest.json"]


# what write_report serialises each file with, and where in the call the destination is
WRITERS = {"csv": (pd.DataFrame, "to_csv", lambda obj, args: args[0]),
           "geojson": (gpd.GeoDataFrame, "to_file", lambda obj, args: args[0]),
           "html": (Path, "write_text", lambda obj, args: obj)}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_write_that_dies_half_way_leaves_the_previous_file_intact(results, tmp_path, monkeypatch, kind):
    """Atomic writes: the serialiser writes its file, cuts it in half and dies (a full disk, a
    kill); the file of the previous run must survive unchanged, with no temporary file left."""
    old = write_report(results, tmp_path)
    before = old[kind].read_bytes()
    owner, name, target_of = WRITERS[kind]
    real, died = getattr(owner, name), []

    def dies_half_way(obj, *args, **kw):
        real(obj, *args, **kw)
        target = Path(target_of(obj, args))
        target.write_bytes(target.read_bytes()[: len(before) // 2])  # bypasses the patched write_text
        died.append(target)
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(owner, name, dies_half_way)
    with pytest.raises(Exception):
        write_report(results, tmp_path)
    monkeypatch.undo()
    assert died, f"write_report no longer writes its {kind} with {owner.__name__}.{name}: update WRITERS"
    assert old[kind].read_bytes() == before, f"the previous {old[kind].name} was overwritten in place"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "results.csv", "results.geojson",
                                                          "results.manifest.json"]


def test_numbers_are_shown_and_missing_ones_are_a_dash(results):
    page = report_html(results)
    w1 = results.set_index("site_id").loc["w1"]
    assert w1["overlap_ha"] > 1
    assert f"<td>{w1['overlap_ha']:,.2f} ha ({w1['overlap_pct']:.1f}%)</td>" in page
    assert f"<td>{w1['overlap_ha']:,.2f} ha / — ({w1['overlap_pct']:.1f}%)</td>" in page  # its own section
    row = re.search(r"<tr><td>w1</td>.*?</tr>", page).group(0)  # its row in the table of all sites
    assert vocab.display("verdict", "prohibited") in row and w1["verdict"] == "prohibited"
    assert "<td>— (0.0%)</td>" in page  # a point outside every zone: no overlap area or length
    assert "<td>— / — (0.0%)</td>" in page  # the same in its own section (area / length)
    assert not re.search(r"\bnan\b", page, re.I)
    assert f"<td>{vocab.display('control_level', 'nature_reserve')}</td>" in page
    assert "<td>nature_reserve</td>" not in page
    assert "<td>None</td>" not in page  # a site in no zone has an empty level cell


def test_the_report_draws_the_zones_checked_against(tmp_path):
    """Official zones given to check_sites and write_report are the ones in the map snippets,
    and write_report creates a nested output folder."""
    s = gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[Point(131.30, 45.30)], crs="EPSG:4490")
    own = gpd.GeoDataFrame({"id": ["own-1"], "name_zh": ["用户红线区"], "name_en": ["user zone"],
                            "control_level": ["ecological_redline"]},
                           geometry=[box(131.29, 45.29, 131.31, 45.31)], crs="EPSG:4490")
    res = check_sites(s, zones=own, activity="industry")
    paths = write_report(res, tmp_path / "new" / "folder", zones=own)
    page = paths["html"].read_text(encoding="utf-8")
    assert "<title>用户红线区</title>" in page
    assert "<title>" not in report_html(res, zones=own.iloc[:0]).split("<svg", 1)[1]


def test_overview_draws_one_dot_per_position_and_every_distinct_site():
    """The cover's overview: a dot per distinct position (two sites on one spot draw one dot), placed
    by construction: the sites span 2 km × 0.5 km, so with a 1 km margin the drawing is 4 km wide at
    260 px (0.065 px/m), centred 250 m north of the points: ±1 km → 130 ∓ 65 px, 250 m → 16.25 px down."""
    from shapely import GeometryCollection, LineString

    from jixi_geo.report import _svg_snippet

    x, y = 500_000.0, 5_030_000.0
    none = gpd.GeoDataFrame({"name_zh": [], "control_level": []}, geometry=[], crs="EPSG:4553")
    sites = GeometryCollection([Point(x - 1000, y), Point(x - 1000, y), Point(x + 1000, y),
                                LineString([(x - 1000, y + 500), (x + 1000, y + 500)])])
    svg = _svg_snippet(sites, none, margin_m=1000)
    dots = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="3"', svg)
    got = sorted((float(a), float(b)) for a, b in dots)
    assert len(got) == 2
    assert got == [pytest.approx((65.0, 146.25), abs=0.06), pytest.approx((195.0, 146.25), abs=0.06)]
    assert svg.count('fill="none" fill-opacity="0.4"') == 1  # the line is still drawn


def test_site_snippet_is_drawn_to_scale_north_up():
    """The SVG snippet: site centred, zones placed by their coordinates (y up = north), a scale
    bar of the length it says. Expected figures follow from the construction: a point with the
    default 2 km margin spans 4 km over 260 px, 0.065 px per metre."""
    from jixi_geo.report import LEVEL_COLOURS, _svg_snippet

    x, y = 500_000.0, 5_030_000.0
    zone = gpd.GeoDataFrame({"name_zh": ["东北角区"], "control_level": ["nature_reserve"]},
                            geometry=[box(x + 500, y + 500, x + 1500, y + 1500)], crs="EPSG:4553")
    svg = _svg_snippet(Point(x, y), zone)
    assert 'viewBox="0 0 260 260"' in svg
    assert re.search(r'<circle cx="130\.0" cy="130\.0" r="5"', svg)
    path = re.search(r'<path d="([^"]+)" fill="([^"]+)"[^>]*><title>东北角区</title>', svg)
    assert path and path.group(2) == LEVEL_COLOURS["nature_reserve"]
    corners = {tuple(map(float, p.split(","))) for p in re.findall(r"-?[\d.]+,-?[\d.]+", path.group(1))}
    assert corners == {(162.5, 97.5), (227.5, 97.5), (227.5, 32.5), (162.5, 32.5)}  # north-east of the site
    assert re.search(r'<line x1="10" y1="240" x2="75\.0" y2="240"', svg) and ">1 km</text>" in svg
    assert '<g class="north"' in svg and "坐标系 EPSG:4553" in svg  # north arrow, 坐标系
    line = _svg_snippet(shapely.LineString([(x - 1000, y), (x + 1000, y)]), zone.iloc[:0])
    # a 2 km line: a 6 km frame (the line plus a 2 km margin each side), 260/6000 px per metre
    assert re.search(r'<path d="M86\.7,130\.0 173\.3,130\.0" fill="none"', line)
    assert re.search(r'x2="53\.3" y2="240"', line)


def test_report_figures_match_the_results_row_by_row():
    """Every figure in the report comes from its row: the audit stamp, a count for every verdict
    (0 included), lengths and distances, and the site sections most severe first."""
    from jixi_geo.rules import VERDICTS

    s = gpd.GeoDataFrame({"site_id": ["road", "wind", "far"], "name_zh": ["穿越公路", "湖区风电", "远处"],
                          "activity": ["road", "wind_farm", "housing"]},
                         geometry=[shapely.LineString([(132.40, 45.43), (132.50, 45.43)]), Point(132.45, 45.43),
                                   Point(131.05, 45.45)], crs="EPSG:4490")
    res = check_sites(s)
    page = report_html(res)
    r = res.set_index("site_id")
    stamp = res.iloc[0]
    assert f"<tr><th>规则版本 Rules</th><td>{stamp['rules_version']}</td></tr>" in page
    assert f"<tr><th>检查日期 Date</th><td>{stamp['checked_at'][:10]}</td></tr>" in page
    assert f"<tr><th>软件 Software</th><td>jixi_geo {stamp['jixi_geo_version']}</td></tr>" in page
    assert (f"管控区数据校验和 zones sha256 {stamp['zones_sha256'][:16]}… · 检查时间 checked {stamp['checked_at']}"
            in page)
    counts = res["verdict"].astype(str).value_counts()
    for v in VERDICTS:
        assert f"{vocab.display('verdict', v)}</span></td><td>{int(counts.get(v, 0))}</td>" in page, v
    road = r.loc["road"]
    assert road["overlap_m"] > 100 and not pd.isna(road["distance_m"])
    assert f"<td>{road['overlap_m']:,.0f} m ({road['overlap_pct']:.1f}%)</td><td>0</td>" in page
    assert f"<td>— / {road['overlap_m']:,.0f} m ({road['overlap_pct']:.1f}%)</td>" in page
    far = r.loc["far"]
    assert pd.isna(far["distance_m"]) and "<td> (—)</td>" in page  # nothing within search_m: a dash
    assert "<h3>场址 Site road 穿越公路</h3>" in page and "<h3>场址 Site wind 湖区风电</h3>" in page
    order = [m for m in re.findall(r'id="site-(\w+)"', page)]
    rank = {v: i for i, v in enumerate(VERDICTS)}
    assert [rank[r.loc[m, "verdict"]] for m in order] == sorted(rank[r.loc[m, "verdict"]] for m in order)
    assert order[0] == "wind" and r.loc["wind", "verdict"] == "prohibited"


def test_overview_dots_are_written_as_formatting_each_position_would():
    """The overview's dots are written in one vectorised pass: the same text, in the same order, as
    rounding each position to 0.1 px, keeping the distinct ones and formatting each with ``:.1f``."""
    import numpy as np

    from jixi_geo.report import _dots

    rng = np.random.default_rng(4)
    for n in (1, 7, 20_000):
        v = np.round(rng.uniform(0, 300, (n, 2)) * rng.choice([1, 1e-3], (n, 1)), rng.integers(0, 4))
        v = np.vstack([v, v[: n // 3]])  # repeated positions
        want_pos = np.unique(np.round(v, 1), axis=0)
        want = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#000"/>' for x, y in want_pos)
        got = _dots(np.rint(v[:, 0] * 10).astype(np.int64), np.rint(v[:, 1] * 10).astype(np.int64))
        assert got == want
    assert _dots(np.array([-5, 12]), np.array([3, 3])) == ('<circle cx="-0.5" cy="0.3" r="3" fill="#000"/>'
                                                            '<circle cx="1.2" cy="0.3" r="3" fill="#000"/>')
