"""What every site reader shares: the loaded source, column names, ids, WKT and tables.

A reader turns one format into a :class:`Raw` (a GeoDataFrame in the source's
CRS, plus what is known about it); :mod:`.checks` then validates it. The helpers
here are the parts of that job common to several formats: the recognised column
names, building point/WKT geometry from a plain table (CSV, plain Parquet,
DataFrame), and reading site ids.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .._geoarray import trusted
from ..errors import CRSError, InputError, InvalidGeometryError

__all__ = [
    "Raw", "SiteProblemsError", "LON_COLUMNS", "LAT_COLUMNS", "WKT_COLUMNS", "ID_COLUMNS",
    "find_column", "geometry_columns", "parse_wkt", "parse_crs", "frame_to_raw",
    "generated_ids", "id_str", "id_series", "id_source", "csv_sep",
]

log = logging.getLogger("jixi_geo.sites")

#: Column names (case-insensitive) recognised as longitude / easting, first match wins.
LON_COLUMNS = ("longitude", "lon", "lng", "long", "经度", "x")
#: Column names (case-insensitive) recognised as latitude / northing.
LAT_COLUMNS = ("latitude", "lat", "纬度", "y")
#: Column names (case-insensitive) holding WKT geometry; preferred over lon/lat.
WKT_COLUMNS = ("wkt", "geometry", "geom")
#: Column names used as the site id when their values are unique, in this order.
ID_COLUMNS = ("site_id", "项目编号", "编号", "id")


class SiteProblemsError(CRSError, InvalidGeometryError, InputError):
    """Several kinds of problem at once (CRS, geometry, input).

    Raised by :func:`read_sites` when the problems found belong to more than one
    error class; it is an instance of each of them, so ``except CRSError``,
    ``except InvalidGeometryError`` and ``except InputError`` all catch it.
    Every error from :func:`read_sites` carries the list of problem texts in
    its ``problems`` attribute.
    """


@dataclass
class Raw:
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
    # (the default id column, a job reading it) that a reader started while it built the geometries
    # (:func:`jixi_geo.readers.checks.ids_ahead`); the job's result() is (column, ids, surely distinct)
    ids_ahead: Any = None


def generated_ids(positions) -> list[str]:
    return [f"S{p + 1:04d}" for p in positions]


def id_str(v) -> str | None:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    s = str(v).strip()
    return s or None


def id_series(col: pd.Series) -> pd.Series:
    """``id_str`` of every value as a string Series (missing: NA), positional index;
    vectorised for string and integer columns."""
    if pd.api.types.is_integer_dtype(col.dtype) and not col.isna().any():
        out = col.astype("str")
    elif pd.api.types.is_string_dtype(col.dtype):
        st = col.astype("str").str.strip()
        out = st.mask(st == "")
    else:
        out = pd.Series([id_str(v) for v in col.tolist()], dtype="str")
    return out.reset_index(drop=True)



def parse_crs(crs) -> pyproj.CRS | None:
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



def find_column(columns, names) -> str | None:
    lowered = {str(c).strip().lower(): c for c in reversed(list(columns))}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None


def geometry_columns(columns, name: str) -> tuple[str | None, str | None, str | None]:
    """(wkt column, lon column, lat column) of a table, or raise InputError."""
    wkt = find_column(columns, WKT_COLUMNS)
    if wkt is not None:
        return wkt, None, None
    lon, lat = find_column(columns, LON_COLUMNS), find_column(columns, LAT_COLUMNS)
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


def parse_wkt(values, labels) -> tuple[np.ndarray, set[int], dict[int, str]]:
    """Parse WKT/EWKT strings; return geometries, SRIDs seen, {position: problem}."""
    geoms = np.empty(len(values), dtype=object)
    srids: set[int] = set()
    bad: dict[int, str] = {}
    texts: list[str | None] = []
    for v in values:
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
    for i, (t, g) in enumerate(zip(texts, parsed, strict=True)):
        if t is not None and g is None:
            bad[i] = f"{labels[i]}: could not parse the WKT {t[:40]!r}{'…' if len(t) > 40 else ''}"
        geoms[i] = g
    return geoms, srids, bad


def frame_to_raw(df: pd.DataFrame, *, name: str, kind: str, id_offset: int = 0) -> Raw:
    """Build point/WKT geometry from a plain table (CSV chunk or DataFrame)."""
    wkt_col, lon_col, lat_col = geometry_columns(df.columns, name)
    problems: dict[int, str] = {}
    crs = None
    if wkt_col is not None:
        labels = [f"row {id_offset + i + 1}" for i in range(len(df))]
        geoms, srids, problems = parse_wkt(df[wkt_col].tolist(), labels)
        attrs = df.drop(columns=[wkt_col])
        if len(srids) > 1:
            raise CRSError(
                f"{name}: the WKT column mixes SRIDs {sorted(srids)}; give every geometry in "
                "one CRS"
            )
        if srids:
            crs = parse_crs(f"EPSG:{srids.pop()}")
    else:
        xy = []
        for col, what in ((lon_col, "longitude"), (lat_col, "latitude")):
            raw = df[col]
            if raw.dtype == object:
                raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
            num = pd.to_numeric(raw, errors="coerce")
            notnum = num.isna() & raw.notna()
            if notnum.any():  # text only where a value is not a number (turning every number to text is slow)
                notnum &= raw.astype(str) != ""
            for i in np.flatnonzero(notnum.to_numpy()).tolist():
                problems[i] = (
                    f"row {id_offset + i + 1}: {what} {raw.iloc[i]!r} in column {col!r} is not a number; "
                    "write decimal degrees (e.g. 131.25) or metres"
                )
            xy.append(num.to_numpy(dtype=float))
        geoms = shapely.points(xy[0], xy[1])
        for i in problems:
            geoms[i] = None
        attrs = df
    # ``geoms`` were made by shapely above (points or parsed WKT): no per-element check
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(trusted(geoms, crs=crs), index=df.index), crs=crs)
    point_xy = None
    if wkt_col is None and not problems:
        point_xy = np.column_stack(xy)
        point_xy = point_xy if np.isfinite(point_xy).all() else None
    return Raw(gdf=gdf, name=name, kind=kind, carries_crs=crs is not None, row_problems=problems,
                point_xy=point_xy)


def csv_sep(path: Path, encoding: str) -> str:
    """The separator of a delimited text file: the most frequent of , TAB ; | in its first line (default ,)."""
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline()
    counts = {s: first.count(s) for s in (",", "\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def id_source(columns, id_column, name) -> tuple[str | None, bool]:
    if id_column is not None:
        if id_column not in list(columns):
            raise InputError(
                f"id_column={id_column!r} is not a column of {name}; columns are: "
                f"{', '.join(map(str, columns))}. Pass one of them, or id_column=None to use "
                "site_id/项目编号/编号/id or generated ids"
            )
        return id_column, True
    col = find_column(columns, ID_COLUMNS)
    if col is None:
        return None, False
    return col, str(col).strip().lower() == "site_id"

