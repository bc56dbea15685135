"""Interactive web maps (folium/Leaflet) that work offline, in 中文 and English.

Each function returns a :class:`folium.Map`; :func:`save_map` writes it as one
self-contained HTML file (Leaflet and jixi_geo's controls inlined, nothing loaded
from the network), e.g. ``save_map(pattern_map(), "maps/pattern.html")``.

Every map has a layer control (one group per element or class), a legend, a scale
bar, a full-screen button and a measuring tool (distance in km, area in km²/ha),
bilingual tooltips and popups. Every attribute value shown is HTML-escaped, and
no text from data ever reaches a Jinja template's source: features, layer names and
control settings are embedded through one encoder (``_js_json`` / ``_inert_html``)
that writes ``{ } % #`` so that folium's second template pass cannot see a tag, and
:func:`save_map` refuses a map still holding ``{{``, ``{%`` or ``{#`` in its data.

Display geometry
    Layers are simplified **for display only**: a copy is transformed to
    EPSG:4553 (metres), simplified with ``simplify_m`` (Douglas-Peucker,
    ``preserve_topology=True``) and transformed to EPSG:4326 with coordinates
    rounded to 1e-6° (≈ 0.1 m). The layers passed in or loaded are never changed;
    use them, not the map, for measurements and overlays.

Basemaps
    None by default (the maps work offline). ``basemap="osm"`` (OpenStreetMap),
    ``"tianditu"`` (天地图, needs ``tianditu_key=``; the key is written into the
    page) or ``"gaode"`` (高德). 高德 tiles are in GCJ-02, so with ``"gaode"`` the
    overlays are shifted to GCJ-02 for display (a note on the map says so).
    Tiles need the network; the overlays do not.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from collections.abc import Mapping
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template
from folium.utilities import JsCode

from ._offline import asset_text, save_map, show
from ._paths import rules_dir
from .crs import ANALYSIS_CRS, JIXI_BOUNDS, WEB_CRS, ensure_crs, geodesic_area
from .errors import InputError, LayerNotFoundError, SchemaError
from .layers import load_layer
from .rules import LOCATION_LABELS, location_label
from . import vocab
from ._style import (PATTERN_ELEMENTS, check_layers_arg as _check_layers_arg, layer_or_none as _layer_or_none,
                     pattern_elements as _pattern_elements, require_columns as _require_columns)
from ._style import PATTERN_KEYS as _PATTERN_KEYS, REF_STYLE as _REF_STYLE

__all__ = [
    "pattern_map",
    "park_map",
    "compliance_map",
    "save_map",
    "show",
    "BASEMAPS",
    "PATTERN_ELEMENTS",
    "VERDICTS",
    "CONTROL_LEVELS",
    "PARKS",
    "GREY",
    "LABEL_MIN_ZOOM",
    "MAX_BUFFERS",
    "MAX_SITE_LABELS",
    "MAX_CONTROL_FEATURES",
    "NAME_COLUMNS",
]

log = logging.getLogger(__name__)

#: Basemap names accepted by the ``basemap=`` option.
BASEMAPS = ("osm", "tianditu", "gaode")

#: Compliance verdicts, most severe first: verdict -> (中文, English, colour), from
#: ``layers/rules/verdicts.csv`` (see :mod:`jixi_geo.vocab`).
VERDICTS: dict[str, tuple[str, str, str]] = {
    v: (*vocab.labels("verdict", v), vocab.colour("verdict", v)) for v in vocab.keys("verdict")}

#: Red-line control levels drawn as zones, strictest first: level -> (中文, English, colour,
#: fill opacity), from ``layers/rules/control_levels.csv``.
CONTROL_LEVELS: dict[str, tuple[str, str, str, float]] = {
    lv: (*vocab.labels("control_level", lv), vocab.colour("control_level", lv),
         vocab.fill_opacity("control_level", lv))
    for lv in vocab.keys("control_level") if vocab.table("control_level").at[lv, "colour"]}

#: The Jidong EDZ parks: key -> (中文, English).
PARKS: dict[str, tuple[str, str]] = {
    "baoquan": ("宝泉工业园", "Baoquan Industrial Park"),
    "industrial": ("工业产业园", "Industrial Park"),
    "chemical": ("化工产业园", "Chemical Industry Park"),
}

#: Colour for land-use codes missing from ``layers/rules/landuse_colours.csv``.
GREY = vocab.GREY

_DASH = "—"


# ============================================================================ helpers

def _esc(value) -> str:
    """Display text of an attribute value, HTML-escaped."""
    return html.escape(_text(value), quote=True)


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def _text(value) -> str:
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        items = [_text(v) for v in value if not _is_missing(v)]
        return "、".join(items) if items else _DASH
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return _DASH
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.2f}"
    return str(value)


def _num(value, unit: str = "", digits: int = 2) -> str:
    """'1,234.56 ha' (escaped), or '—'."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if math.isnan(x):
        return _DASH
    return html.escape(f"{x:,.{digits}f}{(' ' + unit) if unit else ''}")


def _slug(value) -> str:
    """A CSS-class-safe token for a key that may come from data."""
    return re.sub(r"[^0-9A-Za-z_-]", "_", str(value)) or "_"


def _col(row: Mapping, name: str):
    return row.get(name) if name in row else None


# Text placed in a page goes through a Jinja template twice: branca renders each
# element's macro and then renders the output again as template *source*
# (branca.element.MacroElement.render). Any "{{", "{%" or "{#" in data would then run
# as Jinja, so every text jixi_geo embeds is encoded where these characters cannot
# survive: in JSON as \u escapes (_js_json), in HTML as character references
# (_inert_html). _offline.render_html refuses a map that still holds such text.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "{": "\\u007b", "}": "\\u007d",
                 "%": "\\u0025", "#": "\\u0023", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_UNSAFE = re.compile("[" + re.escape("".join(_JSON_ESCAPES)) + "]")
_HTML_ESCAPES = {"{": "&#123;", "}": "&#125;", "%": "&#37;", "#": "&#35;"}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')  # a JSON string literal


def _js_json(obj) -> str:
    """JSON safe to put inside a <script> element of a folium page.

    Inside strings, ``< > &`` (markup), ``{ } % #`` (Jinja tags: the page is a
    template rendered twice) and U+2028/U+2029 are written as ``\\uXXXX`` escapes,
    which JavaScript decodes back to the same text. Outside strings JSON has no
    ``{{``, ``{%`` or ``{#`` (an object's ``{`` is followed by ``"`` or ``}``), so the
    result contains no Jinja tag whatever the data.
    """
    def encode(m: re.Match) -> str:
        return _JSON_UNSAFE.sub(lambda c: _JSON_ESCAPES[c.group(0)], m.group(0))

    return _JSON_STRING.sub(encode, json.dumps(obj, ensure_ascii=False))


def _inert_html(text: str) -> str:
    """HTML-escaped text with ``{ } % #`` as character references (no Jinja tag can remain)."""
    return re.sub(r"[{}%#]", lambda m: _HTML_ESCAPES[m.group(0)], html.escape(text, quote=True))


def _tooltip(zh, en, *extra: str) -> str:
    parts = [f'<div class="jx-tip-zh">{_esc(zh)}</div>']
    if not _is_missing(en) and _text(en) != _text(zh):
        parts.append(f'<div class="jx-tip-en">{_esc(en)}</div>')
    parts += [f'<div class="jx-tip-extra">{line}</div>' for line in extra]
    return "".join(parts)


