"""Red-line compliance checks: which zones a project site falls in, and what the
rules allow there.

The verdict of a site is the most severe one among the zones it falls in, looked
up in the rule table (``layers/rules/verdict_rules.csv``) by the zone's control
level and the site's activity; a site within ``buffer_m`` of a zone but in none is
``attention``; a site in none and near none is ``clear``; a site outside the city
is ``outside_jixi``.

:func:`check_sites` runs in named steps, as geopandas' ``sjoin`` does: read the
sites (:func:`jixi_geo.read_sites`, options in :class:`ReadOptions`, shared by
every check function), query the zones with a kernel (:mod:`jixi_geo._kernels`),
then :func:`_assemble` the result: the deciding hit (:func:`_deciding_hits`), the
zones hit (:func:`_zone_columns`), the nearest zone (:func:`_nearest_columns`),
the final verdict (:func:`_verdict_codes`), the overlaps (:func:`_overlap_columns`),
the reasons (:func:`_reason_column`), the audit stamp (:func:`_stamp_columns`),
joined to the input's columns once (:func:`_frame_join`).

Partitioned inputs (a dask-geopandas GeoDataFrame) are handed by
:func:`check_sites` to the checker :mod:`jixi_geo.batch` registers with
:func:`register_partitioned`; this module never imports :mod:`jixi_geo.batch`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import warnings
from dataclasses import asdict, dataclass, fields
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import __version__
from . import rules as R
from . import vocab
from . import _kernels
from ._kernels import KERNELS, Pairs, ellipsoidal_area, ellipsoidal_length, fast_points
from ._zones import prepare
from .crs import ANALYSIS_CRS, STORAGE_CRS, ensure_crs, point_xy, project
from .errors import InputError, JixiGeoWarning, SchemaError
from .layers import load_layer
from ._args import amount
from .readers.checks import constant as _constant
from .readers.crs_checks import crs_note

__all__ = ["check_sites", "check_sites_detail", "validate_zones", "ReadOptions", "READ_OPTIONS_DOC",
           "with_read_options_doc", "register_partitioned", "ZONE_COLUMNS", "RESULT_COLUMNS"]

log = logging.getLogger(__name__)

#: validate_zones' message lists at most this many duplicate ids and this many
#: invalid-geometry reasons (the number of invalid polygons is given in full).
SHOWN_DUPLICATE_IDS = 10
SHOWN_INVALID_REASONS = 5
#: A hit covering the site's area or length to this relative tolerance is the whole site.
WHOLE_SITE_REL_TOL = 1e-6
#: A share of a line or polygon outside Jixi below this (%) is float noise along the border: 0.
OUTSIDE_NOISE_PCT = 1e-4


def _in_sentence(en: str) -> str:
    """``"Nature reserve"`` -> ``"nature reserve"``: an English label placed inside a sentence."""
    return en[:1].lower() + en[1:]


#: Columns a zone layer must have (the schema of the bundled ``redline_zones``).
ZONE_COLUMNS = ("id", "name_zh", "name_en", "control_level")
#: Columns check_sites adds, in order.
RESULT_COLUMNS = ["site_id", "verdict", "verdict_zh", "control_level", "zones_hit", "zone_ids",
                  "overlap_ha", "overlap_m", "overlap_pct", "outside_jixi_pct", "nearest_zone", "nearest_zone_id",
                  "distance_m", "activity", "rule_id", "rule", "rule_zh", "basis", "reasons",
                  "input_crs", "crs_from", "converted_from", "jixi_geo_version", "zones_sha256",
                  "rules_version", "checked_at"]
#: control level -> (中文, English as written inside a sentence), from ``layers/rules/control_levels.csv``.
LEVEL_NAMES = {lv: (vocab.label("control_level", lv), _in_sentence(vocab.label("control_level", lv, "en")))
               for lv in vocab.keys("control_level")}
NEAR_RULE = {"rule_id": "NEAR", "rule_zh": "位于管控区缓冲范围内：项目选址和环评应关注其对邻近管控区的影响。",
             "rule_en": "Within the buffer of a control zone: siting and the environmental assessment should "
                        "consider the effect on the neighbouring zone.",
             "basis": "jixi_geo screening buffer (buffer_m); level 'near' of layers/rules/control_levels.csv"}
CLEAR_RULE = {"rule_id": "CLEAR", "rule_zh": "不在任何管控区内，缓冲范围内也无管控区。",
              "rule_en": "In no control zone and none within the buffer.", "basis": ""}
OUTSIDE_RULE = {"rule_id": "OUTSIDE", "rule_zh": "场址不在鸡西市域内，本工具的规则不适用。",
                "rule_en": "The site is outside Jixi; this tool's rules do not apply.", "basis": ""}


@dataclass(frozen=True)
class ReadOptions:
    """The options of :func:`jixi_geo.read_sites`, which every check function accepts and passes on.

    :func:`check_sites`, :func:`check_sites_detail` and :func:`jixi_geo.check_file`
    take each of these as a keyword (``tests/test_batch.py`` asserts that the
    three signatures hold every keyword of :func:`jixi_geo.read_sites`); inside,
    they travel together as one of these. The block :data:`READ_OPTIONS_DOC`
    documents them once, in every check function's docstring.
    """

    coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | None = None
    crs: Any = None
    id_column: str | None = None
    layer: str | int | None = None
    encoding: str | None = None
    make_valid: bool = False
    cad_layer: str | None = None
    sheet: str | int | None = None
    name_column: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """The options as keywords of :func:`jixi_geo.read_sites`."""
        return asdict(self)

    def given(self) -> dict[str, Any]:
        """The options that differ from their defaults."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}


#: The numpydoc block of the read options, put into each check function's docstring
#: where it says ``{read_options}`` (by :func:`with_read_options_doc`).
READ_OPTIONS_DOC = """\
coords : {"wgs84", "cgcs2000", "gcj02", "bd09"}, optional
    Lon/lat copied from a Chinese web map (GCJ-02 for 高德/腾讯, BD-09 for 百度) is
    converted to WGS84 first; the result records it in ``converted_from``.
crs : optional
    The CRS of a file that has none (e.g. a Shapefile without ``.prj``).
id_column : str, optional
    The column holding the site ids (default: ``site_id``/``id``/``编号`` if unique).
layer : str or int, optional
    Layer of a multi-layer file (GeoPackage, KML), or the Shapefile of a ``.zip``
    holding several.
encoding : str, optional
    Text encoding of a CSV, WKT text or ``.dbf`` (e.g. ``"gbk"``).
make_valid : bool
    Repair invalid polygons instead of refusing them (the repair is noted).
cad_layer, sheet, name_column : str, optional
    DXF layers to read, the Excel sheet, the column of site names. Each of these
    options (:class:`ReadOptions`) is passed to :func:`jixi_geo.read_sites`, which
    documents it in full."""


