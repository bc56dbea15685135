"""Geometry helpers shared by the layer builders (:mod:`.pattern`, :mod:`.jidong`, :mod:`.projects`).

Modelled layers are constructed in EPSG:4553 (CGCS2000 / 3° Gauss-Kruger CM 132E, metres)
and sized by their geodesic area on the CGCS2000 ellipsoid; these are the transforms,
the snapping grid and the bisection they share.
"""

from __future__ import annotations

from collections.abc import Callable

import pyproj
import shapely

from ..crs import ANALYSIS_CRS, STORAGE_CRS, geodesic_area
from ..errors import BuildError

__all__ = ["TO_GEO", "TO_PRJ", "GEOD", "GRID_M", "FIT_MAX_STEPS", "clean", "geo_area_m2", "point", "fit"]

#: EPSG:4553 metres → CGCS2000 lon/lat degrees.
TO_GEO = pyproj.Transformer.from_crs(ANALYSIS_CRS, STORAGE_CRS, always_xy=True)
#: CGCS2000 lon/lat degrees → EPSG:4553 metres.
TO_PRJ = pyproj.Transformer.from_crs(STORAGE_CRS, ANALYSIS_CRS, always_xy=True)


def _storage_geod() -> pyproj.Geod:
    geod = STORAGE_CRS.get_geod()
    if geod is None:  # a geographic CRS always has an ellipsoid; guard the Optional type
        raise BuildError(f"the storage CRS {STORAGE_CRS} has no ellipsoid to measure on")
    return geod


#: The CGCS2000 ellipsoid, for geodesic directions and distances (metres, degrees).
GEOD = _storage_geod()

#: Modelled geometry is snapped to this grid (metres, EPSG:4553): it removes the
#: near-degenerate spikes that set differences leave, which otherwise turn invalid
#: when reprojected.
GRID_M = 1.0

#: Bisection steps :func:`fit` takes before giving up (halves the interval each step).
FIT_MAX_STEPS = 80


def clean(g: shapely.Geometry) -> shapely.Geometry:
    """Valid polygonal part of ``g`` on the :data:`GRID_M` grid (drops lower-dimension slivers).

    Examples
    --------
    >>> bow = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])   # self-crossing
    >>> g = clean(bow)
    >>> g.is_valid, g.geom_type, g.area
    (True, 'MultiPolygon', 50.0)
    >>> clean(shapely.box(0.2, 0.2, 10.4, 10.4)).bounds               # snapped to 1 m
    (0.0, 0.0, 10.0, 10.0)
    """
    g = shapely.set_precision(shapely.make_valid(g), GRID_M)
    if g.geom_type == "GeometryCollection":
        g = shapely.union_all([p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")])
    return g


def geo_area_m2(g: shapely.Geometry) -> float:
    """Geodesic area (m², CGCS2000 ellipsoid) of one EPSG:4553 geometry.

    Examples
    --------
    On the central meridian (132°E) the Gauss-Kruger scale factor is 1, so a 1 km
    square there measures 1 km² within 0.01 %:

    >>> x, y = TO_PRJ.transform(132.0, 45.3)
    >>> round(geo_area_m2(shapely.box(x, y, x + 1000, y + 1000)) / 1e6, 4)
    1.0
    """
    return float(geodesic_area([g], crs=ANALYSIS_CRS)[0])


def point(lon: float, lat: float) -> shapely.Point:
    """The EPSG:4553 point (metres) of CGCS2000 ``lon``, ``lat`` (degrees).

    Examples
    --------
    >>> p = point(132.0, 45.3)                    # on the central meridian: false easting
    >>> round(p.x), 5_000_000 < p.y < 5_030_000
    (500000, True)
    >>> [round(v, 6) for v in TO_GEO.transform(p.x, p.y)]
    [132.0, 45.3]
    """
    return shapely.Point(TO_PRJ.transform(lon, lat))


def fit(make: Callable[[float], shapely.Geometry], target_m2: float, *, lo: float, hi: float, tol: float,
        what: str) -> tuple[shapely.Geometry, float]:
    """Find ``d`` in [lo, hi] with geodesic area of ``make(d)`` = target (rel. ``tol``).

    ``make`` must give areas that grow with ``d``. Returns (geometry, d); the geometry
    is :func:`clean`-ed.

    Raises
    ------
    BuildError
        If ``make(hi)`` is still too small, or no ``d`` is found in :data:`FIT_MAX_STEPS` steps.

    Examples
    --------
    A square centred on 132°E, 45.3°N of 1 000 ha (side ≈ 3 162 m):

    >>> c = point(132.0, 45.3)
    >>> g, d = fit(lambda d: shapely.buffer(c, d / 2, cap_style="square"), 1000 * 1e4,
    ...            lo=1.0, hi=10_000.0, tol=1e-4, what="demo")
    >>> round(d), abs(geo_area_m2(g) / 1e7 - 1) < 1e-3
    (3162, True)
    >>> fit(lambda d: shapely.buffer(c, d / 2, cap_style="square"), 1000 * 1e4,
    ...     lo=1.0, hi=100.0, tol=1e-4, what="demo")
    Traceback (most recent call last):
    ...
    jixi_geo.errors.BuildError: demo: the allowed region holds only 1 ha, less than the 1000 ha to model;
    widen its extent
    """
    g_hi = make(hi)
    if geo_area_m2(g_hi) < target_m2 * (1 - tol):
        raise BuildError(f"{what}: the allowed region holds only {geo_area_m2(g_hi) / 1e4:.0f} ha, "
                         f"less than the {target_m2 / 1e4:.0f} ha to model; widen its extent")
    for _ in range(FIT_MAX_STEPS):
        mid = (lo + hi) / 2
        g = make(mid)
        a = geo_area_m2(g)
        if abs(a - target_m2) <= target_m2 * tol:
            return clean(g), mid
        lo, hi = (mid, hi) if a < target_m2 else (lo, mid)
    raise BuildError(f"{what}: could not size the polygon to {target_m2 / 1e4:.0f} ha")

