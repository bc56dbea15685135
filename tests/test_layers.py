"""The layer catalogue: every entry walked and checked against its file."""

import json

import geopandas as gpd
import pytest
import shapely

import jixi_geo as jg
from jixi_geo._io import content_sha256, file_sha256
from jixi_geo.errors import LayerNotFoundError

CATALOG = json.loads((jg.layers.layers_dir() / "catalog.json").read_text(encoding="utf-8"))
NAMES = [e["name"] for e in CATALOG["layers"]]
STANDARD = ["id", "name_zh", "name_en", "category", "source", "precision", "method", "official_area_ha"]


@pytest.mark.parametrize("entry", CATALOG["layers"], ids=NAMES)
def test_catalog_entry_matches_its_file(entry):
    path = jg.layers.layers_dir() / entry["file"]
    assert file_sha256(path) == entry["sha256_file"]
    gdf = gpd.read_file(path, layer=entry["layer"], engine="fiona")  # a second GDAL reader
    assert len(gdf) == entry["n_features"] > 0
    assert gdf.crs.to_epsg() == 4490 == int(entry["crs"].split(":")[1])
    assert content_sha256(gdf) == entry["sha256_content"]
    assert set(STANDARD) <= set(gdf.columns)
    assert gdf["id"].is_unique
    assert gdf["name_zh"].str.len().gt(0).all() and gdf["name_en"].str.len().gt(0).all()
    assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any()
    assert set(gdf["precision"]) <= {"surveyed", "generalised", "schematic", "illustrative", "synthetic"}
    for key in ("title_zh", "title_en", "source", "licence"):
        assert entry[key]


def test_list_layers_columns_and_names():
    df = jg.list_layers()
    assert list(df.columns) == ["name", "title_zh", "title_en", "geometry_type", "n_features",
                                "crs", "source", "precision"]
    assert {"boundary", "counties", "rivers"} <= set(df["name"])


def test_unknown_layer_lists_known_names():
    with pytest.raises(LayerNotFoundError) as exc:
        jg.load_layer("lakes")
    assert "counties" in str(exc.value) and "'lakes'" in str(exc.value)
    assert isinstance(exc.value, KeyError)


def test_load_layer_returns_independent_copies_and_transforms():
    a = jg.load_layer("counties")
    a.loc[0, "name_zh"] = "changed"
    assert jg.load_layer("counties").loc[0, "name_zh"] != "changed"
    p = jg.load_layer("counties", crs="EPSG:4553")
    assert p.crs.to_epsg() == 4553
    assert p.total_bounds[0] > 100_000  # metres, not degrees


def test_boundary_extent_matches_the_plan():
    # the plan: 130°24′24″–133°56′30″E, 44°51′12″–46°36′55″N
    plan = (130 + 24 / 60 + 24 / 3600, 44 + 51 / 60 + 12 / 3600, 133 + 56 / 60 + 30 / 3600,
            46 + 36 / 60 + 55 / 3600)
    got = jg.load_layer("boundary").total_bounds
    for g, p in zip(got, plan):
        assert abs(g - p) < 0.02


def test_counties_are_the_nine_official_divisions():
    c = jg.load_layer("counties")
    assert sorted(c["adcode"]) == ["230302", "230303", "230304", "230305", "230306", "230307",
                                   "230321", "230381", "230382"]
    assert set(c["name_zh"]) == {"鸡冠区", "恒山区", "滴道区", "梨树区", "城子河区", "麻山区",
                                 "鸡东县", "虎林市", "密山市"}
    # each county's seat of government lies in that county
    seats = gpd.points_from_xy(c["seat_lon"], c["seat_lat"])
    assert all(g.contains(s) for g, s in zip(c.geometry, seats))
    # counties tile the boundary: their areas add up to the boundary's (no overlaps)
    assert c["area_ha"].sum() == pytest.approx(jg.load_layer("boundary")["area_ha"].iloc[0], rel=1e-6)


def test_city_area_is_about_the_published_figure():
    # the city is ≈22 500 km² of land [S]; the source's union includes ~983 km² of lake
    km2 = jg.load_layer("boundary")["area_ha"].iloc[0] / 100
    assert 22_500 < km2 < 22_500 + 1_000 + 100


def test_muling_lies_mostly_inside_the_boundary():
    rivers = jg.load_layer("rivers", crs="EPSG:4553")
    muling = rivers.loc[rivers["name_zh"] == "穆棱河"].geometry.iloc[0]
    city = jg.load_layer("boundary", crs="EPSG:4553").geometry.iloc[0]
    inside = shapely.intersection(muling, city).length / muling.length
    assert inside > 0.9
    # and it is about 272 km inside Jixi (Natural Earth generalisation)
    assert 250_000 < shapely.intersection(muling, city).length < 300_000
    assert set(rivers["name_zh"]) >= {"穆棱河", "乌苏里江", "松阿察河"}
