"""Tables against other standards: GB 50137-2011 Table 4.4.1 (:func:`check_structure`)
and the 2023 land and sea use classification (:func:`crosswalk`)."""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd

from ..errors import InputError
from .codes import CITY_LETTERS, codes_2023, crosswalk_2023, gb_codes, level_of, norm_total_name, structure_ranges
from .load import load_table  # noqa: F401  (the doctests)
from .table import class_areas, one_table, require_areas, tables_in

__all__ = ["check_structure", "crosswalk"]

# =========================================================================== structure


_STRUCTURE_NOTE_ZH = (
    "GB 50137-2011 表4.4.1 的比例针对整个城市的城市建设用地；第4.4.2条允许工矿城市、风景旅游城市等"
    "特殊城市另定用地结构。单一功能的工业园区不必符合这些比例，鸡西又是煤炭、石墨工矿城市。"
)


def check_structure(planned: pd.DataFrame, *, basis: Literal["classes", "table"] = "classes") -> pd.DataFrame:
    """Compare the planned shares of 城市建设用地 with GB 50137-2011 Table 4.4.1.

    Parameters
    ----------
    planned : pandas.DataFrame
        A planned table from :func:`load_table`.
    basis : {"classes", "table"}
        The 城市建设用地 area the shares are taken of: ``"classes"`` (default) is the
        sum of the R A B M W S U G classes, as the standard defines it; ``"table"``
        is the table's own row named 城市建设用地 (合计), which in the industrial
        park's plan also holds H4 特殊用地.

    Returns
    -------
    pandas.DataFrame
        One row per class with a range (R, A, M, S, G): ``code, name_zh, name_en,
        area_ha, share_pct, min_pct, max_pct, status`` (``below`` / ``within`` /
        ``above``), ``basis_ha``, ``note``. The note says that the ranges describe a
        whole city and that clause 4.4.2 lets mining/industrial cities (Jixi is one)
        set their own structure, so an industrial park is not expected to fit them.
        The ranges are recorded as unverified (``U``) in the rule table.

    Raises
    ------
    InputError
        The table has no 城市建设用地 classes (a current table in H/E classes), or
        ``basis="table"`` and no row is named 城市建设用地.

    Examples
    --------
    >>> s = check_structure(load_table("chemical", "planned"))
    >>> print(s[["code", "share_pct", "status"]].round(2).to_string(index=False))
    code  share_pct status
       R       0.00  below
       A       0.00  below
       M      77.49  above
       S      13.75 within
       G       2.87  below
    """
    if basis not in ("classes", "table"):
        raise InputError(f"basis={basis!r}: use 'classes' (sum of R…G) or 'table' (the table's 城市建设用地 row)")
    ctx, rows = one_table(planned, "check_structure")
    require_areas(rows, "check_structure")
    majors = class_areas(rows, 1)
    city = {k: v for k, v in majors.items() if k in CITY_LETTERS}
    if not city or math.fsum(city.values()) <= 0:
        raise InputError(
            f"check_structure() needs 城市建设用地 classes (R A B M W S U G); the table "
            f"({ctx['park']}, {ctx['stage']}) has {sorted(k for k in majors if not k.startswith('name:'))}. "
            "Pass a planned table, e.g. load_table('industrial', 'planned')."
        )
    if basis == "classes":
        base = math.fsum(city.values())
    else:
        named = [r for r in rows if r.is_sum and norm_total_name(r.name) == "城市建设用地"
                 and not r.area_problem]
        if not named:
            raise InputError(
                "basis='table' needs a total row named 城市建设用地 (合计); the table's total rows are "
                f"{[r.name for r in rows if r.is_sum]}. Use basis='classes'."
            )
        base = named[0].area
    recs = []
    for rng in structure_ranges():
        code = rng["category"]
        area = city.get(code, 0.0)
        share = area / base * 100.0
        lo, hi = float(rng["min_pct"]), float(rng["max_pct"])
        status = "below" if share < lo else "above" if share > hi else "within"
        recs.append({
            "code": code, "name_zh": rng["name_zh"], "name_en": rng["name_en"], "area_ha": area,
            "share_pct": share, "min_pct": lo, "max_pct": hi, "status": status, "basis_ha": base,
            "note": f"{_STRUCTURE_NOTE_ZH} / {rng['note']}",
        })
    return pd.DataFrame(recs, columns=["code", "name_zh", "name_en", "area_ha", "share_pct", "min_pct",
                                       "max_pct", "status", "basis_ha", "note"])


# =========================================================================== crosswalk

_TARGETS = {"2023": "2023", "gb2023": "2023", "2023-guide": "2023"}


