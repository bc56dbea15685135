"""CRS policy and units, checked against values computed independently of jixi_geo."""


import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely import box, LineString, Point

from jixi_geo import crs as jcrs
from jixi_geo.errors import CRSError, InputError
from jixi_geo.units import convert_area


def test_policy_constants():
    assert jcrs.STORAGE_CRS.to_epsg() == 4490
    assert jcrs.ANALYSIS_CRS.to_epsg() == 4553
    # EPSG:4553 is the 3-degree GK projection on the 132E meridian, on CGCS2000
    params = {p.name: p.value for p in jcrs.ANALYSIS_CRS.coordinate_operation.params}
    assert params["Longitude of natural origin"] == 132
    assert jcrs.ANALYSIS_CRS.datum.name.startswith("China 2000")


def test_square_km_is_100_ha_planar_and_geodesic():
    sq = gpd.GeoDataFrame(geometry=[box(500_000, 5_000_000, 501_000, 5_001_000)], crs="EPSG:4553")
    assert jcrs.planar_area(sq, unit="ha")[0] == pytest.approx(100, rel=1e-12)
    # on the central meridian the GK scale factor is 1: geodesic ≈ planar within 0.1%
    assert jcrs.geodesic_area(sq, unit="ha")[0] == pytest.approx(100, rel=1e-3)


def test_geodesic_area_far_from_central_meridian_differs_from_planar():
    # 2.5° west of the CM the GK projection enlarges areas by k² ≈ 1.00095: the geodesic
    # value must be the true area, i.e. planar / areal scale factor (pyproj's, independent).
    lon, lat = 129.5, 45.0
    x0, y0 = pyproj.Transformer.from_crs(4490, 4553, always_xy=True).transform(lon, lat)
    sq = gpd.GeoDataFrame(geometry=[box(x0, y0, x0 + 1000, y0 + 1000)], crs="EPSG:4553")
    k2 = pyproj.Proj("EPSG:4553").get_factors(lon + 0.006, lat + 0.0045).areal_scale
    assert k2 > 1.0009
    assert jcrs.geodesic_area(sq)[0] == pytest.approx(1_000_000 / k2, rel=2e-5)


def test_lake_khanka_natural_earth_area(root):
    lake = gpd.read_file(root / "layers" / "sources" / "ne_10m_lake_khanka.geojson")
    km2 = jcrs.geodesic_area(lake, unit="km2")[0]
    assert km2 == pytest.approx(4045, rel=0.005)
    # second, independent route: equal-area projection centred on the lake
    laea = lake.to_crs("+proj=laea +lat_0=45 +lon_0=132.5 +ellps=GRS80")
    assert laea.area.iloc[0] / 1e6 == pytest.approx(km2, rel=1e-3)


def test_geodesic_length_of_one_degree_of_latitude():
    line = gpd.GeoSeries([LineString([(132, 45), (132, 46)])], crs="EPSG:4490")
    # meridian arc 45°–46° on GRS80/CGCS2000 ≈ 111 141 m (independent textbook value)
    assert jcrs.geodesic_length(line)[0] == pytest.approx(111_141, abs=50)


def test_missing_crs_is_refused_with_a_fix():
    g = gpd.GeoDataFrame(geometry=[Point(131, 45)])
    with pytest.raises(CRSError, match="set_crs"):
        jcrs.ensure_crs(g)
    with pytest.raises(ValueError):  # the family also is a ValueError
        jcrs.geodesic_area(g)


def test_measuring_in_degrees_is_refused():
    g = gpd.GeoDataFrame(geometry=[box(131, 45, 131.1, 45.1)], crs="EPSG:4490")
    with pytest.raises(CRSError, match="degrees"):
        jcrs.planar_area(g)


@pytest.mark.parametrize("cm,width,prefix", [(132, 3, False), (132, 3, True), (129, 3, True),
                                             (135, 6, False), (129, 6, True), (135, 3, False)])
def test_gauss_kruger_codes_match_pyproj_definitions(cm, width, prefix):
    c = jcrs.gauss_kruger_crs(cm, width=width, zone_prefix=prefix)
    params = {p.name: p.value for p in c.coordinate_operation.params}
    assert params["Longitude of natural origin"] == cm
    zone = cm // 3 if width == 3 else (cm + 3) // 6
    expected_fe = 500_000 + (zone * 1_000_000 if prefix else 0)
    assert params["False easting"] == expected_fe
    assert "China Geodetic Coordinate System 2000" in c.datum.name or "China 2000" in c.datum.name


def test_prefixed_easting_detection_round_trip():
    t = pyproj.Transformer.from_crs(4490, jcrs.gauss_kruger_crs(132, zone_prefix=True), always_xy=True)
    x, y = t.transform(131.85, 45.53)
    assert jcrs.gk_crs_from_prefixed_easting(x).to_epsg() == 4532
    with pytest.raises(CRSError, match="prefix"):
        jcrs.gk_crs_from_prefixed_easting(512_345.0)


def test_units():
    assert convert_area(1, "ha", "mu") == pytest.approx(15)
    assert convert_area(1, "mu", "m2") == pytest.approx(666.67, abs=0.005)
    assert convert_area(3.52, "km2", "ha") == pytest.approx(352)
    np.testing.assert_allclose(convert_area([1, 2], "km2", "ha"), [100, 200])
    with pytest.raises(InputError, match="mu"):
        convert_area(1, "acre", "ha")


