"""The saved web maps in a real browser (headless Chromium), with the network blocked.

Every page is opened from a file:// URL while all other requests are aborted and
recorded: a map that tries to load anything from the network fails its test, as
does any console error or JavaScript dialog (the XSS probe).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, Point, box

from jixi_geo import maps

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script>"
XSS_EN = "<img src=x onerror=alert(2)>"


# ----------------------------------------------------------------------------- data

def _pattern_sample() -> gpd.GeoDataFrame:
    """One small feature per element, apart from each other, in the middle of Jixi."""
    common = dict(category="test", source="test fixture", precision="schematic",
                  method="box drawn for the browser test", official_area_ha=np.nan, level="国家级", kind="x")
    rows = [
        dict(id="t-lake", name_zh="测试湖", name_en="Test lake", element="lake",
             geometry=box(132.30, 45.15, 132.55, 45.35), **common),
        dict(id="t-barrier", name_zh="测试屏障", name_en="Test barrier", element="barrier",
             geometry=box(131.20, 45.75, 131.45, 45.95), **common),
        dict(id="t-corridor", name_zh="测试廊道", name_en="Test corridor", element="corridor",
             geometry=box(131.70, 45.55, 132.10, 45.60), **common),
        dict(id="t-pa", name_zh="测试保护地", name_en="Test protected area", element="protected_area",
             geometry=box(132.60, 45.80, 132.80, 45.95), **common),
        dict(id="t-xss", name_zh=XSS, name_en=XSS_EN, element="protected_area",
             geometry=box(131.60, 45.15, 131.85, 45.35), **common),
    ]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4490")
    gdf["area_ha"] = 1000.0
    return gdf


def _park_sample() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    parks = gpd.GeoDataFrame({
        "park": ["industrial", "chemical"], "name_zh": ["工业产业园", XSS],
        "name_en": ["Industrial Park", XSS_EN], "planned_area_ha": [352.0, 713.0]},
        geometry=[box(131.14, 45.25, 131.17, 45.265), box(131.10, 45.30, 131.13, 45.315)], crs="EPSG:4490")
    codes = ["M", "W", "G", "Q"]  # Q is not in the colour table: grey
    rows = [dict(park="industrial", name_zh=f"{c}片区", name_en=f"{c} zone", landuse_code=c,
                 planned_area_ha=80.0 + i, share_pct=np.nan,
                 geometry=box(131.14 + i * 0.0075, 45.25, 131.14 + (i + 1) * 0.0075, 45.265))
            for i, c in enumerate(codes)]
    rows.append(dict(park="chemical", name_zh=XSS, name_en=XSS_EN, landuse_code="M", planned_area_ha=600.0,
                     share_pct=84.2, geometry=box(131.10, 45.30, 131.12, 45.315)))
    rows.append(dict(park="chemical", name_zh="绿地片区", name_en="Green zone", landuse_code="G",
                     planned_area_ha=113.0, share_pct=15.8, geometry=box(131.12, 45.30, 131.13, 45.315)))
    return parks, gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4490")


def _compliance_sample() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    zones = gpd.GeoDataFrame({
        "control_level": ["general_ecological_space", "ecological_redline", "nature_reserve", "unmapped_reserve"],
        "name_zh": ["一般生态空间（测试）", "生态保护红线（测试）", "自然保护区（测试）", "范围未公布的保护区（测试）"],
        "name_en": ["General space (test)", "Red line (test)", "Reserve (test)", "Unmapped reserve (test)"]},
        geometry=[box(131.0, 45.0, 132.6, 46.0), box(131.3, 45.2, 132.3, 45.8), box(131.6, 45.4, 132.0, 45.6),
                  box(131.05, 45.05, 131.2, 45.15)],
        crs="EPSG:4490")
    base = dict(control_level=None, zones_hit=None, overlap_ha=0.0, overlap_pct=0.0, distance_m=0.0,
                nearest_zone="z", activity="road", rule="R", basis="《生态保护红线管理办法》", reasons="test")
    sites = [
        dict(base, site_id="S1", name="测试禁止项目", verdict="prohibited", control_level="nature_reserve",
             zones_hit=["自然保护区（测试）"], overlap_ha=12.5, overlap_pct=100.0, geometry=Point(131.8, 45.5)),
        dict(base, site_id="S2", name=XSS, verdict="restricted", basis=XSS_EN, reasons=XSS,
             geometry=box(131.35, 45.65, 131.45, 45.72)),
        dict(base, site_id="S3", name=None, verdict="conditional",
             geometry=LineString([(132.35, 45.25), (132.5, 45.35)])),
        dict(base, site_id="S4", name="测试关注项目", verdict="attention", geometry=Point(132.45, 45.9)),
        dict(base, site_id="S5", name="测试无冲突项目", verdict="clear", distance_m=2500.0,
             geometry=Point(132.9, 45.5)),
        dict(base, site_id="S6", name="测试市外项目", verdict="outside_jixi", geometry=Point(130.9, 44.95)),
    ]
    return gpd.GeoDataFrame(sites, geometry="geometry", crs="EPSG:4490"), zones


# ------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def saved_maps(artifacts):
    """The three maps built from the test data, saved as offline HTML."""
    out = artifacts / "maps"
    parks, zones = _park_sample()
    results, rzones = _compliance_sample()
    return {
        "pattern": maps.save_map(maps.pattern_map(layers={"pattern": _pattern_sample()}), out / "pattern.html"),
        "park": maps.save_map(maps.park_map(parks=parks, zones=zones), out / "park.html"),
        "compliance": maps.save_map(maps.compliance_map(results, zones=rzones), out / "compliance.html"),
    }


def _count(page, selector: str) -> int:
    return page.locator(selector).count()


def _drawn(page, key: str) -> int:
    """Number of SVG paths of group ``key`` that have geometry."""
    return page.evaluate(
        "(k) => Array.from(document.querySelectorAll('path.jx-g-' + k))"
        ".filter(p => (p.getAttribute('d') || '').length > 4).length", key)


def _overlay_label(page, text: str):
    return page.locator(".leaflet-control-layers-overlays label", has_text=text)


# ------------------------------------------------------------------------ pattern map

def test_pattern_map_draws_every_group(saved_maps, open_map, artifacts):
    page, _ = open_map(saved_maps["pattern"])
    for key in ("lake", "barrier", "corridor", "protected_area", "counties", "rivers", "boundary"):
        assert _drawn(page, key) > 0, f"no paths drawn for group {key}"
    assert _drawn(page, "counties") == 9
    assert _drawn(page, "protected_area") == 2
    legend = page.locator(".jx-legend").inner_text()
    assert "图例 Legend" in legend and "湖泊 Lake" in legend
    assert "km" in page.locator(".leaflet-control-scale-line").first.inner_text()
    page.screenshot(path=str(artifacts / "pattern_map.png"))


def test_layer_control_toggles_a_group(saved_maps, open_map):
    page, _ = open_map(saved_maps["pattern"])
    before = _drawn(page, "lake")
    assert before == 1
    checkbox = _overlay_label(page, "湖泊").locator("input")
    checkbox.uncheck()
    assert _drawn(page, "lake") == 0
    assert _drawn(page, "corridor") == 1  # the others stay
    checkbox.check()
    assert _drawn(page, "lake") == before


def test_hover_shows_bilingual_tooltip(saved_maps, open_map):
    page, _ = open_map(saved_maps["pattern"])
    page.locator("path.jx-g-lake").first.hover()
    tip = page.locator(".leaflet-tooltip")
    tip.wait_for()
    assert tip.count() == 1
    text = tip.inner_text()
    assert "测试湖" in text and "Test lake" in text


def test_popup_lists_attributes(saved_maps, open_map):
    page, _ = open_map(saved_maps["pattern"])
    page.locator("path.jx-g-corridor").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    for label in ("类别 Category", "级别 Level", "官方面积 Official area", "模型面积 Modelled area",
                  "精度 Precision", "方法 Method"):
        assert label in text
    assert "测试廊道" in text and "1,000.00 ha" in text and "schematic" in text


def test_feature_named_like_a_script_shows_as_text(saved_maps, open_map, tooltip_and_popup):
    page, watch = open_map(saved_maps["pattern"])
    tooltip, text = tooltip_and_popup(page, page.locator("path.jx-g-protected_area").nth(1))
    assert XSS in tooltip
    assert XSS in text and XSS_EN in text
    injected = page.evaluate("document.querySelectorAll('.leaflet-pane script, .leaflet-pane img').length")
    assert injected == 0
    page.wait_for_timeout(300)
    assert not watch.dialogs


def test_measure_tool_reports_geodesic_distance_and_area(saved_maps, open_map, artifacts):
    page, _ = open_map(saved_maps["pattern"])
    page.locator(".jx-measure-toggle").click()
    pixels = [(500, 300), (800, 300), (800, 550)]
    for x, y in pixels:
        page.mouse.click(x, y)
    panel = page.locator(".jx-measure-panel")
    assert panel.get_attribute("data-points") == "3"
    text = panel.inner_text()
    assert "km" in text and "ha" in text and "km²" in text
    # recompute from the clicked positions with the haversine formula (R = 6 371 000 m)
    latlngs = page.evaluate(
        """(pts) => { const m = window[document.querySelector('.folium-map').id];
                     const box = m.getContainer().getBoundingClientRect();
                     return pts.map(([x, y]) => { const ll = m.containerPointToLatLng([x - box.left, y - box.top]);
                                                 return [ll.lat, ll.lng]; }); }""", pixels)

    def hav(a, b):
        (p1, l1), (p2, l2) = np.radians(a), np.radians(b)
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
        return 2 * 6371000 * math.asin(math.sqrt(h))

    expected = hav(latlngs[0], latlngs[1]) + hav(latlngs[1], latlngs[2])
    assert float(panel.get_attribute("data-distance-m")) == pytest.approx(expected, rel=1e-3)
    # a right triangle of roughly legs a, b: area about a*b/2
    area = float(panel.get_attribute("data-area-m2"))
    approx = hav(latlngs[0], latlngs[1]) * hav(latlngs[1], latlngs[2]) / 2
    assert area == pytest.approx(approx, rel=0.02)
    page.screenshot(path=str(artifacts / "measure_tool.png"))
    page.locator(".jx-measure-clear").click()
    assert panel.get_attribute("data-points") == "0"


def test_fullscreen_button_enters_and_leaves_full_screen(saved_maps, open_map):
    page, _ = open_map(saved_maps["pattern"])
    page.locator(".jx-fullscreen-button").click()
    page.wait_for_function("document.fullscreenElement !== null")
    assert page.evaluate("document.fullscreenElement.classList.contains('folium-map')")
    page.wait_for_function("document.querySelector('.folium-map').classList.contains('jx-is-fullscreen')")
    page.locator(".jx-fullscreen-button").click()
    page.wait_for_function("document.fullscreenElement === null")


# --------------------------------------------------------------------------- park map

def test_park_map_colours_zones_and_charts_shares(saved_maps, open_map, artifacts):
    page, _ = open_map(saved_maps["park"])
    assert _drawn(page, "zones-industrial") == 4
    assert _drawn(page, "zones-chemical") == 2
    assert _drawn(page, "parks") == 2
    fills = page.evaluate("Array.from(document.querySelectorAll('path.jx-g-zones-industrial'))"
                          ".map(p => p.getAttribute('fill'))")
    assert fills[0].lower() == "#bf7f3f"  # M, from landuse_colours.csv
    assert fills[3].lower() == maps.GREY  # Q is not in the colour table
    assert "未列入色表" in page.locator(".jx-legend").inner_text()
    page.locator("path.jx-g-zones-industrial").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "占园区比例 Share of park" in popup.inner_text()
    assert popup.locator("svg.jx-chart rect.jx-bar").count() == 4
    page.mouse.move(5, 400)  # off the zones: the tooltip closes
    page.wait_for_timeout(400)  # popup fade-in
    page.screenshot(path=str(artifacts / "park_map.png"))


def test_park_names_from_data_are_escaped_in_the_layer_control(saved_maps, open_map):
    page, watch = open_map(saved_maps["park"])
    assert XSS in _overlay_label(page, "功能分区").nth(1).inner_text()
    page.locator("path.jx-g-zones-chemical").first.hover()
    page.locator(".leaflet-tooltip").wait_for()
    assert XSS in page.locator(".leaflet-tooltip").inner_text()
    page.wait_for_timeout(300)
    assert not watch.dialogs


# --------------------------------------------------------------------- compliance map

def test_compliance_map_draws_sites_over_zones(saved_maps, open_map, artifacts):
    page, _ = open_map(saved_maps["compliance"])
    for verdict in maps.VERDICTS:
        assert _drawn(page, f"verdict-{verdict}") == 1, verdict
    for level in _compliance_sample()[1]["control_level"]:  # every level the sample zones hold
        assert level in maps.CONTROL_LEVELS and _drawn(page, f"zone-{level}") == 1, level
    # sites are drawn after (on top of) the zones
    order = page.evaluate("Array.from(document.querySelectorAll('path.jx-f')).map(p => p.getAttribute('class'))")
    first_site = min(i for i, c in enumerate(order) if "jx-g-verdict-" in c)
    last_zone = max(i for i, c in enumerate(order) if "jx-g-zone-" in c)
    assert last_zone < first_site
    fill = page.locator("path.jx-g-verdict-prohibited").get_attribute("fill")
    assert fill.lower() == maps.VERDICTS["prohibited"][2]
    page.locator("path.jx-g-verdict-prohibited").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "禁止 prohibited" in text and "12.50 ha" in text and "《生态保护红线管理办法》" in text
    page.mouse.move(5, 400)
    page.wait_for_timeout(400)
    page.screenshot(path=str(artifacts / "compliance_map.png"))


def test_compliance_site_named_like_a_script_shows_as_text(saved_maps, open_map, tooltip_and_popup):
    page, watch = open_map(saved_maps["compliance"])
    tooltip, text = tooltip_and_popup(page, page.locator("path.jx-g-verdict-restricted"))
    assert XSS in tooltip
    assert XSS in text and XSS_EN in text
    page.wait_for_timeout(300)
    assert not watch.dialogs


# ------------------------------------------------------------------- basemap + bundle

def test_basemap_only_fetches_tiles_and_overlays_still_draw(tmp_path, open_map):
    path = maps.save_map(maps.pattern_map(layers={"pattern": _pattern_sample()}, basemap="osm"),
                         tmp_path / "osm.html")
    page, watch = open_map(path, allow_network_to=("https://tile.openstreetmap.org/",))
    assert _drawn(page, "lake") == 1
    page.wait_for_timeout(300)
    # tile requests were attempted (and blocked); nothing else was
    assert watch.requests and all(u.startswith("https://tile.openstreetmap.org/") for u in watch.requests)
    # blocked tiles log "net::ERR_FAILED" console errors; they are expected here
    watch.errors[:] = [e for e in watch.errors if "ERR_FAILED" not in e and "Failed to load" not in e]


def test_bundled_pattern_map_loads_offline(tmp_path, open_map, artifacts):
    path = maps.save_map(maps.pattern_map(), artifacts / "maps" / "pattern_bundled.html")
    page, _ = open_map(path)
    for key in ("counties", "boundary", "rivers"):
        assert _drawn(page, key) > 0
    page.screenshot(path=str(artifacts / "pattern_map_bundled.png"))


# ------------------------------------------------- navigation: search, labels, stamp, phone (issue 15)

PHONE = {"width": 390, "height": 844}
RUN_MAPS = ("pattern", "jidong_industrial", "jidong_chemical", "jidong_baoquan", "jidong_parks", "compliance")


def _map_js(page, body: str, arg=None):
    """Evaluate ``body`` with ``m`` bound to the page's Leaflet map."""
    return page.evaluate(f"(arg) => {{ const m = window[document.querySelector('.folium-map').id]; {body} }}", arg)


