"""Zones near each site, with distance and compass direction, as in IBAT proximity reports.

Everything is computed in EPSG:4553 (CGCS2000 3° Gauss–Krüger, central meridian 132°E;
metres). The distance is the shortest distance between the site geometry and the zone;
the direction is the bearing from the site's centroid to the nearest point of the zone,
named with the eight compass points (北, 东北, 东, …). Bearings are grid bearings: in
Jixi the grid differs from true north by at most about 1.5°, which never changes the
compass point by more than one at the boundary between two.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["RADII_M", "COMPASS_ZH", "COMPASS_EN", "bearing_deg", "compass", "proximity"]

#: The distance bands of the proximity table (metres): 1, 5 and 10 km.
RADII_M = (1_000.0, 5_000.0, 10_000.0)
#: The eight compass points, clockwise from north (Chinese, English).
COMPASS_ZH = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
COMPASS_EN = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def bearing_deg(dx, dy) -> np.ndarray:
    """Bearing (degrees clockwise from grid north, 0–360) of the offset ``(dx east, dy north)`` in metres."""
    return np.degrees(np.arctan2(np.asarray(dx, float), np.asarray(dy, float))) % 360.0


def compass(bearing) -> tuple[np.ndarray, np.ndarray]:
    """The compass points (中文, English) of bearings in degrees: 8 sectors of 45° centred on 北, 东北, …."""
    k = (np.floor((np.asarray(bearing, float) % 360.0 + 22.5) / 45.0).astype(int)) % 8
    return np.asarray(COMPASS_ZH, dtype=object)[k], np.asarray(COMPASS_EN, dtype=object)[k]


def _column(zones: pd.DataFrame, name: str) -> np.ndarray:
    """A column as text; the row labels when ``id`` is missing, '' for another missing column."""
    if name in zones.columns:
        return zones[name].astype(str).to_numpy()
    return zones.index.astype(str).to_numpy() if name == "id" else np.full(len(zones), "", dtype=object)


def proximity(sites: gpd.GeoSeries, zones: gpd.GeoDataFrame, *, radii_m=RADII_M) -> pd.DataFrame:
    """Every zone within the largest of ``radii_m`` of each site, nearest first.

    Parameters
    ----------
    sites : GeoSeries
        Site geometries in a projected CRS in metres (the report uses EPSG:4553).
    zones : GeoDataFrame
        Zones in the same CRS, with ``id``, ``name_zh`` and ``control_level`` columns.
    radii_m : sequence of float
        The distance bands in metres, ascending (default 1, 5 and 10 km).

    Returns
    -------
    DataFrame
        One row per (site, zone) pair whose distance is at most ``max(radii_m)``:
        ``site`` (position in ``sites``), ``zone_id``, ``zone_name_zh``, ``control_level``,
        ``distance_m`` (0 when they touch or overlap), ``band_m`` (the smallest radius holding
        the zone), ``bearing_deg``, ``direction_zh``, ``direction_en`` (from the site's centroid
        to the nearest point of the zone; empty when the centroid lies in the zone).
    """
    radii = np.sort(np.asarray(radii_m, float))
    cols = ["site", "zone_id", "zone_name_zh", "control_level", "distance_m", "band_m", "bearing_deg",
            "direction_zh", "direction_en"]
    geoms = np.asarray(sites.geometry if hasattr(sites, "geometry") else sites, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    zg = np.asarray(zones.geometry, dtype=object)
    if not ok.any() or len(zg) == 0:
        return pd.DataFrame(columns=cols)
    tree = shapely.STRtree(zg)
    idx = np.flatnonzero(ok)
    s_pos, z_pos = tree.query(geoms[idx], predicate="dwithin", distance=float(radii[-1]))
    s_pos = idx[s_pos]
    dist = shapely.distance(geoms[s_pos], zg[z_pos])
    cen = shapely.centroid(geoms[s_pos])
    near = shapely.get_point(shapely.shortest_line(cen, zg[z_pos]), 1)
    dx = shapely.get_x(near) - shapely.get_x(cen)
    dy = shapely.get_y(near) - shapely.get_y(cen)
    b = bearing_deg(dx, dy)
    zh, en = compass(b)
    inside = np.hypot(dx, dy) < 1e-6  # the centroid lies in the zone: no direction
    zh, en = np.where(inside, "", zh), np.where(inside, "", en)
    band = radii[np.minimum(np.searchsorted(radii, dist - 1e-9), len(radii) - 1)]
    out = pd.DataFrame({
        "site": s_pos, "zone_id": _column(zones, "id")[z_pos],
        "zone_name_zh": _column(zones, "name_zh")[z_pos],
        "control_level": _column(zones, "control_level")[z_pos],
        "distance_m": dist, "band_m": band, "bearing_deg": np.where(inside, np.nan, b),
        "direction_zh": zh, "direction_en": en,
    })
    return out.sort_values(["site", "distance_m", "zone_id"], kind="stable").reset_index(drop=True)[cols]
