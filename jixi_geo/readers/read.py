"""read_sites: one site file or table in, one checked EPSG:4490 GeoDataFrame out.

The planner formats (部标 TXT, DXF, Excel, survey CSV) are tried first
(:mod:`.planner_formats`); every other source goes through the format registry
(:func:`.registry.load`); then :func:`.checks.finish` validates it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from . import planner_formats
from .base import Raw, parse_crs
from .checks import finish
from .crs_checks import Coords, parse_coords
from .registry import load

__all__ = ["read_sites"]


def read_sites(
    source,
    *,
    coords: Coords | None = None,
    crs=None,
    id_column: str | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    make_valid: bool = False,
    cad_layer: str | None = None,
    sheet: str | int | None = None,
    name_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read proposed sites from a file or table into a checked EPSG:4490 GeoDataFrame.

    Parameters
    ----------
    source : str, pathlib.Path, GeoDataFrame or DataFrame
        A GeoJSON, GeoPackage, Shapefile (``.shp`` with its ``.shx`` and ``.dbf``,
        or a ``.zip`` holding one), KML/KMZ (read through GDAL/pyogrio), GeoParquet
        (read through pyarrow), CSV (``.csv``/``.tsv``) or WKT text file
        (``.wkt``/``.txt``, one WKT per line, optionally ``id;WKT``, ``id,WKT`` or
        ``id<TAB>WKT``; EWKT ``SRID=4490;…`` sets the CRS); a 部标 界址点 TXT
        (``[属性描述]``/``[地块坐标]``, one site per 地块, CRS from 坐标系/几度分带/带号);
        a CAD DXF (closed polylines as polygons, texts inside them as names; a DWG
        is refused with the advice to save it as DXF); an Excel workbook
        (``.xlsx``/``.xls``: point tables with 经度/纬度 or X/Y, 界址点 tables with
        点号/X/Y and 地块号); or a GeoDataFrame; or a DataFrame with lon/lat (or WKT)
        columns. The format is decided from the file's name and first bytes before
        any reader opens it; other formats (VRT, GML, …) are refused (see
        :mod:`jixi_geo.readers.registry`). The file is only read, never modified, and
        nothing is written beside it.
    coords : {"gcj02", "bd09", "wgs84", "cgcs2000"} or None, keyword-only
        Where lon/lat came from: ``"gcj02"`` for coordinates copied from 高德/腾讯
        maps, ``"bd09"`` for 百度 maps; they are converted to WGS84 with
        :mod:`jixi_geo.coords` and recorded in column ``converted_from``. None,
        ``"wgs84"`` or ``"cgcs2000"``: no conversion.
    crs : pyproj CRS input, optional, keyword-only
        The CRS of sources that carry none (CSV, WKT text, a Shapefile without
        ``.prj``). It never relabels: if the source declares a different CRS,
        :class:`~jixi_geo.errors.CRSError` is raised. Without it, zone-prefixed
        Gauss-Kruger eastings (13 000 000–46 000 000 m) give the CGCS2000 GK CRS
        of their zone, and lon/lat in CSV/WKT/DataFrame is taken as EPSG:4490
        (EPSG:4326 with ``coords=``); such an inference is recorded in column
        ``crs_from`` (``"zone prefix"``, ``"assumed lon/lat"``) and stated in the
        results' reasons (:func:`crs_note`). The prefix cannot tell CGCS2000 from
        Beijing 1954 or Xian 1980 Gauss-Kruger: pass ``crs=`` for those.
    id_column : str, optional, keyword-only
        Column holding the site ids (must be unique and non-empty). Default: the
        first of ``site_id``, ``项目编号``, ``编号``, ``id`` whose values are unique
        (``site_id`` must be), else ids ``S0001``, ``S0002`` … by row.
    layer : str or int, optional, keyword-only
        Layer of a multi-layer source (GeoPackage, KML), or the Shapefile of a
        ``.zip`` holding several (its name without ``.shp``); required if there is
        more than one.
    encoding : str, optional, keyword-only
        Text encoding of a CSV, WKT text or Shapefile ``.dbf``. Default: detected
        (UTF-8 with or without BOM, UTF-16 with a BOM, then GB18030/GBK; a
        Shapefile's ``.cpg`` is used if present). UTF-16 without a BOM is
        diagnosed and refused with the encoding to pass (``"utf-16-le"``).
    make_valid : bool, keyword-only
        Repair invalid polygons with :func:`shapely.make_valid` (recorded in
        column ``note``) instead of refusing them.
    cad_layer : str, optional, keyword-only
        DXF only: read these layers (``"红线"``, several as ``"红线,用地红线"``).
    sheet : str or int, optional, keyword-only
        Excel only: the sheet name or 1-based number (default: the first sheet
        with coordinate columns).
    name_column : str, optional, keyword-only
        Column holding the site names. Default: the reader's (部标 地块名称, the
        texts inside a DXF polygon), else the first of ``名称``, ``项目名称``,
        ``地块名称``, ``name``, KML ``Name`` … (``layers/rules/planner_columns.csv``).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4490 (CGCS2000 lon/lat, degrees): the input attributes in input
        order, then ``site_id``, ``site_name`` ("" without a name column),
        ``input_crs``, ``crs_from`` (how the CRS was decided: one of
        :data:`CRS_FROM`), ``converted_from``, ``note`` (what was done and
        decided, including the datum assumed for lon/lat read without
        ``coords=``) and ``geometry`` (2-D). ``attrs["read_sites"]`` records the source, format,
        encoding, CRS and how the CRS was found.

    Raises
    ------
    InputError
        Missing, unreadable or empty source, a format outside the allow-list
        (VRT, GML, Excel …), a Shapefile without ``.shx`` or ``.dbf``, missing
        coordinate columns, non-numeric or NaN coordinates, missing or duplicate
        site ids.
    EncodingError
        Text in none of the tried encodings, or garbled (mojibake).
    CRSError
        No CRS and none can be inferred; ``crs=`` contradicts the file; lon/lat
        swapped; coordinates far (> 1°) outside Jixi, i.e. a wrong CRS or zone.
    InvalidGeometryError
        Null/empty geometries, GeometryCollections, invalid polygons (unless
        ``make_valid=True``).
    SiteProblemsError
        Problems of more than one of the kinds above (an instance of each).

    Every problem found is listed in one error (``err.problems``), by site id.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"编号": ["A1", "A2"], "经度": [131.0, 131.2], "纬度": [45.3, 45.4]})
    >>> sites = read_sites(df)
    >>> sites[["编号", "site_id", "input_crs", "crs_from"]].values.tolist()
    [['A1', 'A1', 'EPSG:4490', 'assumed lon/lat'], ['A2', 'A2', 'EPSG:4490', 'assumed lon/lat']]
    >>> sites.crs.to_epsg()
    4490
    """
    coords_key = parse_coords(coords)
    given = parse_crs(crs)
    found = planner_formats.read(source, crs=given, encoding=encoding, cad_layer=cad_layer, sheet=sheet)
    raw = load(source, layer=layer, encoding=encoding, id_column=id_column) if found is None else Raw(
        gdf=found.gdf, name=Path(source).name, kind=found.kind, carries_crs=found.gdf.crs is not None,
        encoding=found.encoding, path=Path(source), planner=found)
    return finish(raw, coords_key=coords_key, given_crs=given, make_valid=make_valid, name_column=name_column,
                   id_column=id_column or (found.id_column if found is not None else None))
