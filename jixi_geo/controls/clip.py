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

__all__ = ["clip_area", "eligible_subjects", "convex_windows", "MAX_SUBJECT_VERTICES", "MAX_WINDOW_VERTICES"]

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


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exterior rings as a padded array (n, width, 2) without the closing vertex, and the vertex counts."""
    xy, owner = shapely.get_coordinates(shapely.get_exterior_ring(geoms), return_index=True)
    counts = np.bincount(owner, minlength=len(geoms)) - 1
    start = np.r_[0, np.cumsum(counts + 1)[:-1]]
    width = max(int(counts.max()) if len(counts) else 0, 1)
    out = np.zeros((len(geoms), width, 2))
    pos = np.arange(len(xy)) - np.repeat(start, counts + 1)
    keep = pos < np.repeat(counts, counts + 1)  # drop the closing vertex
    out[owner[keep], pos[keep]] = xy[keep]
    return out, counts


def _next(counts: np.ndarray, width: int) -> np.ndarray:
    j = np.arange(width)[None, :]
    return np.where(j + 1 < counts[:, None], j + 1, 0)


def _halfplane(ring: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray):
    """Clip rings by the half-plane left of a→b (inclusive); returns the new padded rings and counts."""
    n, width, _ = ring.shape
    rows = np.arange(n)[:, None]
    valid = np.arange(width)[None, :] < counts[:, None]
    s = ring
    e = ring[rows, _next(counts, width)]
    d = b - a
    side_s = d[:, None, 0] * (s[..., 1] - a[:, None, 1]) - d[:, None, 1] * (s[..., 0] - a[:, None, 0])
    side_e = d[:, None, 0] * (e[..., 1] - a[:, None, 1]) - d[:, None, 1] * (e[..., 0] - a[:, None, 0])
    in_s, in_e = side_s >= 0, side_e >= 0
    cross = valid & (in_s != in_e)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(cross, side_s / (side_s - side_e), 0.0)
    inter = s + (e - s) * t[..., None]
    pts = np.stack([inter, e], axis=2).reshape(n, 2 * width, 2)
    emit = np.stack([cross, valid & in_e], axis=2).reshape(n, 2 * width)
    pos = np.cumsum(emit, axis=1) - 1  # each emitted point's place in the new ring
    new_counts = pos[:, -1] + 1
    new_width = max(int(new_counts.max()) if n else 0, 1)
    out = np.zeros((n, new_width, 2))
    r, c = np.nonzero(emit)
    out[r, pos[r, c]] = pts[r, c]
    return out, new_counts


def clip_area(subjects: np.ndarray, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar area (m²) and centroid x (m) of ``subjects[i] ∩ windows[i]``, pair by pair.

    ``subjects``: simple polygons (:func:`eligible_subjects`); ``windows``: convex
    polygons (the hulls of :func:`convex_windows`). Empty intersections: area 0,
    centroid NaN.
    """
    n = len(subjects)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    ring, counts = _rings(subjects)
    win, wcounts = _rings(windows)
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
    for k in range(win.shape[1]):
        active = k < wcounts
        a = win[:, k]
        b = win[np.arange(n), np.where(k + 1 < wcounts, k + 1, 0)]
        b = np.where(active[:, None], b, a)  # a degenerate edge keeps everything
        ring, counts = _halfplane(ring, counts, a, b)
    width = ring.shape[1]
    nxt = ring[rows, _next(counts, width)]
    valid = np.arange(width)[None, :] < counts[:, None]
    cr = np.where(valid, ring[..., 0] * nxt[..., 1] - nxt[..., 0] * ring[..., 1], 0.0)
    area2 = cr.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = ((ring[..., 0] + nxt[..., 0]) * cr).sum(axis=1) / (3 * area2)
    return np.abs(area2) / 2, cx + origin[:, 0]
