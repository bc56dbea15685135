"""rasterize / zonal_composition: known answers on rasters built in code, windowed reading,
and agreement with the vector answer of share_split within the raster's cell error."""

import json
import os

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine
from shapely import Point, box
from shapely.affinity import rotate

import jixi_geo.raster as jr
from jixi_geo import load_layer
from jixi_geo.errors import CRSError, InputError, JixiGeoWarning
from jixi_geo.overlap import UNCLASSIFIED, share_split
from jixi_geo.raster import rasterize, read_class_lookup, zonal_composition

X0, Y0 = 500_000, 5_000_000  # on 132°E (EPSG:4553's central meridian), ~45.1°N
EXTENT = (X0, Y0, X0 + 1000, Y0 + 1000)  # 100 × 100 cells of 10 m


def gdf(geoms, crs="EPSG:4553", **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


@pytest.fixture
def layout():
    """Left half class "A", top-right quarter class "B", bottom-right quarter no feature."""
    return gdf([box(X0, Y0, X0 + 500, Y0 + 1000), box(X0 + 500, Y0 + 500, X0 + 1000, Y0 + 1000)],
               code=["A", "B"])


@pytest.fixture
def zone():
    """The central 500 m square (its edges 2 m inside cell edges: robust to reprojection)."""
    return gdf([box(X0 + 252, Y0 + 252, X0 + 748, Y0 + 748)], id=["Z"], name_zh=["中"])


@pytest.fixture
def class_tif(tmp_path, layout):
    return rasterize(layout, resolution_m=10, path=tmp_path / "lu.tif", value_col="code", bounds=EXTENT)


# --------------------------------------------------------------------------- rasterize


def test_rasterize_writes_a_tiled_compressed_4553_geotiff(class_tif):
    with rasterio.open(class_tif) as ds:
        assert ds.crs.to_epsg() == 4553
        assert (ds.width, ds.height) == (100, 100)
        assert ds.transform == Affine(10, 0, X0, 0, -10, Y0 + 1000)
        assert ds.nodata == 0 and ds.dtypes[0] == "uint8"
        assert ds.profile["compress"] == "deflate" and ds.profile["tiled"]
        assert ds.block_shapes == [(256, 256)]
        tags = ds.tags()
        assert tags["JIXI_KIND"] == "class" and tags["JIXI_VALUE_COL"] == "code"
        assert json.loads(tags["JIXI_CLASSES"]) == {"1": "A", "2": "B"}
        arr = ds.read(1)
    assert (arr[:, :50] == 1).all()
    assert (arr[:50, 50:] == 2).all()
    assert (arr[50:, 50:] == 0).all()
    assert read_class_lookup(class_tif) == {1: "A", 2: "B"}


def test_mask_raster(tmp_path, layout):
    p = rasterize(layout, resolution_m=10, path=tmp_path / "m.tif", bounds=EXTENT)
    with rasterio.open(p) as ds:
        arr = ds.read(1)
        assert ds.tags()["JIXI_KIND"] == "mask"
    assert arr.sum() == 7500 and set(np.unique(arr)) == {0, 1}
    assert read_class_lookup(p) == {}


def test_default_grid_snaps_to_the_resolution(tmp_path):
    g = gdf([box(X0 + 3, Y0 + 3, X0 + 997, Y0 + 991)], code=["A"])
    p = rasterize(g, resolution_m=10, path=tmp_path / "a.tif")
    with rasterio.open(p) as ds:
        assert ds.transform.c == X0 and ds.transform.f == Y0 + 1000
        assert (ds.width, ds.height) == (100, 100)
    # given bounds keep their origin and extend to whole cells
    p2 = rasterize(g, resolution_m=10, path=tmp_path / "b.tif", bounds=(X0 + 1, Y0, X0 + 1006, Y0 + 1000))
    with rasterio.open(p2) as ds:
        assert ds.transform.c == X0 + 1 and ds.width == 101


def test_input_in_another_crs_is_transformed(tmp_path, layout, class_tif):
    p = rasterize(layout.to_crs("EPSG:4490"), resolution_m=10, path=tmp_path / "g.tif",
                  value_col="code", bounds=EXTENT)
    with rasterio.open(p) as a, rasterio.open(class_tif) as b:
        assert a.crs.to_epsg() == 4553
        assert (a.read(1) == b.read(1)).all()


def test_all_touched_burns_more_cells(tmp_path):
    g = gdf([rotate(box(X0 + 400, Y0 + 100, X0 + 420, Y0 + 900), 30)], code=["R"])
    counts = {}
    for at in (False, True):
        p = rasterize(g, resolution_m=10, path=tmp_path / f"{at}.tif", all_touched=at, bounds=EXTENT)
        with rasterio.open(p) as ds:
            counts[at] = int(ds.read(1).sum())
            assert ds.tags()["JIXI_CELL_RULE"] == ("all touched" if at else "cell centre inside")
    assert counts[False] == pytest.approx(160, rel=0.1)  # 20 m × 800 m / 100 m²
    assert counts[True] > counts[False] * 1.5


def test_class_codes_follow_sorted_str_order_and_first_class_wins(tmp_path):
    # numeric classes: sorted by str, "30" < "4"; the overlap goes to the first (code 1)
    g = gdf([box(X0, Y0, X0 + 600, Y0 + 1000), box(X0 + 400, Y0, X0 + 1000, Y0 + 1000)], cls=[4, 30])
    p = rasterize(g, resolution_m=10, path=tmp_path / "c.tif", value_col="cls", bounds=EXTENT)
    assert read_class_lookup(p) == {1: 30, 2: 4}
    with rasterio.open(p) as ds:
        arr = ds.read(1)
    assert (arr[:, :40] == 2).all() and (arr[:, 40:] == 1).all()


def test_write_is_atomic(tmp_path, layout, class_tif, monkeypatch):
    before = class_tif.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rasterio.features, "rasterize", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        rasterize(layout, resolution_m=5, path=class_tif, value_col="code", bounds=EXTENT)
    assert class_tif.read_bytes() == before
    assert os.listdir(tmp_path) == ["lu.tif"]  # no temporary file left behind


def test_rasterize_bad_arguments(tmp_path, layout):
    with pytest.raises(InputError, match="resolution_m must be a positive number"):
        rasterize(layout, resolution_m=0, path=tmp_path / "x.tif")
    with pytest.raises(InputError, match="bounds must be"):
        rasterize(layout, resolution_m=10, path=tmp_path / "x.tif", bounds=(1, 1, 0, 0))
    with pytest.raises(InputError, match="key column 'nope' is missing"):
        rasterize(layout, resolution_m=10, path=tmp_path / "x.tif", value_col="nope")
    with pytest.raises(CRSError):
        rasterize(layout.set_crs(None, allow_override=True), resolution_m=10, path=tmp_path / "x.tif")
    with pytest.raises(InputError, match="too large"):
        rasterize(layout, resolution_m=1e-4, path=tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()


# --------------------------------------------------------------------------- zonal_composition


def test_known_composition_of_a_square_zone(class_tif, zone):
    z = zonal_composition(class_tif, zone)
    assert list(z.columns) == ["zone", "zone_name_zh", "class", "value", "cells", "area_ha",
                               "share_pct", "zone_cells"]
    assert z["class"].tolist() == ["A", "B", UNCLASSIFIED]
    assert z.cells.tolist() == [1250, 625, 625]
    assert z.area_ha.tolist() == pytest.approx([12.5, 6.25, 6.25], rel=1e-12)
    assert z.share_pct.tolist() == pytest.approx([50, 25, 25], rel=1e-12)
    assert (z.zone_cells == 2500).all() and (z.zone == "Z").all() and (z.zone_name_zh == "中").all()
    assert z.attrs["zonal_composition"]["pixel_area_m2"] == 100


def test_zones_in_another_crs_are_transformed(class_tif, zone):
    ref = zonal_composition(class_tif, zone)
    for crs in ("EPSG:4490", "EPSG:32652", "EPSG:3857"):
        z = zonal_composition(class_tif, zone.to_crs(crs))
        assert z.cells.tolist() == ref.cells.tolist()


def test_raster_read_window_by_window(tmp_path, class_tif, zone, monkeypatch):
    windows = []
    real = jr._read_window

    def spy(ds, window):
        windows.append((window.height, window.width))
        return real(ds, window)

    monkeypatch.setattr(jr, "_read_window", spy)
    whole = gdf([box(*EXTENT)], id=["all"])
    z = zonal_composition(class_tif, whole, window_size=16)
    assert len(windows) == 49  # ceil(100 / 16) ** 2
    assert max(h * w for h, w in windows) <= 16 * 16
    assert sum(h * w for h, w in windows) == 100 * 100  # each cell read once
    assert z.cells.tolist() == [5000, 2500, 2500]
    assert z.attrs["zonal_composition"]["windows_read"] == 49

    # only windows within the zone's extent are read; the answer does not depend on the size
    windows.clear()
    small = zonal_composition(class_tif, zone, window_size=16)
    assert 1 < len(windows) < 49
    windows.clear()
    big = zonal_composition(class_tif, zone)
    assert len(windows) == 1
    assert small.cells.tolist() == big.cells.tolist() == [1250, 625, 625]


def test_multi_zone_with_duplicate_keys_and_int_keys(class_tif):
    zones = gdf([box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500),
                 box(X0 + 500, Y0 + 500, X0 + 1000, Y0 + 1000)], id=[7, 7, 8])
    z = zonal_composition(class_tif, zones, units="m2")
    got = {(r.zone, r["class"]): r.cells for _, r in z.iterrows()}
    assert got == {(7, "A"): 2500, (7, UNCLASSIFIED): 2500, (8, "B"): 2500, (8, UNCLASSIFIED): 0}
    assert z.area_m2.sum() == 1_000_000 * 0.75


def test_classes_and_nodata_overrides(class_tif, zone):
    z = zonal_composition(class_tif, zone, classes={1: "arable"})
    assert z["class"].tolist() == ["arable", 2, UNCLASSIFIED]  # unmapped values keep their value
    z2 = zonal_composition(class_tif, zone, nodata=2)  # treat B as "no class", 0 as a value
    assert list(zip(z2.value, z2.cells)) == [(0, 625), (1, 1250), (2, 625)]
    assert z2["class"].tolist() == [0, "A", UNCLASSIFIED]


def test_projected_raster_in_another_crs(tmp_path, zone):
    # a UTM 52N raster: zones are transformed to it, pixel area from its own CRS
    x0, y0 = 700_000, 5_000_000
    arr = np.zeros((50, 50), dtype="uint8")
    arr[:, :25] = 3
    p = tmp_path / "utm.tif"
    with rasterio.open(p, "w", driver="GTiff", width=50, height=50, count=1, dtype="uint8",
                       crs="EPSG:32652", transform=Affine(20, 0, x0, 0, -20, y0 + 1000), nodata=0) as ds:
        ds.write(arr, 1)
    z_utm = gdf([box(x0 + 202, y0 + 202, x0 + 798, y0 + 798)], crs="EPSG:32652", id=["U"])
    z = zonal_composition(p, z_utm.to_crs("EPSG:4553"))
    assert z.cells.tolist() == [450, 450]  # 15 × 30 cells each side of x0 + 500
    assert z.area_ha.tolist() == pytest.approx([18, 18])
    assert z["class"].tolist() == [3, UNCLASSIFIED]


def test_geographic_and_unreferenced_rasters_are_refused(tmp_path, zone):
    p = tmp_path / "geo.tif"
    with rasterio.open(p, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                       crs="EPSG:4490", transform=Affine(0.001, 0, 132, 0, -0.001, 45.2)) as ds:
        ds.write(np.ones((1, 10, 10), dtype="uint8"))
    with pytest.raises(CRSError, match=r"geographic CRS.*gdalwarp -t_srs EPSG:4553"):
        zonal_composition(p, zone)
    q = tmp_path / "nocrs.tif"
    with rasterio.open(q, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                       transform=Affine(10, 0, X0, 0, -10, Y0 + 100)) as ds:
        ds.write(np.ones((1, 10, 10), dtype="uint8"))
    with pytest.raises(CRSError, match="has no CRS"):
        zonal_composition(q, zone)


def test_zones_beyond_or_outside_the_raster_warn(class_tif):
    partly = gdf([box(X0 + 900, Y0 + 900, X0 + 1100, Y0 + 1100)], id=["edge"])
    with pytest.warns(JixiGeoWarning, match=r"extend beyond the raster"):
        z = zonal_composition(class_tif, partly)
    assert z.zone_cells.iloc[0] == 100
    away = gdf([box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)], id=["away"])
    with pytest.warns(JixiGeoWarning, match="no cell centre"):
        z = zonal_composition(class_tif, away)
    assert z.cells.tolist() == [0] and np.isnan(z.share_pct.iloc[0])


