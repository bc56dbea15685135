"""Read site boundaries from a CAD DXF drawing (private).

Read with ezdxf (the text encoding follows the drawing's ``$DWGCODEPAGE``, e.g.
ANSI_936 = GBK). Closed LWPOLYLINE / POLYLINE entities become polygons, open ones
lines; a TEXT or MTEXT inside a polygon becomes that site's name, other texts are
ignored and listed in the notes; other entities (hatches, blocks, circles …) are
counted and ignored. A DXF carries no CRS: it comes from ``crs=`` or from the
zone prefix of the eastings (then read as CGCS2000, and said so), never from
nothing. DWG files are refused with the advice to save them as DXF.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .planner import (ReadResult, crs_text, Refusals, axis_decision, gk_crs, prefixed_zone, refuse, zone_width)
from ..errors import CRSError, InputError

__all__ = ["read_dxf", "refuse_dwg", "is_dwg"]

_POLYLINES = ("LWPOLYLINE", "POLYLINE")
_TEXTS = ("TEXT", "MTEXT")


def is_dwg(path: Path) -> bool:
    """A DWG by its suffix or its first bytes (``AC10..``)."""
    if path.suffix.lower() == ".dwg":
        return True
    with open(path, "rb") as f:
        head = f.read(6)
    return head.startswith(b"AC10") or head.startswith(b"AC1.")


def refuse_dwg(path: Path) -> None:
    """Raise the 'save it as DXF' refusal."""
    refuse(InputError,
           f"{path.name} 是 DWG 文件（AutoCAD 专有格式），无法直接读取：请在 CAD 中另存为 DXF（文件 → 另存为 → "
           "AutoCAD DXF），再检查 DXF 文件",
           f"{path.name} is a DWG file (AutoCAD's closed format) and cannot be read: save it as DXF in your "
           "CAD program (File → Save As → AutoCAD DXF) and check the DXF")


def _layers_wanted(cad_layer) -> list[str] | None:
    if cad_layer is None:
        return None
    names = cad_layer if isinstance(cad_layer, (list, tuple)) else str(cad_layer).replace("，", ",").split(",")
    return [str(n).strip() for n in names if str(n).strip()]


def _vertices(e) -> tuple[np.ndarray, bool, bool]:
    """(x/y array, closed flag, had arcs) of a polyline; arcs are flattened to 0.01 m."""
    from ezdxf import path as ezpath

    if e.dxftype() == "LWPOLYLINE":
        closed = bool(e.closed)
        arcs = bool(e.has_arc)
        if not arcs:
            xy = np.array([(p[0], p[1]) for p in e.get_points("xy")], dtype=float)
            return xy, closed, False
    else:
        if not (e.is_2d_polyline or e.is_3d_polyline):
            return np.empty((0, 2)), False, False
        closed = bool(e.is_closed)
        arcs = any(v.dxf.get("bulge", 0) for v in e.vertices)
        if not arcs:
            xy = np.array([(v.dxf.location.x, v.dxf.location.y) for v in e.vertices], dtype=float)
            return xy, closed, False
    pts = list(ezpath.make_path(e).flattening(distance=0.01))
    return np.array([(p.x, p.y) for p in pts], dtype=float), closed, True


_UNICODE_ESCAPE = re.compile(r"\\U\+([0-9A-Fa-f]{4})")


def _u(text) -> str:
    """Decode the ``\\U+6E56`` escapes CAD programs write for characters outside the code page."""
    return _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), str(text))


def _text_of(e) -> tuple[str, tuple[float, float]]:
    text = e.plain_text() if e.dxftype() == "MTEXT" else e.dxf.text
    return " ".join(_u(text).split()), (e.dxf.insert.x, e.dxf.insert.y)  # MTEXT line breaks → spaces


def _crs_for(xs: np.ndarray, *, given, name: str, notes: list[str]) -> pyproj.CRS:
    if given is not None:
        notes.append(f"坐标系按 --crs 给定：{crs_text(given)} / CRS from --crs: {crs_text(given)}")
        return given
    zones = {prefixed_zone(x) for x in xs}
    if None not in zones and len(zones) == 1:
        zone = zones.pop()
        assert zone is not None  # None is not in zones
        crs, _ = gk_crs("CGCS2000", zone_width(zone), zone, prefixed=True)
        notes.append(f"DXF 不含坐标系：按东坐标带号前缀 {zone} 判断为 {crs.name}（EPSG:{crs.to_epsg()}），基准按 "
                     f"2000国家大地坐标系；如为 1980西安/1954北京坐标系请加 --crs / a DXF has no CRS: zone {zone} from "
                     f"the easting prefix, EPSG:{crs.to_epsg()}, datum taken as CGCS2000; pass --crs otherwise")
        return crs
    refuse(CRSError,
           f"{name}：DXF 文件不含坐标系，东坐标（x 约 {np.nanmin(xs):,.0f}–{np.nanmax(xs):,.0f}）也没有统一的带号前缀，"
           "无法确定坐标系：请加 --crs，例如 --crs EPSG:4553（2000国家大地坐标系 3° 带 中央经线 132°E，不带带号）",
           f"{name}: a DXF carries no CRS and its eastings have no (single) zone prefix, so the CRS cannot be "
           "known: pass --crs, e.g. --crs EPSG:4553 (CGCS2000 3-degree Gauss-Kruger CM 132E, no prefix)")
    raise AssertionError  # pragma: no cover


def read_dxf(path, *, crs: pyproj.CRS | None = None, cad_layer=None) -> ReadResult:
    """Read the polylines of a DXF drawing as sites, named by the texts inside them.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.dxf`` file (a ``.dwg`` is refused with the advice to save it as DXF).
    crs : pyproj.CRS, optional, keyword-only
        The CRS of the drawing's coordinates (metres). Without it the eastings must
        carry a Gauss-Kruger zone prefix (e.g. 44 500 000 m).
    cad_layer : str or list of str, optional, keyword-only
        Read only these layers (e.g. ``"红线"``; several as ``"红线,用地红线"``).

    Returns
    -------
    ReadResult
        Columns ``名称`` (the texts inside the polygon, joined by ``；``), ``图层``,
        ``实体`` (LWPOLYLINE/POLYLINE), ``闭合`` (bool), then ``geometry``.

    Raises
    ------
    InputError
        DWG, unreadable DXF, no such layer, no polylines.
    CRSError
        No CRS given and no zone prefix.
    """
    import ezdxf

    path = Path(path)
    if is_dwg(path):
        refuse_dwg(path)
    name = path.name
    try:
        doc = ezdxf.readfile(path)
    except (OSError, ezdxf.DXFError, UnicodeDecodeError, ValueError) as e:
        refuse(InputError, f"{name} 无法作为 DXF 读取（{type(e).__name__}）：请在 CAD 中重新另存为 DXF",
               f"{name} could not be read as DXF ({e}); save it again as DXF from your CAD program")
    msp = doc.modelspace()
    wanted = _layers_wanted(cad_layer)
    present = sorted({_u(e.dxf.layer) for e in msp})
    if wanted is not None:
        lower = {p.lower(): p for p in present}
        missing = [w for w in wanted if w.lower() not in lower]
        if missing:
            refuse(InputError, f"{name} 中没有图层 {'、'.join(missing)}；已有图层：{'、'.join(present) or '（无）'}",
                   f"{name} has no layer {', '.join(missing)}; its layers are: {', '.join(present) or '(none)'}")
        keep = {lower[w.lower()] for w in wanted}
    else:
        keep = set(present)
    notes: list[str] = [f"DXF 文字编码 {doc.encoding}（$DWGCODEPAGE={doc.header.get('$DWGCODEPAGE', '')}）；读取图层："
                        f"{'、'.join(sorted(keep))} / text encoding {doc.encoding}; layers read: "
                        f"{', '.join(sorted(keep))}"]
    polys, texts, other = [], [], Counter[str]()
    arcs = 0
    for ent in msp:
        layer = _u(ent.dxf.layer)
        if layer not in keep:
            continue
        t = ent.dxftype()
        if t in _POLYLINES:
            xy, closed, had_arc = _vertices(ent)
            arcs += had_arc
            if len(xy) >= 2:
                polys.append((xy, closed, t, layer))
        elif t in _TEXTS:
            s, at = _text_of(ent)
            if s:
                texts.append((s, at))
        else:
            other[t] += 1
    if other:
        notes.append("未读取的实体 / entities ignored: " + ", ".join(f"{k} ×{v}" for k, v in sorted(other.items())))
    if arcs:
        notes.append(f"{arcs} 条多段线含圆弧，已按 0.01 米加密 / {arcs} polylines with arcs flattened to 0.01 m")
    if not polys:
        refuse(InputError, f"{name} 的图层 {'、'.join(sorted(keep))} 中没有多段线（LWPOLYLINE/POLYLINE）："
               "请用 --cad-layer "
               "选择红线所在图层", f"{name} has no LWPOLYLINE/POLYLINE on layers {', '.join(sorted(keep))}; "
               "choose the red-line layer with --cad-layer")
    xs = np.concatenate([p[0][:, 0] for p in polys])
    ys = np.concatenate([p[0][:, 1] for p in polys])
    # CAD x is the easting; a drawing with the axes the other way round is diagnosed, not guessed
    x_is_north = False
    if crs is None and len({prefixed_zone(y) for y in ys}) == 1 and prefixed_zone(ys[0]) is not None:
        x_is_north, axis_note = axis_decision(xs, ys, "x", "y", a_role="east")
    if x_is_north:
        notes.append(axis_note)
        polys = [(xy[:, ::-1], c, t, lay) for xy, c, t, lay in polys]
        texts = [(s, (at[1], at[0])) for s, at in texts]
        xs, ys = ys, xs
    src = _crs_for(xs, given=crs, name=name, notes=notes)
    records: list[dict[str, object]]
    records, geoms = [], []
    refusals = Refusals(f"DXF 文件 {name}")
    site_notes: dict[int, list[str]] = {}
    for xy, closed, t, lay in polys:
        ends_meet = np.allclose(xy[0], xy[-1], atol=1e-6, rtol=0)
        if closed or ends_meet:
            ring = xy if ends_meet else np.vstack([xy, xy[:1]])
            g = shapely.Polygon(ring) if len(ring) >= 4 else shapely.LineString(xy)
        else:
            g = shapely.LineString(xy)
            site_notes[len(records)] = ["开口多段线，按线状场址检查 / an open polyline: checked as a line"]
        records.append({"名称": "", "图层": lay, "实体": t, "闭合": bool(closed or ends_meet)})
        geoms.append(g)
    # each text names the smallest polygon that contains it
    areas = np.array([g.area if g.geom_type == "Polygon" else np.inf for g in geoms])
    names: dict[int, list[str]] = {}
    ignored = []
    for s, at in texts:
        p = shapely.Point(at)
        inside = [i for i, g in enumerate(geoms) if g.geom_type == "Polygon" and g.contains(p)]
        if inside:
            names.setdefault(min(inside, key=lambda i: areas[i]), []).append(s)
        else:
            ignored.append(s)
    for i, ns in names.items():
        records[i]["名称"] = "；".join(ns)
    if ignored:
        shown = "、".join(ignored[:10]) + (f" 等 {len(ignored)} 个" if len(ignored) > 10 else "")
        notes.append(f"不在任何闭合多段线内的文字未作名称：{shown} / texts inside no closed polyline were ignored: "
                     f"{', '.join(ignored[:10])}")
    refusals.raise_if_any()
    gdf = gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry=geoms, crs=src)
    return ReadResult(gdf=gdf, kind="dxf", notes=notes, site_notes=site_notes, name_column="名称",
                      encoding=doc.encoding, crs_from="given" if crs is not None else "zone prefix")
