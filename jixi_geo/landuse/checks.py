"""The validation rules of :func:`jixi_geo.landuse.validate`: one function per rule.

Each ``check_<rule>`` takes the rows of one table (:class:`~.table.Row`) and the
table's context (``park``, ``stage``, ``share_basis``, and the optional ``zones``
and ``park_area_km2``) and returns its findings (:func:`.findings.finding`).
Figures are compared at the table's rounding (:func:`_closes`). :data:`CHECKS`
maps each rule id of :data:`.findings.RULES` to its function.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import pairwise

from .codes import CITY_LETTERS, MISQUOTES, depth, fmt, gb_codes, norm_name, norm_total_name, parent_code
from .findings import RULES, finding
from .table import Row

__all__ = ["check_area_invalid", "check_area_negative", "check_share_invalid", "check_code_missing",
           "check_code_unknown", "check_code_combined", "check_code_duplicate", "check_name_mismatch",
           "check_category_misfiled", "check_children_sum", "check_total_sum", "check_total_missing",
           "check_total_multiple", "share_basis_row", "check_share_basis", "check_share_mismatch",
           "check_shares_sum", "check_zones_sum", "check_park_area", "CHECKS", "run_checks"]


def _closes(stated: float, parts: list[float], decimals: Iterable[int | None]) -> tuple[str, int, float]:
    """Compare a stated figure with a sum of parts at the table's rounding.

    The rounding unit is that of the most precise figure involved (documents drop
    trailing zeros, e.g. ``43`` for 43.00 公顷). Returns ``(status, decimals, diff)``
    with status ``"ok"`` (equal at that unit), ``"rounding"`` (within half a unit per
    summand) or ``"mismatch"``.
    """
    d = max([x for x in decimals if x is not None] or [2])
    unit = 10.0 ** -d
    diff = stated - math.fsum(parts)
    du = round(abs(diff) / unit, 6)
    if du < 0.5:
        return "ok", d, diff
    if du <= 0.5 * len(parts) + 1e-6:
        return "rounding", d, diff
    return "mismatch", d, diff


# -- rule implementations --------------------------------------------------------


def _valued(rows: list[Row]) -> list[Row]:
    """Rows whose figures are checked: all but an empty row without a code (e.g. a note line)."""
    return [r for r in rows if not (r.kind == "other" and r.area_problem == "empty")]


def check_area_invalid(rows: list[Row], ctx: dict) -> list[dict]:
    """``area_invalid``: a class or total row has no area, or one that is not a number.

    Every sum and share of the table depends on the areas, so an unreadable one is
    an error, reported with the printed text.
    """
    out = []
    for r in _valued(rows):
        if r.area_problem:
            what_zh = "面积为空" if r.area_problem == "empty" else f"面积 {r.area_text!r} 不是数字"
            what_en = ("has no area" if r.area_problem == "empty"
                       else f"has an area {r.area_text!r} that is not a number")
            out.append(finding(
                "area_invalid", "error", ctx, r, r.code,
                f"第 {r.row} 行 {r.label}：{what_zh}；请填写以公顷计的数值",
                f"{r.where} ({r.label}) {what_en}; enter the area in hectares, e.g. 12.50",
                "a number (ha)", r.area_text))
    return out


def check_area_negative(rows: list[Row], ctx: dict) -> list[dict]:
    """``area_negative``: an area is below zero, which no land can have (a sign typed by mistake)."""
    out = []
    for r in _valued(rows):
        if not r.area_problem and r.area < 0:
            out.append(finding(
                "area_negative", "error", ctx, r, r.code,
                f"第 {r.row} 行 {r.label}：面积为负数 {r.area_text}",
                f"{r.where} ({r.label}) has a negative area {r.area_text}; areas must be ≥ 0",
                ">= 0", r.area_text))
    return out


def check_share_invalid(rows: list[Row], ctx: dict) -> list[dict]:
    """``share_invalid``: a printed share is text, not a number (an empty share is allowed:
    many tables print shares for some rows only)."""
    out = []
    for r in _valued(rows):
        if r.share_problem == "not a number":
            out.append(finding(
                "share_invalid", "error", ctx, r, r.code,
                f"第 {r.row} 行 {r.label}：比例 {r.share_text!r} 不是数字",
                f"{r.where} ({r.label}) has a share {r.share_text!r} that is not a number; "
                "write the percentage without text, e.g. 12.34",
                "a number (%)", r.share_text))
    return out


def check_code_missing(rows: list[Row], ctx: dict) -> list[dict]:
    """``code_missing`` (info): a class row without a code, such as 预留发展用地. It counts in
    the totals but in no class, so shares and the crosswalk list it by its name."""
    out = []
    for r in rows:
        if not r.is_sum and not r.code:
            out.append(finding(
                "code_missing", "info", ctx, r, "",
                f"第 {r.row} 行 {r.name}：没有用地代码，计入合计但不属于任何用地类别",
                f"{r.where} ({r.name}) has no land-use code; it counts in the totals but in no class",
                "a GB 50137-2011 code", ""))
    return out


def _unknown_code_hint(tok: str, reg: dict) -> tuple[str, str]:
    """Why ``tok`` is not a code (a known misquote, a malformed code) and what is near it (zh, en)."""
    hint_zh, hint_en = MISQUOTES.get(tok, ("", ""))
    if not hint_en:
        letter = tok[:1]
        same = [c for c in reg if c[:1] == letter and depth(c) == depth(tok)]
        if depth(tok) is None:
            hint_zh = "代码格式应为一个大写字母加 0–2 位数字（如 M、M2、R21）"
            hint_en = "a code is one capital letter and 0–2 digits (M, M2, R21)"
        elif same:
            hint_zh = f"同级代码有 {'、'.join(same)}"
            hint_en = f"codes at that level are {', '.join(same)}"
        else:
            hint_zh = f"没有以 {letter} 开头的该级代码"
            hint_en = f"no code of that level starts with {letter!r}"
    return hint_zh, hint_en


def check_code_unknown(rows: list[Row], ctx: dict) -> list[dict]:
    """``code_unknown``: a code that GB 50137-2011 does not have (``gb50137_codes.csv``).

    Codes from the superseded GBJ 137-90 (R4, C, T, D) and from the draft (H15) are
    still copied from web pages; the message says where such a code comes from.
    """
    reg = gb_codes()
    out = []
    for r in rows:
        if r.is_sum or not r.code:
            continue
        for tok in r.tokens:
            if tok in reg:
                continue
            hint_zh, hint_en = _unknown_code_hint(tok, reg)
            out.append(finding(
                "code_unknown", "error", ctx, r, tok,
                f"第 {r.row} 行：代码 {tok!r} 不在 GB 50137-2011 中（{hint_zh}）",
                f"{r.where}: code {tok!r} is not in GB 50137-2011 ({hint_en}); "
                "correct it or map it to a standard code",
                "a GB 50137-2011 code", tok))
    return out


def check_code_combined(rows: list[Row], ctx: dict) -> list[dict]:
    """``code_combined``: a cell printing two codes (``H H4``) must hold a class and its own
    subclass; otherwise the row cannot be placed in the table's structure."""
    out = []
    for r in rows:
        if r.is_sum or not r.code or len(r.tokens) < 2:
            continue
        chain_ok = all(parent_code(b) == a for a, b in pairwise(r.tokens))
        if not chain_ok:
            cell = " ".join(r.tokens)
            out.append(finding(
                "code_combined", "error", ctx, r, r.code,
                f"第 {r.row} 行：代码格 {cell!r} 中的代码不是大类与其中类的关系",
                f"{r.where}: the code cell {cell!r} holds codes that are not a class and "
                "its subclass; give one code per row",
                "class + its subclass", cell))
    return out