def with_read_options_doc(func):
    """Put :data:`READ_OPTIONS_DOC` into ``func``'s docstring at ``{read_options}``, indented as that line."""
    doc = func.__doc__ or ""
    lines = doc.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "{read_options}")
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at:at + 1] = [(indent + t) if t else "" for t in READ_OPTIONS_DOC.splitlines()]
    func.__doc__ = "\n".join(lines) + ("\n" if doc.endswith("\n") else "")
    return func


#: Checkers of partitioned inputs, tried in order by :func:`check_sites`: (accepts, check) pairs.
_PARTITIONED: list[tuple[Callable[[Any], bool], Callable[..., Any]]] = []


def register_partitioned(accepts: Callable[[Any], bool], check: Callable[..., Any]) -> None:
    """Let :func:`check_sites` hand a partitioned input to ``check``.

    :mod:`jixi_geo.batch` registers its dask-geopandas checker when it is
    imported (``import jixi_geo`` imports it), so ``check_sites(dask_gdf)``
    works while this module never imports :mod:`jixi_geo.batch`, which imports
    this one: no import cycle.

    Parameters
    ----------
    accepts : callable
        ``accepts(sites) -> bool``: whether ``check`` takes these sites. It must
        not import anything heavy (test the type's module name, for example).
    check : callable
        ``check(sites, **options)`` with every keyword of :func:`check_sites`.
    """
    if (accepts, check) not in _PARTITIONED:
        _PARTITIONED.append((accepts, check))


