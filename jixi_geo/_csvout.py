"""Tables written as CSV that Excel opens correctly and safely (UTF-8 with BOM, no formulas).

Used by the report, the run folder and the land-use findings: every text cell
that Excel would run as a formula (OWASP "CSV injection") is written as text.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._io import atomic_path
from .errors import JixiGeoWarning

__all__ = ["FORMULA_TRIGGERS", "EXCEL_CELL_LIMIT", "excel_safe_text", "write_csv_excel"]

#: Excel's limit on the characters of one cell.
EXCEL_CELL_LIMIT = 32_767
#: First characters that make Excel (or LibreOffice) read a CSV text cell as a formula (OWASP
#: "CSV injection"): such text cells are written with a leading ``'``.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# text that is just a decimal number ("-12.5", "+3e2") is not a formula, and stays as it is
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def excel_safe_text(value):
    """``value`` as a CSV cell Excel shows as text: ``'`` before a would-be formula.

    A text (``str``) starting with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a
    leading apostrophe, as OWASP recommends against CSV injection, unless it is
    just a decimal number (``"-12.5"``). Anything else (numbers, missing values)
    is returned unchanged.

    Examples
    --------
    >>> excel_safe_text("=1+2"), excel_safe_text("@SUM(A1)")
    ("'=1+2", "'@SUM(A1)")
    >>> excel_safe_text("-3.5"), excel_safe_text(-3.5), excel_safe_text("鸡西")
    ('-3.5', -3.5, '鸡西')
    """
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv_excel(df: pd.DataFrame, path, *, rounding_precision: int = 9) -> Path:
    """Write a table as UTF-8-with-BOM CSV that Excel opens correctly, atomically.

    Text cells and column names that Excel would run as formulas (starting with
    ``=``, ``+``, ``-``, ``@``, TAB or CR) get a leading ``'`` (see
    :func:`excel_safe_text`); numeric columns are written as numbers, negative
    ones included. Rows end in CRLF (RFC 4180) and any cell holding a CR or LF
    is quoted, so the file reads back with the same rows.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The table; a GeoDataFrame's geometry is written as WKT in column
        ``geometry`` (which :func:`read_sites` reads back).
    path : str or pathlib.Path
        Destination; replaced only once the whole file is written.
    rounding_precision : int, keyword-only
        Decimal places of WKT coordinates (9 = 1e-9 degrees, about 0.1 mm).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputError
        If ``path`` cannot be written (its folder is a file or read-only …).

    Warns
    -----
    JixiGeoWarning
        If a WKT value is longer than Excel's 32 767-character cell limit (Excel
        would truncate it on saving; use a GeoPackage for such geometries).
    """
    out = pd.DataFrame(df).copy()
    if isinstance(df, gpd.GeoDataFrame):
        gname = df.geometry.name
        wkt = shapely.to_wkt(np.asarray(df.geometry.values, dtype=object),
                             rounding_precision=rounding_precision, trim=True)
        out[gname] = wkt
        long_ = [i for i, w in enumerate(wkt) if w is not None and len(w) > EXCEL_CELL_LIMIT]
        if long_:
            warnings.warn(
                f"{len(long_)} geometries have WKT longer than Excel's {EXCEL_CELL_LIMIT}-character "
                "cell limit; Excel will cut them if the CSV is saved from Excel. Keep the geometry "
                "in a GeoPackage (gdf.to_file('sites.gpkg')) and use the CSV for viewing only.",
                JixiGeoWarning, stacklevel=2)
    for c in out.columns:
        col = out[c]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)
                or pd.api.types.is_datetime64_any_dtype(col.dtype)):
            out[c] = col.astype(object).map(excel_safe_text)
    out.columns = [excel_safe_text(c) for c in out.columns]
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path