def check_code_duplicate(rows: list[Row], ctx: dict) -> list[dict]:
    """``code_duplicate``: a code printed twice in one block. Each class should appear once;
    a repeat usually means one of the rows is a different class with a mistyped code, and
    the repeat would count its hectares twice."""
    out = []
    seen: dict[tuple[int, str], list[Row]] = {}
    for r in rows:
        if r.is_sum:
            continue
        for tok in r.tokens:
            seen.setdefault((r.block, tok), []).append(r)
    for (_, code), rs in seen.items():
        if len(rs) < 2:
            continue
        where = ", ".join(str(x.row) for x in rs)
        names = "；".join(f"{x.row}: {x.name}" for x in rs)
        out.append(finding(
            "code_duplicate", "error", ctx, rs[1], code,
            f"代码 {code} 在同一部分出现 {len(rs)} 次（第 {where} 行：{names}）",
            f"code {code} appears {len(rs)} times in one block of the table (rows {where}); "
            "each class should appear once — check whether one of them is a different class",
            "1 row", f"{len(rs)} rows ({where})"))
    return out


def _same_name_codes(name: str, code: str) -> list[str]:
    key = norm_name(name)
    reg = gb_codes()
    hits = [c for c, r in reg.items() if norm_name(r["name_zh"]) == key and c != code]
    same_cat = [c for c in hits if c[:1] == code[:1]]
    return same_cat or hits


