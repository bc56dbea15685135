"""Checking many sites: streamed files with resumable output, and dask partitions.

- :func:`check_file` streams a large CSV or (Geo)Parquet file in chunks (Parquet
  batch by batch with pyarrow, never whole), reads any other format
  :func:`jixi_geo.read_sites` accepts whole (DXF and Excel included), checks each
  chunk with :func:`jixi_geo.check_sites` and writes each result chunk as its own
  GeoParquet part file, atomically (a streamed file's next chunk is read, and
  the last part written, on second threads meanwhile). An interrupted run keeps every
  finished part; running it again with the same input and options resumes after
  the last finished part.
- :func:`check_sites_dask` maps :func:`jixi_geo.check_sites` over the partitions of
  a dask-geopandas GeoDataFrame, so a ``dask.distributed`` cluster runs the same
  fast path on each partition, unchanged. Importing this module registers it with
  :func:`jixi_geo.options.register_partitioned`, so ``check_sites(dask_gdf)`` is
  lazy too: the dispatch lives here, and :mod:`jixi_geo.redline` (which this
  module imports) never imports this one.

Both accept every option of :func:`jixi_geo.check_sites`, the read options of
:class:`jixi_geo.options.ReadOptions` included.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from . import redline
from ._io import atomic_path, file_sha256, output_dir, write_text_atomic
from ._zones import zones_sha256
from .errors import InputError
from .options import ReadOptions, register_partitioned, with_read_options_doc
from .controls import load_controls
from .controls.verdicts import controls_attrs
from .sites import read_sites

__all__ = ["check_file", "check_sites_dask", "read_results", "plain_results"]

log = logging.getLogger(__name__)

#: Default number of sites per chunk of :func:`check_file` (one GeoParquet part each):
#: large enough for the vectorised kernels, small enough to bound the memory of one chunk.
CHUNK_SITES = 200_000
#: Formats streamed chunk by chunk; any other format read_sites accepts is read whole, then checked in chunks.
STREAMED_SUFFIXES = (".csv", ".tsv", ".parquet", ".geoparquet")
#: Read options each streaming reader takes (by suffix); given any other, the file is read whole by
#: :func:`jixi_geo.read_sites`, which applies or refuses it exactly as :func:`jixi_geo.check_sites` does.
STREAMED_OPTIONS = {
    ".csv": ("coords", "crs", "id_column", "encoding", "make_valid"),
    ".tsv": ("coords", "crs", "id_column", "encoding", "make_valid"),
    ".parquet": ("coords", "crs", "id_column", "make_valid"),
    ".geoparquet": ("coords", "crs", "id_column", "make_valid"),
}


def plain_results(res: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Results with categorical columns turned into plain strings (stable schema across chunks)."""
    out = res.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            cat = out[c].array
            if pd.api.types.is_string_dtype(cat.categories.dtype) and not cat.isna().any():
                # a take from the categories (vectorised), the same values as astype(str)
                out[c] = pd.Series(cat.categories.astype(str).array.take(cat.codes), index=out.index)
            else:
                out[c] = out[c].astype(str)
    return out