def test_zonal_bad_arguments(class_tif, zone):
    with pytest.raises(InputError, match="window_size must be a positive whole number"):
        zonal_composition(class_tif, zone, window_size=0)
    with pytest.raises(InputError, match="classes must be a mapping"):
        zonal_composition(class_tif, zone, classes=["A"])
    with pytest.raises(InputError, match="units must be one of"):
        zonal_composition(class_tif, zone, units="acres")


# --------------------------------------------------------------------------- vector vs raster


def _cell_error_bound_pct(zone_geom, pieces, cell):
    """|raster share − vector share| ≤ (zone perimeter + pieces' perimeter) × cell / zone area.

    Only cells cut by a boundary can be misassigned; each is within one cell of the
    boundary, so their total area is at most (boundary length) × (cell size).
    """
    return (zone_geom.length + sum(p.length for p in pieces)) * cell / zone_geom.area * 100


def test_vector_and_raster_shares_agree_within_the_cell_error(tmp_path):
    cx, cy = X0 + 5000, Y0 + 5000
    zone_geom = rotate(box(cx - 3100, cy - 2300, cx + 2900, cy + 2600), 17)
    zones = gdf([zone_geom], id=["Z"])
    lu = gdf([rotate(box(cx - 4000, cy - 1000, cx + 1000, cy + 800), 33),   # R
              Point(cx + 1500, cy + 1200).buffer(1800),                      # G
              Point(cx - 1500, cy - 1700).buffer(1300),                      # M (overlaps R)
              rotate(box(cx + 500, cy - 2500, cx + 2500, cy - 500), -12)],   # R again
             code=["R", "G", "M", "R"])
    with pytest.warns(JixiGeoWarning, match="overlap"):  # R and G overlap: G (first) keeps it
        vec = share_split(zones, lu, zone_key="id", class_key="code")
    vec = vec.set_index("class").share_pct
    for cell in (50, 20):
        p = rasterize(lu, resolution_m=cell, path=tmp_path / f"lu{cell}.tif", value_col="code",
                      bounds=(cx - 5000, cy - 5000, cx + 5000, cy + 5000))
        ras = zonal_composition(p, zones).set_index("class").share_pct
        assert set(ras.index) == set(vec.index) == {"G", "M", "R", UNCLASSIFIED}
        for cls in vec.index:
            if cls == UNCLASSIFIED:
                pieces = [lu.union_all().intersection(zone_geom).boundary]
            else:
                pieces = [lu[lu.code == cls].union_all().intersection(zone_geom).boundary]
            bound = _cell_error_bound_pct(zone_geom, pieces, cell)
            assert abs(ras[cls] - vec[cls]) <= bound, (cell, cls, ras[cls], vec[cls], bound)
        # in practice far better than the bound: errors along boundaries cancel
        assert np.abs(ras - vec[ras.index]).max() < 0.5


