"""Where polygon layers overlap, and how land use splits inside zones.

Three questions, one way of measuring:

- :func:`overlap`: every intersecting pair of features of two layers, with the
  overlap area and its share of each feature;
- :func:`overlap_matrix`: the same for all pairs among several layers, as one
  long table or one square matrix;
- :func:`share_split`: the area and share of each land-use class inside each zone,
  with an ``"unclassified"`` remainder so each zone adds up to 100 %.

How areas are measured
----------------------
Inputs may come in any CRS; they are **transformed** (``to_crs``, never relabelled)
to EPSG:4553 (CGCS2000 3° Gauss-Kruger CM 132E), where the intersections are
computed. Every area reported — features, overlaps, shares — is then measured
**geodesically on the CGCS2000 ellipsoid** (:func:`jixi_geo.crs.geodesic_area`,
pieces transformed to EPSG:4490 first), as official Chinese figures are. Planar
areas (in metres or degrees) are never reported.

Features sharing a key value are **dissolved** (unioned) per key before
measuring, so a feature split into several rows, or overlapping rows of one key,
count once: shares never exceed 100 % and nothing is counted twice. Candidate
pairs come from a :class:`shapely.STRtree` (``query(..., predicate="intersects")``).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._validate import polygonal_part, resolve_layer, validate_layer
from .crs import ANALYSIS_CRS
from ._args import amount
from .errors import InputError, JixiGeoWarning, UnknownCodeError
from .units import AreaUnit, check_area_unit, convert_area

__all__ = ["overlap", "overlap_matrix", "share_split", "UNCLASSIFIED", "CLASS_OVERLAP_WARN_M2", "dissolve_by_key"]

log = logging.getLogger(__name__)

#: Class label of the part of a zone no land-use class covers (:func:`share_split`).
UNCLASSIFIED = "unclassified"
#: :func:`share_split` warns when land-use classes overlap each other by more than this (m²).
CLASS_OVERLAP_WARN_M2 = 1.0
#: How many dissolved layers are kept for the session (the least recently used goes first).
_DISSOLVED_MAX = 8
#: Layers of at most this many features (zone layers) are tiled by :func:`jixi_geo._zones.prepare`,
#: cached on disk and shared with the site checks; larger ones are tiled for the session only.
_SHARED_TILES_MAX = 10_000

_NAME_COL = "name_zh"
_FORMS = ("long", "wide")
_LEVELS = (None, "major")
_GB50137_CODE = re.compile(r"^[A-Z][0-9]*$")


# --------------------------------------------------------------------------- helpers


def _check_tolerance(tolerance_ha) -> float:
    return amount(tolerance_ha, name="tolerance_ha", unit="ha")


@dataclass
class _Dissolved:
    """A layer dissolved per key, in EPSG:4553, with geodesic areas (measured when first needed)."""

    label: str  # for messages, e.g. "layer 'corridors'"
    key: str
    keys: np.ndarray  # key values, one per dissolved feature, first-appearance order
    names: np.ndarray | None  # name_zh per dissolved feature, or None if the layer has none
    geoms: np.ndarray  # shapely polygons in EPSG:4553
    _area: np.ndarray | None  # geodesic, CGCS2000 ellipsoid (NaN: not measured yet)
    n_rows: int  # rows before dissolving
    #: the validated layer in its own CRS, kept when dissolving changed nothing and the layer is
    #: small (a zone layer): its tiles are then the cached ones of :func:`jixi_geo._zones.prepare`
    source: gpd.GeoDataFrame | None = None

    @property
    def area_m2(self) -> np.ndarray:
        """Geodesic area (m²) of every dissolved feature."""
        return self.area_of(np.arange(len(self.geoms)))

    def area_of(self, idx: np.ndarray) -> np.ndarray:
        """Geodesic area (m²) of the features at ``idx``, each measured once."""
        if self._area is None:
            self._area = np.full(len(self.geoms), np.nan)
        idx = np.asarray(idx, dtype=np.int64)
        todo = np.unique(idx[np.isnan(self._area[idx])])
        if len(todo):
            self._area[todo] = _measure(self.geoms[todo])
        return self._area[idx]


def _measure(geoms) -> np.ndarray:
    """Geodesic area (m²) of EPSG:4553 geometries, on the CGCS2000 ellipsoid.

    The same numbers as :func:`jixi_geo.crs.geodesic_area` (pyproj's
    ``Geod.geometry_area_perimeter`` on the geometries transformed to EPSG:4490: each
    ring's signed area, holes added to their polygon, polygons summed, absolute
    value), with the rings read as coordinate arrays: their coordinates are
    transformed as ``to_crs`` transforms them (the same pyproj transformer, point by
    point), without building transformed geometries.
    """
    if len(geoms) == 0:
        return np.zeros(0)
    from .crs import STORAGE_GEOD

    g = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    out = np.zeros(len(g))
    dims = shapely.get_dimensions(g)
    ok = np.flatnonzero((dims == 2) & ~shapely.is_empty(g))
    if len(ok) == 0:
        return out
    parts, part_of = shapely.get_parts(g[ok], return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, part_of = parts[poly], part_of[poly]
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, coord_of = shapely.get_coordinates(rings, return_index=True)
    if shapely.has_z(g[ok]).any():  # to_crs would transform z too: measure what it gives
        from .crs import STORAGE_CRS

        return _measure_projected(geoms, STORAGE_CRS, STORAGE_GEOD)
    x, y = _to_storage().transform(xy[:, 0], xy[:, 1])
    bounds = np.searchsorted(coord_of, np.arange(len(rings) + 1))
    # pyproj's public polygon_area_perimeter copies each input to a buffer first; the
    # coordinates here are already contiguous float64 buffers, so its inner routine is
    # called directly where pyproj has it (the same computation, the same numbers; it
    # reads the arrays only, as radians=False)
    inner = getattr(STORAGE_GEOD, "_polygon_area_perimeter", None)
    x, y = np.ascontiguousarray(x, dtype=float), np.ascontiguousarray(y, dtype=float)
    if inner is not None:
        ring_area = np.array([inner(x[a:b], y[a:b], radians=False)[0]
                              for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)])
    else:  # pragma: no cover - other pyproj versions
        ring_area = np.array([STORAGE_GEOD.polygon_area_perimeter(x[a:b], y[a:b])[0]
                              for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    # the polygon's exterior plus its holes, in ring order, as pyproj adds them; then the
    # polygons of each geometry (bincount adds in input order, as those loops do)
    poly_area = np.bincount(ring_of, weights=ring_area, minlength=len(parts))
    total = np.bincount(part_of, weights=poly_area, minlength=len(ok))
    out[ok] = np.abs(total)
    return out


@functools.lru_cache(maxsize=1)
def _to_storage():
    """The transformer ``GeoSeries.to_crs`` uses from EPSG:4553 to EPSG:4490 (always x/y)."""
    import pyproj

    from .crs import STORAGE_CRS

    return pyproj.Transformer.from_crs(ANALYSIS_CRS, STORAGE_CRS, always_xy=True)


def _measure_projected(geoms, crs, geod) -> np.ndarray:
    """Geodesic areas of EPSG:4553 geometries transformed with ``to_crs`` (3-D input)."""
    g = np.asarray(gpd.GeoSeries(list(geoms), crs=ANALYSIS_CRS).to_crs(crs).values, dtype=object)
    out = np.zeros(len(g))
    for i, gi in enumerate(g):
        if gi is not None and not gi.is_empty and shapely.get_dimensions(gi) == 2:
            out[i] = abs(geod.geometry_area_perimeter(gi)[0])
    return out


def dissolve_by_key(gdf: gpd.GeoDataFrame, key: str):
    """Union the geometries of rows sharing a key value (shared with :mod:`jixi_geo.raster`).

    Returns
    -------
    keys : numpy.ndarray
        One key value per group, in order of first appearance, original dtype.
    geoms : numpy.ndarray
        The union of each group's geometries.
    names : numpy.ndarray or None
        The group's distinct ``name_zh`` values joined with "、" (None if no such column).
    """
    codes, _ = pd.factorize(gdf[key], sort=False)
    if len(codes) and codes.max() == len(codes) - 1:
        # every key once: nothing to union (codes number keys by first appearance)
        geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
        names = None
        if _NAME_COL in gdf.columns:
            raw = gdf[_NAME_COL].to_numpy(dtype=object)
            names = np.array([v if isinstance(v, str) and v else None for v in raw], dtype=object)
        return gdf[key].to_numpy(), geoms, names
    first = pd.Series(np.arange(len(codes))).groupby(codes, sort=True).indices
    geoms_in = np.asarray(gdf.geometry.values, dtype=object)
    order = sorted(first, key=lambda c: first[c][0])
    keys = gdf[key].to_numpy()[[first[c][0] for c in order]]
    geoms = np.empty(len(order), dtype=object)
    names = np.empty(len(order), dtype=object) if _NAME_COL in gdf.columns else None
    for j, c in enumerate(order):
        idx = first[c]
        geoms[j] = geoms_in[idx[0]] if len(idx) == 1 else shapely.union_all(geoms_in[idx])
        if names is not None:
            vals = [v for v in pd.unique(gdf[_NAME_COL].iloc[idx]) if isinstance(v, str) and v]
            names[j] = "、".join(vals) if vals else None
    return keys, geoms, names


def _prepare(layer, *, key: str, arg: str, make_valid: bool, gdf_label=None, cache: bool = False) -> _Dissolved:
    gdf, label = resolve_layer(layer, arg=arg) if gdf_label is None else gdf_label
    gdf = validate_layer(gdf, name=label, geom_type="polygon", key=key, make_valid=make_valid)
    ckey = None
    if cache:
        ckey = (_layer_sha256(gdf, key), key, label, bool(make_valid))
        hit = _DISSOLVED.get(ckey)
        if hit is not None:
            _DISSOLVED.move_to_end(ckey)
            return hit
    source = gdf
    gdf = gdf.to_crs(ANALYSIS_CRS)
    keys, geoms, names = dissolve_by_key(gdf, key)
    ndup = len(gdf) - len(keys)
    if ndup:
        log.info("%s: %d rows share a %r value with another row; dissolved to %d features",
                 label, ndup, key, len(keys))
    out = _Dissolved(label, key, keys, names, geoms, None, len(gdf),
                     source if ndup == 0 and len(gdf) <= _SHARED_TILES_MAX else None)
    if ckey is not None:
        _DISSOLVED[ckey] = out
        while len(_DISSOLVED) > _DISSOLVED_MAX:
            _DISSOLVED.popitem(last=False)
    return out


#: Layers dissolved per key, kept for the session (least recently used dropped beyond _DISSOLVED_MAX).
_DISSOLVED: OrderedDict[tuple, _Dissolved] = OrderedDict()
_TILES: dict[tuple, tuple] = {}


def _layer_sha256(gdf: gpd.GeoDataFrame, key: str) -> str:
    """Checksum of what a dissolved layer depends on: CRS, key and name values, geometry."""
    import hashlib

    h = hashlib.sha256((gdf.crs.to_string() if gdf.crs is not None else "none").encode())
    for col in [key] + ([_NAME_COL] if _NAME_COL in gdf.columns and _NAME_COL != key else []):
        v = gdf[col]
        h.update(f"{col}\x1e{v.dtype}\x1e".encode())
        h.update("\x1f".join(map(repr, v.tolist())).encode())
    h.update(b"".join(shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object))))
    return h.hexdigest()


def _tiled(d: _Dissolved, tile_m: float = 5_000.0):
    """``d``'s features cut into ``tile_m`` squares: (tiles, feature of each tile, prepared copies, STRtree).

    A small layer dissolved to itself (a zone layer) is tiled by :func:`jixi_geo._zones.prepare`,
    which caches the tiles in memory and on disk, so a fresh process reuses the tiles a site
    check made; they are used when that preparation holds exactly ``d``'s geometries.
    """
    from . import _zones

    if d.source is not None and len(d.geoms):
        pz = _zones.prepare(d.source, tile_m=tile_m)
        if len(pz.geoms) == len(d.geoms) and np.array_equal(shapely.to_wkb(pz.geoms), shapely.to_wkb(d.geoms)):
            return pz.tiles, pz.tile_zone, _zones.thread_tiles(pz), pz.tree
    k = (id(d), tile_m)
    hit = _TILES.get(k)
    if hit is not None and hit[0] is d:
        return hit[1]
    tiles, owner = _zones.tile(d.geoms, tile_m) if len(d.geoms) else (np.empty(0, dtype=object), np.zeros(0, int))
    prepared = shapely.from_wkb(shapely.to_wkb(tiles))
    shapely.prepare(prepared)
    value = (tiles, owner, prepared, shapely.STRtree(tiles))
    _TILES.clear()  # one tiled layer at a time: the zones of the last call
    _TILES[k] = (d, value)
    return value


def _pairs_tiled(a: _Dissolved, b: _Dissolved):
    """:func:`_pairs` through 5 km tiles of the layer with the larger features.

    Small features of the other layer are tested against small tiles instead of
    whole zones of thousands of vertices; a feature lying wholly inside a tile
    overlaps it by all of itself (no intersection computed, its own area reused).
    Tiles of one feature are disjoint, so per-tile areas add up to the overlap.
    """
    if len(a.geoms) == 0 or len(b.geoms) == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    nverts = [shapely.get_num_coordinates(x.geoms).mean() for x in (a, b)]
    swap = nverts[0] > nverts[1]
    big, small = (a, b) if swap else (b, a)
    tiles, owner, prepared, tree = _tiled(big)
    # candidates from the tiles' boxes, tested on the prepared tiles (containment first: a
    # tile containing the feature intersects it)
    i_small, t = tree.query(small.geoms)
    whole = shapely.contains_properly(prepared[t], small.geoms[i_small])
    rest = np.flatnonzero(~whole)
    hit = whole.copy()
    hit[rest] = shapely.intersects(prepared[t[rest]], small.geoms[i_small[rest]])
    i_small, t, whole = i_small[hit], t[hit], whole[hit]
    i_big = owner[t]
    area = np.zeros(len(t))
    if whole.any():  # wholly inside one tile: the overlap is the feature itself
        area[whole] = small.area_of(i_small[whole])
    pairs = pd.DataFrame({"s": i_small, "g": i_big, "whole": whole, "m2": area})
    pairs = pairs.groupby(["s", "g"], sort=False, as_index=False).agg(whole=("whole", "any"), m2=("m2", "sum"))
    # a feature crossing tile edges but covered by the large feature (prepared) overlaps it by
    # all of itself too
    cut = np.flatnonzero(~pairs["whole"].to_numpy())
    if len(cut):
        s_idx, g_idx = pairs["s"].to_numpy()[cut], pairs["g"].to_numpy()[cut]
        covered = shapely.covers(_prepared_geoms(big)[g_idx], small.geoms[s_idx])
        if covered.any():
            m2 = pairs["m2"].to_numpy().copy()
            m2[cut[covered]] = small.area_of(s_idx[covered])
            w = pairs["whole"].to_numpy().copy()
            w[cut[covered]] = True
            pairs["m2"], pairs["whole"] = m2, w
    # a feature not wholly inside one tile is intersected with the large feature clipped to
    # its box (plus a margin): the piece has the vertices of the whole intersection, so its
    # geodesic area is the old one (a piece cut at tile edges would gain vertices on the
    # edges, and geodesic area between them differs in the 7th digit for long edges)
    cut = np.flatnonzero(~pairs["whole"].to_numpy())
    if len(cut):
        s_idx, g_idx = pairs["s"].to_numpy()[cut], pairs["g"].to_numpy()[cut]
        bx = shapely.bounds(small.geoms[s_idx])
        pad = 1.0 + 1e-6 * np.abs(bx).max(axis=1)
        near = np.array([shapely.clip_by_rect(big.geoms[g], x0 - p, y0 - p, x1 + p, y1 + p)
                         for g, (x0, y0, x1, y1), p in zip(g_idx, bx, pad, strict=True)], dtype=object)
        pieces = polygonal_part(shapely.intersection(small.geoms[s_idx], near))
        m2 = pairs["m2"].to_numpy().copy()
        m2[cut] = _measure(pieces)
        pairs["m2"] = m2
    ia, ib = (pairs["g"], pairs["s"]) if swap else (pairs["s"], pairs["g"])
    df = pd.DataFrame({"a": ia.to_numpy(), "b": ib.to_numpy(), "m2": pairs["m2"].to_numpy()})
    df = df.sort_values(["a", "b"], kind="stable", ignore_index=True)
    return df["a"].to_numpy(), df["b"].to_numpy(), df["m2"].to_numpy()


_LOCAL = threading.local()


def _prepared_geoms(d: _Dissolved) -> np.ndarray:
    """This thread's GEOS-prepared copy of ``d.geoms`` (preparing is lazy and not thread-safe)."""
    cache = _LOCAL.__dict__.setdefault("prepared", {})
    hit = cache.get(id(d))
    if hit is not None and hit[0] is d:
        return hit[1]
    geoms = shapely.from_wkb(shapely.to_wkb(d.geoms))
    shapely.prepare(geoms)
    cache.clear()  # one layer at a time: the large features of the last call
    cache[id(d)] = (d, geoms)
    return geoms


