"""Rasterise layers to GeoTIFF and measure what a raster holds inside zones.

- :func:`rasterize` burns a layer into a tiled, compressed GeoTIFF in EPSG:4553:
  a mask (1 inside any feature) or a class raster (integer codes 1, 2, … for the
  values of a column, with the code → value lookup stored in the file's tags).
  0 is nodata: "no feature here". The file is written tile by tile and atomically.
- :func:`zonal_composition` counts, per zone, the cells of each class whose centre
  lies in the zone, reading the raster **window by window** so a raster far larger
  than memory can be summarised.

Raster areas are planar: cell count × the pixel area in the raster's own projected
CRS (in EPSG:4553 that is within about 0.1 % of the geodesic area in Jixi, see
:func:`jixi_geo.overlap.overlap`). Geographic rasters (cells in degrees, whose
ground area changes with latitude) are refused rather than measured wrongly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import shapely
from rasterio.transform import Affine
from rasterio.windows import Window

from ._io import atomic_path
from ._validate import resolve_layer, validate_layer
from .crs import ANALYSIS_CRS
from .errors import CRSError, InputError, JixiGeoWarning
from .overlap import UNCLASSIFIED, dissolve_by_key
from .units import AreaUnit, check_area_unit, convert_area

__all__ = ["rasterize", "zonal_composition", "read_class_lookup", "BLOCK_SIZE",
           "DEFAULT_WINDOW_SIZE", "TAG_KIND", "TAG_CLASSES", "TAG_VALUE_COL"]

log = logging.getLogger(__name__)

#: Tile size (pixels) of the GeoTIFFs :func:`rasterize` writes.
BLOCK_SIZE = 256
#: Side (pixels) of the windows :func:`zonal_composition` reads by default (4 MB of int32).
DEFAULT_WINDOW_SIZE = 1024
#: GeoTIFF tag: ``"mask"`` or ``"class"``.
TAG_KIND = "JIXI_KIND"
#: GeoTIFF tag: JSON object code → class value, e.g. ``{"1": "G1", "2": "R2"}``.
TAG_CLASSES = "JIXI_CLASSES"
#: GeoTIFF tag: the column the classes came from.
TAG_VALUE_COL = "JIXI_VALUE_COL"

_MAX_CELLS = 2**34  # a sanity limit: ~17 billion cells (a typo in resolution_m)


def _json_value(v):
    if isinstance(v, np.generic):
        v = v.item()
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)


def _grid(bounds, resolution_m: float, given: bool):
    minx, miny, maxx, maxy = bounds
    if not given:  # snap outward to multiples of the resolution, so grids line up
        minx = math.floor(minx / resolution_m) * resolution_m
        miny = math.floor(miny / resolution_m) * resolution_m
        maxx = math.ceil(maxx / resolution_m) * resolution_m
        maxy = math.ceil(maxy / resolution_m) * resolution_m
    width = max(1, math.ceil(round((maxx - minx) / resolution_m, 9)))
    height = max(1, math.ceil(round((maxy - miny) / resolution_m, 9)))
    transform = Affine(resolution_m, 0.0, minx, 0.0, -resolution_m, maxy)  # north-up
    return transform, width, height


def rasterize(
    layer,
    *,
    resolution_m: float,
    path,
    value_col: str | None = None,
    all_touched: bool = False,
    bounds: tuple[float, float, float, float] | None = None,
    make_valid: bool = False,
) -> Path:
    """Burn a layer into a GeoTIFF (EPSG:4553, deflate-compressed, 256×256 tiles, nodata 0).

    Parameters
    ----------
    layer : str or GeoDataFrame
        A bundled layer name or a GeoDataFrame in any CRS (transformed to
        EPSG:4553). Polygons, lines or points, but one geometry type.
    resolution_m : float, keyword-only
        Cell size in metres (square cells).
    path : str or path-like, keyword-only
        The GeoTIFF to write. It appears only once complete (written to a
        temporary file next to it, then moved into place).
    value_col : str, optional, keyword-only
        ``None`` writes a **mask**: 1 where a feature covers the cell, else 0.
        A column name writes a **class raster**: the column's distinct values,
        sorted by ``str(value)``, get codes 1, 2, 3 … (uint8, or uint16 beyond 255
        classes); 0 stays "no feature". The lookup is stored in the GeoTIFF tag
        ``JIXI_CLASSES`` as JSON ``{"1": value, …}`` (read it back with
        :func:`read_class_lookup`). Where features of different classes overlap
        the class first in sorted order wins (as in
        :func:`jixi_geo.overlap.share_split`).
    all_touched : bool, keyword-only
        Burn every cell a feature touches, instead of the cells whose centre is
        inside (GDAL's rule).
    bounds : (minx, miny, maxx, maxy), optional, keyword-only
        Extent in EPSG:4553 metres. The grid starts at (minx, maxy) and covers
        whole cells, extending right and down if needed. By default the layer's
        extent snapped outward to multiples of ``resolution_m`` (so rasters of the
        same resolution share a grid).
    make_valid : bool, keyword-only
        Repair invalid geometries instead of raising.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        A bad resolution, bounds or ``value_col``; too many classes or cells.
    CRSError, InvalidGeometryError
        As :func:`jixi_geo.overlap.overlap` (missing CRS, mixed types, invalid geometries).

    Examples
    --------
    >>> import geopandas as gpd, tempfile, os
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"code": ["R", "G"]}, crs="EPSG:4553",
    ...     geometry=[box(500_000, 5_000_000, 500_500, 5_001_000), box(500_500, 5_000_000, 501_000, 5_001_000)])
    >>> p = rasterize(g, resolution_m=10, path=os.path.join(tempfile.mkdtemp(), "lu.tif"), value_col="code")
    >>> read_class_lookup(p)
    {1: 'G', 2: 'R'}
    """
    from ._args import amount

    res = amount(resolution_m, name="resolution_m", positive=True)
    gdf, label = resolve_layer(layer, arg="layer")
    gdf = validate_layer(gdf, name=label, geom_type="any", key=value_col, make_valid=make_valid)
    gdf = gdf.to_crs(ANALYSIS_CRS)

    if bounds is None:
        transform, width, height = _grid(tuple(gdf.total_bounds), res, given=False)
    else:
        try:
            b = tuple(float(v) for v in bounds)
        except (TypeError, ValueError):
            b = ()
        if len(b) != 4 or not all(map(math.isfinite, b)) or b[0] >= b[2] or b[1] >= b[3]:
            raise InputError(f"bounds must be (minx, miny, maxx, maxy) in EPSG:4553 metres with "
                             f"minx < maxx and miny < maxy; got {bounds!r}")
        transform, width, height = _grid(b, res, given=True)
    if width * height > _MAX_CELLS:
        raise InputError(f"a {width} × {height} grid at {res} m is too large "
                         f"(> {_MAX_CELLS} cells); use a coarser resolution_m or smaller bounds")

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    tags = {TAG_KIND: "mask" if value_col is None else "class", "JIXI_SOURCE": label,
            "JIXI_NODATA_MEANS": "no feature covers the cell",
            "JIXI_CELL_RULE": "all touched" if all_touched else "cell centre inside"}
    if value_col is None:
        codes = np.ones(len(geoms), dtype=np.int64)
        dtype = "uint8"
    else:
        values = gdf[value_col].to_numpy()
        uniq = sorted(pd.unique(values), key=str)
        if len(uniq) > 65_535:
            raise InputError(f"{value_col!r} has {len(uniq)} distinct values; a class raster holds "
                             "at most 65 535 (uint16). Group the classes first")
        code_of = {v: i + 1 for i, v in enumerate(uniq)}
        codes = np.array([code_of[v] for v in values], dtype=np.int64)
        dtype = "uint8" if len(uniq) <= 255 else "uint16"
        tags[TAG_VALUE_COL] = value_col
        tags[TAG_CLASSES] = json.dumps({str(c): _json_value(v) for v, c in code_of.items()},
                                       ensure_ascii=False)
        tags["JIXI_CLASS_PRIORITY"] = "where classes overlap, the lowest code (first in sorted order) wins"
    # burn high codes first so that the lowest code (first class in sorted order) wins
    burn = np.argsort(-codes, kind="stable")
    geoms, codes = geoms[burn], codes[burn]
    tree = shapely.STRtree(geoms)

    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": dtype,
               "crs": ANALYSIS_CRS.to_wkt(), "transform": transform, "nodata": 0,
               "compress": "deflate", "tiled": True, "blockxsize": BLOCK_SIZE,
               "blockysize": BLOCK_SIZE}
    path = Path(path)
    with atomic_path(path, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.update_tags(**tags)
            dst.set_band_description(1, "mask" if value_col is None else f"class of {value_col}")
            for row in range(0, height, BLOCK_SIZE):
                for col in range(0, width, BLOCK_SIZE):
                    win = Window(col, row, min(BLOCK_SIZE, width - col), min(BLOCK_SIZE, height - row))
                    wt = _window_transform(transform, win)
                    hit = np.sort(tree.query(_window_box(transform, win)))
                    if len(hit) == 0:
                        continue  # tiles never written read back as nodata (0)
                    arr = rasterio.features.rasterize(
                        zip(geoms[hit], codes[hit].tolist(), strict=True), out_shape=(win.height, win.width),
                        transform=wt, fill=0, all_touched=all_touched, dtype=dtype)
                    dst.write(arr, 1, window=win)
    log.info("wrote %s (%d × %d cells at %s m, %s)", path, width, height, res, tags[TAG_KIND])
    return path


@contextlib.contextmanager
def _open_geotiff(path):
    """Open a user's raster only as a GeoTIFF, writing nothing beside it (no .aux.xml)."""
    from .readers.formats import identify_raster

    path = identify_raster(path)
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path, driver="GTiff") as ds:
        yield ds


