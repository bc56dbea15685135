"""The Jidong EDZ park and function-zone layers, checked independently of the code that builds them.

Areas are measured in a Lambert azimuthal equal-area projection centred on 鸡东, a different
route from the build's geodesic routine; published figures are read from the transcribed
tables, not from the layers.
"""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import jixi_geo as jg

LAEA = "+proj=laea +lat_0=45.3 +lon_0=131.2 +ellps=GRS80 +units=m"
LAYERS = jg.layers.layers_dir()
AIRPORT = (131.193, 45.293)  # 鸡西兴凯湖机场 (ZYJX)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _table(name):
    return pd.read_csv(LAYERS / "tables" / name, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def parks():
    return jg.load_layer("jidong_parks", crs=LAEA)


@pytest.fixture(scope="module")
def zones():
    return jg.load_layer("jidong_function_zones", crs=LAEA)


@pytest.fixture(scope="module")
def published_zones():
    """Published area (ha) of each printed zone; a zone printed without its own area is the sum of its parts."""
    t = _table("jidong_function_zones.csv")
    out = {}
    for r in t.itertuples():
        if "." in r.zone_no:
            continue
        if r.area_ha:
            out[(r.park, r.zone_no)] = float(r.area_ha)
        else:
            parts = t[(t["park"] == r.park) & t["zone_no"].str.startswith(r.zone_no + ".")]
            out[(r.park, r.zone_no)] = pd.to_numeric(parts["area_ha"]).sum()
    return out


def test_the_three_parks_and_nine_zones(parks, zones):
    assert sorted(parks["park"]) == ["baoquan", "chemical", "industrial"]
    assert len(zones) == 9
    assert zones.groupby("park").size().to_dict() == {"chemical": 4, "industrial": 5}
    assert set(zones["zone_no"]) == {"1", "2", "3", "4", "5"}
    for g in (parks, zones):
        assert g.geometry.is_valid.all() and not g.geometry.is_empty.any()
        assert (g["precision"] == "schematic").all()
        assert g["method"].str.len().gt(40).all()
        assert g["id"].is_unique


def test_park_areas_meet_the_published_figures(parks):
    pub = _table("jidong_parks.csv").set_index("park")
    for r in parks.itertuples():
        km2 = float(pub.at[r.park, "area_km2_published"])
        assert r.geometry.area / 1e6 == pytest.approx(km2, rel=0.005), r.park
        assert r.four_bounds_published == pub.at[r.park, "four_bounds_published"]
        assert r.town_zh == pub.at[r.park, "town_zh"]


def test_zone_areas_meet_the_published_figures(zones, published_zones):
    for r in zones.itertuples():
        pub = published_zones[(r.park, r.zone_no)]
        assert r.geometry.area / 1e4 == pytest.approx(pub, rel=0.005), r.id
        assert r.planned_area_ha == pytest.approx(pub, abs=1e-9)
    assert zones.groupby("park")["share_pct"].sum().to_numpy() == pytest.approx(100.0, abs=0.02)


def test_zones_tile_their_park(parks, zones):
    for key, sub in zones.groupby("park"):
        park = parks.loc[parks["park"] == key].geometry.iloc[0]
        geoms = list(sub.geometry)
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                assert shapely.intersection(geoms[i], geoms[j]).area < 1.0, (key, i, j)
        union = shapely.union_all(geoms)
        assert shapely.symmetric_difference(union, park).area < 1e-4 * park.area, key


def test_parks_lie_in_jidong_county_outside_the_nature_reserves(parks):
    counties = jg.load_layer("counties", crs=LAEA)
    county = counties.loc[counties["adcode"] == "230321"].geometry.iloc[0]
    red = jg.load_layer("redline_zones", crs=LAEA)
    reserves = shapely.union_all(red.loc[red["control_level"] == "nature_reserve"].geometry.values)
    for r in parks.itertuples():
        assert shapely.difference(r.geometry, county).area < 1.0, r.park
        assert shapely.intersection(r.geometry, reserves).area < 1.0, r.park


def test_chemical_park_is_about_20_km_from_the_airport_and_south_of_the_road():
    parks = jg.load_layer("jidong_parks")  # lon/lat
    chem = parks.loc[parks["park"] == "chemical"].geometry.iloc[0]
    c = gpd.GeoSeries([chem], crs=parks.crs).to_crs(LAEA).centroid.to_crs(parks.crs).iloc[0]
    km = pyproj.Geod(ellps="GRS80").inv(AIRPORT[0], AIRPORT[1], c.x, c.y)[2] / 1000
    assert 15 <= km <= 25  # 距离兴凯湖机场仅 20公里
    # the park lies south of the modelled 丹阿公路/建鸡高速 line (北至丹阿公路)
    road = json.loads((LAYERS / "params" / "jidong_parks.json").read_text(encoding="utf-8"))
    (x0, y0), (x1, y1) = road["parks"]["chemical"]["road_line"]
    lon, lat = np.asarray(chem.exterior.coords).T
    assert ((x0 <= lon) & (lon <= x1)).all()
    assert (lat < y0 + (y1 - y0) * (lon - x0) / (x1 - x0)).all()


def test_industrial_park_is_north_east_of_jidong_town(parks):
    counties = jg.load_layer("counties")
    seat = counties.loc[counties["adcode"] == "230321", ["seat_lon", "seat_lat"]].iloc[0]
    ind = parks.loc[parks["park"] == "industrial"].to_crs("EPSG:4490")
    x0, y0, _, _ = ind.total_bounds
    assert x0 > seat["seat_lon"] and y0 > seat["seat_lat"]


def test_baoquan_park_is_in_the_north_west_of_the_county(parks):
    c = parks.loc[parks["park"] == "baoquan"].to_crs("EPSG:4490").geometry.iloc[0].centroid
    # 兴农镇 is the north-western part of 鸡东县 (north of ~45.42N)
    assert c.y > 45.42 and c.x < 131.3


def test_zone_layout_follows_the_plan(parks, zones):
    ll = zones.to_crs("EPSG:4490")
    cen = {(r.park, r.zone_no): r.geometry.centroid for r in ll.itertuples()}
    # 工业产业园: 自北南依次形成五个功能片区
    lats = [cen[("industrial", z)].y for z in "12345"]
    assert lats == sorted(lats, reverse=True)
    # 化工产业园: (1) in the north of the park; (2) 依托畅峰焦化 at the east end (东至畅峰焦化东路)
    chem = parks.loc[parks["park"] == "chemical"].to_crs("EPSG:4490").geometry.iloc[0]
    c1 = cen[("chemical", "1")]
    across = shapely.intersection(chem, shapely.LineString([(c1.x, 45.0), (c1.x, 45.7)]))
    assert c1.y > across.centroid.y  # in the park's northern half where it stands
    assert max(cen[("chemical", z)].x for z in "1234") == cen[("chemical", "2")].x


def test_landuse_codes_are_gb50137_major_classes(zones):
    codes = pd.read_csv(LAYERS / "rules" / "gb50137_codes.csv", dtype=str, keep_default_na=False)
    major = set(codes.loc[codes["level"] == "major", "code"])
    assert set(zones["landuse_code"]) <= major
    assert zones["landuse_basis"].str.len().gt(10).all()
    by = dict(zip(zip(zones["park"], zones["zone_no"]), zones["landuse_code"]))
    assert by[("industrial", "4")] == "W"  # 现代物流产业区
    assert all(by[("chemical", z)] == "M" for z in "234")


def test_features_have_bilingual_names(parks, zones):
    for g in (parks, zones):
        assert g["name_zh"].map(lambda s: bool(CJK.search(s))).all()
        assert g["name_en"].map(lambda s: s.isascii() and len(s.strip()) > 3).all()
