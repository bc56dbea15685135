"""Geometric measures of the sites for the result: their size, the share outside Jixi, the overlap with their zones.

Areas and lengths are on the CGCS2000 ellipsoid (:func:`jixi_geo._kernels.ellipsoidal_area`);
used by :mod:`jixi_geo.assembly` and :func:`jixi_geo.redline.check_sites_detail`.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import shapely

from ._kernels import ellipsoidal_area, ellipsoidal_length, intersecting_pairs
from ._zones import prepare
from .layers import load_layer

__all__ = ["site_measures", "outside_share", "union_overlap", "WHOLE_SITE_REL_TOL", "OUTSIDE_NOISE_PCT"]

#: A hit covering the site's area or length to this relative tolerance is the whole site.
WHOLE_SITE_REL_TOL = 1e-6
#: A share of a line or polygon outside Jixi below this (%) is float noise along the border: 0.
OUTSIDE_NOISE_PCT = 1e-4


def site_measures(geoms: np.ndarray, where: np.ndarray | None = None, known: np.ndarray | None = None,
                  dims: np.ndarray | None = None):
    """Each site's dimension (0 point, 1 line, 2 polygon), ellipsoidal area (m², polygons) and length (m, lines).

    ``where`` (boolean mask or positions, optional): measure only these sites; the
    area and length of the others are NaN (not measured). ``known`` (optional): per
    site its area (polygons) or length (lines) already measured the same way
    (:attr:`jixi_geo._kernels.Pairs.site_size`), NaN where not; those are taken as they are.
    ``dims`` (optional): the sites' dimensions as a kernel read them (:attr:`jixi_geo._kernels.Pairs.dims`).
    """
    if dims is None or len(dims) != len(geoms):
        dims = shapely.get_dimensions(geoms)
    area = np.full(len(geoms), np.nan)
    length = np.full(len(geoms), np.nan)
    chosen = np.ones(len(geoms), dtype=bool)
    if where is not None:
        chosen = np.zeros(len(geoms), dtype=bool)
        chosen[where] = True
    if known is not None:
        have = chosen & ~np.isnan(known)
        area[have & (dims == 2)] = known[have & (dims == 2)]
        length[have & (dims == 1)] = known[have & (dims == 1)]
        chosen &= ~have
    poly, line = np.flatnonzero(chosen & (dims == 2)), np.flatnonzero(chosen & (dims == 1))
    if len(poly):
        area[poly] = ellipsoidal_area(geoms[poly])
    if len(line):
        length[line] = ellipsoidal_length(geoms[line])
    return dims, area, length


def _measured(values: np.ndarray, where: np.ndarray, geoms: np.ndarray, measure) -> np.ndarray:
    """``values[where]``, measuring with ``measure`` those not measured yet (NaN)."""
    out = values[where]
    todo = np.isnan(out)
    if todo.any():
        out[todo] = measure(geoms[where[todo]])
    return out


def outside_share(geoms: np.ndarray, dims: np.ndarray, in_jixi: np.ndarray, site_area: np.ndarray | None = None,
                  site_len: np.ndarray | None = None) -> np.ndarray:
    """Share (%) of each site's area (polygons) or length (lines) outside the Jixi boundary.

    Points: 0 inside, 100 outside. Lines and polygons touching the city: 0 if
    wholly inside, else ``100 × (1 − inside / whole)`` on the CGCS2000
    ellipsoid; shares below :data:`OUTSIDE_NOISE_PCT` (float noise along the border) count as 0.
    ``geoms`` are in EPSG:4553 for lines and polygons. ``site_area``/``site_len``
    (m², m; NaN where not measured) are the sites' own measures, measured here where missing.

    Only the sites crossing the city's outline (found through an index of its short
    segments) are measured. A polygon's area inside is the sum of its pieces in the
    city's tiles (:mod:`jixi_geo._zones`: disjoint, small), not one overlay with the
    whole outline; a line is cut by the whole city (pieces of a line along a tile
    edge would count twice).
    """
    n = len(geoms)
    site_area = np.full(n, np.nan) if site_area is None else site_area
    site_len = np.full(n, np.nan) if site_len is None else site_len
    pct = np.where(in_jixi, 0.0, 100.0)
    cand = np.flatnonzero(in_jixi & (dims > 0))
    if len(cand) == 0:
        return pct
    jixi = prepare(load_layer("boundary"))
    city = shapely.union_all(jixi.geoms) if len(jixi.geoms) > 1 else jixi.geoms[0]
    # a site in Jixi that does not touch the city's outline lies wholly inside it
    touching = cand[np.unique(_outline_index(city).query(geoms[cand], predicate="intersects")[0])]
    if len(touching) == 0:
        return pct
    by_tiles = len(jixi.geoms) == 1  # tiles of one geometry are disjoint: their pieces' areas add up
    poly = touching[dims[touching] == 2] if by_tiles else touching[:0]
    if len(poly):
        s_rel, t_idx = jixi.tree.query(geoms[poly], predicate="intersects")
        pieces = shapely.intersection(geoms[poly[s_rel]], jixi.tiles[t_idx])
        inside = np.bincount(s_rel, weights=ellipsoidal_area(pieces), minlength=len(poly))
        with np.errstate(invalid="ignore", divide="ignore"):
            share_in = inside / _measured(site_area, poly, geoms, ellipsoidal_area)
        pct[poly] = _share_out(share_in)
    rest = np.setdiff1d(touching, poly, assume_unique=True)
    if len(rest) == 0:
        return pct
    city = shapely.from_wkb(shapely.to_wkb(city))  # a private copy to prepare
    shapely.prepare(city)
    part = rest[~shapely.covered_by(geoms[rest], city)]
    if len(part) == 0:
        return pct
    inner = shapely.intersection(geoms[part], city)
    d = dims[part]
    share_in = np.ones(len(part))
    with np.errstate(invalid="ignore", divide="ignore"):
        share_in[d == 2] = ellipsoidal_area(inner[d == 2]) / _measured(site_area, part[d == 2], geoms,
                                                                        ellipsoidal_area)
        share_in[d == 1] = ellipsoidal_length(inner[d == 1]) / _measured(site_len, part[d == 1], geoms,
                                                                          ellipsoidal_length)
    pct[part] = _share_out(share_in)
    return pct


def _share_out(share_in: np.ndarray) -> np.ndarray:
    """Share outside (%) from the share inside (0–1; NaN for a site of no size: all inside); noise is 0."""
    out = np.clip(100.0 * (1.0 - np.nan_to_num(share_in, nan=1.0)), 0.0, 100.0)
    return np.where(out < OUTSIDE_NOISE_PCT, 0.0, out)


@functools.lru_cache(maxsize=4)
def _outline_index(city) -> shapely.STRtree:
    """An STRtree of the segments of ``city``'s rings (outer and holes), built once per outline."""
    rings = shapely.get_rings(shapely.get_parts(city))
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]  # consecutive vertices of one ring
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    return shapely.STRtree(segments)


