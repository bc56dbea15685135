"""Read planners' site files into one checked EPSG:4490 GeoDataFrame.

A *site* is a proposed project location (point, line or polygon) that the red-line
compliance check will test. Planners send them in many shapes: Shapefiles with GBK
attribute tables and no ``.cpg``, KML from Google Earth or 奥维, GeoPackages, CSV
tables with ``经度``/``纬度`` columns copied from 高德 or 百度 maps, or bare WKT.
:func:`read_sites` reads all of them through GDAL (pyogrio) or pandas, works out
the CRS without ever relabelling coordinates, converts GCJ-02 / BD-09 lon/lat to
WGS84 when told to, validates everything, and reports **all** problems at once in
a single error whose message names each site and the fix.

Output columns: the input attributes in input order, then

- ``site_id`` (str): from ``id_column``, else from a unique column named
  ``site_id``, ``项目编号``, ``编号`` or ``id``, else generated ``S0001``, ``S0002`` …
  (the number is the 1-based row or feature number);
- ``input_crs`` (str): the CRS the coordinates came in, e.g. ``"EPSG:4532"``;
- ``crs_from`` (str): how that CRS was decided: ``"file"`` (declared by the source:
  ``.prj``, GeoPackage, GeoDataFrame, EWKT), ``"given"`` (the ``crs=`` argument),
  ``"zone prefix"`` (inferred as CGCS2000 Gauss-Kruger from zone-prefixed eastings of a
  source without CRS) or ``"assumed lon/lat"`` (degrees in a source that cannot state a
  CRS, read as CGCS2000); :func:`crs_note` gives the sentence the results carry for the
  last two;
- ``converted_from`` (str): ``"gcj02"``, ``"bd09"`` or ``""``;
- ``note`` (str): what was done to the site (Z dropped, geometry repaired), or ``""``;
- ``geometry`` in EPSG:4490 (CGCS2000 lon/lat, degrees).

Input columns that clash with these names are kept with the suffix ``_input``
(except an input ``site_id`` used as the id). CSV lon/lat columns are kept as
given (for ``coords="gcj02"`` they hold the GCJ-02 values; the geometry is
converted).
How the CRS and encoding were decided is recorded in
``gdf.attrs["read_sites"]``.

The readers live in :mod:`jixi_geo.readers` (one module per format, the format
registry, and the site checks); this module is the stable public face of them.
"""

from __future__ import annotations

from ._csvout import FORMULA_TRIGGERS, excel_safe_text, write_csv_excel
from .readers.base import ID_COLUMNS, LAT_COLUMNS, LON_COLUMNS, WKT_COLUMNS, SiteProblemsError
from .readers.crs_checks import CRS_FROM, FAR_MARGIN_DEG, Coords, crs_note, crs_notes
from .readers.csv_table import iter_sites_csv
from .readers.geoparquet import iter_sites_parquet
from .readers.read import read_sites

__all__ = [
    "read_sites",
    "iter_sites_csv",
    "iter_sites_parquet",
    "write_csv_excel",
    "excel_safe_text",
    "SiteProblemsError",
    "LON_COLUMNS",
    "LAT_COLUMNS",
    "WKT_COLUMNS",
    "ID_COLUMNS",
    "FAR_MARGIN_DEG",
    "CRS_FROM",
    "FORMULA_TRIGGERS",
    "Coords",
    "crs_note",
    "crs_notes",
]
