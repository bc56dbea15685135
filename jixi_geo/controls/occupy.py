"""What each site occupies of the control layers: areas by line, level and land class (压占).

A control layer is *flattened* once, when it is prepared: its polygons are ordered
strictest level first (the order of ``levels`` in ``layers/rules/control_roles.csv``),
then in layer order, and each keeps only what no earlier polygon holds. The pieces are
disjoint, so

- a site overlapping a first- and a second-grade water zone that overlap each other
  counts the shared part once, at the first grade;
- overlapping land-cover polygons are counted once, the first polygon in layer order
  winning (the overlap area is returned as a finding);

and the pieces of a site add up to what it occupies. The flattened layer is projected
to EPSG:4553, polygons larger than a tile cut into tiles of :data:`jixi_geo._zones.TILE_M`
metres, indexed in an STRtree, and cached by content (in memory and on disk, like the
zones of :func:`jixi_geo._zones.prepare`).

:func:`occupy` measures the sites (EPSG:4553 geometries, vectorised, no loop per site):
areas on the CGCS2000 ellipsoid (:func:`jixi_geo._kernels.ellipsoidal_area`) for
polygons, lengths (:func:`jixi_geo._kernels.ellipsoidal_length`) for lines, containment
for points. A site lying wholly inside one piece (a prepared ``contains_properly`` test)
is not intersected: it occupies all of itself.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _cache
from .._kernels import MAX_WORKERS, area_on_ellipsoid, ellipsoidal_area, ellipsoidal_length
from .._zones import TILE_M, PreparedZones, thread_tiles, tile
from ..crs import ANALYSIS_CRS
from ..rules import read_rule_file
from .clip import ccw_rings, clip_area, convex_windows, eligible_subjects, rings
from .layers import ControlLayer, Controls

__all__ = ["PreparedControl", "Occupation", "prepare_control", "occupy", "role_levels", "control_sha256",
           "clear_memory_cache", "PARALLEL_MIN_PAIRS", "OVERLAP_MIN_M2", "NOISE_CHECK_M2"]

_CACHE: dict[str, PreparedControl] = {}
_LOCK = threading.Lock()
#: Attribute columns of a control layer that decide what is measured (part of the checksum).
_KEY_COLUMNS = ("control_id", "level", "class_code", "class_known", "black_soil")


@dataclass(frozen=True)
class PreparedControl:
    """A flattened, projected, tiled and indexed control layer.

    ``pz.zones`` holds one row per flattened piece (EPSG:4553, disjoint) with the
    columns ``feature`` (position in the layer), ``level_rank`` (position in
    :func:`role_levels`, 0 where the role has none) and, for land cover,
    ``class_code``, ``class_known``, ``black_soil``; ``pz.tile_zone`` maps each tile
    to its piece. ``overlap_m2`` is the area (m², ellipsoidal) the layer's own
    polygons overlap, counted once.
    """

    role: str
    pz: PreparedZones
    levels: tuple[str, ...]
    overlap_m2: float
    has_black_soil: bool
    sha256: str
    #: land cover: each piece's class key (int) into ``class_keys``, the distinct (class_code, class_known)
    class_key: np.ndarray | None = None
    class_keys: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class Occupation:
    """What the sites occupy of one control layer.

    ``pieces``: one row per (site, piece) with ``site, piece, m2, len_m`` (m², m on
    the ellipsoid; both 0 for a point in the piece). ``lines``: summed per
    ``(site, level_rank)``; ``classes`` (land cover): per ``(site, class_code)`` with
    ``m2``, ``black_m2`` and ``class_known``.
    """

    role: str
    levels: tuple[str, ...]
    lines: pd.DataFrame
    classes: pd.DataFrame | None


def role_levels(role: str) -> tuple[str, ...]:
    """The level keys of ``role``, strictest first (``levels`` of ``control_roles.csv``); ``("",)`` if none."""
    return _role_levels(role)


@functools.cache
def _role_levels(role: str) -> tuple[str, ...]:
    roles = read_rule_file("control_roles.csv").set_index("role")
    text = str(roles.loc[role, "levels"]) if role in roles.index else ""
    levels = tuple(v.strip() for v in text.split(";") if v.strip())
    return levels or ("",)


def control_sha256(gdf: gpd.GeoDataFrame) -> str:
    """Checksum of a control layer's geometry, CRS and the attributes that decide what is measured.

    Remembered for the frame object itself together with a cheap fingerprint (rows,
    bounds, hashed attributes): the same, unchanged frame is not hashed again.
    """
    finger = _fingerprint(gdf)
    with _LOCK:
        seen = _SHA_BY_FRAME.get(id(gdf))
    if seen is not None and seen[0] is gdf and seen[1] == finger:
        return seen[2]
    sha = _sha256(gdf)
    with _LOCK:
        if len(_SHA_BY_FRAME) >= 32:
            _SHA_BY_FRAME.clear()
        _SHA_BY_FRAME[id(gdf)] = (gdf, finger, sha)
    return sha


_SHA_BY_FRAME: dict[int, tuple[gpd.GeoDataFrame, tuple, str]] = {}


def clear_memory_cache() -> None:
    """Forget the prepared layers held in memory (the disk cache of :mod:`jixi_geo._cache` stays)."""
    with _LOCK:
        for cache in (_CACHE, _SIMPLE, _BOUNDS, _SHA_BY_FRAME):
            cache.clear()


def _fingerprint(gdf: gpd.GeoDataFrame) -> tuple:
    cols = [c for c in _KEY_COLUMNS[1:] if c in gdf.columns]  # those that change what is measured
    bounds = shapely.bounds(np.asarray(gdf.geometry.values))
    return (len(gdf), str(gdf.crs), tuple(cols), tuple(_column_print(gdf[c]) for c in cols),
            float(np.nansum(bounds)), float(np.nansum(bounds[:, ::2])))


def _column_print(col: pd.Series):
    """What tells a column's values apart: an Arrow-backed column's array itself (immutable: a change
    replaces it; tuples compare it by identity, else by content), a digest of a NumPy bool or number
    column's bytes, else pandas' hash of the values."""
    arr = col.array
    pa_array = getattr(arr, "_pa_array", None)
    if pa_array is not None:
        return pa_array
    values = col.to_numpy()
    if values.dtype.kind in "biuf":
        return values.dtype.str, hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()
    return int(pd.util.hash_pandas_object(col, index=False).sum())


def _sha256(gdf: gpd.GeoDataFrame) -> str:
    h = hashlib.sha256(gdf.crs.to_string().encode() if gdf.crs else b"none")
    for col in _KEY_COLUMNS:
        if col in gdf.columns:
            h.update(col.encode() + b"\x1e" + "\x1f".join(map(str, gdf[col].tolist())).encode())
    h.update(b"".join(shapely.to_wkb(np.asarray(gdf.geometry.values))))
    return h.hexdigest()


def _level_rank(layer: ControlLayer, levels: tuple[str, ...]) -> np.ndarray:
    """Each feature's position in ``levels`` (an unknown or empty level: after the known ones)."""
    if "level" not in layer.gdf.columns or levels == ("",):
        return np.zeros(len(layer.gdf), dtype=np.int64)
    pos = {lv: i for i, lv in enumerate(levels)}
    return np.array([pos.get(str(v), len(levels)) for v in layer.gdf["level"]], dtype=np.int64)