def test_bundled_pattern_vector_vs_raster_by_county(tmp_path):
    # zones: the 9 counties; classes: the pattern's elements (which overlap each other:
    # both routes give the overlap to the element first in sorted order)
    pattern = load_layer("pattern")
    cell = 250
    with pytest.warns(JixiGeoWarning, match="overlap"):
        vec = share_split("counties", pattern, zone_key="id", class_key="element", units="km2")
    counties = load_layer("counties", crs="EPSG:4553").set_index("id")
    p = rasterize(pattern, resolution_m=cell, path=tmp_path / "pattern.tif", value_col="element",
                  bounds=tuple(counties.total_bounds))
    ras = zonal_composition(p, "counties", zone_key="id", units="km2", window_size=512)
    assert ras.attrs["zonal_composition"]["windows_read"] > 1
    merged = vec.merge(ras, on=["zone", "class"], how="outer", suffixes=("_vec", "_ras")).fillna(
        {"share_pct_vec": 0, "share_pct_ras": 0})
    for _, r in merged.iterrows():
        z = counties.geometry[r.zone]
        # element outlines inside the county are bounded by all pattern outlines there
        inner = pattern.to_crs(4553).boundary.union_all().intersection(z)
        bound = _cell_error_bound_pct(z, [inner], cell)
        assert abs(r.share_pct_vec - r.share_pct_ras) <= bound, r
    assert (merged.share_pct_vec - merged.share_pct_ras).abs().max() < 0.5