def read_class_lookup(path) -> dict[int, object]:
    """The code → class value lookup of a class raster written by :func:`rasterize`.

    Returns an empty dict for a mask or for a GeoTIFF without the tag.
    """
    with _open_geotiff(path) as ds:
        text = ds.tags().get(TAG_CLASSES)
    return {int(k): v for k, v in json.loads(text).items()} if text else {}


def _window_transform(t, win: Window):
    """The affine transform of a window (computed directly, without rasterio's helpers)."""
    return type(t)(t.a, t.b, t.a * win.col_off + t.b * win.row_off + t.c,
                   t.d, t.e, t.d * win.col_off + t.e * win.row_off + t.f)


def _window_box(t, win: Window):
    """The window's footprint as a shapely box (its corners' bounding box)."""
    cs = np.array([win.col_off, win.col_off + win.width] * 2, dtype=float)
    rs = np.array([win.row_off] * 2 + [win.row_off + win.height] * 2, dtype=float)
    xs, ys = t.a * cs + t.b * rs + t.c, t.d * cs + t.e * rs + t.f
    return shapely.box(xs.min(), ys.min(), xs.max(), ys.max())


def _read_window(ds, window: Window) -> np.ndarray:
    """Read band 1 of one window (the only place the raster's cells are read)."""
    return ds.read(1, window=window)