def _set_zoom(page, zoom: int) -> None:
    _map_js(page, "m.setZoom(arg, {animate: false});", zoom)
    page.wait_for_function(f"() => window[document.querySelector('.folium-map').id].getZoom() === {zoom}")


@pytest.fixture(scope="module")
def run_maps(artifacts):
    """The six web maps `make run` writes, built the same way from the bundled layers."""
    import jixi_geo as jg
    from jixi_geo.run import BUFFER_M

    out = artifacts / "maps_run"
    reg = jg.load_layer("projects")
    res = jg.check_sites(reg[reg["location_precision"] != "not_spatial"], id_column="id", buffer_m=BUFFER_M)
    paths = {"pattern": maps.save_map(maps.pattern_map(), out / "pattern.html"),
             "jidong_parks": maps.save_map(maps.park_map(), out / "jidong_parks.html"),
             "compliance": maps.save_map(maps.compliance_map(res, buffer_m=BUFFER_M), out / "compliance.html")}
    for park in ("industrial", "chemical", "baoquan"):
        paths[f"jidong_{park}"] = maps.save_map(maps.park_map(park), out / f"jidong_{park}.html")
    return paths, res


def test_search_finds_a_site_by_chinese_name_and_opens_its_popup(saved_maps, open_map, artifacts):
    page, _ = open_map(saved_maps["compliance"])
    # hide the site's group first: choosing the site shows it again
    _overlay_label(page, "禁止").locator("input").uncheck()
    assert _drawn(page, "verdict-prohibited") == 0
    box = page.locator(".jx-search-input")
    box.fill("禁止项目")
    items = page.locator(".jx-search-item")
    assert items.count() == 1 and "测试禁止项目" in items.first.inner_text() and "S1" in items.first.inner_text()
    assert "1 / 6" in page.locator(".jx-search-count").inner_text()
    box.fill("测试")  # S1, S4, S5, S6 are named 测试…; S2's name is the XSS text, S3 has none
    assert page.locator(".jx-search-item").count() == 4
    box.fill("禁止项目")
    page.locator(".jx-search-item").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert text.startswith("测试禁止项目") and "禁止 prohibited" in text and "S1" in text
    assert _drawn(page, "verdict-prohibited") == 1
    view = _map_js(page, "const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()];")
    assert view[0] == pytest.approx(45.5, abs=1e-3) and view[1] == pytest.approx(131.8, abs=1e-3)
    assert view[2] >= 13
    page.screenshot(path=str(artifacts / "compliance_search.png"))
    box.fill("S3")  # a site without a name is found by its id and listed by it
    assert page.locator(".jx-search-item").count() == 1
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.leaflet-popup-content') && "
                           "document.querySelector('.leaflet-popup-content').innerText.startsWith('S3')")


