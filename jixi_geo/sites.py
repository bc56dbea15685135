"""Read planners' site files into one checked EPSG:4490 GeoDataFrame.

A *site* is a proposed project location (point, line or polygon) that the red-line
compliance check will test. Planners send them in many shapes: Shapefiles with GBK
attribute tables and no ``.cpg``, KML from Google Earth or 奥维, GeoPackages, CSV
tables with ``经度``/``纬度`` columns copied from 高德 or 百度 maps, or bare WKT.
:func:`read_sites` reads all of them through GDAL (pyogrio) or pandas, works out
the CRS without ever relabelling coordinates, converts GCJ-02 / BD-09 lon/lat to
WGS84 when told to, validates everything, and reports **all** problems at once in
a single error whose message names each site and the fix.

Output columns: the input attributes in input order, then

- ``site_id`` (str): from ``id_column``, else from a unique column named
  ``site_id``, ``项目编号``, ``编号`` or ``id``, else generated ``S0001``, ``S0002`` …
  (the number is the 1-based row or feature number);
- ``input_crs`` (str): the CRS the coordinates came in, e.g. ``"EPSG:4532"``;
- ``crs_from`` (str): how that CRS was decided: ``"file"`` (declared by the source:
  ``.prj``, GeoPackage, GeoDataFrame, EWKT), ``"given"`` (the ``crs=`` argument),
  ``"zone prefix"`` (inferred as CGCS2000 Gauss-Kruger from zone-prefixed eastings of a
  source without CRS) or ``"assumed lon/lat"`` (degrees in a source that cannot state a
  CRS, read as CGCS2000); :func:`crs_note` gives the sentence the results carry for the
  last two;
- ``converted_from`` (str): ``"gcj02"``, ``"bd09"`` or ``""``;
- ``note`` (str): what was done to the site (Z dropped, geometry repaired), or ``""``;
- ``geometry`` in EPSG:4490 (CGCS2000 lon/lat, degrees).

Input columns that clash with these names are kept with the suffix ``_input``
(except an input ``site_id`` used as the id). CSV lon/lat columns are kept as
given (for ``coords="gcj02"`` they hold the GCJ-02 values; the geometry is
converted).
How the CRS and encoding were decided is recorded in
``gdf.attrs["read_sites"]``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from . import _formats as _fmt
from . import _read_planner
from . import coords as _coords
from ._io import atomic_path
from .crs import JIXI_BOUNDS, STORAGE_CRS, gk_crs_from_prefixed_easting, project
from ._problems import Problems, fmt_list
from ._text import frame_mojibake as _frame_mojibake
from ._text import is_utf8 as _is_utf8
from ._text import text_encoding as _text_encoding
from .errors import CRSError, EncodingError, InputError, InvalidGeometryError, JixiGeoWarning

__all__ = [
    "read_sites",
    "iter_sites_csv",
    "iter_sites_parquet",
    "write_csv_excel",
    "excel_safe_text",
    "SiteProblemsError",
    "LON_COLUMNS",
    "LAT_COLUMNS",
    "WKT_COLUMNS",
    "ID_COLUMNS",
    "FAR_MARGIN_DEG",
    "CRS_FROM",
    "crs_note",
    "crs_notes",
]

log = logging.getLogger(__name__)

#: Column names (case-insensitive) recognised as longitude / easting, first match wins.
LON_COLUMNS = ("longitude", "lon", "lng", "long", "经度", "x")
#: Column names (case-insensitive) recognised as latitude / northing.
LAT_COLUMNS = ("latitude", "lat", "纬度", "y")
#: Column names (case-insensitive) holding WKT geometry; preferred over lon/lat.
WKT_COLUMNS = ("wkt", "geometry", "geom")
#: Column names used as the site id when their values are unique, in this order.
ID_COLUMNS = ("site_id", "项目编号", "编号", "id")
#: Sites more than this many degrees outside :data:`~jixi_geo.crs.JIXI_BOUNDS`
#: are refused as a likely CRS error. Sites nearer (e.g. just across the Russian
#: border) are read; the compliance check reports them as outside Jixi.
FAR_MARGIN_DEG = 1.0

_OUT_COLUMNS = ("site_id", "input_crs", "crs_from", "converted_from", "note")
#: Values of the ``crs_from`` column: how the input CRS was decided.
CRS_FROM = ("file", "given", "zone prefix", "assumed lon/lat")
_SWAP_X = (44.0, 47.5)  # a longitude this small, with ...
_SWAP_Y = (129.0, 135.0)  # ... a latitude this large, is Jixi with axes swapped
_PREFIX_EASTING = (13e6, 46e6)  # zone-prefixed Gauss-Kruger eastings
_EXCEL_CELL_LIMIT = 32_767
#: First characters that make Excel (or LibreOffice) read a CSV text cell as a formula (OWASP
#: "CSV injection"): such text cells are written with a leading ``'``.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# text that is just a decimal number ("-12.5", "+3e2") is not a formula, and stays as it is
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

Coords = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]


class SiteProblemsError(CRSError, InvalidGeometryError, InputError):
    """Several kinds of problem at once (CRS, geometry, input).

    Raised by :func:`read_sites` when the problems found belong to more than one
    error class; it is an instance of each of them, so ``except CRSError``,
    ``except InvalidGeometryError`` and ``except InputError`` all catch it.
    Every error from :func:`read_sites` carries the list of problem texts in
    its ``problems`` attribute.
    """


# --------------------------------------------------------------------------- helpers


@dataclass
class _Raw:
    """A source loaded into a GeoDataFrame, before checks and transformation."""

    gdf: gpd.GeoDataFrame  # geometry column "geometry"; crs = the source's CRS or None
    name: str  # how to call the source in messages
    kind: str  # csv, wkt, shapefile, vector, geoparquet, parquet, geodataframe, dataframe
    carries_crs: bool  # whether the format can declare a CRS (a missing one is an error)
    row_problems: dict[int, str] = field(default_factory=dict)  # position -> text
    encoding: str | None = None
    path: Path | None = None
    planner: Any = None  # what a planner-format reader (部标 TXT, DXF, Excel) returned
    # coordinates (n, 2) when every geometry is a 2-D point built from them, all finite
    point_xy: np.ndarray | None = None


def _generated_ids(positions) -> list[str]:
    return [f"S{p + 1:04d}" for p in positions]


def _id_str(v) -> str | None:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    s = str(v).strip()
    return s or None


def _id_series(col: pd.Series) -> pd.Series:
    """``_id_str`` of every value as a string Series (missing: NA), positional index;
    vectorised for string and integer columns."""
    if pd.api.types.is_integer_dtype(col.dtype) and not col.isna().any():
        out = col.astype("str")
    elif pd.api.types.is_string_dtype(col.dtype):
        st = col.astype("str").str.strip()
        out = st.mask(st == "")
    else:
        out = pd.Series([_id_str(v) for v in col.tolist()], dtype="str")
    return out.reset_index(drop=True)


class _Ids:
    """Site ids for messages: the string column, turned into Python objects only
    when a problem has to name sites."""

    def __init__(self, series: pd.Series):
        self.series = series
        self._arr = None

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, key):
        if self._arr is None:
            self._arr = self.series.to_numpy(dtype=object)
        return self._arr[key]


def _crs_label(crs: pyproj.CRS) -> str:
    auth = crs.to_authority(min_confidence=70)
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def _same_crs(a: pyproj.CRS, b: pyproj.CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    ea, eb = a.to_epsg(min_confidence=70), b.to_epsg(min_confidence=70)
    return ea is not None and ea == eb


def _parse_crs(crs) -> pyproj.CRS | None:
    if crs is None:
        return None
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as e:
        raise CRSError(
            f"crs={crs!r} is not a coordinate reference system pyproj understands ({e}); "
            "pass e.g. crs='EPSG:4490' for CGCS2000 lon/lat or crs='EPSG:4553' for "
            "CGCS2000 Gauss-Kruger CM 132E metres"
        ) from None


def _parse_coords(coords) -> str:
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


def _find_column(columns, names) -> str | None:
    lowered = {str(c).strip().lower(): c for c in reversed(list(columns))}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None


def _geometry_columns(columns, name: str) -> tuple[str | None, str | None, str | None]:
    """(wkt column, lon column, lat column) of a table, or raise InputError."""
    wkt = _find_column(columns, WKT_COLUMNS)
    if wkt is not None:
        return wkt, None, None
    lon, lat = _find_column(columns, LON_COLUMNS), _find_column(columns, LAT_COLUMNS)
    if lon is None or lat is None:
        found = ", ".join(map(str, columns)) or "(none)"
        missing = "longitude" if lon is None else "latitude"
        raise InputError(
            f"{name}: no {missing} column. Columns found: {found}. Name the coordinate "
            f"columns 经度/纬度 or lon/lat (also accepted: {', '.join(LON_COLUMNS)} and "
            f"{', '.join(LAT_COLUMNS)}), or give the geometry as WKT in a column named "
            f"{' or '.join(WKT_COLUMNS)}."
        )
    return None, lon, lat


_SRID = re.compile(r"^\s*SRID\s*=\s*(\d+)\s*;\s*", re.IGNORECASE)


def _parse_wkt(values, labels) -> tuple[np.ndarray, set[int], dict[int, str]]:
    """Parse WKT/EWKT strings; return geometries, SRIDs seen, {position: problem}."""
    geoms = np.empty(len(values), dtype=object)
    srids: set[int] = set()
    bad: dict[int, str] = {}
    texts = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            texts.append(None)
            continue
        s = str(v).strip().strip('"').strip()
        m = _SRID.match(s)
        if m:
            srids.add(int(m.group(1)))
            s = s[m.end():]
        texts.append(s or None)
    parsed = shapely.from_wkt(np.array(texts, dtype=object), on_invalid="ignore")
    for i, (t, g) in enumerate(zip(texts, parsed)):
        if t is not None and g is None:
            bad[i] = f"{labels[i]}: could not parse the WKT {t[:40]!r}{'…' if len(t) > 40 else ''}"
        geoms[i] = g
    return geoms, srids, bad


def _frame_to_raw(df: pd.DataFrame, *, name: str, kind: str, id_offset: int = 0) -> _Raw:
    """Build point/WKT geometry from a plain table (CSV chunk or DataFrame)."""
    wkt_col, lon_col, lat_col = _geometry_columns(df.columns, name)
    labels = [f"row {id_offset + i + 1}" for i in range(len(df))]
    problems: dict[int, str] = {}
    crs = None
    if wkt_col is not None:
        geoms, srids, problems = _parse_wkt(df[wkt_col].tolist(), labels)
        attrs = df.drop(columns=[wkt_col])
        if len(srids) > 1:
            raise CRSError(
                f"{name}: the WKT column mixes SRIDs {sorted(srids)}; give every geometry in "
                "one CRS"
            )
        if srids:
            crs = _parse_crs(f"EPSG:{srids.pop()}")
    else:
        xy = []
        for col, what in ((lon_col, "longitude"), (lat_col, "latitude")):
            raw = df[col]
            if raw.dtype == object:
                raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
            num = pd.to_numeric(raw, errors="coerce")
            notnum = num.isna() & raw.notna() & (raw.astype(str) != "")
            for i in np.flatnonzero(notnum.to_numpy()):
                problems[i] = (
                    f"{labels[i]}: {what} {raw.iloc[i]!r} in column {col!r} is not a number; "
                    "write decimal degrees (e.g. 131.25) or metres"
                )
            xy.append(num.to_numpy(dtype=float))
        geoms = shapely.points(xy[0], xy[1])
        for i in problems:
            geoms[i] = None
        attrs = df
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=df.index), crs=crs)
    point_xy = None
    if wkt_col is None and not problems:
        point_xy = np.column_stack(xy)
        point_xy = point_xy if np.isfinite(point_xy).all() else None
    return _Raw(gdf=gdf, name=name, kind=kind, carries_crs=crs is not None, row_problems=problems,
                point_xy=point_xy)


def _csv_sep(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline()
    counts = {s: first.count(s) for s in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


@dataclass
class _CsvSpec:
    encoding: str
    sep: str
    columns: list[str]
    id_col: str | None  # the column holding ids, if any
    id_explicit: bool  # whether duplicates there are an error (else fall back to S0001…)


def _csv_spec(path: Path, encoding: str | None, id_column: str | None) -> _CsvSpec:
    enc = _text_encoding(path, encoding)
    sep = _csv_sep(path, enc)
    try:
        columns = list(pd.read_csv(path, encoding=enc, sep=sep, nrows=0).columns)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path.name} is empty (no header, no rows); give a CSV with a header line "
                         "and one site per row") from None
    _geometry_columns(columns, path.name)
    id_col, explicit = _id_source(columns, id_column, path.name)
    return _CsvSpec(enc, sep, columns, id_col, explicit)


def _id_source(columns, id_column, name) -> tuple[str | None, bool]:
    if id_column is not None:
        if id_column not in list(columns):
            raise InputError(
                f"id_column={id_column!r} is not a column of {name}; columns are: "
                f"{', '.join(map(str, columns))}. Pass one of them, or id_column=None to use "
                "site_id/项目编号/编号/id or generated ids"
            )
        return id_column, True
    col = _find_column(columns, ID_COLUMNS)
    if col is None:
        return None, False
    return col, str(col).strip().lower() == "site_id"


def _read_csv(path: Path, *, encoding, id_column) -> tuple[_Raw, _CsvSpec]:
    spec = _csv_spec(path, encoding, id_column)
    dtype = {spec.id_col: str} if spec.id_col is not None else None
    df = pd.read_csv(path, encoding=spec.encoding, sep=spec.sep, dtype=dtype)
    raw = _frame_to_raw(df, name=path.name, kind="csv")
    raw.encoding, raw.path = spec.encoding, path
    return raw, spec


_WKT_START = re.compile(
    r"(SRID\s*=\s*\d+\s*;\s*)?\b(MULTIPOINT|MULTILINESTRING|MULTIPOLYGON|GEOMETRYCOLLECTION|"
    r"POINT|LINESTRING|POLYGON)\b",
    re.IGNORECASE,
)


def _read_wkt_text(path: Path, *, encoding) -> _Raw:
    enc = _text_encoding(path, encoding)
    ids: list[str | None] = []
    wkts: list[str | None] = []
    lines: list[int] = []
    problems: dict[int, str] = {}
    first = True
    with open(path, encoding=enc) as f:
        for lineno, line in enumerate(f, start=1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            m = _WKT_START.search(s)
            if m is None:
                if first:  # a header such as "id;wkt"
                    first = False
                    continue
                problems[len(wkts)] = f"line {lineno}: no WKT geometry found in {s[:40]!r}"
                ids.append(None)
                wkts.append(None)
                lines.append(lineno)
                continue
            first = False
            prefix = s[: m.start()].strip().rstrip(";,\t").strip().strip('"').strip()
            ids.append(prefix or None)
            wkts.append(s[m.start():].strip().strip('"'))
            lines.append(lineno)
    labels = [f"line {n}" for n in lines]
    geoms, srids, bad = _parse_wkt(wkts, labels)
    problems.update(bad)
    crs = None
    if len(srids) > 1:
        raise CRSError(f"{path.name}: the lines mix SRIDs {sorted(srids)}; give every geometry in one CRS")
    if srids:
        crs = _parse_crs(f"EPSG:{srids.pop()}")
    data: dict[str, Any] = {}
    if any(i is not None for i in ids):
        for k, i in enumerate(ids):
            if i is None and k not in problems:
                problems[k] = f"{labels[k]}: no id before the WKT (other lines have one)"
        data["site_id"] = ids
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms), crs=crs)
    return _Raw(gdf=gdf, name=path.name, kind="wkt", carries_crs=crs is not None,
                row_problems=problems, encoding=enc, path=path)


def _read_vector(src: _fmt.Source, *, layer, encoding) -> _Raw:
    """Read a GeoJSON, GeoPackage, Shapefile (plain or zipped) or KML/KMZ the allow-list accepted."""
    path, gpath = src.path, src.gdal_path
    opts = _fmt.open_options(src)
    try:
        layers = [str(n) for n in pyogrio.list_layers(gpath)[:, 0]]
        driver = pyogrio.read_info(gpath, layer=0, **opts)["driver"]
    except Exception as e:  # pyogrio.errors.DataSourceError and friends
        raise InputError(
            f"{path.name} 无法作为矢量文件打开（{e}）。/ {path.name} could not be opened as a vector file "
            f"({e}). Accepted formats: {_fmt.ACCEPTED_EN}."
        ) from None
    _fmt.check_driver(src, driver)
    if src.note:
        log.info("%s: %s", path.name, src.note)
    if src.kind == "shapezip":
        layer = None  # the zip member was chosen by identify()
    if layer is None and len(layers) > 1:
        raise InputError(
            f"{path.name} has {len(layers)} layers: {', '.join(layers)}. Choose one with "
            f"layer=..., e.g. layer={layers[0]!r}"
        )
    if layer is not None and str(layer) not in layers and not isinstance(layer, int):
        raise InputError(
            f"layer {layer!r} is not in {path.name}; its layers are: {', '.join(layers)}"
        )
    is_shp = driver == "ESRI Shapefile"
    if encoding is not None and not is_shp and not _is_utf8(encoding):
        raise InputError(
            f"encoding={encoding!r} does not apply to {path.name} ({driver}): its text is "
            "always UTF-8. encoding= is for CSV, WKT text and Shapefile .dbf files; drop it."
        )
    name = path.name
    used = "utf-8"
    if is_shp:
        gdf, used = _read_shapefile(src, layer=layer, encoding=encoding)
    else:
        gdf = pyogrio.read_dataframe(gpath, layer=layer, **opts)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    raw = _Raw(gdf=gdf, name=name, kind="shapefile" if is_shp else "vector", carries_crs=True,
               encoding=used, path=path)
    return raw


def _cpg_text(src: _fmt.Source) -> str | None:
    """The text of the Shapefile's .cpg (beside it, or inside its zip), or None."""
    if ".cpg" not in src.parts:
        return None
    if src.kind == "shapezip":
        with zipfile.ZipFile(src.path) as z:
            names = {n.lower(): n for n in z.namelist()}
            cpg_name = names[(src.member[:-4] + ".cpg").lower()]
            return z.read(cpg_name).decode("ascii", errors="replace").strip()
    cpg = next(p for p in src.path.parent.iterdir()
               if p.stem == src.path.stem and p.suffix.lower() == ".cpg")
    return cpg.read_text(errors="replace").strip()


