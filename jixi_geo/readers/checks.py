"""Site validation: ids, geometry, and the assembled result of every reader.

:func:`finish` turns a loaded source (:class:`~.base.Raw`) into the checked
EPSG:4490 GeoDataFrame that :func:`~jixi_geo.sites.read_sites` returns. Each check
is a small function that adds what it finds to the one
:class:`~jixi_geo._problems.Problems` list, so a file's problems are reported
together in one error:

- :func:`resolve_ids` (missing and duplicate ids; run on a second thread for
  large inputs, see :class:`Background`);
- :func:`check_missing`, :func:`check_finite`, :func:`check_collections`,
  :func:`drop_z`, :func:`check_valid` (geometry);
- the CRS and location checks of :mod:`.crs_checks`.
"""

from __future__ import annotations

import logging
import threading
import weakref

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .._problems import Problems, fmt_list
from .._geoarray import trusted
from ..crs import STORAGE_CRS, KnownCoords
from ..errors import InputError, InvalidGeometryError
from . import planner_formats
from .id_hash import surely_distinct
from .base import Raw, SiteProblemsError, generated_ids, id_series, id_source
from .crs_checks import crs_label, locate, resolve_crs

__all__ = ["OUT_COLUMNS", "Ids", "resolve_ids", "check_missing", "check_finite", "check_collections", "drop_z",
           "check_valid", "note_column", "constant", "Background", "BACKGROUND_MIN", "finish", "take_coords",
           "ids_ahead"]

log = logging.getLogger("jixi_geo.sites")

#: The columns every read adds after the input's attributes (before ``geometry``).
OUT_COLUMNS = ("site_id", "input_crs", "crs_from", "converted_from", "note")
#: Inputs at least this large check their ids on a second thread.
BACKGROUND_MIN = 100_000


class Ids:
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


def ids_ahead(df: pd.DataFrame, *, name: str) -> tuple[object, Background] | None:
    """Start reading the ids of ``df``'s default id column (:func:`~.base.id_source` without
    ``id_column``) on a second thread, for :func:`resolve_ids`: (the column, the job); None if
    it has none.

    A reader calls this with the sites' attributes as they will be read, before it builds
    a million geometries: the ids are then ready when :func:`finish` asks for them. The job's
    ``result()`` gives (the column, its :func:`~.base.id_series`, whether they are surely distinct).
    """
    col, _ = id_source([c for c in df.columns if c != "geometry"], None, name)
    if col is None:
        return None
    return col, Background(_read_ids, df[col], col, thread=len(df) >= BACKGROUND_MIN)


def _read_ids(column: pd.Series, name) -> tuple[object, pd.Series, bool]:
    vals = id_series(column)
    absent = vals.isna().to_numpy()
    return name, vals, surely_distinct(vals[~absent] if absent.any() else vals)


def resolve_ids(gdf, *, id_column, name, problems: Problems, id_offset: int = 0,
                 spec_id: tuple[str | None, bool] | None = None,
                 reported=(), ahead: tuple[object, Background] | None = None) -> tuple[pd.Series, str | None]:
    """Site ids as a string Series (positional index), and the column they came
    from (None if generated). ``ahead``: the reader's :func:`ids_ahead` (column, job), whose
    result is used when it reads the column chosen here (and not waited for otherwise)."""
    n = len(gdf)
    positions = range(id_offset, id_offset + n)
    col, explicit = spec_id if spec_id is not None else id_source(
        [c for c in gdf.columns if c != "geometry"], id_column, name)
    if col is None:
        return pd.Series(generated_ids(positions), dtype="str"), None
    read = ahead[1].result() if ahead is not None and spec_id is None and ahead[0] == col else None
    if read is not None and read[0] == col and len(read[1]) == n:
        _, vals, distinct = read
    else:
        vals, distinct = id_series(gdf[col]), None
    absent = vals.isna().to_numpy()
    if spec_id is not None and not absent.any():
        return vals, col  # a stream's chunk: the streaming reader proved the whole column present and distinct
    skip = {p + id_offset for p in reported}  # rows whose problem is already reported
    missing = [f"row {p + 1}" for p in np.flatnonzero(absent) + id_offset if p not in skip]
    present = vals[~absent] if absent.any() else vals
    if distinct is None:
        distinct = surely_distinct(present)
    dups = [] if distinct or present.is_unique else sorted(set(present[present.duplicated()]))
    if not explicit and (missing or dups):
        log.info("column %r is not a unique id (%d missing, %d duplicated); generating ids",
                 col, len(missing), len(dups))
        return pd.Series(generated_ids(positions), dtype="str"), None
    if missing:
        problems.add(InputError, f"site id column {col!r} is empty in {fmt_list(missing)}; "
                                 "give every site an id")
    if dups:
        problems.add(InputError, f"duplicate site ids in column {col!r}: {fmt_list(dups)}; "
                                 "make them unique, or pass id_column= naming a unique column")
    if absent.any():
        vals = vals.copy()
        vals[absent] = generated_ids(np.flatnonzero(absent) + id_offset)
    return vals, col


