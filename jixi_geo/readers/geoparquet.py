"""(Geo)Parquet site files, read through pyarrow/geopandas in every path (never GDAL), and streamed.

Registered in :mod:`.registry` as the ``parquet`` format. A GeoParquet file's
geometry column and CRS come from its ``geo`` metadata; a plain Parquet file is
read like a CSV (lon/lat or WKT columns). :func:`iter_sites_parquet` streams a
large file row group by row group. Little-endian 2-D WKB points are decoded
straight from the Arrow buffers (:func:`wkb_points_xy`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .._gc import paused
from .._geoarray import trusted
from .._problems import Problems, fmt_list
from .._text import is_utf8
from ..errors import InputError
from .base import Raw, SiteProblemsError, frame_to_raw, geometry_columns, id_series, id_source
from .checks import finish, ids_ahead
from .id_hash import all_distinct, id_hashes
from .crs_checks import Coords, stream_start
from .formats import Source

__all__ = ["read", "read_parquet", "parquet_meta", "parquet_table_to_raw", "wkb_points_xy", "geoparquet_crs",
           "ids_unique_by_hash", "check_ids_parquet", "iter_sites_parquet", "WKB_POINT_HEAD"]

log = logging.getLogger("jixi_geo.sites")


def parquet_meta(path: Path, *, layer, encoding):
    """The open ``pyarrow.parquet.ParquetFile`` and its GeoParquet ``geo`` metadata (None for plain Parquet)."""
    import json

    import pyarrow.parquet as pq

    if layer is not None:
        raise InputError(f"layer={layer!r} does not apply to {path.name}: a (Geo)Parquet file has one table; "
                         "drop layer=")
    if encoding is not None and not is_utf8(encoding):
        raise InputError(f"encoding={encoding!r} does not apply to {path.name} (Parquet): its text is always "
                         "UTF-8; drop encoding=")
    try:
        # a local file: column chunks read as they are decoded rather than pre-buffered all at once
        # (for a million points 120 instead of 140 MB of new memory, and no slower)
        pf = pq.ParquetFile(path, pre_buffer=False)
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


def parquet_table_to_raw(table, geo: dict | None, *, name: str, path: Path, id_offset: int = 0,
                         ids_early: bool = False) -> Raw:
    """A pyarrow Table (the whole file or one batch) as a loaded source.

    ``ids_early``: start reading the ids (:func:`.checks.ids_ahead`) before the geometries are built
    (a whole file; a streamed batch's ids are proved over the whole file instead)."""
    if geo is None:  # plain Parquet: lon/lat or WKT columns, as in a CSV
        raw = frame_to_raw(table.to_pandas(), name=name, kind="parquet", id_offset=id_offset)
        raw.path, raw.encoding = path, "utf-8"
        return raw
    col = geo["primary_column"]
    meta = geo["columns"][col]
    crs = geoparquet_crs(meta)
    arr = table.column(col)
    df = table.drop_columns([col]).to_pandas()
    # an index stored by pandas comes back as the index: keep it as a column, number rows as other formats do
    df = df.reset_index(drop=isinstance(df.index, pd.RangeIndex))
    if "geometry" in df.columns:
        df = df.rename(columns={"geometry": "geometry_input"})
    ahead = ids_ahead(df, name=name) if ids_early else None
    xy = None
    if str(meta.get("encoding", "WKB")).upper() == "WKB":
        xy = wkb_points_xy(arr)
        with paused():  # a million geometry objects: no cyclic collections meanwhile
            geoms = shapely.points(xy) if xy is not None else shapely.from_wkb(
                np.asarray(arr.to_pandas(), dtype=object))
        gs = gpd.GeoSeries(trusted(geoms, crs=crs))  # shapely's own output: no per-element check
    else:  # native GeoArrow encodings
        with paused():
            gs = gpd.GeoSeries.from_arrow(arr.combine_chunks(), crs=crs)
    gdf = gpd.GeoDataFrame(df, geometry=gs.set_axis(df.index), crs=crs)
    return Raw(gdf=gdf, name=name, kind="geoparquet", carries_crs=True, encoding="utf-8", path=path, point_xy=xy,
               ids_ahead=ahead)


#: A little-endian 2-D WKB point: byte order 1, geometry type 1, then x and y (21 bytes).
WKB_POINT_HEAD = np.array([1, 1, 0, 0, 0], dtype=np.uint8)
#: The same 21 bytes as a packed record, to read a column of them as strided views (no copy).
_WKB_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def wkb_points_xy(arr) -> np.ndarray | None:
    """Coordinates (n, 2) of a WKB column when every value is a finite little-endian 2-D point, else None.

    Reads the Arrow buffers directly, as packed 21-byte records: for a million
    points this takes about 10 ms, a fiftieth of parsing each WKB value with GEOS.
    Anything else (nulls, other geometry types, big-endian, Z, NaN) returns None
    and is parsed by GEOS.
    """
    out = []
    for chunk in arr.chunks:
        n = len(chunk)
        if n == 0:
            continue
        kind = str(chunk.type)
        if chunk.null_count or kind not in ("binary", "large_binary"):
            return None
        _, off_buf, data_buf = chunk.buffers()
        off = np.frombuffer(off_buf, dtype=np.int64 if kind == "large_binary" else np.int32)
        off = off[chunk.offset:chunk.offset + n + 1]
        if not (np.diff(off) == 21).all():
            return None
        rec = np.frombuffer(data_buf, dtype=_WKB_POINT, count=n, offset=int(off[0]))
        if not ((rec["order"] == WKB_POINT_HEAD[0]).all() and (rec["kind"] == 1).all()):
            return None
        xy = np.empty((n, 2))
        xy[:, 0], xy[:, 1] = rec["x"], rec["y"]
        out.append(xy)
    if not out:
        return None
    xy = out[0] if len(out) == 1 else np.concatenate(out)
    return xy if np.isfinite(xy).all() else None


def geoparquet_crs(meta: dict):
    """The CRS of a GeoParquet geometry column: absent means OGC:CRS84 (the specification), null means unknown."""
    if "crs" not in meta:
        return pyproj.CRS.from_user_input("OGC:CRS84")
    if meta["crs"] is None:
        return None
    return pyproj.CRS.from_user_input(meta["crs"])


def read_parquet(path: Path, *, layer, encoding) -> Raw:
    pf, geo = parquet_meta(path, layer=layer, encoding=encoding)
    return parquet_table_to_raw(pf.read(), geo, name=path.name, path=path, ids_early=True)


def ids_unique_by_hash(pf, id_col: str, batch_rows: int = 200_000) -> bool:
    """Whether every id of the column is present and distinct, read batch by batch.

    Only a 64-bit hash of each normalised id is kept (8 bytes per site), so the
    check's memory stays small next to the sites'. Text ids are hashed from their
    Arrow buffers (:func:`.id_hash.id_hashes`); when any batch cannot be (long
    ids, numbers), every batch is hashed by pandas instead: one hash function for
    the whole column, so equal ids in different batches always collide. False
    means "look closer": a missing id, or two equal hashes (a duplicate, or very
    rarely a collision); the exact check then reads the column whole and words the problem.

    Batches are normalised and hashed on two threads while the next ones are read
    (Arrow string kernels and NumPy release the GIL), at most four batches in flight.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    def hashed(batch, fast: bool):
        vals = id_series(batch.column(0).to_pandas())
        if vals.isna().any():
            return _MISSING
        return id_hashes(vals) if fast else pd.util.hash_pandas_object(vals, index=False).to_numpy()

    def in_order(pool, fast: bool):
        """Each batch's hashes (None: not hashable this way; _MISSING: an id is missing), in file order."""
        flight: deque = deque()
        for batch in pf.iter_batches(batch_size=batch_rows, columns=[id_col]):
            flight.append(pool.submit(hashed, batch, fast))
            if len(flight) > 4:
                yield flight.popleft().result()
        while flight:
            yield flight.popleft().result()

    with ThreadPoolExecutor(2) as pool:
        for fast in (True, False):
            hashes: list[np.ndarray] = []
            for h in in_order(pool, fast):
                if h is _MISSING:
                    return False
                if h is None:
                    break
                hashes.append(h)
            else:
                return all_distinct(np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64), in_place=True)
    raise AssertionError("unreachable: pandas hashes every batch")  # pragma: no cover


