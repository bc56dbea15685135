"""Site validation, CRS part: which CRS the coordinates are in, and where the sites lie.

Each check adds what it finds to the one :class:`~jixi_geo._problems.Problems`
list of the read (and returns whether the read can go on), so every problem of a
file is reported at once:

- :func:`resolve_crs`: the CRS declared by the file, given by ``crs=``, inferred
  from zone-prefixed Gauss-Kruger eastings, or assumed for lon/lat (never relabelled);
- :func:`check_swapped_axes`: lon/lat exchanged (Jixi read as 45°E, 131°N);
- :func:`check_degrees`: a geographic CRS on coordinates that are not degrees;
- :func:`convert_web_coords`: GCJ-02 / BD-09 lon/lat converted to WGS84;
- :func:`check_near_jixi`: sites more than :data:`FAR_MARGIN_DEG` outside Jixi.

:func:`locate` runs the last four in order and transforms to EPSG:4490.
"""

from __future__ import annotations

from pathlib import Path

import re
import warnings
from typing import Literal

import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import coords as _coords
from .._problems import Problems, fmt_list
from ..crs import (JIXI_BOUNDS, STORAGE_CRS, ballpark_datum, ballpark_datum_message,
                   gk_crs_from_prefixed_easting, project)
from ..errors import CRSError, InputError
from .base import Raw, parse_crs

__all__ = ["Coords", "CRS_FROM", "FAR_MARGIN_DEG", "crs_label", "same_crs", "parse_coords", "stream_start",
           "resolve_crs",
           "crs_note", "crs_notes", "check_swapped_axes", "check_degrees", "convert_web_coords",
           "check_near_jixi", "locate", "site_bounds"]

Coords = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
#: Sites more than this many degrees outside :data:`~jixi_geo.crs.JIXI_BOUNDS`
#: are refused as a likely CRS error. Sites nearer (e.g. just across the Russian
#: border) are read; the compliance check reports them as outside Jixi.
FAR_MARGIN_DEG = 1.0
#: Values of the ``crs_from`` column: how the input CRS was decided.
CRS_FROM = ("file", "given", "zone prefix", "assumed lon/lat")
_SWAP_X = (44.0, 47.5)  # a longitude this small, with ...
_SWAP_Y = (129.0, 135.0)  # ... a latitude this large, is Jixi with axes swapped
_PREFIX_EASTING = (13e6, 46e6)  # zone-prefixed Gauss-Kruger eastings


def crs_label(crs: pyproj.CRS) -> str:
    auth = crs.to_authority(min_confidence=70)
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def same_crs(a: pyproj.CRS, b: pyproj.CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    ea, eb = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return ea is not None and ea == eb



def parse_coords(coords) -> str:
    if coords is None:
        return ""
    key = str(coords).strip().lower().replace("-", "").replace("_", "")
    if key in ("wgs84", "cgcs2000"):
        return ""
    if key in ("gcj02", "bd09"):
        return key
    raise CRSError(
        f"coords={coords!r} is not a known lon/lat system; use coords='gcj02' for "
        "coordinates copied from 高德/腾讯 maps, coords='bd09' for 百度 maps, or leave "
        "coords=None for GPS/GIS data (WGS84/CGCS2000)"
    )


# --------------------------------------------------------------------------- loaders


def stream_start(path, chunksize, coords, crs) -> tuple[Path, int, str, pyproj.CRS | None]:
    """The checks a streaming reader makes before reading: ``(path, chunksize, coords key, given CRS)``.

    Refuses a chunk size below one row and a missing file, and parses ``coords``/``crs``
    as :func:`jixi_geo.read_sites` does, so a bad option is refused before any row is read.
    """
    if int(chunksize) < 1:
        raise InputError(f"chunksize must be a positive number of rows; got {chunksize!r}")
    coords_key, given = parse_coords(coords), parse_crs(crs)
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}. Check the path (it is resolved from {Path.cwd()}).")
    return path, int(chunksize), coords_key, given


def resolve_crs(raw: Raw, given: pyproj.CRS | None, geoms: np.ndarray, ok: np.ndarray,
                 coords_key: str, problems: Problems) -> tuple[pyproj.CRS | None, str]:
    """The CRS of the source coordinates and how it was found; a CRS on a datum pyproj takes to
    CGCS2000 only by a ballpark shift (Beijing 1954, Xian 1980) is refused, not used silently."""
    src, how = _resolve_crs(raw, given, geoms, ok, coords_key, problems)
    datum = ballpark_datum(src) if src is not None else None
    if src is not None and datum is not None:
        zh, en = ballpark_datum_message(crs_label(src), datum)
        problems.add(CRSError, f"{zh}。/ {raw.name}: {en}.")
        return None, "ballpark datum"
    return src, how