def check_missing(absent: np.ndarray, parsed_bad: np.ndarray, ids, problems: Problems) -> None:
    """Record sites without geometry (null or empty), except rows whose parse problem is already reported."""
    missing = absent & ~parsed_bad
    if missing.any():
        problems.add(InvalidGeometryError, (
            f"sites without geometry (null or empty): {fmt_list(ids[missing])}; give each site a "
            "point, line or polygon, or remove those rows"))


def check_finite(present: np.ndarray, xy: np.ndarray, geoms: np.ndarray, ids, problems: Problems) -> np.ndarray:
    """Record sites with a NaN or infinite coordinate; returns their mask.

    ``xy`` holds the coordinates of the ``present`` sites of ``geoms``, in order, as
    :func:`shapely.get_coordinates` gives them. Only when one of them is not finite
    are the coordinates read again with their site (the usual file has none).
    """
    n = len(present)
    nonfinite = np.zeros(n, dtype=bool)
    if np.isfinite(xy).all():
        return nonfinite
    xy, where = shapely.get_coordinates(geoms[present], return_index=True)
    fine = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
    nonfinite[np.flatnonzero(present)[np.unique(where[~fine])]] = True
    if nonfinite.any():
        problems.add(InputError, (
            f"sites with missing, NaN or infinite coordinates: {fmt_list(ids[nonfinite])}; fill "
            "in the coordinates (decimal degrees or metres) or remove those rows"))
    return nonfinite


def check_collections(present: np.ndarray, type_id: np.ndarray, ids, problems: Problems) -> np.ndarray:
    """Record GeometryCollections (not supported); returns their mask."""
    gc = present & (type_id == 7)
    if gc.any():
        problems.add(InvalidGeometryError, (
            f"GeometryCollection is not supported (sites {fmt_list(ids[gc])}); explode it into "
            "one feature per part, e.g. gdf.explode(index_parts=False), or keep only the polygons"))
    return gc


def drop_z(geoms: np.ndarray, hz: np.ndarray, notes: dict[int, list[str]]) -> None:
    """Make the sites ``hz`` 2-D in place, noting those whose Z was not all 0."""
    if not hz.any():
        return
    for i in np.flatnonzero(hz).tolist():
        z = shapely.get_coordinates(geoms[i], include_z=True)[:, 2]
        if np.any(np.nan_to_num(z) != 0):
            notes.setdefault(i, []).append("Z coordinates dropped")
    geoms[hz] = shapely.force_2d(geoms[hz])


def check_valid(geoms: np.ndarray, ok: np.ndarray, valid: np.ndarray, ids, *, make_valid: bool,
                notes: dict[int, list[str]], problems: Problems) -> np.ndarray:
    """Record invalid polygons, or repair them in place with ``make_valid``; returns the
    updated ``ok`` mask (sites still fit to transform)."""
    invalid = ok & ~valid
    if not invalid.any():
        return ok
    reasons = shapely.is_valid_reason(geoms[invalid])
    if make_valid:
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        geoms[invalid] = fixed
        for i, r in zip(np.flatnonzero(invalid).tolist(), reasons, strict=True):
            notes.setdefault(i, []).append(f"geometry repaired with make_valid ({r})")
        still = np.flatnonzero(invalid)[shapely.is_empty(fixed)]
        if len(still):
            problems.add(InvalidGeometryError, (
                f"sites {fmt_list(ids[still])} collapse to nothing when repaired (zero "
                "area); redraw them"))
            ok[still] = False
        return ok
    listed = [f"{s}: {r}" for s, r in zip(ids[invalid], reasons, strict=True)]
    problems.add(InvalidGeometryError, (
        f"invalid geometries: {fmt_list(listed)}. Redraw them, or pass make_valid=True to "
        "repair them with shapely.make_valid (the repair is recorded in column 'note')"))
    return ok & ~invalid


