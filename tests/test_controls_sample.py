"""The synthetic control layers (合成示例·非真实数据): deterministic, labelled, and where they say they are.

Known answers come from the other bundled layers (red line, reserves, county seats, the
box of the parameters), never from the sample's own columns; areas are measured two
ways (planar in EPSG:4553 and geodesic with pyproj.Geod on the CGCS2000 ellipsoid).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import jixi_geo as jg
from jixi_geo import vocab
from jixi_geo._io import file_sha256
from jixi_geo.controls import ROLES, SAMPLE_NOTE, sample_controls

LAYERS = jg.layers.layers_dir()
GPKG = LAYERS / "sample_controls.gpkg"
PARAMS = json.loads((LAYERS / "params" / "sample_controls.json").read_text(encoding="utf-8"))
GEOD = pyproj.Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 by 0.1 mm in the minor axis
# TODO(lead): drop this list once layers/rules/landcover_codes.csv (helper A1) is on main.
FALLBACK_CODES = {"0101", "0102", "0103", "0301", "0307", "0401", "05H1", "0601", "0701", "0702", "1101", "1108"}


def _layer(role: str, crs=None) -> gpd.GeoDataFrame:
    g = gpd.read_file(GPKG, layer=role, engine="fiona")  # a second GDAL reader than the build's pyogrio
    return g if crs is None else g.to_crs(crs)


def _geod_ha(geom) -> float:
    """Geodesic area (ha) of an EPSG:4490 geometry with pyproj.Geod."""
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e4


def _to_4490(geom):
    return gpd.GeoSeries([geom], crs=4553).to_crs(4490).iloc[0]


def _fill_holes(g):
    """``g`` with its holes filled: the union of its parts' outer rings."""
    return shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(g)])


def _strict_4553():
    z = jg.load_layer("redline_zones", crs="EPSG:4553")
    return shapely.union_all(z.loc[z["control_level"] != "general_ecological_space"].geometry.values)


# ============================================================================ build


def test_catalog_lists_the_four_roles_in_one_file():
    cat = {e["name"]: e for e in jg.layers.catalog()["layers"]}
    for role in ROLES:
        e = cat[f"sample_{role}"]
        assert (e["file"], e["layer"], e["precision"]) == ("sample_controls.gpkg", role, "synthetic")
        assert "合成示例·非真实数据" in e["description"]
    assert GPKG.stat().st_size < 3 * 1024 * 1024


def test_rebuild_gives_the_same_bytes(tmp_path):
    """The committed file is one build; a fresh build into another folder is the second."""
    from jixi_geo.layerbuild import build_layers

    rebuilt = {e["name"]: e for e in build_layers(out_dir=tmp_path)["layers"]}
    assert file_sha256(tmp_path / "sample_controls.gpkg") == file_sha256(GPKG)
    for role in ROLES:
        assert rebuilt[f"sample_{role}"]["sha256_file"] == file_sha256(GPKG)


# ============================================================================ labelled


@pytest.mark.parametrize("role", ROLES)
def test_every_feature_says_synthetic(role):
    g = _layer(role)
    assert len(g) > 0
    assert (g["synthetic"] == 1).all() and (g["precision"] == "synthetic").all()
    assert (g["note"] == SAMPLE_NOTE).all()
    assert g["official_area_ha"].isna().all()
    assert g["name"].astype(str).str.len().gt(0).all()
    for col in ("id", "name_zh", "name_en", "category", "source", "method"):
        assert g[col].astype(str).str.len().gt(0).all(), col


@pytest.mark.parametrize("role", ROLES)
def test_area_column_agrees_with_pyproj_geod_and_the_projection(role):
    g = _layer(role)
    geod = np.array([_geod_ha(x) for x in g.geometry])
    assert g["area_ha"].to_numpy() == pytest.approx(geod, rel=1e-6, abs=1e-4)  # build's ellipsoidal area vs Geod
    planar = g.to_crs(4553).area.to_numpy() / 1e4  # Gauss-Kruger CM 132E: scale error < 0.03 % in Jixi
    assert planar == pytest.approx(geod, rel=1e-3)


def test_the_stamp_of_synthetic_comes_from_data():
    assert vocab.stamp("synthetic") == ("合成示例·非真实数据", "synthetic example, not real data")
    assert SAMPLE_NOTE == " / ".join(vocab.stamp("synthetic"))