def check_name_mismatch(rows: list[Row], ctx: dict) -> list[dict]:
    """``name_mismatch`` (warning): the printed name is not the registry name of the code
    (whitespace and a trailing 用地 aside). Either the code or the name is wrong; when the
    name belongs to another code, the message names it."""
    reg = gb_codes()
    out = []
    for r in rows:
        if r.is_sum or not r.code or not r.name or r.code not in reg:
            continue
        want = reg[r.code]["name_zh"]
        if norm_name(want) == norm_name(r.name):
            continue
        alt = _same_name_codes(r.name, r.code)
        alt_zh = f"；“{r.name}”是 {'、'.join(alt[:3])} 的名称" if alt else ""
        alt_en = f"; {r.name!r} is the name of {', '.join(alt[:3])}" if alt else ""
        out.append(finding(
            "name_mismatch", "warning", ctx, r, r.code,
            f"第 {r.row} 行：代码 {r.code} 在 GB 50137-2011 中是“{want}”，表中写作“{r.name}”{alt_zh}",
            f"{r.where}: code {r.code} is {want!r} ({reg[r.code]['name_en']}) in GB 50137-2011, "
            f"but the table names it {r.name!r}{alt_en}; fix the code or the name",
            want, r.name + (f" (= {alt[0]})" if alt else "")))
    return out