def _read_shapefile(src: _fmt.Source, *, layer, encoding) -> tuple[gpd.GeoDataFrame, str]:
    path, gpath = src.path, src.gdal_path
    cpg = _cpg_text(src)
    if encoding is not None:
        try:
            gdf = pyogrio.read_dataframe(gpath, layer=layer, encoding=encoding)
        except UnicodeDecodeError as e:
            raise EncodingError(
                f"{path.name}: the .dbf attribute table is not in encoding={encoding!r} ({e}). "
                "Try encoding=\"gbk\" or encoding=\"utf-8\", or drop encoding= to detect it."
            ) from None
        shown = _frame_mojibake(gdf)
        if shown:
            raise EncodingError(
                f"{path.name}: reading the .dbf as {encoding} gives garbled text such as "
                f"{shown!r}; try encoding=\"gbk\" or encoding=\"utf-8\", or drop encoding=."
            )
        return gdf, encoding
    if cpg is not None:
        gdf = pyogrio.read_dataframe(gpath, layer=layer)
        shown = _frame_mojibake(gdf)
        if shown:
            raise EncodingError(
                f"{path.name}: the .cpg file says {cpg!r}, "
                f"but the attributes read as garbled text such as {shown!r}. Pass the real "
                "encoding, e.g. encoding=\"gbk\"."
            )
        return gdf, cpg
    tried = []
    for enc in ("utf-8", "gb18030"):
        try:
            gdf = pyogrio.read_dataframe(gpath, layer=layer, encoding=enc)
        except UnicodeDecodeError:
            tried.append(f"{enc} (decoding fails)")
            continue
        shown = _frame_mojibake(gdf)
        if shown:
            tried.append(f"{enc} (garbled text such as {shown!r})")
            continue
        log.info("%s has no .cpg; its attributes decode as %s", path.name, enc)
        return gdf, enc
    raise EncodingError(
        f"{path.name} has no .cpg file and its .dbf attributes are in none of the encodings "
        f"tried: {'; '.join(tried)}. Pass the encoding, e.g. encoding=\"gbk\" (or \"big5\", "
        "\"latin-1\"), or add a .cpg file naming it."
    )


