"""Shared pieces of the planner-format readers (private).

The readers of 部标 界址点 TXT (:mod:`.bubiao`), CAD DXF (:mod:`.dxf`)
and Excel (:mod:`.excel`) share one small interface: a path and keyword
options in, a :class:`ReadResult` out (a GeoDataFrame with geometry, CRS, a name
column and the attributes, plus bilingual notes). This module holds what they
have in common: that result, the refusal collector (messages Chinese first),
the column vocabulary and the Gauss-Kruger code table (both data files in
``layers/rules/``), the survey axis diagnosis, ring assembly and DMS parsing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import NoReturn

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .._paths import rules_dir
from ..errors import CRSError, InvalidGeometryError, JixiGeoError

__all__ = ["ReadResult", "Refusals", "column_names", "find_column", "gk_crs", "datum_key",
           "axis_decision", "assemble_parcel", "parse_dms", "prefixed_zone", "NORTHING", "PLAIN_EASTING",
           "PREFIXED_EASTING", "crs_text", "refuse", "zone_width"]

#: Zone-prefixed Gauss-Kruger eastings (zones 13-23 for 6°, 25-45 for 3°), metres.
PREFIXED_EASTING = (13e6, 46e6)
#: Northings of the latitudes around Jixi (about 40°N to 52°N), metres.
NORTHING = (4.4e6, 5.8e6)
#: Eastings without the zone prefix (false easting 500 km ± half a zone), metres.
PLAIN_EASTING = (1e5, 9e5)


@dataclass
class ReadResult:
    """What a planner-format reader returns.

    Attributes
    ----------
    gdf : GeoDataFrame
        One row per site: the attributes, then ``geometry``; ``crs`` is the CRS the
        file states or implies (None when it implies none: lon/lat left to the caller).
    kind : str
        ``bubiao``, ``dxf`` or ``excel``.
    notes : list of str
        Bilingual (中文 / English) notes about the whole file: what was decided and why.
    site_notes : dict
        Row position → list of bilingual findings about that site.
    name_column : str or None
        The column holding the site names.
    id_column : str or None
        A column holding unique site ids, if the format has one.
    encoding : str or None
        Text encoding used.
    crs_from : str
        How ``gdf.crs`` was decided, in the vocabulary of ``read_sites``'
        ``crs_from`` column: ``"file"`` (stated by the file, e.g. a 部标 header),
        ``"given"`` (``--crs``) or ``"zone prefix"`` (inferred from the eastings).
    """

    gdf: gpd.GeoDataFrame
    kind: str
    notes: list[str] = field(default_factory=list)
    site_notes: dict[int, list[str]] = field(default_factory=dict)
    name_column: str | None = None
    id_column: str | None = None
    encoding: str | None = None
    crs_from: str = "file"

    def note_site(self, pos: int, text: str) -> None:
        self.site_notes.setdefault(pos, []).append(text)


class Refusals:
    """Collects problems (中文, English) and raises them together, Chinese first."""

    def __init__(self, name: str):
        self.name = name
        self.items: list[tuple[type[JixiGeoError], str, str]] = []

    def add(self, cls: type[JixiGeoError], zh: str, en: str) -> None:
        self.items.append((cls, zh, en))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        classes = list(dict.fromkeys(c for c, _, _ in self.items))
        cls = classes[0] if len(classes) == 1 else _mixed()
        n = len(self.items)
        head = (f"{self.name}：发现 {n} 个问题，未读取任何场址 / {n} problem{'s' if n > 1 else ''} "
                "found, nothing was read:")
        err = cls(head + "\n" + "\n".join(f"  - {zh} / {en}" for _, zh, en in self.items))
        err.problems = [f"{zh} / {en}" for _, zh, en in self.items]
        raise err


def refuse(cls: type[Exception], zh: str, en: str) -> NoReturn:
    """Raise ``cls`` with a one-problem message, Chinese first."""
    raise cls(f"{zh} / {en}")


def _mixed() -> type[JixiGeoError]:
    from .base import SiteProblemsError

    return SiteProblemsError


# --------------------------------------------------------------------------- vocabularies


@functools.lru_cache(maxsize=1)
def _columns_table() -> pd.DataFrame:
    return pd.read_csv(rules_dir() / "planner_columns.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8")


def column_names(role: str) -> list[str]:
    """Column names (lower case) that play ``role`` in ``layers/rules/planner_columns.csv``."""
    t = _columns_table()
    return [c.strip().lower() for c in t.loc[t["role"] == role, "column"]]


def find_column(columns, role: str) -> str | None:
    """The first column of ``columns`` (case- and space-insensitive) named as ``role``."""
    lowered: dict[str, str] = {}
    for c in columns:
        lowered.setdefault(re.sub(r"\s+", "", str(c)).lower(), c)
    for n in column_names(role):
        key = re.sub(r"\s+", "", n)
        if key in lowered:
            return lowered[key]
    return None


@functools.lru_cache(maxsize=1)
def _gk_table() -> pd.DataFrame:
    return pd.read_csv(rules_dir() / "gk_zone_crs.csv", dtype=str, keep_default_na=False, encoding="utf-8")


_DATUM_WORDS = (("CGCS2000", ("2000", "cgcs", "国家大地")), ("Xian 1980", ("西安", "1980", "xian")),
                ("Beijing 1954", ("北京", "1954", "beijing")))


def datum_key(text: str) -> str | None:
    """The datum named by a 坐标系 text (``2000国家大地坐标系``, ``1980西安坐标系`` …), or None.

    Examples
    --------
    >>> datum_key("2000国家大地坐标系"), datum_key("1980西安坐标系"), datum_key("北京54")
    ('CGCS2000', 'Xian 1980', 'Beijing 1954')
    """
    t = str(text).strip().lower()
    for key, words in _DATUM_WORDS:
        if any(w in t for w in words):
            return key
    return None


def gk_crs(datum: str, width: int | None, zone: int, *, prefixed: bool) -> tuple[pyproj.CRS, str]:
    """The EPSG Gauss-Kruger CRS of a datum, zone width and zone, checked with pyproj.

    Returns the CRS and ``datum_to_cgcs2000`` (``identity`` or ``ballpark``: PROJ
    has no real transformation of the datum to CGCS2000).

    Raises
    ------
    CRSError
        The combination has no code in ``layers/rules/gk_zone_crs.csv``, or pyproj
        lacks the code or knows it under another name.
    """
    t = _gk_table()
    rows = t[(t["datum"] == datum) & (t["zone_width"] == str(width))
             & (t["zone_prefix"] == ("yes" if prefixed else "no"))]
    zh = {"CGCS2000": "2000国家大地坐标系", "Xian 1980": "1980西安坐标系", "Beijing 1954": "1954北京坐标系"}
    if rows.empty or not int(rows.iloc[0]["first_zone"]) <= zone <= int(rows.iloc[0]["last_zone"]):
        span = (f"{rows.iloc[0]['first_zone']}–{rows.iloc[0]['last_zone']}" if not rows.empty else "—")
        refuse(CRSError,
               f"{zh.get(datum, datum)} {width}° 带 {zone} 没有 EPSG 编码（可用带号 {span}）：请核对带号/几度分带，"
               "或用 --crs 给出坐标系",
               f"{datum} {width}-degree zone {zone} has no EPSG code (zones {span}); check 带号/几度分带 "
               "or pass the CRS with --crs")
    r = rows.iloc[0]
    code = int(r["first_epsg"]) + zone - int(r["first_zone"])
    cm = zone * 3 if width == 3 else zone * 6 - 3
    expect = f"zone {zone}" if prefixed else f"CM {cm}E"
    try:
        crs = pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError:
        crs = None
    if crs is None or not crs.name.startswith(datum) or not crs.name.endswith(expect):
        refuse(CRSError,
               f"pyproj 中没有 {zh.get(datum, datum)} {width}° 带 {zone} 的坐标系 EPSG:{code}：请用 --crs 给出坐标系",
               f"pyproj lacks EPSG:{code} for {datum} {width}-degree zone {zone}; pass the CRS with --crs")
    return crs, r["datum_to_cgcs2000"]


def crs_text(crs: pyproj.CRS) -> str:
    """A short readable label of a CRS: its EPSG code and name, or its PROJ string."""
    epsg = crs.to_epsg(min_confidence=70)
    if epsg:
        return f"EPSG:{epsg}（{crs.name}）"
    return crs.name if crs.name and crs.name != "unknown" else str(crs.srs)[:200]


def prefixed_zone(easting: float) -> int | None:
    """The zone number prefixed to an easting, or None if it carries none."""
    if PREFIXED_EASTING[0] <= easting < PREFIXED_EASTING[1]:
        return int(easting // 1_000_000)
    return None


def zone_width(zone: int) -> int | None:
    """3 or 6 for a zone number (25-45 are 3° zones, 13-23 are 6° zones), else None."""
    if 25 <= zone <= 45:
        return 3
    if 13 <= zone <= 23:
        return 6
    return None


# --------------------------------------------------------------------------- axes


def _within(v: np.ndarray, lo_hi) -> bool:
    v = v[np.isfinite(v)]
    return len(v) > 0 and bool((v >= lo_hi[0]).all() and (v < lo_hi[1]).all())


def axis_decision(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str, *,
                  a_role: str) -> tuple[bool, str]:
    """Decide which of two coordinate columns is the northing, from their values.

    Parameters
    ----------
    a, b : array
        The values of the two columns (metres).
    a_name, b_name : str
        Their names, for the note.
    a_role : {"north", "east"}
        What the name of column ``a`` says it is (``X`` in a survey table: north).

    Returns
    -------
    (bool, str)
        Whether ``a`` holds the northing, and a bilingual note saying why.

    Raises
    ------
    CRSError
        When the values do not tell (both look alike): refuse rather than guess.
    """
    def zone_of(v):
        z = {prefixed_zone(x) for x in v[np.isfinite(v)]}
        return z.pop() if len(z) == 1 else None

    for north, east, nn, en in ((a, b, a_name, b_name), (b, a, b_name, a_name)):
        a_is_north = north is a
        if _within(north, NORTHING) and _within(east, PREFIXED_EASTING) and zone_of(east) is not None:
            z = zone_of(east)
            kept = (a_role == "north") == a_is_north
            zh = (f"{en} 列以 {z} 开头，判断为东坐标（{nn}=北）"
                  + ("" if kept else "；与列名的测量习惯相反，已按数值判断"))
            return a_is_north, (f"{zh} / column {en} starts with the zone number {z}: read as the easting "
                                f"({nn} = north)" + ("" if kept else ", against what the column names say"))
        if _within(north, NORTHING) and _within(east, PLAIN_EASTING):
            kept = (a_role == "north") == a_is_north
            zh = (f"{nn} 列为 7 位数（约 {np.nanmedian(north):,.0f}），判断为北坐标；{en} 列为不带带号的东坐标"
                  + ("" if kept else "；与列名的测量习惯相反，已按数值判断"))
            return a_is_north, (f"{zh} / column {nn} (about {np.nanmedian(north):,.0f}) is read as the "
                                f"northing and {en} as an easting without zone prefix"
                                + ("" if kept else ", against what the column names say"))
    refuse(CRSError,
           f"无法从数值判断 {a_name}/{b_name} 哪一列是北坐标（{a_name} 约 {np.nanmedian(a):,.0f}，{b_name} 约 "
           f"{np.nanmedian(b):,.0f}）：鸡西的北坐标约 4,970,000–5,170,000 米，东坐标带带号时以 43/44/45 开头。"
           "请核对坐标列，或改用 北坐标/东坐标 列名并确认数值",
           f"cannot tell from the values which of {a_name}/{b_name} is the northing; Jixi's northings are "
           "about 4,970,000-5,170,000 m and zone-prefixed eastings start with 43/44/45. Check the columns")
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- rings


def _close_enough(p, q, tol: float) -> bool:
    return abs(p[0] - q[0]) <= tol and abs(p[1] - q[1]) <= tol


def assemble_parcel(rings: list[tuple[str, np.ndarray]], *, label: str, tol: float,
                    refusals: Refusals, require_closed: bool, notes: list[str]):
    """One polygon (or multipolygon) from numbered rings in file order.

    Ring 1 (the first) is an outer ring. A later ring lying inside an outer ring is
    a hole of it; one lying outside every outer ring is another part; one crossing
    an outer ring is refused.

    Parameters
    ----------
    rings : list of (ring number, (n, 2) array of x/y)
        Coordinates in GIS order (x = east, y = north).
    label : str
        How to name the parcel in messages.
    tol : float
        Closure tolerance (metres).
    require_closed : bool
        Refuse a ring whose last point is not its first (部标); else close it and note it.
    notes : list
        Bilingual notes about the parcel are appended here.
    """
    outers: list[list] = []  # [shell, [holes]]
    for no, xy in rings:
        if len(xy) < 3:
            refusals.add(InvalidGeometryError, f"{label} 圈 {no} 只有 {len(xy)} 个点，不能构成面",
                         f"{label} ring {no} has only {len(xy)} points, too few for a polygon")
            return None
        if not _close_enough(xy[0], xy[-1], tol):
            if require_closed:
                refusals.add(InvalidGeometryError,
                             f"{label} 圈 {no} 未闭合：末点 ({xy[-1][1]:.3f}, {xy[-1][0]:.3f}) 不等于首点 "
                             f"({xy[0][1]:.3f}, {xy[0][0]:.3f})（X, Y）；请在末尾补上首点",
                             f"{label} ring {no} is not closed: its last point is not its first; "
                             "repeat the first point at the end")
                return None
            notes.append(f"{label} 圈 {no} 末点未重复首点，已按首点闭合 / ring {no} did not repeat its first "
                         "point; closed on it")
            xy = np.vstack([xy, xy[:1]])
        if len(xy) < 4:
            refusals.add(InvalidGeometryError, f"{label} 圈 {no} 不足 3 个不同的点，不能构成面",
                         f"{label} ring {no} has fewer than 3 distinct points")
            return None
        ring = shapely.Polygon(xy)
        home = None
        for o in outers:
            if shapely.Polygon(o[0]).contains(ring):
                home = o
                break
            if shapely.Polygon(o[0]).intersects(ring):
                refusals.add(InvalidGeometryError,
                             f"{label} 圈 {no} 与外圈相交：既不在其内（岛洞）也不在其外（另一部分）",
                             f"{label} ring {no} crosses an outer ring: neither a hole nor a separate part")
                return None
        if home is None:
            if outers:
                notes.append(f"{label} 圈 {no} 位于外圈之外，作为地块的另一部分 / ring {no} lies outside "
                             "the outer ring: read as another part of the parcel")
            outers.append([xy, []])
        else:
            home[1].append(xy)
            notes.append(f"{label} 圈 {no} 位于外圈内，作为岛洞（扣除） / ring {no} lies inside the outer ring: "
                         "read as a hole")
    polys = [shapely.Polygon(s, h) for s, h in outers]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


# --------------------------------------------------------------------------- DMS

_DMS = re.compile(
    r"^\s*([NSEW东西南北]?)\s*(-?\d+(?:\.\d+)?)\s*(?:°|度|:|\s)\s*(?:(\d+(?:\.\d+)?)\s*(?:′|'|’|分|:|\s)\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:″|\"|”|''|′′|秒)?\s*)?([NSEW东西南北]?)\s*$", re.IGNORECASE)


def parse_dms(v) -> float:
    """Degrees from a number or DMS text (``131°58′12″``, ``131度58分12秒``, ``45:23:10 N``).

    Returns NaN for text that is neither.

    Examples
    --------
    >>> round(parse_dms("131°58′12″"), 6)
    131.97
    >>> parse_dms(45.5)
    45.5
    """
    if v is None:
        return float("nan")
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v)
    s = str(v).strip()
    try:
        return float(s)
    except ValueError:
        pass
    m = _DMS.match(s)
    if not m:
        return float("nan")
    d, mi, se = float(m.group(2)), float(m.group(3) or 0), float(m.group(4) or 0)
    if mi >= 60 or se >= 60:
        return float("nan")
    val = abs(d) + mi / 60 + se / 3600
    hemi = (m.group(1) or m.group(5) or "").upper()
    return -val if d < 0 or hemi in ("S", "W", "南", "西") else val
