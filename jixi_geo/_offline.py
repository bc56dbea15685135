"""Make folium's HTML self-contained, so saved maps work offline (private helpers).

folium's page template loads Leaflet, jQuery, Bootstrap, Font Awesome and
Leaflet.awesome-markers from CDNs. :func:`make_self_contained` replaces the
Leaflet ``<script src>``/``<link href>`` with the copy of Leaflet 1.9.4 installed
by the ``django-js-lib-leaflet`` package (its CSS images become ``data:`` URIs),
drops the libraries a jixi_geo map does not use, and then refuses (with
:class:`~jixi_geo.errors.JixiGeoError` naming the URL) to return a page that
still references a resource over the network.

Rules for the libraries folium adds:

- Leaflet JS/CSS: inlined from ``js_lib_leaflet``.
- jQuery: dropped; if folium's inline code calls ``$(…)`` (``folium.Popup``
  content, ``keep_in_front``), a small stand-in (``assets/jquery_shim.js``) is
  inlined instead. ``$.ajax`` (``GeoJson(embed=False)``) is refused.
- Bootstrap JS/CSS, glyphicons, Font Awesome, awesome-markers CSS/JS: dropped;
  a map that uses ``folium.Icon`` (``L.AwesomeMarkers``) or Bootstrap JS is
  refused, because those need web fonts jixi_geo does not bundle.
- Anything else over ``http(s)://`` or ``//`` (e.g. a folium plugin): refused.

Basemap tiles (``L.tileLayer`` URL templates inside scripts) are not page
resources and are left alone: a map with a basemap shows its overlays offline
and its tiles when online.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

from branca.element import Element
from folium.utilities import JsCode

from ._io import write_text_atomic
from ._paths import assets_dir
from .errors import JixiGeoError

__all__ = [
    "LEAFLET_VERSION",
    "make_self_contained",
    "external_references",
    "check_self_contained",
    "check_no_template_text",
    "render_html",
    "save_map",
    "show",
    "asset_text",
]

#: The Leaflet release inlined into saved maps (from ``django-js-lib-leaflet``).
LEAFLET_VERSION = "1.9.4"

_LEAFLET_PKG = "js_lib_leaflet"
_LEAFLET_DIR = ("static", "js_lib_leaflet")
_MARKER_IMAGES = {"iconUrl": "marker-icon.png", "iconRetinaUrl": "marker-icon-2x.png",
                  "shadowUrl": "marker-shadow.png"}

_SCRIPT_SRC = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*>\s*</script\s*>", re.I | re.S)
_LINK_HREF = re.compile(r"<link\b[^>]*?\bhref\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*?/?>", re.I | re.S)
_INLINE_SCRIPT = re.compile(r"<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>", re.I | re.S)
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.I)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(?P<url>[^'\")]*)\1\s*\)", re.I)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*['\"]?(?P<url>[^'\")\s;]+)", re.I)
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=\S+\s*$", re.M)

# What each CDN resource folium adds is, by URL.
_KINDS = [
    ("leaflet_js", re.compile(r"/leaflet(?:@[\w.-]+)?/dist/leaflet(?:-src)?\.js$|/leaflet(?:\.min)?\.js$", re.I)),
    ("leaflet_css", re.compile(r"/leaflet(?:@[\w.-]+)?/dist/leaflet\.css$|/leaflet(?:\.min)?\.css$", re.I)),
    ("jquery", re.compile(r"/jquery[-\w.]*?(?:\.min)?\.js$", re.I)),
    ("bootstrap_js", re.compile(r"/bootstrap[@/\w.-]*?\.js$", re.I)),
    ("awesome_markers_js", re.compile(r"awesome-markers[\w./-]*\.js$", re.I)),
    ("style_only", re.compile(r"bootstrap[@/\w.-]*\.css$|fontawesome|font-awesome"
                              r"|awesome-markers[\w./-]*\.css$|awesome\.rotate[\w.]*\.css$", re.I)),
]

# Calls in folium's inline code that need a dropped library.
_USES_JQUERY = re.compile(r"(?<![\w$])(?:\$|jQuery)\s*[(.]")
_USES_AJAX = re.compile(r"(?<![\w$])(?:\$|jQuery)\s*\.\s*(?:ajax|get|getJSON|post)\b")
_USES_AWESOME = re.compile(r"\bL\s*\.\s*AwesomeMarkers\b")
_USES_BOOTSTRAP = re.compile(r"(?<![\w$.])bootstrap\s*\.\s*[A-Z]\w*")


# --------------------------------------------------------------------------- assets

def _leaflet_file(*parts: str):
    try:
        return resources.files(_LEAFLET_PKG).joinpath(*_LEAFLET_DIR, *parts)
    except ModuleNotFoundError as exc:  # pragma: no cover - a declared dependency
        raise JixiGeoError(
            "saving an offline map needs the Leaflet files of the 'django-js-lib-leaflet' "
            "package, which is not installed; run: pip install django-js-lib-leaflet"
        ) from exc


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet's minified JS, without its source-map comment."""
    text = _leaflet_file("leaflet.js").read_text(encoding="utf-8")
    return _SOURCE_MAP.sub("", text)


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's CSS with ``url(images/…)`` replaced by ``data:`` URIs."""
    css = _leaflet_file("leaflet.css").read_text(encoding="utf-8")

    def repl(m: re.Match) -> str:
        url = m.group("url")
        if url.startswith("images/"):
            data = _leaflet_file(*url.split("/")).read_bytes()
            return f'url("{_data_uri(data, "image/png")}")'
        return m.group(0)

    return _CSS_URL.sub(repl, css)


