"""Geometry arrays over shapely objects this package made itself (private).

``geopandas.GeoSeries(ndarray)`` checks every element to be a shapely geometry
(about 40 ms per million points); the readers build their geometries with
shapely (``shapely.points``, ``shapely.from_wkb``, a transformation), so that
check can only pass. :func:`trusted` wraps such an array as it is.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

__all__ = ["trusted"]


def trusted(geoms: np.ndarray, *, crs=None) -> gpd.array.GeometryArray:
    """A GeometryArray over ``geoms`` without the per-element check.

    Parameters
    ----------
    geoms : ndarray of object
        One-dimensional; shapely geometries or None, made by shapely (never user objects).
    crs : CRS-like, optional
        The array's CRS.

    Returns
    -------
    geopandas.array.GeometryArray
        Equal to ``geopandas.array.from_shapely(geoms, crs=crs)``. Anything but a 1-D
        object array goes through ``from_shapely`` (which checks).
    """
    if isinstance(geoms, np.ndarray) and geoms.dtype == object and geoms.ndim == 1:
        try:
            return gpd.array.GeometryArray(geoms, crs=crs)
        except (TypeError, ValueError):  # pragma: no cover - other geopandas versions
            pass
    return gpd.array.from_shapely(geoms, crs=crs)