def _load(source, *, layer, encoding, id_column) -> _Raw:
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source.copy()
        if gdf.geometry.name != "geometry":
            if "geometry" in gdf.columns:
                gdf = gdf.drop(columns=["geometry"])
            gdf = gdf.rename_geometry("geometry")
        gdf = gdf.reset_index(drop=True)
        return _Raw(gdf=gdf, name="the GeoDataFrame", kind="geodataframe", carries_crs=True)
    if isinstance(source, pd.DataFrame):
        return _frame_to_raw(source.reset_index(drop=True), name="the DataFrame", kind="dataframe")
    if not isinstance(source, (str, os.PathLike)):
        raise InputError(
            f"source must be a file path, a GeoDataFrame or a DataFrame with lon/lat columns; "
            f"got {type(source).__name__}"
        )
    src = _fmt.identify(source, layer=layer)  # the allow-list: decided before any reader opens it
    if src.kind == "csv":
        return _read_csv(src.path, encoding=encoding, id_column=id_column)[0]
    if src.kind == "wkt":
        return _read_wkt_text(src.path, encoding=encoding)
    if src.kind == "parquet":
        return _read_parquet(src.path, layer=layer, encoding=encoding)
    return _read_vector(src, layer=layer, encoding=encoding)


# --------------------------------------------------------------------------- GeoParquet
# Read through pyarrow/geopandas in every path, never through GDAL.