@lru_cache(maxsize=1)
def _leaflet_icon_patch() -> str:
    # Leaflet finds its default marker icon by reading the CSS url() of a probe
    # element; with data: URIs that fails, so give L.Icon.Default the images directly.
    opts = ", ".join(
        f'{key}: "{_data_uri(_leaflet_file("images", name).read_bytes(), "image/png")}"'
        for key, name in _MARKER_IMAGES.items()
    )
    return f'L.Icon.Default.imagePath = "";\nL.Icon.Default.mergeOptions({{{opts}}});'


def asset_text(name: str) -> str:
    """Text of one of jixi_geo's own assets (``controls.js``, ``controls.css`` …)."""
    return (assets_dir() / name).read_text(encoding="utf-8")


def _script(body: str, *, asset: str) -> str:
    body = body.replace("</script", "<\\/script")  # cannot end the element early
    return f'<script data-jixi-asset="{asset}">\n{body}\n</script>'


def _style(body: str, *, asset: str) -> str:
    body = body.replace("</style", "<\\/style")
    return f'<style data-jixi-asset="{asset}">\n{body}\n</style>'


# ------------------------------------------------------------------------- analysis

def _kind(url: str) -> str | None:
    path = url.split("?", 1)[0].split("#", 1)[0]
    for kind, pattern in _KINDS:
        if pattern.search(path):
            return kind
    return None


def _inline_code(html: str) -> str:
    """The page's own inline scripts (not jixi_geo's assets), joined."""
    parts = []
    for m in _INLINE_SCRIPT.finditer(html):
        attrs = m.group("attrs")
        if re.search(r"\bsrc\s*=", attrs, re.I) or "data-jixi-asset" in attrs:
            continue
        parts.append(m.group("body"))
    return "\n".join(parts)


class _ResourceFinder(HTMLParser):
    """Collects the URLs a browser would fetch: src/href of resource tags, CSS url()."""

    _ATTRS = {"src", "href", "srcset", "poster", "data", "background", "xlink:href"}
    _NAVIGATION = {"a", "area", "base"}  # links a user may follow, not resources

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self._css(value)
            elif name in self._ATTRS and tag not in self._NAVIGATION:
                for candidate in value.split(",") if name == "srcset" else [value]:
                    url = candidate.strip().split(" ")[0]
                    if _REMOTE.match(url):
                        self.urls.append(url)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data)

    def _css(self, text: str) -> None:
        for pattern in (_CSS_URL, _CSS_IMPORT):
            for m in pattern.finditer(text):
                if _REMOTE.match(m.group("url")):
                    self.urls.append(m.group("url").strip())


def external_references(html: str) -> list[str]:
    """URLs of resources ``html`` would load over the network (``http(s)://`` or ``//``).

    Looks at ``src``/``href`` (and similar) attributes of resource elements and at
    CSS ``url()``/``@import``; ``<a href>`` links and URL strings inside scripts
    (e.g. basemap tile templates) are not resources and are not reported.
    """
    finder = _ResourceFinder()
    finder.feed(html)
    finder.close()
    return list(dict.fromkeys(finder.urls))