def _popup(zh, en, rows: list[tuple[str, str]], *, after: str = "") -> str:
    """Popup HTML. ``rows`` are (label, value_html) with values already escaped."""
    body = "".join(f"<tr><th>{html.escape(label)}</th><td>{value}</td></tr>" for label, value in rows)
    sub = f'<div class="jx-popup-subtitle">{_esc(en)}</div>' if not _is_missing(en) else ""
    return (f'<div class="jx-popup-title">{_esc(zh)}</div>{sub}'
            f"<table>{body}</table>{after}")


#: Zoom level from which each kind of label is shown (Leaflet zoom; about 8 shows all of Jixi).
LABEL_MIN_ZOOM = {"county": 8, "reserve": 10, "site": 11, "park": 0}


def _label(text, geom, kind: str) -> dict:
    """Feature properties of a map label: plain ``text`` (never HTML) at a point inside ``geom``.

    Shown by ``L.jixi`` from zoom :data:`LABEL_MIN_ZOOM` [``kind``] on; nothing for a missing text.
    """
    if _is_missing(text) or geom is None or geom.is_empty or not _text(text).strip():
        return {}
    p = geom if shapely.get_dimensions(geom) == 0 else geom.representative_point()
    if p.geom_type != "Point":
        p = p.centroid
    return {"_label": _text(text), "_labelAt": [round(p.y, 6), round(p.x, 6)],
            "_labelZoom": LABEL_MIN_ZOOM[kind], "_labelKind": kind}


def _stamp_of(*frames) -> list[str] | None:
    """The stamp (``[中文, English]``, from ``precision.csv``) of the first drawn feature whose
    ``precision`` has one; ``None`` when no feature is schematic."""
    for f in frames:
        if f is None or "precision" not in f.columns or not len(f):
            continue
        for value in pd.unique(f["precision"].dropna().astype(str)):
            st = vocab.stamp(value)
            if st:
                return list(st)
    return None


def _check_tolerance(simplify_m) -> float:
    from ._args import amount  # 0 = no simplification

    return amount(simplify_m, name="simplify_m")


def _display_copy(gdf: gpd.GeoDataFrame, *, simplify_m: float, gcj02: bool, name: str) -> gpd.GeoDataFrame:
    """A simplified EPSG:4326 copy for drawing; ``gdf`` itself is left untouched."""
    ensure_crs(gdf, name=name)
    out = gdf.to_crs(ANALYSIS_CRS)  # a new frame
    if simplify_m > 0:
        out = out.set_geometry(out.geometry.simplify(simplify_m, preserve_topology=True))
    out = out.to_crs(WEB_CRS)
    geoms = shapely.transform(out.geometry.values, lambda xy: np.round(xy, 6))
    if gcj02:
        geoms = shapely.transform(geoms, _gcj02_xy)
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WEB_CRS))


def _gcj02_xy(xy: np.ndarray) -> np.ndarray:
    from .coords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), 6)


def _path_style(geom, *, color: str, cls: str, fill: str | None = None, fill_opacity: float = 0.4,
                weight: float = 1.5, dash: str | None = None, interactive: bool = True) -> dict:
    dim = shapely.get_dimensions(geom) if geom is not None else 2
    style = {"color": color, "weight": weight, "opacity": 0.95, "className": f"jx-f {cls}"}
    if dash:
        style["dashArray"] = dash
    if not interactive:
        style["interactive"] = False
    if dim == 1 or (dim == 2 and fill_opacity <= 0):
        style["fill"] = False  # outline only: the interior does not catch the mouse
    else:
        style.update(fill=True, fillColor=fill or color, fillOpacity=fill_opacity)
        if dim == 0:
            style.update(radius=7, fillOpacity=max(fill_opacity, 0.85), weight=max(weight, 1.5))
    return style


class _Features(MacroElement):
    """One group's features as a Leaflet GeoJSON layer, embedded through :func:`_js_json`.

    Points are drawn as circle markers; each feature's ``properties.style`` is
    its style, and ``L.jixi.bindFeature`` binds its tooltip and popup.
    ``L.jixi.registerFeatures`` records features with a ``_key`` (the site search
    finds them) and makes a zoom-dependent label for features with ``_label``
    (plain text, shown with ``textContent``) at ``_labelAt`` ([lat, lon]) from
    zoom ``_labelZoom`` on.
    ``data`` gives the embedded FeatureCollection back (decoded).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.geoJson({{ this.json }}, {
                pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, {radius: 7}); },
                style: function (feature) { return feature.properties.style; },
                onEachFeature: L.jixi.bindFeature
            }).addTo({{ this._parent.get_name() }});
            L.jixi.registerFeatures({{ this.get_name() }}, {{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, collection: dict):
        super().__init__()
        self._name = "JixiFeatures"
        self.json = _js_json(collection)

    @property
    def data(self) -> dict:
        return json.loads(self.json)


class _OrderedGroup(folium.FeatureGroup):
    """A FeatureGroup that carries its place in the layer control (``_finish`` sorts by it)."""

    _jx_order: int


def _add_group(m: folium.Map, key: str, name: str, gdf: gpd.GeoDataFrame | None, props,
               *, order: int, show: bool = True) -> folium.FeatureGroup | None:
    """Add one FeatureGroup holding ``gdf``'s features.

    ``props(row, geom)`` gives each feature's ``style``, ``_tip`` and ``_popup``
    (pre-escaped HTML). Groups are drawn in the order they are added; ``order``
    is their place in the layer control. ``name`` is plain text (escaped here;
    Leaflet's layer control shows it as HTML). Everything reaches the page
    through :func:`_js_json` / :func:`_inert_html`, never as template source.
    """
    if gdf is None or len(gdf) == 0:
        return None
    features = []
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    for geom, row in zip(gdf.geometry.values, gdf[cols].to_dict("records"), strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                         "properties": props(row, geom)})
    if not features:
        return None
    group = _OrderedGroup(name=_inert_html(name), show=show)
    _Features({"type": "FeatureCollection", "features": features}).add_to(group)
    group.add_to(m)
    group._jx_order = order
    return group


def _reference_props(key: str):
    zh, en, colour = _REF_STYLE[key]

    def props(row, geom):
        style = {
            "counties": dict(color=colour, weight=1.2, dash="4 3", fill="#ffffff", fill_opacity=0.05),
            "boundary": dict(color=colour, weight=2.6, fill_opacity=0.0),
            "rivers": dict(color=colour, weight=2.2),
        }[key]
        s = _path_style(geom, cls=f"jx-g-{key}", **style)
        extra = []
        if key == "rivers" and "length_in_jixi_km" in row:
            extra = [("市内长度 Length in Jixi", _num(row["length_in_jixi_km"], "km", 1))]
        rows = [("类别 Category", _esc(_col(row, "category"))), *extra,
                ("精度 Precision", _esc(_col(row, "precision"))),
                ("来源 Source", _esc(_col(row, "source")))]
        rows = [(k, _precision_text(v) if k.startswith("精度") else v) for k, v in rows]
        label = _label(_col(row, "name_zh"), geom, "county") if key == "counties" else {}
        return {"style": s, "_tip": _tooltip(_col(row, "name_zh"), _col(row, "name_en")),
                "_popup": _popup(_col(row, "name_zh"), _col(row, "name_en"), rows), **label}
    return props


def _precision_text(value_html: str) -> str:
    """A precision cell: ``示意（模型） schematic (modelled)`` from ``precision.csv`` for a known value."""
    raw = html.unescape(value_html)
    parts = [p.strip() for p in raw.split("/")]
    if parts and all(p in vocab.table("precision").index for p in parts):
        return _esc(" / ".join(vocab.display("precision", p) for p in parts))
    return value_html


# ---------------------------------------------------------------------- map + controls

class _Controls(MacroElement):
    """jixi_geo's own controls (assets/controls.js) and their configuration."""

    _template = Template("""
        {% macro header(this, kwargs) %}
            <style data-jixi-asset="controls">{{ this.css }}</style>
            <script data-jixi-asset="controls">{{ this.js }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            L.jixi.setup({{ this._parent.get_name() }}, {{ this.config }});
        {% endmacro %}
    """)

    def __init__(self, config: dict):
        super().__init__()
        self._name = "JixiControls"
        self.css = asset_text("controls.css")
        self.js = asset_text("controls.js").replace("</script", "<\\/script")
        self.config = _js_json(config)


def _basemap_tiles(basemap, tianditu_key) -> tuple[list[dict], bool]:
    """Tile layer options for ``basemap`` and whether overlays must be shifted to GCJ-02."""
    if basemap is None:
        return [], False
    if basemap not in BASEMAPS:
        raise InputError(f"basemap must be None or one of {', '.join(map(repr, BASEMAPS))}; got {basemap!r}")
    if basemap == "osm":
        return [dict(tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png", max_zoom=19,
                     attr="&copy; OpenStreetMap contributors", name="OpenStreetMap")], False
    if basemap == "tianditu":
        if not tianditu_key or not isinstance(tianditu_key, str):
            raise InputError("basemap='tianditu' needs tianditu_key=... (a 天地图 key from "
                             "console.tianditu.gov.cn); note that the key is written into the saved page")
        tk = quote(tianditu_key.strip(), safe="")
        url = ("https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
               "&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
               "&TILECOL={x}&tk=")
        attr = "&copy; 天地图 Tianditu (国家地理信息公共服务平台)"
        return [dict(tiles=url % ("vec", "vec") + tk, attr=attr, subdomains="01234567", max_zoom=18,
                     name="天地图 Tianditu"),
                dict(tiles=url % ("cva", "cva") + tk, attr=attr, subdomains="01234567", max_zoom=18,
                     name="天地图注记 Tianditu labels")], False
    return [dict(tiles="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                       "&style=8&x={x}&y={y}&z={z}", subdomains="1234", max_zoom=18,
                 attr="&copy; 高德地图 AutoNavi", name="高德 Gaode")], True


_GCJ02_NOTE = ("叠加图层已偏移至 GCJ-02 坐标以匹配高德底图，仅供显示；分析请用原始 CGCS2000 图层。 "
               "Overlays shifted to GCJ-02 for display on the Gaode basemap only; analyse the "
               "CGCS2000 layers.")


def _new_map(tiles: list[dict], title: str) -> folium.Map:
    lon0, lat0, lon1, lat1 = JIXI_BOUNDS
    m = folium.Map(location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2], zoom_start=8, tiles=None,
                   control_scale=True, prefer_canvas=False)
    for i, t in enumerate(tiles):
        folium.TileLayer(overlay=i > 0, control=False, **t).add_to(m)
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium.Map is made inside a branca Figure
    root.header.add_child(Element(f"<title>{_inert_html(title)}</title>"), name="jx_title")
    return m