def test_tooltip_and_popup_put_the_site_name_before_its_id(saved_maps, open_map, tooltip_and_popup):
    page, _ = open_map(saved_maps["compliance"])
    tooltip, popup = tooltip_and_popup(page, page.locator("path.jx-g-verdict-attention"))
    assert tooltip.index("测试关注项目") < tooltip.index("S4")
    assert popup.index("测试关注项目") < popup.index("S4")
    assert "道路 Road" in popup or "Road" in popup  # activity "road" named from activities.csv
    assert "活动 Activity\troad" not in popup


@pytest.mark.parametrize("kind, zoom, expected", [("county", 8, 9), ("reserve", 10, 3)])
def test_pattern_labels_appear_only_from_their_zoom(saved_maps, open_map, kind, zoom, expected):
    page, _ = open_map(saved_maps["pattern"])
    assert maps.LABEL_MIN_ZOOM[kind] == zoom
    _set_zoom(page, zoom - 1)
    assert _count(page, f".jx-label-{kind}") == 0
    _set_zoom(page, zoom)
    assert _count(page, f".jx-label-{kind}") == expected
    if kind == "reserve":  # 测试湖, 测试保护地 and the XSS-named reserve, shown as text
        texts = page.locator(".jx-label-reserve").all_inner_texts()
        assert sorted(texts) == sorted(["测试湖", "测试保护地", XSS])
    _set_zoom(page, zoom - 1)
    assert _count(page, f".jx-label-{kind}") == 0


