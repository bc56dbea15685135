"""The CRS policy of jixi_geo, in one place.

- Stored: CGCS2000 geographic, EPSG:4490.
- Web maps: EPSG:4326 (agrees with CGCS2000 to well under 1 m).
- Overlay geometry: CGCS2000 / 3-degree Gauss-Kruger CM 132E, EPSG:4553.
- Reported areas and lengths: geodesic, on the CGCS2000 ellipsoid (as official
  Chinese figures are).

Functions here raise :class:`~jixi_geo.errors.CRSError` for a missing CRS or for a
measurement asked of coordinates in degrees; CRS changes always transform
(``to_crs``), never relabel.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pyproj
import shapely

from .errors import CRSError
from .units import AreaUnit, convert_area

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = [
    "STORAGE_CRS",
    "ANALYSIS_CRS",
    "WEB_CRS",
    "JIXI_BOUNDS",
    "STORAGE_GEOD",
    "ensure_crs",
    "require_projected",
    "to_storage",
    "to_analysis",
    "geodesic_area",
    "geodesic_length",
    "planar_area",
    "gauss_kruger_crs",
    "gk_crs_from_prefixed_easting", "PARALLEL_TRANSFORM_MIN", "point_xy", "project", "transform_coords",
    "KnownCoords",
    "ballpark_datum", "ballpark_datum_message",
]

log = logging.getLogger(__name__)

STORAGE_CRS = pyproj.CRS.from_epsg(4490)
ANALYSIS_CRS = pyproj.CRS.from_epsg(4553)
WEB_CRS = pyproj.CRS.from_epsg(4326)

#: Coordinate arrays at least this long are transformed in one thread per core.
PARALLEL_TRANSFORM_MIN = 200_000

#: Extent of Jixi (lon/lat, degrees) as the ecological plan states it:
#: 130°24′24″–133°56′30″E, 44°51′12″–46°36′55″N.
JIXI_BOUNDS = (130 + 24 / 60 + 24 / 3600, 44 + 51 / 60 + 12 / 3600,
               133 + 56 / 60 + 30 / 3600, 46 + 36 / 60 + 55 / 3600)



def _ellipsoid_of(crs: pyproj.CRS) -> pyproj.Geod:
    geod = crs.get_geod()
    if geod is None:  # pragma: no cover - EPSG:4490 always has an ellipsoid
        raise RuntimeError(f"{crs.name} has no ellipsoid")
    return geod


#: The CGCS2000 ellipsoid (GRS 80 axes): every geodesic area and length is measured on it.
STORAGE_GEOD = _ellipsoid_of(STORAGE_CRS)


def ensure_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "input") -> pyproj.CRS:
    """Return the CRS of ``gdf`` or raise if it has none.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The data to check.
    name : str
        How to call the data in the message (e.g. the argument's name).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If ``gdf.crs`` is None.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no coordinate reference system. Set the one the coordinates are in, "
            "e.g. gdf.set_crs('EPSG:4490') for CGCS2000 lon/lat or 'EPSG:4553' for "
            "CGCS2000 Gauss-Kruger CM 132E; for a Shapefile, supply the missing .prj file."
        )
    return pyproj.CRS.from_user_input(gdf.crs)


def require_projected(gdf, *, what: str = "this measurement", name: str = "input") -> pyproj.CRS:
    """Raise unless ``gdf`` is in a projected CRS (metres), and return that CRS.

    Raises
    ------
    CRSError
        If the CRS is missing or geographic (degrees).
    """
    crs = ensure_crs(gdf, name=name)
    if not crs.is_projected:
        raise CRSError(
            f"{what} needs a projected CRS in metres, but {name} is in {crs.to_string()} "
            f"(degrees). Reproject first, e.g. gdf.to_crs('EPSG:4553'), or use "
            "jixi_geo.crs.geodesic_area for areas on the ellipsoid."
        )
    return crs


def to_storage(gdf):
    """Transform to the storage CRS, EPSG:4490 (CGCS2000 lon/lat)."""
    ensure_crs(gdf)
    return gdf.to_crs(STORAGE_CRS)


def to_analysis(gdf):
    """Transform to the analysis CRS, EPSG:4553 (CGCS2000 3° GK CM 132E, metres)."""
    ensure_crs(gdf)
    return gdf.to_crs(ANALYSIS_CRS)


@functools.lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst),
                                       always_xy=True)


class KnownCoords(NamedTuple):
    """The x/y of an array of geometries, already read: every geometry present, not empty, finite
    and 2-D (a Z dropped), as read.

    ``xy``: all their coordinates in order, as :func:`shapely.get_coordinates` gives them;
    ``type_id``: per geometry, its :func:`shapely.get_type_id`.
    """

    xy: np.ndarray
    type_id: np.ndarray

    @property
    def points(self) -> np.ndarray | None:
        """``xy`` (n, 2) when every geometry is a single point, else None."""
        if len(self.xy) == len(self.type_id) and not self.type_id.any():
            return self.xy
        return None