def check_self_contained(html: str) -> None:
    """Raise :class:`JixiGeoError` naming any remote resource ``html`` still references."""
    urls = external_references(html)
    if urls:
        raise JixiGeoError(
            "the map page still loads resources from the network, so it would not work "
            f"offline: {', '.join(urls)}. jixi_geo inlines Leaflet only; remove the folium "
            "plugin or element that adds these (see jixi_geo.maps for the built-in "
            "full-screen, measure and legend controls)."
        )


# ------------------------------------------------------------------------ inlining

def make_self_contained(html: str) -> str:
    """Return ``html`` (a rendered folium page) with no remote resource references.

    Parameters
    ----------
    html : str
        The output of ``folium.Map.get_root().render()``.

    Returns
    -------
    str
        The page with Leaflet inlined, unused CDN libraries removed and, when
        folium's code needs it, a jQuery stand-in inlined.

    Raises
    ------
    JixiGeoError
        If the page needs a library jixi_geo cannot provide offline
        (``folium.Icon``/awesome-markers, Bootstrap JS, ``$.ajax``) or still
        references a remote resource afterwards (the URL is named).
    """
    code = _inline_code(html)
    if _USES_AWESOME.search(code):
        raise JixiGeoError(
            "the map uses folium.Icon (Leaflet.awesome-markers with Font Awesome web fonts), "
            "which cannot be bundled for offline use; use folium.CircleMarker, or a plain "
            "folium.Marker without icon=, instead"
        )
    if _USES_BOOTSTRAP.search(code):
        raise JixiGeoError("the map's code calls Bootstrap's JavaScript, which jixi_geo does "
                           "not bundle for offline use; remove the element that needs it")
    if _USES_AJAX.search(code):
        raise JixiGeoError(
            "the map loads data with $.ajax (folium GeoJson(embed=False) or a similar "
            "element), which cannot work offline; embed the data (GeoJson(embed=True))"
        )
    needs_jquery = bool(_USES_JQUERY.search(code))
    done: set[str] = set()

    def once(kind: str, text: str) -> str:
        if kind in done:
            return ""
        done.add(kind)
        return text

    def replace_script(m: re.Match) -> str:
        url = m.group("url")
        if not _REMOTE.match(url):
            return m.group(0)
        kind = _kind(url)
        if kind == "leaflet_js":
            return once(kind, _script(leaflet_js(), asset=f"leaflet-{LEAFLET_VERSION}")
                        + "\n" + _script(_leaflet_icon_patch(), asset="leaflet-icons"))
        if kind == "jquery":
            return once(kind, _script(asset_text("jquery_shim.js"), asset="jquery-shim")) \
                if needs_jquery else ""
        if kind in ("bootstrap_js", "awesome_markers_js"):
            return ""
        return m.group(0)  # unknown: left for check_self_contained to name

    def replace_link(m: re.Match) -> str:
        url = m.group("url")
        if not _REMOTE.match(url):
            return m.group(0)
        kind = _kind(url)
        if kind == "leaflet_css":
            return once(kind, _style(leaflet_css(), asset=f"leaflet-{LEAFLET_VERSION}"))
        if kind == "style_only":
            return ""
        return m.group(0)

    out = _SCRIPT_SRC.sub(replace_script, html)
    out = _LINK_HREF.sub(replace_link, out)
    inlined_before = f'data-jixi-asset="leaflet-{LEAFLET_VERSION}"' in html
    if "leaflet_js" not in done and not inlined_before and "L.map(" in code:
        raise JixiGeoError("the page creates a Leaflet map but has no Leaflet <script src> "
                           "to replace; pass the output of folium.Map.get_root().render()")
    if needs_jquery and "jquery" not in done and 'data-jixi-asset="jquery-shim"' not in out:
        out = out.replace("</head>", _script(asset_text("jquery_shim.js"), asset="jquery-shim")
                          + "\n</head>", 1)
    check_self_contained(out)
    return out


# Jinja's tag openers. branca renders an element's macro, then renders the output again
# as template source, so data holding one of these would run as a template.
_JINJA_TAG = re.compile(r"\{[{%#]")
_SKIP_ATTRS = {"_parent", "_template", "_template_str", "_template_name", "_children", "_id", "_name"}