def zonal_composition(
    raster_path,
    zones,
    *,
    zone_key: str = "id",
    classes: Mapping | None = None,
    nodata: float | None = None,
    units: AreaUnit = "ha",
    window_size: int = DEFAULT_WINDOW_SIZE,
    make_valid: bool = False,
) -> pd.DataFrame:
    """Cell count, area and share of each raster class inside each zone.

    Parameters
    ----------
    raster_path : str or path-like
        A single-band raster in a **projected** CRS (band 1 is read).
    zones : str or GeoDataFrame
        Polygon zones in any CRS, transformed to the raster's CRS. Rows sharing a
        ``zone_key`` value are dissolved into one zone.
    zone_key : str, keyword-only
        Column identifying zones.
    classes : mapping of {cell value: label}, optional, keyword-only
        Labels for cell values. By default the lookup stored by :func:`rasterize`
        (``JIXI_CLASSES`` tag) if any, else the cell values themselves. Values
        missing from the mapping are labelled with the value.
    nodata : number, optional, keyword-only
        The cell value meaning "no class"; by default the raster's nodata value.
        Such cells are reported in a class ``"unclassified"`` row per zone (as in
        :func:`jixi_geo.overlap.share_split`), so a zone's shares add up to 100 %.
    units : {"ha", "m2", "km2", "mu"}, keyword-only
        Area unit.
    window_size : int, keyword-only
        Side, in pixels, of the square windows read one at a time; memory use is
        about ``window_size² ×`` the cell size in bytes, whatever the raster size.
        Only windows that intersect a zone's bounds are read, each once.
    make_valid : bool, keyword-only
        Repair invalid zone polygons instead of raising.

    Returns
    -------
    pandas.DataFrame
        Per zone (first-appearance order) one row per class present (sorted by cell
        value), then the ``"unclassified"`` row if the raster has a nodata value;
        columns ``zone``, ``zone_name_zh`` (if the zones have it), ``class`` (label),
        ``value`` (cell value; the nodata value for "unclassified"), ``cells``,
        ``area_<units>`` (cells × pixel area in the raster's CRS), ``share_pct``
        (of the zone's cells) and ``zone_cells``. A cell belongs to a zone when its
        centre lies inside the zone. ``result.attrs["zonal_composition"]`` records
        the pixel area (m²), the number of windows read and the CRS.

    Warns
    -----
    JixiGeoWarning
        For zones that extend beyond the raster (only the part inside is counted)
        or that contain no cell centre (their shares are NaN).

    Raises
    ------
    CRSError
        The raster has no CRS or a geographic one (reproject it first, e.g.
        ``gdalwarp -t_srs EPSG:4553``); the zones have no CRS.
    InputError
        A bad ``window_size``, ``classes`` or unit.

    Examples
    --------
    >>> import geopandas as gpd, tempfile, os
    >>> from shapely import box
    >>> lu = gpd.GeoDataFrame({"code": ["R"]}, geometry=[box(500_000, 5_000_000, 500_500, 5_001_000)],
    ...                       crs="EPSG:4553")
    >>> p = rasterize(lu, resolution_m=10, path=os.path.join(tempfile.mkdtemp(), "lu.tif"),
    ...               value_col="code", bounds=(500_000, 5_000_000, 501_000, 5_001_000))
    >>> z = gpd.GeoDataFrame({"id": ["Z"]}, geometry=[box(500_250, 5_000_000, 500_750, 5_001_000)],
    ...                      crs="EPSG:4553")
    >>> zonal_composition(p, z)[["class", "cells", "area_ha", "share_pct"]]
              class  cells  area_ha  share_pct
    0             R   2500     25.0       50.0
    1  unclassified   2500     25.0       50.0
    """
    units = check_area_unit(units)
    if isinstance(window_size, bool) or not isinstance(window_size, (int, np.integer)) or window_size < 1:
        raise InputError(f"window_size must be a positive whole number of pixels; got {window_size!r}")
    if classes is not None and not isinstance(classes, Mapping):
        raise InputError(f"classes must be a mapping {{cell value: label}}; got {type(classes).__name__}")
    gdf, label = resolve_layer(zones, arg="zones")
    gdf = validate_layer(gdf, name=label, geom_type="polygon", key=zone_key, make_valid=make_valid)

    with _open_geotiff(raster_path) as ds:
        if ds.crs is None:
            raise CRSError(f"raster {raster_path} has no CRS; assign the one its cells are in "
                           "(gdal_edit.py -a_srs EPSG:4553 FILE) before measuring areas")
        if not ds.crs.is_projected:
            raise CRSError(
                f"raster {raster_path} is in a geographic CRS ({ds.crs.to_string()}): its cells are in "
                "degrees and their ground area changes with latitude. Reproject it to a projected "
                "CRS first, e.g. `gdalwarp -t_srs EPSG:4553 -tr 10 10 in.tif out.tif`, or rasterise "
                "the source layer with jixi_geo.raster.rasterize")
        unit_m = ds.crs.linear_units_factor[1]
        t = ds.transform
        pixel_m2 = abs(t.a * t.e - t.b * t.d) * unit_m**2
        nd = ds.nodata if nodata is None else nodata
        lookup = dict(classes) if classes is not None else {
            int(k): v for k, v in json.loads(ds.tags().get(TAG_CLASSES, "{}")).items()}

        gdf = gdf.to_crs(ds.crs.to_wkt())
        keys, geoms, names = dissolve_by_key(gdf, zone_key)
        raster_box = shapely.box(*ds.bounds)
        outside = [k for k, g in zip(keys, geoms, strict=True)
                   if shapely.difference(g, raster_box).area > 1e-9 * max(g.area, 1.0)]

        counts: list[dict] = [{} for _ in keys]
        tree = shapely.STRtree(geoms)
        r0, c0, r1, c1 = 0, 0, ds.height, ds.width
        if t.b == 0 and t.d == 0:  # north-up: read only windows within the zones' extent
            zx0, zy0, zx1, zy1 = shapely.total_bounds(geoms)
            cols = sorted(((zx0 - t.c) / t.a, (zx1 - t.c) / t.a))
            rows_ = sorted(((zy0 - t.f) / t.e, (zy1 - t.f) / t.e))
            c0, c1 = max(0, math.floor(cols[0])), min(ds.width, math.ceil(cols[1]))
            r0, r1 = max(0, math.floor(rows_[0])), min(ds.height, math.ceil(rows_[1]))
        n_windows = 0
        for row in range(r0, r1, window_size):
            for col in range(c0, c1, window_size):
                win = Window(col, row, min(window_size, c1 - col), min(window_size, r1 - row))
                wbox = _window_box(t, win)
                hit = np.sort(tree.query(wbox, predicate="intersects"))
                if len(hit) == 0:
                    continue
                data = _read_window(ds, win)
                n_windows += 1
                wt = _window_transform(t, win)
                for z in hit:
                    inside = rasterio.features.geometry_mask(
                        [geoms[z]], out_shape=data.shape, transform=wt, invert=True)
                    if not inside.any():
                        continue
                    vals, n = np.unique(data[inside], return_counts=True)
                    acc = counts[z]
                    for v, c in zip(vals.tolist(), n.tolist(), strict=True):
                        acc[v] = acc.get(v, 0) + c

    def is_nd(v) -> bool:
        if nd is None:
            return False
        return (isinstance(v, float) and math.isnan(v) and math.isnan(nd)) or v == nd

    rows, empty = [], []
    for z, acc in enumerate(counts):
        total = sum(acc.values())
        if total == 0:
            empty.append(keys[z])
        for v in sorted(v for v in acc if not is_nd(v)):
            rows.append((z, lookup.get(v, v), v, acc[v], total))
        if nd is not None:
            rows.append((z, UNCLASSIFIED, nd, sum(c for v, c in acc.items() if is_nd(v)), total))
    outside = [k for k in outside if k not in empty]
    if outside:
        warnings.warn(f"{label}: zones {outside[:10]} extend beyond the raster {raster_path}; only the "
                      "part inside it is counted", JixiGeoWarning, stacklevel=2)
    if empty:
        warnings.warn(f"{label}: zones {empty[:10]} contain no cell centre of the raster (smaller than "
                      "a cell or outside it); their shares are NaN. Use a finer raster",
                      JixiGeoWarning, stacklevel=2)

    zi = np.array([r[0] for r in rows], dtype=int)
    cells = np.array([r[3] for r in rows], dtype=np.int64)
    zone_cells = np.array([r[4] for r in rows], dtype=np.int64)
    out = {"zone": keys[zi] if len(rows) else np.array([], dtype=object)}
    if names is not None:
        out["zone_name_zh"] = names[zi]
    out["class"] = np.array([r[1] for r in rows], dtype=object)
    out["value"] = np.array([r[2] for r in rows], dtype=object)
    out["cells"] = cells
    out[f"area_{units}"] = convert_area(cells * pixel_m2, "m2", units)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_pct"] = np.where(zone_cells > 0, cells / np.maximum(zone_cells, 1) * 100.0, np.nan)
    out["zone_cells"] = zone_cells
    result = pd.DataFrame(out)
    result.attrs = {"zonal_composition": {
        "raster": str(raster_path), "zones": label, "zone_key": zone_key, "units": units,
        "pixel_area_m2": pixel_m2, "windows_read": n_windows, "window_size": int(window_size),
        "crs": gdf.crs.to_string(), "area": "planar, cells × pixel area in the raster's CRS"}}
    return result