def test_site_labels_appear_from_zoom_11_and_follow_the_layer_control(saved_maps, open_map, artifacts):
    page, _ = open_map(saved_maps["compliance"])
    _set_zoom(page, 10)
    assert _count(page, ".jx-label-site") == 0
    assert _count(page, ".jx-label-reserve") == 2  # the reserve and the unmapped reserve
    _set_zoom(page, 11)
    texts = sorted(page.locator(".jx-label-site").all_inner_texts())
    assert texts == sorted(["测试禁止项目", XSS, "S3", "测试关注项目", "测试无冲突项目", "测试市外项目"])
    _overlay_label(page, "禁止").locator("input").uncheck()
    assert "测试禁止项目" not in page.locator(".jx-label-site").all_inner_texts()
    page.screenshot(path=str(artifacts / "compliance_labels_z11.png"))


def test_buffer_radius_matches_buffer_m_in_projected_metres(tmp_path, open_map):
    """The dashed circle around a point site lies buffer_m from it, measured in EPSG:4553
    from the GeoJSON the page embeds (read back through Leaflet)."""
    import jixi_geo as jg
    from pyproj import Transformer

    buffer_m = 2500.0
    sites = gpd.GeoDataFrame({"site_id": ["P", "Q"], "name": ["点场址", "面场址"]},
                             geometry=[Point(131.5, 45.3), box(132.0, 45.4, 132.02, 45.41)], crs="EPSG:4490")
    res = jg.check_sites(sites, buffer_m=buffer_m)
    path = maps.save_map(maps.compliance_map(res, buffer_m=buffer_m), tmp_path / "buffers.html")
    page, _ = open_map(path)
    assert _drawn(page, "buffer") == 2
    rings = _map_js(page, """const out = [];
        m.eachLayer(l => { if (l.feature && l.options.className && l.options.className.includes('jx-g-buffer'))
                              out.push(l.feature.geometry.coordinates[0]); });
        return out;""")
    assert len(rings) == 2
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:4553", always_xy=True)
    site_m = res.to_crs("EPSG:4553").geometry
    for ring in rings:
        x, y = to_m.transform(*np.array(ring).T)
        target = site_m.iloc[int(np.argmin([g.distance(Point(x[0], y[0])) for g in site_m]))]
        d = np.array([target.distance(Point(a, b)) for a, b in zip(x, y)])
        assert d.min() == pytest.approx(buffer_m, rel=2e-3) and d.max() == pytest.approx(buffer_m, rel=2e-3)
    # the circle is drawn that size: its SVG box spans 2 × buffer_m at the map's scale
    size = _map_js(page, """let w = 0; m.eachLayer(l => { if (l.feature && l.options.className
            && l.options.className.includes('jx-g-buffer') && Math.abs(l.getBounds().getCenter().lng - 131.5) < 0.01) {
            const b = l.getBounds(), c = b.getCenter();
            w = m.distance(L.latLng(c.lat, b.getWest()), L.latLng(c.lat, b.getEast())); } });
        return w;""")
    assert size == pytest.approx(2 * buffer_m, rel=0.01)
    assert "2,500 米" in page.locator(".jx-note").all_inner_texts()[-1]