def _parquet_meta(path: Path, *, layer, encoding):
    """The open ``pyarrow.parquet.ParquetFile`` and its GeoParquet ``geo`` metadata (None for plain Parquet)."""
    import json

    import pyarrow.parquet as pq

    if layer is not None:
        raise InputError(f"layer={layer!r} does not apply to {path.name}: a (Geo)Parquet file has one table; "
                         "drop layer=")
    if encoding is not None and not _is_utf8(encoding):
        raise InputError(f"encoding={encoding!r} does not apply to {path.name} (Parquet): its text is always "
                         "UTF-8; drop encoding=")
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow.lib.ArrowInvalid and friends
        raise InputError(f"{path.name} could not be opened as a (Geo)Parquet file ({e}); write it with "
                         "GeoDataFrame.to_parquet, or give a GeoPackage/GeoJSON/CSV") from None
    raw = (pf.schema_arrow.metadata or {}).get(b"geo")
    if raw is None:
        return pf, None
    try:
        geo = json.loads(raw)
        geo["columns"][geo["primary_column"]]
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path.name}: its GeoParquet 'geo' metadata is unreadable ({e}); rewrite the file "
                         "with GeoDataFrame.to_parquet") from None
    return pf, geo


def _parquet_table_to_raw(table, geo: dict | None, *, name: str, path: Path, id_offset: int = 0) -> _Raw:
    """A pyarrow Table (the whole file or one batch) as a loaded source."""
    if geo is None:  # plain Parquet: lon/lat or WKT columns, as in a CSV
        raw = _frame_to_raw(table.to_pandas(), name=name, kind="parquet", id_offset=id_offset)
        raw.path, raw.encoding = path, "utf-8"
        return raw
    col = geo["primary_column"]
    meta = geo["columns"][col]
    crs = _geoparquet_crs(meta)
    arr = table.column(col)
    xy = None
    if str(meta.get("encoding", "WKB")).upper() == "WKB":
        xy = _wkb_points_xy(arr)
        geoms = shapely.points(xy) if xy is not None else shapely.from_wkb(np.asarray(arr.to_pandas(), dtype=object))
        gs = gpd.GeoSeries(geoms, crs=crs)
    else:  # native GeoArrow encodings
        gs = gpd.GeoSeries.from_arrow(arr.combine_chunks(), crs=crs)
    df = table.drop_columns([col]).to_pandas()
    # an index stored by pandas comes back as the index: keep it as a column, number rows as other formats do
    df = df.reset_index(drop=isinstance(df.index, pd.RangeIndex))
    if "geometry" in df.columns:
        df = df.rename(columns={"geometry": "geometry_input"})
    gdf = gpd.GeoDataFrame(df, geometry=gs.set_axis(df.index), crs=crs)
    return _Raw(gdf=gdf, name=name, kind="geoparquet", carries_crs=True, encoding="utf-8", path=path, point_xy=xy)


#: A little-endian 2-D WKB point: byte order 1, geometry type 1, then x and y (21 bytes).
_WKB_POINT_HEAD = np.array([1, 1, 0, 0, 0], dtype=np.uint8)


def _wkb_points_xy(arr) -> np.ndarray | None:
    """Coordinates (n, 2) of a WKB column when every value is a finite little-endian 2-D point, else None.

    Reads the Arrow buffers directly: for a million points this is a hundredth of
    the time of parsing each WKB value with GEOS. Anything else (nulls, other
    geometry types, big-endian, Z, NaN) returns None and is parsed by GEOS.
    """
    out = []
    for chunk in arr.chunks:
        if chunk.null_count or len(chunk) == 0:
            if len(chunk) == 0:
                continue
            return None
        kind = str(chunk.type)
        if kind not in ("binary", "large_binary"):
            return None
        _, off_buf, data_buf = chunk.buffers()
        off = np.frombuffer(off_buf, dtype=np.int64 if kind == "large_binary" else np.int32)
        off = off[chunk.offset:chunk.offset + len(chunk) + 1]
        if not (np.diff(off) == 21).all():
            return None
        rec = np.frombuffer(data_buf, dtype=np.uint8)[off[0]:off[-1]].reshape(len(chunk), 21)
        if not (rec[:, :5] == _WKB_POINT_HEAD).all():
            return None
        out.append(np.ascontiguousarray(rec[:, 5:]).view("<f8").reshape(len(chunk), 2))
    if not out:
        return None
    xy = np.concatenate(out).astype(np.float64)
    return xy if np.isfinite(xy).all() else None


def _geoparquet_crs(meta: dict):
    """The CRS of a GeoParquet geometry column: absent means OGC:CRS84 (the specification), null means unknown."""
    if "crs" not in meta:
        return pyproj.CRS.from_user_input("OGC:CRS84")
    if meta["crs"] is None:
        return None
    return pyproj.CRS.from_user_input(meta["crs"])


def _read_parquet(path: Path, *, layer, encoding) -> _Raw:
    pf, geo = _parquet_meta(path, layer=layer, encoding=encoding)
    return _parquet_table_to_raw(pf.read(), geo, name=path.name, path=path)


def _ids_unique_by_hash(pf, id_col: str, batch_rows: int = 200_000) -> bool:
    """Whether every id of the column is present and distinct, read batch by batch.

    Only a 64-bit hash of each normalised id is kept (8 bytes per site), so the
    check's memory stays small next to the sites'. False means "look closer": a
    missing id, or two equal hashes (a duplicate, or very rarely a collision);
    the exact check then reads the column whole and words the problem.
    """
    hashes = []
    for batch in pf.iter_batches(batch_size=batch_rows, columns=[id_col]):
        vals = _id_series(batch.column(0).to_pandas())
        if vals.isna().any():
            return False
        hashes.append(pd.util.hash_pandas_object(vals, index=False).to_numpy())
    h = np.sort(np.concatenate(hashes)) if hashes else np.zeros(0, dtype=np.uint64)
    return not bool((h[1:] == h[:-1]).any())


def _check_ids_parquet(pf, path: Path, id_col: str | None, explicit: bool) -> tuple[str | None, bool]:
    """Check the id column over the whole file (that column only) before streaming."""
    if id_col is None:
        return None, False
    if _ids_unique_by_hash(pf, id_col):  # the common case, in memory of 8 bytes per site
        return id_col, explicit
    vals = _id_series(pf.read(columns=[id_col]).column(id_col).to_pandas())
    absent = vals.isna().to_numpy()
    present = vals[~absent]
    dups = [] if present.is_unique else sorted(set(present[present.duplicated()]))
    missing = [f"row {p + 1}" for p in np.flatnonzero(absent)]
    if not explicit:
        if missing or dups:
            log.info("column %r is not a unique id; generating ids", id_col)
            return None, False
        return id_col, False
    problems = Problems(path.name, mixed=SiteProblemsError, head="found, nothing was read:")
    if missing:
        problems.add(InputError, f"site id column {id_col!r} is empty in {fmt_list(missing)}; give every site an id")
    if dups:
        problems.add(InputError, f"duplicate site ids in column {id_col!r}: {fmt_list(dups)}; make them unique, "
                                 "or pass id_column= naming a unique column")
    problems.raise_if_any()
    return id_col, True


