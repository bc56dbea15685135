"""CSV site tables (``.csv``/``.tsv``): lon/lat or WKT columns, read by pandas, and streamed.

Registered in :mod:`.registry` as the ``csv`` format. :func:`iter_sites_csv`
streams a large file chunk by chunk, checked exactly as :func:`read_sites` would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

from .._gc import paused
from .._problems import Problems, fmt_list
from .._text import text_encoding
from ..errors import InputError
from .base import Raw, SiteProblemsError, csv_sep, frame_to_raw, geometry_columns, id_series, id_source, id_str
from .checks import finish
from .id_hash import id_hashes
from .crs_checks import Coords, stream_start
from .formats import Source

__all__ = ["CsvSpec", "csv_spec", "read", "read_csv", "check_ids_stream", "iter_sites_csv"]

log = logging.getLogger("jixi_geo.sites")


@dataclass
class CsvSpec:
    encoding: str
    sep: str
    columns: list[str]
    id_col: str | None  # the column holding ids, if any
    id_explicit: bool  # whether duplicates there are an error (else fall back to S0001…)


def csv_spec(path: Path, encoding: str | None, id_column: str | None) -> CsvSpec:
    enc = text_encoding(path, encoding)
    sep = csv_sep(path, enc)
    try:
        columns = list(pd.read_csv(path, encoding=enc, sep=sep, nrows=0).columns)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path.name} is empty (no header, no rows); give a CSV with a header line "
                         "and one site per row") from None
    geometry_columns(columns, path.name)
    id_col, explicit = id_source(columns, id_column, path.name)
    return CsvSpec(enc, sep, columns, id_col, explicit)



def read_csv(path: Path, *, encoding, id_column) -> tuple[Raw, CsvSpec]:
    spec = csv_spec(path, encoding, id_column)
    dtype = {spec.id_col: str} if spec.id_col is not None else None
    df = pd.read_csv(path, encoding=spec.encoding, sep=spec.sep, dtype=dtype)
    with paused():
        raw = frame_to_raw(df, name=path.name, kind="csv")
    raw.encoding, raw.path = spec.encoding, path
    return raw, spec


def read(src: Source, *, layer=None, encoding=None, id_column=None) -> Raw:
    """The registry's reader: a CSV the allow-list accepted (``layer`` does not apply)."""
    return read_csv(src.path, encoding=encoding, id_column=id_column)[0]


def _ids_surely_unique(path: Path, spec: CsvSpec, chunksize: int) -> bool:
    """Whether every id of the column is present and distinct, proved by 64-bit hashes read chunk by chunk
    (8 bytes per site); False: look closer (missing or duplicate ids, ids that cannot be hashed so)."""
    hashes = []
    for chunk in pd.read_csv(path, encoding=spec.encoding, sep=spec.sep, usecols=[spec.id_col],
                             dtype=str, chunksize=chunksize):
        vals = id_series(chunk[spec.id_col])
        h = id_hashes(vals) if not vals.isna().any() else None
        if h is None:
            return False
        hashes.append(h)
    return bool(pd.Index(np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64), copy=False).is_unique)


def check_ids_stream(path: Path, spec: CsvSpec, chunksize: int) -> CsvSpec:
    """Check the id column over the whole file (one column only) before streaming."""
    if spec.id_col is None:
        return spec
    if _ids_surely_unique(path, spec, chunksize):  # the common case, without a set of every id
        return spec
    seen: set[str] = set()
    dups: set[str] = set()
    missing: list[str] = []
    row = 0
    for chunk in pd.read_csv(path, encoding=spec.encoding, sep=spec.sep, usecols=[spec.id_col],
                             dtype=str, chunksize=chunksize):
        for v in chunk[spec.id_col].tolist():
            row += 1
            s = id_str(v)
            if s is None:
                missing.append(f"row {row}")
            elif s in seen:
                dups.add(s)
            else:
                seen.add(s)
    if not spec.id_explicit:
        if missing or dups:
            log.info("column %r is not a unique id; generating ids", spec.id_col)
            return CsvSpec(spec.encoding, spec.sep, spec.columns, None, False)
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
    path, chunksize, coords_key, given = stream_start(path, chunksize, coords, crs)
    spec = check_ids_stream(path, csv_spec(path, encoding, id_column), int(chunksize))
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
                with paused():  # one geometry object per row: no cyclic collections meanwhile
                    raw = frame_to_raw(chunk, name=path.name, kind="csv", id_offset=offset)
                raw.encoding, raw.path = spec.encoding, path
                out = finish(raw, coords_key=coords_key, given_crs=given, id_column=id_column,
                              make_valid=make_valid, id_offset=offset, spec_id=spec_id)
                offset += len(chunk)
                yield out
        if offset == 0:
            raise InputError(f"{path.name} contains no sites (0 rows); give a CSV with at least one row")

    return _chunks()