def check_category_misfiled(rows: list[Row], ctx: dict) -> list[dict]:
    """``category_misfiled`` (warning): a row filed under the wrong heading.

    Two cases: a subclass printed under another class's heading with no row of its own
    class (M2 after W), and a 城乡用地 class (H, E; GB 50137-2011 Table 3.2.2) counted
    inside a 城市建设用地 total, which holds only R A B M W S U G (Table 3.3.2).
    """
    by_row = {r.row: r for r in rows}
    reg = gb_codes()
    out = []
    last_major: dict[int, Row] = {}
    for r in rows:
        if r.is_sum or not r.code:
            continue
        # a subclass printed under another class's heading (M2 after W, with no M row)
        if any(depth(t) == 1 for t in r.tokens):
            last_major[r.block] = r
        elif (depth(r.code) or 0) > 1:
            head = last_major.get(r.block)
            parent = by_row.get(r.parent_row) if r.parent_row is not None else None
            if head is not None and (parent is None or parent.is_sum) and head.code[:1] != r.code[:1]:
                out.append(finding(
                    "category_misfiled", "warning", ctx, r, r.code,
                    f"第 {r.row} 行：{r.code} {r.name} 属于 {r.code[:1]} 类，却排在第 {head.row} 行 "
                    f"{head.label} 之下",
                    f"{r.where}: {r.code} ({r.name}) belongs to class {r.code[:1]} but is printed "
                    f"under row {head.row} ({head.label}); check the code, or move the row under "
                    f"its own class",
                    r.code[:1], head.code[:1]))
        if r.parent_row is None:
            continue
        s = by_row.get(r.parent_row)
        if s is None or not s.is_sum or "城市建设用地" not in norm_total_name(s.name):
            continue
        bad = [t for t in r.tokens
               if (reg[t]["table"] != "城市建设用地" if t in reg else t[:1] not in CITY_LETTERS)]
        if not bad:
            continue
        tok = bad[-1]
        out.append(finding(
            "category_misfiled", "warning", ctx, r, tok,
            f"第 {r.row} 行：{tok} {r.name} 属于城乡用地分类（GB 50137-2011 表3.2.2），"
            f"却计入“{s.name}”；城市建设用地只包括 R A B M W S U G",
            f"{r.where}: {tok} ({r.name}) is a 城乡用地 class (GB 50137-2011 Table 3.2.2) but is "
            f"counted in {s.name!r}; 城市建设用地 holds only R A B M W S U G — "
            "move it outside the 城市建设用地 total",
            "R A B M W S U G", " ".join(r.tokens)))
    return out


def _sum_findings(rows: list[Row], ctx: dict, *, of_sums: bool) -> list[dict]:
    """Rows whose children do not add up to them: only sum rows (``of_sums``) or only class rows."""
    children: dict[int, list[Row]] = {}
    for r in rows:
        if r.parent_row is not None:
            children.setdefault(r.parent_row, []).append(r)
    out = []
    for p in rows:
        if p.is_sum != of_sums:
            continue
        kids = children.get(p.row)
        if not kids or p.area_problem or any(k.area_problem for k in kids):
            continue
        status, d, diff = _closes(p.area, [k.area for k in kids], [p.area_dec] + [k.area_dec for k in kids])
        if status == "ok":
            continue
        total = math.fsum(k.area for k in kids)
        parts = " + ".join(fmt(k.area, d) for k in kids)
        rule = "total_sum" if p.is_sum else "children_sum"
        if status == "rounding":
            sev = "info"
        elif rule == "children_sum" and total < p.area:
            sev = "warning"
        else:
            sev = "error"
        what_zh = "各类之和" if p.is_sum else "中/小类之和"
        what_en = "the rows under it" if p.is_sum else "its subclasses"
        tail_zh = "（在舍入误差之内）" if status == "rounding" else ""
        tail_en = (f"; within rounding ({len(kids)} figures × half a unit of {10.0 ** -d:g})"
                   if status == "rounding" else
                   "; a figure is wrong or a row is missing" if sev != "warning" else
                   "; the breakdown is incomplete or a figure is wrong")
        out.append(finding(
            rule, sev, ctx, p, p.code,
            f"第 {p.row} 行 {p.label} 为 {fmt(p.area, d)}，{what_zh} {parts} = {fmt(total, d)}，"
            f"相差 {fmt(diff, d)}{tail_zh}",
            f"{p.where} ({p.label}) states {fmt(p.area, d)} ha but {what_en} add up to "
            f"{parts} = {fmt(total, d)} ha (difference {fmt(diff, d)}){tail_en}",
            fmt(p.area, d), fmt(total, d)))
    return out


def check_children_sum(rows: list[Row], ctx: dict) -> list[dict]:
    """``children_sum``: a class row against the subclasses printed under it (M against M1 + M2).

    Compared at the table's rounding (:func:`_closes`): within it, ``info``; beyond
    it, ``error`` when the subclasses add up to more than the class, ``warning`` when
    to less (the breakdown may list only some subclasses).
    """
    return _sum_findings(rows, ctx, of_sums=False)


