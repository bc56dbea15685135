"""Read sites from an Excel workbook (.xlsx, .xls) (private).

Read with python-calamine (cell values only: formulas are never evaluated, only
their saved results are read). Two layouts are recognised from the header row,
which may sit below title rows:

- **point tables**: ``名称, 经度, 纬度`` (decimal degrees or DMS text such as
  ``131°58′12″``), or ``X, Y`` / ``北坐标, 东坐标`` in metres;
- **界址点 tables**: ``点号, X, Y`` with an optional ``地块号``/``地块名称`` (and
  ``圈号``): one polygon per 地块, its points in row order.

Column names come from ``layers/rules/planner_columns.csv``. X/Y follow the
surveyors' convention (X = north); which column holds the northing is decided
from the values and said in a note, or refused when the values do not tell.
A 合计 row at the bottom is skipped.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .planner import (ReadResult, crs_text, Refusals, assemble_parcel, axis_decision, column_names, find_column,
                       gk_crs, parse_dms, prefixed_zone, refuse, zone_width)
from ..errors import CRSError, InputError

__all__ = ["read_excel", "read_rows", "survey_layout"]

_HEADER_SCAN_ROWS = 30


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _header_row(rows: list[list]) -> tuple[int, str] | None:
    """(index of the header row, layout) of the first row naming coordinate columns."""
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        cols = [_cell_text(c) for c in row]
        has = {r: find_column(cols, r) is not None for r in ("lon", "lat", "north", "east", "point_no")}
        if has["north"] and has["east"]:
            return i, "boundary" if has["point_no"] else "xy"
        if has["lon"] and has["lat"]:
            return i, "lonlat"
    return None


def _pick_sheet(wb, sheet, name: str, notes: list[str]):
    names = list(wb.sheet_names)
    if sheet is not None:
        key = str(sheet).strip()
        if key in names:
            chosen = key
        elif key.isdigit() and 1 <= int(key) <= len(names):
            chosen = names[int(key) - 1]
        else:
            refuse(InputError, f"{name} 中没有工作表 {key!r}；已有：{'、'.join(names)}",
                   f"{name} has no sheet {key!r}; its sheets are: {', '.join(names)}")
        rows = wb.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
        found = _header_row(rows)
        if found is None:
            refuse(InputError, f"{name} 工作表 {chosen!r} 前 {_HEADER_SCAN_ROWS} 行中没有坐标列"
                   "（经度/纬度、X/Y、北坐标/东坐标）",
                   f"sheet {chosen!r} of {name} has no coordinate columns (经度/纬度, X/Y, 北坐标/东坐标) in its first "
                   f"{_HEADER_SCAN_ROWS} rows")
        return chosen, rows, found
    usable = []
    for n in names:
        rows = wb.get_sheet_by_name(n).to_python(skip_empty_area=False)
        found = _header_row(rows)
        if found is not None:
            usable.append((n, rows, found))
    if not usable:
        refuse(InputError, f"{name} 的工作表（{'、'.join(names)}）中都没有坐标列（经度/纬度、X/Y、北坐标/东坐标）",
               f"no sheet of {name} ({', '.join(names)}) has coordinate columns (经度/纬度, X/Y, 北坐标/东坐标)")
    if len(usable) > 1:
        notes.append(f"读取第一个有坐标的工作表 {usable[0][0]!r}；其余（{'、'.join(u[0] for u in usable[1:])}）未读取，"
                     f"可用 --sheet 选择 / read sheet {usable[0][0]!r}; the others were not read: choose with --sheet")
    return usable[0]


def _table(rows: list[list], hdr: int, notes: list[str]) -> pd.DataFrame:
    header = [_cell_text(c) or f"列{j + 1}" for j, c in enumerate(rows[hdr])]
    if hdr:
        titles = [" ".join(_cell_text(c) for c in r if _cell_text(c)) for r in rows[:hdr]]
        titles = [t for t in titles if t]
        if titles:
            notes.append(f"表头上方的标题行已跳过：{'；'.join(titles)[:80]} / title rows above the header skipped")
    body = []
    totals = set(column_names("total_row"))
    for r in rows[hdr + 1:]:
        cells = list(r) + [None] * (len(header) - len(r))
        texts = [_cell_text(c) for c in cells]
        if not any(texts):
            continue
        if any(t.replace(" ", "").lower() in totals for t in texts if t):
            notes.append(f"合计行已跳过：{' '.join(t for t in texts if t)[:60]} / a total row was skipped")
            continue
        body.append(cells[:len(header)])
    return pd.DataFrame(body, columns=header)


def _numbers(col: pd.Series, what: str, refusals: Refusals, dms: bool = False) -> np.ndarray:
    vals = np.array([parse_dms(v) if dms else _float(v) for v in col], dtype=float)
    bad = [i for i, v in enumerate(vals) if not np.isfinite(v)]
    if bad:
        shown = ", ".join(f"第 {i + 1} 行 {col.iloc[i]!r}" for i in bad[:5])
        refusals.add(InputError, f"{what} 列 {col.name!r} 有非数字的值：{shown}（行号从表头下一行算起）",
                     f"column {col.name!r} ({what}) has values that are not numbers: rows "
                     f"{', '.join(str(i + 1) for i in bad[:5])} (counted from the row below the header)")
    return vals


def _float(v) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    try:
        return float(str(v).replace(",", "").strip())
    except (TypeError, ValueError):
        return float("nan")


def _lonlat(lon: np.ndarray, lat: np.ndarray) -> bool:
    """Whether the values are longitudes and latitudes of China (73–136°E, 15–54°N)."""
    return bool((lon >= 73).all() and (lon <= 136).all() and (lat >= 15).all() and (lat <= 54).all())


def _gk_crs(east: np.ndarray, given, notes: list[str], name: str) -> pyproj.CRS:
    if given is not None:
        notes.append(f"坐标系按 --crs 给定：{crs_text(given)} / CRS from --crs: {crs_text(given)}")
        return given
    zones = {prefixed_zone(e) for e in east}
    if None not in zones and len(zones) == 1:
        zone = zones.pop()
        assert zone is not None  # None is not in zones
        crs, _ = gk_crs("CGCS2000", zone_width(zone), zone, prefixed=True)
        notes.append(f"表中无坐标系：按东坐标带号前缀 {zone} 判断为 {crs.name}（EPSG:{crs.to_epsg()}），基准按 "
                     "2000国家大地坐标系；如为 1980西安/1954北京坐标系请加 --crs / no CRS in the table: "
                     f"EPSG:{crs.to_epsg()} from the easting prefix {zone}, datum taken as CGCS2000")
        return crs
    refuse(CRSError, f"{name}：东坐标没有统一的带号前缀，表中也无坐标系，无法确定投影："
           "请加 --crs，例如 --crs EPSG:4553",
           f"{name}: the eastings carry no (single) zone prefix and the table states no CRS: pass --crs, "
           "e.g. --crs EPSG:4553")
    raise AssertionError  # pragma: no cover


def read_excel(path, *, crs: pyproj.CRS | None = None, sheet=None) -> ReadResult:
    """Read a point table or a 界址点 table from an Excel workbook.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.xlsx``, ``.xlsm``, ``.xls`` or ``.ods``.
    crs : pyproj.CRS, optional, keyword-only
        The CRS of X/Y metres without zone prefix (lon/lat tables need none).
    sheet : str or int, optional, keyword-only
        Sheet name, or its 1-based number; default the first sheet with coordinate columns.

    Returns
    -------
    ReadResult
        Point tables: one row per table row, all columns kept. 界址点 tables: one
        row per 地块 with its number and name and ``界址点数``. ``gdf.crs`` is None
        for lon/lat (left to the caller, CGCS2000/WGS84 by default).

    Raises
    ------
    InputError, CRSError, InvalidGeometryError
        Unreadable workbook, no coordinate columns, non-numbers, undecidable axes.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    name = path.name
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types for damaged files
        refuse(InputError, f"{name} 无法作为 Excel 工作簿读取（{type(e).__name__}）："
               "请在 Excel/WPS 中重新另存为 .xlsx，"
               "或另存为 CSV UTF-8", f"{name} could not be read as an Excel workbook ({e}); save it again as "
               ".xlsx, or as CSV UTF-8")
    notes: list[str] = []
    chosen, rows, (hdr, layout) = _pick_sheet(wb, sheet, name, notes)
    notes.append(f"工作表 {chosen!r}，表头在第 {hdr + 1} 行 / sheet {chosen!r}, header on row {hdr + 1}")
    return read_rows(rows, hdr, layout, name=f"{name} 工作表 {chosen!r}", crs=crs, notes=notes)


