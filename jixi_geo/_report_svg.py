"""The SVG maps of the compliance report: a site with the zones around it, and the cover's overview.

Drawn in EPSG:4553, north up, with a scale bar, a north arrow and the 坐标系; the overview
draws up to 10⁵ sites, points as one dot per distinct position at the drawing's precision.
Zone names are HTML-escaped (they may come from a user's file).
"""

from __future__ import annotations

import html

import geopandas as gpd
import numpy as np
import shapely

from . import vocab

__all__ = ["svg_snippet", "dots", "LEVEL_COLOURS"]

_E = html.escape
#: control level -> colour (hex) of the levels drawn as zones, from ``layers/rules/control_levels.csv``.
LEVEL_COLOURS = {lv: vocab.colour("control_level", lv) for lv in vocab.keys("control_level")
                 if vocab.table("control_level").at[lv, "colour"]}


def _zone_arrays(zones_prj: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The zones' geometries, control levels and names as arrays (rows in the frame's order)."""
    n = len(zones_prj)
    col = lambda c: (zones_prj[c].to_numpy(dtype=object) if c in zones_prj.columns  # noqa: E731
                     else np.full(n, "", dtype=object))
    return np.asarray(zones_prj.geometry.values, dtype=object), col("control_level"), col("name_zh")


def dots(tx: np.ndarray, ty: np.ndarray) -> str:
    """``<circle>`` elements (r = 3) at the distinct positions given in tenths of a pixel (non-negative
    integers), ordered by x then y; each written as ``f"{v:.1f}"`` writes ``v / 10``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(tx) == 0:
        return ""
    if tx.min() < 0 or ty.min() < 0:  # not on the drawing: written one by one
        pairs = sorted(set(zip(tx.tolist(), ty.tolist(), strict=True)))
        return "".join(f'<circle cx="{x / 10:.1f}" cy="{y / 10:.1f}" r="3" fill="#000"/>' for x, y in pairs)
    m = int(ty.max()) + 1
    key = np.unique(tx * m + ty)
    tx, ty = key // m, key % m
    text = lambda v: pc.cast(pa.array(v), pa.string())  # noqa: E731 (integers: exact)
    circles = pc.binary_join_element_wise('<circle cx="', text(tx // 10), ".", text(tx % 10), '" cy="',
                                          text(ty // 10), ".", text(ty % 10), '" r="3" fill="#000"/>', "")
    # the elements lie one after another in the array's data buffer: take them as one text
    offsets = np.frombuffer(circles.buffers()[1], dtype=np.int32)[circles.offset:circles.offset + len(circles) + 1]
    return circles.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]].decode("utf-8")



def svg_snippet(site, zones_prj: gpd.GeoDataFrame, *, size=260, margin_m=2000.0, crs_label: str = "EPSG:4553",
                date: str = "") -> str:
    """An SVG map of ``site`` (EPSG:4553) and the zones around it: north up, with a scale bar,
    a north arrow, the 坐标系 and the date (``crs_label`` and ``date`` are program text).

    ``site`` is one geometry, or for the cover's overview a GeometryCollection or an array of
    geometries (every site; points drawn as dots).
    """
    many = isinstance(site, np.ndarray)
    x0, y0, x1, y1 = shapely.total_bounds(site) if many else site.bounds
    pad = max(margin_m, 0.25 * max(x1 - x0, y1 - y0))
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    span = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0, x1, y0, y1 = cx - span / 2, cx + span / 2, cy - span / 2, cy + span / 2
    k = size / span
    window = shapely.box(x0, y0, x1, y1)

    def path(g):
        parts = []
        for poly in shapely.get_parts(g):
            rings = [poly.exterior, *poly.interiors] if poly.geom_type == "Polygon" else [poly]
            for ring in rings:
                xy = np.asarray(ring.coords)
                pts = " ".join(f"{(x - x0) * k:.1f},{(y1 - y) * k:.1f}" for x, y in xy)
                parts.append(f"M{pts}" + ("Z" if poly.geom_type == "Polygon" else ""))
        return " ".join(parts)

    out = [f'<svg class="snip" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
           f'xmlns="http://www.w3.org/2000/svg" role="img"><rect width="{size}" height="{size}" fill="#fbfbf8"/>']
    zone_geoms, zone_levels, zone_names = _zone_arrays(zones_prj)
    for i in zones_prj.sindex.query(window, predicate="intersects").tolist():
        g = shapely.intersection(zone_geoms[i], window)
        if g.is_empty:
            continue
        col = LEVEL_COLOURS.get(zone_levels[i], vocab.GREY)
        out.append(f'<path d="{path(g)}" fill="{col}" fill-opacity="0.35" stroke="{col}" stroke-width="0.8" '
                   f'fill-rule="evenodd"><title>{_E(str(zone_names[i]))}</title></path>')
    if many or site.geom_type == "GeometryCollection":  # the cover's overview: every site, points as dots
        parts = site
        if not many or (shapely.get_type_id(site) >= 4).any():  # collections: their parts
            parts = shapely.get_parts(site)
        is_point = shapely.get_type_id(parts) == 0
        if is_point.any():
            # one dot per position at the drawing's 0.1 px precision: 10⁵ sites of a big report
            # draw the same picture without a circle element for each point on the same spot
            xy = shapely.get_coordinates(parts[is_point])
            out.append(dots(np.rint((xy[:, 0] - x0) * k * 10).astype(np.int64),
                             np.rint((y1 - xy[:, 1]) * k * 10).astype(np.int64)))
        for part in parts[~is_point]:
            fill = "none" if part.geom_type == "LineString" else "#000"
            out.append(f'<path d="{path(part)}" fill="{fill}" fill-opacity="0.4" stroke="#000" '
                       'stroke-width="1.5"/>')
    elif site.geom_type in ("Point", "MultiPoint"):
        for p in shapely.get_parts(site):
            out.append(f'<circle cx="{(p.x - x0) * k:.1f}" cy="{(y1 - p.y) * k:.1f}" r="5" fill="#000" '
                       'stroke="#fff" stroke-width="1.5"/>')
    elif site.geom_type in ("LineString", "MultiLineString"):
        out.append(f'<path d="{path(site)}" fill="none" stroke="#000" stroke-width="2.5"/>')
    else:
        out.append(f'<path d="{path(site)}" fill="#000" fill-opacity="0.25" stroke="#000" stroke-width="2" '
                   'fill-rule="evenodd"/>')
    bar = 10 ** np.floor(np.log10(span / 3))
    out.append(f'<g font-size="10" font-family="sans-serif"><rect x="0" y="{size - 30}" width="{size}" height="30" '
               f'fill="#fff" fill-opacity="0.8"/><line x1="10" y1="{size - 20}" x2="{10 + bar * k:.1f}" '
               f'y2="{size - 20}" stroke="#000" stroke-width="2"/><text x="{14 + bar * k:.1f}" y="{size - 17}">'
               f'{bar / 1000:g} km</text><text class="crs" x="10" y="{size - 6}" font-size="8">坐标系 {_E(crs_label)}'
               f' · {_E(date)}</text><g class="north" transform="translate({size - 18},8)">'
               '<path d="M0,0 L7,18 L0,13 L-7,18 Z" fill="#000"/><text x="0" y="30" text-anchor="middle" '
               'font-weight="bold">N</text></g></g></svg>')
    return "".join(out)