def _write_part(res: gpd.GeoDataFrame, path: Path) -> None:
    """One result chunk as GeoParquet with the same schema in every part.

    Text columns are written dictionary-encoded with 32-bit indices and string
    values whatever the chunk (a million rows share a few dozen rule texts, so
    this is several times smaller and faster than plain strings); they read
    back as categoricals. Statistics are written for the numeric columns only
    (the text columns' would double the writing time and serve no reader).
    Without geopandas' Arrow writer (a private function), plain strings are
    written instead.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from geopandas.io.arrow import _geopandas_to_arrow

        try:
            table = _points_table(res)
        except (ValueError, KeyError, pa.ArrowException) as e:  # an unusual table: geopandas' own writer decides
            log.debug("points fast path not taken (%s); writing through geopandas", e)
            table = None
        if table is None:
            table = _geopandas_to_arrow(res, index=False)
    except (ImportError, TypeError):  # pragma: no cover - other geopandas versions
        plain_results(res).to_parquet(path)
        return
    stable = pa.dictionary(pa.int32(), pa.string())
    fields = [pa.field(f.name, stable) if pa.types.is_dictionary(f.type) else f for f in table.schema]
    numeric = [f.name for f in table.schema if pa.types.is_floating(f.type) or pa.types.is_integer(f.type)]
    pq.write_table(table.cast(pa.schema(fields, metadata=table.schema.metadata)), path, write_statistics=numeric)


#: A little-endian 2-D WKB point as a packed record (byte order, geometry type, x, y: 21 bytes).
_WKB_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _points_table(res: gpd.GeoDataFrame):
    """The Arrow table geopandas writes for ``res``, made without GEOS when every geometry is a 2-D point.

    The WKB of a 2-D point is 21 fixed bytes around its coordinates, so the
    geometry column is built from the coordinate array in one NumPy step
    (``shapely.to_wkb`` takes most of the writing time otherwise); the schema
    and its GeoParquet metadata are geopandas' own for the first row, with the
    bounding box of the whole chunk. None when the geometries are anything else.
    """
    import pyarrow as pa
    import shapely
    from geopandas.io.arrow import _geopandas_to_arrow

    geom = res.geometry.name
    if len(res) == 0 or list(res.columns).count(geom) != 1 or sum(
            isinstance(t, gpd.array.GeometryDtype) for t in res.dtypes) != 1:
        return None
    values = res.geometry.values
    g = np.asarray(values, dtype=object)
    if not ((shapely.get_type_id(g) == 0).all() and not shapely.has_z(g).any()):
        return None
    xy = shapely.get_coordinates(g)
    if len(xy) != len(g) or not np.isfinite(xy).all():
        return None
    rec = np.empty(len(xy), dtype=_WKB_POINT)
    rec["order"], rec["kind"], rec["x"], rec["y"] = 1, 1, xy[:, 0], xy[:, 1]
    offsets = np.arange(len(xy) + 1, dtype=np.int32) * _WKB_POINT.itemsize
    wkb = pa.Array.from_buffers(pa.binary(), len(xy), [None, pa.py_buffer(offsets), pa.py_buffer(rec)])
    sample = _geopandas_to_arrow(res.iloc[:1], index=False)
    meta = dict(sample.schema.metadata)
    geo = json.loads(meta[b"geo"])
    if geo.get("columns", {}).get(geom, {}).get("encoding") != "WKB" or "bbox" not in geo["columns"][geom]:
        return None
    geo["columns"][geom]["bbox"] = [float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()),
                                    float(xy[:, 1].max())]
    meta[b"geo"] = json.dumps(geo).encode()
    attrs = pa.Table.from_pandas(pd.DataFrame(res.drop(columns=[geom])), preserve_index=False)
    arrays = []
    for f in sample.schema:
        if f.name == geom:
            arrays.append(wkb.cast(f.type) if f.type != pa.binary() else wkb)
            continue
        col = attrs.column(f.name)
        if pa.types.is_dictionary(f.type):  # categories of the whole chunk; the sample's index width may differ
            col = col.cast(pa.dictionary(pa.int32(), f.type.value_type))
            f = pa.field(f.name, col.type, f.nullable, f.metadata)
        arrays.append(col)
    fields = [pa.field(f.name, a.type, f.nullable, f.metadata) for f, a in zip(sample.schema, arrays, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))


def _why_read_whole(src: Path, read: ReadOptions) -> str | None:
    """Why ``src`` is read whole rather than streamed (None: it is streamed)."""
    takes = STREAMED_OPTIONS.get(src.suffix.lower())
    if takes is None:
        return "its format is not streamed"
    other = [k for k in read.given() if k not in takes]
    return f"the streaming reader does not take {', '.join(other)}" if other else None


def _chunks(src: Path, *, chunksize: int, read: ReadOptions, whole=None) -> Iterator[gpd.GeoDataFrame]:
    """The sites of ``src`` chunk by chunk: streamed (CSV, Parquet), or ``whole`` (read already) cut into chunks.

    The streaming readers check the options, the encoding, the header and the ids
    when called, so a refused input raises here, before any output is written.
    """
    from .sites import iter_sites_csv, iter_sites_parquet

    if whole is not None:
        return (whole.iloc[start:start + chunksize] for start in range(0, len(whole), chunksize))
    streamed = {k: v for k, v in read.kwargs().items() if k in STREAMED_OPTIONS[src.suffix.lower()]}
    stream = iter_sites_csv if src.suffix.lower() in (".csv", ".tsv") else iter_sites_parquet
    return stream(src, chunksize=chunksize, **streamed)


_END = object()


def _check_chunk(chunk: gpd.GeoDataFrame, check_kw: dict, *, streamed: bool) -> gpd.GeoDataFrame:
    """check_sites of one chunk; a streamed chunk, straight from its reader, lends the check
    the coordinates the reader read (:func:`jixi_geo.readers.checks.take_coords`: no second pass
    over the geometries)."""
    from contextlib import nullcontext

    with redline.fresh_from_reader(chunk) if streamed else nullcontext():
        return redline.check_sites(chunk, **check_kw)


def _read_ahead(chunks: Iterator[gpd.GeoDataFrame]) -> Iterator[gpd.GeoDataFrame]:
    """The chunks of a streaming reader, the next one read on a second thread while this one is checked.

    Arrow's reading and decoding release the GIL, so they overlap the check; at most
    one chunk waits (memory stays bounded). A reader's error is raised when the
    chunk it was reading is asked for, as without read-ahead: the parts before it
    are written, none after.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="jixi-geo-read") as pool:
        pending = pool.submit(next, chunks, _END)
        while True:
            chunk = pending.result()
            if chunk is _END:
                return
            pending = pool.submit(next, chunks, _END)
            yield chunk


