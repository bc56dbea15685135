"""A certified cell grid over prepared zones (private): most point sites answered by array lookup.

The plane (EPSG:4553) is cut into square cells. A cell whose closed square lies
wholly inside some zones and wholly outside the others, and wholly inside or wholly
outside Jixi, is *pure*: every point in it has the same answer — the same zones
hit, the same in/out of Jixi. A pure cell with no zone also carries a lower bound
of its distance to the nearest zone (the distance from the square to the zones'
edges), so a point there is known to have no zone within ``search_m`` when the
bound exceeds it. Cells crossed by a zone or city edge are *mixed*; points in them,
points within ``EDGE_EPS`` of a cell edge (whose cell index floating-point
rounding could flip) and points off the grid go to the exact geometric kernel.
Nothing is approximated: a point is either proved by the grid or computed exactly.

Cells are classified coarse to fine (``LEVELS_M``); only mixed cells, and cells
close to a zone, are split further, so preparation costs about a second for the
bundled zones; it is cached per zone layer, in memory and on disk
(:mod:`jixi_geo._cache`). With 250 m cells about 90% of points spread over the
city's bounding box are answered by the grid. For a million points the gain is
less in the geometry tests than in not building a million projected point
geometries at all: the grid reads coordinate arrays.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from ._zones import TILE_M, thread_tiles

#: Cell sizes (metres), coarse to fine; each divides the previous one and the 5 km
#: tile size of :mod:`jixi_geo._zones`, so a cell lies in one tile.
LEVELS_M = (5000.0, 1000.0, 500.0, 250.0)
#: Distances to the nearest zone are bounded up to this value (metres); a search
#: radius at or beyond it leaves zone-free cells to the exact kernel.
DIST_CAP_M = 2000.0
#: Zone-free cells nearer than this to a zone are split further (the search radius
#: in common use is 1 km).
REFINE_NEAR_M = 1500.0
#: Coordinates closer than this (in cells) to a cell edge are left to the exact kernel.
EDGE_EPS = 1e-6
#: Points looked up per block (:meth:`CellGrid.lookup`): working arrays of half a megabyte.
LOOKUP_BLOCK = 1 << 16

#: The classification's revision, part of the disk cache key: a grid classified another way is not read.
#: 2: tiles that only touch a cell are ignored (before, every cell along a 5 km tile edge was mixed).
GRID_REV = 2

_CACHE: dict[tuple, CellGrid] = {}
_LOCK = threading.Lock()


@dataclass
class CellGrid:
    """The finest level of a classified grid.

    ``state[iy, ix]`` is -1 for a mixed cell, else an index into ``state_zones``
    (sorted zone positions covering the cell) and ``state_in_jixi``; ``dist`` is a
    lower bound (m) of the distance from the cell to the nearest zone (0 where a
    zone covers the cell, ``DIST_CAP_M`` when none is nearer).
    """

    x0: float
    y0: float
    size: float
    state: np.ndarray
    dist: np.ndarray
    state_zones: list[np.ndarray]
    state_in_jixi: np.ndarray
    _tables: dict = field(default_factory=dict, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.state.shape

    def answers(self, search_m: float) -> np.ndarray:
        """Cells whose points the grid answers for this search radius (bool, cached):
        pure cells covered by a zone, outside Jixi, or farther than ``search_m`` from
        every zone."""
        key = float(search_m)
        hit = self._tables.get(key)
        if hit is not None:
            return hit
        st = self.state
        s = np.maximum(st, 0)
        has_zone = np.array([len(z) > 0 for z in self.state_zones], dtype=bool)[s]
        in_jixi = self.state_in_jixi[s]
        ok = (st >= 0) & (has_zone | ~in_jixi | (self.dist > search_m))
        self._tables[key] = ok
        return ok

    def lookup(self, xy: np.ndarray, search_m: float) -> np.ndarray:
        """The state of each point's cell, or -1 where the exact kernel must decide.

        Parameters
        ----------
        xy : ndarray, shape (n, 2)
            Point coordinates in EPSG:4553 metres.
        search_m : float
            Radius (m) of the nearest-zone search.

        Returns
        -------
        ndarray of int64
            A state index per point; -1 for points in mixed or unanswered cells,
            outside the grid, or within ``EDGE_EPS`` of a cell edge.

        Notes
        -----
        The points are taken in blocks of :data:`LOOKUP_BLOCK`: the working arrays of a
        block stay in the processor's cache and are reused from block to block, so a
        million points need no more new memory than their answers (fresh memory is slow
        to touch on virtual machines).
        """
        n = len(xy)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return out
        table = self._answer_table(search_m)
        ny, nx = self.shape
        with np.errstate(invalid="ignore"):
            for a in range(0, n, LOOKUP_BLOCK):
                b = min(a + LOOKUP_BLOCK, n)
                fx = (xy[a:b, 0] - self.x0) / self.size
                fy = (xy[a:b, 1] - self.y0) / self.size
                cx, cy = np.floor(fx), np.floor(fy)
                fx -= cx  # the position inside the cell, 0..1
                fy -= cy
                # a coordinate within EDGE_EPS of a cell edge might round into either cell
                clear = (fx > EDGE_EPS) & (fx < 1 - EDGE_EPS) & (fy > EDGE_EPS) & (fy < 1 - EDGE_EPS)
                clear &= (cx >= 0) & (cy >= 0) & (cx < nx) & (cy < ny)  # False for NaN
                cy *= nx
                cy += cx  # the cell's position in the flattened grid (exact: far below 2**53)
                cell = np.where(clear, cy, 0.0).astype(np.int64)
                got = table[cell]
                got[~clear] = -1
                out[a:b] = got
        return out

    def _answer_table(self, search_m: float) -> np.ndarray:
        """Per cell (flattened), its state where the grid answers its points, else -1 (int64, cached)."""
        key = ("table", float(search_m))
        hit = self._tables.get(key)
        if hit is None:
            hit = self._tables[key] = np.where(self.answers(search_m), self.state, -1).astype(np.int64).ravel()
        return hit


def _boxes(x0, y0, size, ix, iy):
    xs = x0 + ix * size
    ys = y0 + iy * size
    return shapely.box(xs, ys, xs + size, ys + size)


def _classify(cells: np.ndarray, pz, jixi, seg_tree: shapely.STRtree):
    """Per cell: mixed flag, in-Jixi flag, (cell, zone) covering pairs, distance bound."""
    n = len(cells)
    mixed = np.zeros(n, dtype=bool)
    c, t = _inner_pairs(pz, cells)
    cov = shapely.covers(thread_tiles(pz)[t], cells[c])
    mixed[c[~cov]] = True
    touched = np.zeros(n, dtype=bool)
    touched[c] = True
    cz = np.c_[c[cov], pz.tile_zone[t[cov]]]
    cj, tj = _inner_pairs(jixi, cells)
    covj = shapely.covers(thread_tiles(jixi)[tj], cells[cj])
    mixed[cj[~covj]] = True
    in_jixi = np.zeros(n, dtype=bool)
    in_jixi[cj[covj]] = True
    dist = np.zeros(n)
    free = np.flatnonzero(~touched & ~mixed)
    dist[free] = DIST_CAP_M
    if len(free):
        # outside every zone, the distance to the zones is the distance to their edges
        (i, _), d = seg_tree.query_nearest(cells[free], max_distance=DIST_CAP_M, return_distance=True,
                                           all_matches=False)
        dist[free[i]] = np.minimum(dist[free[i]], d)
    return mixed, in_jixi, cz, dist


def _inner_pairs(pz, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (cell, tile) pairs whose interiors meet. A tile that only touches a cell (a zone or the
    city running on across a 5 km tile edge, which is also a cell edge) holds none of the points
    inside the cell: it neither covers the cell nor makes it mixed. Points on or within
    ``EDGE_EPS`` of a cell edge are never answered by the grid."""
    c, t = pz.tree.query(cells, predicate="intersects")
    inner = ~shapely.touches(thread_tiles(pz)[t], cells[c])
    return c[inner], t[inner]


