"""Shared layer validation: every problem collected, then one error that names the fix."""

import geopandas as gpd
import pytest
import shapely
from shapely import GeometryCollection, LineString, Point, Polygon, box

from jixi_geo._validate import (
    LayerProblemsError,
    geometry_family,
    polygonal_part,
    resolve_layer,
    validate_layer,
)
from jixi_geo.errors import (
    CRSError,
    InputError,
    InvalidGeometryError,
    JixiGeoError,
    LayerNotFoundError,
)

X0, Y0 = 500_000, 5_000_000
BOWTIE = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])


def squares(n=3, crs="EPSG:4553", **cols):
    geoms = [box(X0 + 200 * i, Y0, X0 + 200 * i + 100, Y0 + 100) for i in range(n)]
    data = {"id": [f"f{i}" for i in range(n)], **cols}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def test_valid_layer_passes_and_is_a_copy():
    g = squares()
    out = validate_layer(g, key="id", unique_key=True, geom_type="polygon")
    assert out is not g
    assert out.equals(g)
    assert out.attrs["validate"] == {"repaired": {}}


def test_missing_crs_is_a_crs_error_with_the_fix():
    g = squares(crs=None)
    with pytest.raises(CRSError, match=r"set_crs\('EPSG:4490'\)") as e:
        validate_layer(g, name="zones")
    assert "zones: 1 problem found" in str(e.value)
    assert isinstance(e.value, JixiGeoError) and isinstance(e.value, ValueError)


def test_empty_layer():
    with pytest.raises(InputError, match="no features"):
        validate_layer(squares().iloc[:0])


def test_mixed_geometry_types_name_the_fix():
    g = gpd.GeoDataFrame({"id": [1, 2, 3]},
                         geometry=[box(0, 0, 1, 1), Point(5, 5), Point(6, 6)], crs="EPSG:4553")
    with pytest.raises(InvalidGeometryError) as e:
        validate_layer(g, geom_type="polygon")
    msg = str(e.value)
    assert "mixed geometry types (2 Point, 1 Polygon)" in msg
    assert "gdf.geom_type.isin(['Polygon', 'MultiPolygon'])" in msg


def test_polygon_and_multipolygon_are_one_family():
    g = gpd.GeoDataFrame({"id": [1, 2]}, crs="EPSG:4553",
                         geometry=[box(0, 0, 1, 1), shapely.multipolygons([box(2, 2, 3, 3), box(4, 4, 5, 5)])])
    validate_layer(g, geom_type="polygon")


def test_points_where_polygons_are_needed_suggest_buffering():
    g = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(0, 0)], crs="EPSG:4553")
    with pytest.raises(InvalidGeometryError, match=r"needs polygon geometries.*buffer"):
        validate_layer(g, geom_type="polygon")
    validate_layer(g, geom_type="point")
    validate_layer(g)  # "any"


def test_geometry_collection_is_refused_as_mixed():
    gc = GeometryCollection([box(0, 0, 1, 1), LineString([(0, 0), (3, 3)])])
    g = gpd.GeoDataFrame({"id": [1]}, geometry=[gc], crs="EPSG:4553")
    with pytest.raises(InvalidGeometryError, match="explode"):
        validate_layer(g, geom_type="polygon")


def test_invalid_geometry_reported_with_its_reason_and_repaired_on_request():
    g = squares()
    g.loc[1, "geometry"] = BOWTIE
    with pytest.raises(InvalidGeometryError) as e:
        validate_layer(g, key="id")
    msg = str(e.value)
    assert "id='f1': Self-intersection[500050 5000050]" in msg
    assert "make_valid=True" in msg
    assert g.loc[1, "geometry"].equals(BOWTIE)  # input untouched

    out = validate_layer(g, key="id", geom_type="polygon", make_valid=True)
    assert out.geometry.is_valid.all()
    assert out.attrs["validate"]["repaired"] == {"id='f1'": "Self-intersection[500050 5000050]"}
    assert out.geometry.iloc[1].area == pytest.approx(5000)  # the two triangles of the bow tie
    assert g.loc[1, "geometry"].equals(BOWTIE)


def test_repair_that_collapses_is_still_an_error():
    flat = Polygon([(0, 0), (1, 0), (2, 0), (0, 0)])  # zero-area ring
    g = gpd.GeoDataFrame({"id": ["z"]}, geometry=[flat], crs="EPSG:4553")
    assert not flat.is_valid
    with pytest.raises(InvalidGeometryError, match="reduces to nothing"):
        validate_layer(g, geom_type="polygon", make_valid=True)


def test_null_and_empty_geometries_listed():
    g = squares(4)
    g.loc[0, "geometry"] = None
    g.loc[2, "geometry"] = Polygon()
    with pytest.raises(InvalidGeometryError, match=r"2 null or empty geometries: id='f0', id='f2'"):
        validate_layer(g, key="id")


def test_key_problems():
    g = squares(3)
    with pytest.raises(InputError, match=r"key column 'code' is missing; the columns are \['id'\]"):
        validate_layer(g, key="code")
    g2 = squares(3, code=["a", None, "a"])
    with pytest.raises(InputError, match=r"null 'code': row 1"):
        validate_layer(g2, key="code")
    g3 = squares(3, code=["a", "b", "a"])
    validate_layer(g3, key="code")  # duplicates are fine unless asked
    with pytest.raises(InputError, match=r"'code' is not unique: a occur"):
        validate_layer(g3, key="code", unique_key=True)


def test_all_problems_reported_at_once():
    g = squares(3, crs=None)
    g["id"] = ["a", "a", "b"]
    g.loc[2, "geometry"] = BOWTIE
    with pytest.raises(LayerProblemsError) as e:
        validate_layer(g, name="plan", key="id", unique_key=True)
    err = e.value
    assert isinstance(err, CRSError) and isinstance(err, InvalidGeometryError) and isinstance(err, InputError)
    assert len(err.problems) == 3
    assert str(err).startswith("plan: 3 problems found:")


def test_geometry_family_and_polygonal_part():
    geoms = [box(0, 0, 1, 1), LineString([(0, 0), (1, 1)]), Point(0, 0), None, Polygon(),
             GeometryCollection([box(0, 0, 1, 1), Point(9, 9)])]
    assert geometry_family(geoms).tolist() == ["polygon", "line", "point", "", "", "collection"]
    parts = polygonal_part(geoms)
    assert parts[0].equals(geoms[0])
    assert parts[1].is_empty and parts[2].is_empty
    assert parts[5].area == 1.0 and parts[5].geom_type == "MultiPolygon"


def test_resolve_layer():
    gdf, label = resolve_layer("corridors")
    assert label == "layer 'corridors'" and len(gdf) == 4
    g = squares()
    out, label = resolve_layer(g, arg="zones")
    assert out is not g and label == "zones (GeoDataFrame)"
    with pytest.raises(InputError, match="geopandas.read_file"):
        resolve_layer("x.shp".encode(), arg="zones")
    with pytest.raises(LayerNotFoundError, match="available layers"):
        resolve_layer("no_such_layer")


def test_bad_geom_type_choice():
    with pytest.raises(InputError, match="geom_type must be one of"):
        validate_layer(squares(), geom_type="polygons")