def point_xy(geoms: np.ndarray, src, dst, *, known: np.ndarray | None = None) -> np.ndarray | None:
    """Coordinates (n, 2) in ``dst`` of single 2-D points, or None if ``geoms`` holds
    anything else (multipoints, empty or missing geometries, lines, polygons).

    ``known``: the points' coordinates in ``src`` when the caller already has them (a
    reader that built the points from them); ``geoms`` are then not read again.
    """
    if known is not None and len(known) == len(geoms):
        xy = known
    else:
        geoms = np.asarray(geoms, dtype=object)
        if not len(geoms) or not (shapely.get_type_id(geoms) == 0).all() or shapely.has_z(geoms).any():
            return None
        xy = shapely.get_coordinates(geoms)
        if len(xy) != len(geoms):  # empty points
            return None
    src, dst = pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst)
    if src.equals(dst):
        return xy
    return _transform_xy(xy, src, dst)


def _transform_xy(xy: np.ndarray, src: pyproj.CRS, dst: pyproj.CRS) -> np.ndarray:
    """Transform an (n, 2) array; long arrays in chunks on threads (pyproj releases the
    GIL; a Transformer must not be shared between threads, so each chunk gets its own).
    Every chunk is transformed as the whole would be: the result does not depend on the split."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    out = np.empty_like(xy, dtype=float)
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(xy) < PARALLEL_TRANSFORM_MIN:
        out[:, 0], out[:, 1] = _transformer(src.to_wkt(), dst.to_wkt()).transform(xy[:, 0], xy[:, 1])
        return out

    def run(ab):
        a, b = ab
        tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)  # < 1 ms
        out[a:b, 0], out[a:b, 1] = tr.transform(xy[a:b, 0], xy[a:b, 1])

    bounds = np.linspace(0, len(xy), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(run, zip(bounds[:-1], bounds[1:], strict=True)))
    return out


def project(geoms: np.ndarray, src, dst, *, known: KnownCoords | None = None) -> np.ndarray:
    """Transform an array of shapely geometries between CRSs (pyproj, axis order x/y).

    The same transformation as ``GeoSeries.to_crs``; points are rebuilt from their
    transformed coordinate arrays, which for a million points is several times
    faster than rewriting each geometry's coordinates.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        Missing values (None) stay missing.
    src, dst : CRS-like
        Anything :class:`pyproj.CRS` accepts.
    known : KnownCoords, optional
        The coordinates of ``geoms`` in ``src``, when the caller has them as read
        (:func:`jixi_geo.readers.checks.take_coords`); they are then not read again.

    Returns
    -------
    ndarray of shapely geometries
    """
    src, dst = pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst)
    geoms = np.asarray(geoms, dtype=object)
    if known is not None and len(known.type_id) != len(geoms):
        known = None
    if src.equals(dst):
        return geoms
    if src.is_bound and not dst.is_bound:
        # PROJ applies a +towgs84 shift only on the way to WGS 84; towards CGCS2000 it would use a
        # null (ballpark) shift and drop it silently. So: through WGS 84, which CGCS2000 matches to < 1 m.
        wgs84 = pyproj.CRS.from_epsg(4326)
        return project(_project_direct(geoms, src, wgs84, known), wgs84, dst)
    return _project_direct(geoms, src, dst, known)


def _project_direct(geoms: np.ndarray, src: pyproj.CRS, dst: pyproj.CRS, known: KnownCoords | None) -> np.ndarray:
    from ._gc import paused

    xy = point_xy(geoms, src, dst, known=None if known is None else known.points)
    with paused():  # a new geometry object per site, no reference cycle: no cyclic collections meanwhile
        if xy is not None:
            return shapely.points(xy)
        # lines and polygons: their coordinates transformed as one array (on threads when long)
        return transform_coords(geoms, lambda c: _transform_xy(c, src, dst), known=known)


def transform_coords(geoms: np.ndarray, fn, *, known: KnownCoords | None = None) -> np.ndarray:
    """``shapely.transform(geoms, fn)`` (2-D): the same geometries, built faster for simple shapes.

    When every present geometry is a line string or a polygon without holes (of one
    type, 2-D, not empty), the transformed coordinates are assembled into new
    geometries with :func:`shapely.from_ragged_array`, which for 10⁵ polygons takes
    about half the time of rewriting each geometry's coordinates in place; anything
    else goes through :func:`shapely.transform`. Missing values (None) stay missing.
    Coordinates and their order are the same either way.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
    fn : callable
        Maps an (n, 2) array of x/y coordinates to the transformed (n, 2) array.
    known : KnownCoords, optional
        The coordinates and type ids of ``geoms`` (every one present, 2-D, not empty),
        when the caller has them: the geometries are then not asked again.

    Returns
    -------
    ndarray of shapely geometries
    """
    geoms = np.asarray(geoms, dtype=object)
    if known is not None and len(known.type_id) == len(geoms):
        present = np.ones(len(geoms), dtype=bool)
        kinds = np.unique(known.type_id)
        simple = len(kinds) == 1 and int(kinds[0]) in (1, 3)
    else:
        known = None
        present = ~shapely.is_missing(geoms)
        kinds = np.unique(shapely.get_type_id(geoms[present]))
        simple = (len(kinds) == 1 and int(kinds[0]) in (1, 3) and not shapely.has_z(geoms[present]).any()
                  and not shapely.is_empty(geoms[present]).any())
    if simple and int(kinds[0]) == 3:
        simple = not shapely.get_num_interior_rings(geoms[present]).any()
    if not simple:
        return shapely.transform(geoms, fn)
    part = geoms if present.all() else geoms[present]
    offsets = np.zeros(len(part) + 1, dtype=np.int64)
    np.cumsum(shapely.get_num_coordinates(part), out=offsets[1:])
    xy = known.xy if known is not None and len(known.xy) == offsets[-1] else shapely.get_coordinates(part)
    new_xy = np.asarray(fn(xy), dtype=float)
    if int(kinds[0]) == 1:
        built = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, new_xy, (offsets,))
    else:  # one ring per polygon: ring and polygon offsets coincide in length
        built = shapely.from_ragged_array(shapely.GeometryType.POLYGON, new_xy,
                                          (offsets, np.arange(len(part) + 1, dtype=np.int64)))
    if present.all():
        return built
    out = np.full(len(geoms), None, dtype=object)
    out[present] = built
    return out


def _geographic_geoms(data, crs) -> np.ndarray:
    import geopandas as gpd

    if isinstance(data, (gpd.GeoDataFrame, gpd.GeoSeries)):
        crs = crs if crs is not None else ensure_crs(data)
        geoms = data.geometry if isinstance(data, gpd.GeoDataFrame) else data
        if crs is not None and not pyproj.CRS.from_user_input(crs).equals(STORAGE_CRS):
            geoms = gpd.GeoSeries(geoms.values, crs=crs).to_crs(STORAGE_CRS)
        return np.asarray(geoms.values, dtype=object)
    if crs is None:
        raise CRSError("geometries given without a CRS: pass crs=... (e.g. 'EPSG:4490')")
    geoms = gpd.GeoSeries(list(np.atleast_1d(data)), crs=crs)
    if not pyproj.CRS.from_user_input(crs).equals(STORAGE_CRS):
        geoms = geoms.to_crs(STORAGE_CRS)
    return np.asarray(geoms.values, dtype=object)


def geodesic_area(data, *, crs=None, unit: AreaUnit = "m2") -> np.ndarray:
    """Area of each polygon on the CGCS2000 ellipsoid.

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries or sequence of shapely geometries
        Polygons in any CRS (transformed to EPSG:4490 first).
    crs : optional
        The CRS of ``data`` when it does not carry one.
    unit : {"m2", "ha", "km2", "mu"}
        Unit of the result.

    Returns
    -------
    numpy.ndarray
        One area per geometry, in ``unit``; 0 for empty, point and line geometries.

    Examples
    --------
    >>> from shapely import box
    >>> a = geodesic_area([box(500000, 5000000, 501000, 5001000)], crs="EPSG:4553", unit="ha")
    >>> round(float(a[0]), 1)
    100.0
    """
    geoms = _geographic_geoms(data, crs)
    out = np.zeros(len(geoms))
    for i, g in enumerate(geoms):
        if g is None or g.is_empty or shapely.get_dimensions(g) < 2:
            continue
        out[i] = abs(STORAGE_GEOD.geometry_area_perimeter(g)[0])
    return convert_area(out, "m2", unit)


def geodesic_length(data, *, crs=None) -> np.ndarray:
    """Length of each line (or polygon perimeter) on the CGCS2000 ellipsoid, in metres."""
    geoms = _geographic_geoms(data, crs)
    out = np.zeros(len(geoms))
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        out[i] = STORAGE_GEOD.geometry_length(g)
    return out


def planar_area(gdf, *, unit: AreaUnit = "m2") -> np.ndarray:
    """Planar area in a projected CRS; refuses degrees.

    Raises
    ------
    CRSError
        If ``gdf`` is unprojected.
    """
    require_projected(gdf, what="planar area")
    return convert_area(np.asarray(gdf.geometry.area, dtype=float), "m2", unit)


def gauss_kruger_crs(central_meridian: float, *, width: int = 3, zone_prefix: bool = False) -> pyproj.CRS:
    """The CGCS2000 Gauss-Kruger CRS for a central meridian.

    Parameters
    ----------
    central_meridian : float
        Degrees east (multiple of 3 for 3° zones; 75, 81, … 135 for 6° zones).
    width : {3, 6}
        Zone width in degrees.
    zone_prefix : bool
        Whether eastings carry the zone number as a prefix (e.g. 44 500 000 m).

    Examples
    --------
    >>> gauss_kruger_crs(132).to_epsg()
    4553
    >>> gauss_kruger_crs(132, zone_prefix=True).to_epsg()
    4532
    >>> gauss_kruger_crs(135, width=6).to_epsg()
    4512
    """
    cm = int(round(central_meridian))
    if width == 3:
        if cm % 3 or not 75 <= cm <= 135:
            raise CRSError(f"3-degree zones have central meridians 75, 78, … 135 E; got {central_meridian}")
        zone = cm // 3
        code = (4513 + zone - 25) if zone_prefix else (4534 + zone - 25)
    elif width == 6:
        if (cm - 3) % 6 or not 75 <= cm <= 135:
            raise CRSError(f"6-degree zones have central meridians 75, 81, … 135 E; got {central_meridian}")
        zone = (cm + 3) // 6
        code = (4491 + zone - 13) if zone_prefix else (4502 + zone - 13)
    else:
        raise CRSError(f"width must be 3 or 6 (degrees); got {width!r}")
    return pyproj.CRS.from_epsg(code)


def gk_crs_from_prefixed_easting(easting: float) -> pyproj.CRS:
    """The CGCS2000 GK CRS implied by a zone-prefixed easting.

    Zone numbers 13–23 are 6-degree zones and 25–45 are 3-degree zones, so the
    prefix alone identifies the CRS.

    Examples
    --------
    >>> gk_crs_from_prefixed_easting(44_512_345.0).to_epsg()
    4532
    >>> gk_crs_from_prefixed_easting(22_612_345.0).to_epsg()
    4500
    """
    zone = int(easting // 1_000_000)
    if 25 <= zone <= 45:
        return gauss_kruger_crs(zone * 3, width=3, zone_prefix=True)
    if 13 <= zone <= 23:
        return gauss_kruger_crs(zone * 6 - 3, width=6, zone_prefix=True)
    raise CRSError(
        f"easting {easting:.0f} has no CGCS2000 Gauss-Kruger zone prefix (expected 13–23 for 6° "
        "or 25–45 for 3° zones); give the CRS explicitly"
    )


@functools.cache
def _ballpark_datums() -> dict[str, str]:
    """Datums PROJ takes to CGCS2000 by a ballpark (null) shift, with their Chinese names, from
    ``layers/rules/gk_zone_crs.csv``."""
    import csv

    from ._paths import rules_dir

    with open(rules_dir() / "gk_zone_crs.csv", encoding="utf-8", newline="") as f:
        return {r["datum"]: r["datum_zh"] for r in csv.DictReader(f) if r["datum_to_cgcs2000"] == "ballpark"}


def ballpark_datum(crs) -> str | None:
    """The datum of ``crs`` when pyproj can take it to CGCS2000 only by a ballpark shift, else ``None``.

    Beijing 1954 and Xian 1980 coordinates differ from CGCS2000 by tens of metres; PROJ has no
    transformation for them and silently applies a null shift. A CRS that carries its own
    ``+towgs84`` parameters (a bound CRS) is taken as given.

    >>> ballpark_datum("EPSG:2441"), ballpark_datum("EPSG:4553")
    ('Beijing 1954', None)
    """
    c = pyproj.CRS.from_user_input(crs)
    if c.is_bound or c.datum is None:
        return None
    name = c.datum.name
    return next((d for d in _ballpark_datums() if name.startswith(d)), None)


def ballpark_datum_message(label: str, datum: str) -> tuple[str, str]:
    """The (中文, English) refusal of a CRS on a ballpark datum, naming the fix."""
    zh = _ballpark_datums().get(datum, datum)
    return (f"坐标系 {label} 属于{zh}：pyproj 没有它到 2000国家大地坐标系的转换，"
            "只会按零偏移粗略处理（误差可达数十米）；"
            "请先用官方转换参数转换为 CGCS2000，或给出含 +towgs84 转换参数的坐标系",
            f"the CRS {label} is on the {datum} datum: pyproj has no transformation of it to CGCS2000 and "
            "would apply a null (ballpark) shift, tens of metres off; convert the data to CGCS2000 with the "
            "official parameters first, or give a CRS with +towgs84 parameters")
