"""The format registry: which file formats are read, how each is checked, and by which reader.

:data:`FORMATS` is the allow-list. A file is identified by its suffix, then its
first bytes are checked (:mod:`.formats`) **before** any reader or GDAL opens it,
and only then is it handed to its format's reader. A suffix not registered here
is refused with a message listing the accepted formats, which is built from the
``label`` of each entry. To add a format, see the recipe in :mod:`jixi_geo.readers`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Callable

import geopandas as gpd
import pandas as pd

from ..errors import InputError
from . import csv_table, formats, geoparquet, vector, wkt_text
from .base import Raw, frame_to_raw
from .formats import EXCEL, REFUSED, Source, refusal

__all__ = ["Format", "FORMATS", "accepted", "by_suffix", "ACCEPTED_ZH", "ACCEPTED_EN", "ACCEPTED_VECTOR_ZH",
           "ACCEPTED_VECTOR_EN", "identify", "load"]


@dataclass(frozen=True)
class Format:
    """One registered input format.

    Attributes
    ----------
    kind : str
        Its name (``Source.kind``, ``attrs["read_sites"]["format"]`` of vector files).
    suffixes : tuple of str
        Lower-case file name endings, with the dot.
    check : callable
        ``check(path, *, layer=None) -> Source``: refuses the file unless its bytes
        are this format (run before any reader opens it).
    read : callable
        ``read(src, *, layer=None, encoding=None, id_column=None) -> Raw``.
    drivers : tuple of str, optional
        The GDAL drivers allowed to open it; None if it is not read through GDAL.
    zones : bool
        Also accepted as a zones file (layers of polygons with a CRS).
    controls_only : bool
        Accepted only for control layers (``identify(..., controls=True)``): the
        File Geodatabase, in which 三区三线 and 三调 results are delivered.
    label : (str, str)
        (中文, English) name in the list of accepted formats; ``("", "")`` when an
        entry before it already names it (a zipped Shapefile, KMZ).
    """

    kind: str
    suffixes: tuple[str, ...]
    check: Callable[..., Source]
    read: Callable[..., Raw]
    drivers: tuple[str, ...] | None = None
    zones: bool = True
    label: tuple[str, str] = ("", "")
    controls_only: bool = False


#: The allow-list, in the order the accepted formats are listed in messages.
FORMATS: tuple[Format, ...] = (
    Format("geojson", (".geojson", ".json"), formats.check_geojson, vector.read, ("GeoJSON",),
           label=("GeoJSON（.geojson/.json）", "GeoJSON (.geojson/.json)")),
    Format("gpkg", (".gpkg",), formats.check_gpkg, vector.read, ("GPKG",),
           label=("GeoPackage（.gpkg）", "GeoPackage (.gpkg)")),
    Format("shapefile", (".shp",), formats.check_shapefile, vector.read, ("ESRI Shapefile",),
           label=("Shapefile（.shp，或含一个 Shapefile 的 .zip）", "ESRI Shapefile (.shp, or a .zip holding one)")),
    Format("shapezip", (".zip",), formats.check_shapezip, vector.read, ("ESRI Shapefile",)),
    Format("kml", (".kml",), formats.check_kml, vector.read, ("KML", "LIBKML"), label=("KML/KMZ", "KML/KMZ")),
    Format("kmz", (".kmz",), formats.check_kmz, vector.read, ("LIBKML", "KML")),
    Format("csv", (".csv", ".tsv"), formats.check_text, csv_table.read, zones=False,
           label=("CSV（.csv/.tsv）", "CSV (.csv/.tsv)")),
    Format("wkt", (".wkt", ".txt"), formats.check_text, wkt_text.read, zones=False,
           label=("WKT 文本（.wkt/.txt）", "WKT text (.wkt/.txt)")),
    Format("parquet", (".parquet", ".geoparquet"), formats.check_parquet, geoparquet.read,
           label=("GeoParquet（.parquet）", "GeoParquet (.parquet)")),
    Format("filegdb", (".gdb",), formats.check_filegdb, vector.read, ("OpenFileGDB",), controls_only=True,
           label=("ESRI 文件地理数据库（.gdb 文件夹或 .gdb.zip）", "ESRI File Geodatabase (.gdb folder or .gdb.zip)")),
    Format("filegdbzip", (".gdb.zip",), formats.check_filegdb_zip, vector.read, ("OpenFileGDB",),
           controls_only=True),
)


def accepted(*, vector_only: bool = False, controls: bool = False) -> tuple[str, str]:
    """(中文, English) list of the accepted formats (only those for zone files if ``vector_only``;
    with the control-layer formats if ``controls``)."""
    labels = [f.label for f in FORMATS if f.label[0] and (f.zones or not vector_only)
              and (controls or not f.controls_only)]
    return "、".join(zh for zh, _ in labels), ", ".join(en for _, en in labels)


def by_suffix(suffix: str) -> Format | None:
    """The registered format of a lower-case suffix (``".csv"``), or None (control-layer formats excluded)."""
    return next((f for f in FORMATS if suffix in f.suffixes and not f.controls_only), None)


def _by_name(name: str, *, controls: bool) -> Format | None:
    """The format of a lower-case file name: the longest registered ending wins (``.gdb.zip`` over ``.zip``)."""
    hits = [(len(s), f) for f in FORMATS if controls or not f.controls_only for s in f.suffixes if name.endswith(s)]
    return max(hits, key=lambda h: h[0])[1] if hits else None


#: The accepted formats, as messages list them.
ACCEPTED_ZH, ACCEPTED_EN = accepted()
ACCEPTED_VECTOR_ZH, ACCEPTED_VECTOR_EN = accepted(vector_only=True)


def _zh(what: str) -> str:
    return {"site file": "场址文件", "zones file": "管控区文件", "control layer": "管控图层"}.get(what, "文件")


def identify(path, *, layer=None, what: str = "site file", vector_only: bool = False,
             controls: bool = False) -> Source:
    """Decide the format of ``path`` from its name and first bytes, or refuse it.

    Parameters
    ----------
    path : str or pathlib.Path
        The file a user named.
    layer : str, optional, keyword-only
        For a zip holding several Shapefiles: the one to read (its name without
        ``.shp``).
    what : str, keyword-only
        How to call the file in messages (``"site file"``, ``"zones file"``).
    vector_only : bool, keyword-only
        Accept only formats registered with ``zones=True`` (zone layers need
        polygons with a CRS: no CSV or WKT text).
    controls : bool, keyword-only
        Also accept the control-layer formats (a ``.gdb`` folder, a ``.gdb.zip``).

    Returns
    -------
    Source
        With ``kind`` and ``drivers`` of its registered format.

    Raises
    ------
    InputError
        Missing file, a folder, or a format outside the allow-list; the message
        names the file, the reason and the accepted formats.
    """
    path = Path(path)
    acc_zh, acc_en = accepted(vector_only=vector_only, controls=controls)
    if not path.exists():
        raise InputError(f"找不到{_zh(what)} {path}（相对于 {Path.cwd()}）。/ no such file: {path} (the {what}; "
                         f"relative paths start at {Path.cwd()}). Check the path.")
    name = path.name.lower()
    if path.is_dir() and not (controls and name.endswith(".gdb")):
        raise refusal(path, "是文件夹，不是文件；请指定其中的文件（如 .shp），或把 Shapefile 压缩为 .zip",
                      "is a folder, not a file; name the file inside it (e.g. the .shp), or zip the "
                      "Shapefile parts into one .zip")
    suffix = path.suffix.lower()
    for refused, (zh, en) in REFUSED.items():
        if name.endswith(refused):
            raise refusal(path, f"不接受此格式：{zh}。可用格式：{acc_zh}",
                          f"this format is refused: {en}. Accepted formats: {acc_en}")
    if suffix in EXCEL:
        raise refusal(path, "暂不直接读取 Excel 工作簿；请在 Excel/WPS 中“另存为 CSV UTF-8（逗号分隔）”后再用，"
                            f"可用格式：{acc_zh}",
                      "Excel workbooks are not read (yet); save the sheet as \"CSV UTF-8 (comma delimited)\" "
                      f"in Excel/WPS and pass the .csv. Accepted formats: {acc_en}")
    fmt = _by_name(name, controls=controls)
    if fmt is None or (vector_only and not (fmt.zones or fmt.controls_only)):
        shown = suffix or "(no extension)"
        raise refusal(path, f"扩展名 {shown} 不在可接受的格式之列（可用：{acc_zh}）",
                      f"the extension {shown} is not an accepted format (accepted: {acc_en}). "
                      "Convert the file, e.g. with QGIS or ogr2ogr, to one of them")
    return replace(fmt.check(path, layer=layer), kind=fmt.kind, drivers=fmt.drivers)


def load(source, *, layer=None, encoding=None, id_column=None) -> Raw:
    """Load a site source as its reader gives it, before the checks.

    ``source`` is a path (identified by :func:`identify`, then read by its
    format's reader), a GeoDataFrame, or a DataFrame with lon/lat or WKT columns.
    """
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source.copy()
        if gdf.geometry.name != "geometry":
            if "geometry" in gdf.columns:
                gdf = gdf.drop(columns=["geometry"])
            gdf = gdf.rename_geometry("geometry")
        gdf = gdf.reset_index(drop=True)
        return Raw(gdf=gdf, name="the GeoDataFrame", kind="geodataframe", carries_crs=True)
    if isinstance(source, pd.DataFrame):
        return frame_to_raw(source.reset_index(drop=True), name="the DataFrame", kind="dataframe")
    if not isinstance(source, (str, os.PathLike)):
        raise InputError(
            f"source must be a file path, a GeoDataFrame or a DataFrame with lon/lat columns; "
            f"got {type(source).__name__}"
        )
    src = identify(source, layer=layer)  # the allow-list: decided before any reader opens it
    fmt = next(f for f in FORMATS if f.kind == src.kind)
    return fmt.read(src, layer=layer, encoding=encoding, id_column=id_column)