#: A batch with a missing id (:func:`ids_unique_by_hash`).
_MISSING = object()


def check_ids_parquet(pf, path: Path, id_col: str | None, explicit: bool) -> tuple[str | None, bool]:
    """Check the id column over the whole file (that column only) before streaming."""
    if id_col is None:
        return None, False
    if ids_unique_by_hash(pf, id_col):  # the common case, in memory of 8 bytes per site
        return id_col, explicit
    vals = id_series(pf.read(columns=[id_col]).column(id_col).to_pandas())
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




def read(src: Source, *, layer=None, encoding=None, id_column=None) -> Raw:
    """The registry's reader: a (Geo)Parquet file the allow-list accepted."""
    return read_parquet(src.path, layer=layer, encoding=encoding)


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
    path, chunksize, coords_key, given = stream_start(path, chunksize, coords, crs)
    pf, geo = parquet_meta(path, layer=None, encoding=None)
    if pf.metadata.num_rows == 0:
        raise InputError(f"{path.name} contains no sites (0 rows); give a file with at least one site")
    columns = [c for c in pf.schema_arrow.names if geo is None or c != geo["primary_column"]]
    if geo is None:
        geometry_columns(columns, path.name)
    spec_id = check_ids_parquet(pf, path, *id_source(columns, id_column, path.name))

    def _chunks() -> Iterator[gpd.GeoDataFrame]:
        import pyarrow as pa

        offset = 0
        for batch in pf.iter_batches(batch_size=int(chunksize)):
            if batch.num_rows == 0:
                continue
            raw = parquet_table_to_raw(pa.Table.from_batches([batch]), geo, name=path.name, path=path,
                                        id_offset=offset)
            raw.gdf.index = pd.RangeIndex(offset, offset + len(raw.gdf))
            out = finish(raw, coords_key=coords_key, given_crs=given, id_column=id_column,
                          make_valid=make_valid, id_offset=offset, spec_id=spec_id)
            offset += batch.num_rows
            yield out

    return _chunks()