def _finish(m: folium.Map, frames: list, *, title: str, legend: dict, notes: list[str],
            warnings: list[str], stamp: list[str] | None = None, search: list[dict] | None = None) -> folium.Map:
    bounds = [f.total_bounds for f in frames if f is not None and len(f) and not f.geometry.is_empty.all()]
    if bounds:
        b = np.array(bounds)
        w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    else:
        w, s, e, n = JIXI_BOUNDS
    m.fit_bounds([[float(s), float(w)], [float(n), float(e)]])
    order = {child.layer_name: child._jx_order for child in m._children.values()
             if isinstance(child, _OrderedGroup)}
    # folium renders a JsCode sort_function; its annotation lists only JSON values
    folium.LayerControl(collapsed=False, position="topright", sort_layers=True,
                        sort_function=JsCode(f"L.jixi.sortByName({_js_json(order)})")).add_to(m)  # type: ignore[arg-type]
    config = {"title": title, "legend": legend, "notes": notes, "warnings": warnings}
    if stamp:
        config["stamp"] = stamp
    if search is not None:
        config["search"] = search
    _Controls(config).add_to(m)
    return m


def _simplify_note(simplify_m: float) -> str:
    if simplify_m <= 0:
        return "几何未简化。 Geometry not simplified."
    return (f"几何仅为显示而简化（容差 {simplify_m:g} m，EPSG:4553）；量算与分析请用原始图层。 "
            f"Geometry simplified for display only ({simplify_m:g} m tolerance in EPSG:4553); "
            "measure and analyse with the layers, not the map.")


def _reference_legend(present: list[str]) -> list[dict]:
    items = []
    for key in present:
        zh, en, colour = _REF_STYLE[key]
        shape = "line" if key in ("rivers", "boundary") else "fill"
        items.append({"label": f"{zh} {en}", "color": colour, "fill": "#ffffff", "shape": shape,
                      "fillOpacity": 0.05, "dashArray": "4 3" if key == "counties" else None})
    return items


# ======================================================================== pattern map

def _pattern_props(element: str):
    zh_el, en_el, colour, fill_opacity = PATTERN_ELEMENTS[element]

    def props(row, geom):
        style = _path_style(geom, color=colour, fill=colour, fill_opacity=fill_opacity,
                            weight=3 if shapely.get_dimensions(geom) == 1 else 1.5,
                            cls=f"jx-g-{element}")
        rows = [
            ("要素 Element", html.escape(f"{zh_el} {en_el}")),
            ("类别 Category", _esc(_col(row, "category"))),
            ("级别 Level", _esc(_col(row, "level"))),
            ("官方面积 Official area", _num(_col(row, "official_area_ha"), "ha")),
            ("模型面积 Modelled area", _num(_col(row, "_area_ha"), "ha")),
            ("精度 Precision", _precision_text(_esc(_col(row, "precision")))),
            ("方法 Method", _esc(_col(row, "method"))),
            ("来源 Source", _esc(_col(row, "source"))),
        ]
        label = _label(_col(row, "name_zh"), geom, "reserve") if element in ("protected_area", "lake") else {}
        return {"style": style,
                "_tip": _tooltip(_col(row, "name_zh"), _col(row, "name_en"), html.escape(f"{zh_el} {en_el}")),
                "_popup": _popup(_col(row, "name_zh"), _col(row, "name_en"), rows), **label}
    return props