def test_sample_controls_is_synthetic_with_the_contract_columns():
    c = sample_controls()
    assert c.roles == ROLES and c.synthetic
    for role in ROLES:
        layer = c[role]
        assert layer.synthetic and layer.sha256 == file_sha256(GPKG) and layer.layer == role
        g = layer.gdf
        assert g.crs.to_epsg() == 4490
        assert g.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        assert g["control_id"].is_unique and {"name", "level"} <= set(g.columns)
    assert set(c["water_source"].gdf["level"]) == {"first", "second", "quasi"}
    assert set(c["permanent_farmland"].gdf["level"]) == {""}
    lc = c["landcover"].gdf
    assert lc["class_code"].str.fullmatch(r"\d{2}[0-9H]\d").all()
    assert lc["black_soil"].dtype == bool and lc["black_soil"].any() and not lc["black_soil"].all()


def test_sample_controls_refuses_an_unknown_role():
    from jixi_geo.errors import InputError

    with pytest.raises(InputError) as exc:
        sample_controls(roles=["farmland"])
    assert "未知" in str(exc.value) and "permanent_farmland" in str(exc.value)
    assert str(exc.value).index("未知") < str(exc.value).index("unknown")  # 中文 first


# ============================================================================ placed where they say


def test_farmland_stays_out_of_the_red_line_and_the_reserves():
    farm = shapely.union_all(_layer("permanent_farmland", 4553).geometry.values)
    assert farm.area / 1e4 > 10_000  # there is farmland to speak of
    strict = _strict_4553()
    pa = jg.load_layer("protected_areas", crs="EPSG:4553")
    reserves = shapely.union_all(pa.loc[pa["kind"] == "nature_reserve"].geometry.values)
    for other in (strict, reserves):
        inter = shapely.intersection(farm, other)
        assert inter.area / 1e4 < 0.01  # planar, EPSG:4553
        assert inter.is_empty or _geod_ha(_to_4490(inter)) < 0.01  # geodesic
    # and on the plains: not in the 老爷岭 forest barrier
    lao = jg.load_layer("barriers", crs="EPSG:4553").set_index("id").geometry["barrier-laoyeling"]
    assert shapely.intersection(farm, lao).area / 1e4 < 0.01


def test_urban_boundaries_hold_their_seat_and_do_not_overlap():
    ub = _layer("urban_boundary")
    seats = jg.load_layer("counties").set_index("adcode")
    assert sorted(ub["XZQDM"]) == sorted(seats.index)
    for code, geom in zip(ub["XZQDM"], ub.geometry, strict=True):
        seat = shapely.Point(seats.loc[code, "seat_lon"], seats.loc[code, "seat_lat"])
        assert geom.contains(seat), code
    p = ub.to_crs(4553)
    assert abs(p.area.sum() - shapely.union_all(p.geometry.values).area) < 100  # m²: no overlaps
    assert shapely.intersection(shapely.union_all(p.geometry.values), _strict_4553()).area < 100
    # the city centre is the largest
    assert ub.loc[ub["area_ha"].idxmax(), "XZQDM"] == PARAMS["urban_boundary"]["city_centre_adcode"]


def test_water_grades_nest():
    ws = _layer("water_source", 4553)
    assert set(ws["级别"]) == {"一级保护区", "二级保护区", "准保护区"}
    for intake in PARAMS["water_source"]["intakes"]:
        g = ws[ws["intake_id"] == intake["id"]].set_index("级别").geometry
        first, second, quasi = g["一级保护区"], g["二级保护区"], g["准保护区"]
        # rings: the grades do not overlap ...
        for a, b in ((first, second), (second, quasi), (first, quasi)):
            assert shapely.intersection(a, b).area < 10  # m²
        # ... and each lies in the hole of the next one out (first inside second inside quasi)
        assert shapely.difference(first, _fill_holes(second)).area < 10
        assert shapely.difference(shapely.union(first, second), _fill_holes(quasi)).area < 10
        # the hole of the second grade is the first grade (not just a gap beside it)
        assert _fill_holes(second).area - second.area == pytest.approx(first.area, rel=1e-3)
        assert first.area < second.area < quasi.area
        # the intake (snapped to the river) is in the first grade
        river = jg.load_layer("rivers", crs="EPSG:4553").set_index("river_id").geometry[intake["river_id"]]
        x, y = pyproj.Transformer.from_crs(4490, 4553, always_xy=True).transform(intake["lon"], intake["lat"])
        snapped = river.interpolate(river.project(shapely.Point(x, y)))
        assert first.contains(snapped)