@with_read_options_doc
def check_file(src, out, *, chunksize: int = CHUNK_SITES, resume: bool = True, progress: bool | None = None,
               activity: str | None = None, zones=None, buffer_m: float = 1000.0, tolerance_ha: float = 0.01,
               search_m: float = 10_000.0, zones_layer: str | None = None,
               method: Literal["fast", "reference"] = "fast",
               coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | None = None, crs=None,
               id_column: str | None = None, layer: str | int | None = None, encoding: str | None = None,
               make_valid: bool = False, cad_layer: str | None = None, sheet: str | int | None = None,
               name_column: str | None = None, controls=None) -> Path:
    """Check a large site file chunk by chunk into a folder of GeoParquet parts (or one GeoPackage).

    Parameters
    ----------
    src : path
        A file of sites: CSV and (Geo)Parquet are streamed (never read whole:
        memory stays bounded by ``chunksize``); any other format
        :func:`jixi_geo.read_sites` accepts (GeoPackage, Shapefile, GeoJSON, DXF,
        Excel …) is read whole before any output is written, then checked chunk by
        chunk. A CSV or Parquet file is read whole too when a read option its
        streaming reader does not take is given (:data:`STREAMED_OPTIONS`; e.g.
        ``name_column``), so every option means what it means in
        :func:`jixi_geo.check_sites`.
    out : path
        The output folder (e.g. ``results.parquet``); it receives ``part-00000.parquet``,
        ``part-00001.parquet`` … and ``_manifest.json``. Read it back with :func:`read_results`.
        A name ending in ``.gpkg`` writes one GeoPackage instead (layer ``results``,
        chunk by chunk into a temporary file moved into place at the end; no resume).
    chunksize : int
        Sites per chunk.
    resume : bool
        Skip the parts a previous run with the same input and options finished.
    progress : bool, optional
        Show a progress bar (default: when standard error is a terminal).
    activity, zones, buffer_m, tolerance_ha, search_m, zones_layer, method
        As in :func:`jixi_geo.check_sites`.
    {read_options}
    controls : mapping, Controls or path, optional
        As in :func:`jixi_geo.check_sites`: read once, then used for every chunk; their
        checksums are part of what a resumed run must match.

    Returns
    -------
    pathlib.Path
        The output folder (or GeoPackage).
    """
    from .readers import registry as _formats
    from ._args import amount

    buffer_m = amount(buffer_m, name="buffer_m")
    tolerance_ha = amount(tolerance_ha, name="tolerance_ha", unit="ha")
    search_m = amount(search_m, name="search_m")
    if method not in ("fast", "reference"):
        raise InputError(f"method {method!r} is not known; use 'fast' or 'reference'")
    read = ReadOptions(coords=coords, crs=crs, id_column=id_column, layer=layer, encoding=encoding,
                       make_valid=make_valid, cad_layer=cad_layer, sheet=sheet, name_column=name_column)
    src = Path(src)
    whole = None
    why = _why_read_whole(src, read)
    if why is not None:
        # read whole (any format read_sites takes): missing or refused inputs raise before any output
        log.info("%s is read whole: %s", src.name, why)
        whole = read_sites(src, **read.kwargs())
    else:
        src = _formats.identify(src).path  # missing or refused inputs: InputError before any output
    if zones is not None and not isinstance(zones, gpd.GeoDataFrame):
        zones = redline.validate_zones(zones, layer=zones_layer)
    out = Path(out)
    ctl = load_controls(controls)
    check_kw = {"activity": activity, "zones": zones, "buffer_m": buffer_m, "tolerance_ha": tolerance_ha,
                "search_m": search_m, "method": method, **({} if ctl is None else {"controls": ctl})}
    chunks = _chunks(src, chunksize=chunksize, read=read, whole=whole)
    if whole is None:
        chunks = _read_ahead(chunks)
    if out.suffix.lower() == ".gpkg":
        output_dir(out.parent)  # an unwritable place: OutputError before any work
        return _check_to_gpkg(out, chunks=chunks, progress=progress, check_kw=check_kw, streamed=whole is None)
    out = output_dir(out)
    zones_key = "bundled" if zones is None else zones_sha256(zones)
    options = {"chunksize": chunksize, "activity": activity, "zones": zones_key, "buffer_m": buffer_m,
               "tolerance_ha": tolerance_ha, "search_m": search_m, "coords": coords, "crs": str(crs),
               "id_column": id_column, "encoding": encoding, "make_valid": make_valid, "layer": layer}
    # the options added later are recorded only when given, so the manifests of earlier runs still resume
    options.update({k: v for k, v in {**read.given(), "method": method}.items()
                    if k not in options and v != "fast"})
    if ctl is not None:
        options["controls"] = "; ".join(f"{r['role']}={r['sha256']}" for r in controls_attrs(ctl))
    ident = {"source": str(src.resolve()), "source_sha256": file_sha256(src), "options": options}
    mpath = out / "_manifest.json"
    done: list[int] = []
    if resume and mpath.exists():
        old = json.loads(mpath.read_text(encoding="utf-8"))
        if {k: old.get(k) for k in ident} == ident:
            done = [i for i in old.get("done", []) if (out / f"part-{i:05d}.parquet").exists()]
            log.info("resuming: %d part(s) already done", len(done))
    if not done:
        # first say that nothing is done, then remove the parts of an earlier run
        write_text_atomic(mpath, json.dumps({**ident, "done": []}, ensure_ascii=False, indent=1))
        for old_part in out.glob("part-*.parquet"):
            old_part.unlink()
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(unit=" sites", desc="checking", file=sys.stderr)

    def finish_part(i: int, res: gpd.GeoDataFrame, n: int) -> None:
        # the part, then the manifest naming it: an interrupted run never lists a part it did not finish
        with atomic_path(out / f"part-{i:05d}.parquet") as tmp:
            _write_part(res, tmp)
        done.append(i)
        write_text_atomic(mpath, json.dumps({**ident, "done": sorted(done)}, ensure_ascii=False, indent=1))
        if bar is not None:
            bar.update(n)

    # each part is written on a second thread while the next chunk is read and checked (Parquet
    # encoding and file writes release the GIL); at most one part waits, so memory stays bounded
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as writer:
        pending = None
        for i, chunk in enumerate(chunks):
            if i in done:
                if bar is not None:
                    bar.update(len(chunk))
                continue
            res = _check_chunk(chunk, check_kw, streamed=whole is None)
            if pending is not None:
                pending.result()  # re-raises a failed write before more work is done
            pending = writer.submit(finish_part, i, res, len(chunk))
            del res, chunk
        if pending is not None:
            pending.result()
    if bar is not None:
        bar.close()
    write_text_atomic(mpath, json.dumps({**ident, "done": sorted(done), "complete": True}, ensure_ascii=False,
                                        indent=1))
    return out