def _zone_rows(n: int, cz: np.ndarray) -> np.ndarray:
    """(n, k) array of each cell's covering zones, ascending, padded with -1."""
    if len(cz) == 0:
        return np.full((n, 1), -1, dtype=np.int64)
    cz = cz[np.lexsort((cz[:, 1], cz[:, 0]))]
    cz = cz[np.r_[True, (cz[1:] != cz[:-1]).any(axis=1)]]
    starts = np.flatnonzero(np.r_[True, cz[1:, 0] != cz[:-1, 0]])
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(cz)]))
    pos = np.arange(len(cz)) - starts[group]
    rows = np.full((n, int(pos.max()) + 1), -1, dtype=np.int64)
    rows[cz[:, 0], pos] = cz[:, 1]
    return rows


def _edges(geoms: np.ndarray) -> np.ndarray:
    """The edges of polygons as two-point lines."""
    rings = shapely.get_rings(shapely.get_parts(geoms))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    return shapely.linestrings(np.stack([a, b], axis=1))


def build(pz, jixi, *, levels=LEVELS_M) -> CellGrid:
    """Classify the cells of ``levels`` over the zones' and the city's extent (cached)."""
    key = (pz.sha256, jixi.sha256, tuple(levels))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    from . import _cache

    ckey = _cache.key("grid", zones=pz.sha256, jixi=jixi.sha256, levels=tuple(float(v) for v in levels),
                      tiles=(len(pz.tiles), len(jixi.tiles)), dist_cap=DIST_CAP_M, refine=REFINE_NEAR_M,
                      rev=GRID_REV)
    grid = _cache.load("grid", ckey, lambda a: _unpack(a, len(pz.geoms)))
    if grid is None:
        grid = _build(pz, jixi, levels)
        _cache.store("grid", ckey, _pack(grid))
    with _LOCK:
        _CACHE[key] = grid
    return grid


