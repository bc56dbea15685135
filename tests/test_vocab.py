"""One display vocabulary: map, report, figure and CLI show the labels and colours of the data files.

Expected values are read from ``layers/rules/verdicts.csv`` and ``control_levels.csv`` with the
csv module, never from the code under test.
"""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_hex
from shapely import Point, box

import jixi_geo as jg
from jixi_geo import maps, plot, report, vocab
from jixi_geo.cli import main

RULES = Path(__file__).resolve().parents[1] / "layers" / "rules"


def _csv(name):
    with open(RULES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


VERDICTS = sorted(_csv("verdicts.csv"), key=lambda r: int(r["order"]))
#: Control levels drawn as zones (those with a colour), strictest first.
LEVELS = [r for r in sorted(_csv("control_levels.csv"), key=lambda r: int(r["rank"])) if r["colour"]]


def _shown(zh, en):
    return f"{zh} {en}"


@pytest.fixture(scope="module")
def results():
    """Real check_sites results, one site per verdict (the verdict column set to each in turn)."""
    pts = [Point(131.05 + 0.01 * i, 45.45) for i in range(len(VERDICTS))]
    res = jg.check_sites(gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(len(pts))]}, geometry=pts,
                                          crs="EPSG:4326"))
    res["verdict"] = [r["verdict"] for r in VERDICTS]
    return res


@pytest.fixture(scope="module")
def zones():
    return gpd.GeoDataFrame(
        {"id": [f"z{i}" for i in range(len(LEVELS))], "name_zh": [f"区{i}" for i in range(len(LEVELS))],
         "name_en": [f"zone {i}" for i in range(len(LEVELS))], "control_level": [r["control_level"] for r in LEVELS]},
        geometry=[box(131.0 + 0.1 * i, 45.4, 131.08 + 0.1 * i, 45.48) for i in range(len(LEVELS))], crs="EPSG:4490")


def test_the_data_files_are_complete_and_ordered():
    # every verdict of the engine has exactly one row, colours are distinct hex
    assert [r["verdict"] for r in VERDICTS] == list(jg.rules.VERDICTS)
    assert [int(r["order"]) for r in VERDICTS] == list(range(1, len(VERDICTS) + 1))
    colours = [r["colour"] for r in VERDICTS] + [r["colour"] for r in LEVELS]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours), colours
    assert len(set(colours)) == len(colours), "verdict and zone colours must all differ"
    assert all(re.search(r"[\u4e00-\u9fff]", r["zh"]) and r["en"].isascii() for r in VERDICTS)


def test_old_public_names_are_derived_from_the_data():
    for r in VERDICTS:
        v = r["verdict"]
        assert jg.rules.VERDICT_NAMES[v] == (r["zh"], r["en"])
        assert report.VERDICT_COLOURS[v] == maps.VERDICTS[v][2] == r["colour"]
        assert maps.VERDICTS[v][:2] == (r["zh"], r["en"])
    assert list(report.LEVEL_COLOURS) == list(maps.CONTROL_LEVELS) == [r["control_level"] for r in LEVELS]
    for r in LEVELS:
        assert report.LEVEL_COLOURS[r["control_level"]] == maps.CONTROL_LEVELS[r["control_level"]][2] == r["colour"]
        assert maps.CONTROL_LEVELS[r["control_level"]][3] == float(r["fill_opacity"])
    loc = {r["value"]: f'{r["zh"]} / {r["en"]}' for r in _csv("location_precision.csv")}
    assert jg.rules.LOCATION_LABELS == loc


def test_results_verdict_zh_column_uses_the_vocabulary(results):
    zh = {r["verdict"]: r["zh"] for r in VERDICTS}
    res = jg.check_sites(gpd.GeoDataFrame({"site_id": ["in", "out"]}, geometry=[Point(132.45, 45.43),
                                           Point(131.05, 45.45)], crs="EPSG:4326"), activity="wind_farm")
    assert list(res["verdict"].astype(str)) == ["prohibited", "clear"]
    assert list(res["verdict_zh"].astype(str)) == [zh["prohibited"], zh["clear"]]


