"""The Excel workbook of a compliance check: results, the 压占 (overlap) table, and the 三线 / 地类 sheets.

Text cells that Excel would run as formulas are neutralised exactly as in the CSV
(:func:`jixi_geo.sites.excel_safe_text`), and openpyxl is told to store every cell as a
value, never a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["RESULTS_SHEET", "OVERLAP_SHEET", "write_xlsx"]

#: Sheet names (Excel forbids ``/`` in them).
RESULTS_SHEET = "检查结果 results"
OVERLAP_SHEET = "压占分析 overlaps"


def _cell(value):
    from .sites import excel_safe_text

    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, (bool, int, float)):
        return value
    return excel_safe_text(str(value))


def _sheet(wb, title: str, frame: pd.DataFrame) -> None:
    from openpyxl.cell.cell import TYPE_STRING

    ws = wb.create_sheet(title)
    ws.append([_cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                c.data_type = TYPE_STRING  # a value, never a formula
    ws.freeze_panes = "A2"


def write_xlsx(path, results: pd.DataFrame, overlaps: pd.DataFrame, *,
               extra: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write ``results`` (without geometry) and the per-zone ``overlaps`` to an .xlsx workbook.

    Parameters
    ----------
    path : path
        The workbook to write (the caller writes it atomically).
    results : DataFrame
        :func:`jixi_geo.check_sites` results; the geometry column is dropped.
    overlaps : DataFrame
        One row per (site, zone) overlap: ``site_id, zone_id, zone_name_zh, control_level,
        overlap_ha, overlap_m, overlap_pct``; ``overlap_mu`` (亩) is added.
    extra : dict of str to DataFrame, optional
        More sheets by name, in order (the 三线压占 and 地类 sheets of a check with control layers);
        written the same way (values only, text neutralised).
    """
    from openpyxl import Workbook

    from .units import M2_PER_HA, M2_PER_MU

    wb = Workbook()
    wb.remove(wb.active)
    plain = pd.DataFrame(results.drop(columns=[c for c in ("geometry",) if c in results.columns]))
    _sheet(wb, RESULTS_SHEET, plain)
    ov = overlaps.copy()
    ov.insert(ov.columns.get_loc("overlap_ha") + 1, "overlap_mu", ov["overlap_ha"] * (M2_PER_HA / M2_PER_MU))
    _sheet(wb, OVERLAP_SHEET, ov)
    for title, frame in (extra or {}).items():
        _sheet(wb, title, frame)
    wb.save(path)
    return Path(path)