def _resolve_crs(raw: Raw, given: pyproj.CRS | None, geoms: np.ndarray, ok: np.ndarray,
                 coords_key: str, problems: Problems) -> tuple[pyproj.CRS | None, str]:
    file_crs = pyproj.CRS.from_user_input(raw.gdf.crs) if raw.gdf.crs is not None else None
    if file_crs is not None:
        if given is not None and not same_crs(file_crs, given):
            problems.add(CRSError, (
                f"{raw.name} declares its CRS as {crs_label(file_crs)} but crs={crs_label(given)!r} "
                "was passed; read_sites never relabels coordinates. Drop crs= to use the file's CRS, "
                "or, if the file's CRS is wrong, fix it at the source (e.g. replace the .prj, or "
                "gdf.set_crs(..., allow_override=True) and pass the GeoDataFrame)"))
            return None, "conflict"
        # a planner-format reader says how it decided (its header, --crs, or the zone prefix)
        return file_crs, (raw.planner.crs_from if raw.planner is not None else "file")
    if given is not None:
        return given, "given"
    coords = shapely.get_coordinates(geoms[ok])
    if len(coords) == 0:
        return None, "none"
    xmin, ymin = coords.min(axis=0)
    xmax, ymax = coords.max(axis=0)
    if _PREFIX_EASTING[0] <= xmin and xmax < _PREFIX_EASTING[1] and 0 <= ymin and ymax < 1e7:
        zones = sorted({int(x // 1_000_000) for x in (xmin, xmax)})
        if len(zones) > 1:
            problems.add(CRSError, (
                f"{raw.name} has no CRS and its eastings carry different zone prefixes "
                f"({', '.join(map(str, zones))}); split the file by zone or pass crs="))
            return None, "none"
        try:
            return gk_crs_from_prefixed_easting(xmin), "zone prefix"
        except CRSError as e:
            problems.add(CRSError, f"{raw.name} has no CRS and {e}")
            return None, "none"
    degrees = ((-180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90)
               or (-90 <= xmin and xmax <= 90 and -180 <= ymin and ymax <= 180))  # lat/lon swapped
    if degrees and not raw.carries_crs:
        # CSV/WKT/DataFrame cannot state a CRS; lon/lat is CGCS2000 (GPS WGS84 agrees < 1 m).
        return (pyproj.CRS.from_epsg(4326) if coords_key else STORAGE_CRS), "assumed lon/lat"
    if raw.kind == "shapefile":
        fix = ("the shapefile has no .prj: pass crs='EPSG:4490' if the coordinates are CGCS2000 "
               "lon/lat, crs='EPSG:4553' for CGCS2000 Gauss-Kruger CM 132E metres, or add the .prj")
    elif degrees:
        fix = (f"{raw.name} has no CRS: pass crs='EPSG:4490' (CGCS2000 lon/lat) or the CRS the "
               "coordinates are in")
    else:
        fix = (f"{raw.name} has no CRS and its coordinates (x {xmin:.0f}–{xmax:.0f}, "
               f"y {ymin:.0f}–{ymax:.0f}) are not lon/lat: pass crs=, e.g. crs='EPSG:4553' for "
               "CGCS2000 Gauss-Kruger CM 132E metres (eastings without zone prefix)")
    problems.add(CRSError, fix)
    return None, "none"


def crs_note(crs_from: str, input_crs: str) -> str:
    """The bilingual sentence a result carries when its input CRS was inferred, else "".

    Parameters
    ----------
    crs_from : str
        How the CRS was decided (a value of :data:`CRS_FROM`).
    input_crs : str
        The CRS the coordinates were read in, e.g. ``"EPSG:4532"``.

    Returns
    -------
    str
        For ``"zone prefix"``: that the CRS was inferred from the zone prefix as a
        CGCS2000 zone, and that Beijing 1954 / Xian 1980 data need ``--crs``; for
        ``"assumed lon/lat"``: that lon/lat were read in the assumed datum; ``""``
        for a CRS the file declared or the user gave.

    Examples
    --------
    >>> crs_note("zone prefix", "EPSG:4532").split(" / ")[0]
    '坐标系由带号推断为 CGCS2000 3° 带 44 (EPSG:4532)；若为北京54/西安80请用 --crs 指定'
    >>> crs_note("file", "EPSG:4490")
    ''
    """
    if crs_from not in ("zone prefix", "assumed lon/lat"):
        return ""
    name = pyproj.CRS.from_user_input(input_crs).name
    if crs_from == "zone prefix":
        m = re.search(r"(?:(\d)-degree )?Gauss-Kruger zone (\d+)", name)  # 6° zones: no "-degree"
        width = (m.group(1) or "6") if m else ""
        zone_zh, zone_en = ((f"{width}° 带 {m.group(2)}", f"{width}-degree zone {m.group(2)}") if m
                            else (name, name))
        return (f"坐标系由带号推断为 CGCS2000 {zone_zh} ({input_crs})；若为北京54/西安80请用 --crs 指定 / "
                f"CRS inferred from the zone prefix of the eastings as CGCS2000 {zone_en} ({input_crs}); "
                "if the data are Beijing 1954 or Xian 1980, give the CRS with --crs (crs= in Python).")
    return (f"文件未注明坐标系，经纬度按 {name} ({input_crs}) 读取；若为其他坐标系请用 --crs 指定 / "
            f"The file states no CRS: lon/lat read as {name} ({input_crs}); if they are in another "
            "system, give it with --crs (crs= in Python).")


def crs_notes(frame: pd.DataFrame) -> list[str]:
    """The distinct :func:`crs_note` sentences of a table with ``crs_from`` and ``input_crs``
    columns (sites or results), in order of first appearance; empty if none applies."""
    if "crs_from" not in frame.columns or "input_crs" not in frame.columns:
        return []
    # distinct rows first (categoricals compare by code), then as text
    pairs = frame[["crs_from", "input_crs"]].drop_duplicates().astype(str).drop_duplicates()
    return [t for t in (crs_note(a, b) for a, b in pairs.itertuples(index=False)) if t]


def site_bounds(geoms: np.ndarray) -> np.ndarray:
    return shapely.bounds(geoms)  # (n, 4); NaN for None/empty


class _PointBounds:
    """The (n, 4) bounds of single points, (x, y, x, y), without copying them: a
    column ``b[:, k]`` is a view; any other selection (error messages) is built."""

    def __init__(self, xy: np.ndarray):
        self.xy = xy

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None) and isinstance(key[1], int):
            return self.xy[:, key[1] % 2]
        return np.column_stack([self.xy, self.xy])[key]


def _converter(key: str):
    def convert(c: np.ndarray) -> np.ndarray:
        if key == "gcj02":
            lon, lat = _coords.gcj02_to_wgs84(c[:, 0], c[:, 1])
        else:
            lon, lat = _coords.bd09_to_wgs84(c[:, 0], c[:, 1])
        return np.column_stack([lon, lat])
    return convert


def check_swapped_axes(b, idx: np.ndarray, ids, problems: Problems) -> bool:
    """Record lon/lat given the wrong way round (Jixi read as about 45°E, 131°N); True if found.

    ``b`` is the (n, 4) bounds of the sites ``idx`` in a geographic CRS.
    """
    swapped = ((b[:, 0] >= _SWAP_X[0]) & (b[:, 2] <= _SWAP_X[1])
               & (b[:, 1] >= _SWAP_Y[0]) & (b[:, 3] <= _SWAP_Y[1]))
    if not swapped.any():
        return False
    sid = [ids[i] for i in idx[swapped]]
    x, y = b[swapped][0, 0], b[swapped][0, 1]
    problems.add(CRSError, (
        f"longitude and latitude look swapped for sites {fmt_list(sid)} (e.g. longitude "
        f"{x:.4f}, latitude {y:.4f}; Jixi is at 130.4–133.9°E, 44.9–46.6°N). Swap them: "
        "exchange the 经度/纬度 (lon/lat) columns, or for a vector file swap the axes "
        "(gdf.geometry = shapely.transform(gdf.geometry, lambda c: c[:, ::-1])) and pass "
        "the GeoDataFrame"))
    return True


def check_degrees(raw: Raw, b, idx: np.ndarray, ids, label: str, crs_how: str, problems: Problems) -> bool:
    """Record coordinates beyond ±180/±90 under a geographic CRS (metres labelled as degrees); True if found."""
    not_deg = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    if not not_deg.any():
        return False
    sid = [ids[i] for i in idx[not_deg]]
    problems.add(CRSError, (
        f"{raw.name}: coordinates of sites {fmt_list(sid)} (x up to "
        f"{np.nanmax(np.abs(b[not_deg][:, [0, 2]])):.0f}, y up to "
        f"{np.nanmax(np.abs(b[not_deg][:, [1, 3]])):.0f}) are not degrees, but the CRS "
        f"is {label} ({crs_how}), which is in degrees. The data are probably projected "
        "metres with a wrong CRS label (e.g. CGCS2000 Gauss-Kruger EPSG:4553, or "
        "EPSG:4532 with zone-prefixed eastings). Fix the CRS at the source (replace the "
        ".prj, or gdf.set_crs('EPSG:4553', allow_override=True) and pass the GeoDataFrame)"))
    return True


def convert_web_coords(raw: Raw, geoms: np.ndarray, idx: np.ndarray, src: pyproj.CRS, label: str,
                       coords_key: str, problems: Problems) -> np.ndarray | None:
    """GCJ-02 / BD-09 lon/lat of the sites ``idx`` converted to WGS84 (a copy), ``geoms`` if
    ``coords_key`` is empty, or None (problem recorded) for a projected CRS."""
    if not coords_key:
        return geoms
    if not src.is_geographic:
        problems.add(CRSError, (
            f"coords={coords_key!r} is for lon/lat copied from a web map, but {raw.name} is "
            f"in {label} (projected, metres). Drop coords= for projected data"))
        return None
    geoms = geoms.copy()
    geoms[idx] = shapely.transform(geoms[idx], _converter(coords_key))
    return geoms


def check_near_jixi(tb, idx: np.ndarray, ids, src: pyproj.CRS, label: str, crs_how: str,
                    problems: Problems) -> bool:
    """Record sites whose EPSG:4490 bounds ``tb`` lie more than :data:`FAR_MARGIN_DEG` outside
    Jixi (all of them: a wrong CRS or zone; some: typos); True if found."""
    x0, y0, x1, y1 = JIXI_BOUNDS
    m = FAR_MARGIN_DEG
    with np.errstate(invalid="ignore"):
        inside = ((tb[:, 0] >= x0 - m) & (tb[:, 2] <= x1 + m)
                  & (tb[:, 1] >= y0 - m) & (tb[:, 3] <= y1 + m))
    far = ~inside
    if not far.any():
        return False
    sid = [ids[i] for i in idx[far]]
    fb = tb[far]
    finite = np.isfinite(fb).all(axis=1)
    found = (f"({np.min(fb[finite, 0]):.4f}, {np.min(fb[finite, 1]):.4f}, "
             f"{np.max(fb[finite, 2]):.4f}, {np.max(fb[finite, 3]):.4f})"
             if finite.any() else "(not finite: outside the CRS's area of use)")
    expect = (f"({x0 - m:.2f}, {y0 - m:.2f}, {x1 + m:.2f}, {y1 + m:.2f}), i.e. Jixi "
              f"{x0:.2f}–{x1:.2f}°E, {y0:.2f}–{y1:.2f}°N plus {m:g}°")
    if far.all():
        cause = (f"all sites are far away, so the CRS {label} ({crs_how}) is probably wrong "
                 "(another CRS, or the wrong Gauss-Kruger zone/central meridian: Jixi is in "
                 "3° zone 44, CM 132E, EPSG:4553 / EPSG:4532 with zone prefix)")
    else:
        cause = ("the other sites are near Jixi, so check these sites' coordinates for typos"
                 + ("" if src.is_geographic else
                    f", or whether they are in another CRS/zone than {label}"))
    problems.add(CRSError, (
        f"{len(sid)} of {len(ids)} sites lie far from Jixi: {fmt_list(sid)}. Bounds found "
        f"(lon/lat, EPSG:4490): {found}; expected within {expect}. Likely cause: {cause}"))
    return True


def locate(raw: Raw, geoms: np.ndarray, ok: np.ndarray, src: pyproj.CRS, ids, coords_key: str, crs_how: str,
           problems: Problems, point_xy: np.ndarray | None = None) -> np.ndarray | None:
    """Run the location checks, converting GCJ-02/BD-09 and transforming to EPSG:4490.

    Returns the transformed geometries, or None if a CRS problem was recorded.
    """
    idx = np.flatnonzero(ok)
    label = crs_label(src)
    b = _PointBounds(point_xy) if point_xy is not None else site_bounds(geoms[idx])
    if src.is_geographic and len(idx):
        if check_swapped_axes(b, idx, ids, problems) or check_degrees(raw, b, idx, ids, label, crs_how, problems):
            return None
    converted = convert_web_coords(raw, geoms, idx, src, label, coords_key, problems)
    if converted is None:
        return None
    geoms = converted
    if same_crs(src, STORAGE_CRS) and not coords_key:
        out, tb = geoms, b  # nothing to transform: the bounds are those already measured
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = project(geoms, src, STORAGE_CRS)
        tb = site_bounds(out[idx])
    if check_near_jixi(tb, idx, ids, src, label, crs_how, problems):
        return None
    return out
