"""Geometry kernels of the site check (private).

Both kernels answer the same questions about sites (EPSG:4553 geometries) and a
zone layer, and return the same :class:`Pairs`:

- ``fast``: vectorised shapely 2 queries against the tiled, indexed zones of
  :mod:`jixi_geo._zones`; overlap geometry computed only for candidate tiles.
  Large point inputs go through :func:`fast_points`: the certified cell grid of
  :mod:`jixi_geo._grid` answers most points from their coordinates, and point
  geometries are built only for the rest.
- ``reference``: the plain geopandas way — ``sjoin`` for in-zone, ``overlay`` /
  ``intersection`` for overlap, ``sjoin_nearest`` for the nearest zone. It is kept
  as the yardstick the fast kernel must match (tests) and beat (benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._gc import paused
from ._rowcodes import packed_key
from ._zones import PreparedZones, thread_prepared, thread_tiles
from .crs import ANALYSIS_CRS

# --- tuning thresholds (speed only: results are the same either side of each) ---
#: Inputs at least this large are split over the available cores (threads: shapely
#: releases the GIL in its vectorised operations).
PARALLEL_MIN_SITES = 50_000
#: At most this many threads split one input (more gives no gain on the zone queries).
MAX_WORKERS = 8
#: Point inputs at least this large are first answered by the cell grid (preparing
#: it takes about a second per zone layer, then it is cached).
GRID_MIN_POINTS = 50_000

# GK areal scale: planar area = ellipsoidal area × k², k ≈ 1 + x²/(2R²), x = distance
# from the central meridian, R the Gaussian mean radius of CGCS2000 near 45.5°N.
_A, _E2 = 6_378_137.0, 0.00669438002290
_PHI = np.radians(45.5)
_R = _A * np.sqrt(1 - _E2) / (1 - _E2 * np.sin(_PHI) ** 2)
_FALSE_EASTING = 500_000.0


def ellipsoidal_area(geoms: np.ndarray) -> np.ndarray:
    """Area on the CGCS2000 ellipsoid (m²) of EPSG:4553 polygons.

    Planar area divided by the Gauss-Kruger areal scale factor at each polygon's
    centroid; within 1e-6 of the geodesic area for site-sized polygons.
    """
    return area_on_ellipsoid(shapely.area(geoms), shapely.get_x(shapely.centroid(geoms)))


def area_on_ellipsoid(planar_m2: np.ndarray, centroid_x: np.ndarray) -> np.ndarray:
    """:func:`ellipsoidal_area` from planar areas (m², EPSG:4553) and the x of their centroids (m)."""
    x = np.asarray(centroid_x, dtype=float) - _FALSE_EASTING
    k = 1 + x * x / (2 * _R * _R)
    out = np.asarray(planar_m2, dtype=float) / (k * k)
    return np.where(np.isfinite(out), out, 0.0)


def ellipsoidal_length(geoms: np.ndarray) -> np.ndarray:
    """Length on the ellipsoid (m) of EPSG:4553 lines (planar length / k)."""
    ln = shapely.length(geoms)
    x = shapely.get_x(shapely.centroid(geoms)) - _FALSE_EASTING
    out = ln / (1 + x * x / (2 * _R * _R))
    return np.where(np.isfinite(out), out, 0.0)


@dataclass
class Pairs:
    """What a kernel found.

    ``hits``: one row per (site, zone) the site intersects, columns ``site, zone,
    overlap_m2, overlap_len_m``; ``nearest``: per site the nearest zone position
    (-1 if none within ``search_m``) and its distance (m, 0 inside, NaN if none);
    ``near``: (site, zone, distance_m) for zones within ``buffer_m`` not intersected;
    ``in_jixi``: whether the site touches the Jixi boundary.

    What the fast kernel measured on the way, so that the assembly need not measure it
    again (``None`` from the other kernels): ``site_size``, per site its own ellipsoidal
    area (m², polygons) or length (m, lines) where a tile or zone held it whole, NaN
    elsewhere; ``pieces``, the cut pieces of the sites hitting several zones, as
    (site, tile, geometry) arrays in the order of the tile query; ``dims``, per site the
    dimension of its geometry (:func:`shapely.get_dimensions`: 0 point, 1 line, 2 polygon).
    """

    hits: pd.DataFrame
    nearest_zone: np.ndarray
    nearest_m: np.ndarray
    near: pd.DataFrame
    in_jixi: np.ndarray
    site_size: np.ndarray | None = None
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    dims: np.ndarray | None = None


def _dims(geoms):
    return shapely.get_dimensions(geoms)


def fast(sites: np.ndarray, pz: PreparedZones, jixi: PreparedZones, *, buffer_m: float,
         search_m: float) -> Pairs:
    n = len(sites)
    dims = _dims(sites)
    # candidate (site, tile) pairs that really intersect; a line or polygon wholly inside a tile
    # overlaps it by all of itself
    s_idx, t_idx, whole = intersecting_pairs(sites, dims, pz)
    z_idx = pz.tile_zone[t_idx]
    ov_a = np.zeros(len(s_idx))
    ov_l = np.zeros(len(s_idx))
    ext = np.flatnonzero(dims[s_idx] > 0)
    site_size = np.full(n, np.nan)
    piece_geom, carries = np.empty(0, dtype=object), np.zeros(0, dtype=bool)
    if len(ext):
        ov_a[ext], ov_l[ext], piece_geom, carries = _tile_overlaps(sites, dims, s_idx[ext], t_idx[ext], whole[ext],
                                                                  pz)
        # a pair that carries the whole site measured the site itself
        held = ext[carries]
        site_size[s_idx[held]] = np.where(dims[s_idx[held]] == 2, ov_a[held], ov_l[held])
    hits = pair_sums(s_idx, z_idx, {"overlap_m2": ov_a, "overlap_len_m": ov_l})
    # a polygon/line touching a zone only along an edge has no overlap: not a hit
    hits = hits[(dims[hits["site"].to_numpy()] == 0) | (hits["overlap_m2"] > 0) | (hits["overlap_len_m"] > 0)]
    # the cut pieces of sites in several zones: their union is the overlap with the zones (measures.union_overlap)
    several = np.bincount(hits["site"].to_numpy().astype(np.int64), minlength=n) > 1
    keep = several[s_idx[ext]] & ~carries & ~shapely.is_missing(piece_geom)
    pieces = (s_idx[ext][keep], t_idx[ext][keep], piece_geom[keep])
    in_jixi = np.zeros(n, dtype=bool)
    js, _, _ = intersecting_pairs(sites, dims, jixi, whole=False)
    in_jixi[js] = True
    nearest_zone = np.full(n, -1)
    nearest_m = np.full(n, np.nan)
    inside = np.zeros(n, dtype=bool)
    inside[hits["site"].to_numpy()] = True
    out = np.flatnonzero(~inside & in_jixi)  # outside Jixi no rule applies: no search
    # every zone within buffer_m that the site does not intersect (for the detail table)
    near = pd.DataFrame({"site": [], "zone": [], "distance_m": []})
    if buffer_m > 0 and len(out):
        s2, t2 = pz.tree.query(sites[out], predicate="dwithin", distance=buffer_m)
        if len(s2):
            dist = shapely.distance(sites[out][s2], pz.tiles[t2])
            near = pair_sums(out[s2], pz.tile_zone[t2], {"distance_m": dist}, how="min")
    if len(out):
        # a site with a zone within buffer_m has its nearest zone among those (the least
        # distance, then the lowest zone position, as _nearest); only the others are searched
        rest = out
        if len(near):
            ns, nz, nd = (near[c].to_numpy() for c in ("site", "zone", "distance_m"))
            order = np.lexsort((nz, nd, ns))
            first = order[np.r_[True, ns[order][1:] != ns[order][:-1]]]
            ok = nd[first] <= search_m
            nearest_zone[ns[first][ok].astype(np.int64)] = nz[first][ok]
            nearest_m[ns[first][ok].astype(np.int64)] = nd[first][ok]
            rest = np.setdiff1d(out, ns[first].astype(np.int64), assume_unique=True)
        if len(rest) and (search_m > buffer_m or not len(near)):
            i_idx, z_near, dist = _nearest(pz.tree, sites[rest], search_m, pz.tile_zone)
            nearest_zone[rest[i_idx]] = z_near
            nearest_m[rest[i_idx]] = dist
    nearest_m[inside] = 0.0
    return Pairs(hits.reset_index(drop=True), nearest_zone, nearest_m, near, in_jixi, site_size, pieces, dims)


def pair_sums(site: np.ndarray, zone: np.ndarray, values: dict[str, np.ndarray], *,
              how: Literal["sum", "min"] = "sum") -> pd.DataFrame:
    """``DataFrame({"site", "zone", **values}).groupby(["site", "zone"], sort=True, as_index=False)``
    ``.sum()`` (or ``.min()``), by NumPy: the same frame, bit for bit (finite values).

    pandas sums each group's floats in row order with Kahan's compensation; so does this
    (vectorised across the groups, one step per row of the largest group; a (site, zone)
    pair has a piece per tile, rarely more than four).
    """
    site = np.asarray(site)
    zone = np.asarray(zone)
    order = _site_zone_order(site, zone)
    if order is None:
        order = np.lexsort((zone, site))  # stable, as the packed key's sort
    s, z = site[order], zone[order]
    first = np.flatnonzero(np.r_[True, (s[1:] != s[:-1]) | (z[1:] != z[:-1])]) if len(s) else np.zeros(0, dtype=int)
    out = {"site": s[first], "zone": z[first]}
    size = np.diff(np.r_[first, len(s)])
    for name, v in values.items():
        v = np.asarray(v, dtype=float)[order]
        if how == "min":
            out[name] = np.minimum.reduceat(v, first) if len(first) else v[:0]
            continue
        total = np.zeros(len(first))
        comp = np.zeros(len(first))
        for step in range(int(size.max()) if len(size) else 0):
            g = np.flatnonzero(size > step)
            y = v[first[g] + step] - comp[g]
            t = total[g] + y
            comp[g] = t - total[g] - y
            total[g] = t
        out[name] = total
    return pd.DataFrame(out)


def intersecting_pairs(sites: np.ndarray, dims: np.ndarray, pz: PreparedZones, *,
                  whole: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (site, tile) pairs that intersect, and whether the tile properly contains the site.

    Candidates come from the tiles' boxes; the predicates are then evaluated on this
    thread's prepared tiles (an STRtree query with a predicate prepares every site
    instead, which for a site with one or two candidate tiles costs more than the test).
    Containment (lines and polygons only, with ``whole``) is tested first: a tile
    containing the site intersects it.
    """
    s_idx, t_idx = pz.tree.query(sites)
    tiles = thread_tiles(pz)
    inside = np.zeros(len(s_idx), dtype=bool)
    if whole:
        ext = np.flatnonzero(dims[s_idx] > 0)
        inside[ext] = shapely.contains_properly(tiles[t_idx[ext]], sites[s_idx[ext]])
    rest = np.flatnonzero(~inside)
    hit = inside.copy()
    hit[rest] = shapely.intersects(tiles[t_idx[rest]], sites[s_idx[rest]])
    return s_idx[hit], t_idx[hit], inside[hit]