def survey_layout(rows: list[list]) -> tuple[int, str] | None:
    """(header row, layout) of a table naming survey X/Y (北坐标/东坐标) columns, else None."""
    found = _header_row(rows)
    return found if found is not None and found[1] in ("xy", "boundary") else None


def read_rows(rows: list[list], hdr: int, layout: str, *, name: str, crs: pyproj.CRS | None,
              notes: list[str], kind: str = "excel") -> ReadResult:
    """Sites from a table given as rows of cells, its header on row ``hdr``.

    ``layout`` is ``lonlat``, ``xy`` (points in metres) or ``boundary`` (a 界址点 table).
    """
    df = _table(rows, hdr, notes)
    if df.empty:
        refuse(InputError, f"{name} 表头下没有数据行", f"{name} has no rows below the header")
    refusals = Refusals(name)
    if layout == "lonlat":
        lon_c, lat_c = find_column(df.columns, "lon"), find_column(df.columns, "lat")
        lon = _numbers(df[lon_c], "经度", refusals, dms=True)
        lat = _numbers(df[lat_c], "纬度", refusals, dms=True)
        refusals.raise_if_any()
        attrs = df.copy()
        attrs[lon_c], attrs[lat_c] = lon, lat
        gdf = gpd.GeoDataFrame(attrs, geometry=shapely.points(lon, lat), crs=None)
        return ReadResult(gdf=gdf, kind=kind, notes=notes, name_column=None)
    n_c, e_c = find_column(df.columns, "north"), find_column(df.columns, "east")
    a = _numbers(df[n_c], "北坐标", refusals, dms=True)
    b = _numbers(df[e_c], "东坐标", refusals, dms=True)
    refusals.raise_if_any()
    if layout == "xy" and (_lonlat(a, b) or _lonlat(b, a)):  # X/Y holding degrees: lon/lat by value
        lon, lat, lon_c = (a, b, n_c) if _lonlat(a, b) else (b, a, e_c)
        notes.append(f"{n_c}/{e_c} 列为经纬度（度），按数值判断 {lon_c} 为经度 / columns {n_c}/{e_c} hold degrees: "
                     f"{lon_c} is the longitude, by its values")
        gdf = gpd.GeoDataFrame(df, geometry=shapely.points(lon, lat), crs=None)
        return ReadResult(gdf=gdf, kind=kind, notes=notes)
    a_is_north, axis_note = axis_decision(a, b, str(n_c), str(e_c), a_role="north")
    notes.append(axis_note)
    north, east = (a, b) if a_is_north else (b, a)
    src = _gk_crs(east, crs, notes, name)
    crs_from = "given" if crs is not None else "zone prefix"
    if layout == "xy":
        gdf = gpd.GeoDataFrame(df, geometry=shapely.points(east, north), crs=src)
        return ReadResult(gdf=gdf, kind=kind, notes=notes, crs_from=crs_from)
    result = _parcels(df, east, north, src, notes, refusals, name)
    result.kind, result.crs_from = kind, crs_from
    return result


