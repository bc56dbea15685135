"""The ecological-pattern layers, checked independently of the code that builds them.

Areas here are measured in a Lambert azimuthal equal-area projection centred on Jixi,
a different route from the library's geodesic routine.
"""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import Point

import jixi_geo as jg

LAEA = "+proj=laea +lat_0=45.6 +lon_0=132.2 +ellps=GRS80 +units=m"
POLY_LAYERS = ["lake", "barriers", "corridors", "protected_areas", "redline_zones", "pattern"]


@pytest.fixture(scope="module")
def city():
    return jg.load_layer("boundary", crs=LAEA).geometry.iloc[0]


def _ha(gdf):
    return gdf.to_crs(LAEA).area.to_numpy() / 1e4


@pytest.mark.parametrize("name", POLY_LAYERS)
def test_polygons_valid_and_inside_jixi(name, city):
    g = jg.load_layer(name, crs=LAEA)
    assert g.geometry.is_valid.all() and not g.geometry.is_empty.any()
    assert g.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    outside = g.geometry.difference(city.buffer(1.0)).area
    assert (outside <= 1e-6 * g.area + 1.0).all(), g.loc[outside > 1.0, "id"].tolist()
    assert g["precision"].isin(["schematic", "generalised"]).all()
    assert g["method"].str.len().gt(40).all()  # every feature says how it was made


@pytest.mark.parametrize("name", ["lake", "protected_areas", "redline_zones"])
def test_published_areas_are_met_within_one_percent(name):
    g = jg.load_layer(name)
    has = g["official_area_ha"].notna()
    assert has.any()
    np.testing.assert_allclose(_ha(g[has]), g.loc[has, "official_area_ha"], rtol=0.01)


def test_lake_reserve_is_the_published_size_inside_its_extent():
    lake = jg.load_layer("lake")
    reserve = lake.loc[lake["id"] == "pa-xingkaihu"]
    assert _ha(reserve)[0] == pytest.approx(222_488, rel=0.01)
    x0, y0, x1, y1 = reserve.total_bounds
    # 45°01′–45°34′N, 131°58′–133°07′E
    assert x0 >= 131 + 58 / 60 - 1e-6 and x1 <= 133 + 7 / 60 + 1e-6
    assert y0 >= 45 + 1 / 60 - 0.02 and y1 <= 45 + 34 / 60 + 1e-6
    # the reserve holds the whole Chinese part of the lake and more (the north-shore plain)
    water = lake.loc[lake["id"] == "lake-water"].geometry.iloc[0]
    assert reserve.geometry.iloc[0].buffer(1e-6).contains(water)
    assert _ha(reserve)[0] > 1.5 * _ha(lake.loc[lake["id"] == "lake-water"])[0]


def test_lake_contains_the_reference_points():
    lake = shapely.union_all(jg.load_layer("lake").geometry.values)
    assert lake.contains(Point(132.25, 45.22)) and lake.contains(Point(132.5, 45.15))
    assert not lake.contains(Point(132.82, 44.60))  # Spassk-Dalny, Russia


def test_the_plans_eight_reserves_and_natural_parks():
    pa = jg.load_layer("protected_areas")
    nr = pa[pa["kind"] == "nature_reserve"]
    assert len(nr) == 8
    assert nr["level"].value_counts().to_dict() == {"national": 4, "provincial": 3, "county": 1}
    for zh in ["兴凯湖", "凤凰山", "珍宝岛", "东方红", "曙光", "铁西", "虎口", "七虎林"]:
        assert nr["name_zh"].str.contains(zh).sum() == 1, zh
    assert set(pa["kind"]) <= {"nature_reserve", "wetland_park", "forest_park", "geopark"}
    wp = pa[pa["kind"] == "wetland_park"]
    assert wp["official_area_ha"].sum() == pytest.approx(4353.51, abs=0.01)
    # a reserve without a published area is a labelled placeholder
    no_area = pa["official_area_ha"].isna()
    assert (pa.loc[no_area, "area_status"] == "placeholder").all()
    assert pa.loc[no_area, "method"].str.contains("PLACEHOLDER").all()


def test_reserves_sit_in_their_county():
    pa = jg.load_layer("protected_areas", crs=LAEA)
    counties = jg.load_layer("counties", crs=LAEA).set_index("name_zh")
    for rec in pa.itertuples():
        if rec.id == "pa-xingkaihu":
            continue  # spans 密山 and 虎林
        inside = rec.geometry.intersection(counties.geometry[rec.county]).area / rec.geometry.area
        assert inside > 0.99, rec.id


def test_zhenbaodao_within_published_extent():
    pa = jg.load_layer("protected_areas")
    z = pa[pa["id"] == "pa-zhenbaodao"].total_bounds
    ext = (133 + 28 / 60 + 44 / 3600, 45 + 52 / 60, 133 + 47 / 60 + 40 / 3600, 46 + 17 / 60 + 23 / 3600)
    assert z[0] >= ext[0] - 1e-6 and z[1] >= ext[1] - 1e-6 and z[2] <= ext[2] + 1e-6 and z[3] <= ext[3] + 1e-6


