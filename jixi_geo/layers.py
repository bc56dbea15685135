"""The bundled layer catalogue: list and load the modelled layers.

Layers are GeoPackages in ``layers/`` described by ``layers/catalog.json``,
which the build step (``jixi-geo build-layers``) writes. The first read of a
GeoPackage goes through GDAL (pyogrio); a copy of the table is then kept in the
persistent cache (:mod:`jixi_geo._cache`, keyed by the file's SHA-256), so later
processes load it without GDAL. A copy is stored only if it reads back identical
(columns, dtypes, values, WKB geometries, CRS).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import _cache
from ._paths import layers_dir
from .errors import CRSError, LayerNotFoundError

__all__ = ["list_layers", "load_layer", "layer_path", "layer_info", "catalog"]

_LIST_COLUMNS = ["name", "title_zh", "title_en", "geometry_type", "n_features", "crs",
                 "source", "precision"]


@lru_cache(maxsize=1)
def _catalog_cached(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def catalog() -> dict:
    """The parsed ``catalog.json`` (a dict with ``version`` and ``layers``)."""
    path = layers_dir() / "catalog.json"
    if not path.exists():
        raise LayerNotFoundError(
            f"no layer catalogue at {path}; build the layers with `jixi-geo build-layers`"
        )
    return _catalog_cached(str(path), path.stat().st_mtime)


def _entries() -> dict[str, dict]:
    return {e["name"]: e for e in catalog()["layers"]}


def layer_info(name: str) -> dict:
    """The catalogue entry of one layer (file, CRS, row count, checksums, source …).

    Raises
    ------
    LayerNotFoundError
        If ``name`` is not in the catalogue; the message lists the known names.
    """
    entries = _entries()
    if name not in entries:
        raise LayerNotFoundError(
            f"layer {name!r} is not in the catalogue; available layers are: "
            f"{', '.join(sorted(entries))}"
        )
    return entries[name]


def layer_path(name: str) -> Path:
    """Path of the GeoPackage holding layer ``name``."""
    return layers_dir() / layer_info(name)["file"]


def list_layers() -> pd.DataFrame:
    """The bundled layers, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, title_zh, title_en, geometry_type, n_features, crs, source,
        precision``.

    Examples
    --------
    >>> df = list_layers()
    >>> "counties" in set(df["name"])
    True
    """
    rows = [{k: e.get(k) for k in _LIST_COLUMNS} for e in catalog()["layers"]]
    return pd.DataFrame(rows, columns=_LIST_COLUMNS)


@lru_cache(maxsize=64)
def _read(path: str, layer: str, mtime: float) -> gpd.GeoDataFrame:
    if not _cache.enabled():
        return _read_gdal(path, layer)
    k = _cache.key("layer", sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest(), layer=layer)
    gdf = _cache.load("layer", k, _unpack_frame)
    if gdf is None:
        gdf = _read_gdal(path, layer)
        arrays = _pack_frame(gdf)
        if arrays is not None and _identical(_unpack_frame(arrays), gdf):
            _cache.store("layer", k, arrays)
    return gdf


def _read_gdal(path: str, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer, engine="pyogrio")


def _pack_frame(gdf: gpd.GeoDataFrame) -> dict[str, np.ndarray] | None:
    """A layer as plain arrays for :mod:`jixi_geo._cache` (no pickles), or None if a column is of
    a kind not handled here (the layer is then read through GDAL each time)."""
    if not isinstance(gdf.index, pd.RangeIndex) or gdf.index.start != 0 or gdf.index.step != 1 or gdf.crs is None:
        return None
    geom = gdf.geometry.name
    names = [c for c in gdf.columns if c != geom]
    if not all(isinstance(c, str) for c in names):
        return None
    blob, offsets = _cache.pack_geoms(gdf.geometry.values)
    arrays = {"names": np.array(names + [geom], dtype=str), "crs": np.array(gdf.crs.to_wkt()),
              "geom_blob": blob, "geom_offsets": offsets}
    kinds = []
    for i, c in enumerate(names):
        col = gdf[c]
        if isinstance(col.dtype, pd.StringDtype):
            missing = col.isna().to_numpy()
            arrays[f"c{i}"] = np.array(col.fillna("").astype(object).tolist(), dtype=str).reshape(len(col))
            arrays[f"m{i}"] = missing
            kinds.append("str")
        elif isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf":
            arrays[f"c{i}"] = col.to_numpy()
            kinds.append("num")
        else:
            return None
    arrays["kinds"] = np.array(kinds + ["geometry"], dtype=str)
    return arrays


def _unpack_frame(arrays: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    """The layer :func:`_pack_frame` stored (string columns as pandas' default ``str`` dtype)."""
    names, kinds = arrays["names"].tolist(), arrays["kinds"].tolist()
    data = {}
    for i, (c, kind) in enumerate(zip(names[:-1], kinds[:-1], strict=True)):
        values = arrays[f"c{i}"]
        if kind == "str":
            s = pd.Series(values.astype(object), dtype="str")
            data[c] = s.mask(arrays[f"m{i}"])
        else:
            data[c] = values
    geoms = _cache.unpack_geoms(arrays["geom_blob"], arrays["geom_offsets"])
    crs = pyproj.CRS.from_wkt(str(arrays["crs"]))
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs, name=names[-1]), crs=crs)


def _identical(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    """Same columns, dtypes and values, the same WKB geometries and CRS."""
    if list(a.columns) != list(b.columns) or a.geometry.name != b.geometry.name or a.crs != b.crs:
        return False
    try:
        pd.testing.assert_frame_equal(a.drop(columns=a.geometry.name), b.drop(columns=b.geometry.name),
                                      check_exact=True)
    except AssertionError:
        return False
    return bool((shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all())


def load_layer(name: str, *, crs=None) -> gpd.GeoDataFrame:
    """Load a bundled layer.

    Parameters
    ----------
    name : str
        A name from :func:`list_layers`, e.g. ``"counties"`` or ``"redline_zones"``.
    crs : optional
        Transform to this CRS (anything pyproj accepts, e.g. ``"EPSG:4553"``);
        by default the stored CRS, EPSG:4490.

    Returns
    -------
    geopandas.GeoDataFrame
        A fresh copy; changing it does not change later loads.

    Raises
    ------
    LayerNotFoundError
        If the name is unknown (the message lists the available layers).
    CRSError
        If ``crs`` is not a CRS pyproj understands.

    Examples
    --------
    >>> counties = load_layer("counties")
    >>> counties.crs.to_epsg(), len(counties)
    (4490, 9)
    """
    info = layer_info(name)
    path = layers_dir() / info["file"]
    gdf = _read(str(path), info.get("layer", name), path.stat().st_mtime).copy()
    if crs is not None:
        gdf = gdf.to_crs(_target_crs(crs, name))
    return gdf


def _target_crs(crs, name: str) -> pyproj.CRS:
    """``crs`` as a pyproj CRS, or jixi_geo's CRSError naming the value and the fix."""
    if isinstance(crs, (bool, float)):
        crs = repr(crs)  # neither a flag nor a fraction (4490.5, nan) is an EPSG code
    try:
        return pyproj.CRS.from_user_input(crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as e:
        raise CRSError(
            f"load_layer({name!r}, crs={crs!r})：pyproj 无法识别此坐标系。/ crs={crs!r} is not a coordinate "
            f"reference system pyproj understands ({e}); pass e.g. crs='EPSG:4490' (CGCS2000 lon/lat) or "
            "crs='EPSG:4553' (CGCS2000 Gauss-Kruger CM 132E, metres)"
        ) from None
