"""Areas of polygon intersections with a convex window, vectorised in NumPy (private to :mod:`.occupy`).

Most sites are convex (rectangles, quadrilaterals) and most land-cover parcels are
small simple polygons; measuring their overlap needs its area and centroid, not its
geometry. :func:`clip_area` clips each subject polygon by its convex window one
window edge at a time (Sutherland–Hodgman), all pairs at once. With a convex window
the clipped ring may hold zero-width bridges along the window's edges, which add no
area and no moment, so the shoelace area and centroid are those of the intersection.
:func:`eligible_subjects` and :func:`convex_windows` say which geometries qualify;
the others go through GEOS (``shapely.intersection``). A test compares both ways.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["clip_area", "rings", "eligible_subjects", "convex_windows", "MAX_SUBJECT_VERTICES", "MAX_WINDOW_VERTICES"]

#: Subjects with more ring vertices than this go through GEOS (padding cost grows with the widest ring).
MAX_SUBJECT_VERTICES = 64
#: Windows (convex sites) with more vertices than this go through GEOS.
MAX_WINDOW_VERTICES = 32


def eligible_subjects(geoms: np.ndarray) -> np.ndarray:
    """Which geometries are single polygons without holes and with at most :data:`MAX_SUBJECT_VERTICES` vertices."""
    return ((shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
            & (shapely.get_num_coordinates(geoms) <= MAX_SUBJECT_VERTICES + 1))


def convex_windows(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which polygons are convex (area of the convex hull equal to theirs, to 1e-12), and their hulls.

    Only single polygons without holes and with at most :data:`MAX_WINDOW_VERTICES`
    hull vertices qualify; the hull is the window (the same region as the polygon).
    """
    ok = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    hull = np.empty(len(geoms), dtype=object)
    idx = np.flatnonzero(ok)
    if len(idx):
        hull[idx] = shapely.convex_hull(geoms[idx])
        a, ha = shapely.area(geoms[idx]), shapely.area(hull[idx])
        ok[idx] = ((shapely.get_type_id(hull[idx]) == 3) & (a > 0) & (ha <= a * (1 + 1e-12))
                   & (shapely.get_num_coordinates(hull[idx]) <= MAX_WINDOW_VERTICES + 1))
    return ok, hull


def rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exterior rings, ragged: vertices without the closing one (m, 2), each ring's start and count."""
    # polygons without holes (all that reach here, by eligible_subjects / convex_windows) list their
    # exterior ring's vertices as their coordinates: no ring copies needed
    src = geoms if not np.any(shapely.get_num_interior_rings(geoms)) else shapely.get_exterior_ring(geoms)
    xy, owner = shapely.get_coordinates(src, return_index=True)
    counts = np.bincount(owner, minlength=len(geoms)).astype(np.int64)  # with the closing vertex
    start = np.cumsum(counts) - counts
    keep = (np.arange(len(xy)) - np.repeat(start, counts)) < np.repeat(counts - 1, counts)
    counts = np.maximum(counts - 1, 0)
    return xy[keep], np.cumsum(counts) - counts, counts