def check_total_sum(rows: list[Row], ctx: dict) -> list[dict]:
    """``total_sum``: a total or subtotal against the rows that add into it (its top-level
    classes, and for the total also the subtotals); ``info`` within rounding, else ``error``."""
    return _sum_findings(rows, ctx, of_sums=True)


def check_total_missing(rows: list[Row], ctx: dict) -> list[dict]:
    """``total_missing``: no total row, so neither the sums nor the shares can be checked."""
    totals = [r for r in rows if r.kind == "total"]
    if not totals:
        return [finding(
            "total_missing", "error", ctx, None, "",
            "表中没有合计行，无法核对各类之和与比例",
            "the table has no total row, so its sums and shares cannot be checked; add the "
            "total (e.g. 城乡用地 or 规划范围总用地合计) as a row with an empty code",
            "a total row", "none")]
    return []


def check_total_multiple(rows: list[Row], ctx: dict) -> list[dict]:
    """``total_multiple``: more than one row is the total; the others should be subtotals
    (``row_kind=subtotal``), or the table's structure (what adds into what) is ambiguous."""
    totals = [r for r in rows if r.kind == "total"]
    if len(totals) > 1:
        where = ", ".join(str(t.row) for t in totals)
        return [finding(
            "total_multiple", "error", ctx, totals[1], "",
            f"表中有 {len(totals)} 个合计行（第 {where} 行）",
            f"the table has {len(totals)} total rows (rows {where}); keep one total and mark "
            "the others as subtotals (row_kind=subtotal)",
            "1 total row", f"{len(totals)} ({where})")]
    return []


def share_basis_row(rows: list[Row]) -> Row | None:
    """The row the shares are percentages of: the total/subtotal printed as 100 %."""
    sums = [r for r in rows if r.is_sum]
    for r in sums:
        if not r.share_problem and abs(r.share - 100.0) < 1e-9:
            return r
    return None


def _share_basis(rows: list[Row], ctx: dict) -> tuple[Row | None, list[dict]]:
    """The row the shares are taken of, and the ``share_basis`` findings about it.

    No basis (None) when no share is printed, or no total row can serve as one.
    """
    share_basis = ctx["share_basis"]
    if not any(not r.share_problem for r in rows):
        return None, []
    out = []
    basis = share_basis_row(rows)
    if basis is None:
        named = [r for r in rows if r.is_sum and share_basis
                 and norm_total_name(r.name) == norm_total_name(share_basis)]
        totals = [r for r in rows if r.kind == "total"]
        basis = named[0] if named else totals[0] if totals else None
        out.append(finding(
            "share_basis", "warning", ctx, basis, "",
            "没有合计行标为 100%，无法确定比例的基数"
            + (f"；按“{basis.name}”核对" if basis is not None else ""),
            "no total or subtotal row is printed as 100 %, so the share basis is unclear"
            + (f"; checking the shares against {basis.name!r}" if basis is not None else ""),
            "a total row at 100.00", "none"))
        if basis is None:
            return None, out
    elif share_basis and norm_total_name(share_basis) != norm_total_name(basis.name):
        out.append(finding(
            "share_basis", "warning", ctx, basis, "",
            f"表头称比例是占“{share_basis}”的比例，但标为 100% 的是第 {basis.row} 行“{basis.name}”",
            f"the header says the shares are of {share_basis!r}, but the row printed as 100 % "
            f"is row {basis.row} ({basis.name!r}); read the shares as shares of {basis.name!r}",
            share_basis, basis.name))
    return basis, out


def _usable_basis(rows: list[Row], ctx: dict) -> Row | None:
    basis = _share_basis(rows, ctx)[0]
    return None if basis is None or basis.area_problem or basis.area <= 0 else basis


def check_share_basis(rows: list[Row], ctx: dict) -> list[dict]:
    """``share_basis`` (warning): which total the shares are percentages of is unclear.

    The basis is the total or subtotal printed as 100 %. Without one, the shares
    are checked against the row the header names (``share_basis``) or the total;
    a header naming another row than the 100 % row is reported too.
    """
    return _share_basis(rows, ctx)[1]