# --------------------------------------------------------------------------- checks


def _resolve_ids(gdf, *, id_column, name, problems: Problems, id_offset: int = 0,
                 spec_id: tuple[str | None, bool] | None = None,
                 reported=()) -> tuple[pd.Series, str | None]:
    """Site ids as a string Series (positional index), and the column they came
    from (None if generated)."""
    n = len(gdf)
    positions = range(id_offset, id_offset + n)
    col, explicit = spec_id if spec_id is not None else _id_source(
        [c for c in gdf.columns if c != "geometry"], id_column, name)
    if col is None:
        return pd.Series(_generated_ids(positions), dtype="str"), None
    vals = _id_series(gdf[col])
    absent = vals.isna().to_numpy()
    skip = {p + id_offset for p in reported}  # rows whose problem is already reported
    missing = [f"row {p + 1}" for p in np.flatnonzero(absent) + id_offset if p not in skip]
    present = vals[~absent]
    dups = [] if present.is_unique else sorted(set(present[present.duplicated()]))
    if not explicit and (missing or dups):
        log.info("column %r is not a unique id (%d missing, %d duplicated); generating ids",
                 col, len(missing), len(dups))
        return pd.Series(_generated_ids(positions), dtype="str"), None
    if missing:
        problems.add(InputError, f"site id column {col!r} is empty in {fmt_list(missing)}; "
                                 "give every site an id")
    if dups:
        problems.add(InputError, f"duplicate site ids in column {col!r}: {fmt_list(dups)}; "
                                 "make them unique, or pass id_column= naming a unique column")
    if absent.any():
        vals = vals.copy()
        vals[absent] = _generated_ids(np.flatnonzero(absent) + id_offset)
    return vals, col


def _resolve_crs(raw: _Raw, given: pyproj.CRS | None, geoms: np.ndarray, ok: np.ndarray,
                 coords_key: str, problems: Problems) -> tuple[pyproj.CRS | None, str]:
    """The CRS of the source coordinates and how it was found."""
    file_crs = pyproj.CRS.from_user_input(raw.gdf.crs) if raw.gdf.crs is not None else None
    if file_crs is not None:
        if given is not None and not _same_crs(file_crs, given):
            problems.add(CRSError, (
                f"{raw.name} declares its CRS as {_crs_label(file_crs)} but crs={_crs_label(given)!r} "
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
    pairs = frame[["crs_from", "input_crs"]].astype(str).drop_duplicates()
    return [t for t in (crs_note(a, b) for a, b in pairs.itertuples(index=False)) if t]


def _site_bounds(geoms: np.ndarray) -> np.ndarray:
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


def _location_checks(raw: _Raw, geoms: np.ndarray, ok: np.ndarray, src: pyproj.CRS,
                     ids: "_Ids", coords_key: str, crs_how: str,
                     problems: Problems, point_xy: np.ndarray | None = None) -> np.ndarray | None:
    """Convert GCJ-02/BD-09, transform to EPSG:4490 and refuse far-away sites.

    Returns the transformed geometries, or None if a CRS problem was recorded.
    """
    idx = np.flatnonzero(ok)
    label = _crs_label(src)
    b = _PointBounds(point_xy) if point_xy is not None else _site_bounds(geoms[idx])
    if src.is_geographic and len(idx):
        swapped = ((b[:, 0] >= _SWAP_X[0]) & (b[:, 2] <= _SWAP_X[1])
                   & (b[:, 1] >= _SWAP_Y[0]) & (b[:, 3] <= _SWAP_Y[1]))
        if swapped.any():
            sid = [ids[i] for i in idx[swapped]]
            x, y = b[swapped][0, 0], b[swapped][0, 1]
            problems.add(CRSError, (
                f"longitude and latitude look swapped for sites {fmt_list(sid)} (e.g. longitude "
                f"{x:.4f}, latitude {y:.4f}; Jixi is at 130.4–133.9°E, 44.9–46.6°N). Swap them: "
                "exchange the 经度/纬度 (lon/lat) columns, or for a vector file swap the axes "
                "(gdf.geometry = shapely.transform(gdf.geometry, lambda c: c[:, ::-1])) and pass "
                "the GeoDataFrame"))
            return None
        not_deg = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
        if not_deg.any():
            sid = [ids[i] for i in idx[not_deg]]
            problems.add(CRSError, (
                f"{raw.name}: coordinates of sites {fmt_list(sid)} (x up to "
                f"{np.nanmax(np.abs(b[not_deg][:, [0, 2]])):.0f}, y up to "
                f"{np.nanmax(np.abs(b[not_deg][:, [1, 3]])):.0f}) are not degrees, but the CRS "
                f"is {label} ({crs_how}), which is in degrees. The data are probably projected "
                "metres with a wrong CRS label (e.g. CGCS2000 Gauss-Kruger EPSG:4553, or "
                "EPSG:4532 with zone-prefixed eastings). Fix the CRS at the source (replace the "
                ".prj, or gdf.set_crs('EPSG:4553', allow_override=True) and pass the GeoDataFrame)"))
            return None
    if coords_key:
        if not src.is_geographic:
            problems.add(CRSError, (
                f"coords={coords_key!r} is for lon/lat copied from a web map, but {raw.name} is "
                f"in {label} (projected, metres). Drop coords= for projected data"))
            return None
        geoms = geoms.copy()
        geoms[idx] = shapely.transform(geoms[idx], _converter(coords_key))
    if _same_crs(src, STORAGE_CRS) and not coords_key:
        out, tb = geoms, b  # nothing to transform: the bounds are those already measured
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = project(geoms, src, STORAGE_CRS)
        tb = _site_bounds(out[idx])
    x0, y0, x1, y1 = JIXI_BOUNDS
    m = FAR_MARGIN_DEG
    with np.errstate(invalid="ignore"):
        inside = ((tb[:, 0] >= x0 - m) & (tb[:, 2] <= x1 + m)
                  & (tb[:, 1] >= y0 - m) & (tb[:, 3] <= y1 + m))
    far = ~inside
    if far.any():
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
        return None
    return out


def _note_column(notes: dict[int, list[str]], n: int) -> pd.Categorical:
    """The ``note`` column: "" for most sites, the joined notes for the others."""
    labels = {"": 0}
    codes = np.zeros(n, dtype=np.int64)
    for i, texts in notes.items():
        codes[i] = labels.setdefault("; ".join(texts), len(labels))
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(labels), dtype="str"))