#: Polygons of one layer whose common area is below this (m², planar) do not overlap: the float noise of
#: shared edges, and overlaps too small to change any area in the results.
OVERLAP_MIN_M2 = 1e-6


def _overlapping(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b), b < a, of polygons whose interiors overlap (by more than :data:`OVERLAP_MIN_M2`).

    Candidates come from the boxes; a pair with a convex member and a simple other is
    measured by the NumPy clip (:mod:`.clip`), the others by GEOS (``intersects`` and
    not ``touches``). In a mosaic, neighbours share edges only and are dropped.
    """
    a, b = shapely.STRtree(geoms).query(geoms)
    keep = b < a
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return a, b
    convex, hull = convex_windows(geoms)
    simple = eligible_subjects(geoms)
    win_a = convex[a] & simple[b]
    use = win_a | (convex[b] & simple[a])
    overlap = np.zeros(len(a), dtype=bool)
    k = np.flatnonzero(use)
    if len(k):
        win, sub = np.where(win_a[k], a[k], b[k]), np.where(win_a[k], b[k], a[k])
        wpos = np.full(len(geoms), -1, dtype=np.int64)
        wpos[convex] = np.arange(int(convex.sum()))
        spos = np.full(len(geoms), -1, dtype=np.int64)
        spos[simple] = np.arange(int(simple.sum()))
        area, _ = clip_area(rings(geoms[simple]), rings(hull[convex]), spos[sub], wpos[win])
        overlap[k] = area > OVERLAP_MIN_M2
    r = np.flatnonzero(~use)
    if len(r):
        ga, gb = geoms[a[r]], geoms[b[r]]
        hit = shapely.intersects(ga, gb)
        overlap[r[hit]] = ~shapely.touches(ga[hit], gb[hit])
    return a[overlap], b[overlap]


def _flatten(geoms: np.ndarray) -> tuple[np.ndarray, float]:
    """Each polygon minus every earlier one it overlaps (interiors meet): disjoint pieces, and the overlap (m²)."""
    a, b = _overlapping(geoms)
    if len(a) == 0:
        return geoms, 0.0
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    ends = np.r_[starts[1:], len(a)]
    owners = a[starts]
    earlier = np.empty(len(owners), dtype=object)
    single = ends - starts == 1
    earlier[single] = geoms[b[starts[single]]]
    for k in np.flatnonzero(~single):  # only polygons overlapped by several earlier ones
        earlier[k] = shapely.union_all(geoms[b[starts[k]:ends[k]]])
    out = geoms.copy()
    out[owners] = shapely.difference(geoms[owners], earlier)
    after = out[owners]
    after = after[~shapely.is_empty(after)]  # wholly covered by earlier polygons: nothing left
    lost = float(np.sum(ellipsoidal_area(geoms[owners])) - np.sum(ellipsoidal_area(after)))
    return out, max(lost, 0.0)


def _tile(geoms: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Pieces larger than a tile cut into tiles (:func:`jixi_geo._zones.tile`); the others kept whole."""
    b = shapely.bounds(geoms)
    big = np.flatnonzero(((b[:, 2] - b[:, 0]) > size) | ((b[:, 3] - b[:, 1]) > size))
    small = np.setdiff1d(np.arange(len(geoms)), big)
    tiles, owner = [geoms[small]], [small]
    if len(big):
        t, o = tile(geoms[big], size)
        tiles.append(t)
        owner.append(big[o])
    return np.concatenate(tiles), np.concatenate(owner).astype(np.int64)


