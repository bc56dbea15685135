"""Red-line compliance checks: which zones a project site falls in, and what the
rules allow there.

The verdict of a site is the most severe one among the zones it falls in, looked
up in the rule table (``layers/rules/verdict_rules.csv``) by the zone's control
level and the site's activity; a site within ``buffer_m`` of a zone but in none is
``attention``; a site in none and near none is ``clear``; a site outside the city
is ``outside_jixi``.

:func:`check_sites` runs in named steps, as geopandas' ``sjoin`` does: read the
sites (:func:`jixi_geo.read_sites`, options in :class:`ReadOptions`, shared by
every check function, from :mod:`jixi_geo.options`), query the zones with a kernel
(:mod:`jixi_geo._kernels`), then assemble the result
(:func:`jixi_geo.assembly.assemble`, in named steps). A user's zone layer is
checked by :func:`validate_zones` (:mod:`jixi_geo.zonefile`).

Partitioned inputs (a dask-geopandas GeoDataFrame) are handed by
:func:`check_sites` to the checker :mod:`jixi_geo.batch` registers with
:func:`register_partitioned`; this module never imports :mod:`jixi_geo.batch`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from . import rules as R
from . import _kernels
from ._gc import paused, while_paused
from ._kernels import KERNELS, fast_points
from ._zones import prepare
from .assembly import NEAR_RULE, RESULT_COLUMNS, assemble, hit_table
from .crs import ANALYSIS_CRS, STORAGE_CRS, KnownCoords, ensure_crs, point_xy, project
from .errors import InputError
from .layers import load_layer
from ._args import amount
from .measures import site_measures
from .options import (PARTITIONED, READ_OPTIONS_DOC, ReadOptions, register_partitioned,
                      with_read_options_doc)
from .zonefile import ZONE_COLUMNS, validate_zones
from .controls import load_controls
from .controls.verdicts import HA_TO_MU, detail_rows, measure, with_controls
# names of this module before issue 14 split it, still importable from here
from .assembly import CLEAR_RULE, LEVEL_NAMES, OUTSIDE_RULE  # noqa: F401
from .measures import OUTSIDE_NOISE_PCT, WHOLE_SITE_REL_TOL  # noqa: F401
from .zonefile import SHOWN_DUPLICATE_IDS, SHOWN_INVALID_REASONS  # noqa: F401

__all__ = ["check_sites", "check_sites_detail", "validate_zones", "ReadOptions", "READ_OPTIONS_DOC",
           "with_read_options_doc", "register_partitioned", "ZONE_COLUMNS", "RESULT_COLUMNS", "fresh_from_reader"]

log = logging.getLogger(__name__)

#: Read options that change what :func:`jixi_geo.read_sites` makes of a table it already read
#: (``layer`` and ``encoding`` apply to files only; ``make_valid`` to invalid polygons, which a read table has none of).
_REREAD_OPTIONS = ("coords", "crs", "id_column", "cad_layer", "sheet", "name_column")


#: The frame a caller of check_sites received straight from a reader, untouched (:func:`fresh_from_reader`)
_FRESH: ContextVar[object | None] = ContextVar("jixi_geo_fresh_frame", default=None)


@contextmanager
def fresh_from_reader(frame: gpd.GeoDataFrame) -> Iterator[None]:
    """Inside the block, :func:`check_sites` of exactly ``frame`` may take the coordinates its
    reader kept (:func:`jixi_geo.readers.checks.take_coords`) instead of reading them from the
    geometries again. Only for a frame no one could have changed since it was read (the chunks
    :func:`jixi_geo.batch.check_file` streams); any other frame is read as always."""
    token = _FRESH.set(frame)
    try:
        yield
    finally:
        _FRESH.reset(token)


def _prepare_sites(sites, read: ReadOptions) -> tuple[gpd.GeoDataFrame, KnownCoords | None]:
    """The sites as :func:`jixi_geo.read_sites` gives them (its own output is used as is), and,
    when this call read them and kept them as read, their EPSG:4490 coordinates as read."""
    from .readers.checks import take_coords
    from .sites import read_sites

    already = (isinstance(sites, gpd.GeoDataFrame) and "read_sites" in sites.attrs and sites.crs is not None
               and STORAGE_CRS.equals(sites.crs) and all(getattr(read, k) is None for k in _REREAD_OPTIONS)
               and {"site_id", "input_crs", "converted_from"} <= set(sites.columns))
    if already:  # the output of read_sites: validated, ids set, conversions recorded
        return sites, take_coords(sites) if _FRESH.get() is sites else None
    gdf = read_sites(sites, **read.kwargs())
    return gdf, take_coords(gdf)  # taken now: no one else has seen this frame


def _activities(sites: gpd.GeoDataFrame, activity) -> tuple[np.ndarray, list[str]]:
    """Each site's activity as (integer codes, activity keys)."""
    n = len(sites)
    if activity is not None:
        return np.zeros(n, dtype=np.int64), [R.resolve_activity(activity)]
    if "activity" not in sites.columns:
        return np.zeros(n, dtype=np.int64), ["unspecified"]
    codes, uniq = pd.factorize(sites["activity"].astype(object), use_na_sentinel=False)
    keys = [R.resolve_activity(u) for u in uniq]
    kcodes, knames = pd.factorize(np.asarray(keys, dtype=object))
    return kcodes[codes].astype(np.int64), list(knames)


