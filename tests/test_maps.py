"""Web maps without a browser: offline HTML, escaping, size, data left untouched, options."""

from __future__ import annotations

import json
import re

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely import Point, box

import jixi_geo
from jixi_geo import _offline, _style, maps
from jixi_geo._io import content_sha256
from jixi_geo.errors import InputError, JixiGeoError, LayerNotFoundError, SchemaError

XSS = "<script>alert(1)</script>"
XSS_EN = "<img src=x onerror=alert(2)>"
MAX_BYTES = 5 * 1024 * 1024


def _pattern(**names) -> gpd.GeoDataFrame:
    rows = [
        dict(id="l", name_zh=names.get("lake", "测试湖"), name_en="Test lake", element="lake",
             geometry=box(132.3, 45.15, 132.55, 45.35)),
        dict(id="p", name_zh=XSS, name_en=XSS_EN, element="protected_area",
             geometry=box(131.6, 45.15, 131.85, 45.35)),
    ]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4490")
    gdf["category"] = "test"
    gdf["precision"] = "schematic"
    gdf["method"] = XSS
    gdf["official_area_ha"] = np.nan
    gdf["area_ha"] = 1234.5
    return gdf


def _results() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "site_id": ["S1", "S2"], "name": [XSS, "测试项目"], "verdict": ["prohibited", "clear"],
        "control_level": ["nature_reserve", None], "zones_hit": [[XSS], []], "overlap_ha": [1.5, 0.0],
        "overlap_pct": [50.0, 0.0], "distance_m": [0.0, 1200.0], "nearest_zone": ["z", "z"],
        "activity": ["mining", "road"], "rule": ["R1", "R9"], "basis": [XSS_EN, "b"], "reasons": [XSS, "r"]},
        geometry=[Point(131.8, 45.5), box(132.0, 45.6, 132.05, 45.65)], crs="EPSG:4490")


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"control_level": ["nature_reserve", "ecological_redline"],
                             "name_zh": [XSS, "红线"], "name_en": ["reserve", "red line"]},
                            geometry=[box(131.7, 45.4, 131.9, 45.6), box(131.5, 45.3, 132.1, 45.7)],
                            crs="EPSG:4490")


def _parks():
    parks = gpd.GeoDataFrame({"park": ["industrial"], "name_zh": [XSS], "name_en": ["Industrial Park"]},
                             geometry=[box(131.14, 45.25, 131.17, 45.265)], crs="EPSG:4490")
    zones = gpd.GeoDataFrame({
        "park": ["industrial"] * 3, "name_zh": ["工业区", XSS, "未知区"], "name_en": ["a", "b", "c"],
        "landuse_code": ["M", "G", "ZZ"], "planned_area_ha": [200.0, 100.0, 52.0],
        "share_pct": [np.nan, np.nan, np.nan]},
        geometry=[box(131.14, 45.25, 131.15, 45.265), box(131.15, 45.25, 131.16, 45.265),
                  box(131.16, 45.25, 131.17, 45.265)], crs="EPSG:4490")
    return parks, zones


def _features(m: folium.Map) -> list[dict]:
    """Every GeoJSON feature the map embeds."""
    out = []
    for group in m._children.values():
        for child in getattr(group, "_children", {}).values():
            if isinstance(child, (folium.GeoJson, maps._Features)):
                out.extend(child.data["features"])
    return out


def _markup_outside_code(html: str) -> str:
    """The page without the bodies of <script> and <style> elements."""
    html = re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", html, flags=re.S | re.I)
    return re.sub(r"(<style\b[^>]*>).*?(</style>)", r"\1\2", html, flags=re.S | re.I)


# ---------------------------------------------------------------------- offline HTML

@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    parks, zones = _parks()
    return {
        "pattern": maps.save_map(maps.pattern_map(), out / "pattern.html"),
        "pattern_xss": maps.save_map(maps.pattern_map(layers={"pattern": _pattern()}), out / "x.html"),
        "park": maps.save_map(maps.park_map(parks=parks, zones=zones), out / "park.html"),
        "compliance": maps.save_map(maps.compliance_map(_results(), zones=_zones()), out / "c.html"),
    }