def _check_to_gpkg(out: Path, *, chunks, progress, check_kw, streamed: bool) -> Path:
    """check_file into one GeoPackage: chunks appended to a temporary file, moved into place at the end."""
    import pyogrio

    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(unit=" sites", desc="checking", file=sys.stderr)
    with atomic_path(out) as tmp:
        for i, chunk in enumerate(chunks):
            res = plain_results(_check_chunk(chunk, check_kw, streamed=streamed))
            pyogrio.write_dataframe(res, tmp, layer="results", driver="GPKG", append=i > 0)
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return out


def result_verdicts(out) -> pd.Series:
    """The ``verdict`` column of :func:`check_file`'s output, read alone (strings)."""
    out = Path(out)
    if out.suffix.lower() == ".gpkg" and out.is_file():
        import pyogrio

        return pyogrio.read_dataframe(out, layer="results", columns=["verdict"], read_geometry=False)[
            "verdict"].astype(str)
    import pyarrow.parquet as pq

    return pq.read_table(out, columns=["verdict"]).column("verdict").to_pandas().astype(str)


def read_results(out) -> gpd.GeoDataFrame:
    """Read the parts written by :func:`check_file` (or its GeoPackage), in input order (text as strings).

    Raises
    ------
    InputError
        If the run that writes ``out`` has not finished (its ``_manifest.json``
        is missing or not marked complete), or the part files differ from those
        the manifest lists: a partial result is never read as a whole one.
    """
    out = Path(out)
    if out.suffix.lower() == ".gpkg" and out.is_file():  # moved into place only when complete
        import pyogrio

        return pyogrio.read_dataframe(out, layer="results")
    mpath = out / "_manifest.json"
    if not mpath.is_file():
        raise InputError(f"{out} 中没有 _manifest.json，不是 check_file 的完整输出；请运行 jixi_geo.check_file。 "
                         f"{out} has no _manifest.json, so it is not a finished check_file output; run "
                         "jixi_geo.check_file first")
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    done = sorted(manifest.get("done", []))
    if not manifest.get("complete"):
        raise InputError(f"写入 {out} 的检查尚未完成（已完成 {len(done)} 块）；请用相同输入和选项再次运行 "
                         f"check_file 以续算。 The check writing {out} has not finished ({len(done)} "
                         "chunk(s) done); run check_file again with the same input and options to resume")
    expected = [f"part-{i:05d}.parquet" for i in done]
    parts = sorted(out.glob("part-*.parquet"))
    if [p.name for p in parts] != expected:
        raise InputError(f"{out} 中的结果分块与 _manifest.json 不符；请重新运行 check_file。 The part files in "
                         f"{out} differ from those _manifest.json lists; run check_file again")
    if not parts:
        raise InputError(f"no result parts in {out}; run jixi_geo.check_file first")
    return plain_results(pd.concat([gpd.read_parquet(p) for p in parts], ignore_index=True))