def _parcels(df, east, north, src, notes, refusals: Refusals, name) -> ReadResult:
    """One polygon per 地块 of a 界址点 table, points in row order."""
    key_c = find_column(df.columns, "parcel_no")
    name_c = find_column(df.columns, "parcel_name")
    ring_c = find_column(df.columns, "ring")
    pt_c = find_column(df.columns, "point_no")
    key = df[key_c].map(_cell_text) if key_c is not None else (
        df[name_c].map(_cell_text) if name_c is not None else pd.Series([""] * len(df)))
    # a 地块号 written only on the parcel's first row applies to the rows below it
    key = key.replace("", np.nan).ffill().fillna("")
    records: list[dict[str, object]]
    records, geoms, site_notes = [], [], {}
    for k in dict.fromkeys(key):
        idx = np.flatnonzero((key == k).to_numpy())
        rings: dict[str, list[tuple[float, float]]] = {}
        for i in idx:
            r = _cell_text(df[ring_c].iloc[i]) if ring_c is not None else "1"
            rings.setdefault(r or "1", []).append((east[i], north[i]))
        label = f"地块 {k}" if k else "地块"
        pnotes: list[str] = []
        g = assemble_parcel([(r, np.array(v)) for r, v in rings.items()], label=label, tol=1e-3,
                            refusals=refusals, require_closed=False, notes=pnotes)
        if g is None:
            continue
        rec = {}
        if key_c is not None:
            rec[str(key_c)] = k
        if name_c is not None:
            vals = [_cell_text(v) for v in df[name_c].iloc[idx] if _cell_text(v)]
            rec[str(name_c)] = vals[0] if vals else ""
        rec["界址点数"] = len(idx)
        rec["首点"] = _cell_text(df[pt_c].iloc[idx[0]]) if pt_c is not None else ""
        if pnotes:
            site_notes[len(records)] = pnotes
        records.append(rec)
        geoms.append(g)
    refusals.raise_if_any()
    gdf = gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry=geoms, crs=src)
    notes.append(f"界址点表：{len(records)} 个地块，按行序连成面 / boundary-point table: {len(records)} parcels "
                 "assembled in row order")
    id_col = str(key_c) if key_c is not None and gdf[str(key_c)].is_unique and (gdf[str(key_c)] != "").all() else None
    return ReadResult(gdf=gdf, kind="excel", notes=notes, site_notes=site_notes,
                      name_column=str(name_c) if name_c is not None else None, id_column=id_col)