def _tile_overlaps(sites: np.ndarray, dims: np.ndarray, s_idx: np.ndarray, t_idx: np.ndarray, whole: np.ndarray,
                   pz: PreparedZones) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Area (m², polygons) and length (m, lines) of each line or polygon site ``s_idx`` in tile ``t_idx``.

    Overlay is the costly step, and most pairs need none: a site wholly inside the
    tile (``whole``: properly contained) overlaps it by all of itself; a site
    crossing tile edges inside one zone, covered by that zone (tested against the
    prepared zone), overlaps the zone by all of itself, counted once, on its first
    tile pair. Only the rest are cut.

    Also returns, per pair, the geometry measured (the site itself, its cut piece,
    or None for the further pairs of a covered site) and whether the pair carries
    the whole site (the geometry is then the site).
    """
    area = np.zeros(len(s_idx))
    length = np.zeros(len(s_idx))
    geom = sites[s_idx].copy()
    cut = ~whole
    carries = whole.copy()
    c = np.flatnonzero(cut)
    if len(c):
        z = pz.tile_zone[t_idx[c]]
        covered = shapely.covers(_thread_zones(pz)[z], geom[c])
        cov = c[covered]
        if len(cov):
            # the first pair of each covered (site, zone) carries the site; its other pairs nothing
            key = s_idx[cov].astype(np.int64) * len(pz.geoms) + pz.tile_zone[t_idx[cov]]
            _, first = np.unique(key, return_index=True)
            rest = np.setdiff1d(np.arange(len(cov)), first, assume_unique=True)
            cut[cov] = False
            carries[cov[first]] = True
            geom[cov[rest]] = None
        geom[cut] = shapely.intersection(geom[cut], pz.tiles[t_idx[cut]])
    d = dims[s_idx]
    poly, line = (d == 2) & ~shapely.is_missing(geom), (d == 1) & ~shapely.is_missing(geom)
    area[poly] = ellipsoidal_area(geom[poly])
    length[line] = ellipsoidal_length(geom[line])
    return area, length, geom, carries


def _thread_zones(pz: PreparedZones) -> np.ndarray:
    """This thread's own GEOS-prepared copy of the whole zones ``pz.geoms`` (as for the tiles)."""
    return thread_prepared(pz, "geoms")