@pytest.mark.parametrize("name", ["pattern", "pattern_xss", "park", "compliance"])
def test_saved_html_loads_nothing_from_the_network(saved, name):
    html = saved[name].read_text(encoding="utf-8")
    assert _offline.external_references(html) == []
    # an independent, cruder look at the markup: no src/href to http(s):// or //
    markup = _markup_outside_code(html)
    assert not re.findall(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", markup, flags=re.I)
    assert not re.findall(r"""url\(\s*["']?\s*(?:https?:)?//""", html, flags=re.I)
    assert "cdn.jsdelivr" not in markup and "code.jquery.com" not in markup
    assert "<script src" not in markup.lower() and "<link " not in markup.lower()


def test_leaflet_is_inlined_with_data_uri_images(saved):
    html = saved["pattern"].read_text(encoding="utf-8")
    assert f"Leaflet {_offline.LEAFLET_VERSION}" in html
    assert "url(images/" not in html
    assert 'url("data:image/png;base64,' in html
    assert "sourceMappingURL" not in html
    assert 'data-jixi-asset="controls"' in html
    assert 'data-jixi-asset="jquery-shim"' not in html  # jixi_geo maps do not need jQuery


def test_unknown_cdn_resource_is_refused_by_name():
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)  # loads its JS/CSS from a CDN
    with pytest.raises(JixiGeoError, match=r"https://\S*fullscreen"):
        _offline.render_html(m)


