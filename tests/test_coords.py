"""GCJ-02 / BD-09 conversions: published reference pairs and properties.

Reference values: the test file of the widely used open-source implementation
wandergis/coordtransform (test/app.js), which prints, for the input
(116.404, 39.915): wgs84togcj02 → (116.41024449916938, 39.91640428150164),
gcj02towgs84 (one-step) → (116.39775550083061, 39.91359571849836),
gcj02tobd09 → (116.41036949371029, 39.92133699351021),
bd09togcj02 (one-step) → (116.39762729119315, 39.90865673957631).
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from jixi_geo import coords as C
from jixi_geo.crs import JIXI_BOUNDS
from jixi_geo.errors import CRSError, InputError

GEOD = pyproj.Geod(ellps="WGS84")
REF_IN = (116.404, 39.915)


def _jixi_grid(n: int = 40):
    x0, y0, x1, y1 = JIXI_BOUNDS
    lon, lat = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(
    "func, kwargs, expected",
    [
        (C.wgs84_to_gcj02, {}, (116.41024449916938, 39.91640428150164)),
        (C.gcj02_to_wgs84, {"exact": False}, (116.39775550083061, 39.91359571849836)),
        (C.gcj02_to_bd09, {}, (116.41036949371029, 39.92133699351021)),
        (C.bd09_to_gcj02, {"exact": False}, (116.39762729119315, 39.90865673957631)),
    ],
)
def test_published_reference_pairs(func, kwargs, expected):
    lon, lat = func(*REF_IN, **kwargs)
    assert lon == pytest.approx(expected[0], abs=1e-12)
    assert lat == pytest.approx(expected[1], abs=1e-12)


def test_gcj02_offset_in_jixi_is_a_few_hundred_metres():
    lon, lat = _jixi_grid()
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    dist = GEOD.inv(lon, lat, glon, glat)[2]
    assert dist.min() > 100 and dist.max() < 700
    # and it is an offset to the north-east (positive in both) everywhere in Jixi
    assert np.all(glon > lon) and np.all(glat > lat)


def test_bd09_adds_a_further_offset():
    lon, lat = _jixi_grid(10)
    blon, blat = C.wgs84_to_bd09(lon, lat)
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    extra = GEOD.inv(glon, glat, blon, blat)[2]
    assert extra.min() > 500 and extra.max() < 1500  # 0.0065°/0.006° ≈ 700–900 m


def test_exact_inverse_round_trip():
    lon, lat = _jixi_grid()
    back = C.gcj02_to_wgs84(*C.wgs84_to_gcj02(lon, lat))
    err = np.maximum(np.abs(back[0] - lon), np.abs(back[1] - lat))
    assert err.max() < 1e-7
    # the one-step inverse is markedly worse (metres), which is why exact is the default
    rough = C.gcj02_to_wgs84(*C.wgs84_to_gcj02(lon, lat), exact=False)
    rough_err = np.maximum(np.abs(rough[0] - lon), np.abs(rough[1] - lat))
    assert 1e-6 < rough_err.max() < 1e-4


def test_bd09_round_trips():
    lon, lat = _jixi_grid()
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    g2 = C.bd09_to_gcj02(*C.gcj02_to_bd09(glon, glat))
    assert np.max(np.abs(g2[0] - glon)) < 1e-7 and np.max(np.abs(g2[1] - glat)) < 1e-7
    w2 = C.bd09_to_wgs84(*C.wgs84_to_bd09(lon, lat))
    assert np.max(np.abs(w2[0] - lon)) < 1e-7 and np.max(np.abs(w2[1] - lat)) < 1e-7


@pytest.mark.parametrize("lon, lat", [(2.35, 48.85), (135.07, 48.48), (-74.0, 40.7), (150.0, 45.0)])
def test_outside_china_gcj02_equals_wgs84(lon, lat):
    # Paris, Khabarovsk (just east of the box's 135.05°E), New York, Pacific
    assert C.out_of_china(lon, lat)
    assert C.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert C.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_out_of_china_is_vectorised_and_jixi_is_inside():
    lon, lat = _jixi_grid(5)
    assert not C.out_of_china(lon, lat).any()
    mixed = C.out_of_china(np.array([131.0, 2.35]), np.array([45.3, 48.85]))
    assert mixed.tolist() == [False, True]
    glon, glat = C.wgs84_to_gcj02(np.array([131.0, 2.35]), np.array([45.3, 48.85]))
    assert glon[1] == 2.35 and glat[1] == 48.85 and glon[0] != 131.0


def test_scalar_and_array_shapes():
    out = C.wgs84_to_gcj02(131.0, 45.3)
    assert isinstance(out[0], float) and isinstance(out[1], float)
    arr = C.gcj02_to_wgs84([131.0, 131.1], [45.3, 45.4])
    assert isinstance(arr[0], np.ndarray) and arr[0].shape == (2,)
    # broadcasting: one latitude for several longitudes
    b = C.wgs84_to_gcj02(np.array([131.0, 131.5]), 45.3)
    assert b[1].shape == (2,)
    with pytest.raises(InputError, match="same length"):
        C.wgs84_to_gcj02([131.0, 131.1, 131.2], [45.3, 45.4])


def test_nan_propagates_without_hanging():
    lon, lat = C.gcj02_to_wgs84(np.array([np.nan, 131.0]), np.array([45.0, 45.3]))
    assert np.isnan(lon[0]) and np.isfinite(lon[1])
    lon, lat = C.bd09_to_wgs84(np.array([131.0, np.inf]), np.array([45.3, 45.0]))
    assert np.isfinite(lon[0])


def test_to_wgs84_dispatch():
    w = (131.0, 45.3)
    g = C.wgs84_to_gcj02(*w)
    b = C.wgs84_to_bd09(*w)
    assert C.to_wgs84(*w, system="wgs84") == w
    assert C.to_wgs84(*w, system="cgcs2000") == w
    for system, src in (("gcj02", g), ("GCJ-02", g), ("bd09", b), ("BD-09", b)):
        lon, lat = C.to_wgs84(*src, system=system)
        assert lon == pytest.approx(w[0], abs=1e-7) and lat == pytest.approx(w[1], abs=1e-7)
    with pytest.raises(CRSError, match="'gcj02'"):
        C.to_wgs84(*w, system="wgs-72")


def test_system_is_keyword_only():
    with pytest.raises(TypeError):
        C.to_wgs84(131.0, 45.3, "gcj02")  # type: ignore[misc]
