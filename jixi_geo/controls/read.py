"""Reading a control layer's file through the format allow-list, and its checksum.

The format is decided from the name and first bytes before GDAL opens anything
(:func:`jixi_geo.readers.registry.identify` with ``controls=True``, which also admits
an ESRI File Geodatabase: a ``.gdb`` folder or a ``.gdb.zip``, opened only by GDAL's
``OpenFileGDB`` driver). A file with several layers needs ``layer``; the refusal
lists them. Files are only read, never written.
"""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path

import geopandas as gpd
import shapely

from ..errors import InputError

__all__ = ["read_layer_file", "file_sha256", "frame_sha256", "MULTI_LAYER_KINDS"]

#: Formats that can hold several layers (a zip of several Shapefiles is resolved by the allow-list).
MULTI_LAYER_KINDS = ("gpkg", "kml", "kmz", "geojson", "filegdb", "filegdbzip")


def _layer_option(role: str) -> tuple[str, str]:
    if role == "landcover":
        return ("--landcover-layer 名称（Python：landcover_layer= 或 {'path': …, 'layer': 名称}）",
                "--landcover-layer NAME (Python: landcover_layer= or {'path': ..., 'layer': NAME})")
    return ("{'path': …, 'layer': 名称}，或 controls.toml 中的 layer = \"名称\"",
            "{'path': ..., 'layer': NAME}, or layer = \"NAME\" in controls.toml")


def read_layer_file(path, *, role: str, role_zh: str, layer: str | None = None,
                    encoding: str | None = None) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read one control layer file; return the frame and the name of the layer read.

    Raises
    ------
    InputError
        A missing file, a format outside the allow-list, a file GDAL cannot open,
        or a multi-layer file without (or with an unknown) ``layer``.
    """
    from ..readers import registry
    from ..readers.geoparquet import read_parquet
    from ..readers.vector import read_vector

    src = registry.identify(path, layer=layer, what="control layer", vector_only=True, controls=True)
    if src.kind == "parquet":
        return read_parquet(src.path, layer=None, encoding=None).gdf, None
    name = src.path.name
    chosen = layer
    if src.kind in MULTI_LAYER_KINDS:
        try:
            import pyogrio  # here: a check without control layers never loads GDAL

            layers = [str(n) for n in pyogrio.list_layers(src.gdal_path)[:, 0]]
        except Exception as e:  # pyogrio.errors.DataSourceError and friends
            raise InputError(f"{role_zh}图层文件 {name} 无法作为矢量文件打开（{e}）；请从原软件重新导出。/ the "
                             f"{role} file {name} could not be opened as a vector file ({e}); export it again") \
                from None
        opt_zh, opt_en = _layer_option(role)
        if layer is None and len(layers) > 1:
            raise InputError(f"{role_zh}图层文件 {name} 含 {len(layers)} 个图层（{', '.join(layers)}），"
                             "不会默认取第一个；"
                             f"请用 {opt_zh} 指定。/ the {role} file {name} has {len(layers)} layers: "
                             f"{', '.join(layers)}. jixi_geo does not pick one; choose with {opt_en}, e.g. "
                             f"{layers[0]!r}")
        if layer is not None and str(layer) not in layers:
            raise InputError(f"{role_zh}图层文件 {name} 中没有图层 {layer!r}（有：{', '.join(layers)}）。/ layer "
                             f"{layer!r} is not in the {role} file {name}; its layers are: {', '.join(layers)}")
        chosen = str(layer) if layer is not None else (layers[0] if layers else None)
    elif src.kind == "shapezip":
        chosen = Path(src.member).stem
    else:
        chosen = src.path.stem
    gdf = read_vector(src, layer=layer if src.kind in MULTI_LAYER_KINDS else None, encoding=encoding).gdf
    return gdf, chosen


#: The parts of a Shapefile that change what is read besides the ``.shp`` (attributes, index, CRS, encoding).
_SHAPEFILE_PARTS = (".dbf", ".shx", ".prj", ".cpg")


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes; of a folder (a ``.gdb``): of its files' names and bytes, in name order;
    of a Shapefile: of the ``.shp`` and its ``.dbf``, ``.shx``, ``.prj``, ``.cpg`` (a changed attribute
    table changes the checksum)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.iterdir(), key=lambda p: p.name):
            if p.is_file():
                h.update(p.name.encode("utf-8") + b"\0")
                h.update(p.read_bytes())
        return h.hexdigest()
    if path.suffix.lower() == ".shp":
        parts = {p.suffix.lower(): p for p in path.parent.glob(glob.escape(path.stem) + ".*") if p.stem == path.stem}
        for ext in (".shp",) + _SHAPEFILE_PARTS:
            if ext in parts and parts[ext].is_file():
                h.update(ext.encode("ascii") + b"\0")
                h.update(parts[ext].read_bytes())
        return h.hexdigest()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def frame_sha256(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a GeoDataFrame as given: its CRS, the WKB of its geometries and its attributes as CSV."""
    h = hashlib.sha256()
    h.update((gdf.crs.to_wkt() if gdf.crs is not None else "").encode("utf-8"))
    for w in shapely.to_wkb(gdf.geometry.values, hex=False):
        h.update(b"\0" if w is None else w)
    h.update(gdf.drop(columns=[gdf.geometry.name]).to_csv(index=False).encode("utf-8"))
    return h.hexdigest()