@pytest.mark.parametrize("name", RUN_MAPS)
def test_every_schematic_map_carries_the_same_stamp(run_maps, open_map, name):
    from jixi_geo import vocab

    page, _ = open_map(run_maps[0][name])
    stamp = page.locator(".jx-stamp")
    assert stamp.count() == 1
    assert stamp.inner_text() == " / ".join(vocab.stamp("schematic"))
    b = stamp.bounding_box()
    assert b and b["width"] > 50 and 0 <= b["y"] < 200  # visible, at the top of the page


def test_no_stamp_without_schematic_layers(saved_maps, open_map):
    page, _ = open_map(saved_maps["compliance"])  # test zones without a precision column
    assert _count(page, ".jx-stamp") == 0


def test_baoquan_page_explains_its_empty_outline(run_maps, open_map, artifacts):
    page, _ = open_map(run_maps[0]["jidong_baoquan"])
    label = page.locator(".jx-label-park")
    assert label.count() == 1 and "规划未划分功能分区" in label.inner_text()
    assert any("宝泉工业园：规划未划分功能分区" in t for t in page.locator(".jx-note").all_inner_texts())
    page.locator("path.jx-g-parks").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert popup.locator("svg.jx-chart rect.jx-bar").count() == 2  # the published current rows H, E
    chart = popup.locator("svg.jx-chart").text_content()
    assert "H 建设用地" in chart and "E 非建设用地" in chart and "92.5%" in chart
    page.screenshot(path=str(artifacts / "jidong_baoquan.png"))


