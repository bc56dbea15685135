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

__all__ = ["clip_area", "rings", "ccw_rings", "CCWRings", "eligible_subjects", "convex_windows", "MAX_SUBJECT_VERTICES",
           "MAX_WINDOW_VERTICES"]

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
    """Rings ``idx`` of a ragged set as a padded array (len(idx), width, 2) and their counts; a shorter
    ring is padded with copies of its first vertex (so that a test of any of the padded vertices
    is one of the ring's)."""
    xy, start, count = ragged
    counts = count[idx]
    width = max(int(counts.max()) if len(counts) else 0, 1)
    j = np.arange(width)[None, :]
    at = j if len(counts) and int(counts.min()) == width else np.where(j < counts[:, None], j, 0)
    return np.take(xy, start[idx][:, None] + at, axis=0), counts


def _next(counts: np.ndarray, width: int) -> np.ndarray:
    j = np.arange(width)[None, :]
    return np.where(j + 1 < counts[:, None], j + 1, 0)


def _side(x: np.ndarray, y: np.ndarray, ax: np.ndarray, ay: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Cross product of each edge direction (dx, dy) with the vector from its start (ax, ay) to each vertex:
    > 0 left of the edge (inside a counter-clockwise window), 0 on its line."""
    return dx[:, None] * (y - ay[:, None]) - dy[:, None] * (x - ax[:, None])


def _following(v: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each ring vertex's successor (the first after the last); beyond ``counts`` finite values that mean
    nothing (they meet zeros in the sums)."""
    out = np.empty_like(v)
    out[:, :-1] = v[:, 1:]
    out[:, -1] = v[:, 0]
    out[np.arange(len(v)), np.maximum(counts, 1) - 1] = v[:, 0]
    return out


def _halfplane(x: np.ndarray, y: np.ndarray, counts: np.ndarray, side: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut rings (x, y: (m, width), ``counts`` vertices each) by a half-plane (inclusive), given each
    vertex's ``side`` of its line (:func:`_side`): the new rings (m, new width) and counts.

    Sutherland–Hodgman: along each ring edge s→e, emit the crossing point where the edge
    crosses the line, then e if it is inside.
    """
    m, width = x.shape
    ok = np.arange(width)[None, :] < counts[:, None]
    xe, ye, side_e = _following(x, counts), _following(y, counts), _following(side, counts)
    in_e = side_e >= 0
    cross = ok & ((side >= 0) != in_e)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(cross, side / (side - side_e), 0.0)
    emit = np.empty((m, 2 * width), dtype=bool)
    emit[:, 0::2] = cross
    emit[:, 1::2] = ok & in_e
    pos = np.cumsum(emit, axis=1) - 1  # each emitted point's place in the new ring
    new_counts = pos[:, -1] + 1
    new_width = max(int(new_counts.max()) if m else 0, 1)
    # every slot is written: emitted points to their place, the others to one spare slot at the end
    flat = np.where(emit, pos + (np.arange(m) * new_width)[:, None], m * new_width)
    out = []
    both = np.empty((m, 2 * width))
    for v, ve in ((x, xe), (y, ye)):
        both[:, 0::2] = v + (ve - v) * t
        both[:, 1::2] = ve
        w = np.zeros(m * new_width + 1)
        w[flat] = both
        out.append(w[:-1].reshape(m, new_width))
    return out[0], out[1], new_counts


class CCWRings(tuple):
    """Ragged rings (:func:`rings`) made counter-clockwise by :func:`ccw_rings`; ``flipped`` says which
    were reversed."""

    flipped: np.ndarray


def ccw_rings(windows: tuple[np.ndarray, np.ndarray, np.ndarray]) -> CCWRings:
    """Ragged rings with each clockwise ring reversed (``v0 v1 … vk`` reads ``vk … v1 v0``), the others as
    they are.

    :func:`clip_area` orients its windows so; rings oriented once here (windows met by
    several layers) are not oriented again.
    """
    if isinstance(windows, CCWRings):
        return windows
    xy, start, count = windows
    flipped = np.zeros(len(count), dtype=bool)
    if len(xy):
        owner = np.repeat(np.arange(len(count)), count)
        j = np.arange(len(xy)) - start[owner]
        nxt = start[owner] + np.where(j + 1 < count[owner], j + 1, 0)
        cr = xy[:, 0] * xy[nxt, 1] - xy[nxt, 0] * xy[:, 1]
        flipped = np.bincount(owner, weights=cr, minlength=len(count)) < 0
        if flipped.any():
            f = flipped[owner]
            xy = xy[np.where(f, start[owner] + count[owner] - 1 - j, np.arange(len(xy)))]
    out = CCWRings((xy, start, count))
    out.flipped = flipped
    return out


def clip_area(subjects, windows, subject_idx=None, window_idx=None) -> tuple[np.ndarray, np.ndarray]:
    """Planar area (m²) and centroid x (m) of ``subjects[i] ∩ windows[i]``, pair by pair.

    ``subjects``: simple polygons (:func:`eligible_subjects`); ``windows``: convex
    polygons (the hulls of :func:`convex_windows`); either as geometries, or as the
    ragged :func:`rings` of a set with the positions of the pairs (``subject_idx``,
    ``window_idx``), so that rings are extracted once per set. Empty intersections:
    area 0, centroid NaN.

    First every subject's vertices are placed against every window edge: a subject with
    no vertex strictly inside one edge has no area in the window (0, no clipping); a
    subject wholly inside an edge's half-plane is not cut by that edge. Each pair is cut
    only by the edges its subject straddles.
    """
    if subject_idx is None:
        subjects, subject_idx = rings(subjects), np.arange(len(subjects))
    if window_idx is None:
        windows, window_idx = rings(windows), np.arange(len(windows))
    n = len(subject_idx)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    windows = ccw_rings(windows)  # counter-clockwise: the inside on each edge's left
    # local coordinates (no cancellation in the cross products), from each window's first vertex as given
    # (a reversed ring's last)
    xy, start, count = windows
    first = start[window_idx]
    origin = xy[np.where(windows.flipped[window_idx], first + count[window_idx] - 1, first)]
    ring, counts = _padded(subjects, subject_idx)
    win, wcounts = _padded(windows, window_idx)
    x, y = ring[..., 0] - origin[:, :1], ring[..., 1] - origin[:, 1:]
    wx, wy = win[..., 0] - origin[:, :1], win[..., 1] - origin[:, 1:]
    rows = np.arange(n)[:, None]
    wn = _next(wcounts, win.shape[1])
    # edges a -> b; beyond a window's vertices a degenerate edge (d = 0) that keeps everything
    real = np.arange(win.shape[1])[None, :] < wcounts[:, None]
    dx, dy = np.where(real, wx[rows, wn] - wx, 0.0), np.where(real, wy[rows, wn] - wy, 0.0)
    cut = np.zeros(dx.shape, dtype=bool)  # (pair, edge): the subject straddles the edge's line
    dead = np.zeros(n, dtype=bool)        # the subject lies on or beyond an edge's line: no area
    for k in range(win.shape[1]):  # (the padding repeats a ring's first vertex: no mask needed)
        side = _side(x, y, wx[:, k], wy[:, k], dx[:, k], dy[:, k])
        degenerate = (dx[:, k] == 0) & (dy[:, k] == 0)
        dead |= ~(side > 0).any(axis=1) & ~degenerate
        cut[:, k] = (side < 0).any(axis=1) & ~degenerate
    cut &= ~dead[:, None]
    for k in range(win.shape[1]):
        r = np.flatnonzero(cut[:, k] & ~dead)
        if len(r) == 0:
            continue
        width = int(counts[r].max())
        xs, ys, cs = x[r, :width], y[r, :width], counts[r]
        side = _side(xs, ys, wx[r, k], wy[r, k], dx[r, k], dy[r, k])
        valid = np.arange(width)[None, :] < cs[:, None]
        gone = ~((side > 0) & valid).any(axis=1)  # after earlier cuts, nothing strictly inside: no area
        dead[r[gone]] = True
        mix = np.flatnonzero(~gone & ~((side >= 0) | ~valid).all(axis=1))
        if len(mix) == 0:
            continue
        if len(mix) < len(r):
            xs, ys, cs, side = xs[mix], ys[mix], cs[mix], side[mix]
        nx, ny, nc = _halfplane(xs, ys, cs, side)
        if nx.shape[1] > x.shape[1]:  # room for this cut and a few more
            grow = np.zeros((n, max(nx.shape[1] - x.shape[1], 4)))
            x, y = np.concatenate([x, grow], axis=1), np.concatenate([y, grow], axis=1)
        x[r[mix], :nx.shape[1]] = nx
        y[r[mix], :nx.shape[1]] = ny
        counts[r[mix]] = nc
    area = np.zeros(n)
    cx = np.full(n, np.nan)
    alive = np.flatnonzero(~dead)
    if len(alive):
        width = int(counts[alive].max())
        xa, ya, ca = x[alive, :width], y[alive, :width], counts[alive]
        xn, yn = _following(xa, ca), _following(ya, ca)
        valid = np.arange(width)[None, :] < ca[:, None]
        cr = np.where(valid, xa * yn - xn * ya, 0.0)
        area2 = cr.sum(axis=1)
        area[alive] = np.abs(area2) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            cx[alive] = ((xa + xn) * cr).sum(axis=1) / (3 * area2) + origin[alive, 0]
    return area, cx