def _nearest(tree: shapely.STRtree, geoms: np.ndarray, search_m: float, tile_zone: np.ndarray):
    """Nearest zone within ``search_m``: (input positions, zone positions, distances).

    Ties (zones at the same distance) resolve to the lowest zone position, as in
    the reference kernel.
    """
    (i_idx, t_idx), dist = tree.query_nearest(geoms, max_distance=search_m, return_distance=True,
                                              all_matches=True)
    z_idx = tile_zone[t_idx]
    if len(i_idx) == 0:
        return i_idx, z_idx, dist
    order = np.lexsort((z_idx, i_idx))
    i_idx, z_idx, dist = i_idx[order], z_idx[order], dist[order]
    first = np.r_[True, i_idx[1:] != i_idx[:-1]]
    return i_idx[first], z_idx[first], dist[first]


def reference(sites: np.ndarray, pz: PreparedZones, jixi: PreparedZones, *, buffer_m: float,
              search_m: float) -> Pairs:
    n = len(sites)
    dims = _dims(sites)
    s = gpd.GeoDataFrame({"site": np.arange(n)}, geometry=sites, crs=ANALYSIS_CRS)
    z = gpd.GeoDataFrame({"zone": np.arange(len(pz.geoms))}, geometry=pz.geoms, crs=ANALYSIS_CRS)
    j = gpd.sjoin(s, z, predicate="intersects", how="inner")
    sg = sites[j["site"].to_numpy()]
    zg = pz.geoms[j["zone"].to_numpy()]
    d = dims[j["site"].to_numpy()]
    inter = shapely.intersection(sg, zg)
    hits = pd.DataFrame({"site": j["site"].to_numpy(), "zone": j["zone"].to_numpy(),
                         "overlap_m2": np.where(d == 2, ellipsoidal_area(inter), 0.0),
                         "overlap_len_m": np.where(d == 1, ellipsoidal_length(inter), 0.0)})
    hits = hits.groupby(["site", "zone"], sort=True, as_index=False).sum()
    hits = hits[(dims[hits["site"].to_numpy()] == 0) | (hits["overlap_m2"] > 0) | (hits["overlap_len_m"] > 0)]
    jb = gpd.GeoDataFrame(geometry=jixi.geoms, crs=ANALYSIS_CRS)
    jj = gpd.sjoin(s, jb, predicate="intersects", how="inner")
    in_jixi = np.zeros(n, dtype=bool)
    in_jixi[jj["site"].to_numpy()] = True
    inside = np.zeros(n, dtype=bool)
    inside[hits["site"].to_numpy()] = True
    nearest_zone = np.full(n, -1)
    nearest_m = np.full(n, np.nan)
    nearest_m[inside] = 0.0
    out = s[~inside & in_jixi]
    if len(out):
        nn = gpd.sjoin_nearest(out, z, how="inner", max_distance=search_m, distance_col="distance_m")
        nn = nn.sort_values(["site", "distance_m", "zone"]).drop_duplicates("site")
        nearest_zone[nn["site"].to_numpy()] = nn["zone"].to_numpy()
        nearest_m[nn["site"].to_numpy()] = nn["distance_m"].to_numpy()
    near = pd.DataFrame({"site": [], "zone": [], "distance_m": []})
    if buffer_m > 0 and len(out):
        buf = out.copy()
        buf["geometry"] = out.buffer(buffer_m)
        jj = gpd.sjoin(buf, z, predicate="intersects", how="inner")
        if len(jj):
            dist = shapely.distance(sites[jj["site"].to_numpy()], pz.geoms[jj["zone"].to_numpy()])
            keep = dist <= buffer_m
            near = pd.DataFrame({"site": jj["site"].to_numpy()[keep], "zone": jj["zone"].to_numpy()[keep],
                                 "distance_m": dist[keep]}).sort_values(["site", "zone"], ignore_index=True)
    return Pairs(hits.reset_index(drop=True), nearest_zone, nearest_m, near, in_jixi)