def test_project_and_point_xy_agree_with_geopandas_to_crs():
    import shapely

    rng = np.random.default_rng(2)
    pts = gpd.GeoSeries(shapely.points(rng.uniform(130.5, 133.9, 500), rng.uniform(44.9, 46.6, 500)), crs=4490)
    mixed = gpd.GeoSeries([box(131.0, 45.0, 131.1, 45.1), LineString([(131, 45), (132, 46)]), Point(132, 45.5),
                           None], crs=4490)
    for g in (pts, mixed):
        want = g.to_crs(4553)
        got = jcrs.project(g.values, g.crs, 4553)
        assert gpd.GeoSeries(got, crs=4553).geom_equals_exact(want, tolerance=1e-6).fillna(False).sum() == \
            want.notna().sum()
    xy = jcrs.point_xy(pts.values, 4490, 4553)
    np.testing.assert_allclose(xy, shapely.get_coordinates(pts.to_crs(4553).values), atol=1e-6)
    assert jcrs.point_xy(mixed.values, 4490, 4553) is None  # not all single points


def test_project_applies_a_towgs84_shift_towards_cgcs2000():
    """PROJ drops +towgs84 on the way to CGCS2000 (a null 'ballpark' shift); project() goes through
    WGS 84 so the shift is applied: the result equals pyproj's own transform to EPSG:4326 and lies
    tens of metres from the null-shift position."""
    import pyproj
    from shapely import Point

    from jixi_geo.crs import project

    b54 = ("+proj=tmerc +lat_0=0 +lon_0=132 +k=1 +x_0=500000 +y_0=0 +ellps=krass "
           "+towgs84=15.8,-154.4,-82.3,0,0,0,0 +units=m +no_defs")
    x, y = 500_000.0, 5_015_000.0
    got = project(np.array([Point(x, y)], dtype=object), b54, "EPSG:4490")[0]
    lon, lat = pyproj.Transformer.from_crs(b54, "EPSG:4326", always_xy=True).transform(x, y)
    assert (got.x, got.y) == pytest.approx((lon, lat), abs=1e-9)
    null = pyproj.Transformer.from_crs("EPSG:2441", "EPSG:4490", always_xy=True).transform(x, y)
    metres = pyproj.Geod(ellps="GRS80").inv(got.x, got.y, *null)[2]
    assert 20 < metres < 300


def test_transform_coords_builds_the_same_geometries_as_shapely_transform():
    """The ragged-array path (lines, polygons without holes) and the fallback (anything else) give
    exactly shapely.transform's geometries, vertex for vertex, None kept; a wrong ring/polygon
    offset or a dropped None would show here."""
    import shapely
    from shapely import MultiPolygon, Polygon

    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(130, 134, 300), rng.uniform(44, 47, 300)
    boxes = shapely.box(xs, ys, xs + 0.01, ys + 0.02)
    tri = shapely.polygons(np.stack([np.c_[xs, ys], np.c_[xs + 0.01, ys], np.c_[xs, ys + 0.01],
                                     np.c_[xs, ys]], axis=1))
    lines = shapely.linestrings(np.stack([np.c_[xs, ys], np.c_[xs + 0.01, ys + 0.03], np.c_[xs + 0.02, ys]],
                                         axis=1))
    holed = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 1)]])
    cases = {
        "polygons": np.concatenate([boxes, tri]),
        "polygons and None": np.array([boxes[0], None, tri[1], None], dtype=object),
        "lines": lines,
        "lines and None": np.array([None, lines[0], lines[1]], dtype=object),
        "a polygon with a hole": np.array([boxes[0], holed], dtype=object),
        "lines and polygons": np.array([lines[0], boxes[0]], dtype=object),
        "multipolygon": np.array([MultiPolygon([boxes[0], boxes[1]]), boxes[2]], dtype=object),
        "empty": np.array([boxes[0], Polygon()], dtype=object),
        "nothing": np.array([], dtype=object),
    }
    fn = lambda c: np.column_stack([c[:, 0] * 1000 + 7, c[:, 1] * 500 - 3])  # noqa: E731
    for name, geoms in cases.items():
        got = jcrs.transform_coords(geoms, fn)
        want = shapely.transform(geoms, fn)
        assert len(got) == len(want), name
        assert (shapely.is_missing(got) == shapely.is_missing(want)).all(), name
        keep = ~shapely.is_missing(want)
        assert shapely.equals_exact(got[keep], want[keep], tolerance=0).all(), name
        assert (shapely.get_type_id(got[keep]) == shapely.get_type_id(want[keep])).all(), name


def test_transform_coords_with_pyproj_equals_shapely_transform_vertex_for_vertex():
    """With the real transformation (CGCS2000 lon/lat → EPSG:4553, on threads for long arrays,
    each chunk with its own Transformer), the ragged-array path gives exactly shapely.transform's
    polygons: rings still close, and every vertex is the one PROJ gives."""
    import pyproj
    import shapely

    rng = np.random.default_rng(17)
    n = 50_000  # 250 000 vertices: above the threaded transformation's threshold
    assert 5 * n >= jcrs.PARALLEL_TRANSFORM_MIN
    xs, ys = rng.uniform(130.3, 134.0, n), rng.uniform(44.5, 46.8, n)
    geoms = shapely.box(xs, ys, xs + rng.uniform(1e-4, 0.05, n), ys + rng.uniform(1e-4, 0.05, n))
    src, dst = pyproj.CRS.from_epsg(4490), pyproj.CRS.from_epsg(4553)
    got = jcrs.transform_coords(geoms, lambda c: jcrs._transform_xy(c, src, dst))
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    want = shapely.transform(geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    assert shapely.equals_exact(got, want, tolerance=0).all()
    assert np.array_equal(shapely.get_coordinates(got), shapely.get_coordinates(want))
    assert shapely.is_valid(got).all()