def union_overlap(site_geoms, pz, hits: pd.DataFrame, dims, site_area=None,
                   site_len=None, pieces=None) -> tuple[np.ndarray, np.ndarray]:
    """Per site, area (m²) and length (m) inside the union of the zones it hits.

    Zones of one level may overlap each other; summing per-zone overlaps would count
    that part twice, so for sites hitting several zones the pieces of the site in
    each hit zone's tiles are unioned first (small geometries: cheap). A site lying
    wholly inside one of its zones (that zone's overlap equals the site's own area
    or length, given as ``site_area``/``site_len``, to 1e-6) needs no union: the
    union is the site.

    ``pieces`` (optional, from the fast kernel: :attr:`jixi_geo._kernels.Pairs.pieces`): the
    (site, tile, piece) cuts of the polygon sites in several zones, already made; they are
    the same cuts this function would make, in the same order, so the union is the same.
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
    nz = len(pz.geoms)
    wanted = hits["site"].to_numpy().astype(np.int64) * nz + hits["zone"].to_numpy()
    made = None
    if pieces is not None and (dims[multi] == 2).all():  # polygons only: their cuts are made
        ps, pt, pg = pieces
        mine = np.isin(ps, multi)
        made, ps, pt = pg[mine], ps[mine], pt[mine]
        keep = np.isin(ps.astype(np.int64) * nz + pz.tile_zone[pt], wanted)
        s_idx, t_idx, made = ps[keep], pt[keep], made[keep]
    else:
        s_rel, t_idx, _ = intersecting_pairs(site_geoms[multi], dims[multi], pz, whole=False)
        s_idx = multi[s_rel]
        keep = np.isin(s_idx.astype(np.int64) * nz + pz.tile_zone[t_idx], wanted)
        s_idx, t_idx = s_idx[keep], t_idx[keep]
    # polygons: the union of the site's pieces in each hit zone (areas are robust to
    # the float noise of separately computed pieces); lines: the line cut once by the
    # union of the hit zones' tiles clipped to its box (a union of separately cut
    # collinear pieces would count their overlaps twice)
    line = dims[s_idx] == 1
    parts = np.empty(len(s_idx), dtype=object)
    parts[~line] = (made if made is not None
                    else shapely.intersection(site_geoms[s_idx[~line]], pz.tiles[t_idx[~line]]))
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