def _constant(value: str, n: int) -> pd.Categorical:
    """A column holding ``value`` in every row (a one-category categorical)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([value], dtype="str"))


#: Inputs at least this large check their ids on a second thread.
_BACKGROUND_MIN = 100_000


class _Background:
    """``fn(*args, **kw)`` on a thread (or inline when ``thread`` is false); ``result()``
    waits for it and re-raises its exception."""

    def __init__(self, fn, *args, thread: bool, **kw):
        self._value = self._error = None
        if thread:
            self._thread = threading.Thread(target=self._run, args=(fn, args, kw), daemon=True)
            self._thread.start()
        else:
            self._thread = None
            self._run(fn, args, kw)

    def _run(self, fn, args, kw):
        try:
            self._value = fn(*args, **kw)
        except BaseException as e:  # re-raised in the caller's thread
            self._error = e

    def result(self):
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _finish(raw: _Raw, *, coords_key: str, given_crs: pyproj.CRS | None, id_column,
            make_valid: bool, id_offset: int = 0,
            spec_id: tuple[str | None, bool] | None = None, name_column: str | None = None) -> gpd.GeoDataFrame:
    """Validate, convert and transform a loaded source; raise one error listing all problems."""
    gdf = raw.gdf
    if len(gdf) == 0:
        raise InputError(
            f"{raw.name} contains no sites (0 features/rows); give a file with at least one "
            "point, line or polygon"
        )
    problems = Problems(raw.name, mixed=SiteProblemsError, head="found, nothing was read:")
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    n = len(geoms)
    parsed_bad = np.zeros(n, dtype=bool)
    parsed_bad[list(raw.row_problems)] = True
    # the ids are checked (string hashing) while the geometries are measured (GEOS);
    # both release the GIL, so large inputs overlap them on two threads
    id_job = _Background(_resolve_ids, gdf, id_column=id_column, name=raw.name, problems=problems,
                         id_offset=id_offset, spec_id=spec_id, reported=raw.row_problems,
                         thread=n >= _BACKGROUND_MIN)
    if raw.point_xy is not None and len(raw.point_xy) == n and not raw.row_problems:
        # 2-D points built from finite coordinates: present, valid, no Z; nothing to ask GEOS
        absent = np.zeros(n, dtype=bool)
        present = ~absent
        xy, where = raw.point_xy, np.arange(n)
        type_id = np.zeros(n, dtype=np.int32)
        has_z = absent
        valid = present
    else:
        absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        present = ~absent & ~parsed_bad
        xy, where = shapely.get_coordinates(geoms[present], return_index=True)
        type_id = shapely.get_type_id(geoms)
        has_z = shapely.has_z(geoms)
        valid = shapely.is_valid(geoms)
    id_series, id_col = id_job.result()
    ids = ida = _Ids(id_series)
    for pos, text in sorted(raw.row_problems.items()):
        problems.add(InputError, f"{text} (site {ids[pos]})")
    notes: dict[int, list[str]] = {}  # position -> notes (most sites have none)

    missing = absent & ~parsed_bad
    if missing.any():
        problems.add(InvalidGeometryError, (
            f"sites without geometry (null or empty): {fmt_list(ida[missing])}; give each site a "
            "point, line or polygon, or remove those rows"))

    bad_pos = np.flatnonzero(present)[np.unique(where[~np.isfinite(xy).all(axis=1)])]
    nonfinite = np.zeros(n, dtype=bool)
    nonfinite[bad_pos] = True
    if nonfinite.any():
        problems.add(InputError, (
            f"sites with missing, NaN or infinite coordinates: {fmt_list(ida[nonfinite])}; fill "
            "in the coordinates (decimal degrees or metres) or remove those rows"))

    gc = present & (type_id == 7)
    if gc.any():
        problems.add(InvalidGeometryError, (
            f"GeometryCollection is not supported (sites {fmt_list(ida[gc])}); explode it into "
            "one feature per part, e.g. gdf.explode(index_parts=False), or keep only the polygons"))

    ok = present & ~nonfinite & ~gc
    hz = ok & has_z
    if hz.any():
        for i in np.flatnonzero(hz):
            z = shapely.get_coordinates(geoms[i], include_z=True)[:, 2]
            if np.any(np.nan_to_num(z) != 0):
                notes.setdefault(i, []).append("Z coordinates dropped")
        geoms[hz] = shapely.force_2d(geoms[hz])

    invalid = ok & ~valid
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        if make_valid:
            fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
            geoms[invalid] = fixed
            for i, r in zip(np.flatnonzero(invalid), reasons):
                notes.setdefault(i, []).append(f"geometry repaired with make_valid ({r})")
            still = np.flatnonzero(invalid)[shapely.is_empty(fixed)]
            if len(still):
                problems.add(InvalidGeometryError, (
                    f"sites {fmt_list(ida[still])} collapse to nothing when repaired (zero "
                    "area); redraw them"))
                ok[still] = False
        else:
            listed = [f"{s}: {r}" for s, r in zip(ida[invalid], reasons)]
            problems.add(InvalidGeometryError, (
                f"invalid geometries: {fmt_list(listed)}. Redraw them, or pass make_valid=True to "
                "repair them with shapely.make_valid (the repair is recorded in column 'note')"))
            ok = ok & ~invalid

    src, how = _resolve_crs(raw, given_crs, geoms, ok, coords_key, problems)
    out = None
    if src is not None:
        # single points: their bounds are their coordinates, already read
        pts = xy if (ok.all() and len(xy) == n and (type_id == 0).all()) else None
        out = _location_checks(raw, geoms, ok, src, ids, coords_key, how, problems, point_xy=pts)
    problems.raise_if_any()

    attrs = gdf.drop(columns=["geometry"])
    if id_col == "site_id":
        attrs = attrs.drop(columns=["site_id"])  # it becomes the output site_id
    attrs = attrs.rename(columns={c: f"{c}_input" for c in _OUT_COLUMNS if c in attrs.columns})
    attrs = attrs.assign(
        site_id=id_series.array,
        input_crs=_constant(_crs_label(src), n),
        crs_from=_constant(how, n),
        converted_from=_constant(coords_key, n),
        note=_note_column(notes, n),
    )
    result = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(out, index=attrs.index), crs=STORAGE_CRS)
    result.attrs["read_sites"] = {
        "source": str(raw.path) if raw.path is not None else raw.name,
        "format": raw.kind,
        "encoding": raw.encoding,
        "input_crs": _crs_label(src),
        "crs_from": how,  # one of CRS_FROM
        "converted_from": coords_key,
        "id_column": id_col,
    }
    return _read_planner.finish(result, raw.planner, name_column=name_column, coords_key=coords_key)


# --------------------------------------------------------------------------- public API


def read_sites(
    source,
    *,
    coords: Coords | None = None,
    crs=None,
    id_column: str | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    make_valid: bool = False,
    cad_layer: str | None = None,
    sheet: str | int | None = None,
    name_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read proposed sites from a file or table into a checked EPSG:4490 GeoDataFrame.

    Parameters
    ----------
    source : str, pathlib.Path, GeoDataFrame or DataFrame
        A GeoJSON, GeoPackage, Shapefile (``.shp`` with its ``.shx`` and ``.dbf``,
        or a ``.zip`` holding one), KML/KMZ (read through GDAL/pyogrio), GeoParquet
        (read through pyarrow), CSV (``.csv``/``.tsv``) or WKT text file
        (``.wkt``/``.txt``, one WKT per line, optionally ``id;WKT``, ``id,WKT`` or
        ``id<TAB>WKT``; EWKT ``SRID=4490;…`` sets the CRS); a 部标 界址点 TXT
        (``[属性描述]``/``[地块坐标]``, one site per 地块, CRS from 坐标系/几度分带/带号);
        a CAD DXF (closed polylines as polygons, texts inside them as names; a DWG
        is refused with the advice to save it as DXF); an Excel workbook
        (``.xlsx``/``.xls``: point tables with 经度/纬度 or X/Y, 界址点 tables with
        点号/X/Y and 地块号); or a GeoDataFrame; or a DataFrame with lon/lat (or WKT)
        columns. The format is decided from the file's name and first bytes before
        any reader opens it; other formats (VRT, GML, …) are refused (see
        :mod:`jixi_geo._formats`). The file is only read, never modified, and
        nothing is written beside it.
    coords : {"gcj02", "bd09", "wgs84", "cgcs2000"} or None, keyword-only
        Where lon/lat came from: ``"gcj02"`` for coordinates copied from 高德/腾讯
        maps, ``"bd09"`` for 百度 maps; they are converted to WGS84 with
        :mod:`jixi_geo.coords` and recorded in column ``converted_from``. None,
        ``"wgs84"`` or ``"cgcs2000"``: no conversion.
    crs : pyproj CRS input, optional, keyword-only
        The CRS of sources that carry none (CSV, WKT text, a Shapefile without
        ``.prj``). It never relabels: if the source declares a different CRS,
        :class:`~jixi_geo.errors.CRSError` is raised. Without it, zone-prefixed
        Gauss-Kruger eastings (13 000 000–46 000 000 m) give the CGCS2000 GK CRS
        of their zone, and lon/lat in CSV/WKT/DataFrame is taken as EPSG:4490
        (EPSG:4326 with ``coords=``); such an inference is recorded in column
        ``crs_from`` (``"zone prefix"``, ``"assumed lon/lat"``) and stated in the
        results' reasons (:func:`crs_note`). The prefix cannot tell CGCS2000 from
        Beijing 1954 or Xian 1980 Gauss-Kruger: pass ``crs=`` for those.
    id_column : str, optional, keyword-only
        Column holding the site ids (must be unique and non-empty). Default: the
        first of ``site_id``, ``项目编号``, ``编号``, ``id`` whose values are unique
        (``site_id`` must be), else ids ``S0001``, ``S0002`` … by row.
    layer : str or int, optional, keyword-only
        Layer of a multi-layer source (GeoPackage, KML), or the Shapefile of a
        ``.zip`` holding several (its name without ``.shp``); required if there is
        more than one.
    encoding : str, optional, keyword-only
        Text encoding of a CSV, WKT text or Shapefile ``.dbf``. Default: detected
        (UTF-8 with or without BOM, UTF-16 with a BOM, then GB18030/GBK; a
        Shapefile's ``.cpg`` is used if present). UTF-16 without a BOM is
        diagnosed and refused with the encoding to pass (``"utf-16-le"``).
    make_valid : bool, keyword-only
        Repair invalid polygons with :func:`shapely.make_valid` (recorded in
        column ``note``) instead of refusing them.
    cad_layer : str, optional, keyword-only
        DXF only: read these layers (``"红线"``, several as ``"红线,用地红线"``).
    sheet : str or int, optional, keyword-only
        Excel only: the sheet name or 1-based number (default: the first sheet
        with coordinate columns).
    name_column : str, optional, keyword-only
        Column holding the site names. Default: the reader's (部标 地块名称, the
        texts inside a DXF polygon), else the first of ``名称``, ``项目名称``,
        ``地块名称``, ``name``, KML ``Name`` … (``layers/rules/planner_columns.csv``).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4490 (CGCS2000 lon/lat, degrees): the input attributes in input
        order, then ``site_id``, ``site_name`` ("" without a name column),
        ``input_crs``, ``crs_from`` (how the CRS was decided: one of
        :data:`CRS_FROM`), ``converted_from``, ``note`` (what was done and
        decided, including the datum assumed for lon/lat read without
        ``coords=``) and ``geometry`` (2-D). ``attrs["read_sites"]`` records the source, format,
        encoding, CRS and how the CRS was found.

    Raises
    ------
    InputError
        Missing, unreadable or empty source, a format outside the allow-list
        (VRT, GML, Excel …), a Shapefile without ``.shx`` or ``.dbf``, missing
        coordinate columns, non-numeric or NaN coordinates, missing or duplicate
        site ids.
    EncodingError
        Text in none of the tried encodings, or garbled (mojibake).
    CRSError
        No CRS and none can be inferred; ``crs=`` contradicts the file; lon/lat
        swapped; coordinates far (> 1°) outside Jixi, i.e. a wrong CRS or zone.
    InvalidGeometryError
        Null/empty geometries, GeometryCollections, invalid polygons (unless
        ``make_valid=True``).
    SiteProblemsError
        Problems of more than one of the kinds above (an instance of each).

    Every problem found is listed in one error (``err.problems``), by site id.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"编号": ["A1", "A2"], "经度": [131.0, 131.2], "纬度": [45.3, 45.4]})
    >>> sites = read_sites(df)
    >>> sites[["编号", "site_id", "input_crs", "crs_from"]].values.tolist()
    [['A1', 'A1', 'EPSG:4490', 'assumed lon/lat'], ['A2', 'A2', 'EPSG:4490', 'assumed lon/lat']]
    >>> sites.crs.to_epsg()
    4490
    """
    coords_key = _parse_coords(coords)
    given = _parse_crs(crs)
    found = _read_planner.read(source, crs=given, encoding=encoding, cad_layer=cad_layer, sheet=sheet)
    raw = _load(source, layer=layer, encoding=encoding, id_column=id_column) if found is None else _Raw(
        gdf=found.gdf, name=Path(source).name, kind=found.kind, carries_crs=found.gdf.crs is not None,
        encoding=found.encoding, path=Path(source), planner=found)
    return _finish(raw, coords_key=coords_key, given_crs=given, make_valid=make_valid, name_column=name_column,
                   id_column=id_column or (found.id_column if found is not None else None))


