"""Zone layers prepared once for fast site checks (private).

A zone layer is projected to EPSG:4553, each zone cut into square tiles of
``TILE_M`` metres and the tiles indexed in an STRtree. Point-in-polygon and
nearest-zone queries then test small tile polygons instead of whole zones with
thousands of vertices; tiles of one zone are disjoint, so per-tile overlap areas
add up exactly to the overlap with the zone. Prepared layers are cached by the
zones' content checksum, in memory and on disk (:mod:`jixi_geo._cache`).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .crs import ANALYSIS_CRS

#: Tile size (metres) zones are cut into for the spatial index.
TILE_M = 5_000.0

_CACHE: dict[str, PreparedZones] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PreparedZones:
    zones: gpd.GeoDataFrame          # EPSG:4553, positional index
    geoms: np.ndarray                # whole zone geometries (EPSG:4553)
    tiles: np.ndarray                # tile geometries
    tile_zone: np.ndarray            # zone position of each tile
    tree: shapely.STRtree
    sha256: str


def zones_sha256(zones: gpd.GeoDataFrame) -> str:
    """Checksum of a zone layer's geometry and key attributes."""
    h = hashlib.sha256(zones.crs.to_string().encode() if zones.crs else b"none")
    for col in [c for c in ("id", "name_zh", "control_level") if c in zones.columns]:
        h.update("\x1f".join(map(str, zones[col].tolist())).encode())
    h.update(b"".join(shapely.to_wkb(zones.geometry.values)))
    return h.hexdigest()


def tile(geoms: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    tiles, owner = [], []
    for i, g in enumerate(geoms):
        x0, y0, x1, y1 = g.bounds
        xs = np.arange(np.floor(x0 / size) * size, x1, size)
        ys = np.arange(np.floor(y0 / size) * size, y1, size)
        gx, gy = np.meshgrid(xs, ys)
        boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size, gy.ravel() + size)
        boxes = boxes[shapely.intersects(g, boxes)]
        pieces = shapely.intersection(g, boxes)
        pieces = pieces[~shapely.is_empty(pieces) & (shapely.area(pieces) > 0)]
        tiles.append(pieces)
        owner.append(np.full(len(pieces), i))
    return np.concatenate(tiles), np.concatenate(owner)


def prepare(zones: gpd.GeoDataFrame, *, tile_m: float = TILE_M) -> PreparedZones:
    """Project, tile and index a zone layer (cached by content, in memory and on disk)."""
    sha = zones_sha256(zones)
    key = sha + f":{tile_m}"
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    from . import _cache

    ckey = _cache.key("zones", sha256=sha, tile_m=float(tile_m), crs=ANALYSIS_CRS.to_string())
    stored = _cache.load("zones", ckey, lambda a: _unpack(a, len(zones)))
    if stored is not None:
        projected, geoms, tiles, owner = stored
        z = gpd.GeoDataFrame(zones.drop(columns=zones.geometry.name).reset_index(drop=True),
                             geometry=gpd.GeoSeries(projected, crs=ANALYSIS_CRS), crs=ANALYSIS_CRS)
        z = z.rename_geometry(zones.geometry.name) if zones.geometry.name != "geometry" else z
        z = z[list(zones.columns)]
    else:
        z = zones.to_crs(ANALYSIS_CRS).reset_index(drop=True)
        geoms = shapely.make_valid(np.asarray(z.geometry.values))
        tiles, owner = tile(geoms, tile_m)
        _cache.store("zones", ckey, _pack(np.asarray(z.geometry.values), geoms, tiles, owner))
    prepared = PreparedZones(z, geoms, tiles, owner, shapely.STRtree(tiles), sha)
    with _LOCK:
        _CACHE[key] = prepared
    return prepared


def _pack(projected, geoms, tiles, owner) -> dict:
    from ._cache import pack_geoms

    out = {"tile_zone": np.asarray(owner, dtype=np.int64)}
    for name, g in (("projected", projected), ("geoms", geoms), ("tiles", tiles)):
        out[name], out[name + "_off"] = pack_geoms(g)
    return out


def _unpack(a: dict, n_zones: int):
    from ._cache import unpack_geoms

    projected, geoms, tiles = (unpack_geoms(a[k], a[k + "_off"]) for k in ("projected", "geoms", "tiles"))
    owner = a["tile_zone"].astype(np.int64)
    if len(projected) != n_zones or len(geoms) != n_zones or len(owner) != len(tiles) or (
            len(owner) and (owner.min() < 0 or owner.max() >= n_zones)):
        raise ValueError("inconsistent prepared zones")
    return projected, geoms, tiles, owner


_LOCAL = threading.local()


def thread_tiles(pz: PreparedZones) -> np.ndarray:
    """This thread's own GEOS-prepared copy of ``pz.tiles``.

    A prepared geometry builds its search index lazily on first use, which is not
    safe when two threads use the same geometry at once; each thread therefore
    prepares its own copy (about a millisecond per hundred tiles).
    """
    return thread_prepared(pz, "tiles")


def thread_prepared(pz: PreparedZones, attr: str) -> np.ndarray:
    """This thread's own GEOS-prepared copy of the geometry array ``pz.<attr>`` (``tiles`` or ``geoms``)."""
    cache = _LOCAL.__dict__.setdefault(attr, {})
    geoms = getattr(pz, attr)
    key = (pz.sha256, len(geoms))
    copy = cache.get(key)
    if copy is None:
        copy = cache[key] = shapely.from_wkb(shapely.to_wkb(geoms))
        shapely.prepare(copy)
    return copy