def validate_zones(zones, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Check a user's zone layer (e.g. official red-line data) against the ``redline_zones`` schema.

    Collects every problem (missing columns, unknown control levels, missing CRS,
    empty or invalid or non-polygon geometries, duplicate ids) and raises them together.

    Parameters
    ----------
    zones : GeoDataFrame or path
        The zones, or a file of them: GeoJSON, GeoPackage, Shapefile (``.shp`` or a
        ``.zip``), KML/KMZ or GeoParquet. The format is decided from the file's name
        and first bytes before anything opens it; other formats (VRT, GML, …) are
        refused. Column names cut by the 10-character ``.dbf`` limit
        (``control_le``) are read as the schema's names, as listed in
        ``layers/rules/zone_column_aliases.csv``, with a
        :class:`~jixi_geo.errors.JixiGeoWarning` saying so.
    layer : str, optional
        The layer of a multi-layer file (required when it has more than one).

    Returns
    -------
    geopandas.GeoDataFrame
        The zones (read from the file if a path was given); renamed columns are
        listed in ``attrs["validate_zones"]["renamed"]``.

    Raises
    ------
    InputError
        A missing file, a refused format, a file that is not a vector file, or a
        multi-layer file without ``layer`` (the message lists the layers).
    SchemaError
        Listing every problem and how to fix it.
    """
    if not isinstance(zones, gpd.GeoDataFrame):
        zones = _read_zone_file(zones, layer=layer)
    zones, renamed = _apply_aliases(zones)
    problems = []
    missing = [c for c in ZONE_COLUMNS if c not in zones.columns]
    if missing:
        problems.append(f"missing column(s) {missing}: a zone layer needs {list(ZONE_COLUMNS)} "
                        "(see layers/SOURCES.md, 'Red-line zones'; a Shapefile's .dbf cuts names to 10 "
                        "characters: the cut names read as the schema's are in "
                        "layers/rules/zone_column_aliases.csv)")
    if zones.crs is None:
        problems.append("no CRS: set the CRS the coordinates are in (e.g. EPSG:4490 or EPSG:4553)")
    if len(zones) == 0:
        problems.append("the layer has no features")
    if "control_level" in zones.columns:
        allowed = set(R.verdict_rules()["control_level"])
        bad = sorted(set(zones["control_level"].astype(str)) - allowed)
        if bad:
            problems.append(f"control_level values {bad} are not known; use {sorted(allowed)}")
    if "id" in zones.columns and zones["id"].duplicated().any():
        dup = sorted(zones["id"][zones["id"].duplicated()].astype(str).unique())
        problems.append(f"duplicate ids: {dup[:SHOWN_DUPLICATE_IDS]}")
    g = zones.geometry
    if len(zones):
        if g.isna().any() or g.is_empty.any():
            problems.append(f"{int(g.isna().sum() + g.is_empty.sum())} empty or missing geometries")
        poly = g.geom_type.isin(["Polygon", "MultiPolygon"])
        if (~poly & g.notna()).any():
            kinds = sorted(set(g.geom_type[~poly].dropna()))
            problems.append(f"non-polygon geometries: {kinds}; zones must be polygons")
        invalid = g.notna() & ~g.is_valid
        if invalid.any():
            reasons = shapely.is_valid_reason(g[invalid].values)[:SHOWN_INVALID_REASONS]
            problems.append(f"{int(invalid.sum())} invalid polygon(s), e.g. {list(reasons)}; repair them "
                            "(shapely.make_valid) and check the result")
    if problems:
        raise SchemaError("the zone layer does not fit the redline_zones schema:\n- " + "\n- ".join(problems))
    zones.attrs = dict(zones.attrs)
    zones.attrs["validate_zones"] = {"renamed": renamed}
    return zones


def _read_zone_file(path, *, layer) -> gpd.GeoDataFrame:
    """Read a zones file through the format allow-list; refuse an ambiguous multi-layer file."""
    from .readers import registry as _formats
    from .readers.geoparquet import read_parquet as _read_parquet
    from .readers.vector import read_vector as _read_vector

    src = _formats.identify(path, layer=layer, what="zones file", vector_only=True)
    if src.kind == "parquet":
        return _read_parquet(src.path, layer=None, encoding=None).gdf
    if src.kind in ("gpkg", "kml", "kmz", "geojson"):
        try:
            layers = [str(n) for n in pyogrio.list_layers(src.gdal_path)[:, 0]]
        except Exception as e:  # pyogrio.errors.DataSourceError and friends
            raise InputError(f"管控区文件 {src.path.name} 无法作为矢量文件打开（{e}）。/ the zones file "
                             f"{src.path.name} could not be opened as a vector file ({e}). Accepted formats: "
                             f"{_formats.ACCEPTED_VECTOR_EN}.") from None
        if layer is None and len(layers) > 1:
            raise InputError(
                f"管控区文件 {src.path.name} 含 {len(layers)} 个图层（{', '.join(layers)}），不会默认取第一个；"
                f"请用 --zones-layer（或 zones_layer=/layer=）指定。/ the zones file {src.path.name} has "
                f"{len(layers)} layers: {', '.join(layers)}. jixi_geo does not pick the first one; choose with "
                f"--zones-layer NAME (API: zones_layer= in check_sites, layer= in validate_zones), e.g. "
                f"--zones-layer {layers[0]}")
        if layer is not None and str(layer) not in layers:
            raise InputError(f"管控区文件 {src.path.name} 中没有图层 {layer!r}（有：{', '.join(layers)}）。/ layer "
                             f"{layer!r} is not in the zones file {src.path.name}; its layers are: "
                             f"{', '.join(layers)}")
    return _read_vector(src, layer=layer, encoding=None).gdf


@functools.lru_cache(maxsize=1)
def _zone_aliases() -> dict[str, tuple[str, str, str]]:
    """alias (lower case) -> (schema column, reason 中文, reason English)."""
    t = R.read_rule_file("zone_column_aliases.csv")
    return {a.strip().lower(): (c, zh, en) for c, a, zh, en in
            t[["column", "alias", "reason_zh", "reason_en"]].itertuples(index=False)}


def _apply_aliases(zones: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Rename documented aliases (``control_le``) to the schema's columns, and say so."""
    have = {str(c) for c in zones.columns}
    renames: dict[str, str] = {}
    for c in zones.columns:
        hit = _zone_aliases().get(str(c).strip().lower())
        if hit is not None and hit[0] not in have and hit[0] not in renames.values():
            renames[c] = hit[0]
            warnings.warn(f"管控区图层的列 {c!r} 按 {hit[0]!r} 读取：{hit[1]}。/ zones column {c!r} read as "
                          f"{hit[0]!r}: {hit[2]} (layers/rules/zone_column_aliases.csv).", JixiGeoWarning,
                          stacklevel=3)
    if renames:
        zones = zones.rename(columns=renames)
    return zones, {str(k): v for k, v in renames.items()}


#: Read options that change what :func:`jixi_geo.read_sites` makes of a table it already read
#: (``layer`` and ``encoding`` apply to files only; ``make_valid`` to invalid polygons, which a read table has none of).
_REREAD_OPTIONS = ("coords", "crs", "id_column", "cad_layer", "sheet", "name_column")


def _prepare_sites(sites, read: ReadOptions) -> gpd.GeoDataFrame:
    """The sites as :func:`jixi_geo.read_sites` gives them; its own output is used as is."""
    from .sites import read_sites

    already = (isinstance(sites, gpd.GeoDataFrame) and "read_sites" in sites.attrs and sites.crs is not None
               and STORAGE_CRS.equals(sites.crs) and all(getattr(read, k) is None for k in _REREAD_OPTIONS)
               and {"site_id", "input_crs", "converted_from"} <= set(sites.columns))
    if already:  # the output of read_sites: validated, ids set, conversions recorded
        return sites
    return read_sites(sites, **read.kwargs())


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


def _level_tables(zones: gpd.GeoDataFrame):
    """Each zone's control-level rank (``layers/rules/control_levels.csv``; lower is stricter)."""
    levels = R.control_levels().set_index("control_level")["rank"]
    return zones["control_level"].map(levels).to_numpy()


def _run(sites, *, read: ReadOptions, activity, zones, zones_layer, buffer_m, tolerance_ha, search_m, method):
    """Read the sites and the zones, and run the kernel: (sites, their geometries, zones, pairs, activities)."""
    if method not in KERNELS:
        raise InputError(f"method {method!r} is not known; use one of {sorted(KERNELS)}")
    buffer_m = amount(buffer_m, name="buffer_m")
    tolerance_ha = amount(tolerance_ha, name="tolerance_ha", unit="ha")
    search_m = amount(search_m, name="search_m")
    gdf = _prepare_sites(sites, read)
    zones = (load_layer("redline_zones") if zones is None
             else R.apply_zone_types(validate_zones(zones, layer=zones_layer)))
    ensure_crs(zones, name="zones")
    pz = prepare(zones)
    jixi = prepare(load_layer("boundary"))
    search = max(float(buffer_m), float(search_m))
    xy = (point_xy(gdf.geometry.values, gdf.crs, ANALYSIS_CRS)
          if method == "fast" and len(gdf) >= _kernels.GRID_MIN_POINTS else None)
    if xy is not None:
        # many points: the cell grid answers most from coordinates; downstream only the
        # dimension of these geometries is read, which projection does not change
        pairs, n_exact = fast_points(xy, pz, jixi, buffer_m=float(buffer_m), search_m=search)
        log.debug("cell grid answered %d of %d points; %d tested exactly", len(xy) - n_exact, len(xy), n_exact)
        geoms = np.asarray(gdf.geometry.values, dtype=object)
    else:
        geoms = project(gdf.geometry.values, gdf.crs, ANALYSIS_CRS)
        pairs = KERNELS[method](geoms, pz, jixi, buffer_m=float(buffer_m), search_m=search)
    acts = _activities(gdf, activity)
    return gdf, geoms, pz, pairs, acts


def _site_measures(geoms: np.ndarray):
    """Each site's dimension (0 point, 1 line, 2 polygon), ellipsoidal area (m², polygons) and length (m, lines)."""
    dims = shapely.get_dimensions(geoms)
    area = np.full(len(geoms), np.nan)
    length = np.full(len(geoms), np.nan)
    poly, line = dims == 2, dims == 1
    if poly.any():
        area[poly] = ellipsoidal_area(geoms[poly])
    if line.any():
        length[line] = ellipsoidal_length(geoms[line])
    return dims, area, length


def _outside_share(geoms: np.ndarray, dims: np.ndarray, in_jixi: np.ndarray, site_area: np.ndarray,
                   site_len: np.ndarray) -> np.ndarray:
    """Share (%) of each site's area (polygons) or length (lines) outside the Jixi boundary.

    Points: 0 inside, 100 outside. Lines and polygons touching the city: 0 if
    covered by the boundary, else ``100 × (1 − inside / whole)`` on the CGCS2000
    ellipsoid; shares below :data:`OUTSIDE_NOISE_PCT` (float noise along the border) count as 0.
    ``geoms`` are in EPSG:4553 for lines and polygons.
    """
    pct = np.where(in_jixi, 0.0, 100.0)
    cand = np.flatnonzero(in_jixi & (dims > 0))
    if len(cand) == 0:
        return pct
    jixi = prepare(load_layer("boundary"))
    city = shapely.union_all(jixi.geoms) if len(jixi.geoms) > 1 else jixi.geoms[0]
    city = shapely.from_wkb(shapely.to_wkb(city))  # a private copy to prepare
    shapely.prepare(city)
    part = cand[~shapely.covered_by(geoms[cand], city)]
    if len(part) == 0:
        return pct
    inner = shapely.intersection(geoms[part], city)
    d = dims[part]
    share_in = np.ones(len(part))
    with np.errstate(invalid="ignore", divide="ignore"):
        share_in[d == 2] = ellipsoidal_area(inner[d == 2]) / site_area[part[d == 2]]
        share_in[d == 1] = ellipsoidal_length(inner[d == 1]) / site_len[part[d == 1]]
    out = np.clip(100.0 * (1.0 - np.nan_to_num(share_in, nan=1.0)), 0.0, 100.0)
    pct[part] = np.where(out < OUTSIDE_NOISE_PCT, 0.0, out)
    return pct


def _hit_table(pairs: Pairs, pz, acts: tuple[np.ndarray, list[str]], dims, tolerance_ha) -> pd.DataFrame:
    """Hits with their rule, after dropping polygon slivers below the tolerance.

    Rules are looked up once per distinct (control level, activity) pair and
    broadcast with integer keys.
    """
    act_of_site, act_names = acts
    h = pairs.hits
    sd = dims[h["site"].to_numpy()]
    keep = (sd != 2) | (h["overlap_m2"].to_numpy() >= tolerance_ha * 1e4)
    h = h[keep].reset_index(drop=True)
    z = pz.zones
    zone = h["zone"].to_numpy()
    lvl_codes, lvl_names = pd.factorize(z["control_level"].astype(str).to_numpy(dtype=object))
    act_codes = act_of_site[h["site"].to_numpy()]
    na = max(len(act_names), 1)
    key = lvl_codes[zone] * na + act_codes
    ukeys, inverse = np.unique(key, return_inverse=True)
    rules = [R.rule_for(lvl_names[k // na], act_names[k % na]) for k in ukeys]
    verdicts = np.array([r["verdict"] for r in rules], dtype=object)
    # text columns as categoricals: cheap to filter and sort for a million hits
    h["control_level"] = _labels(lvl_codes[zone], list(lvl_names))
    h["activity"] = _labels(act_codes, list(act_names) or [""])
    h["verdict"] = _labels(inverse, list(verdicts) or [""])
    h["rank"] = np.array([R.VERDICT_RANK[v] for v in verdicts], dtype=int)[inverse] if len(h) else 0
    h["level_rank"] = _level_tables(z)[zone]
    h["rule_id"] = _labels(inverse, [r["rule_id"] for r in rules] or [""])
    return h


def _union_overlap(site_geoms, pz, hits: pd.DataFrame, dims, site_area=None,
                   site_len=None) -> tuple[np.ndarray, np.ndarray]:
    """Per site, area (m²) and length (m) inside the union of the zones it hits.

    Zones of one level may overlap each other; summing per-zone overlaps would count
    that part twice, so for sites hitting several zones the pieces of the site in
    each hit zone's tiles are unioned first (small geometries: cheap). A site lying
    wholly inside one of its zones (that zone's overlap equals the site's own area
    or length, given as ``site_area``/``site_len``, to 1e-6) needs no union: the
    union is the site.
    """
    n = len(site_geoms)
    area = np.zeros(n)
    length = np.zeros(n)
    if hits.empty or not (dims > 0).any():  # points have neither
        return area, length
    counts = hits.groupby("site").size()
    single = counts.index[counts == 1].to_numpy()
    one = hits[hits["site"].isin(single)]
    area[one["site"].to_numpy()] = one["overlap_m2"].to_numpy()
    length[one["site"].to_numpy()] = one["overlap_len_m"].to_numpy()
    multi = counts.index[counts > 1].to_numpy()
    multi = multi[dims[multi] > 0]
    if len(multi) and site_area is not None and site_len is not None:
        top = hits[hits["site"].isin(multi)].groupby("site")[["overlap_m2", "overlap_len_m"]].max()
        top = top.reindex(multi)
        d = dims[multi]
        whole_a = (d == 2) & (top["overlap_m2"].to_numpy() >= site_area[multi] * (1 - WHOLE_SITE_REL_TOL))
        whole_l = (d == 1) & (top["overlap_len_m"].to_numpy() >= site_len[multi] * (1 - WHOLE_SITE_REL_TOL))
        area[multi[whole_a]] = site_area[multi[whole_a]]
        length[multi[whole_l]] = site_len[multi[whole_l]]
        multi = multi[~(whole_a | whole_l)]
    if len(multi) == 0:
        return area, length
    s_rel, t_idx = pz.tree.query(site_geoms[multi], predicate="intersects")
    s_idx = multi[s_rel]
    z_idx = pz.tile_zone[t_idx]
    wanted = set(zip(hits["site"].to_numpy().tolist(), hits["zone"].to_numpy().tolist(), strict=True))
    keep = np.fromiter(((a, b) in wanted for a, b in zip(s_idx.tolist(), z_idx.tolist(), strict=True)),
                       bool, len(s_idx))
    s_idx, t_idx = s_idx[keep], t_idx[keep]
    # polygons: the union of the site's pieces in each hit zone (areas are robust to
    # the float noise of separately computed pieces); lines: the line cut once by the
    # union of the hit zones' tiles clipped to its box (a union of separately cut
    # collinear pieces would count their overlaps twice)
    line = dims[s_idx] == 1
    parts = np.empty(len(s_idx), dtype=object)
    parts[~line] = shapely.intersection(site_geoms[s_idx[~line]], pz.tiles[t_idx[~line]])
    if line.any():
        b = shapely.bounds(site_geoms[s_idx[line]])
        frame = shapely.box(b[:, 0] - 1, b[:, 1] - 1, b[:, 2] + 1, b[:, 3] + 1)
        parts[line] = shapely.intersection(pz.tiles[t_idx[line]], frame)
    order = np.argsort(s_idx, kind="stable")
    s_sorted, p_sorted = s_idx[order], parts[order]
    bounds = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1], True])
    sites_u = s_sorted[bounds[:-1]]
    merged = np.array([shapely.union_all(p_sorted[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
                      dtype=object)
    d = dims[sites_u]
    if (d == 2).any():
        area[sites_u[d == 2]] = ellipsoidal_area(merged[d == 2])
    if (d == 1).any():
        inside = shapely.intersection(site_geoms[sites_u[d == 1]], merged[d == 1])
        length[sites_u[d == 1]] = ellipsoidal_length(inside)
    return area, length


class _Labels:
    """Builds a categorical column from integer codes, adding each distinct label once."""

    def __init__(self, labels=()):
        self.labels: list[str] = []
        self.index: dict[str, int] = {}
        for lab in labels:
            self.code(lab)

    def code(self, label: str) -> int:
        c = self.index.get(label)
        if c is None:
            c = self.index[label] = len(self.labels)
            self.labels.append(label)
        return c

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64),
                                         categories=pd.Index(self.labels, dtype="str"))


def _reasons(vcode, lcode, level_labels, zh_code, dec_code, name_labels, acts, dims, ov_ha, ov_m, ov_pct,
             nz_code, dist, rcode, rule_labels, rules_by_id, buffer_m, out_pct=None) -> pd.Categorical:
    """Bilingual reason per site: templates for the common cases, numbers where they differ.

    A line or polygon partly outside Jixi (``0 < out_pct < 100``) gets a second
    sentence giving the share outside, which no rule here covers.

    Sites are described by integer codes into label lists (levels, zone names,
    activities, rules); each distinct sentence is built once.
    """
    names = R.activities().set_index("activity")[["name_zh", "name_en"]]
    act_text = {a: tuple(names.loc[a]) for a in names.index}
    act_text["unspecified"] = ("未说明活动类型（按最严格解释）", "activity not given (strictest reading)")
    act_codes, act_names = acts
    lab = _Labels()
    codes = np.zeros(len(vcode), dtype=np.int64)
    codes[vcode == R.VERDICT_RANK["outside_jixi"]] = lab.code("场址不在鸡西市域内。/ The site is outside Jixi.")
    codes[vcode == R.VERDICT_RANK["clear"]] = lab.code(
        f"不在任何管控区内，{buffer_m:,.0f} 米范围内也无管控区。/ In no control zone and none within "
        f"{buffer_m:,.0f} m.")
    near = np.flatnonzero((vcode == R.VERDICT_RANK["attention"]) & (lcode == 0))
    if len(near):  # one sentence per (nearest zone, distance in whole metres)
        metres = np.round(dist[near]).astype(np.int64)
        kc = _row_codes([nz_code[near], metres])
        _, first = np.unique(kc, return_index=True)
        texts = []
        for f in first:
            nearest, d = name_labels[nz_code[near[f]]], dist[near[f]]
            texts.append(lab.code(f"距{nearest} {d:,.0f} 米（缓冲 {buffer_m:,.0f} 米内）。/ {d:,.0f} m from "
                                  f"{nearest} (within the {buffer_m:,.0f} m buffer)."))
        codes[near] = np.asarray(texts, dtype=np.int64)[kc]
    heads: dict = {}

    def head(i):
        key = (lcode[i], zh_code[i], dec_code[i], act_codes[i], rcode[i])
        if key not in heads:
            level = level_labels[lcode[i]]
            lz, le = LEVEL_NAMES.get(level, (level, level))
            zn = name_labels[zh_code[i]].split("; ")
            hd = name_labels[dec_code[i]] or zn[0]
            more_zh = f"等 {len(zn)} 个管控区" if len(zn) > 1 else ""
            more_en = f" and {len(zn) - 1} more zone(s)" if len(zn) > 1 else ""
            an = act_text[act_names[act_codes[i]]]
            rule = rules_by_id[rule_labels[rcode[i]]]
            heads[key] = (f"位于{lz}（{hd}）{more_zh}内",
                          f"；活动：{an[0]}。{rule['rule_zh']} / Inside the {le} ({hd}){more_en}",
                          f"; activity: {an[1]}. {rule['rule_en']}")
        return heads[key]

    in_zone = lcode != 0
    # points: one sentence per distinct (level, zones, deciding zone, activity, rule)
    pts = np.flatnonzero(in_zone & (dims == 0))
    if len(pts):
        kc = _row_codes([a[pts] for a in (lcode, zh_code, dec_code, act_codes, rcode)])
        _, first = np.unique(kc, return_index=True)  # the first site of each key, by key code
        text_code = np.array([lab.code("".join(head(pts[f]))) for f in first], dtype=np.int64)
        codes[pts] = text_code[kc]
    # lines and polygons: one head per distinct template key; each distinct amount is
    # formatted once, and each distinct (head, amount, share) sentence is built once
    templates = ((2, ov_ha, "{:,.2f}", ("，重叠 ", " 公顷，占场址 ", ", ", " ha, ", "% of the site")),
                 (1, ov_m, "{:,.0f}", ("，区内长度 ", " 米，占 ", ", ", " m inside, ", "% of its length")))
    for dim, amounts, fmt, parts in templates:
        idx = np.flatnonzero(in_zone & (dims == dim))
        if len(idx) == 0:
            continue
        hk = _row_codes([a[idx] for a in (lcode, zh_code, dec_code, act_codes, rcode)])
        _, hfirst = np.unique(hk, return_index=True)
        hd = [head(idx[f]) for f in hfirst]
        amt_text, amt_code = _formatted(amounts[idx], fmt)
        pct_text, pct_code = _formatted(ov_pct[idx], "{:.1f}")
        kc = _row_codes([hk, amt_code, pct_code])
        _, first = np.unique(kc, return_index=True)
        p0, p1, p2, p3, p4 = parts
        texts = []
        for f in first:
            (a, b, c), m, q = hd[hk[f]], amt_text[amt_code[f]], pct_text[pct_code[f]]
            texts.append(lab.code(f"{a}{p0}{m}{p1}{q}%{b}{p2}{m}{p3}{q}{p4}{c}"))
        codes[idx] = np.asarray(texts, dtype=np.int64)[kc]
    if out_pct is not None:
        for i in np.flatnonzero((out_pct > 0) & (out_pct < 100)):
            what_zh, what_en = ("面积", "area") if dims[i] == 2 else ("长度", "length")
            shown = f"{out_pct[i]:.1f}" if out_pct[i] >= 0.05 else "<0.1"
            codes[i] = lab.code(f"{lab.labels[codes[i]]} 场址{what_zh}的 {shown}% 在鸡西市域外，"
                                "域外部分未按本工具规则检查。"
                                f"/ {shown}% of the site's {what_en} lies outside Jixi; that part is not checked by "
                                "these rules.")
    return lab.categorical(codes)


def _formatted(values: np.ndarray, fmt: str) -> tuple[list[str], np.ndarray]:
    """Each distinct value formatted once: (texts, code of each value into them)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return [fmt.format(v) for v in uniq], inverse.ravel()


def _label_location(reasons: pd.Categorical, precision: pd.Series) -> pd.Categorical:
    """Prefix the reason of each site whose ``location_precision`` has a label (e.g. illustrative)."""
    prec = precision.astype(object).where(precision.notna(), "").astype(str).to_numpy(dtype=object)
    flagged = np.isin(prec, list(R.LOCATION_LABELS))
    if not flagged.any():
        return reasons
    text = np.asarray(reasons.astype(str), dtype=object)
    for value in R.LOCATION_LABELS:
        sel = prec == value
        if sel.any():
            text[sel] = f"【{R.location_label(value)}】" + text[sel]
    return pd.Categorical(text)


def _with_crs_notes(reasons: pd.Categorical, gdf: gpd.GeoDataFrame) -> pd.Categorical:
    """``reasons`` with :func:`jixi_geo.sites.crs_note` appended where the input CRS was
    inferred (zone prefix) or assumed (lon/lat without a CRS)."""
    if "crs_from" not in gdf.columns or "input_crs" not in gdf.columns or not len(gdf):
        return reasons
    how_codes, how = pd.factorize(gdf["crs_from"].astype(object), use_na_sentinel=False)
    crs_codes, crs = pd.factorize(gdf["input_crs"].astype(object), use_na_sentinel=False)
    pair = _row_codes([how_codes, crs_codes])
    _, first = np.unique(pair, return_index=True)
    notes = [crs_note(str(how[how_codes[f]]), str(crs[crs_codes[f]])) for f in first]
    if not any(notes):
        return reasons
    if len(notes) == 1:  # one source, one CRS (the usual case): append to each distinct reason
        cats = [f"{c} {notes[0]}" for c in reasons.categories]
        return pd.Categorical.from_codes(reasons.codes, categories=pd.Index(cats, dtype="str"))
    _, pair = np.unique(pair, return_inverse=True)  # pair codes in the order of ``notes``
    combo = _row_codes([reasons.codes.astype(np.int64), pair])
    _, first = np.unique(combo, return_index=True)
    cats = np.asarray(reasons.categories, dtype=object)
    texts = [f"{cats[reasons.codes[f]]} {notes[pair[f]]}".strip() for f in first]
    _, combo = np.unique(combo, return_inverse=True)
    return _labels(combo, texts)


def _labels(codes: np.ndarray, labels: list) -> pd.Categorical:
    """Categorical of ``labels[codes]`` built from integer codes (labels may repeat)."""
    lab_codes, lab_uniq = pd.factorize(np.asarray(labels, dtype=object))
    return pd.Categorical.from_codes(lab_codes[codes], categories=pd.Index(list(lab_uniq), dtype="str"))


@with_read_options_doc
def check_sites(sites, *, activity: str | None = None, zones: gpd.GeoDataFrame | None = None,
                buffer_m: float = 1000.0, tolerance_ha: float = 0.01, search_m: float = 10_000.0,
                zones_layer: str | None = None, method: Literal["fast", "reference"] = "fast",
                coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | None = None, crs=None,
                id_column: str | None = None, layer: str | int | None = None, encoding: str | None = None,
                make_valid: bool = False, cad_layer: str | None = None, sheet: str | int | None = None,
                name_column: str | None = None) -> gpd.GeoDataFrame:
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
    for accepts, check in _PARTITIONED:
        if accepts(sites):
            return check(sites, **options, **read.kwargs())
    gdf, geoms, pz, pairs, acts = _run(sites, read=read, **options)
    result = _assemble(gdf, geoms, pz, pairs, acts, buffer_m=buffer_m, tolerance_ha=tolerance_ha)
    if isinstance(sites, pd.DataFrame):
        # keep the input's index, as geopandas' sjoin keeps the left index, so results join back by index
        result.index = sites.index
    return result


def _row_codes(arrays: list[np.ndarray]) -> np.ndarray:
    """One integer code per row of several non-negative integer arrays (equal rows, equal codes)."""
    radix = [int(a.max()) + 1 if len(a) else 1 for a in arrays]
    if float(np.prod(np.array(radix, dtype=float))) < 2.0 ** 62:  # mixed-radix number, no overflow
        key = np.zeros(len(arrays[0]), dtype=np.int64)
        for a, r in zip(arrays, radix, strict=True):
            key = key * r + a
        return pd.factorize(key)[0]
    return pd.factorize(pd.MultiIndex.from_arrays(arrays))[0]


def _zone_combinations(site: np.ndarray, zone: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """Group (site, zone) rows, sorted by site, into each site's zone sequence.

    Returns the distinct sites, a code per site into the list of distinct zone
    sequences, and that list (tuples of zone positions, in row order).
    """
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    size = np.diff(np.r_[starts, len(site)])
    pos = np.arange(len(site)) - np.repeat(starts, size)
    rows = np.full((len(starts), int(size.max())), -1, dtype=np.int64)
    rows[np.repeat(np.arange(len(starts)), size), pos] = zone
    codes = _row_codes(list(rows.T + 1))
    _, first = np.unique(codes, return_index=True)
    combos = [tuple(int(z) for z in rows[f] if z >= 0) for f in first]
    return site[starts], codes, combos


def _assemble(gdf, geoms, pz, pairs: Pairs, acts, *, buffer_m, tolerance_ha) -> gpd.GeoDataFrame:
    """Apply the rules to the kernel's pairs and build the result table, in named steps.

    Text columns are categoricals built from integer codes: a million sites share a
    few dozen distinct verdicts, rules and zone names.
    """
    n = len(gdf)
    dims, site_area, site_len = _site_measures(geoms)
    hits = _hit_table(pairs, pz, acts, dims, tolerance_ha)
    zl = _zone_labels(pz.zones)
    level_lab = _Labels([""])
    rule_lab = _Labels([CLEAR_RULE["rule_id"], NEAR_RULE["rule_id"], OUTSIDE_RULE["rule_id"]])
    vcode, lcode, rcode, deciding = _deciding_hits(hits, n, level_lab, rule_lab)
    inside = deciding >= 0
    zh_code, zi_code = _zone_columns(hits, n, zl)
    nearest_zone, distance = _nearest_columns(pairs, deciding)
    vcode, lcode, rcode = _verdict_codes(vcode, lcode, rcode, inside, nearest_zone, distance, pairs.in_jixi,
                                         rule_lab, buffer_m=buffer_m)
    overlap_ha, overlap_m, pct = _overlap_columns(geoms, pz, hits, dims, site_area, site_len, inside)
    decider = np.where(inside, zl.name_code[np.maximum(deciding, 0)], 0)
    nz_code = np.where(nearest_zone >= 0, zl.name_code[np.maximum(nearest_zone, 0)], 0)
    nzi_code = np.where(nearest_zone >= 0, zl.id_code[np.maximum(nearest_zone, 0)], 0)
    out_pct = _outside_share(geoms, dims, pairs.in_jixi, site_area, site_len)
    rules_by_id = _rules_by_id()
    reasons = _reason_column(gdf, vcode, lcode, level_lab.labels, zh_code, decider, zl.names.labels, acts, dims,
                             overlap_ha, overlap_m, pct, nz_code, distance, rcode, rule_lab.labels, rules_by_id,
                             buffer_m, out_pct)
    rule_texts = {k: [rules_by_id[r][k] for r in rule_lab.labels] for k in ("rule_zh", "rule_en", "basis")}
    added = {
        "verdict": pd.Categorical.from_codes(vcode, categories=pd.Index(list(R.VERDICTS), dtype="str")),
        "verdict_zh": pd.Categorical.from_codes(vcode, categories=pd.Index(
            [R.VERDICT_NAMES[v][0] for v in R.VERDICTS], dtype="str")),
        "control_level": level_lab.categorical(lcode),
        "zones_hit": zl.names.categorical(zh_code), "zone_ids": zl.ids.categorical(zi_code),
        "overlap_ha": np.round(overlap_ha, 6), "overlap_m": np.round(overlap_m, 3),
        "overlap_pct": np.round(pct, 4), "outside_jixi_pct": np.round(out_pct, 4),
        "nearest_zone": zl.names.categorical(nz_code), "nearest_zone_id": zl.ids.categorical(nzi_code),
        "distance_m": np.round(distance, 3),
        "activity": pd.Categorical.from_codes(acts[0], categories=pd.Index(acts[1], dtype="str")),
        "rule_id": rule_lab.categorical(rcode),
        "rule": _labels(rcode, rule_texts["rule_en"]), "rule_zh": _labels(rcode, rule_texts["rule_zh"]),
        "basis": _labels(rcode, rule_texts["basis"]), "reasons": reasons,
        **_stamp_columns(gdf, pz.sha256),
    }
    return _frame_join(gdf, added)


class _ZoneLabels(NamedTuple):
    """Label lists of zone names and ids, and each zone's code into them."""

    names: _Labels  # "" then each zone's name_zh; combinations of names are added as found
    ids: _Labels  # "" then each zone's id; likewise
    name_code: np.ndarray  # per zone position: its code in ``names``
    id_code: np.ndarray  # per zone position: its code in ``ids``
    name_zh: np.ndarray  # per zone position: its name (object array)
    zone_id: np.ndarray  # per zone position: its id as text (object array)


def _zone_labels(zones: gpd.GeoDataFrame) -> _ZoneLabels:
    """The label lists of the zones' names and ids, with the empty label first (code 0: no zone)."""
    zname = zones["name_zh"].astype(str).to_numpy(dtype=object)
    zid = zones["id"].astype(str).to_numpy(dtype=object)
    names, ids = _Labels([""]), _Labels([""])
    name_code = np.array([names.code(v) for v in zname], dtype=np.int64)
    id_code = np.array([ids.code(v) for v in zid], dtype=np.int64)
    return _ZoneLabels(names, ids, name_code, id_code, zname, zid)


def _deciding_hits(hits: pd.DataFrame, n: int, level_lab: _Labels,
                   rule_lab: _Labels) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each site's deciding hit: the most severe verdict, then the strictest level, then zone order.

    Returns
    -------
    vcode, lcode, rcode : numpy.ndarray of int64
        Per site: the verdict rank (``clear`` where no hit), the code of the control
        level in ``level_lab`` (0: none) and of the rule in ``rule_lab`` (0: CLEAR).
    deciding : numpy.ndarray of int64
        Per site: the position of the deciding zone, -1 for sites in no zone.
    """
    vcode = np.full(n, R.VERDICT_RANK["clear"], dtype=np.int64)
    lcode = np.zeros(n, dtype=np.int64)
    rcode = np.zeros(n, dtype=np.int64)
    deciding = np.full(n, -1, dtype=np.int64)
    if len(hits):
        best = hits.sort_values(["site", "rank", "level_rank", "zone"]).drop_duplicates("site")
        s = best["site"].to_numpy()
        vcode[s] = best["rank"].to_numpy()
        for col, lab, dest in (("control_level", level_lab, lcode), ("rule_id", rule_lab, rcode)):
            cat = best[col].array  # categorical: recode its categories into the label list
            dest[s] = np.array([lab.code(str(u)) for u in cat.categories], dtype=np.int64)[cat.codes]
        deciding[s] = best["zone"].to_numpy()
    return vcode, lcode, rcode, deciding


def _zone_columns(hits: pd.DataFrame, n: int, zl: _ZoneLabels) -> tuple[np.ndarray, np.ndarray]:
    """Per site, the codes of the zones hit (names and ids, strictest level first, ``"; "``-joined).

    One label per distinct combination of zones, added to ``zl.names`` and ``zl.ids``;
    code 0 (``""``) for sites in no zone.
    """
    zh_code = np.zeros(n, dtype=np.int64)
    zi_code = np.zeros(n, dtype=np.int64)
    if len(hits):
        ordered = hits.sort_values(["site", "level_rank", "zone"])
        combo_sites, combo, combos = _zone_combinations(ordered["site"].to_numpy(), ordered["zone"].to_numpy())
        name_of = np.array([zl.names.code("; ".join(zl.name_zh[list(c)])) for c in combos], dtype=np.int64)
        id_of = np.array([zl.ids.code("; ".join(zl.zone_id[list(c)])) for c in combos], dtype=np.int64)
        zh_code[combo_sites] = name_of[combo]
        zi_code[combo_sites] = id_of[combo]
    return zh_code, zi_code


def _nearest_columns(pairs: Pairs, deciding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per site, the nearest zone's position (-1: none within ``search_m``) and its distance (m).

    A site in a zone is at distance 0 from its deciding zone. A polygon touching
    zones only by slivers (below ``tolerance_ha``, so in no zone) lies at distance 0
    from the first zone it touches.
    """
    nearest_zone = pairs.nearest_zone.copy()
    distance = pairs.nearest_m.copy()
    inside = deciding >= 0
    nearest_zone[inside] = deciding[inside]
    distance[inside] = 0.0
    raw = pairs.hits
    sliver_only = np.zeros(len(deciding), dtype=bool)
    sliver_only[raw["site"].to_numpy()] = True
    sliver_only &= ~inside
    if sliver_only.any():
        first = raw[sliver_only[raw["site"].to_numpy()]].sort_values(["site", "zone"]).drop_duplicates("site")
        nearest_zone[first["site"].to_numpy()] = first["zone"].to_numpy()
        distance[first["site"].to_numpy()] = 0.0
    return nearest_zone, distance


def _verdict_codes(vcode: np.ndarray, lcode: np.ndarray, rcode: np.ndarray, inside: np.ndarray,
                   nearest_zone: np.ndarray, distance: np.ndarray, in_jixi: np.ndarray, rule_lab: _Labels, *,
                   buffer_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The final verdict, level and rule codes: ``attention`` near a zone, ``outside_jixi`` outside the city.

    A site in no zone but within ``buffer_m`` (metres) of one is ``attention`` (rule
    NEAR); a site outside Jixi is ``outside_jixi`` (rule OUTSIDE, no level),
    whatever else it is. Returns new arrays; the inputs are not changed.
    """
    vcode, lcode, rcode = vcode.copy(), lcode.copy(), rcode.copy()
    near = (~inside) & (distance <= buffer_m) & (nearest_zone >= 0)
    vcode[near] = R.VERDICT_RANK["attention"]
    rcode[near] = rule_lab.code(NEAR_RULE["rule_id"])
    outside = ~in_jixi
    vcode[outside] = R.VERDICT_RANK["outside_jixi"]
    rcode[outside] = rule_lab.code(OUTSIDE_RULE["rule_id"])
    lcode[outside] = 0
    return vcode, lcode, rcode


def _overlap_columns(geoms: np.ndarray, pz, hits: pd.DataFrame, dims: np.ndarray, site_area: np.ndarray,
                     site_len: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site, the overlap with the union of its zones: hectares (polygons), metres (lines), % of the site.

    Points are 100 % inside a zone or 0 %; ``overlap_ha``/``overlap_m`` are NaN
    where they do not apply (points; lines for ``overlap_ha``; polygons for
    ``overlap_m``). Unrounded.
    """
    n = len(geoms)
    ov_m2, ov_len = _union_overlap(geoms, pz, hits, dims, site_area, site_len)
    poly, line = np.flatnonzero(dims == 2), np.flatnonzero(dims == 1)
    overlap_ha = np.full(n, np.nan)
    overlap_ha[poly] = ov_m2[poly] / 1e4
    overlap_m = np.full(n, np.nan)
    overlap_m[line] = ov_len[line]
    pct = np.where(inside, 100.0, 0.0)  # points: all or nothing
    with np.errstate(invalid="ignore", divide="ignore"):
        pct[poly] = ov_m2[poly] / site_area[poly] * 100
        pct[line] = ov_len[line] / site_len[line] * 100
    if len(poly) or len(line):
        pct = np.clip(np.nan_to_num(pct), 0, 100)
    return overlap_ha, overlap_m, pct


def _rules_by_id() -> dict[str, dict]:
    """rule_id -> rule row of ``verdict_rules.csv``, plus the NEAR, CLEAR and OUTSIDE rules."""
    rules_by_id = {r["rule_id"]: r for r in R.verdict_rules().to_dict("records")}
    for special in (NEAR_RULE, CLEAR_RULE, OUTSIDE_RULE):
        rules_by_id[special["rule_id"]] = special
    return rules_by_id


def _reason_column(gdf: gpd.GeoDataFrame, vcode, lcode, level_labels, zh_code, decider, name_labels, acts, dims,
                   overlap_ha, overlap_m, pct, nz_code, distance, rcode, rule_labels, rules_by_id, buffer_m,
                   out_pct) -> pd.Categorical:
    """The bilingual ``reasons`` column: the sentence of :func:`_reasons`, then the CRS note
    where the input CRS was inferred (:func:`_with_crs_notes`), with the location-precision
    label in front where the sites have one (:func:`_label_location`)."""
    reasons = _reasons(vcode, lcode, level_labels, zh_code, decider, name_labels, acts, dims, overlap_ha,
                       overlap_m, pct, nz_code, distance, rcode, rule_labels, rules_by_id, buffer_m, out_pct=out_pct)
    reasons = _with_crs_notes(reasons, gdf)
    if "location_precision" in gdf.columns:
        reasons = _label_location(reasons, gdf["location_precision"])
    return reasons


def _stamp_columns(gdf: gpd.GeoDataFrame, zones_sha256: str) -> dict[str, pd.Categorical]:
    """The audit stamp: package version, zone checksum, rule-table version and time (UTC), one value
    for every row (a one-category column, no per-row strings); empty CRS columns if the sites lack them."""
    n = len(gdf)
    stamp = {"jixi_geo_version": __version__, "zones_sha256": zones_sha256, "rules_version": R.rules_version(),
             "checked_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    for k in ("input_crs", "crs_from", "converted_from"):
        if k not in gdf.columns:
            stamp[k] = ""
    return {k: _constant(v, n) for k, v in stamp.items()}


def _frame_join(gdf: gpd.GeoDataFrame, added: dict) -> gpd.GeoDataFrame:
    """The sites' own columns and the ``added`` result columns in their final order, put together once
    (no intermediate frames), with the sites' index and geometry, in EPSG:4490.

    Order: ``site_id``, the input's other columns, then :data:`RESULT_COLUMNS`.
    """
    geom = gdf.geometry.name
    front = [c for c in gdf.columns if c not in RESULT_COLUMNS and c != geom]
    cols = ["site_id"] + [c for c in front if c != "site_id"] + [c for c in RESULT_COLUMNS if c != "site_id"]
    data = {c: (added[c] if c in added else gdf[c].array) for c in cols}
    if geom == "geometry":
        result = gpd.GeoDataFrame(data, index=gdf.index, geometry=gdf.geometry.array)
    else:
        data[geom] = gdf.geometry.array
        result = gpd.GeoDataFrame(pd.DataFrame(data, index=gdf.index, copy=False), geometry=geom, crs=gdf.crs)
    return result if STORAGE_CRS.equals(result.crs) else result.to_crs(STORAGE_CRS)


@with_read_options_doc
def check_sites_detail(sites, *, activity: str | None = None, zones: gpd.GeoDataFrame | None = None,
                       buffer_m: float = 1000.0, tolerance_ha: float = 0.01, search_m: float | None = None,
                       zones_layer: str | None = None, method: Literal["fast", "reference"] = "fast",
                       coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | None = None, crs=None,
                       id_column: str | None = None, layer: str | int | None = None, encoding: str | None = None,
                       make_valid: bool = False, cad_layer: str | None = None, sheet: str | int | None = None,
                       name_column: str | None = None) -> pd.DataFrame:
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
    gdf, geoms, pz, pairs, acts = _run(sites, read=read, activity=activity, zones=zones, zones_layer=zones_layer,
                                       buffer_m=buffer_m, tolerance_ha=tolerance_ha, search_m=buffer_m,
                                       method=method)
    dims, site_area, site_len = _site_measures(geoms)
    hits = _hit_table(pairs, pz, acts, dims, tolerance_ha)
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
    return out.reset_index(drop=True)