def check_sites_dask(ddf, **kw):
    """:func:`jixi_geo.check_sites` over the partitions of a dask-geopandas GeoDataFrame.

    Each partition is checked with the same fast path; the result keeps the
    input's index (as :func:`jixi_geo.check_sites` does) and is a lazy
    dask-geopandas GeoDataFrame (call ``.compute()`` or write it with
    ``.to_parquet``). The sites need a unique ``site_id`` column (or ``id_column=``):
    generated ids would repeat from one partition to the next. ``kw`` are the
    keywords of :func:`jixi_geo.check_sites`, read options included.

    To run on a cluster, create a ``dask.distributed.Client`` pointing at the
    scheduler first (``Client("tcp://scheduler:8786")``); every worker needs
    jixi_geo installed. Nothing else changes.
    """
    idc = kw.get("id_column") or "site_id"
    if idc not in ddf.columns:
        raise InputError(f"partitioned sites need a unique id column ({idc!r} not found): generated ids would "
                         "repeat across partitions; add a site_id column or pass id_column=")
    if kw.get("method", "fast") != "fast":
        raise InputError("check_sites_dask runs the fast kernel only")

    def run(part):
        if len(part) == 0:
            return meta.iloc[:0]
        return plain_results(redline.check_sites(part, **kw))

    meta = plain_results(redline.check_sites(ddf.partitions[0].head(1), **kw)).iloc[:0]
    return ddf.map_partitions(run, meta=meta)


def _is_dask_frame(sites) -> bool:
    """Whether ``sites`` is a dask-geopandas (lazy, partitioned) frame; imports nothing."""
    return type(sites).__module__.startswith("dask_geopandas")


register_partitioned(_is_dask_frame, check_sites_dask)