_CONTROLS = [".jx-title", ".leaflet-control-zoom", ".jx-fullscreen", ".jx-measure", ".jx-search",
             ".leaflet-control-layers", ".jx-legend", ".jx-note", ".leaflet-control-scale"]


def _boxes(page) -> list[tuple[str, dict]]:
    out = []
    for sel in _CONTROLS:
        loc = page.locator(sel)
        for i in range(loc.count()):
            b = loc.nth(i).bounding_box()
            if b and b["width"] > 0 and b["height"] > 0:
                out.append((f"{sel}[{i}]", b))
    return out


def _meet(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.parametrize("name", RUN_MAPS)
@pytest.mark.parametrize("viewport", [PHONE, None], ids=["phone", "desktop"])
def test_title_and_controls_do_not_cover_each_other(run_maps, open_map, artifacts, name, viewport):
    page, _ = open_map(run_maps[0][name], viewport=viewport)
    boxes = _boxes(page)
    assert {n.split("[")[0] for n, _ in boxes} >= {".jx-title", ".leaflet-control-zoom", ".jx-legend"}
    title = dict(boxes)[".jx-title[0]"]
    zoom = dict(boxes)[".leaflet-control-zoom[0]"]
    assert not _meet(title, zoom), (title, zoom)
    clashes = [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:] if _meet(ba, bb)]
    assert not clashes, clashes
    width = (viewport or {"width": 1280})["width"]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5 for _, b in boxes)  # nothing off-screen
    # the zoom buttons still work where they are
    before = _map_js(page, "return m.getZoom();")
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(f"() => window[document.querySelector('.folium-map').id].getZoom() === {before + 1}")
    if viewport:
        page.screenshot(path=str(artifacts / f"phone_{name}.png"))


def test_phone_layer_list_folds_and_opens(run_maps, open_map):
    page, _ = open_map(run_maps[0]["compliance"], viewport=PHONE)
    layers = page.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in layers.get_attribute("class")
    page.locator(".leaflet-control-layers-toggle").click()
    assert "leaflet-control-layers-expanded" in layers.get_attribute("class")
    assert _overlay_label(page, "禁止").is_visible()
    page.mouse.click(200, 600)  # a tap on the map folds it again
    assert "leaflet-control-layers-expanded" not in layers.get_attribute("class")