def check_share_mismatch(rows: list[Row], ctx: dict) -> list[dict]:
    """``share_mismatch``: a printed share differs from area / basis × 100.

    ``warning`` beyond what the rounding of the share and of both areas allows;
    ``info`` when only that rounding explains the difference.
    """
    basis = _usable_basis(rows, ctx)
    if basis is None:
        return []
    out = []
    b, ub = basis.area, 0.5 * 10.0 ** -(basis.area_dec or 0)
    for r in rows:
        if r is basis or r.share_problem or r.area_problem:
            continue
        d = r.share_dec or 0
        us = 10.0 ** -d
        ua = 0.5 * 10.0 ** -(r.area_dec or 0)
        recomputed = r.area / b * 100.0
        lo = max(r.area - ua, 0.0) / (b + ub) * 100.0
        hi = (r.area + ua) / max(b - ub, 1e-12) * 100.0
        if r.share + us / 2 < lo - 1e-9 or r.share - us / 2 > hi + 1e-9:
            sev, tail_zh, tail_en = "warning", "", ""
        elif round(recomputed, d) != round(r.share, d):
            sev, tail_zh, tail_en = "info", "（在面积舍入误差之内）", "; within the rounding of the areas"
        else:
            continue
        out.append(finding(
            "share_mismatch", sev, ctx, r, r.code,
            f"第 {r.row} 行 {r.label}：{fmt(r.area, r.area_dec or 0)} / {fmt(b, basis.area_dec or 0)} = "
            f"{recomputed:.{d + 2}f}%，表中为 {r.share_text}%{tail_zh}",
            f"{r.where} ({r.label}): {fmt(r.area, r.area_dec or 0)} / {fmt(b, basis.area_dec or 0)} ha "
            f"= {recomputed:.{d + 2}f} %, but the table prints {r.share_text} %{tail_en}",
            fmt(recomputed, d), r.share_text))
    return out


def check_shares_sum(rows: list[Row], ctx: dict) -> list[dict]:
    """``shares_sum``: the shares of the rows directly under the 100 % row do not add up to
    100 (``info`` within the shares' rounding, else ``warning``)."""
    basis = _usable_basis(rows, ctx)
    if basis is None:
        return []
    out = []
    kids = [r for r in rows if r.parent_row == basis.row]
    if kids and all(not k.share_problem for k in kids):
        status, d, diff = _closes(100.0, [k.share for k in kids], [k.share_dec for k in kids])
        if status != "ok":
            total = math.fsum(k.share for k in kids)
            sev = "info" if status == "rounding" else "warning"
            tail_en = (f"; within rounding ({len(kids)} shares)" if status == "rounding"
                       else "; a share is wrong")
            out.append(finding(
                "shares_sum", sev, ctx, basis, "",
                f"“{basis.name}”以下各类比例之和为 {fmt(total, d)}%，不是 100%"
                + ("（舍入所致）" if status == "rounding" else ""),
                f"the shares of the {len(kids)} rows under {basis.name!r} add up to "
                f"{fmt(total, d)} %, not 100 %{tail_en}",
                fmt(100.0, d), fmt(total, d)))
    return out