def _pairs(a: _Dissolved, b: _Dissolved):
    """Indices and geodesic overlap areas (m²) of every intersecting pair."""
    if len(a.geoms) == 0 or len(b.geoms) == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    tree = shapely.STRtree(b.geoms)
    ia, ib = tree.query(a.geoms, predicate="intersects")
    order = np.lexsort((ib, ia))
    ia, ib = ia[order], ib[order]
    pieces = polygonal_part(shapely.intersection(a.geoms[ia], b.geoms[ib]))
    return ia, ib, _measure(pieces)


def _pct(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    out = np.full(len(part), np.nan)
    ok = whole > 0
    out[ok] = np.minimum(part[ok] / whole[ok] * 100.0, 100.0)  # min: rounding only
    return out


def _pair_table(a, b, ia, ib, ov, units, a_col, b_col, names_always=False) -> pd.DataFrame:
    cols: dict[str, object] = {a_col: a.keys[ia], b_col: b.keys[ib]}
    if a.names is not None and a.key != _NAME_COL or names_always:
        cols["a_name_zh"] = a.names[ia] if a.names is not None else np.full(len(ia), None)
    if b.names is not None and b.key != _NAME_COL or names_always:
        cols["b_name_zh"] = b.names[ib] if b.names is not None else np.full(len(ib), None)
    cols[f"overlap_{units}"] = convert_area(ov, "m2", units)
    area_a, area_b = a.area_of(ia), b.area_of(ib)  # only the features in a pair are measured
    cols["share_of_a_pct"] = _pct(ov, area_a)
    cols["share_of_b_pct"] = _pct(ov, area_b)
    cols[f"a_{units}"] = convert_area(area_a, "m2", units)
    cols[f"b_{units}"] = convert_area(area_b, "m2", units)
    return pd.DataFrame(cols)


def _split_slivers(table: pd.DataFrame, ov_m2: np.ndarray, tol_ha: float):
    ov_ha = convert_area(ov_m2, "m2", "ha")
    keep = (ov_m2 > 0) & (ov_ha >= tol_ha)
    return (table[keep].reset_index(drop=True), table[~keep].reset_index(drop=True))


# --------------------------------------------------------------------------- overlap


def overlap(
    a,
    b,
    *,
    a_key: str = "id",
    b_key: str = "id",
    units: AreaUnit = "ha",
    tolerance_ha: float = 0.01,
    make_valid: bool = False,
    return_slivers: bool = False,
):
    """Overlap area and shares of every intersecting pair of features of two layers.

    Parameters
    ----------
    a, b : str or GeoDataFrame
        Polygon layers: bundled layer names (see :func:`jixi_geo.list_layers`) or
        GeoDataFrames in any CRS (transformed with ``to_crs``; a missing CRS is an
        error). Polygon and MultiPolygon may be mixed; other geometry types may not.
    a_key, b_key : str, keyword-only
        Columns identifying features. Keys need not be unique and need not be
        strings: rows sharing a value are **dissolved** (unioned) into one feature
        before measuring, so a key's share never exceeds 100 %.
    units : {"ha", "m2", "km2", "mu"}, keyword-only
        Unit of the area columns: hectares, square metres, km², 亩 (666.67 m²).
    tolerance_ha : float, keyword-only
        Pairs whose overlap is below this (hectares), including pairs that only
        touch (overlap 0), are *slivers*: left out of the main table.
    make_valid : bool, keyword-only
        Repair invalid polygons with :func:`shapely.make_valid` instead of raising.
    return_slivers : bool, keyword-only
        Also return the slivers table (same columns) as a second value.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
        One row per pair overlapping by at least ``tolerance_ha``, sorted by the
        order of first appearance of ``a``'s then ``b``'s keys, with columns

        - ``a_<a_key>``, ``b_<b_key>``: the key values (e.g. ``a_id``, ``b_control_level``);
        - ``a_name_zh``, ``b_name_zh``: when the layer has ``name_zh`` (distinct names of a
          dissolved key joined with "、");
        - ``overlap_<units>``: the overlap area;
        - ``share_of_a_pct``, ``share_of_b_pct``: overlap / feature area × 100 (0–100);
        - ``a_<units>``, ``b_<units>``: the (dissolved) features' areas.

        All areas are geodesic on the CGCS2000 ellipsoid. With
        ``return_slivers=True`` the result is ``(table, slivers)``. In both cases
        ``table.attrs["overlap"]`` records the layers, keys, units, tolerance and
        the number of slivers.

    Raises
    ------
    CRSError
        An input has no CRS.
    InvalidGeometryError
        Non-polygon or mixed geometry types, null/empty or invalid geometries
        (the message gives each :func:`shapely.is_valid_reason`; pass
        ``make_valid=True`` to repair).
    InputError
        An empty layer, a missing or null key, an unknown unit or a bad tolerance.
    LayerNotFoundError
        An unknown layer name.

    Notes
    -----
    Intersections are computed in EPSG:4553 and each piece is measured on the
    ellipsoid after transforming it to EPSG:4490. The GK projection enlarges
    areas by k² (≈1.000 on 132°E, ≈1.001 at 129.5°E), so planar EPSG:4553 areas
    differ from these by up to about 0.1 % in Jixi. ``overlap(b, a)`` is
    ``overlap(a, b)`` with the roles of a and b swapped.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> a = gpd.GeoDataFrame({"id": ["A"]}, geometry=[box(500_000, 5_000_000, 501_000, 5_001_000)],
    ...                      crs="EPSG:4553")
    >>> b = gpd.GeoDataFrame({"id": [7]}, geometry=[box(500_500, 5_000_500, 501_500, 5_001_500)],
    ...                      crs="EPSG:4553")
    >>> t = overlap(a, b)
    >>> (t[["a_id", "b_id"]].values.tolist(), round(float(t.loc[0, "overlap_ha"]), 2),
    ...  round(float(t.loc[0, "share_of_a_pct"]), 2))
    ([['A', 7]], 25.0, 25.0)
    """
    units = check_area_unit(units)
    tol = _check_tolerance(tolerance_ha)
    A = _prepare(a, key=a_key, arg="a", make_valid=make_valid, cache=True)
    B = _prepare(b, key=b_key, arg="b", make_valid=make_valid, cache=True)
    ia, ib, ov = _pairs_tiled(A, B)
    a_col, b_col = f"a_{a_key}", f"b_{b_key}"
    table = _pair_table(A, B, ia, ib, ov, units, a_col, b_col)
    main, slivers = _split_slivers(table, ov, tol)
    meta = {"a": A.label, "b": B.label, "a_key": a_key, "b_key": b_key, "units": units,
            "tolerance_ha": tol, "n_slivers": len(slivers),
            "area": "geodesic, CGCS2000 ellipsoid; intersections in EPSG:4553"}
    main.attrs = {"overlap": meta}
    slivers.attrs = {"overlap": dict(meta, slivers=True)}
    return (main, slivers) if return_slivers else main


# --------------------------------------------------------------------------- matrix


def overlap_matrix(
    layers,
    *,
    key: str | Mapping[str, str] = "id",
    units: AreaUnit = "ha",
    form: Literal["long", "wide"] = "long",
    tolerance_ha: float = 0.01,
    make_valid: bool = False,
) -> pd.DataFrame:
    """Overlaps among all pairs of several polygon layers.

    Parameters
    ----------
    layers : dict of {str: GeoDataFrame or str} or list of str
        The layers and the names to report them under: a list of bundled layer
        names, or a mapping name → GeoDataFrame (or → bundled layer name).
        At least two, names unique.
    key : str or dict of {str: str}, keyword-only
        The key column, for all layers or per layer name (missing names use
        ``"id"``). Rows sharing a key value are dissolved (see :func:`overlap`).
    units : {"ha", "m2", "km2", "mu"}, keyword-only
        Area unit.
    form : {"long", "wide"}, keyword-only
        ``"long"``: the :func:`overlap` tables of every pair of different layers
        (in the order given: 1×2, 1×3, …, 2×3, …) stacked, with columns
        ``a_layer, a_key, b_layer, b_key, a_name_zh, b_name_zh, overlap_<units>,
        share_of_a_pct, share_of_b_pct, a_<units>, b_<units>`` (``a_key``/``b_key``
        hold key *values*; ``*_name_zh`` is None for layers without that column).

        ``"wide"``: a square, symmetric matrix of overlap area whose rows and
        columns are all features of all layers, labelled ``"<layer>:<key value>"``
        in layer order. Off the diagonal: the overlap area between features of
        different layers (0 where they do not overlap by ``tolerance_ha``), and
        NaN between two features of the same layer (not computed: use
        ``overlap(layer, layer)``). On the diagonal: the feature's own area.
    tolerance_ha : float, keyword-only
        Overlaps below this many hectares are slivers and left out (long) or 0 (wide).
    make_valid : bool, keyword-only
        Repair invalid polygons instead of raising.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        Fewer than two layers, repeated names, a bad ``form`` or unit; and
        everything :func:`overlap` raises.

    Examples
    --------
    >>> m = overlap_matrix(["corridors", "protected_areas"])
    >>> list(m.columns[:4])
    ['a_layer', 'a_key', 'b_layer', 'b_key']
    """
    units = check_area_unit(units)
    tol = _check_tolerance(tolerance_ha)
    if form not in _FORMS:
        raise InputError(f"form must be one of {_FORMS} (long: one row per overlapping pair; "
                         f"wide: a square matrix); got {form!r}")
    if isinstance(layers, Mapping):
        items = list(layers.items())
    elif isinstance(layers, Sequence) and not isinstance(layers, str) and all(
            isinstance(x, str) for x in layers):
        items = [(x, x) for x in layers]
    else:
        raise InputError(
            "layers must be a list of bundled layer names or a dict name → GeoDataFrame; got "
            f"{type(layers).__name__}" + (" of non-strings: name the GeoDataFrames with a dict"
                                           if isinstance(layers, Sequence) else ""))
    names = [str(n) for n, _ in items]
    if len(items) < 2:
        raise InputError(f"overlap_matrix needs at least two layers; got {names}")
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise InputError(f"layer names must be unique; repeated: {dups}. Give each a distinct name "
                         "in a dict")
    keys = {n: (key.get(n, "id") if isinstance(key, Mapping) else key) for n in names}
    prepared = {n: _prepare(v, key=keys[n], arg=f"layers[{n!r}]", make_valid=make_valid)
                for n, v in zip(names, [v for _, v in items], strict=True)}

    offset = dict(zip(names, np.cumsum([0] + [len(prepared[n].keys) for n in names])[:-1], strict=True))
    tables, cells = [], []
    for i, na in enumerate(names):
        for nb in names[i + 1:]:
            A, B = prepared[na], prepared[nb]
            ia, ib, ov = _pairs(A, B)
            t = _pair_table(A, B, ia, ib, ov, units, "a_key", "b_key", names_always=True)
            t.insert(0, "a_layer", na)
            t.insert(2, "b_layer", nb)
            t, _ = _split_slivers(t, ov, tol)
            tables.append(t.astype({"a_key": object, "b_key": object}))
            keep = (ov > 0) & (convert_area(ov, "m2", "ha") >= tol)
            cells.append((offset[na] + ia[keep], offset[nb] + ib[keep],
                          convert_area(ov[keep], "m2", units)))
    cols = ["a_layer", "a_key", "b_layer", "b_key", "a_name_zh", "b_name_zh", f"overlap_{units}",
            "share_of_a_pct", "share_of_b_pct", f"a_{units}", f"b_{units}"]
    long = pd.concat(tables, ignore_index=True)[cols]
    meta = {"layers": names, "keys": keys, "units": units, "tolerance_ha": tol,
            "area": "geodesic, CGCS2000 ellipsoid; intersections in EPSG:4553"}
    if form == "long":
        long.attrs = {"overlap_matrix": meta}
        return long

    labels = [f"{n}:{k}" for n in names for k in prepared[n].keys]
    layer_of = np.array([n for n in names for _ in prepared[n].keys], dtype=object)
    m = np.zeros((len(labels), len(labels)))
    m[layer_of[:, None] == layer_of[None, :]] = np.nan
    diag = np.arange(len(labels))
    m[diag, diag] = np.concatenate([convert_area(prepared[n].area_m2, "m2", units) for n in names])
    for i, j, v in cells:
        m[i, j] = v
        m[j, i] = v
    wide = pd.DataFrame(m, index=pd.Index(labels, name="feature"),
                        columns=pd.Index(labels, name="feature"))
    wide.attrs = {"overlap_matrix": meta}
    return wide


# --------------------------------------------------------------------------- share split


def _gb50137_majors() -> set[str]:
    from .rules import read_rule_file

    reg = read_rule_file("gb50137_codes.csv")
    return set(reg.loc[reg["level"] == "major", "code"])


def _major_code(codes) -> list[str]:
    """Map GB 50137-2011 codes to their major class letter (``"R21"`` → ``"R"``).

    Raises
    ------
    UnknownCodeError
        For values that are not GB 50137 codes (a letter of the registry's major
        classes followed by digits), listing them.

    Examples
    --------
    >>> _major_code(["R21", "m1", "G", " E13 "])
    ['R', 'M', 'G', 'E']
    """
    majors = _gb50137_majors()
    out: list[str] = []
    bad = []
    for c in codes:
        s = c.strip().upper() if isinstance(c, str) else None
        if s is None or not _GB50137_CODE.match(s) or s[0] not in majors:
            bad.append(c)
        else:
            out.append(s[0])
    if bad:
        shown = ", ".join(repr(v) for v in list(dict.fromkeys(map(str, bad)))[:10])
        raise UnknownCodeError(
            f"level='major' needs GB 50137-2011 codes (a major-class letter "
            f"{''.join(sorted(majors))} followed by digits, e.g. 'R21'); these are not: {shown}. "
            "Fix the codes, or pass level=None to split by the values as they are")
    return out


def share_split(
    zones,
    landuse,
    *,
    zone_key: str,
    class_key: str,
    level: Literal["major"] | None = None,
    units: AreaUnit = "ha",
    make_valid: bool = False,
) -> pd.DataFrame:
    """Area and share of each land-use class inside each zone.

    Parameters
    ----------
    zones : str or GeoDataFrame
        Polygon zones (bundled layer name or GeoDataFrame, any CRS). Rows sharing
        a ``zone_key`` value are dissolved into one zone.
    landuse : str or GeoDataFrame
        Polygon land use (any CRS) with a class column.
    zone_key : str, keyword-only
        Column identifying zones.
    class_key : str, keyword-only
        Column holding the land-use class (e.g. a GB 50137 code).
    level : {None, "major"}, keyword-only
        ``None`` splits by the class values as they are; ``"major"`` first maps
        GB 50137-2011 codes to their major class letter (``R21`` → ``R``).
    units : {"ha", "m2", "km2", "mu"}, keyword-only
        Area unit.
    make_valid : bool, keyword-only
        Repair invalid polygons instead of raising.

    Returns
    -------
    pandas.DataFrame
        One row per zone and class present in it, then one ``"unclassified"`` row
        per zone (the zone area no class covers, possibly 0), with columns
        ``zone`` (the key value), ``zone_name_zh`` (if the zones have ``name_zh``),
        ``class``, ``area_<units>``, ``share_pct`` (of the zone; the rows of a zone
        add up to 100) and ``zone_area_<units>``. Zones in order of first
        appearance, classes in sorted order. Areas geodesic, CGCS2000 ellipsoid.

    Warns
    -----
    JixiGeoWarning
        When different classes overlap each other by more than
        :data:`CLASS_OVERLAP_WARN_M2` m² (see Notes).

    Raises
    ------
    UnknownCodeError
        With ``level="major"``, for class values that are not GB 50137 codes.
    InputError, InvalidGeometryError, CRSError
        As for :func:`overlap`.

    Notes
    -----
    Land-use features of one class are dissolved first, so overlapping features
    of a class count once. Where **different** classes overlap, the overlap is
    counted once and assigned to the class that comes **first in sorted order**
    (sorted by ``str(value)``; ``"A" < "B" < "R"``); later classes lose that area.
    :func:`jixi_geo.raster.rasterize` uses the same rule, so vector and raster
    answers agree. The class overlap is reported in
    ``result.attrs["share_split"]["class_overlap_<units>"]``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> z = gpd.GeoDataFrame({"id": ["Z"]}, geometry=[box(500_000, 5_000_000, 501_000, 5_001_000)],
    ...                      crs="EPSG:4553")
    >>> lu = gpd.GeoDataFrame({"code": ["R21", "G1"]},
    ...                       geometry=[box(500_000, 5_000_000, 500_500, 5_001_000),
    ...                                 box(500_500, 5_000_000, 500_750, 5_001_000)], crs="EPSG:4553")
    >>> s = share_split(z, lu, zone_key="id", class_key="code", level="major")
    >>> [(r["class"], round(r.share_pct)) for _, r in s.iterrows()]
    [('G', 25), ('R', 50), ('unclassified', 25)]
    """
    units = check_area_unit(units)
    if level not in _LEVELS:
        raise InputError(f"level must be None or 'major' (GB 50137 major class letters); got {level!r}")
    Z = _prepare(zones, key=zone_key, arg="zones", make_valid=make_valid)

    lu, label = resolve_layer(landuse, arg="landuse")
    lu = validate_layer(lu, name=label, geom_type="polygon", key=class_key, make_valid=make_valid)
    if level == "major":
        lu[class_key] = _major_code(lu[class_key].tolist())
    L = _prepare(None, key=class_key, arg="landuse", make_valid=make_valid, gdf_label=(lu, label))

    # make the classes disjoint: the first class in sorted order keeps shared area
    order = sorted(range(len(L.keys)), key=lambda i: str(L.keys[i]))
    keys, geoms, lost = L.keys[order], L.geoms[order].copy(), np.zeros(len(order))
    taken = None
    for j in range(len(geoms)):
        g = geoms[j]
        if taken is not None and shapely.intersects(g, taken):
            rest = polygonal_part([shapely.difference(g, taken)])[0]
            lost[j] = max(L.area_m2[order[j]] - _measure([rest])[0], 0.0)
            geoms[j] = rest
        taken = g if taken is None else shapely.union(taken, g)
    if (lost > CLASS_OVERLAP_WARN_M2).any():
        which = ", ".join(f"{k!r} loses {convert_area(v, 'm2', units):.4g} {units}"
                          for k, v in zip(keys, lost, strict=True) if v > CLASS_OVERLAP_WARN_M2)
        warnings.warn(
            f"{label}: land-use classes overlap each other; each overlap is counted once, for "
            f"the class first in sorted order ({which}). Clean the land-use layer if the classes "
            "should not overlap", JixiGeoWarning, stacklevel=2)
    C = _Dissolved(label, class_key, keys, None, geoms, np.zeros(len(keys)), L.n_rows)

    ia, ic, ov = _pairs(Z, C)
    rows = []
    for z in range(len(Z.keys)):
        sel = (ia == z) & (ov > 0)
        zone_area = Z.area_m2[z]
        for c, area in zip(ic[sel], ov[sel], strict=True):
            rows.append((z, keys[c], area))
        rows.append((z, UNCLASSIFIED, max(zone_area - ov[sel].sum(), 0.0)))
    zi = np.array([r[0] for r in rows], dtype=int)
    area = np.array([r[2] for r in rows], dtype=float)
    out = {"zone": Z.keys[zi]}
    if Z.names is not None:
        out["zone_name_zh"] = Z.names[zi]
    out["class"] = np.array([r[1] for r in rows], dtype=object)
    out[f"area_{units}"] = convert_area(area, "m2", units)
    out["share_pct"] = _pct(area, Z.area_m2[zi])
    out[f"zone_area_{units}"] = convert_area(Z.area_m2[zi], "m2", units)
    result = pd.DataFrame(out)
    result.attrs = {"share_split": {
        "zones": Z.label, "landuse": label, "zone_key": zone_key, "class_key": class_key,
        "level": level, "units": units, "class_overlap_rule": "first class in sorted order",
        f"class_overlap_{units}": float(convert_area(lost.sum(), "m2", units)),
        "area": "geodesic, CGCS2000 ellipsoid; intersections in EPSG:4553"}}
    return result