def _run(sites, *, read: ReadOptions, activity, zones, zones_layer, buffer_m, tolerance_ha, search_m, method,
         projected: bool = False):
    """Read the sites and the zones, and run the kernel: (sites, their geometries, zones, pairs, activities).

    The geometries are in EPSG:4553, except for many points answered by the cell grid,
    which keep their own CRS unless ``projected`` (the control layers measure them).
    """
    if method not in KERNELS:
        raise InputError(f"method {method!r} is not known; use one of {sorted(KERNELS)}")
    buffer_m = amount(buffer_m, name="buffer_m")
    tolerance_ha = amount(tolerance_ha, name="tolerance_ha", unit="ha")
    search_m = amount(search_m, name="search_m")
    gdf, known = _prepare_sites(sites, read)
    zones = (load_layer("redline_zones") if zones is None
             else R.apply_zone_types(validate_zones(zones, layer=zones_layer)))
    ensure_crs(zones, name="zones")
    pz = prepare(zones)
    jixi = prepare(load_layer("boundary"))
    search = max(float(buffer_m), float(search_m))
    xy = (point_xy(gdf.geometry.values, gdf.crs, ANALYSIS_CRS, known=None if known is None else known.points)
          if method == "fast" and len(gdf) >= _kernels.GRID_MIN_POINTS else None)
    if xy is not None:
        # many points: the cell grid answers most from coordinates; downstream only the
        # dimension of these geometries is read, which projection does not change
        pairs, n_exact = fast_points(xy, pz, jixi, buffer_m=float(buffer_m), search_m=search)
        log.debug("cell grid answered %d of %d points; %d tested exactly", len(xy) - n_exact, len(xy), n_exact)
        geoms = (project(gdf.geometry.values, gdf.crs, ANALYSIS_CRS, known=known) if projected
                 else np.asarray(gdf.geometry.values, dtype=object))
    else:
        geoms = project(gdf.geometry.values, gdf.crs, ANALYSIS_CRS, known=known)
        pairs = KERNELS[method](geoms, pz, jixi, buffer_m=float(buffer_m), search_m=search)
    acts = _activities(gdf, activity)
    return gdf, geoms, pz, pairs, acts