def _padded(ragged: tuple[np.ndarray, np.ndarray, np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rings ``idx`` of a ragged set as a padded array (len(idx), width, 2) and their counts."""
    xy, start, count = ragged
    counts = count[idx]
    width = max(int(counts.max()) if len(counts) else 0, 1)
    out = np.zeros((len(idx), width, 2))
    row = np.repeat(np.arange(len(idx)), counts)
    pos = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    out[row, pos] = xy[np.repeat(start[idx], counts) + pos]
    return out, counts


def _next(counts: np.ndarray, width: int) -> np.ndarray:
    j = np.arange(width)[None, :]
    return np.where(j + 1 < counts[:, None], j + 1, 0)


def _halfplane(ring: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray):
    """Clip rings by the half-plane left of a→b (inclusive); returns the new padded rings and counts.

    Rings wholly inside are kept as they are, rings with no vertex strictly inside
    emptied (they keep no area); only the rings the edge's line crosses are cut.
    """
    n, width, _ = ring.shape
    valid = np.arange(width)[None, :] < counts[:, None]
    d = b - a
    side = d[:, None, 0] * (ring[..., 1] - a[:, None, 1]) - d[:, None, 1] * (ring[..., 0] - a[:, None, 0])
    inside = side >= 0
    degenerate = (d == 0).all(axis=1)  # the padding edges of windows with fewer vertices: keep all
    all_in = (inside | ~valid).all(axis=1) | degenerate
    none_in = ~((side > 0) & valid).any(axis=1) & ~degenerate  # on or beyond the line: no area left
    counts = np.where(none_in, 0, counts)
    mix = np.flatnonzero(~all_in & ~none_in)
    if len(mix) == 0:
        return ring, counts
    m = len(mix)
    rows = np.arange(m)[:, None]
    nxt = _next(counts[mix], width)
    s, side_s, in_s, ok = ring[mix], side[mix], inside[mix], valid[mix]
    e, side_e = s[rows, nxt], side_s[rows, nxt]
    in_e = side_e >= 0
    cross = ok & (in_s != in_e)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(cross, side_s / (side_s - side_e), 0.0)
    pts = np.stack([s + (e - s) * t[..., None], e], axis=2).reshape(m, 2 * width, 2)
    emit = np.stack([cross, ok & in_e], axis=2).reshape(m, 2 * width)
    pos = np.cumsum(emit, axis=1) - 1  # each emitted point's place in the new ring
    new_counts = pos[:, -1] + 1
    new_width = max(int(new_counts.max()), width)
    if new_width > width:
        ring = np.concatenate([ring, np.zeros((n, new_width - width, 2))], axis=1)
    r, c = np.nonzero(emit)
    ring[mix[r], pos[r, c]] = pts[r, c]
    counts[mix] = new_counts
    return ring, counts


def clip_area(subjects, windows, subject_idx=None, window_idx=None) -> tuple[np.ndarray, np.ndarray]:
    """Planar area (m²) and centroid x (m) of ``subjects[i] ∩ windows[i]``, pair by pair.

    ``subjects``: simple polygons (:func:`eligible_subjects`); ``windows``: convex
    polygons (the hulls of :func:`convex_windows`); either as geometries, or as the
    ragged :func:`rings` of a set with the positions of the pairs (``subject_idx``,
    ``window_idx``), so that rings are extracted once per set. Empty intersections:
    area 0, centroid NaN.
    """
    if subject_idx is None:
        subjects, subject_idx = rings(subjects), np.arange(len(subjects))
    if window_idx is None:
        windows, window_idx = rings(windows), np.arange(len(windows))
    n = len(subject_idx)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    ring, counts = _padded(subjects, subject_idx)
    win, wcounts = _padded(windows, window_idx)
    origin = win[:, 0, :].copy()  # local coordinates: no cancellation in the cross products
    ring = ring - origin[:, None, :]
    win = win - origin[:, None, :]
    # windows counter-clockwise (the inside of each edge on its left)
    wn = _next(wcounts, win.shape[1])
    rows = np.arange(n)[:, None]
    wvalid = np.arange(win.shape[1])[None, :] < wcounts[:, None]
    signed = np.where(wvalid, win[..., 0] * win[rows, wn][..., 1] - win[rows, wn][..., 0] * win[..., 1], 0).sum(1)
    flip = signed < 0
    if flip.any():
        j = np.arange(win.shape[1])[None, :]
        rev = np.where(j < wcounts[:, None], wcounts[:, None] - 1 - j, j)
        win[flip] = win[np.flatnonzero(flip)[:, None], rev[flip]]
    alive = np.arange(n)  # pairs whose intersection may still have an area
    for k in range(win.shape[1]):
        w, wc = win[alive], wcounts[alive]
        a = w[:, k]
        b = w[np.arange(len(alive)), np.where(k + 1 < wc, k + 1, 0)]
        b = np.where((k < wc)[:, None], b, a)  # a degenerate edge keeps everything
        ring, counts = _halfplane(ring, counts, a, b)
        if (counts == 0).any():  # nothing left: area 0, no further edges
            keep = counts > 0
            ring, counts, alive = ring[keep], counts[keep], alive[keep]
        if len(alive) == 0:
            break
    area = np.zeros(n)
    cx = np.full(n, np.nan)
    if len(alive):
        width = ring.shape[1]
        nxt = ring[np.arange(len(alive))[:, None], _next(counts, width)]
        valid = np.arange(width)[None, :] < counts[:, None]
        cr = np.where(valid, ring[..., 0] * nxt[..., 1] - nxt[..., 0] * ring[..., 1], 0.0)
        area2 = cr.sum(axis=1)
        area[alive] = np.abs(area2) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            cx[alive] = ((ring[..., 0] + nxt[..., 0]) * cr).sum(axis=1) / (3 * area2) + origin[alive, 0]
    return area, cx