def pattern_map(*, layers: Mapping | None = None, basemap: str | None = None,
                tianditu_key: str | None = None, simplify_m: float = 50.0) -> folium.Map:
    """Web map of the ecological security pattern (一湖两屏四廊多点) over the counties.

    Parameters
    ----------
    layers : mapping, optional
        GeoDataFrames to use instead of the bundled layers, by name: ``"pattern"``,
        ``"boundary"``, ``"counties"``, ``"rivers"`` (and, used only while the
        ``pattern`` layer is not built, ``"lake"``, ``"barriers"``, ``"corridors"``,
        ``"protected_areas"``). A value of ``None`` leaves that layer out.
    basemap : {None, "osm", "tianditu", "gaode"}
        Background tiles; none by default (works offline).
    tianditu_key : str, optional
        Required for ``basemap="tianditu"``.
    simplify_m : float, default 50
        Display simplification tolerance in metres (EPSG:4553, topology
        preserved); 0 keeps every vertex. The data are not changed.

    Returns
    -------
    folium.Map
        One layer-control group per pattern element present (``element`` in
        lake, barrier, corridor, protected_area) plus counties, rivers and the
        city boundary; legend, scale bar, full-screen and measuring tools.

    Raises
    ------
    InputError
        For an unknown basemap, a missing ``tianditu_key`` or a bad ``simplify_m``.
    SchemaError
        If the pattern layer lacks ``element`` or has unknown element values.
    """
    simplify_m = _check_tolerance(simplify_m)
    layers = _check_layers_arg(layers, _PATTERN_KEYS)
    tiles, gcj02 = _basemap_tiles(basemap, tianditu_key)
    notes: list[str] = []
    warnings: list[str] = []
    pattern = _pattern_elements(layers, notes, warnings)
    refs = {k: _layer_or_none(k, layers, notes=notes) for k in ("counties", "boundary", "rivers")}

    title = "鸡西市生态安全格局 Jixi ecological security pattern"
    m = _new_map(tiles, title)
    disp = {k: (_display_copy(v, simplify_m=simplify_m, gcj02=gcj02, name=f"the {k} layer")
                if v is not None else None) for k, v in refs.items()}
    _add_group(m, "counties", "区县 Counties", disp["counties"], _reference_props("counties"), order=90)

    items: list[dict] = []
    pat_disp = None
    if pattern is not None and len(pattern):
        area = (pattern["area_ha"].to_numpy(dtype=float) if "area_ha" in pattern.columns
                else geodesic_area(pattern, unit="ha"))
        pat_disp = _display_copy(pattern, simplify_m=simplify_m, gcj02=gcj02, name="the pattern layer")
        pat_disp["_area_ha"] = area
        for element, (zh, en, colour, fo) in PATTERN_ELEMENTS.items():
            sub = pat_disp[pat_disp["element"].astype(str) == element]
            group = _add_group(m, element, f"{zh} {en}", sub, _pattern_props(element),
                               order=10 - list(PATTERN_ELEMENTS).index(element))
            if group is not None:
                dims = set(shapely.get_dimensions(sub.geometry.values).tolist())
                shape = "line" if dims == {1} else "point" if dims == {0} else "fill"
                items.insert(0, {"label": f"{zh} {en}", "color": colour, "fill": colour,
                                 "fillOpacity": fo, "shape": shape})  # topmost first
        if (pattern.get("precision", pd.Series(dtype=object)).astype(str) == "schematic").any():
            notes.append("格局要素为模型示意（schematic），非官方划定边界。 Pattern elements are modelled "
                         "(schematic), not officially surveyed boundaries.")

    _add_group(m, "rivers", "河流 Rivers", disp["rivers"], _reference_props("rivers"), order=70)
    _add_group(m, "boundary", "鸡西市界 City boundary", disp["boundary"], _reference_props("boundary"),
               order=80)

    notes.append(_simplify_note(simplify_m))
    if gcj02:
        warnings.append(_GCJ02_NOTE)
    present = [k for k in ("counties", "boundary", "rivers") if (d := disp[k]) is not None and len(d)]
    legend = {"title": "图例 Legend", "sections": [
        {"title": "生态安全格局 Ecological security pattern", "items": items},
        {"title": "基础地理 Reference", "items": _reference_legend(present)},
    ]}
    return _finish(m, [pat_disp, *disp.values()], title=title, legend=legend, notes=notes,
                   warnings=warnings, stamp=_stamp_of(pattern, *refs.values()))


# =========================================================================== park map

def _landuse_colours(notes: list[str]) -> pd.DataFrame:
    """``layers/rules/landuse_colours.csv`` indexed by code (empty if the file is missing)."""
    path = rules_dir() / "landuse_colours.csv"
    if not path.exists():
        notes.append("未找到用地色表 landuse_colours.csv，全部以灰色显示。 landuse_colours.csv not found; "
                     "all classes drawn grey.")
        return pd.DataFrame(columns=["name_zh", "name_en", "hex"])
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = {"code", "hex"} - set(table.columns)
    if missing:
        raise SchemaError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
    table["code"] = table["code"].str.strip()
    return table.drop_duplicates("code").set_index("code")


