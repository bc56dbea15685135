"""The findings of :func:`jixi_geo.landuse.validate`: their columns, the rules, one record."""

from __future__ import annotations

from .table import Row

__all__ = ["FINDING_COLUMNS", "SEVERITIES", "RULES", "finding"]

#: Columns of the findings returned by :func:`jixi_geo.landuse.validate`, in order.
FINDING_COLUMNS = ("severity", "rule", "park", "stage", "code", "message", "expected", "actual", "row")

#: Severities of a finding, most severe first.
SEVERITIES = ("error", "warning", "info")

#: rule id → (usual severity, what it checks)
RULES: dict[str, tuple[str, str]] = {
    "area_invalid": ("error", "a class or total row has no area, or an area that is not a number"),
    "area_negative": ("error", "an area is negative"),
    "share_invalid": ("error", "a published share is not a number"),
    "code_missing": ("info", "a class row has no land-use code (e.g. 预留发展用地)"),
    "code_unknown": ("error", "a code is not in GB 50137-2011 (gb50137_codes.csv)"),
    "code_combined": ("error", "a cell with two codes (大类+中类) whose codes are not class and subclass"),
    "code_duplicate": ("error", "the same code appears twice within one block of the table"),
    "name_mismatch": ("warning", "the published name differs from the registry name of the code"),
    "category_misfiled": ("warning", "a 城乡用地 class (H, E) is counted inside 城市建设用地, or a "
                          "subclass is printed under another class (M2 below W)"),
    "children_sum": ("error", "subclasses do not add up to their class (beyond rounding)"),
    "total_sum": ("error", "classes do not add up to the stated total or subtotal (beyond rounding)"),
    "total_missing": ("error", "the table has no total row"),
    "total_multiple": ("error", "the table has more than one total row"),
    "share_mismatch": ("warning", "a published share differs from area / basis × 100 (beyond rounding)"),
    "shares_sum": ("warning", "the shares of the classes under the 100 % row do not add up to 100"),
    "share_basis": ("warning", "the header's share basis is not the row printed as 100 %"),
    "zones_sum": ("warning", "the function zones do not add up to the park's planned total"),
    "park_area": ("warning", "the table's total differs from the park size stated in the text"),
}
#: Every finding of a rule that closes within the table's rounding has severity "info".


def finding(rule: str, severity: str, ctx: dict, row: Row | None, code: str, zh: str, en: str,
            expected: str = "", actual: str = "") -> dict:
    """One finding (a row of :data:`FINDING_COLUMNS`); the message is 中文 / English."""
    return {
        "severity": severity,
        "rule": rule,
        "park": ctx["park"],
        "stage": ctx["stage"],
        "code": code,
        "row": row.row if row is not None else None,
        "message": f"{zh} / {en}",
        "expected": expected,
        "actual": actual,
    }