@with_read_options_doc
def check_sites(sites, *, activity: str | None = None, zones: gpd.GeoDataFrame | None = None,
                buffer_m: float = 1000.0, tolerance_ha: float = 0.01, search_m: float = 10_000.0,
                zones_layer: str | None = None, method: Literal["fast", "reference"] = "fast",
                coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | None = None, crs=None,
                id_column: str | None = None, layer: str | int | None = None, encoding: str | None = None,
                make_valid: bool = False, cad_layer: str | None = None, sheet: str | int | None = None,
                name_column: str | None = None, controls=None) -> gpd.GeoDataFrame:
    """Check project sites against the red-line zones and say what the rules allow.

    Parameters
    ----------
    sites : path, GeoDataFrame, DataFrame or dask-geopandas GeoDataFrame
        Points, lines (roads, pipelines) or polygons; any format and CRS that
        :func:`jixi_geo.read_sites` accepts. A dask-geopandas GeoDataFrame is checked
        partition by partition (:func:`jixi_geo.batch.check_sites_dask`) and the
        result is lazy.
    activity : str, optional
        The activity of every site (a key, 中文 name or alias from
        ``layers/rules/activities.csv``). By default a column ``activity`` of the
        sites is used; with neither, the strictest reading applies and the result says so.
    zones : GeoDataFrame or path, optional
        A zone layer of the ``redline_zones`` schema (e.g. official data), or a
        file of one (read through :func:`validate_zones`); by default the bundled,
        modelled ``redline_zones``.
    buffer_m : float
        A site within this distance (metres) of a zone, but in none, is ``attention``.
        Must be a finite number ≥ 0 (text, NaN, infinity and negatives are refused).
    tolerance_ha : float
        Polygon overlaps smaller than this (hectares) are treated as slivers, not hits
        (finite, ≥ 0).
    search_m : float
        The nearest zone is reported up to this distance (metres); beyond, ``distance_m`` is NaN
        (finite, ≥ 0).
    zones_layer : str, optional
        The layer of a multi-layer zones file (required if ``zones`` is a path to a
        file with several layers).
    method : {"fast", "reference"}
        The geometry kernel: ``fast`` (tiled STRtree, the default) or ``reference``
        (plain geopandas ``sjoin``/``sjoin_nearest``); both give the same results.
    {read_options}
    controls : mapping, Controls or path, optional
        The control layers by role (永久基本农田 ``permanent_farmland``, 城镇开发边界
        ``urban_boundary``, 饮用水水源保护区 ``water_source``, 地类图斑 ``landcover``), read by
        :func:`jixi_geo.controls.load_controls`. With them the result gains, per line role with
        prefix P (``farmland``, ``urban``, ``water``), ``P_verdict``, ``P_verdict_zh``,
        ``P_relation`` (inside/partly/outside), ``P_ha``, ``P_pct``, ``P_level``, ``P_rule_id``;
        with land cover ``cultivated_ha``, ``paddy_ha``, ``irrigated_ha``, ``dryland_ha``,
        ``black_soil_ha``, ``unclassified_ha`` (polygons; areas on the CGCS2000 ellipsoid,
        overlaps inside a layer counted once); ``eco_verdict`` (the red-line verdict) and
        ``controls_synthetic``; ``verdict`` becomes the strictest of the red-line and line
        verdicts (``outside_jixi`` stays), ``reasons`` gains a sentence per line, and
        ``attrs["controls"]`` describes the layers. Without it, nothing changes.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site in input order, with the input's index (for a
        GeoDataFrame or DataFrame; files are numbered from 0), input attributes kept, plus
        :data:`RESULT_COLUMNS`: the verdict (``prohibited``, ``restricted``,
        ``conditional``, ``attention``, ``clear``, ``outside_jixi``), the strictest
        control level hit, the zones hit, ``overlap_ha`` (polygons, on the CGCS2000
        ellipsoid), ``overlap_m`` (lines), ``overlap_pct`` (of the site's area or
        length; 100 for a point inside), ``outside_jixi_pct`` (the share of the site's
        area or length outside the city, geodesic, %; 0 or 100 for points; a site
        partly outside also says so in ``reasons``), the nearest zone and ``distance_m`` (0 inside;
        planar in EPSG:4553, scale error < 0.03% across Jixi), the rule applied, its
        basis, a bilingual ``reasons`` sentence and an audit stamp (package version,
        zone checksum, rule-table version, time). Geometry in EPSG:4490.

    Raises
    ------
    InputError, CRSError, InvalidGeometryError, UnknownCodeError, SchemaError
        For unusable input; the message names the problem and the fix.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> s = gpd.GeoDataFrame({"site_id": ["a", "b"]},
    ...                      geometry=[Point(132.45, 45.43), Point(131.05, 45.45)], crs="EPSG:4490")
    >>> r = check_sites(s, activity="wind_farm")
    >>> list(r["verdict"])
    ['prohibited', 'clear']
    """
    options = {"activity": activity, "zones": zones, "buffer_m": buffer_m, "tolerance_ha": tolerance_ha,
               "search_m": search_m, "zones_layer": zones_layer, "method": method}
    read = ReadOptions(coords=coords, crs=crs, id_column=id_column, layer=layer, encoding=encoding,
                       make_valid=make_valid, cad_layer=cad_layer, sheet=sheet, name_column=name_column)
    ctl = load_controls(controls)
    for accepts, check in PARTITIONED:
        if accepts(sites):
            extra = {} if ctl is None else {"controls": ctl}
            return check(sites, **options, **read.kwargs(), **extra)
    # the check makes and drops a geometry object or more per site and no reference cycle of its own:
    # the cyclic collector would only walk the process's objects again and again meanwhile (_gc)
    with paused():
        gdf, geoms, pz, pairs, acts = _run(sites, read=read, **options, projected=ctl is not None)
        result = assemble(gdf, geoms, pz, pairs, acts, buffer_m=buffer_m, tolerance_ha=tolerance_ha)
        if ctl is not None:
            result = with_controls(result, geoms, ctl, acts=acts, tolerance_ha=float(tolerance_ha))
    if isinstance(sites, pd.DataFrame):
        # keep the input's index, as geopandas' sjoin keeps the left index, so results join back by index
        result.index = sites.index
    return result