def _pack(g: CellGrid) -> dict:
    counts = np.array([len(z) for z in g.state_zones], dtype=np.int64)
    flat = np.concatenate(g.state_zones + [np.empty(0, dtype=np.int64)]).astype(np.int64)
    return {"origin": np.array([g.x0, g.y0, g.size]), "state": g.state, "dist": g.dist, "zone_counts": counts,
            "zones": flat, "in_jixi": g.state_in_jixi}


def _unpack(a: dict, n_zones: int) -> CellGrid:
    counts, flat, state = a["zone_counts"].astype(np.int64), a["zones"].astype(np.int64), a["state"]
    ok = (state.ndim == 2 and a["dist"].shape == state.shape and counts.sum() == len(flat)
          and len(a["in_jixi"]) == len(counts) and a["origin"].shape == (3,)
          and (state.size == 0 or (state.min() >= -1 and state.max() < len(counts)))
          and (len(flat) == 0 or (flat.min() >= 0 and flat.max() < n_zones)))
    if not ok:
        raise ValueError("inconsistent cell grid")
    x0, y0, size = (float(v) for v in a["origin"])
    return CellGrid(x0=x0, y0=y0, size=size, state=state.astype(np.int32), dist=a["dist"].astype(np.float32),
                    state_zones=list(np.split(flat, np.cumsum(counts)[:-1])) if len(counts) else [],
                    state_in_jixi=a["in_jixi"].astype(bool))


def _build(pz, jixi, levels) -> CellGrid:
    seg_tree = shapely.STRtree(_edges(pz.geoms))
    coarse = levels[0]
    tile = TILE_M  # cells must not straddle a zone tile
    allb = np.vstack([shapely.bounds(pz.tiles), shapely.bounds(jixi.tiles)])
    x0 = np.floor(np.nanmin(allb[:, 0]) / tile) * tile - tile
    y0 = np.floor(np.nanmin(allb[:, 1]) / tile) * tile - tile
    nx = int(np.ceil((np.nanmax(allb[:, 2]) + tile - x0) / coarse))
    ny = int(np.ceil((np.nanmax(allb[:, 3]) + tile - y0) / coarse))
    keys: dict[tuple, int] = {}  # (in_jixi, zone tuple) -> state

    # the cells to classify at each level: all at the coarsest, then the children
    # of mixed cells and of zone-free cells near a zone
    iy, ix = np.divmod(np.arange(nx * ny), nx)
    state = np.full((ny, nx), -1, dtype=np.int64)
    dist = np.zeros((ny, nx))
    size = coarse
    for li, size in enumerate(levels):
        if li > 0:
            f = int(round(levels[li - 1] / size))
            state = np.repeat(np.repeat(state, f, axis=0), f, axis=1)
            dist = np.repeat(np.repeat(dist, f, axis=0), f, axis=1)
            dx, dy = np.meshgrid(np.arange(f), np.arange(f))
            ix = (ix[:, None] * f + dx.ravel()[None, :]).ravel()
            iy = (iy[:, None] * f + dy.ravel()[None, :]).ravel()
        cells = _boxes(x0, y0, size, ix, iy)
        mixed, in_jixi, cz, d = _classify(cells, pz, jixi, seg_tree)
        rows = np.c_[in_jixi.astype(np.int64), _zone_rows(len(cells), cz)]
        pr = rows[~mixed]
        inverse, uniq = pd.factorize(pd.MultiIndex.from_arrays(list(pr.T)))
        glob = np.array([keys.setdefault((bool(u[0]), tuple(int(z) for z in u[1:] if z >= 0)), len(keys))
                         for u in uniq], dtype=np.int64)
        codes = np.full(len(cells), -1, dtype=np.int64)
        codes[~mixed] = glob[inverse]
        state[iy, ix] = codes
        dist[iy, ix] = d
        if li < len(levels) - 1:
            zone_free = rows[:, 1] < 0
            again = mixed | (zone_free & in_jixi & (d < REFINE_NEAR_M))
            ix, iy = ix[again], iy[again]
    states = sorted(keys.items(), key=lambda kv: kv[1])
    # float32 must not raise a distance bound: round down
    d32 = dist.astype(np.float32)
    d32 = np.where(d32.astype(np.float64) > dist, np.nextafter(d32, np.float32(0)), d32)
    grid = CellGrid(x0=float(x0), y0=float(y0), size=float(size), state=state.astype(np.int32), dist=d32,
                    state_zones=[np.array(k[1], dtype=np.int64) for k, _ in states],
                    state_in_jixi=np.array([k[0] for k, _ in states], dtype=bool))
    return grid