def fast_parallel(sites: np.ndarray, pz: PreparedZones, jixi: PreparedZones, *, buffer_m: float,
                  search_m: float, workers: int | None = None) -> Pairs:
    """:func:`fast`, split into one chunk per core for large inputs; identical results."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = workers or min(os.cpu_count() or 1, MAX_WORKERS)
    if workers < 2 or len(sites) < PARALLEL_MIN_SITES:
        return fast(sites, pz, jixi, buffer_m=buffer_m, search_m=search_m)
    bounds = np.linspace(0, len(sites), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as ex:
        parts = list(ex.map(lambda ab: fast(sites[ab[0]:ab[1]], pz, jixi, buffer_m=buffer_m, search_m=search_m),
                            zip(bounds[:-1], bounds[1:], strict=True)))

    return _concat(parts, [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
                   len(sites))


def _concat(parts: list[Pairs], positions: list[np.ndarray], n: int) -> Pairs:
    """Pairs of disjoint subsets of the sites as one; ``positions[k]`` maps part k's
    sites to the whole. Rows are ordered by (site, zone), as from a single pass."""
    def remap(df, k):
        df = df.copy()
        df["site"] = positions[k][df["site"].to_numpy().astype(np.int64)]
        return df

    nearest_zone = np.full(n, -1)
    nearest_m = np.full(n, np.nan)
    in_jixi = np.zeros(n, dtype=bool)
    dims = np.zeros(n, dtype=np.int32) if all(p.dims is not None for p in parts) else None
    sizes = [p.site_size for p in parts]
    cuts = [p.pieces for p in parts]
    for where, p in zip(positions, parts, strict=True):
        nearest_zone[where] = p.nearest_zone
        nearest_m[where] = p.nearest_m
        in_jixi[where] = p.in_jixi
        if dims is not None and p.dims is not None:
            dims[where] = p.dims
    hits = _join_rows([p.hits for p in parts], positions, remap)
    near = _join_rows([p.near for p in parts], positions, remap)
    site_size, pieces = None, None
    if all(z is not None for z in sizes) and all(c is not None for c in cuts):
        site_size = np.full(n, np.nan)
        for where, z in zip(positions, sizes, strict=True):
            site_size[where] = z
        # each part's pieces, their sites mapped to the whole (parts are in site order)
        ps = [positions[k][c[0].astype(np.int64)] for k, c in enumerate(cuts) if c is not None]
        pieces = (np.concatenate(ps), np.concatenate([c[1] for c in cuts if c is not None]),
                  np.concatenate([c[2] for c in cuts if c is not None]))
    return Pairs(hits, nearest_zone, nearest_m, near, in_jixi, site_size, pieces, dims)


def _join_rows(frames: list[pd.DataFrame], positions: list[np.ndarray], remap) -> pd.DataFrame:
    """The parts' (site, zone) rows as one frame, sites mapped to the whole, in (site, zone) order:
    ``pd.concat([remap(f, k) ...], ignore_index=True)`` sorted stably by (site, zone), built from the columns'
    arrays in one step (a million grid hits: no frame copied four times). Columns of NumPy
    dtypes only; anything else goes the pandas way."""
    cols = list(frames[0].columns) if frames else []
    plain = (frames and {"site", "zone"} <= set(cols) and all(list(f.columns) == cols for f in frames)
             and all(isinstance(t, np.dtype) for f in frames for t in f.dtypes))
    if not plain:
        joined = pd.concat([remap(f, k) for k, f in enumerate(frames)], ignore_index=True)
        return joined.sort_values(["site", "zone"], kind="stable", ignore_index=True)
    data = {c: np.concatenate([positions[k][f["site"].to_numpy().astype(np.int64)] if c == "site"
                               else f[c].to_numpy() for k, f in enumerate(frames)]) for c in cols}
    order = _site_zone_order(data["site"], data["zone"])
    if order is None:
        return pd.DataFrame(data).sort_values(["site", "zone"], kind="stable", ignore_index=True)
    return pd.DataFrame({c: v[order] for c, v in data.items()})


def _site_zone_order(site: np.ndarray, zone: np.ndarray) -> np.ndarray | None:
    """The stable (site, zone) order of non-negative integer rows by one packed key; None otherwise."""
    key = packed_key([site, zone]) if len(site) >= 2 else None
    return None if key is None else np.argsort(key, kind="stable")


def _from_grid(state: np.ndarray, grid) -> Pairs:
    """Pairs of points the grid answers (every ``state`` ≥ 0): each point lies in the zones of its state."""
    n = len(state)
    counts = np.array([len(z) for z in grid.state_zones], dtype=np.int64)
    flat = np.concatenate(grid.state_zones + [np.empty(0, dtype=np.int64)])
    start = np.r_[0, np.cumsum(counts)[:-1]]
    k = counts[state]
    site = np.flatnonzero(k)  # the points in a zone (most of a city's points are in none)
    kk, first = k[site], start[state[site]]
    if len(kk) and (kk == 1).all():  # each in one zone: a row per point
        zone = flat[first]
    else:  # a row per (point, zone of its state), the state's zones in order
        within = np.arange(int(kk.sum())) - np.repeat(np.cumsum(kk) - kk, kk)
        zone = flat[np.repeat(first, kk) + within]
        site = np.repeat(site, kk)
    hits = pd.DataFrame({"site": site, "zone": zone, "overlap_m2": 0.0, "overlap_len_m": 0.0})
    near = pd.DataFrame({"site": np.empty(0, dtype=np.int64), "zone": np.empty(0, dtype=np.int64),
                         "distance_m": np.empty(0)})
    return Pairs(hits, np.full(n, -1), np.where(k > 0, 0.0, np.nan), near, grid.state_in_jixi[state],
                 dims=np.zeros(n, dtype=np.int32))


def fast_points(xy: np.ndarray, pz: PreparedZones, jixi: PreparedZones, *, buffer_m: float, search_m: float,
                workers: int | None = None) -> tuple[Pairs, int]:
    """:func:`fast_parallel` for points given as EPSG:4553 coordinates, shape (n, 2).

    The cell grid answers the points lying clear inside cells that are wholly in
    or out of every zone and the city (and, outside all zones, farther than
    ``search_m`` from any); point geometries are built, and tested exactly, only
    for the rest. Identical results to :func:`fast`.

    Returns
    -------
    (Pairs, int)
        The pairs, and how many points the exact queries had to decide.
    """
    from . import _grid

    grid = _grid.build(pz, jixi)
    state = grid.lookup(xy, search_m)
    open_, done = np.flatnonzero(state < 0), np.flatnonzero(state >= 0)
    with paused():  # many geometry objects: no cyclic collections meanwhile
        geoms = shapely.points(xy[open_])
    exact = fast_parallel(geoms, pz, jixi, buffer_m=buffer_m, search_m=search_m,
                          workers=workers)
    return _concat([_from_grid(state[done], grid), exact], [done, open_], len(xy)), len(open_)


KERNELS = {"fast": fast_parallel, "reference": reference}