def _share_chart_svg(rows: list[tuple[str, str, float, str]], *, title: str) -> str:
    """A small horizontal bar chart (inline SVG) of shares in percent.

    ``rows`` are (code, 中文 name, share %, colour); all text is escaped.
    """
    if not rows:
        return ""
    label_w, bar_w, value_w, row_h, top = 120, 150, 48, 17, 18
    width, height = label_w + bar_w + value_w, top + row_h * len(rows) + 4
    parts = [f'<svg class="jx-chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>',
             f'<text x="0" y="12" font-size="11" font-weight="600">{html.escape(title)}</text>']
    for i, (code, name, share, colour) in enumerate(rows):
        y = top + i * row_h
        w = 0.0 if not math.isfinite(share) else max(0.0, min(share, 100.0)) / 100.0 * bar_w
        label = f"{code} {name}" if name else code
        if len(label) > 12:
            label = label[:11] + "…"
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{html.escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="{row_h - 5}" fill="#eeeeee"/>')
        parts.append(f'<rect class="jx-bar" x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" '
                     f'fill="{html.escape(colour)}" stroke="#555" stroke-width="0.5"/>')
        value = "—" if not math.isfinite(share) else f"{share:.1f}%"
        parts.append(f'<text x="{label_w + bar_w + 4}" y="{y + 12}" font-size="11">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _zone_shares(zones: pd.DataFrame) -> pd.Series:
    """Share of its park for each zone (%).

    ``share_pct`` where given; otherwise ``planned_area_ha`` over the summed
    ``planned_area_ha`` of the park's zones (i.e. a share of the zoned area).
    """
    share = (pd.to_numeric(zones["share_pct"], errors="coerce") if "share_pct" in zones.columns
             else pd.Series(np.nan, index=zones.index))
    if "planned_area_ha" in zones.columns and share.isna().any():
        area = pd.to_numeric(zones["planned_area_ha"], errors="coerce")
        total = area.groupby(zones["park"]).transform("sum")
        share = share.fillna(area / total * 100.0)
    return share


def park_map(park: str | None = None, *, parks: gpd.GeoDataFrame | None = None,
             zones: gpd.GeoDataFrame | None = None, basemap: str | None = None,
             tianditu_key: str | None = None, simplify_m: float = 2.0) -> folium.Map:
    """Web map of the Jidong EDZ parks and their function zones, coloured by land use.

    Parameters
    ----------
    park : {None, "baoquan", "industrial", "chemical"}
        One park, or all three (default).
    parks, zones : GeoDataFrame, optional
        Park outlines (columns ``park, name_zh, name_en``) and function zones
        (``park, name_zh, name_en, landuse_code`` and ``planned_area_ha`` and/or
        ``share_pct``); default: the bundled ``jidong_parks`` and
        ``jidong_function_zones`` layers.
    basemap, tianditu_key
        See :func:`pattern_map`.
    simplify_m : float, default 2
        Display simplification tolerance in metres.

    Returns
    -------
    folium.Map
        Zones coloured by GB 50137 major class from ``layers/rules/landuse_colours.csv``
        (codes missing there are grey, as the legend says); popups give the planned
        area, the share of the park and an SVG bar chart of the park's land-use shares.

    Raises
    ------
    InputError
        For an unknown park, or a park absent from the data.
    SchemaError
        If a layer lacks a required column.
    """
    simplify_m = _check_tolerance(simplify_m)
    parks_given = parks
    if park is not None and park not in PARKS:
        raise InputError(f"park must be None or one of {', '.join(map(repr, PARKS))}; got {park!r}")
    tiles, gcj02 = _basemap_tiles(basemap, tianditu_key)
    parks = load_layer("jidong_parks") if parks is None else parks
    zones = load_layer("jidong_function_zones") if zones is None else zones
    _require_columns(parks, ["park", "name_zh", "name_en"], name="the parks layer")
    _require_columns(zones, ["park", "landuse_code"], name="the function-zones layer")
    if "planned_area_ha" not in zones.columns and "share_pct" not in zones.columns:
        raise SchemaError("the function-zones layer needs planned_area_ha or share_pct")
    if park is not None:
        parks = parks[parks["park"].astype(str) == park]
        zones = zones[zones["park"].astype(str) == park]
        if len(parks) == 0 and len(zones) == 0:
            raise InputError(f"park {park!r} is not in the parks or zones data")

    notes: list[str] = []
    colours = _landuse_colours(notes)
    zones = zones.assign(_share=_zone_shares(zones).to_numpy(),
                         _code=zones["landuse_code"].fillna("").astype(str).str.strip().replace("", "?"))
    unknown = sorted(set(zones["_code"]) - set(colours.index))

    def colour_of(code: str) -> str:
        return colours.at[code, "hex"] if code in colours.index and colours.at[code, "hex"] else GREY

    def class_name(code: str) -> tuple[str, str]:
        if code not in colours.index:
            return "未列入色表", "not in colour table"
        zh, en = (str(colours.at[code, c]) if c in colours.columns else "" for c in ("name_zh", "name_en"))
        return zh, en

    park_names = {str(r["park"]): (r["name_zh"], r["name_en"]) for _, r in parks.iterrows()}
    bundled = parks_given is None
    unzoned = [k for k in park_names if k not in set(zones["park"].astype(str))]
    charts = {k: _current_landuse_chart(k, park_names[k][0]) for k in unzoned if bundled}
    for key, sub in zones.groupby("park", sort=False):
        by_code = sub.groupby("_code", sort=False)["_share"].sum(min_count=1).sort_values(ascending=False)
        zh, en = park_names.get(str(key), PARKS.get(str(key), (str(key), "")))
        rows = [(code, class_name(code)[0], float(v) if pd.notna(v) else float("nan"), colour_of(code))
                for code, v in by_code.items()]
        charts[str(key)] = _share_chart_svg(rows, title=f"{zh} 用地构成 Land-use shares")

    title = "鸡东经济开发区 园区用地 Jidong EDZ park land use"
    if park is not None:
        title = f"{PARKS[park][0]} {PARKS[park][1]} — 用地 land use"
    m = _new_map(tiles, title)
    zones_d = _display_copy(zones, simplify_m=simplify_m, gcj02=gcj02, name="the function-zones layer")
    parks_d = _display_copy(parks, simplify_m=simplify_m, gcj02=gcj02, name="the parks layer")

    def zone_props(row, geom):
        code = row["_code"]
        cz, ce = class_name(code)
        pz, pe = park_names.get(str(row["park"]), PARKS.get(str(row["park"]), (row["park"], "")))
        style = _path_style(geom, color="#333333", fill=colour_of(code), fill_opacity=0.75, weight=1,
                            cls=f"jx-g-zones-{_slug(row['park'])} jx-code-{_slug(code)}")
        rows = [("园区 Park", f"{_esc(pz)} {_esc(pe)}"),
                ("用地类别 Land use", f"{_esc(code)} {_esc(cz)} {_esc(ce)}"),
                ("规划面积 Planned area", _num(_col(row, "planned_area_ha"), "ha")),
                ("占园区比例 Share of park", _num(row["_share"], "%", 1))]
        return {"style": style,
                "_tip": _tooltip(_col(row, "name_zh"), _col(row, "name_en"),
                                 f"{_esc(code)} {_esc(cz)} · {_num(row['_share'], '%', 1)}"),
                "_popup": _popup(_col(row, "name_zh"), _col(row, "name_en"), rows,
                                 after=charts.get(str(row["park"]), ""))}

    def park_props(row, geom):
        # a park without zones is filled (almost clear) so that a click anywhere inside opens its popup
        style = _path_style(geom, color="#111111", fill="#ffffff", weight=2.5, dash="6 4", cls="jx-g-parks",
                            fill_opacity=0.05 if str(row["park"]) in unzoned else 0.0)
        area = _col(row, "planned_area_ha")
        if _is_missing(area):
            area = _col(row, "area_ha")
        rows = [("园区 Park", _esc(row["park"])), ("面积 Area", _num(area, "ha")),
                ("精度 Precision", _precision_text(_esc(_col(row, "precision"))))]
        key = str(row["park"])
        label = _label(" / ".join(_UNZONED), geom, "park") if key in unzoned else {}
        if key in unzoned:
            rows.append(("功能分区 Function zones", html.escape(f"{_UNZONED[0]} {_UNZONED[1]}")))
        return {"style": style, "_tip": _tooltip(row["name_zh"], row["name_en"]),
                "_popup": _popup(row["name_zh"], row["name_en"], rows, after=charts.get(key, "")), **label}

    keys = [k for k in PARKS if k in set(zones_d["park"].astype(str))]
    keys += sorted(set(zones_d["park"].astype(str)) - set(PARKS))
    for i, key in enumerate(keys):
        zh, en = park_names.get(key, PARKS.get(key, (key, "")))
        _add_group(m, f"zones-{_slug(key)}", f"{zh} 功能分区 {en} zones",
                   zones_d[zones_d["park"].astype(str) == key], zone_props, order=i)
    _add_group(m, "parks", "园区边界 Park boundaries", parks_d, park_props, order=len(keys))

    present = [c for c in colours.index if c in set(zones["_code"])]
    items = [{"label": f"{c} {class_name(c)[0]} {class_name(c)[1]}", "color": "#333333",
              "fill": colour_of(c), "fillOpacity": 0.75, "shape": "fill"} for c in present]
    items += [{"label": f"{c}（未列入色表 not in colour table）", "color": "#333333", "fill": GREY,
               "fillOpacity": 0.75, "shape": "fill"} for c in unknown]
    items.append({"label": "园区边界 Park boundary", "color": "#111111", "shape": "line", "dashArray": "6 4"})
    for key in unzoned:
        zh, en = park_names[key]
        notes.append(f"{_text(zh)}：{_UNZONED[0]}，图中只有园区范围（示意）"
                     + ("；单击园区看现状用地构成" if charts.get(key) else "") + f"。 {_text(en)}: "
                     + _UNZONED[1] + "; only the park outline (schematic) is drawn"
                     + ("; click the park for its current land use." if charts.get(key) else "."))
    if unknown:
        notes.append(f"灰色：用地色表 landuse_colours.csv 中没有的代码 {'、'.join(unknown)}。 Grey: land-use "
                     f"code(s) {', '.join(unknown)} missing from landuse_colours.csv.")
    notes.append("用地颜色参照 CJJ/T 97-2003 惯例（近似色值）。 Colours follow the CJJ/T 97-2003 "
                 "convention (approximate hex values).")
    notes.append(_simplify_note(simplify_m))
    legend = {"title": "图例 Legend", "sections": [
        {"title": "用地类别（GB 50137 大类） Land use (GB 50137 major class)", "items": items}]}
    return _finish(m, [zones_d, parks_d], title=title, legend=legend, notes=notes,
                   warnings=[_GCJ02_NOTE] if gcj02 else [], stamp=_stamp_of(parks, zones))


#: What a park without function zones says (the plan gives 宝泉工业园 none).
_UNZONED = ("规划未划分功能分区", "the plan gives no function zones")


def _current_landuse_chart(key: str, name_zh) -> str:
    """SVG chart of a bundled park's published current land use (its rows as published), or ''."""
    from . import landuse

    if (key, "current") not in set(landuse.published_tables()):
        return ""
    table = landuse.load_table(key, "current")
    rows = table[table["row_kind"].isin(["class", "non_construction"]) & (table["level"] == "major")]
    total = pd.to_numeric(rows["area_ha"], errors="coerce").sum()
    colours = _landuse_colours([])
    bars = []
    for _, r in rows.iterrows():
        code = str(r["code"])
        colour = colours.at[code, "hex"] if code in colours.index and colours.at[code, "hex"] else GREY
        bars.append((str(r["code_published"]), str(r["name_published"]),
                     float(r["area_ha"]) / total * 100.0 if total else float("nan"), colour))
    return _share_chart_svg(bars, title=f"{_text(name_zh)} 现状用地 Current land use")


# ===================================================================== compliance map

#: Above this many sites the compliance map draws no screening buffers (a note says so).
MAX_BUFFERS = 5000
#: Above this many sites the compliance map labels none of them (the search still lists every site).
MAX_SITE_LABELS = 2000
#: Columns holding a site's name, in the order the compliance map looks for one.
NAME_COLUMNS = ("site_name", "name", "name_zh")


def _default_buffer_m() -> float:
    import inspect

    from .redline import check_sites

    return float(inspect.signature(check_sites).parameters["buffer_m"].default)


def _buffer_of(results, buffer_m) -> tuple[float, str]:
    """The screening distance (m) and where it came from: the argument, a ``buffer_m`` column, or
    check_sites' default (said so on the map)."""
    from ._args import amount

    if buffer_m is not None:
        return amount(buffer_m, name="buffer_m"), "given"
    if "buffer_m" in results.columns:
        values = pd.to_numeric(results["buffer_m"], errors="coerce").dropna().unique()
        if len(values) == 1:
            return amount(float(values[0]), name="buffer_m"), "column"
        if len(values) > 1:
            raise InputError(f"results has several buffer_m values ({', '.join(f'{v:g}' for v in values[:5])}); "
                             "pass buffer_m= to say which screening buffer to draw")
    return _default_buffer_m(), "default"


def _site_name(row):
    for c in NAME_COLUMNS:
        v = _col(row, c)
        if not _is_missing(v) and _text(v).strip():
            return v
    return None


#: A control layer with more features than this is not drawn on the compliance map (said in its notes).
MAX_CONTROL_FEATURES = 5000


def _control_layers(controls) -> dict[str, tuple[gpd.GeoDataFrame, str, bool]]:
    """role -> (layer, source, synthetic) from a :class:`jixi_geo.controls.Controls` or a mapping role -> layer."""
    if controls is None:
        return {}
    layers = getattr(controls, "layers", controls)
    if not isinstance(layers, Mapping):
        raise InputError(f"controls 须为 Controls 或 {{角色: GeoDataFrame}} / controls must be a Controls or a mapping "
                         f"role -> GeoDataFrame; got {type(controls).__name__}")
    return {str(role): (getattr(c, "gdf", c), str(getattr(c, "source", "") or ""), bool(getattr(c, "synthetic", False)))
            for role, c in layers.items()}


def _add_control_groups(m: folium.Map, controls, *, simplify_m: float, gcj02: bool,
                        notes: list[str]) -> tuple[list[dict], bool]:
    """Draw each control layer as one group under the sites; its legend items and whether any is synthetic."""
    from ._report_controls import role_label, roles_table, term

    t = roles_table()
    layers = _control_layers(controls)
    items: list[dict] = []
    synthetic = False
    order = [r for r in t.index if r in layers] + [r for r in layers if r not in t.index]
    for i, role in enumerate(order):
        gdf, source, synth = layers[role]
        synthetic |= synth
        zh, en = role_label(role)
        colour = str(t.at[role, "colour"]) if role in t.index and t.at[role, "colour"] else GREY
        fo = float(t.at[role, "fill_opacity"]) if role in t.index and t.at[role, "fill_opacity"] else 0.3
        if len(gdf) > MAX_CONTROL_FEATURES:
            notes.append(f"{zh}图层要素超过 {MAX_CONTROL_FEATURES:,} 个，未绘制。 The {en} layer has more than "
                         f"{MAX_CONTROL_FEATURES:,} features and is not drawn.")
            continue
        shown = _display_copy(gdf, simplify_m=simplify_m, gcj02=gcj02, name=role)
        file_name = source.replace("\\", "/").rsplit("/", 1)[-1]

        def props(row, geom, role=role, zh=zh, en=en, colour=colour, fo=fo, file_name=file_name):
            style = _path_style(geom, color=colour, fill=colour, fill_opacity=fo, weight=1,
                                cls=f"jx-g-control-{_slug(role)}")
            rows = [("图层 Layer", html.escape(f"{zh} {en}")), ("编号 ID", _esc(_col(row, "control_id")))]
            level = _col(row, "level")
            if not _is_missing(level) and str(level):
                lz, le = term("level", level)
                rows.append(("级别 Level", html.escape(lz if lz == le else f"{lz} {le}")))
            if "class_code" in row:
                rows.append(("地类代码 Class code", _esc(_col(row, "class_code"))))
            rows.append(("来源 Source", _esc(file_name)))
            name = _col(row, "name")
            head = zh if _is_missing(name) or not str(name).strip() else name
            return {"style": style, "_tip": _tooltip(head, None, html.escape(f"{zh} {en}")),
                    "_popup": _popup(head, None, rows)}

        if _add_group(m, f"control-{_slug(role)}", f"{zh} {en}", shown, props, order=80 + i):
            items.append({"label": f"{zh} {en}", "color": colour, "fill": colour, "fillOpacity": fo, "shape": "fill"})
    return items, synthetic


def _line_rows(row) -> list[tuple[str, str]]:
    """Popup rows of a site's per-line verdicts (when the results carry them): badge, relation, area."""
    from ._report_controls import role_label, roles_table, term

    t = roles_table()
    out = []
    lines = [("eco", "redline")] + [(str(t.at[r, "prefix"]), r) for r in t.index if t.at[r, "kind"] == "line"]
    for prefix, role in lines:
        v = _col(row, f"{prefix}_verdict")
        if _is_missing(v) or str(v) not in VERDICTS:
            continue
        zh, en, colour = VERDICTS[str(v)]
        badge = (f'<span class="jx-verdict" style="background:{colour};color:{vocab.text_colour("verdict", v)}">'
                 f'{html.escape(f"{zh} {en}")}</span>')
        rel = _col(row, f"{prefix}_relation")
        rel_txt = "" if _is_missing(rel) else " " + html.escape(" ".join(dict.fromkeys(term("relation", rel))))
        ha = _col(row, f"{prefix}_ha")
        area = "" if _is_missing(ha) else " " + _num(ha, "ha", 4)
        lz, le = role_label(role)
        out.append((f"{lz} {le}", badge + rel_txt + area))
    return out


def compliance_map(results: gpd.GeoDataFrame, *, zones: gpd.GeoDataFrame | None = None,
                   boundary: gpd.GeoDataFrame | None = None, buffer_m: float | None = None,
                   basemap: str | None = None, tianditu_key: str | None = None,
                   simplify_m: float = 20.0, controls=None) -> folium.Map:
    """Web map of red-line compliance results over the red-line control zones.

    Parameters
    ----------
    results : GeoDataFrame
        Output of the compliance engine: ``site_id``, ``verdict`` (prohibited,
        restricted, conditional, attention, clear, outside_jixi) and, shown when
        present, ``name, control_level, zones_hit, overlap_ha, overlap_pct,
        distance_m, nearest_zone, activity, rule, basis, reasons``; points, lines
        or polygons in any CRS.
    zones : GeoDataFrame, optional
        Red-line zones (``control_level`` in nature_reserve, ecological_redline,
        general_ecological_space; ``name_zh``, ``name_en``); default: the bundled
        ``redline_zones`` layer (left out, with a note, if it is not built).
    boundary : GeoDataFrame, optional
        The city boundary drawn under the sites; default: the bundled ``boundary`` layer.
    buffer_m : float, optional
        The screening distance of the check (metres): each site is drawn with a dashed
        outline this far around it. Default: the results' ``buffer_m`` column when it
        holds one value, else the default of :func:`jixi_geo.check_sites` (1 000 m),
        and the map says which. No buffers above :data:`MAX_BUFFERS` sites.
    basemap, tianditu_key
        See :func:`pattern_map`.
    simplify_m : float, default 20
        Display tolerance for the zones, in metres; sites are never simplified.
    controls : Controls or mapping of str to GeoDataFrame, optional
        The control layers of a check with ``controls=`` (what :func:`jixi_geo.controls.load_controls`
        returns): each drawn as one group under the sites, coloured by ``control_roles.csv`` (a layer of
        more than :data:`MAX_CONTROL_FEATURES` features is left out, with a note). When one is the
        synthetic sample the map carries the 合成示例·非真实数据 stamp. The sites' popups show their
        per-line verdicts whenever the results carry them (``eco_verdict``, ``farmland_verdict`` …).

    Returns
    -------
    folium.Map
        Zones under the sites; sites coloured by verdict (prohibited red,
        restricted orange, conditional yellow, attention blue, clear green,
        outside Jixi grey), one layer-control group per verdict; tooltips and popups
        headed by the site's name (``site_name``, ``name`` or ``name_zh``), then its
        id; the city boundary; each site's screening buffer; labels of reserves and
        sites from zoom 10 and 11; a search box listing the sites by name and id
        (type to filter, click to zoom to the site and open its popup).

    Raises
    ------
    SchemaError
        If ``results`` lacks ``site_id``/``verdict`` or has an unknown verdict.
    """
    simplify_m = _check_tolerance(simplify_m)
    _require_columns(results, ["site_id", "verdict"], name="results")
    verdicts = results["verdict"].astype("string")
    bad = sorted(set(verdicts.dropna()) - set(VERDICTS)) + (["<missing>"] if verdicts.isna().any() else [])
    if bad:
        raise SchemaError(f"results has verdict value(s) {', '.join(bad)}; expected {', '.join(VERDICTS)}")
    tiles, gcj02 = _basemap_tiles(basemap, tianditu_key)
    notes: list[str] = []
    warnings: list[str] = []
    if zones is None:
        try:
            zones = load_layer("redline_zones")
        except LayerNotFoundError:
            warnings.append("红线分区图层 redline_zones 尚未构建，未显示。 The redline_zones layer is not "
                            "built yet and is not shown.")
    if zones is not None:
        _require_columns(zones, ["control_level"], name="zones")

    buffer_m, buffer_from = _buffer_of(results, buffer_m)
    if boundary is None:
        boundary = _layer_or_none("boundary", {}, notes=notes)
    elif not isinstance(boundary, gpd.GeoDataFrame):
        raise InputError(f"boundary must be a GeoDataFrame or None; got {type(boundary).__name__}")

    title = "生态保护红线合规检查 Red-line compliance check"
    m = _new_map(tiles, title)
    zones_d = (_display_copy(zones, simplify_m=simplify_m, gcj02=gcj02, name="zones")
               if zones is not None else None)
    sites_d = _display_copy(results, simplify_m=0.0, gcj02=gcj02, name="results")
    sites_d["_key"] = [f"s{i}" for i in range(len(sites_d))]
    boundary_d = (_display_copy(boundary, simplify_m=simplify_m, gcj02=gcj02, name="boundary")
                  if boundary is not None and len(boundary) else None)
    draw_buffers = buffer_m > 0 and len(results) <= MAX_BUFFERS
    label_sites = len(results) <= MAX_SITE_LABELS
    if not label_sites:
        notes.append(f"场址超过 {MAX_SITE_LABELS:,} 个，不显示场址注记；请用搜索框查找。 More than "
                     f"{MAX_SITE_LABELS:,} sites: no site labels; use the search box.")
    buffers_d = None
    if draw_buffers:
        ensure_crs(results, name="results")
        ring = results.geometry.to_crs(ANALYSIS_CRS).buffer(buffer_m, quad_segs=32)
        buffers_d = _display_copy(gpd.GeoDataFrame({"verdict": results["verdict"].astype(str).to_numpy()},
                                                   geometry=ring.to_numpy(), crs=ANALYSIS_CRS),
                                  simplify_m=0.0, gcj02=gcj02, name="buffers")

    def zone_props(level):
        zh, en, colour, fo = CONTROL_LEVELS.get(level, (level, level, GREY, 0.3))

        def props(row, geom):
            style = _path_style(geom, color=colour, fill=colour, fill_opacity=fo, weight=1,
                                cls=f"jx-g-zone-{_slug(level)}")
            rows = [("管控级别 Control level", html.escape(f"{zh} {en}")),
                    ("面积 Area", _num(_col(row, "area_ha"), "ha")),
                    ("精度 Precision", _esc(_col(row, "precision"))),
                    ("方法 Method", _esc(_col(row, "method")))]
            rows[2] = (rows[2][0], _precision_text(rows[2][1]))
            label = _label(_col(row, "name_zh"), geom, "reserve") if "reserve" in str(level) else {}
            return {"style": style, "_tip": _tooltip(_col(row, "name_zh"), _col(row, "name_en"),
                                                     html.escape(f"{zh} {en}")),
                    "_popup": _popup(_col(row, "name_zh"), _col(row, "name_en"), rows), **label}
        return props

    zone_items: list[dict] = []
    if zones_d is not None:
        levels = list(dict.fromkeys([*CONTROL_LEVELS, *sorted(set(zones_d["control_level"].astype(str)))]))
        for level in reversed(levels):  # loosest at the bottom
            sub = zones_d[zones_d["control_level"].astype(str) == level]
            zh, en, colour, fo = CONTROL_LEVELS.get(level, (level, level, GREY, 0.3))
            if _add_group(m, f"zone-{_slug(level)}", f"{zh} {en}", sub, zone_props(level),
                          order=100 + levels.index(level)):
                zone_items.insert(0, {"label": f"{zh} {en}", "color": colour, "fill": colour,
                                      "fillOpacity": fo, "shape": "fill"})

    ctl_items, ctl_synthetic = _add_control_groups(m, controls, simplify_m=simplify_m, gcj02=gcj02, notes=notes)
    if "controls_synthetic" in results.columns:
        ctl_synthetic |= bool(results["controls_synthetic"].fillna(False).astype(bool).any())

    def site_props(verdict):
        zh, en, colour = VERDICTS[verdict]

        def props(row, geom):
            dim = shapely.get_dimensions(geom)
            style = _path_style(geom, color="#222222" if dim != 1 else colour, fill=colour,
                                fill_opacity=0.55, weight=4 if dim == 1 else 1.5, cls=f"jx-g-verdict-{verdict}")
            name = _site_name(row)
            head = row["site_id"] if _is_missing(name) else name
            badge = (f'<span class="jx-verdict" style="background:{colour};'
                     f'color:{vocab.text_colour("verdict", verdict)}">'
                     f'{html.escape(f"{zh} {en}")}</span>')
            level = _col(row, "control_level")
            level_txt = _esc(level) if _is_missing(level) else html.escape(vocab.display("control_level", level))
            precision = _col(row, "location_precision")
            rows = [("结论 Verdict", badge),
                    ("编号 Site ID", _esc(row["site_id"])),
                    ("位置精度 Location precision", _esc(location_label(precision))),
                    ("管控级别 Control level", level_txt),
                    ("涉及分区 Zones hit", _esc(_col(row, "zones_hit"))),
                    ("重叠面积 Overlap", _num(_col(row, "overlap_ha"), "ha")),
                    ("重叠比例 Overlap share", _num(_col(row, "overlap_pct"), "%", 1)),
                    ("最近距离 Distance", _num(_col(row, "distance_m"), "m", 0)),
                    ("最近分区 Nearest zone", _esc(_col(row, "nearest_zone"))),
                    ("活动 Activity", _activity_text(_col(row, "activity"))),
                    ("规则 Rule", _rule_text(row)),
                    ("依据 Basis", _esc(_col(row, "basis"))),
                    ("理由 Reasons", _esc(_col(row, "reasons")))]
            rows[1:1] = _line_rows(row)
            tip = html.escape(f"{zh} {en}")
            if not _is_missing(precision) and str(precision) in LOCATION_LABELS:
                tip += html.escape(f" · {location_label(precision)}")
            return {"style": style, "_key": row["_key"],
                    "_tip": _tooltip(head, None if _is_missing(name) else row["site_id"], tip),
                    "_popup": _popup(head, None if _is_missing(name) else row["site_id"], rows),
                    **(_label(head, geom, "site") if label_sites else {})}
        return props

    def buffer_props(row, geom):
        colour = VERDICTS[row["verdict"]][2]
        return {"style": _path_style(geom, color=colour, fill_opacity=0.0, weight=1.2, dash="5 4",
                                     cls="jx-g-buffer", interactive=False)}

    if boundary_d is not None:
        _add_group(m, "boundary", "鸡西市界 City boundary", boundary_d, _reference_props("boundary"), order=90)
    if buffers_d is not None:
        _add_group(m, "buffer", f"筛查缓冲区 {buffer_m:,.0f} m Screening buffers", buffers_d, buffer_props,
                   order=95)

    site_items: list[dict] = []
    for verdict in reversed(list(VERDICTS)):  # most severe drawn last, on top
        sub = sites_d[sites_d["verdict"].astype(str) == verdict]
        zh, en, colour = VERDICTS[verdict]
        if _add_group(m, f"verdict-{verdict}", f"{zh} {en} ({len(sub)})", sub, site_props(verdict),
                      order=list(VERDICTS).index(verdict)):
            site_items.insert(0, {"label": f"{zh} {en} ({len(sub)})", "color": "#222222", "fill": colour,
                                  "fillOpacity": 0.85, "shape": "point"})

    if zones_d is not None:
        notes.append(_simplify_note(simplify_m).replace("几何", "分区几何").replace("Geometry", "Zone geometry"))
    source = {"given": ("", ""), "column": ("（取自结果的 buffer_m 列）", " (the results' buffer_m column)"),
              "default": ("（check_sites 的默认值；检查时若用了其他值，请传 buffer_m=）",
                          " (check_sites' default; pass buffer_m= if the check used another)")}[buffer_from]
    if draw_buffers:
        notes.append(f"虚线圈：各场址的筛查缓冲区 {buffer_m:,.0f} 米{source[0]}。 Dashed outlines: each site's "
                     f"screening buffer, {buffer_m:,.0f} m{source[1]}.")
    elif buffer_m > 0:
        notes.append(f"场址超过 {MAX_BUFFERS:,} 个，未画缓冲区。 More than {MAX_BUFFERS:,} sites: buffers not drawn.")
    if gcj02:
        warnings.append(_GCJ02_NOTE)
    ref_items = _reference_legend(["boundary"] if boundary_d is not None else [])
    if draw_buffers:
        ref_items.append({"label": f"筛查缓冲区 {buffer_m:,.0f} m Screening buffer", "color": "#555555",
                          "shape": "line", "dashArray": "5 4"})
    legend = {"title": "图例 Legend", "sections": [
        {"title": "检查结论 Verdict", "items": site_items},
        {"title": "红线管控分区 Red-line zones", "items": zone_items},
        *([{"title": "管控图层 Control layers", "items": ctl_items}] if ctl_items else []),
        {"title": "基础地理 Reference", "items": ref_items},
    ]}
    search = []
    for row in sites_d.drop(columns=sites_d.geometry.name).to_dict("records"):
        name = _site_name(row)
        verdict = str(row["verdict"])
        search.append({"key": row["_key"], "name": _text(row["site_id"] if name is None else name),
                       "id": _text(row["site_id"]), "verdict": vocab.label("verdict", verdict),
                       "color": VERDICTS[verdict][2]})
    stamp = _stamp_of(zones, results)
    if ctl_synthetic:
        from ._report_controls import synthetic_stamp

        syn = synthetic_stamp()
        stamp = [syn[0], syn[1]] if stamp is None else [f"{syn[0]} · {stamp[0]}", f"{syn[1]}; {stamp[1]}"]
    return _finish(m, [sites_d, zones_d, boundary_d], title=title, legend=legend, notes=notes,
                   warnings=warnings, stamp=stamp, search=search)


def _activity_text(value) -> str:
    """An activity as the vocabulary names it (``风电场 Wind farm``), escaped; other text as given."""
    if _is_missing(value):
        return _DASH
    key = str(value)
    if key in vocab.table("activity").index:
        return html.escape(vocab.display("activity", key))
    return _esc(value)


def _rule_text(row) -> str:
    """The rule, Chinese first (``rule_zh`` then ``rule``), escaped."""
    zh, en = _col(row, "rule_zh"), _col(row, "rule")
    parts = [_esc(v) for v in (zh, en) if not _is_missing(v) and _text(v).strip()]
    parts = list(dict.fromkeys(parts))
    return "<br>".join(parts) if parts else _DASH