def test_rivers_include_the_modelled_tributaries_joining_the_ussuri():
    r = jg.load_layer("rivers", crs=LAEA).set_index("river_id")
    assert set(r.index) == {"muling", "wusuli", "songacha", "qihulin", "abuqin"}
    assert set(r.loc[["qihulin", "abuqin"], "precision"]) == {"schematic"}
    assert set(r.loc[["muling", "wusuli", "songacha"], "precision"]) == {"generalised"}
    for trib in ("qihulin", "abuqin"):
        assert r.geometry[trib].distance(r.geometry["wusuli"]) < 1.0


def test_each_corridor_contains_its_river_inside_jixi(city):
    corr = jg.load_layer("corridors", crs=LAEA).set_index("id")
    r = jg.load_layer("rivers", crs=LAEA).set_index("river_id").geometry
    pairs = {"corridor-muling": ["muling"], "corridor-qihulin": ["qihulin"], "corridor-abuqin": ["abuqin"],
             "corridor-wusuli_songacha": ["wusuli", "songacha"]}
    assert set(corr.index) == set(pairs)
    for cid, rivers in pairs.items():
        line = shapely.intersection(shapely.union_all([r[x] for x in rivers]), city)
        assert line.length > 10_000
        assert line.difference(corr.geometry[cid].buffer(1.0)).length < 1.0, cid


def test_ussuri_songacha_corridor_runs_along_the_east_and_south_border(city):
    corr = jg.load_layer("corridors").set_index("id").geometry["corridor-wusuli_songacha"]
    # the east-most point of Jixi (on the Ussuri) and the lake outlet on the southern
    # border, published at 45°03′28″N, 132°51′07″E
    xy = shapely.get_coordinates(jg.load_layer("boundary").geometry.iloc[0])
    tip = Point(xy[xy[:, 0].argmax()])
    outlet = Point(132 + 51 / 60 + 7 / 3600, 45 + 3 / 60 + 28 / 3600)
    assert corr.distance(tip) < 0.03 and corr.distance(outlet) < 0.03
    c = gpd.GeoSeries([corr], crs=4490).to_crs(LAEA).iloc[0]
    # it hugs the border: most of it is within 6 km of the city's edge
    assert c.intersection(city.exterior.buffer(6000) if city.geom_type == "Polygon"
                          else shapely.union_all([p.exterior for p in city.geoms]).buffer(6000)).area > 0.8 * c.area


def test_corridors_connect_to_the_barriers():
    corr = jg.load_layer("corridors", crs=LAEA).set_index("id").geometry
    bar = jg.load_layer("barriers", crs=LAEA).set_index("id").geometry
    for cid, g in corr.items():
        assert any(g.intersection(b).area > 1e6 for b in bar), cid
    # the Muling corridor links both barriers (the plan: 联通…两大生态屏障)
    assert all(corr["corridor-muling"].intersection(b).area > 1e6 for b in bar)


def test_barriers_follow_the_description():
    bar = jg.load_layer("barriers").set_index("id")
    lao, san = bar.geometry["barrier-laoyeling"], bar.geometry["barrier-sanjiang"]
    assert lao.bounds[2] <= 131.76 and san.bounds[0] >= 131.74
    counties = jg.load_layer("counties").set_index("name_zh").geometry
    assert lao.intersection(counties["麻山区"]).area > 0.9 * counties["麻山区"].area
    assert san.intersects(counties["虎林市"]) and san.intersects(counties["密山市"])
    assert not lao.intersects(counties["虎林市"])


def test_redline_levels_are_disjoint_and_strictest_first():
    z = jg.load_layer("redline_zones", crs=LAEA)
    assert set(z["control_level"]) == {"nature_reserve", "ecological_redline", "general_ecological_space",
                                       "unmapped_reserve"}
    union = {lvl: shapely.union_all(g.geometry.values) for lvl, g in z.groupby("control_level")}
    assert union["nature_reserve"].intersection(union["ecological_redline"]).area < 1e4
    ges = union["general_ecological_space"]
    assert ges.intersection(union["nature_reserve"]).area < 1e4
    # 1 m grid snapping along ~1 100 km of shared edges (built-up discs, fitted core): slivers < 5 ha in all
    assert ges.intersection(union["ecological_redline"]).area < 5e4
    assert (z[z["control_level"] == "nature_reserve"]["element_id"].str.startswith("pa-")).all()
    # 5 reserves with a published extent or area; the 3 placeholders are unmapped_reserve (issue 16)
    assert len(z[z["control_level"] == "nature_reserve"]) == 5
    assert sorted(z[z["control_level"] == "unmapped_reserve"]["element_id"]) == [
        "pa-fenghuangshan", "pa-qihulin", "pa-shuguang"]


def test_pattern_view_has_every_element():
    p = jg.load_layer("pattern")
    counts = p["element"].value_counts().to_dict()
    assert counts["barrier"] == 2 and counts["corridor"] == 4 and counts["lake"] == 2
    assert counts["protected_area"] == len(jg.load_layer("protected_areas")) - 1  # 兴凯湖 is the lake
    assert p["id"].is_unique