def _check_ids_stream(path: Path, spec: _CsvSpec, chunksize: int) -> _CsvSpec:
    """Check the id column over the whole file (one column only) before streaming."""
    if spec.id_col is None:
        return spec
    seen: set[str] = set()
    dups: set[str] = set()
    missing: list[str] = []
    row = 0
    for chunk in pd.read_csv(path, encoding=spec.encoding, sep=spec.sep, usecols=[spec.id_col],
                             dtype=str, chunksize=chunksize):
        for v in chunk[spec.id_col].tolist():
            row += 1
            s = _id_str(v)
            if s is None:
                missing.append(f"row {row}")
            elif s in seen:
                dups.add(s)
            else:
                seen.add(s)
    if not spec.id_explicit:
        if missing or dups:
            log.info("column %r is not a unique id; generating ids", spec.id_col)
            return _CsvSpec(spec.encoding, spec.sep, spec.columns, None, False)
        return spec
    problems = Problems(path.name, mixed=SiteProblemsError, head="found, nothing was read:")
    if missing:
        problems.add(InputError, f"site id column {spec.id_col!r} is empty in {fmt_list(missing)}; "
                                 "give every site an id")
    if dups:
        problems.add(InputError, f"duplicate site ids in column {spec.id_col!r}: "
                                 f"{fmt_list(sorted(dups))}; make them unique, or pass id_column= "
                                 "naming a unique column")
    problems.raise_if_any()
    return spec