def prepare_control(layer: ControlLayer, *, tile_m: float = TILE_M) -> PreparedControl:
    """Flatten, project, tile and index a control layer (cached by content, in memory and on disk)."""
    gdf = layer.gdf
    levels = role_levels(layer.role)
    sha = control_sha256(gdf)
    key = f"{layer.role}:{sha}:{tile_m}"
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    rank = _level_rank(layer, levels)
    order = np.lexsort((np.arange(len(gdf)), rank))  # strictest level first, then layer order
    ckey = _cache.key("controls", sha256=sha, role=layer.role, tile_m=float(tile_m), crs=ANALYSIS_CRS.to_string())
    stored = _cache.load("controls", ckey, _unpack)
    if stored is not None:
        pieces, feature, tiles, owner, overlap = stored
    else:
        projected = shapely.make_valid(np.asarray(gdf.geometry.to_crs(ANALYSIS_CRS).values)[order])
        flat, overlap = _flatten(projected)
        alive = ~shapely.is_empty(flat) & (shapely.area(flat) > 0)
        pieces, feature = flat[alive], order[alive]
        tiles, owner = _tile(pieces, tile_m)
        _cache.store("controls", ckey, _pack(pieces, feature, tiles, owner, overlap))
    cols: dict = {"feature": feature, "level_rank": rank[feature]}
    has_black = "black_soil" in gdf.columns
    if layer.role == "landcover":
        cols["class_code"] = gdf["class_code"].astype(str).to_numpy(dtype=object)[feature]
        cols["class_known"] = gdf["class_known"].astype(bool).to_numpy()[feature]
        cols["black_soil"] = (gdf["black_soil"].fillna(False).astype(bool).to_numpy()[feature] if has_black
                              else np.zeros(len(feature), dtype=bool))
    frame = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(pieces, crs=ANALYSIS_CRS), crs=ANALYSIS_CRS)
    pz = PreparedZones(frame, pieces, tiles, owner, shapely.STRtree(tiles), f"{layer.role}:{sha}")
    class_key: np.ndarray | None = None
    class_keys: tuple[tuple[str, bool], ...] = ()
    if layer.role == "landcover":
        class_key, uniq = pd.factorize(pd.MultiIndex.from_arrays([cols["class_code"], cols["class_known"]]))
        class_keys = tuple((str(c), bool(k)) for c, k in uniq)
    prepared = PreparedControl(layer.role, pz, levels, float(overlap), has_black, sha, class_key, class_keys)
    with _LOCK:
        _CACHE[key] = prepared
    return prepared