def _template_text(element, seen: set[int]) -> tuple[str, str] | None:
    """(where, text) of the first data string in ``element``'s tree holding a Jinja tag."""

    def scan(value, where: str, depth: int):
        if depth > 50:
            return None
        if isinstance(value, str):
            return (where, value) if _JINJA_TAG.search(value) else None
        if isinstance(value, JsCode):
            return scan(value.js_code, where, depth + 1)
        if isinstance(value, Element):
            return walk(value)
        if isinstance(value, dict):
            for k, v in value.items():
                hit = scan(k, where, depth + 1) or scan(v, f"{where}[{k!r}]", depth + 1)
                if hit:
                    return hit
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                hit = scan(v, where, depth + 1)
                if hit:
                    return hit
        return None

    def walk(el):
        if id(el) in seen:
            return None
        seen.add(id(el))
        name = type(el).__name__
        for attr, value in vars(el).items():
            if attr in _SKIP_ATTRS or attr == "parent_map":
                continue
            hit = scan(value, f"{name}.{attr}", 0)
            if hit:
                return hit
        for child in el._children.values():
            hit = walk(child)
            if hit:
                return hit
        return None

    return walk(element)


def check_no_template_text(m) -> None:
    """Refuse a map whose data would be run as a Jinja template when it is rendered.

    folium's page is rendered by branca, which passes each element's rendered
    script on as template *source* and renders it again: a ``{{ … }}``,
    ``{% … %}`` or ``{# … #}`` in a name, popup or GeoJSON property would be
    evaluated (and can run Python). jixi_geo's map builders encode these
    characters (:mod:`jixi_geo.maps`); this check catches any element that does
    not — a folium element added by hand, or a builder that forgot.

    Raises
    ------
    JixiGeoError
        Naming the element and the text.
    """
    hit = _template_text(m.get_root(), set())
    if hit is not None:
        where, text = hit
        tag = _JINJA_TAG.search(text)
        assert tag is not None  # _template_text only returns texts with a tag
        snippet = text[max(0, tag.start() - 20):][:80]
        raise JixiGeoError(
            f"地图元素 {where} 含有模板标记（{{{{、{{% 或 {{#），保存时会被当作 Jinja 模板执行，已拒绝：{snippet!r}。"
            "请用 jixi_geo.maps 的函数制图，或先把 { } 写成 HTML 字符引用 &#123; &#125;。 "
            f"The map element {where} holds text with a template tag ({{{{, {{% or {{#) that folium "
            f"would run as a Jinja template when the page is rendered; refused: {snippet!r}. Build the "
            "map with jixi_geo.maps, or write { and } as the HTML character references &#123; &#125; first.")


def render_html(m) -> str:
    """Render a folium map (or any branca element) to a self-contained HTML page.

    Raises
    ------
    JixiGeoError
        If data in the map would be run as a template (:func:`check_no_template_text`)
        or the page would need the network (:func:`make_self_contained`).
    """
    check_no_template_text(m)
    return make_self_contained(m.get_root().render())


def save_map(m, path) -> Path:
    """Render ``m`` to a self-contained HTML file that works offline.

    Parameters
    ----------
    m : folium.Map
        The map (e.g. from :func:`jixi_geo.maps.pattern_map`).
    path : str or os.PathLike
        Output file; its folder is created if needed. The file is replaced
        atomically, so a failed save leaves an earlier file untouched.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    JixiGeoError
        If data in the map would be run as a template, or the page would still
        need the network (see :func:`render_html`).
    OutputError
        If ``path`` cannot be written (a folder, below a file, read-only …).
    """
    html = render_html(m)
    return write_text_atomic(Path(path), html)


class _Inline:
    """A self-contained map page shown inline by Jupyter (``_repr_html_``)."""

    def __init__(self, page: str, height: int):
        self.page, self.height = page, height

    def _repr_html_(self) -> str:
        import html as _html

        return (f'<iframe srcdoc="{_html.escape(self.page, quote=True)}" '
                f'style="width:100%;height:{int(self.height)}px;border:1px solid #ddd" '
                'sandbox="allow-scripts allow-popups"></iframe>')


def show(m, *, height: int = 560) -> _Inline:
    """Show a map inline in a notebook without the network.

    folium's own inline view loads Leaflet from CDNs and stays blank on an intranet;
    this shows the same self-contained page :func:`save_map` writes.

    Parameters
    ----------
    m : folium.Map
        The map.
    height : int
        Height of the inline frame (pixels).
    """
    return _Inline(make_self_contained(render_html(m)), height)