def _legend(html_text: str) -> dict:
    """The legend object the saved map hands to its controls script."""
    i = html_text.index('"legend": ') + len('"legend": ')
    obj, _ = json.JSONDecoder().raw_decode(html_text[i:])
    return obj


def test_map_report_figure_and_cli_agree_for_every_verdict(results, zones, tmp_path, monkeypatch):
    # map legend, from the saved HTML
    path = maps.save_map(maps.compliance_map(results, zones=zones, simplify_m=0), tmp_path / "m.html")
    legend = _legend(Path(path).read_text(encoding="utf-8"))
    sections = {s["title"]: s["items"] for s in legend["sections"]}
    site_items = sections["检查结论 Verdict"]
    assert [(i["label"], i["fill"]) for i in site_items] == [
        (f'{_shown(r["zh"], r["en"])} (1)', r["colour"]) for r in VERDICTS]
    zone_items = sections["红线管控分区 Red-line zones"]
    assert [(i["label"], i["fill"], i["fillOpacity"]) for i in zone_items] == [
        (_shown(r["name_zh"], r["name_en"]), r["colour"], float(r["fill_opacity"])) for r in LEVELS]

    # report badges (summary table) and the zone legend, from report.html
    page = report.report_html(results, zones=zones)
    for r in VERDICTS:
        badge = re.search(r'<span class="badge" style="background:([^;]+);color:([^"]+)">([^<]*)</span></td><td>1</td>',
                          page[page.index(f'>{_shown(r["zh"], r["en"])}<') - 80:])
        assert badge and badge.groups() == (r["colour"], r["text_colour"], _shown(r["zh"], r["en"])), r["verdict"]
    for r in LEVELS:
        assert f'<span style="color:{r["colour"]}">■</span><span>{_shown(r["name_zh"], r["name_en"])}</span>' in page

    # figure: bar labels and bar colours of the compliance summary
    fig = plot.plot_compliance_summary(results)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    colours = {int(round(p.get_y() + p.get_height() / 2)): to_hex(p.get_facecolor()) for p in ax.patches}
    ticks = [int(round(t)) for t in ax.get_yticks()]
    got = [(lab, colours[y]) for lab, y in zip(labels, ticks)]
    assert got == [(_shown(r["zh"], r["en"]), r["colour"]) for r in VERDICTS]

    # CLI summary line: "中文 key=n", in the vocabulary's order
    import jixi_geo.redline

    monkeypatch.setattr(jixi_geo.redline, "check_sites", lambda *a, **k: results)
    site = tmp_path / "s.geojson"
    gpd.GeoDataFrame({"site_id": ["x"]}, geometry=[Point(131.05, 45.45)], crs="EPSG:4326").to_file(site)
    out = CliRunner().invoke(main, ["check", str(site), "--out", str(tmp_path / "o")])
    assert out.exit_code == 1, out.output
    assert out.output.splitlines()[0] == "  ".join(f'{r["zh"]} {r["verdict"]}=1' for r in VERDICTS)


def test_popup_names_a_non_zone_level_from_the_vocabulary(results, zones, tmp_path):
    near = next(r for r in _csv("control_levels.csv") if r["control_level"] == "near")
    res = results.copy()
    res["control_level"] = "near"
    text = Path(maps.save_map(maps.compliance_map(res, zones=zones, simplify_m=0), tmp_path / "n.html")).read_text(
        encoding="utf-8")
    assert f'{_shown(near["name_zh"], near["name_en"])}\\u003c/td' in text


def test_vocab_helpers():
    assert vocab.display("verdict", "not_a_verdict") == "not_a_verdict"
    assert vocab.colour("control_level", "near") == vocab.GREY  # not drawn as a zone
    with pytest.raises(ValueError, match="lang"):
        vocab.label("verdict", "clear", "fr")
    with pytest.raises(jg.errors.UnknownCodeError, match="kind"):
        vocab.keys("colours")


def test_importing_plot_loads_neither_folium_nor_maps():
    code = ("import sys, jixi_geo.plot; "
            "print(sorted(m for m in ('folium', 'branca', 'jixi_geo.maps') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    # and the check is live: importing maps does load folium
    code2 = "import sys, jixi_geo.maps; print('folium' in sys.modules and 'branca' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code2], capture_output=True, text=True,
                          check=True).stdout.strip() == "True"
