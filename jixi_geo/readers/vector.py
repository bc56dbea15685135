"""Vector files read through GDAL (pyogrio): GeoJSON, GeoPackage, Shapefile (plain or zipped), KML/KMZ.

Registered in :mod:`.registry` as the formats ``geojson``, ``gpkg``, ``shapefile``,
``shapezip``, ``kml`` and ``kmz``. Only files the allow-list (:mod:`.formats`)
accepted reach GDAL, and the driver GDAL reports is checked against the one
expected. A Shapefile's ``.dbf`` encoding comes from ``encoding=``, its ``.cpg``,
or UTF-8 then GB18030, refusing garbled text.
"""

from __future__ import annotations

import logging
import zipfile

import geopandas as gpd

from .._text import frame_mojibake, is_utf8
from ..errors import EncodingError, InputError
from . import formats
from .base import Raw

__all__ = ["read", "read_vector", "read_shapefile", "cpg_text"]

log = logging.getLogger("jixi_geo.sites")


def _ogr():
    """pyogrio, imported on first use: checks of tables and GeoParquet never load GDAL."""
    import pyogrio

    return pyogrio


def read_vector(src: formats.Source, *, layer, encoding) -> Raw:
    """Read a GeoJSON, GeoPackage, Shapefile (plain or zipped) or KML/KMZ the allow-list accepted."""
    path, gpath = src.path, src.gdal_path
    opts = formats.open_options(src)
    try:
        layers = [str(n) for n in _ogr().list_layers(gpath)[:, 0]]
        driver = _ogr().read_info(gpath, layer=0, **opts)["driver"]
    except Exception as e:  # pyogrio.errors.DataSourceError and friends
        raise InputError(
            f"{path.name} 的文件名和文件头符合 {src.kind} 格式，但 GDAL 无法打开（{e}）：文件可能已损坏或不完整，"
            f"请从原软件重新导出。/ {path.name} looks like {src.kind} by its name and first bytes, but GDAL "
            f"could not open it as a vector file ({e}): the file may be damaged or truncated; export it again "
            "from the program that made it."
        ) from None
    formats.check_driver(src, driver)
    if src.note:
        log.info("%s: %s", path.name, src.note)
    if src.kind == "shapezip":
        layer = None  # the zip member was chosen by identify()
    if layer is None and len(layers) > 1:
        raise InputError(
            f"{path.name} has {len(layers)} layers: {', '.join(layers)}. Choose one with "
            f"layer=..., e.g. layer={layers[0]!r}"
        )
    if layer is not None and str(layer) not in layers and not isinstance(layer, int):
        raise InputError(
            f"layer {layer!r} is not in {path.name}; its layers are: {', '.join(layers)}"
        )
    is_shp = driver == "ESRI Shapefile"
    if encoding is not None and not is_shp and not is_utf8(encoding):
        raise InputError(
            f"encoding={encoding!r} does not apply to {path.name} ({driver}): its text is "
            "always UTF-8. encoding= is for CSV, WKT text and Shapefile .dbf files; drop it."
        )
    name = path.name
    used = "utf-8"
    if is_shp:
        gdf, used = read_shapefile(src, layer=layer, encoding=encoding)
    else:
        gdf = _ogr().read_dataframe(gpath, layer=layer, **opts)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    raw = Raw(gdf=gdf, name=name, kind="shapefile" if is_shp else "vector", carries_crs=True,
               encoding=used, path=path)
    return raw


def cpg_text(src: formats.Source) -> str | None:
    """The text of the Shapefile's .cpg (beside it, or inside its zip), or None."""
    if ".cpg" not in src.parts:
        return None
    if src.kind == "shapezip":
        with zipfile.ZipFile(src.path) as z:
            names = {n.lower(): n for n in z.namelist()}
            cpg_name = names[(src.member[:-4] + ".cpg").lower()]
            return z.read(cpg_name).decode("ascii", errors="replace").strip()
    cpg = next(p for p in src.path.parent.iterdir()
               if p.stem == src.path.stem and p.suffix.lower() == ".cpg")
    return cpg.read_text(errors="replace").strip()


def read_shapefile(src: formats.Source, *, layer, encoding) -> tuple[gpd.GeoDataFrame, str]:
    path, gpath = src.path, src.gdal_path
    cpg = cpg_text(src)
    if encoding is not None:
        try:
            gdf = _ogr().read_dataframe(gpath, layer=layer, encoding=encoding)
        except UnicodeDecodeError as e:
            raise EncodingError(
                f"{path.name}: the .dbf attribute table is not in encoding={encoding!r} ({e}). "
                "Try encoding=\"gbk\" or encoding=\"utf-8\", or drop encoding= to detect it."
            ) from None
        shown = frame_mojibake(gdf)
        if shown:
            raise EncodingError(
                f"{path.name}: reading the .dbf as {encoding} gives garbled text such as "
                f"{shown!r}; try encoding=\"gbk\" or encoding=\"utf-8\", or drop encoding=."
            )
        return gdf, encoding
    if cpg is not None:
        gdf = _ogr().read_dataframe(gpath, layer=layer)
        shown = frame_mojibake(gdf)
        if shown:
            raise EncodingError(
                f"{path.name}: the .cpg file says {cpg!r}, "
                f"but the attributes read as garbled text such as {shown!r}. Pass the real "
                "encoding, e.g. encoding=\"gbk\"."
            )
        return gdf, cpg
    tried = []
    for enc in ("utf-8", "gb18030"):
        try:
            gdf = _ogr().read_dataframe(gpath, layer=layer, encoding=enc)
        except UnicodeDecodeError:
            tried.append(f"{enc} (decoding fails)")
            continue
        shown = frame_mojibake(gdf)
        if shown:
            tried.append(f"{enc} (garbled text such as {shown!r})")
            continue
        log.info("%s has no .cpg; its attributes decode as %s", path.name, enc)
        return gdf, enc
    raise EncodingError(
        f"{path.name} has no .cpg file and its .dbf attributes are in none of the encodings "
        f"tried: {'; '.join(tried)}. Pass the encoding, e.g. encoding=\"gbk\" (or \"big5\", "
        "\"latin-1\"), or add a .cpg file naming it."
    )


def read(src: formats.Source, *, layer=None, encoding=None, id_column=None) -> Raw:
    """The registry's reader (``id_column`` is applied by the checks)."""
    return read_vector(src, layer=layer, encoding=encoding)
