"""GCJ-02 (火星坐标) and BD-09 (百度坐标) to and from WGS84, vectorised.

Chinese web maps do not show WGS84 coordinates. 高德 (AMap), 腾讯 (Tencent) and
Google Maps China show **GCJ-02**, an obfuscated lon/lat that is offset by a few
hundred metres from WGS84 in China; 百度 (Baidu) shows **BD-09**, a further offset
of GCJ-02. A site location copied from such a map must be converted before it is
compared with the red lines, or it lands 100–700 m from where the planner clicked.

The forward GCJ-02 algorithm implemented here is the widely published one
(Krasovsky ellipsoid, the ``transform_lat`` / ``transform_lon`` polynomials); it
has no closed-form inverse, so :func:`gcj02_to_wgs84` inverts it by fixed-point
iteration to better than 1e-7 degrees (about 1 cm). Outside the rough bounding
box of China the published algorithm applies no offset, and neither does this
module (``out_of_china``).

All functions take and return degrees, longitude first; scalars give floats,
array-likes give numpy arrays of the broadcast shape.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(131.0, 45.3)
>>> back = gcj02_to_wgs84(lon, lat)
>>> abs(back[0] - 131.0) < 1e-7 and abs(back[1] - 45.3) < 1e-7
True
>>> wgs84_to_gcj02(2.35, 48.85)  # Paris: outside China, no offset
(2.35, 48.85)
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .errors import CRSError, InputError

__all__ = [
    "COORD_SYSTEMS",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "to_wgs84", "CoordSystem", "CHINA_BBOX", "TOLERANCE_DEG",
]

CoordSystem = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]

#: The lon/lat systems :func:`to_wgs84` understands.
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as the published GCJ-02 algorithm uses it.
_A = 6378245.0  # semi-major axis, metres
_EE = 0.00669342162296594323  # first eccentricity squared
_PI = np.pi
_X_PI = np.pi * 3000.0 / 180.0  # BD-09 constant

#: Rough bounding box of China used by the published algorithm (degrees):
#: no offset is applied outside it.
CHINA_BBOX = (73.66, 3.86, 135.05, 53.55)

#: Convergence tolerance of the iterative inverses, degrees (≈ 1 cm).
TOLERANCE_DEG = 1e-9
_MAX_ITER = 50


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    try:
        lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    except ValueError:
        raise InputError(
            f"lon and lat must have the same length; got shapes {np.shape(lon)} and "
            f"{np.shape(lat)}. Pass one longitude per latitude."
        ) from None
    return lon_a, lat_a, scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def out_of_china(lon, lat):
    """Whether the published GCJ-02 algorithm leaves a point unchanged.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 (or GCJ-02) longitude and latitude, degrees.

    Returns
    -------
    bool or numpy.ndarray of bool
        True outside the box 73.66–135.05°E, 3.86–53.55°N (and for NaN).

    Examples
    --------
    >>> out_of_china(131.0, 45.3), out_of_china(2.35, 48.85)
    (False, True)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    x0, y0, x1, y1 = CHINA_BBOX
    with np.errstate(invalid="ignore"):
        inside = (lon_a > x0) & (lon_a < x1) & (lat_a > y0) & (lat_a < y1)
    res = ~inside
    return bool(res) if scalar else res


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # x = lon - 105, y = lat - 35 (degrees); result in metres-like units.
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * _PI) + 20.0 * np.sin(2.0 * x * _PI)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * _PI) + 40.0 * np.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * _PI) + 320.0 * np.sin(y * _PI / 30.0)) * 2.0 / 3.0
    return r


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * _PI) + 20.0 * np.sin(2.0 * x * _PI)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * _PI) + 40.0 * np.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * _PI) + 300.0 * np.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    return r


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 at a WGS84 point, degrees (0 outside China)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * _PI
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * _PI)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * _PI)
    outside = ~(
        (lon > CHINA_BBOX[0]) & (lon < CHINA_BBOX[2]) & (lat > CHINA_BBOX[1]) & (lat < CHINA_BBOX[3])
    )
    dlat = np.where(outside, 0.0, dlat)
    dlon = np.where(outside, 0.0, dlon)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS84 lon/lat to GCJ-02 (高德/腾讯), degrees.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, degrees; floats for scalar input, arrays otherwise.
        Points outside China (see :func:`out_of_china`) are returned unchanged.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    with np.errstate(invalid="ignore"):
        dlon, dlat = _gcj_delta(lon_a, lat_a)
    return _out(lon_a + dlon, lat_a + dlat, scalar)