def note_column(notes: dict[int, list[str]], n: int) -> pd.Categorical:
    """The ``note`` column: "" for most sites, the joined notes for the others."""
    labels = {"": 0}
    codes = np.zeros(n, dtype=np.int64)
    for i, texts in notes.items():
        codes[i] = labels.setdefault("; ".join(texts), len(labels))
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(labels), dtype="str"))


def constant(value: str, n: int) -> pd.Categorical:
    """A column holding ``value`` in every row (a one-category categorical)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([value], dtype="str"))



class Background:
    """``fn(*args, **kw)`` on a thread (or inline when ``thread`` is false); ``result()``
    waits for it and re-raises its exception."""

    def __init__(self, fn, *args, thread: bool, **kw):
        self._value = self._error = None
        self._thread: threading.Thread | None
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


def _measure(raw: Raw, geoms: np.ndarray, parsed_bad: np.ndarray):
    """(absent, present, xy, type_id, has_z, valid) of the geometries, from GEOS, or from
    the coordinates a reader built 2-D points from (nothing to ask GEOS then); ``valid`` is
    a job whose ``result()`` is the validity array (computed on a second thread for large inputs)."""
    n = len(geoms)
    if raw.point_xy is not None and len(raw.point_xy) == n and not raw.row_problems:
        absent = np.zeros(n, dtype=bool)
        valid = Background(np.logical_not, absent, thread=False)  # known at once: every point is valid
        return absent, ~absent, raw.point_xy, np.zeros(n, dtype=np.int32), absent, valid
    # GEOS validity (the costliest measure) releases the GIL: large inputs run it on a
    # second thread while this one reads the coordinates and checks the rest, which hold the GIL;
    # it gets its own copy of the array, which drop_z may change meanwhile
    big = n >= BACKGROUND_MIN
    valid = Background(shapely.is_valid, geoms.copy() if big else geoms, thread=big)
    absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = ~absent & ~parsed_bad
    xy = shapely.get_coordinates(geoms[present])  # the sites' own, later with return_index if one is NaN
    return absent, present, xy, shapely.get_type_id(geoms), shapely.has_z(geoms), valid


def finish(raw: Raw, *, coords_key: str, given_crs: pyproj.CRS | None, id_column,
           make_valid: bool, id_offset: int = 0,
           spec_id: tuple[str | None, bool] | None = None, name_column: str | None = None) -> gpd.GeoDataFrame:
    """Validate, convert and transform a loaded source; raise one error listing all problems.

    Parameters
    ----------
    raw : Raw
        The source as a reader loaded it.
    coords_key : str
        ``"gcj02"``, ``"bd09"`` or ``""`` (from :func:`~.crs_checks.parse_coords`).
    given_crs : pyproj.CRS or None
        The ``crs=`` argument.
    id_column, make_valid, name_column
        As for :func:`~jixi_geo.sites.read_sites`.
    id_offset : int
        Row number (0-based) of the first row, for chunks of a streamed file.
    spec_id : (str or None, bool), optional
        The id column and whether it was named explicitly, when already decided
        over the whole file (streaming).

    Returns
    -------
    geopandas.GeoDataFrame
        The checked sites in EPSG:4490 (see :func:`~jixi_geo.sites.read_sites`).
    """
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
    id_job = Background(resolve_ids, gdf, id_column=id_column, name=raw.name, problems=problems,
                        id_offset=id_offset, spec_id=spec_id, reported=raw.row_problems, ahead=raw.ids_ahead,
                        thread=n >= BACKGROUND_MIN)
    absent, present, xy, type_id, has_z, valid = _measure(raw, geoms, parsed_bad)
    id_series_, id_col = id_job.result()
    ids = Ids(id_series_)
    for pos, text in sorted(raw.row_problems.items()):
        problems.add(InputError, f"{text} (site {ids[pos]})")
    notes: dict[int, list[str]] = {}  # position -> notes (most sites have none)

    check_missing(absent, parsed_bad, ids, problems)
    nonfinite = check_finite(present, xy, geoms, ids, problems)
    gc = check_collections(present, type_id, ids, problems)
    ok = present & ~nonfinite & ~gc
    drop_z(geoms, ok & has_z, notes)
    valid_all = bool(valid.result().all())
    ok = check_valid(geoms, ok, valid.result(), ids, make_valid=make_valid, notes=notes, problems=problems)

    src, how = resolve_crs(raw, given_crs, geoms, ok, coords_key, problems)
    out = pts = None
    if src is not None:
        # single points: their bounds are their coordinates, already read
        pts = xy if (ok.all() and len(xy) == n and (type_id == 0).all()) else None
        out = locate(raw, geoms, ok, src, ids, coords_key, how, problems, point_xy=pts)
    problems.raise_if_any()
    # a None here came with a recorded problem, raised above
    assert out is not None and src is not None
    result = _assemble(raw, out, id_series_, id_col, src, how, coords_key, notes, name_column)
    if out is geoms and not coords_key and STORAGE_CRS.equals(src) and ok.all() and valid_all:
        # EPSG:4490 geometries kept as read, none repaired: ``xy`` are their x/y (a dropped Z changes neither)
        _remember(result, KnownCoords(xy, type_id))
    return result


#: id(frame) -> (the frame, weakly; its geometry array; the coordinates as read), for :func:`take_coords`;
#: an entry goes when it is taken or when its frame is collected
_KNOWN: dict[int, tuple[weakref.ref, object, KnownCoords]] = {}


def _remember(result: gpd.GeoDataFrame, known: KnownCoords) -> None:
    key = id(result)
    _KNOWN[key] = (weakref.ref(result), result.geometry.values, known)
    weakref.finalize(result, _KNOWN.pop, key, None)


def take_coords(gdf: gpd.GeoDataFrame) -> KnownCoords | None:
    """The EPSG:4490 coordinates of every geometry of ``gdf``, a frame :func:`finish` just returned,
    as the reader had them (no second pass over the geometries), with their type ids; None if not
    known. Taken once: call it right after the read, before anyone could change the frame.
    """
    entry = _KNOWN.pop(id(gdf), None)
    if entry is None:
        return None
    ref, geometry, known = entry
    same_frame = bool(ref() is gdf)  # a bool: no narrowing of ``gdf`` by the weak reference's type
    if not same_frame or gdf.geometry.values is not geometry or len(known.type_id) != len(gdf):
        return None
    return known


def _assemble(raw: Raw, out: np.ndarray, id_values: pd.Series, id_col: str | None, src: pyproj.CRS, how: str,
              coords_key: str, notes: dict[int, list[str]], name_column: str | None) -> gpd.GeoDataFrame:
    """The result table: input attributes, then the :data:`OUT_COLUMNS`, then the geometry."""
    n = len(raw.gdf)
    attrs = raw.gdf.drop(columns=["geometry"])
    if id_col == "site_id":
        attrs = attrs.drop(columns=["site_id"])  # it becomes the output site_id
    attrs = attrs.rename(columns={c: f"{c}_input" for c in OUT_COLUMNS if c in attrs.columns})
    attrs = attrs.assign(
        site_id=id_values.array,
        input_crs=constant(crs_label(src), n),
        crs_from=constant(how, n),
        converted_from=constant(coords_key, n),
        note=note_column(notes, n),
    )
    # ``out``: the read geometries or their transformation, all made by shapely. The columns go in as
    # they are (this call's own frame; copy-on-write guards them): no copy of a million rows
    data = dict(attrs.items())
    data["geometry"] = trusted(out, crs=STORAGE_CRS)
    result = gpd.GeoDataFrame(data, index=attrs.index, geometry="geometry", crs=STORAGE_CRS, copy=False)
    result.attrs["read_sites"] = {
        "source": str(raw.path) if raw.path is not None else raw.name,
        "format": raw.kind,
        "encoding": raw.encoding,
        "input_crs": crs_label(src),
        "crs_from": how,  # one of CRS_FROM
        "converted_from": coords_key,
        "id_column": id_col,
    }
    return planner_formats.finish(result, raw.planner, name_column=name_column, coords_key=coords_key)