@with_read_options_doc
@while_paused  # as check_sites: geometry objects by the thousand, no reference cycles
def check_sites_detail(sites, *, activity: str | None = None, zones: gpd.GeoDataFrame | None = None,
                       buffer_m: float = 1000.0, tolerance_ha: float = 0.01, search_m: float | None = None,
                       zones_layer: str | None = None, method: Literal["fast", "reference"] = "fast",
                       coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | None = None, crs=None,
                       id_column: str | None = None, layer: str | int | None = None, encoding: str | None = None,
                       make_valid: bool = False, cad_layer: str | None = None, sheet: str | int | None = None,
                       name_column: str | None = None, controls=None) -> pd.DataFrame:
    """One row per (site, zone) pair: every zone a site falls in or lies within ``buffer_m`` of.

    Parameters
    ----------
    sites, activity, zones, buffer_m, tolerance_ha, zones_layer, method
        As in :func:`check_sites`.
    search_m : float, optional
        Accepted so that one set of options serves :func:`check_sites` and this
        function alike; the rows list zones within ``buffer_m`` only, so the
        search for the nearest zone stops there (default and any smaller value:
        ``buffer_m``) and a larger value changes no row. Finite, ≥ 0.
    {read_options}
    controls : mapping, Controls or path, optional
        As in :func:`check_sites`: rows with ``relation`` ``occupies`` are added, one per
        (site, line role, level) and per (site, land class) with an ``unclassified`` row
        (code "") where any, and the columns ``role`` (``redline`` for zone rows),
        ``level``, ``land_class_code``, ``land_class_zh``, ``land_class_en``, ``land_group``,
        ``overlap_mu`` (亩, 1 ha = 15 亩) and ``black_soil_ha``.

    Returns
    -------
    pandas.DataFrame
        Columns ``site_id, site_name, zone_id, zone_name_zh, zone_name_en, control_level, relation``
        (``inside``/``near``), ``overlap_ha, overlap_m, overlap_pct, distance_m, activity,
        verdict, rule_id, rule_zh, rule_en, basis``.
    """
    if search_m is not None:
        amount(search_m, name="search_m")  # checked as check_sites checks it; no row depends on it
    read = ReadOptions(coords=coords, crs=crs, id_column=id_column, layer=layer, encoding=encoding,
                       make_valid=make_valid, cad_layer=cad_layer, sheet=sheet, name_column=name_column)
    ctl = load_controls(controls)
    gdf, geoms, pz, pairs, acts = _run(sites, read=read, activity=activity, zones=zones, zones_layer=zones_layer,
                                       buffer_m=buffer_m, tolerance_ha=tolerance_ha, search_m=buffer_m,
                                       method=method, projected=ctl is not None)
    dims, site_area, site_len = site_measures(geoms)
    hits = hit_table(pairs, pz, acts, dims, tolerance_ha)
    z = pz.zones
    rules_by_id = {r["rule_id"]: r for r in R.verdict_rules().to_dict("records")}
    rows = pd.DataFrame({
        "site": hits["site"], "zone": hits["zone"], "relation": "inside",
        "overlap_ha": np.where(dims[hits["site"]] == 2, hits["overlap_m2"] / 1e4, np.nan),
        "overlap_m": np.where(dims[hits["site"]] == 1, hits["overlap_len_m"], np.nan),
        "distance_m": 0.0, "verdict": hits["verdict"], "rule_id": hits["rule_id"],
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["overlap_pct"] = np.where(dims[rows["site"]] == 2, hits["overlap_m2"] / site_area[rows["site"]] * 100,
                                       np.where(dims[rows["site"]] == 1,
                                                hits["overlap_len_m"] / site_len[rows["site"]] * 100, 100.0))
    inside_sites = set(hits["site"])
    near = pairs.near[~pairs.near["site"].isin(inside_sites)] if len(pairs.near) else pairs.near
    near_rows = pd.DataFrame({"site": near["site"].astype(int), "zone": near["zone"].astype(int),
                              "relation": "near", "overlap_ha": np.nan, "overlap_m": np.nan,
                              "distance_m": near["distance_m"], "verdict": "attention", "rule_id": "NEAR",
                              "overlap_pct": 0.0})
    rows = pd.concat([rows, near_rows], ignore_index=True).sort_values(["site", "relation", "zone"])
    rows["site"] = rows["site"].astype(int)
    rows["zone"] = rows["zone"].astype(int)
    if ctl is not None:
        _, site_area_c, site_len_c, lines, classes, _ = measure(geoms, ctl, acts=acts,
                                                                tolerance_ha=float(tolerance_ha))
        occ_rows = detail_rows(lines, classes, dims=dims, site_area=site_area_c, site_len=site_len_c)
    special = {"NEAR": NEAR_RULE}
    get = lambda r, k: (special.get(r) or rules_by_id[r])[k]  # noqa: E731
    out = pd.DataFrame({
        "site_id": gdf["site_id"].to_numpy()[rows["site"]],
        "site_name": np.asarray(gdf["site_name"].astype(str) if "site_name" in gdf.columns else [""] * len(gdf),
                                dtype=object)[rows["site"]],
        "zone_id": z["id"].astype(str).to_numpy()[rows["zone"]],
        "zone_name_zh": z["name_zh"].to_numpy()[rows["zone"]],
        "zone_name_en": z["name_en"].to_numpy()[rows["zone"]],
        "control_level": z["control_level"].to_numpy()[rows["zone"]],
        "relation": rows["relation"].to_numpy(),
        "overlap_ha": rows["overlap_ha"].to_numpy(), "overlap_m": rows["overlap_m"].to_numpy(),
        "overlap_pct": np.clip(rows["overlap_pct"].to_numpy(dtype=float), 0, 100),
        "distance_m": rows["distance_m"].to_numpy(dtype=float),
        "activity": np.asarray(acts[1], dtype=object)[acts[0][rows["site"].to_numpy()]],
        "verdict": rows["verdict"].to_numpy(dtype=object),
        "rule_id": rows["rule_id"].to_numpy(dtype=object),
        "rule_zh": [get(r, "rule_zh") for r in rows["rule_id"]],
        "rule_en": [get(r, "rule_en") for r in rows["rule_id"]],
        "basis": [get(r, "basis") for r in rows["rule_id"]],
    })
    if ctl is not None:
        out = _with_occupies(out, occ_rows, gdf, acts, rows["site"].to_numpy())
    return out.reset_index(drop=True)


def _with_occupies(out: pd.DataFrame, occ: pd.DataFrame, gdf, acts, zone_sites: np.ndarray) -> pd.DataFrame:
    """The detail rows of the zones (``role`` ``redline``) and the ``occupies`` rows of the controls,
    site by site in input order (zone rows first)."""
    out = out.assign(role="redline", level="", land_class_code="", land_class_zh="", land_class_en="",
                     land_group="", overlap_mu=out["overlap_ha"].to_numpy(dtype=float) * HA_TO_MU,
                     black_soil_ha=np.nan)
    if occ.empty:
        return out
    s = occ["site"].to_numpy()
    names = np.asarray(gdf["site_name"].astype(str) if "site_name" in gdf.columns else [""] * len(gdf), dtype=object)
    add = occ.drop(columns="site").assign(
        site_id=gdf["site_id"].to_numpy()[s], site_name=names[s], relation="occupies", distance_m=0.0,
        activity=np.asarray(acts[1], dtype=object)[acts[0][s]])[list(out.columns)]
    both = pd.concat([out.reset_index(drop=True), add], ignore_index=True)
    order = np.argsort(np.r_[zone_sites, s], kind="stable")
    return both.iloc[order]