def gcj02_to_wgs84(lon, lat, *, exact: bool = True):
    """GCJ-02 (高德/腾讯) lon/lat to WGS84, degrees.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 longitude and latitude, degrees.
    exact : bool, keyword-only
        True (default): invert the forward algorithm by iteration until the
        round trip agrees to 1e-9 degrees (about 0.1 mm). False: the common
        one-step inverse, which is off by up to about 5e-5 degrees (a few
        metres) in Jixi.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84, degrees.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    with np.errstate(invalid="ignore"):
        dlon, dlat = _gcj_delta(lon_a, lat_a)
        wlon, wlat = lon_a - dlon, lat_a - dlat
        if exact:
            for _ in range(_MAX_ITER):
                glon, glat = wgs84_to_gcj02(wlon, wlat)
                elon, elat = glon - lon_a, glat - lat_a
                wlon, wlat = wlon - elon, wlat - elat
                err = np.maximum(np.abs(elon), np.abs(elat))
                if not np.any(err > TOLERANCE_DEG):  # NaN input never blocks convergence
                    break
    return _out(wlon, wlat, scalar)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 lon/lat to BD-09 (百度), degrees.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09, degrees.
    """
    x, y, scalar = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def _bd09_to_gcj02_once(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon, lat, *, exact: bool = True):
    """BD-09 (百度) lon/lat to GCJ-02, degrees.

    Parameters
    ----------
    lon, lat : float or array-like
        BD-09 longitude and latitude, degrees.
    exact : bool, keyword-only
        True (default): refine the published one-step inverse by iteration so
        that :func:`gcj02_to_bd09` of the result reproduces the input to 1e-9
        degrees. False: the published one-step inverse (error up to ~1e-6
        degrees, about 0.1 m).

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, degrees.
    """
    b_lon, b_lat, scalar = _as_arrays(lon, lat)
    with np.errstate(invalid="ignore"):
        glon, glat = _bd09_to_gcj02_once(b_lon, b_lat)
        if exact:
            for _ in range(_MAX_ITER):
                blon2, blat2 = gcj02_to_bd09(glon, glat)
                elon, elat = blon2 - b_lon, blat2 - b_lat
                glon, glat = glon - elon, glat - elat
                if not np.any(np.maximum(np.abs(elon), np.abs(elat)) > TOLERANCE_DEG):
                    break
    return _out(glon, glat, scalar)


def wgs84_to_bd09(lon, lat):
    """WGS84 lon/lat to BD-09 (百度), degrees (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat, *, exact: bool = True):
    """BD-09 (百度) lon/lat to WGS84, degrees (via GCJ-02).

    ``exact`` is passed to both inverse steps; see :func:`gcj02_to_wgs84`.
    """
    glon, glat = bd09_to_gcj02(lon, lat, exact=exact)
    return gcj02_to_wgs84(glon, glat, exact=exact)


def to_wgs84(lon, lat, *, system: CoordSystem):
    """Convert lon/lat in any supported system to WGS84, degrees.

    Parameters
    ----------
    lon, lat : float or array-like
        Longitude and latitude, degrees.
    system : {"wgs84", "cgcs2000", "gcj02", "bd09"}, keyword-only
        Where the coordinates come from: GPS or a GIS file (``"wgs84"``,
        ``"cgcs2000"``; these agree to well under 1 m and are returned
        unchanged), 高德/腾讯 (``"gcj02"``) or 百度 (``"bd09"``).

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84, degrees.

    Raises
    ------
    CRSError
        If ``system`` is not one of the four names.

    Examples
    --------
    >>> lon, lat = to_wgs84(*wgs84_to_bd09(131.0, 45.3), system="bd09")
    >>> round(lon, 7), round(lat, 7)
    (131.0, 45.3)
    """
    key = str(system).strip().lower().replace("-", "").replace("_", "")
    if key in ("wgs84", "cgcs2000"):
        lon_a, lat_a, scalar = _as_arrays(lon, lat)
        return _out(lon_a.copy(), lat_a.copy(), scalar)
    if key == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if key == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise CRSError(
        f"unknown coordinate system {system!r}; use one of {list(COORD_SYSTEMS)}: "
        "'gcj02' for lon/lat copied from 高德/腾讯 maps, 'bd09' for 百度 maps, "
        "'wgs84' or 'cgcs2000' for GPS and GIS data"
    )