def _pack(pieces, feature, tiles, owner, overlap) -> dict:
    out = {"feature": np.asarray(feature, dtype=np.int64), "owner": np.asarray(owner, dtype=np.int64),
           "overlap": np.array([overlap], dtype=float)}
    # no piece cut into tiles (small parcels): the tiles are the pieces, stored once
    same = len(tiles) == len(pieces) and bool(np.array_equal(owner, np.arange(len(pieces))))
    for name, g in (("pieces", pieces), ("tiles", pieces[:0] if same else tiles)):
        out[name], out[name + "_off"] = _cache.pack_geoms(g)
    out["tiles_are_pieces"] = np.array([same])
    return out


def _unpack(a: dict):
    pieces, tiles = (_cache.unpack_geoms(a[k], a[k + "_off"]) for k in ("pieces", "tiles"))
    if bool(a["tiles_are_pieces"][0]):
        tiles = pieces
    feature, owner = a["feature"].astype(np.int64), a["owner"].astype(np.int64)
    if len(feature) != len(pieces) or len(owner) != len(tiles) or (
            len(owner) and (owner.min() < 0 or owner.max() >= len(pieces))):
        raise ValueError("inconsistent prepared control layer")
    return pieces, feature, tiles, owner, float(a["overlap"][0])


def _pieces(sites: np.ndarray, dims: np.ndarray, site_area: np.ndarray, site_len: np.ndarray,
            pc: PreparedControl, windows: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrays site, piece, m2, len_m: every site and piece it occupies (positive measure; points: in it),
    by site, then piece (sorted where pieces are cut into tiles, else in the index's order).

    The pairs come from the index by boxes (:func:`_candidates`). Pairs of a convex polygon
    site (``windows``, :func:`_windows`: which sites are, their hulls' rings and each
    site's position in them) and a simple tile are measured by
    :func:`jixi_geo.controls.clip.clip_area` (shapes that do not meet: 0); the others,
    once GEOS says they meet, by GEOS, after the test whether the site lies wholly inside
    the tile. Sums per (site, piece) in NumPy (:func:`_group_sums`).
    """
    pz = pc.pz
    convex, hull_rings, hull_pos = windows
    simple, tile_rings, tile_pos = _simple_tiles(pz)
    s, t = _candidates(sites, pz, convex, simple)
    m2 = np.zeros(len(s))
    ln = np.zeros(len(s))
    fast = np.flatnonzero(convex[s] & simple[t])
    if len(fast):
        a, cx = clip_area(tile_rings, hull_rings, tile_pos[t[fast]], hull_pos[s[fast]])
        a = _disjoint_noise(a, sites[s[fast]], pz.tiles[t[fast]])
        m2[fast] = np.where(a > 0, area_on_ellipsoid(a, np.nan_to_num(cx)), 0.0)
    ext = np.flatnonzero((dims[s] > 0) & ~(convex[s] & simple[t]))
    if len(ext):
        # a site can lie wholly inside a tile only if its box does: the prepared test runs on those alone
        sb, tb = shapely.bounds(sites[s[ext]]), _tile_bounds(pz)[t[ext]]
        boxed = np.flatnonzero((sb[:, 0] > tb[:, 0]) & (sb[:, 1] > tb[:, 1]) & (sb[:, 2] < tb[:, 2])
                               & (sb[:, 3] < tb[:, 3]))
        whole = np.zeros(len(ext), dtype=bool)
        if len(boxed):
            whole[boxed] = shapely.contains_properly(thread_tiles(pz)[t[ext[boxed]]], sites[s[ext[boxed]]])
        d = dims[s[ext]]
        # a site wholly inside one tile occupies all of itself there: no intersection
        m2[ext] = np.where(whole & (d == 2), site_area[s[ext]], 0.0)
        ln[ext] = np.where(whole & (d == 1), site_len[s[ext]], 0.0)
        cut = ext[~whole]
        if len(cut):
            geom = _intersection(sites[s[cut]], pz.tiles[t[cut]])
            dc = np.where(shapely.is_empty(geom), -1, dims[s[cut]])  # empty: measures stay 0
            m2[cut[dc == 2]] = ellipsoidal_area(geom[dc == 2])
            ln[cut[dc == 1]] = ellipsoidal_length(geom[dc == 1])
    site, piece = s.astype(np.int64), pz.tile_zone[t].astype(np.int64)
    if len(pz.tiles) != len(pz.geoms):  # some pieces are cut into several tiles: add their parts up
        key, (m2, ln) = _group_sums(site * len(pz.geoms) + piece, m2, ln)
        site, piece = key // len(pz.geoms), key % len(pz.geoms)
    keep = (dims[site] == 0) | (m2 > 0) | (ln > 0)
    return site[keep], piece[keep], m2[keep], ln[keep]


def _group_sums(key: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct keys (sorted) and each of ``values`` summed per key, in row order (``groupby(key).sum()``)."""
    uniq, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.ravel()
    return uniq, [np.bincount(inverse, weights=v, minlength=len(uniq)) for v in values]


def _candidates(sites: np.ndarray, pz: PreparedZones, convex: np.ndarray,
                simple: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(site, tile) pairs to measure: those of ``pz.tree.query(sites, predicate="intersects")``, in its order,
    and, for a convex site and a simple tile (measured by the clip), also boxes that meet without the shapes
    meeting (their clipped area is 0; :func:`_disjoint_noise` rules out float noise).

    The exact ``intersects`` test, the costly part of an indexed query, runs only on the other pairs.
    """
    s, t = pz.tree.query(sites)  # boxes meet; the same pairs and order the predicate query filters
    other = np.flatnonzero(~(convex[s] & simple[t]))
    if len(other):
        keep = np.ones(len(s), dtype=bool)
        keep[other] = shapely.intersects(sites[s[other]], pz.tiles[t[other]])
        s, t = s[keep], t[keep]
    return s, t


#: Clipped areas (m², planar) below this are checked with GEOS ``intersects`` (a pair whose shapes do not
#: meet can only get float noise, far below this, from the clip).
NOISE_CHECK_M2 = 1e-3


def _disjoint_noise(area: np.ndarray, sites: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """``area`` with 0 where a tiny clipped area belongs to a site and tile that do not meet."""
    tiny = np.flatnonzero((area > 0) & (area < NOISE_CHECK_M2))
    if len(tiny):
        area = area.copy()
        area[tiny[~shapely.intersects(sites[tiny], tiles[tiny])]] = 0.0
    return area


_BOUNDS: dict[str, np.ndarray] = {}
_SIMPLE: dict[str, tuple] = {}


def _simple_tiles(pz: PreparedZones) -> tuple[np.ndarray, tuple, np.ndarray]:
    """Which tiles :func:`jixi_geo.controls.clip.clip_area` can measure, their rings and each tile's
    position in them (-1: not measurable so); computed once per prepared layer."""
    with _LOCK:
        hit = _SIMPLE.get(pz.sha256)
    if hit is None or len(hit[0]) != len(pz.tiles):
        ok = eligible_subjects(pz.tiles)
        pos = np.full(len(ok), -1, dtype=np.int64)
        pos[ok] = np.arange(int(ok.sum()))
        hit = (ok, rings(pz.tiles[ok]), pos)
        with _LOCK:
            _SIMPLE[pz.sha256] = hit
    return hit


def _tile_bounds(pz: PreparedZones) -> np.ndarray:
    """The tiles' bounds (n, 4), computed once per prepared layer."""
    with _LOCK:
        b = _BOUNDS.get(pz.sha256)
    if b is None or len(b) != len(pz.tiles):
        b = shapely.bounds(pz.tiles)
        with _LOCK:
            _BOUNDS[pz.sha256] = b
    return b


#: Intersections of at least this many (site, tile) pairs are split over threads (shapely releases the GIL).
PARALLEL_MIN_PAIRS = 10_000


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``shapely.intersection(a, b)``, over the available cores for long inputs; identical results."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if workers < 2 or len(a) < PARALLEL_MIN_PAIRS:
        return shapely.intersection(a, b)
    cuts = np.linspace(0, len(a), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as ex:
        parts = list(ex.map(lambda k: shapely.intersection(a[cuts[k]:cuts[k + 1]], b[cuts[k]:cuts[k + 1]]),
                            range(workers)))
    return np.concatenate(parts)


def _windows(sites: np.ndarray, dims: np.ndarray) -> tuple[np.ndarray, tuple, np.ndarray]:
    """Which sites are convex windows of :func:`jixi_geo.controls.clip.clip_area`, their hulls' rings
    (counter-clockwise, once for every layer) and each site's position in them (-1: not a window)."""
    poly = np.flatnonzero(dims == 2)
    convex = np.zeros(len(sites), dtype=bool)
    hull = np.empty(len(sites), dtype=object)
    convex[poly], hull[poly] = convex_windows(sites[poly])
    hull_pos = np.full(len(sites), -1, dtype=np.int64)
    hull_pos[convex] = np.arange(int(convex.sum()))
    return convex, ccw_rings(rings(hull[convex])), hull_pos


def occupy(sites: np.ndarray, controls: Controls, *, dims: np.ndarray, site_area: np.ndarray,
           site_len: np.ndarray, prepared: dict[str, PreparedControl] | None = None) -> dict[str, Occupation]:
    """What each site occupies of each control layer, by role.

    Parameters
    ----------
    sites : numpy.ndarray of shapely geometries
        The sites in EPSG:4553.
    controls : Controls
        The control layers (from :func:`jixi_geo.controls.load_controls`).
    dims, site_area, site_len : numpy.ndarray
        Each site's dimension, ellipsoidal area (m², polygons) and length (m, lines), as
        :func:`jixi_geo.measures.site_measures` gives them.
    prepared : dict, optional
        The layers already prepared by :func:`prepare_control`, by role.

    Returns
    -------
    dict of str to Occupation
        By role, in role order. ``lines`` rows ``site, level_rank, m2, len_m`` (a point
        in a piece: a row with zeros); land cover also ``classes`` rows
        ``site, class_code, class_known, m2, black_m2`` for polygon sites.
    """
    out: dict[str, Occupation] = {}
    windows = _windows(sites, dims)
    for role in controls.roles:
        pc = prepared[role] if prepared is not None and role in prepared else prepare_control(controls[role])
        site, piece, m2, ln = _pieces(sites, dims, site_area, site_len, pc, windows)
        z = pc.pz.zones
        nl = len(pc.levels) + 1  # level ranks run to len(levels) (an unknown level)
        key, (lm2, lln) = _group_sums(site * nl + z["level_rank"].to_numpy().astype(np.int64)[piece], m2, ln)
        lines = pd.DataFrame({"site": key // nl, "level_rank": key % nl, "m2": lm2, "len_m": lln})
        classes = None
        if role == "landcover":
            assert pc.class_key is not None
            on = dims[site] == 2
            nk = max(len(pc.class_keys), 1)
            black = np.where(z["black_soil"].to_numpy(dtype=bool)[piece], m2, 0.0)
            key, (cm2, cbl) = _group_sums(site[on] * nk + np.asarray(pc.class_key, dtype=np.int64)[piece[on]],
                                          m2[on], black[on])
            codes = np.array([c for c, _ in pc.class_keys] or [""], dtype=object)
            known = np.array([k for _, k in pc.class_keys] or [False], dtype=bool)
            classes = pd.DataFrame({"site": key // nk, "class_code": codes[key % nk], "class_known": known[key % nk],
                                    "m2": cm2, "black_m2": cbl})
        out[role] = Occupation(role, pc.levels, lines, classes)
    return out