def iter_sites_csv(
    path,
    *,
    chunksize: int = 100_000,
    coords: Coords | None = None,
    crs=None,
    id_column: str | None = None,
    encoding: str | None = None,
    make_valid: bool = False,
) -> Iterator[gpd.GeoDataFrame]:
    """Stream a large site CSV as EPSG:4490 GeoDataFrame chunks.

    The file is decoded once to check its encoding (1 MB at a time), the id
    column (if any) is read alone to check it is unique, then the rows are parsed
    ``chunksize`` at a time; only one chunk is in memory at once.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file (lon/lat or WKT columns as for :func:`read_sites`).
    chunksize : int, keyword-only
        Rows per chunk.
    coords, crs, id_column, encoding, make_valid
        As for :func:`read_sites`.

    Yields
    ------
    geopandas.GeoDataFrame
        Each chunk checked and transformed exactly as :func:`read_sites` would;
        the index is the 0-based row number in the file, generated ids continue
        across chunks (``S0001`` is the first data row).

    Raises
    ------
    InputError, EncodingError, CRSError, InvalidGeometryError
        As for :func:`read_sites`. Encoding, header and id problems are raised by
        the call itself; row problems when the chunk holding them is reached.
    """
    if int(chunksize) < 1:
        raise InputError(f"chunksize must be a positive number of rows; got {chunksize!r}")
    coords_key = _parse_coords(coords)
    given = _parse_crs(crs)
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}. Check the path (it is resolved from {Path.cwd()}).")
    spec = _check_ids_stream(path, _csv_spec(path, encoding, id_column), int(chunksize))
    dtype = {spec.id_col: str} if spec.id_col is not None else None
    reader = pd.read_csv(path, encoding=spec.encoding, sep=spec.sep, dtype=dtype,
                         chunksize=int(chunksize))
    spec_id = (spec.id_col, spec.id_explicit) if spec.id_col is not None else (None, False)

    def _chunks() -> Iterator[gpd.GeoDataFrame]:
        offset = 0
        with reader:
            for chunk in reader:
                if len(chunk) == 0:
                    continue
                raw = _frame_to_raw(chunk, name=path.name, kind="csv", id_offset=offset)
                raw.encoding, raw.path = spec.encoding, path
                out = _finish(raw, coords_key=coords_key, given_crs=given, id_column=id_column,
                              make_valid=make_valid, id_offset=offset, spec_id=spec_id)
                offset += len(chunk)
                yield out
        if offset == 0:
            raise InputError(f"{path.name} contains no sites (0 rows); give a CSV with at least one row")

    return _chunks()


def iter_sites_parquet(
    path,
    *,
    chunksize: int = 100_000,
    coords: Coords | None = None,
    crs=None,
    id_column: str | None = None,
    make_valid: bool = False,
) -> Iterator[gpd.GeoDataFrame]:
    """Stream a large (Geo)Parquet file of sites as EPSG:4490 GeoDataFrame chunks.

    Read with pyarrow batch by batch (row group by row group), never whole and
    never through GDAL; the id column (if any) is read alone first to check it is
    unique over the whole file.

    Parameters
    ----------
    path : str or pathlib.Path
        A GeoParquet file (as written by ``GeoDataFrame.to_parquet``), or a plain
        Parquet file with lon/lat or WKT columns as in a CSV.
    chunksize : int, keyword-only
        Rows per chunk (at most; a chunk never spans more than the rows asked for).
    coords, crs, id_column, make_valid
        As for :func:`read_sites`.

    Yields
    ------
    geopandas.GeoDataFrame
        Each chunk checked and transformed exactly as :func:`read_sites` would;
        the index is the 0-based row number in the file, generated ids continue
        across chunks.
    """
    if int(chunksize) < 1:
        raise InputError(f"chunksize must be a positive number of rows; got {chunksize!r}")
    coords_key = _parse_coords(coords)
    given = _parse_crs(crs)
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}. Check the path (it is resolved from {Path.cwd()}).")
    pf, geo = _parquet_meta(path, layer=None, encoding=None)
    if pf.metadata.num_rows == 0:
        raise InputError(f"{path.name} contains no sites (0 rows); give a file with at least one site")
    columns = [c for c in pf.schema_arrow.names if geo is None or c != geo["primary_column"]]
    if geo is None:
        _geometry_columns(columns, path.name)
    spec_id = _check_ids_parquet(pf, path, *_id_source(columns, id_column, path.name))

    def _chunks() -> Iterator[gpd.GeoDataFrame]:
        import pyarrow as pa

        offset = 0
        for batch in pf.iter_batches(batch_size=int(chunksize)):
            if batch.num_rows == 0:
                continue
            raw = _parquet_table_to_raw(pa.Table.from_batches([batch]), geo, name=path.name, path=path,
                                        id_offset=offset)
            raw.gdf.index = pd.RangeIndex(offset, offset + len(raw.gdf))
            out = _finish(raw, coords_key=coords_key, given_crs=given, id_column=id_column,
                          make_valid=make_valid, id_offset=offset, spec_id=spec_id)
            offset += batch.num_rows
            yield out

    return _chunks()


def excel_safe_text(value):
    """``value`` as a CSV cell Excel shows as text: ``'`` before a would-be formula.

    A text (``str``) starting with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a
    leading apostrophe, as OWASP recommends against CSV injection, unless it is
    just a decimal number (``"-12.5"``). Anything else (numbers, missing values)
    is returned unchanged.

    Examples
    --------
    >>> excel_safe_text("=1+2"), excel_safe_text("@SUM(A1)")
    ("'=1+2", "'@SUM(A1)")
    >>> excel_safe_text("-3.5"), excel_safe_text(-3.5), excel_safe_text("鸡西")
    ('-3.5', -3.5, '鸡西')
    """
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv_excel(df: pd.DataFrame, path, *, rounding_precision: int = 9) -> Path:
    """Write a table as UTF-8-with-BOM CSV that Excel opens correctly, atomically.

    Text cells and column names that Excel would run as formulas (starting with
    ``=``, ``+``, ``-``, ``@``, TAB or CR) get a leading ``'`` (see
    :func:`excel_safe_text`); numeric columns are written as numbers, negative
    ones included. Rows end in CRLF (RFC 4180) and any cell holding a CR or LF
    is quoted, so the file reads back with the same rows.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The table; a GeoDataFrame's geometry is written as WKT in column
        ``geometry`` (which :func:`read_sites` reads back).
    path : str or pathlib.Path
        Destination; replaced only once the whole file is written.
    rounding_precision : int, keyword-only
        Decimal places of WKT coordinates (9 = 1e-9 degrees, about 0.1 mm).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputError
        If ``path`` cannot be written (its folder is a file or read-only …).

    Warns
    -----
    JixiGeoWarning
        If a WKT value is longer than Excel's 32 767-character cell limit (Excel
        would truncate it on saving; use a GeoPackage for such geometries).
    """
    out = pd.DataFrame(df).copy()
    if isinstance(df, gpd.GeoDataFrame):
        gname = df.geometry.name
        wkt = shapely.to_wkt(np.asarray(df.geometry.values, dtype=object),
                             rounding_precision=rounding_precision, trim=True)
        out[gname] = wkt
        long_ = [i for i, w in enumerate(wkt) if w is not None and len(w) > _EXCEL_CELL_LIMIT]
        if long_:
            warnings.warn(
                f"{len(long_)} geometries have WKT longer than Excel's {_EXCEL_CELL_LIMIT}-character "
                "cell limit; Excel will cut them if the CSV is saved from Excel. Keep the geometry "
                "in a GeoPackage (gdf.to_file('sites.gpkg')) and use the CSV for viewing only.",
                JixiGeoWarning, stacklevel=2)
    for c in out.columns:
        col = out[c]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)
                or pd.api.types.is_datetime64_any_dtype(col.dtype)):
            out[c] = col.astype(object).map(excel_safe_text)
    out.columns = [excel_safe_text(c) for c in out.columns]
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path