# ============================================================================ land cover


def _codes() -> pd.DataFrame | None:
    path = jg.layers.layers_dir() / "rules" / "landcover_codes.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8").set_index("code")


def test_landcover_codes_are_in_the_registry_and_named_as_it_names_them():
    lc = _layer("landcover")
    codes = _codes()
    known = FALLBACK_CODES if codes is None else set(codes.index)
    assert set(lc["DLBM"]) <= known
    if codes is not None:
        named = lc.drop_duplicates("DLBM").set_index("DLBM")["DLMC"]
        for code, name in named.items():
            assert codes.loc[code, "name_zh"] == name, code
    # the classes the sample promises, each present
    assert {"0101", "0102", "0103", "0301", "0307", "0401", "1101", "1108", "0702", "05H1", "0601"} <= set(lc["DLBM"])
    # 黑土耕地 only on cultivated land, and on part of it
    black = lc["黑土耕地"] == "是"
    assert set(lc.loc[black, "DLBM"]) <= {"0101", "0102", "0103"}
    cultivated = lc["DLBM"].isin(["0101", "0102", "0103"])
    assert 0 < black.sum() < cultivated.sum()
    assert set(lc["黑土耕地"]) == {"是", "否"}


def test_landcover_cells_tile_the_box_without_overlap():
    lc = _layer("landcover", 4553)
    assert 2000 <= len(lc) <= 6000  # a few thousand cells
    union = shapely.union_all(lc.geometry.values)
    # no overlap: the areas add up to the area of their union (planar) ...
    assert abs(lc.area.sum() - union.area) < 100  # m² over ~4 500 km²
    tree = shapely.STRtree(lc.geometry.values)
    a, b = tree.query(lc.geometry.values, predicate="intersects")
    pairs = a < b
    overlap = shapely.area(shapely.intersection(lc.geometry.values[a[pairs]], lc.geometry.values[b[pairs]])).sum()
    assert overlap / 1e4 < 0.01  # ha, pairwise
    # ... and they cover the parameters' lon/lat box inside Jixi: known answer from the params and the boundary
    B = PARAMS["landcover"]["box"]
    box = shapely.segmentize(shapely.box(B["lon_min"], B["lat_min"], B["lon_max"], B["lat_max"]), 0.01)
    city = jg.load_layer("boundary").geometry.iloc[0]
    expect_ha = _geod_ha(shapely.intersection(box, city))
    got_geod = sum(_geod_ha(g) for g in _layer("landcover").geometry)
    assert got_geod == pytest.approx(expect_ha, rel=1e-4)
    # the build's area_ha (jixi_geo's ellipsoidal area) agrees with pyproj.Geod, and planar 4553 within 0.1 %
    assert lc["area_ha"].sum() == pytest.approx(got_geod, rel=1e-6)
    assert lc.area.sum() / 1e4 == pytest.approx(got_geod, rel=1e-3)


def test_landcover_classes_follow_the_documented_rules():
    lc = _layer("landcover", 4553)
    at = shapely.point_on_surface(lc.geometry.values)
    rivers = shapely.union_all(jg.load_layer("rivers", crs="EPSG:4553").geometry.values)
    near_river = shapely.dwithin(at, rivers, PARAMS["landcover"]["river_m"])
    assert (lc.loc[near_river, "DLBM"] == "1101").all() and (lc.loc[~near_river, "DLBM"] != "1101").all()
    lao = jg.load_layer("barriers", crs="EPSG:4553").set_index("id").geometry["barrier-laoyeling"]
    forest = np.asarray(shapely.within(at, lao)) & ~near_river
    assert lc.loc[forest, "DLBM"].isin(["0301", "0307", "0401", "0701", "05H1", "0601", "0702", "1108"]).all()
    assert lc.loc[forest, "DLBM"].str.startswith("03").mean() > 0.8
    farm = shapely.union_all(_layer("permanent_farmland", 4553).geometry.values)
    on_farm = np.asarray(shapely.within(at, farm))
    assert on_farm.sum() > 100
    assert (lc.loc[on_farm & ~near_river, "DLBM"].isin(["0101", "0102", "0103", "0701", "05H1", "0601", "0702"])).all()