def crosswalk(table: pd.DataFrame, *, to: str = "2023", leaves_only: bool = True) -> pd.DataFrame:
    """Re-express a table in the 2023 land and sea use classification.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`load_table` (several may be concatenated).
    to : {"2023"}
        The target classification: 《国土空间调查、规划、用途管制用地用海分类指南》(2023).
    leaves_only : bool
        Map only the finest printed row of each branch (M2 and M3, not M too), so
        that each hectare appears once. False maps every class row; the ``leaf``
        column tells them apart.

    Returns
    -------
    pandas.DataFrame
        One row per (table row, 2023 code), following
        ``layers/rules/crosswalk_gb50137_to_2023.csv``: ``park, stage, row, code,
        name_zh, name_published, level, leaf, area_ha`` (``name_zh`` from the
        registry, ``area_ha`` the source row's area, always kept),
        ``code_2023, name_2023_zh, name_2023_en, level_2023, relation, confidence,
        n_targets, apportionable, area_2023_ha, note``.

        The area is carried over (``area_2023_ha``) only where the code has exactly
        one target and the relation is ``equivalent``. A ``partial`` or
        ``many_to_many`` mapping lists the possible targets without area weights,
        and splitting an area between them needs finer data than the table, so
        those rows have ``apportionable`` False and ``area_2023_ha`` NaN. Rows
        without a code or with a code the crosswalk does not hold get one row with
        ``relation`` ``"none"``.

    Raises
    ------
    InputError
        ``to`` is not a known classification.

    Examples
    --------
    >>> x = crosswalk(load_table("chemical", "planned"))
    >>> x.loc[x.code.str.startswith("M"), ["code", "code_2023", "area_2023_ha"]].to_string(index=False)
    'code code_2023  area_2023_ha\\n  M2    100102        122.48\\n  M3    100103        419.63'
    """
    if _TARGETS.get(str(to).lower()) is None:
        raise InputError(
            f"to={to!r} is not a classification jixi_geo can map to; use to='2023' (the 2023 "
            "用地用海分类指南). The crosswalk file is layers/rules/crosswalk_gb50137_to_2023.csv."
        )
    cw = crosswalk_2023()
    c23 = codes_2023()
    reg = gb_codes()
    recs = []
    for ctx, rows, _ in tables_in(table, "crosswalk"):
        parents = {r.parent_row for r in rows if r.parent_row is not None}
        for r in rows:
            if r.is_sum or (r.kind == "other" and r.area_problem == "empty"):
                continue
            leaf = r.row not in parents or not r.code
            if leaves_only and not leaf:
                continue
            base = {"park": ctx["park"], "stage": ctx["stage"], "row": r.row, "code": r.code,
                    "name_zh": reg[r.code]["name_zh"] if r.code in reg else r.name,
                    "name_published": r.name,
                    "level": level_of(r.code) if r.code else "other", "leaf": leaf,
                    "area_ha": r.area}
            targets = cw.get(r.code, []) if r.code else []
            if not targets:
                why = ("the row has no land-use code" if not r.code
                       else f"{r.code} is not in the crosswalk (not a GB 50137-2011 code?)")
                recs.append({**base, "code_2023": "", "name_2023_zh": "", "name_2023_en": "",
                             "level_2023": "", "relation": "none", "confidence": "", "n_targets": 0,
                             "apportionable": False, "area_2023_ha": math.nan, "note": why})
                continue
            n = len(targets)
            for t in targets:
                ok = n == 1 and t["relation"] == "equivalent"
                tgt = c23.get(t["code_2023"], {})
                note = t["note"]
                if not ok:
                    why = (f"{t['relation']}: the area is not split over the {n} targets" if n > 1
                           else f"{t['relation']}: the classes do not cover the same land")
                    note = f"{why}; {note}" if note else why
                recs.append({**base, "code_2023": t["code_2023"], "name_2023_zh": tgt.get("name_zh", ""),
                             "name_2023_en": tgt.get("name_en", ""), "level_2023": tgt.get("level", ""),
                             "relation": t["relation"], "confidence": t["confidence"], "n_targets": n,
                             "apportionable": ok, "area_2023_ha": r.area if ok else math.nan,
                             "note": note})
    cols = ["park", "stage", "row", "code", "name_zh", "name_published", "level", "leaf", "area_ha", "code_2023",
            "name_2023_zh", "name_2023_en", "level_2023", "relation", "confidence", "n_targets",
            "apportionable", "area_2023_ha", "note"]
    out = pd.DataFrame(recs, columns=cols)
    out["apportionable"] = out["apportionable"].astype(bool)
    out["leaf"] = out["leaf"].astype(bool)
    out["n_targets"] = out["n_targets"].astype(int)
    return out
