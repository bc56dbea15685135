"""Readers of planners' site files: one module per format, a format registry, and the site checks.

The public entry points are re-exported by :mod:`jixi_geo.sites`
(``read_sites``, ``iter_sites_csv``, ``iter_sites_parquet``, ``crs_note`` …); the
modules here are their parts.

Module map
----------
``read``             :func:`~.read.read_sites`: planner formats first, then the registry, then the checks
``registry``         :data:`~.registry.FORMATS`, the allow-list: suffix → byte check → reader
``formats``          the byte checks run before any reader (or GDAL) opens a file; the GDAL driver check
``base``             :class:`~.base.Raw` (a loaded source), column names, ids, WKT, tables to points
``csv_table``        CSV/TSV through pandas; :func:`~.csv_table.iter_sites_csv` streams it
``wkt_text``         WKT text, one (E)WKT per line, optionally ``id;WKT``
``vector``           GeoJSON, GeoPackage, Shapefile (plain or zipped), KML/KMZ through GDAL (pyogrio)
``geoparquet``       (Geo)Parquet through pyarrow; :func:`~.geoparquet.iter_sites_parquet` streams it
``checks``           site validation: ids and geometry, each a small check adding to one problem list
``crs_checks``       CRS resolution and location checks (swapped axes, not degrees, far from Jixi)
``planner_formats``  dispatch to the planner readers, and site names / notes for every read
``planner``          what the planner readers share (result type, refusals, CRS vocabulary)
``bubiao``           部标 界址点 TXT
``dxf``              CAD DXF (a DWG is refused with advice)
``excel``            Excel workbooks (point tables and 界址点 tables), also survey-style CSV

Text decoding (encoding detection, mojibake, UTF-16, binary files) is shared
with the land-use tables in :mod:`jixi_geo._text`.

How to add an input format
--------------------------
1. Write ``jixi_geo/readers/<format>.py`` with a function
   ``read(src, *, layer=None, encoding=None, id_column=None) -> Raw`` that loads
   ``src.path`` into :class:`~.base.Raw` (a GeoDataFrame with a ``geometry``
   column in the source's CRS, ``crs=None`` if the file states none, and
   ``carries_crs`` saying whether the format could state one). Reuse
   :func:`~.base.frame_to_raw` for tables of lon/lat or WKT columns. Do not
   check ids, geometry or CRS there: :func:`~.checks.finish` does that for
   every format.
2. Add one line to :data:`~.registry.FORMATS`::

       Format("kind", (".suffix",), formats.check_x, module.read, label=("中文名（.suffix）", "Name (.suffix)")),

   where ``check_x`` refuses the file unless its first bytes are that format
   (an existing check such as :func:`~.formats.check_text` or
   :func:`~.formats.check_parquet`, or a new one in :mod:`.formats` if the
   format has its own magic bytes). Pass ``drivers=(...)`` if GDAL opens it
   (the driver GDAL reports is then checked), and ``zones=False`` if it cannot
   hold zone polygons with a CRS.

That is all: the suffix is then accepted by ``read_sites``, ``jixi-geo check``
and ``check_file``, and it appears in every "accepted formats" message.
Formats recognised by their content rather than their suffix (部标 TXT, DXF,
Excel, survey CSV) are dispatched before the registry in
:func:`.planner_formats.read`.
"""

__all__: list[str] = []  # the modules are the parts; the public names are in jixi_geo.sites
