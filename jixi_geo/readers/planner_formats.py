"""Dispatch to the planner-format readers, and the names and notes of read sites (private).

:func:`read` picks the reader of a 部标 TXT, a DXF/DWG or an Excel workbook (or
returns None for every other source, which the format registry (:mod:`.registry`) reads as before).
:func:`finish` adds to every read site its name (``site_name``, from a detected
or given name column) and the readers' notes, plus the assumed datum of lon/lat
coordinates, in the ``note`` column.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from .base import csv_sep as _csv_sep
from .planner import ReadResult, find_column, refuse
from ..errors import InputError

__all__ = ["read", "finish", "DATUM_NOTE", "SUFFIXES"]

#: Suffixes always read by the planner readers, never by GDAL.
SUFFIXES = {".dxf": "dxf", ".dwg": "dxf", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel", ".ods": "excel"}
#: The note on lon/lat read without ``coords=``: the datum assumed.
DATUM_NOTE = ("坐标按 CGCS2000/WGS84 解读；若来自高德/百度请加 --coords gcj02/bd09 / coordinates read as "
              "CGCS2000/WGS84; if copied from Amap (高德) or Baidu (百度) maps, pass --coords gcj02 or bd09")


def read(source, *, crs: pyproj.CRS | None, encoding: str | None, cad_layer=None, sheet=None) -> ReadResult | None:
    """Read ``source`` with a planner-format reader, or return None if it is not one.

    ``.dxf``/``.dwg`` go to the DXF reader, ``.xlsx``/``.xlsm``/``.xls`` to the
    Excel reader, and a ``.txt``/``.wkt`` holding the 部标 section headers to the
    部标 reader. ``cad_layer`` or ``sheet`` given for another kind of file is refused.
    """
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = Path(source)
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    kind = SUFFIXES.get(suffix)
    if kind is None and suffix in (".txt", ".wkt"):
        from .bubiao import looks_like_bubiao

        kind = "bubiao" if looks_like_bubiao(path) else None
    if cad_layer is not None and kind != "dxf":
        refuse(InputError, f"--cad-layer 只用于 DXF 文件，{path.name} 不是", f"--cad-layer is for DXF files; "
               f"{path.name} is not one")
    if sheet is not None and kind != "excel":
        refuse(InputError, f"--sheet 只用于 Excel 文件，{path.name} 不是", f"--sheet is for Excel files; "
               f"{path.name} is not one")
    if suffix in (".csv", ".tsv"):
        return _survey_csv(path, crs=crs, encoding=encoding)
    if kind == "dxf":
        from .dxf import read_dxf

        return read_dxf(path, crs=crs, cad_layer=cad_layer)
    if kind == "excel":
        from .excel import read_excel

        return read_excel(path, crs=crs, sheet=sheet)
    if kind == "bubiao":
        from .bubiao import read_bubiao

        return read_bubiao(path, crs=crs, encoding=encoding)
    return None


def _survey_csv(path: Path, *, crs, encoding) -> ReadResult | None:
    """A CSV whose header names survey X/Y or 北坐标/东坐标 columns (not lon/lat): read with the
    table reader, X = north by the values; any other CSV: None (read as before)."""
    import codecs
    import csv
    import io

    from .excel import read_rows, survey_layout
    from .._text import text_encoding as _text_encoding

    with open(path, "rb") as f:  # only the head decides: a large point CSV is not decoded twice
        raw = f.read(1 << 16)
    text = None
    for enc in ([encoding] if encoding else ["utf-8-sig", "gb18030"]):
        try:
            text = codecs.getincrementaldecoder(enc)().decode(raw, final=False)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        return None  # the CSV reader reports the encoding problem
    lines = text.splitlines()[:31]
    seps = {c: lines[0].count(c) for c in (",", "\t", ";", "|")} if lines else {",": 0}
    sep = max(seps, key=seps.__getitem__)
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))
    width = max((len(r) for r in rows), default=0)
    head = pd.DataFrame([r + [None] * (width - len(r)) for r in rows])  # ragged rows padded, as pandas did
    found = survey_layout(head.where(head.notna(), "").values.tolist())
    if found is None:
        return None
    enc = _text_encoding(path, encoding)
    hdr, layout = found
    if layout == "xy" and not _survey_xy(head.iloc[hdr + 1:], list(head.iloc[hdr])):
        return None  # plain x/y (GIS order, or degrees): read as before
    table = pd.read_csv(path, encoding=enc, sep=_csv_sep(path, enc), header=None, dtype=str,
                        keep_default_na=False).values.tolist()
    table = [[None if c == "" else c for c in r] for r in table]
    result = read_rows(table, hdr, layout, name=path.name, crs=crs, notes=[], kind="csv")
    result.encoding = enc
    return result


def _survey_xy(body: pd.DataFrame, header: list) -> bool:
    """Whether an x/y table is a survey one: named 北坐标/东坐标 (not plain x/y), or its Y column
    holds zone-prefixed eastings and its X column northings."""
    from .planner import NORTHING, find_column, prefixed_zone

    n_c, e_c = find_column(header, "north"), find_column(header, "east")
    if str(n_c).strip().lower() != "x" or str(e_c).strip().lower() != "y":
        return True
    cols = {str(c): i for i, c in enumerate(header)}
    x = pd.to_numeric(body.iloc[:, cols[str(n_c)]], errors="coerce").dropna()
    y = pd.to_numeric(body.iloc[:, cols[str(e_c)]], errors="coerce").dropna()
    return (len(x) > 0 and len(y) > 0 and x.between(*NORTHING).all()
            and all(prefixed_zone(v) is not None for v in y))


def _name_source(columns, planner: ReadResult | None, name_column: str | None) -> str | None:
    if name_column is not None:
        if name_column not in columns:
            refuse(InputError, f"--name-column {name_column!r} 不是输入的列；已有列：{'、'.join(map(str, columns))}",
                   f"name_column={name_column!r} is not a column of the input; columns are: "
                   f"{', '.join(map(str, columns))}")
        return name_column
    if planner is not None and planner.name_column in columns:
        return planner.name_column
    return find_column(columns, "name")


def _texts(col: pd.Series) -> pd.Series:
    return pd.Series([("" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v).strip())
                      for v in col.tolist()], index=col.index, dtype="str")


def finish(result, planner: ReadResult | None, *, name_column: str | None, coords_key: str):
    """Add ``site_name`` after ``site_id`` and the readers' notes to ``note``.

    Parameters
    ----------
    result : GeoDataFrame
        A checked site table from :func:`jixi_geo.sites.read_sites` (same rows, same
        order as the source).
    planner : ReadResult or None
        What a planner-format reader returned, if one read the source.
    name_column : str or None
        The column holding the names; default: the reader's, else the first of the
        name columns of ``layers/rules/planner_columns.csv`` (名称, 项目名称,
        地块名称, name, KML ``Name`` …).
    coords_key : str
        ``""``, ``"gcj02"`` or ``"bd09"``.
    """
    meta = result.attrs.get("read_sites", {})
    inputs = [c for c in result.columns if c not in ("site_id", "input_crs", "converted_from", "note", "geometry")]
    src = _name_source(inputs, planner, name_column)
    n = len(result)
    if src is None:
        names = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([""], dtype="str"))
    else:
        names = _texts(result[src]).array
    out = result  # freshly built by read_sites: completed in place, no copy of a large table
    if "site_name" in out.columns:
        del out["site_name"]
    out.insert(list(out.columns).index("site_id") + 1, "site_name", names)
    file_notes = list(planner.notes) if planner is not None else []
    crs = meta.get("input_crs")  # lon/lat from a table that states no CRS: say which datum was assumed
    try:
        geographic = bool(crs) and pyproj.CRS.from_user_input(crs).is_geographic
    except pyproj.exceptions.CRSError:  # pragma: no cover - labels come from pyproj
        geographic = False
    if geographic and not coords_key and meta.get("crs_from") == "assumed lon/lat":
        file_notes.append(DATUM_NOTE)
    note = out["note"]
    if not isinstance(note.dtype, pd.CategoricalDtype):
        note = note.astype("category")
    if file_notes:  # the same text for every site: change the few categories, not the rows
        tail = "; ".join(file_notes)
        note = note.cat.rename_categories([(f"{c}; {tail}" if c else tail) for c in note.cat.categories])
    if planner is not None and planner.site_notes:
        vals = note.astype(str).tolist()
        for pos, texts in planner.site_notes.items():
            vals[pos] = "; ".join([*texts, vals[pos]] if vals[pos] else texts)
        note = pd.Categorical(vals)
    out["note"] = note.array if isinstance(note, pd.Series) else note
    out.attrs["read_sites"] = {**meta, "name_column": src, "notes": file_notes,
                               **({"format": planner.kind} if planner is not None else {})}
    return out