def check_zones_sum(rows: list[Row], ctx: dict) -> list[dict]:
    """``zones_sum``: the planned function zones (``ctx["zones"]``: zone_no, name, area_ha,
    decimals, area as printed) against the table's total.

    The plan text gives the zones and the table separately; a park whose zones do not
    add up to its table has one figure wrong. Zones split into sub-areas (3.1, 3.2)
    are counted once, by their parts.
    """
    zones = ctx.get("zones")
    total = next((r for r in rows if r.kind == "total" and not r.area_problem), None)
    if total is None or not zones:
        return []
    numbers = {z[0] for z in zones}
    counted = [z for z in zones if not math.isnan(z[2])
               and not any(n.startswith(f"{z[0]}.") for n in numbers if z[0])]
    if not counted:
        return []
    status, d, diff = _closes(total.area, [z[2] for z in counted],
                              [total.area_dec] + [z[3] for z in counted])
    if status == "ok":
        return []
    s = math.fsum(z[2] for z in counted)
    parts = " + ".join(z[4] or f"{z[2]:g}" for z in counted)
    sev = "info" if status == "rounding" else "warning"
    tail_zh = "（在舍入误差之内）" if status == "rounding" else ""
    tail_en = "; within rounding" if status == "rounding" else ""
    return [finding(
        "zones_sum", sev, ctx, total, "",
        f"{len(counted)} 个功能分区面积之和 {parts} = {fmt(s, d)} 公顷，与“{total.name}” "
        f"{fmt(total.area, d)} 公顷相差 {fmt(diff, d)}{tail_zh}",
        f"the {len(counted)} function zones add up to {parts} = {fmt(s, d)} ha, but the table's "
        f"{total.name!r} is {fmt(total.area, d)} ha (difference {fmt(diff, d)}){tail_en}",
        fmt(total.area, d), fmt(s, d))]


def check_park_area(rows: list[Row], ctx: dict) -> list[dict]:
    """``park_area`` (warning): the table's total against the park size stated in the text
    (``ctx["park_area_km2"]``: km², printed decimals), at the text's rounding."""
    if ctx.get("park_area_km2") is None:
        return []
    km2, km2_dec = ctx["park_area_km2"]
    total = next((r for r in rows if r.kind == "total" and not r.area_problem), None)
    if total is None:
        return []
    t_km2 = total.area / 100.0
    unit = 10.0 ** -km2_dec
    if abs(t_km2 - km2) <= unit / 2 + 1e-9:
        return []
    stated = fmt(km2, km2_dec)
    return [finding(
        "park_area", "warning", ctx, total, "",
        f"规划文本称园区面积 {stated} 平方公里（{km2 * 100:g} 公顷），而“{total.name}”为 "
        f"{fmt(total.area, total.area_dec or 2)} 公顷 = {t_km2:g} 平方公里，约为 {fmt(t_km2, km2_dec)}",
        f"the text gives the park as {stated} km² ({km2 * 100:g} ha), but the table's "
        f"{total.name!r} is {fmt(total.area, total.area_dec or 2)} ha = {t_km2:g} km², which rounds "
        f"to {fmt(t_km2, km2_dec)} km²",
        f"{stated} km2", f"{t_km2:g} km2")]




#: The check of each rule, in the order of :data:`RULES`.
CHECKS = {
    "area_invalid": check_area_invalid,
    "area_negative": check_area_negative,
    "share_invalid": check_share_invalid,
    "code_missing": check_code_missing,
    "code_unknown": check_code_unknown,
    "code_combined": check_code_combined,
    "code_duplicate": check_code_duplicate,
    "name_mismatch": check_name_mismatch,
    "category_misfiled": check_category_misfiled,
    "children_sum": check_children_sum,
    "total_sum": check_total_sum,
    "total_missing": check_total_missing,
    "total_multiple": check_total_multiple,
    "share_mismatch": check_share_mismatch,
    "shares_sum": check_shares_sum,
    "share_basis": check_share_basis,
    "zones_sum": check_zones_sum,
    "park_area": check_park_area,
}
assert list(CHECKS) == list(RULES)


def run_checks(rows: list[Row], ctx: dict) -> list[dict]:
    """Every rule's findings for one table, ordered by row, then by rule (:data:`RULES`)."""
    found = [f for check in CHECKS.values() for f in check(rows, ctx)]
    order = {k: i for i, k in enumerate(RULES)}
    found.sort(key=lambda f: (f["row"] if f["row"] is not None else 10**9, order[f["rule"]]))
    return found
