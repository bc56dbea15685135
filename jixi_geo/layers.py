"""The bundled layer catalogue: list and load the modelled layers.

Layers are GeoPackages in ``layers/`` described by ``layers/catalog.json``,
which the build step (``jixi-geo build-layers``) writes.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj

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
    return gpd.read_file(path, layer=layer, engine="pyogrio")


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