def test_awesome_marker_icons_are_refused():
    m = folium.Map(tiles=None)
    folium.Marker([45.3, 131.0], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(JixiGeoError, match="folium.Icon"):
        _offline.render_html(m)


def test_folium_popup_gets_the_jquery_stand_in():
    m = folium.Map(tiles=None)
    folium.Marker([45.3, 131.0], popup=folium.Popup("鸡西")).add_to(m)  # folium uses $(html)[0]
    html = _offline.render_html(m)
    assert 'data-jixi-asset="jquery-shim"' in html
    assert "code.jquery.com" not in html
    assert 'data-jixi-asset="leaflet-icons"' in html  # default marker icon as data: URIs


def test_inlining_twice_changes_nothing():
    html = _offline.render_html(maps.pattern_map(layers={"pattern": _pattern()}))
    assert _offline.make_self_contained(html) == html


def test_check_self_contained_names_each_url():
    page = ('<html><head><link rel="stylesheet" href="https://example.org/a.css">'
            '<style>body{background:url(//example.org/b.png)}</style></head>'
            '<body><a href="https://example.org/ok">a link is not a resource</a>'
            '<script>var s = "<img src=https://example.org/in-a-string.png>";</script></body></html>')
    assert _offline.external_references(page) == ["https://example.org/a.css", "//example.org/b.png"]
    with pytest.raises(JixiGeoError, match="https://example.org/a.css"):
        _offline.check_self_contained(page)


def test_save_map_creates_folder_and_returns_path(tmp_path):
    target = tmp_path / "new" / "deeper" / "m.html"
    out = maps.save_map(maps.pattern_map(layers={"pattern": _pattern()}), target)
    assert out == target and target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["m.html"]  # no temporary files left


def test_bundled_pattern_map_is_under_5_mb(saved):
    assert saved["pattern"].stat().st_size < MAX_BYTES


# ------------------------------------------------------------------------- escaping

@pytest.mark.parametrize("name", ["pattern_xss", "park", "compliance"])
def test_script_in_attributes_is_escaped(saved, name):
    html = saved[name].read_text(encoding="utf-8")
    assert XSS not in html
    assert XSS_EN not in html
    assert "alert(1)" in html  # the value is there, as escaped text


def test_tooltip_and_popup_html_escape_every_value():
    m = maps.compliance_map(_results(), zones=_zones())
    props = [f["properties"] for f in _features(m)]
    # map labels are plain text, put into the page with textContent (never parsed as HTML)
    labels = [p.pop("_label") for p in props if "_label" in p]
    assert XSS in labels
    text = json.dumps(props, ensure_ascii=False)
    assert XSS not in text and XSS_EN not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(2)&gt;" in text
    tips = [p.get("_tip", "") for p in props]
    assert any("&lt;script&gt;" in t for t in tips)


# ------------------------------------------------------------- data are not changed

def test_display_simplification_does_not_touch_the_layers():
    before = {n: content_sha256(jixi_geo.load_layer(n)) for n in ("counties", "boundary", "rivers")}
    injected = _pattern()
    injected_copy = injected.copy()
    m = maps.pattern_map(layers={"pattern": injected}, simplify_m=5000)
    assert_geodataframe_equal(injected, injected_copy)
    projected = _pattern().to_crs("EPSG:4553")  # already in the simplification CRS
    projected_copy = projected.copy()
    maps.pattern_map(layers={"pattern": projected, "counties": None}, simplify_m=5000)
    assert_geodataframe_equal(projected, projected_copy)
    after = {n: content_sha256(jixi_geo.load_layer(n)) for n in ("counties", "boundary", "rivers")}
    assert before == after
    # the display copy really is simplified: far fewer vertices on the map than in the layer
    counties = jixi_geo.load_layer("counties")
    shown = [f for f in _features(m) if "jx-g-counties" in f["properties"]["style"]["className"]]
    n_shown = sum(len(json.dumps(f["geometry"]["coordinates"]).split("],")) for f in shown)
    n_layer = int(sum(len(g.exterior.coords) for mp in counties.geometry for g in mp.geoms))
    assert n_shown < n_layer / 3


def test_popup_areas_come_from_the_layer_not_the_display_copy():
    layer = _pattern()
    layer["area_ha"] = 4321.0
    m = maps.pattern_map(layers={"pattern": layer}, simplify_m=20000)
    popups = [f["properties"]["_popup"] for f in _features(m) if "jx-g-lake" in f["properties"]["style"]["className"]]
    assert popups and "4,321.00 ha" in popups[0]


# ----------------------------------------------------------------- pattern + fallback

def test_pattern_layer_is_used_when_present(monkeypatch):
    m = maps.pattern_map(layers={"pattern": _pattern(lake="格局湖"), "lake": _pattern(lake="单独湖")})
    text = json.dumps([f["properties"] for f in _features(m)], ensure_ascii=False)
    assert "格局湖" in text and "单独湖" not in text


def test_falls_back_to_element_layers_while_pattern_is_not_built(monkeypatch):
    real = maps.load_layer

    def fake(name, **kw):
        if name == "pattern":
            raise LayerNotFoundError("layer 'pattern' is not in the catalogue")
        return real(name, **kw)

    monkeypatch.setattr(_style, "load_layer", fake)  # the pattern loader lives in _style
    lake = _pattern(lake="单独湖").drop(columns="element").iloc[[0]]
    m = maps.pattern_map(layers={"lake": lake, "barriers": None, "corridors": None, "protected_areas": None})
    features = _features(m)
    lakes = [f for f in features if "jx-g-lake" in f["properties"]["style"]["className"]]
    assert len(lakes) == 1 and "单独湖" in lakes[0]["properties"]["_tip"]
    assert "The 'pattern' layer is not built yet" in _offline.render_html(m)


def test_unknown_element_is_a_schema_error():
    bad = _pattern()
    bad.loc[0, "element"] = "volcano"
    with pytest.raises(SchemaError, match="volcano"):
        maps.pattern_map(layers={"pattern": bad})


@pytest.mark.parametrize("value", [-1, "abc", float("nan"), float("inf")])
def test_bad_tolerance(value):
    with pytest.raises(InputError, match="simplify_m"):
        maps.pattern_map(layers={"pattern": _pattern()}, simplify_m=value)


def test_unknown_layers_key():
    with pytest.raises(InputError, match="lakes"):
        maps.pattern_map(layers={"lakes": _pattern()})


# ------------------------------------------------------------------------ basemaps

def test_tianditu_needs_a_key():
    with pytest.raises(InputError, match="tianditu_key"):
        maps.pattern_map(layers={"pattern": _pattern()}, basemap="tianditu")
    html = _offline.render_html(maps.pattern_map(layers={"pattern": _pattern()}, basemap="tianditu",
                                                 tianditu_key="abc123"))
    assert "tianditu.gov.cn" in html and "tk=abc123" in html


def test_unknown_basemap():
    with pytest.raises(InputError, match="basemap"):
        maps.pattern_map(basemap="google")


def test_gaode_shifts_overlays_to_gcj02_for_display_only():
    coords = pytest.importorskip("jixi_geo.coords")
    layer = _pattern()
    plain = _features(maps.pattern_map(layers={"pattern": layer}, simplify_m=0))
    gaode_map = maps.pattern_map(layers={"pattern": layer}, basemap="gaode", simplify_m=0)
    shifted = _features(gaode_map)
    lake_plain = next(f for f in plain if "jx-g-lake" in f["properties"]["style"]["className"])
    lake_gaode = next(f for f in shifted if "jx-g-lake" in f["properties"]["style"]["className"])
    a = np.array(lake_plain["geometry"]["coordinates"][0])
    b = np.array(lake_gaode["geometry"]["coordinates"][0])
    lon, lat = coords.wgs84_to_gcj02(a[:, 0], a[:, 1])
    np.testing.assert_allclose(b, np.column_stack([lon, lat]), atol=2e-6)
    assert np.abs(b - a).max() > 1e-3  # a few hundred metres
    html = _offline.render_html(gaode_map)
    assert "GCJ-02" in html and "autonavi.com" in html
    assert_geodataframe_equal(layer, _pattern())  # the data stay in CGCS2000


# ------------------------------------------------------------------ park + compliance

def test_park_map_greys_unknown_codes_and_draws_a_chart():
    parks, zones = _parks()
    m = maps.park_map(parks=parks, zones=zones)
    feats = [f["properties"] for f in _features(m)]
    zone_props = [p for p in feats if "jx-g-zones-industrial" in p["style"]["className"]]
    assert [p["style"]["fillColor"] for p in zone_props] == ["#BF7F3F", "#4CBF00", maps.GREY]
    popup = zone_props[0]["_popup"]
    assert "<svg" in popup and popup.count('class="jx-bar"') == 3
    assert "56.8 %" in popup  # 200 / 352 ha, as share_pct is missing
    html = _offline.render_html(m)
    assert "ZZ" in html and "not in colour table" in html


def test_park_filter_and_unknown_park():
    parks, zones = _parks()
    with pytest.raises(InputError, match="park"):
        maps.park_map("harbour", parks=parks, zones=zones)
    with pytest.raises(InputError, match="chemical"):
        maps.park_map("chemical", parks=parks, zones=zones)
    m = maps.park_map("industrial", parks=parks, zones=zones)
    assert len(_features(m)) == 4


def test_compliance_map_validates_results():
    with pytest.raises(SchemaError, match="verdict"):
        maps.compliance_map(_results().drop(columns="verdict"), zones=_zones())
    bad = _results()
    bad.loc[0, "verdict"] = "maybe"
    with pytest.raises(SchemaError, match="maybe"):
        maps.compliance_map(bad, zones=_zones())


def test_compliance_sites_coloured_by_verdict():
    m = maps.compliance_map(_results(), zones=_zones())
    feats = [f["properties"] for f in _features(m)]
    by_class = {p["style"]["className"].split()[1]: p for p in feats}
    assert by_class["jx-g-verdict-prohibited"]["style"]["fillColor"] == maps.VERDICTS["prohibited"][2]
    assert by_class["jx-g-verdict-clear"]["style"]["fillColor"] == maps.VERDICTS["clear"][2]
    popup = by_class["jx-g-verdict-prohibited"]["_popup"]
    for text in ("禁止 prohibited", "1.50 ha", "50.0 %", "R1", "自然保护区 Nature reserve"):
        assert text in popup


def test_inline_notebook_view_is_offline():
    import html as _html
    import re as _re

    from jixi_geo.maps import pattern_map, show

    frame = show(pattern_map(), height=400)._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "height:400px" in frame
    page = _html.unescape(_re.search(r'srcdoc="(.*?)" style=', frame, _re.S).group(1))
    from jixi_geo._offline import LEAFLET_VERSION, leaflet_js

    assert _re.search(r"L\.map\s*\(", page)  # the map is created in the frame ...
    # ... by the Leaflet library inlined into it, not fetched
    assert f'<script data-jixi-asset="leaflet-{LEAFLET_VERSION}">' in page
    assert leaflet_js()[:2000].replace("</script", "<\\/script") in page
    assert not _re.search(r"""<(script|link|img)[^>]+(src|href)\s*=\s*["']https?:""", page)


def test_many_sites_get_no_labels_or_buffers_but_stay_searchable(monkeypatch):
    monkeypatch.setattr(maps, "MAX_SITE_LABELS", 1)
    monkeypatch.setattr(maps, "MAX_BUFFERS", 1)
    res = _results()
    assert len(res) == 2
    m = maps.compliance_map(res, zones=_zones())
    props = [f["properties"] for f in _features(m)]
    assert not any(p.get("_labelKind") == "site" for p in props)
    assert not any("jx-g-buffer" in p["style"]["className"] for p in props if "style" in p)
    from jixi_geo._offline import render_html

    page = render_html(m)
    assert "不显示场址注记" in page and "未画缓冲区" in page
    assert page.count('"key": "s') == len(res)  # every site is in the search list
