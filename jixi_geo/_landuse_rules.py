"""Private helpers of :mod:`jixi_geo.landuse`.

The GB 50137-2011 code registry and the other rule files, number and code parsing,
the structure of a land-use table (which row sums into which), the validation
rules, and the reading of users' files and frames (encodings, column layouts).
Nothing here is public; :mod:`jixi_geo.landuse` documents the behaviour.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ._problems import check_encoding_name, nul_diagnosis
from .errors import EncodingError, InputError, SchemaError

# --------------------------------------------------------------------------- registries


def _read_rules(name: str) -> pd.DataFrame:
    from .rules import read_rule_file

    return read_rule_file(name)


@lru_cache(maxsize=1)
def gb_codes() -> dict[str, dict[str, str]]:
    """``gb50137_codes.csv`` as {code: row}, in the registry's order."""
    return {r["code"]: r for r in _read_rules("gb50137_codes.csv").to_dict("records")}


@lru_cache(maxsize=1)
def gb_order() -> dict[str, int]:
    return {c: i for i, c in enumerate(gb_codes())}


@lru_cache(maxsize=1)
def crosswalk_2023() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for r in _read_rules("crosswalk_gb50137_to_2023.csv").to_dict("records"):
        out.setdefault(r["gb50137_code"], []).append(r)
    return out


@lru_cache(maxsize=1)
def codes_2023() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in _read_rules("landuse_2023_codes.csv").to_dict("records")}


@lru_cache(maxsize=1)
def structure_ranges() -> tuple[dict[str, str], ...]:
    return tuple(_read_rules("gb50137_structure_ranges.csv").to_dict("records"))


#: Major classes of Table 3.3.2 (城市建设用地); H and E belong to Table 3.2.2 (城乡用地).
CITY_LETTERS = frozenset("RABMWSUG")

#: Codes that web pages and templates often use but GB 50137-2011 does not have.
MISQUOTES = {
    "R4": ("R4 四类居住用地只见于 GBJ 137-90，GB 50137-2011 只有 R1–R3",
           "R4 existed only in GBJ 137-90; GB 50137-2011 has R1–R3"),
    "E3": ("E 只有 E1、E2、E9，没有 E3", "E has E1, E2 and E9 only; there is no E3"),
    "H15": ("H15 独立建设用地只见于报批稿，正式标准的 H1 只有 H11–H14",
            "H15 appears only in the draft; the published H1 has H11–H14"),
    "C": ("C 公共设施用地是 GBJ 137-90 的大类，现为 A 和 B",
          "C is a GBJ 137-90 class; GB 50137-2011 splits it into A and B"),
    "T": ("T 对外交通用地是 GBJ 137-90 的大类，现为 H2", "T is a GBJ 137-90 class; now H2"),
    "D": ("D 特殊用地是 GBJ 137-90 的大类，现为 H4", "D is a GBJ 137-90 class; now H4"),
}

LEVEL_NAMES = {1: "major", 2: "medium", 3: "minor"}
LEVEL_DEPTH = {v: k for k, v in LEVEL_NAMES.items()}

#: English labels for the total rows printed in Chinese planning tables.
TOTAL_NAMES_EN = {
    "城乡用地": "Urban and rural land",
    "建设用地范围内城乡用地": "Urban and rural land inside the construction-land boundary",
    "城市建设用地": "City construction land",
    "建设用地": "Construction land",
    "规划范围总用地": "Total planning area",
    "规划用地范围总用地": "Total planning area",
    "总用地": "Total land",
    "预留发展用地": "Land reserved for development",
}

# --------------------------------------------------------------------------- text and numbers


def nfkc(text: Any) -> str:
    """Text with full-width forms folded (NFKC) and outer whitespace removed; '' for missing."""
    if type(text) is str:
        return _nfkc_str(text)
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return _nfkc_str(str(text))


@functools.lru_cache(maxsize=1 << 16)
def _nfkc_str(s: str) -> str:
    # ASCII is unchanged by NFKC; table cells repeat (codes, names), hence the cache
    return (s if s.isascii() else unicodedata.normalize("NFKC", s)).strip()


_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_EMPTY_MARKS = {"", "-", "—", "–", "/", "\\", "--", "——"}


def float_decimals(value: float) -> int:
    """Decimals needed to write ``value`` (47.63 → 2, 43.0 → 0), at most 10."""
    s = f"{value:.10f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


def parse_number(text: Any, *, percent: bool = False) -> tuple[float, int | None, str]:
    """Parse a published number.

    Returns ``(value, decimals, problem)``: ``problem`` is ``""`` when the text is
    a number, ``"empty"`` when the cell is empty (or a dash), otherwise
    ``"not a number"``. ``decimals`` is the number of printed decimals.
    """
    if type(text) is str:
        return _parse_text(text, percent)
    if isinstance(text, bool):
        return math.nan, None, "not a number"
    if isinstance(text, (int, float)):
        v = float(text)
        if math.isnan(v):
            return math.nan, None, "empty"
        if not math.isfinite(v):
            return math.nan, None, "not a number"
        return v, float_decimals(v), ""
    return _parse_text(str(text), percent)


@functools.lru_cache(maxsize=1 << 16)
def _parse_text(text: str, percent: bool) -> tuple[float, int | None, str]:
    s = nfkc(text).replace("\u2212", "-").replace(" ", "")
    if percent and s.endswith("%"):
        s = s[:-1]
    if s in _EMPTY_MARKS:
        return math.nan, None, "empty"
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    if _NUM_RE.match(s):
        return float(s), (len(s.split(".")[1]) if "." in s else 0), ""
    try:
        v = float(s)
    except ValueError:
        return math.nan, None, "not a number"
    if not math.isfinite(v):
        return math.nan, None, "not a number"
    return v, float_decimals(v), ""


def fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


# --------------------------------------------------------------------------- codes

_CODE_RE = re.compile(r"^[A-Z]\d{0,3}$")


def code_tokens(cell: Any) -> list[str]:
    """The codes printed in one code cell (``"H H4"`` → ``["H", "H4"]``), upper-cased."""
    return list(_code_tokens(nfkc(cell)))


@functools.lru_cache(maxsize=1 << 14)
def _code_tokens(text: str) -> tuple[str, ...]:
    return tuple(text.upper().split())


def depth(code: str) -> int | None:
    """1 for a 大类 letter, 2 for letter + 1 digit, 3 for letter + 2 digits; None if malformed."""
    return len(code) if _CODE_RE.match(code or "") else None


def parent_code(code: str) -> str:
    """The code one level up: from the registry, else by the code's shape ('' for a major class)."""
    reg = gb_codes().get(code)
    if reg is not None:
        return reg["parent"]
    d = depth(code)
    return code[:-1] if d and d > 1 else ""


def level_of(code: str) -> str:
    reg = gb_codes().get(code)
    if reg is not None:
        return reg["level"]
    d = depth(code)
    return LEVEL_NAMES.get(d or 0, "unknown")


def ancestors(code: str) -> list[str]:
    out = []
    p = parent_code(code)
    while p:
        out.append(p)
        p = parent_code(p)
    return out


def norm_name(name: Any) -> str:
    """A class name for comparison: no whitespace, no trailing 用地."""
    return _norm_name(nfkc(name))


@functools.lru_cache(maxsize=1 << 14)
def _norm_name(text: str) -> str:
    s = _WS_RE.sub("", text)
    return s[:-2] if s.endswith("用地") and len(s) > 2 else s


_WS_RE = re.compile(r"\s+")


def norm_total_name(name: Any) -> str:
    """A total-row label for comparison: no whitespace, no trailing 合计/总计/小计."""
    return _norm_total_name(nfkc(name))


@functools.lru_cache(maxsize=1 << 14)
def _norm_total_name(text: str) -> str:
    s = _WS_RE.sub("", text)
    for suffix in ("合计", "总计", "小计", "总和"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
    return s


_SUM_NAME_RE = re.compile(r"(合计|总计|小计|总用地|总面积|^total\b|^subtotal\b|^sum$)", re.I)
_SUM_NAMES = {"城乡用地", "城市建设用地", "建设用地范围内城乡用地"}


def looks_like_sum(name: Any) -> bool:
    s = re.sub(r"\s+", "", nfkc(name))
    return bool(_SUM_NAME_RE.search(s)) or s in _SUM_NAMES


# --------------------------------------------------------------------------- table structure

SUM_KINDS = ("subtotal", "total")
ROW_KINDS = ("class", "subclass", "non_construction", "other", "subtotal", "total")


@dataclass
class Row:
    """One table row as the checks see it."""

    i: int  # position in the table
    row: int
    tokens: list[str]
    code: str
    kind: str
    name: str
    area: float
    area_dec: int | None
    area_text: str
    area_problem: str
    share: float
    share_dec: int | None
    share_text: str
    share_problem: str
    source_line: Any = None
    block: int = 0
    parent_row: int | None = None

    @property
    def is_sum(self) -> bool:
        return self.kind in SUM_KINDS

    @property
    def where(self) -> str:
        line = f", line {self.source_line}" if self.source_line not in (None, "") and not (
            isinstance(self.source_line, float) and math.isnan(self.source_line)) else ""
        return f"row {self.row}{line}"

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip() if self.code else self.name


def assign_structure(rows: list[Row]) -> None:
    """Set ``block`` and ``parent_row`` on each row, in place.

    A subtotal closes a block: it sums the top-level rows of its block. A total
    sums the subtotals before it and the top-level rows that no subtotal took.
    A class row's parent is the nearest earlier row of its block that carries
    its parent code (or grandparent); a class row without one is top-level.

    Linear time: the latest row of the block carrying each code is kept in a
    dict, so finding a parent is a lookup, not a scan of the earlier rows.
    """
    block = 0
    pending: list[Row] = []
    subtotals: list[Row] = []
    latest: dict[str, Row] = {}  # code -> the latest row of this block that carries it
    for r in rows:
        r.block = block
        if r.kind == "subtotal":
            for t in pending:
                t.parent_row = r.row
            subtotals.append(r)
            pending, latest = [], {}
            block += 1
        elif r.kind == "total":
            for t in pending + subtotals:
                t.parent_row = r.row
            pending, subtotals, latest = [], [], {}
            block += 1
        else:
            parent = None
            if r.code:
                for anc in ancestors(r.code):
                    parent = latest.get(anc)
                    if parent is not None:
                        break
            if parent is not None:
                r.parent_row = parent.row
            else:
                pending.append(r)
            for tok in r.tokens:
                latest[tok] = r


# --------------------------------------------------------------------------- findings

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


def check_values(rows: list[Row], ctx: dict) -> list[dict]:
    out = []
    for r in rows:
        if r.kind == "other" and r.area_problem == "empty":
            continue
        if r.area_problem:
            what_zh = "面积为空" if r.area_problem == "empty" else f"面积 {r.area_text!r} 不是数字"
            what_en = ("has no area" if r.area_problem == "empty"
                       else f"has an area {r.area_text!r} that is not a number")
            out.append(finding(
                "area_invalid", "error", ctx, r, r.code,
                f"第 {r.row} 行 {r.label}：{what_zh}；请填写以公顷计的数值",
                f"{r.where} ({r.label}) {what_en}; enter the area in hectares, e.g. 12.50",
                "a number (ha)", r.area_text))
        elif r.area < 0:
            out.append(finding(
                "area_negative", "error", ctx, r, r.code,
                f"第 {r.row} 行 {r.label}：面积为负数 {r.area_text}",
                f"{r.where} ({r.label}) has a negative area {r.area_text}; areas must be ≥ 0",
                ">= 0", r.area_text))
        if r.share_problem == "not a number":
            out.append(finding(
                "share_invalid", "error", ctx, r, r.code,
                f"第 {r.row} 行 {r.label}：比例 {r.share_text!r} 不是数字",
                f"{r.where} ({r.label}) has a share {r.share_text!r} that is not a number; "
                "write the percentage without text, e.g. 12.34",
                "a number (%)", r.share_text))
    return out


def check_codes(rows: list[Row], ctx: dict) -> list[dict]:
    reg = gb_codes()
    out = []
    for r in rows:
        if r.is_sum:
            continue
        if not r.code:
            out.append(finding(
                "code_missing", "info", ctx, r, "",
                f"第 {r.row} 行 {r.name}：没有用地代码，计入合计但不属于任何用地类别",
                f"{r.where} ({r.name}) has no land-use code; it counts in the totals but in no class",
                "a GB 50137-2011 code", ""))
            continue
        for tok in r.tokens:
            if tok in reg:
                continue
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
            out.append(finding(
                "code_unknown", "error", ctx, r, tok,
                f"第 {r.row} 行：代码 {tok!r} 不在 GB 50137-2011 中（{hint_zh}）",
                f"{r.where}: code {tok!r} is not in GB 50137-2011 ({hint_en}); "
                "correct it or map it to a standard code",
                "a GB 50137-2011 code", tok))
        if len(r.tokens) > 1:
            chain_ok = all(parent_code(b) == a for a, b in zip(r.tokens, r.tokens[1:]))
            if not chain_ok:
                cell = " ".join(r.tokens)
                out.append(finding(
                    "code_combined", "error", ctx, r, r.code,
                    f"第 {r.row} 行：代码格 {cell!r} 中的代码不是大类与其中类的关系",
                    f"{r.where}: the code cell {cell!r} holds codes that are not a class and "
                    "its subclass; give one code per row",
                    "class + its subclass", cell))
    return out


def check_duplicates(rows: list[Row], ctx: dict) -> list[dict]:
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


def check_names(rows: list[Row], ctx: dict) -> list[dict]:
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


def check_categories(rows: list[Row], ctx: dict) -> list[dict]:
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


def check_sums(rows: list[Row], ctx: dict) -> list[dict]:
    children: dict[int, list[Row]] = {}
    for r in rows:
        if r.parent_row is not None:
            children.setdefault(r.parent_row, []).append(r)
    out = []
    for p in rows:
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


def check_totals(rows: list[Row], ctx: dict) -> list[dict]:
    totals = [r for r in rows if r.kind == "total"]
    if not totals:
        return [finding(
            "total_missing", "error", ctx, None, "",
            "表中没有合计行，无法核对各类之和与比例",
            "the table has no total row, so its sums and shares cannot be checked; add the "
            "total (e.g. 城乡用地 or 规划范围总用地合计) as a row with an empty code",
            "a total row", "none")]
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


def check_shares(rows: list[Row], ctx: dict, share_basis: str) -> list[dict]:
    if not any(not r.share_problem for r in rows):
        return []
    out = []
    basis = share_basis_row(rows)
    if basis is None:
        named = [r for r in rows if r.is_sum and share_basis
                 and norm_total_name(r.name) == norm_total_name(share_basis)]
        totals = [r for r in rows if r.kind == "total"]
        basis = (named or totals or [None])[0]
        out.append(finding(
            "share_basis", "warning", ctx, basis, "",
            "没有合计行标为 100%，无法确定比例的基数"
            + (f"；按“{basis.name}”核对" if basis is not None else ""),
            "no total or subtotal row is printed as 100 %, so the share basis is unclear"
            + (f"; checking the shares against {basis.name!r}" if basis is not None else ""),
            "a total row at 100.00", "none"))
        if basis is None:
            return out
    elif share_basis and norm_total_name(share_basis) != norm_total_name(basis.name):
        out.append(finding(
            "share_basis", "warning", ctx, basis, "",
            f"表头称比例是占“{share_basis}”的比例，但标为 100% 的是第 {basis.row} 行“{basis.name}”",
            f"the header says the shares are of {share_basis!r}, but the row printed as 100 % "
            f"is row {basis.row} ({basis.name!r}); read the shares as shares of {basis.name!r}",
            share_basis, basis.name))
    if basis.area_problem or basis.area <= 0:
        return out
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


def check_zones(rows: list[Row], ctx: dict, zones: list[tuple[str, str, float, int | None, str]]) -> list[dict]:
    """``zones``: (zone_no, name, area_ha, decimals, area as printed)."""
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


def check_park_area(rows: list[Row], ctx: dict, km2: float, km2_dec: int) -> list[dict]:
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


# --------------------------------------------------------------------------- input files and frames

def decode_file(p: Path, encoding: str | None) -> tuple[str, str]:
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file; check the path (it is resolved from {Path.cwd()})") from None
    except IsADirectoryError:
        raise InputError(f"{p} is a folder; pass the CSV file inside it") from None
    except OSError as e:
        raise InputError(f"{p}: cannot be read ({e.strerror})") from None
    if raw[:4] == b"PK\x03\x04":
        raise InputError(
            f"{p.name} is an Excel workbook (or another zip file); save the sheet as "
            "'CSV UTF-8' and load that"
        )
    if encoding is not None:
        check_encoding_name(encoding)
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as e:
            raise EncodingError(
                f"{p.name} is not valid {encoding} (bad byte at offset {e.start}); omit "
                "encoding= to detect it, or pass the right one (files saved by Chinese "
                "Excel/WPS are usually encoding='gbk')"
            ) from None
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:1 << 16]:  # gb18030 would decode NULs into the column names
        raise EncodingError(nul_diagnosis(p.name, raw[:1 << 16]))
    tried = []
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError as e:
            tried.append(f"{enc} (bad byte at offset {e.start})")
    raise EncodingError(
        f"{p.name} is in none of the encodings tried: {'; '.join(tried)}. Pass encoding=..., "
        "or re-save the file as UTF-8."
    )


def read_user_csv(p: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    text, enc = decode_file(p, encoding)
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    sep = ","
    if "," not in first:
        sep = "\t" if "\t" in first else ";" if ";" in first else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as e:
        raise InputError(f"{p.name} cannot be read as CSV: {e}. Check the quotes.") from None
    if not records or not any(c.strip() for c in records[0]):
        raise InputError(f"{p.name} is empty; it needs a header row and one row per land-use class")
    header = [c.strip() for c in records[0]]
    while header and not header[-1]:
        header.pop()
    rows, lines, bad = [], [], []
    line = 1
    for rec in records[1:]:
        line += 1
        cells = [c.strip() for c in rec]
        if not any(cells):
            continue
        extra = cells[len(header):]
        if any(extra):
            bad.append(f"line {line} has {len(cells)} fields")
            continue
        rows.append(cells[: len(header)] + [""] * (len(header) - len(cells)))
        lines.append(line)
    if bad:
        raise InputError(
            f"{p.name}: the header has {len(header)} columns but " + "; ".join(bad[:5])
            + ". Quote cells that contain the separator, or remove the extra cells."
        )
    if not rows:
        raise InputError(f"{p.name} has a header but no data rows")
    df = pd.DataFrame(rows, columns=header, dtype=object)
    df.attrs["lines"] = lines
    return df, enc


_ALIASES = {
    "code_published": ("code_published", "code", "landuse_code", "代码", "用地代码", "类别代码",
                       "用地类别代码", "用地分类代码", "分类代码"),
    "name_published": ("name_published", "name", "name_zh", "名称", "用地名称", "类别名称",
                       "用地类别名称", "用地性质", "用地类别"),
    "area_ha_published": ("area_ha_published", "area_ha", "area", "面积", "面积(公顷)", "面积(ha)",
                          "面积(hm2)", "用地面积", "用地面积(公顷)", "用地面积(ha)", "用地面积(hm2)"),
    "share_published": ("share_published", "share_pct", "share", "比例", "比例(%)", "占比",
                        "占比(%)", "百分比", "百分比(%)"),
}
_PARSED = {"code_published": "code", "area_ha_published": "area_ha", "share_published": "share_pct"}
_OPTIONAL = ("park", "stage", "row", "share_basis", "row_kind", "section", "source_line", "note",
             "level_published")
_OTHER_UNITS = re.compile(r"(亩|平方米|平方公里|平方千米|km2|(?<!h)m2|mu\b|_mu$)")


def _header_key(h: Any) -> str:
    return re.sub(r"\s+", "", nfkc(h)).lower()


def cell_text(v: Any, *, figure: bool = False) -> str:
    """A cell as text. With ``figure``, a number given as int or float (not as text)
    is written to at least 2 decimals: it carries no printed precision, and
    planning tables give hectares and percentages to 0.01."""
    if type(v) is str:
        return nfkc(v)
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return fmt(float(v), 2) if figure else str(int(v))
    if isinstance(v, (float, np.floating)):
        d = float_decimals(float(v))
        return fmt(float(v), max(d, 2) if figure else d)
    return nfkc(v)


def resolve_layout(df: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """Map a frame's columns to the published layout (all cells text)."""
    dup = sorted({str(c) for c in df.columns if list(df.columns).count(c) > 1})
    if dup:
        raise SchemaError(f"{where}: the column(s) {dup} appear more than once; keep one of each")
    keys = {_header_key(c): c for c in reversed(list(df.columns))}
    cols = {k: df[c] for k, c in keys.items()}
    out: dict[str, list[str]] = {}
    n = len(df)

    def text(col, figure: bool = False) -> list[str]:
        values = col.tolist()
        seen: dict = {}  # cells repeat (codes, names): each distinct value is converted once
        keys = [(v.__class__, v) for v in values]  # 1, 1.0 and True are equal keys otherwise
        for k in keys:
            if k not in seen:
                seen[k] = cell_text(k[1], figure=figure)
        return [seen[k] for k in keys]

    for field, aliases in _ALIASES.items():
        found = [a for a in aliases if a in cols]
        if not found and field == "share_published":
            found = [k for k in cols if re.match(r"^占.*比", k) or k.startswith("比例")]
        if not found and field == "area_ha_published":
            other = [keys[k] for k in cols if ("面积" in k or k.startswith("area")) and _OTHER_UNITS.search(k)]
            if other:
                raise SchemaError(
                    f"{where}: the area column {other[0]!r} is not in hectares. Convert it "
                    "(jixi_geo.units.convert_area(values, 'mu', 'ha') for 亩) into a column "
                    "named area_ha."
                )
            found = [k for k in cols if "面积" in k]
        if not found:
            continue
        figure = field in ("area_ha_published", "share_published")
        primary = text(cols[found[0]], figure)
        parsed_col = _PARSED.get(field)
        if parsed_col and found[0] == field and parsed_col in cols:
            # both the published text and a parsed column (a table from load_table):
            # the parsed value wins where they disagree, written to the published decimals
            parsed = text(cols[parsed_col], figure)
            primary = [p if _agrees(field, p, v) else _redecimal(v, p) if figure else v
                       for p, v in zip(primary, parsed)]
        out[field] = primary
    missing = [f for f in ("code_published", "area_ha_published") if f not in out]
    if missing:
        need = {"code_published": "code (代码)", "area_ha_published": "area_ha (面积, hectares)"}
        raise SchemaError(
            f"{where}: no {' and no '.join(need[m] for m in missing)} column; the columns are "
            f"{list(df.columns)}. Use the layout of layers/tables/jidong_landuse.csv, or "
            "code,name,area_ha[,share_pct]."
        )
    out.setdefault("name_published", [""] * n)
    out.setdefault("share_published", [""] * n)
    for opt in _OPTIONAL:
        if opt in cols:
            out[opt] = text(cols[opt])
    frame = pd.DataFrame(out, dtype=object)
    blank = (frame[["code_published", "name_published", "area_ha_published", "share_published"]] == "").all(axis=1)
    return frame[~blank].reset_index(drop=True)


def _redecimal(value: str, published: str) -> str:
    v, d, prob = parse_number(value, percent=True)
    pd_ = parse_number(published, percent=True)[1]
    if prob or pd_ is None:
        return value
    return fmt(v, max(pd_, float_decimals(v)))


def _agrees(field: str, published: str, parsed: str) -> bool:
    if field == "code_published":
        toks = code_tokens(published)
        return (toks[-1] if toks else "") == nfkc(parsed).upper()
    a, b = parse_number(published, percent=True)[0], parse_number(parsed, percent=True)[0]
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-9


def _infer_kinds(raw: pd.DataFrame) -> list[str]:
    given = [(nfkc(k).lower() if "row_kind" in raw.columns else "") for k in
             (raw["row_kind"] if "row_kind" in raw.columns else [""] * len(raw))]
    kinds = []
    sums = []
    for i, (code, name, kind) in enumerate(zip(raw["code_published"], raw["name_published"], given)):
        if kind:
            kinds.append(kind)
            continue
        toks = code_tokens(code)
        if toks:
            kinds.append("non_construction" if toks[0].startswith("E")
                         else "class" if len(toks[-1]) == 1 else "subclass")
        elif looks_like_sum(name):
            kinds.append("subtotal")
            sums.append(i)
        else:
            kinds.append("other")
    if sums and not any(k == "total" for k in kinds):
        kinds[sums[-1]] = "total"
    return kinds


def rows_from_raw(raw: pd.DataFrame, *, where: str) -> list[Row]:
    kinds = _infer_kinds(raw)
    bad = [(i, k) for i, k in enumerate(kinds) if k not in ROW_KINDS]
    if bad:
        raise SchemaError(
            f"{where}: row_kind must be one of {ROW_KINDS}; found "
            + ", ".join(f"{k!r} (row {i + 1})" for i, k in bad[:5])
        )
    if "row" in raw.columns and (raw["row"] != "").all():
        try:
            numbers = [int(v) for v in raw["row"]]
        except ValueError:
            numbers = []
        if not numbers or len(set(numbers)) != len(numbers):
            raise SchemaError(
                f"{where}: the row column must hold distinct whole numbers (1, 2, 3 …); found "
                f"{list(raw['row'])[:8]}. Drop the column to number the rows in order."
            )
    else:
        numbers = list(range(1, len(raw) + 1))
    lines = raw["source_line"].tolist() if "source_line" in raw.columns else [None] * len(raw)
    fields = ("code_published", "name_published", "area_ha_published", "share_published")
    recs = (dict(zip(fields, vals)) for vals in zip(*(raw[f].tolist() for f in fields)))
    rows = []
    for i, (rec, kind, no, line) in enumerate(zip(recs, kinds, numbers, lines)):
        toks = code_tokens(rec["code_published"])
        area, adec, aprob = parse_number(rec["area_ha_published"])
        share, sdec, sprob = parse_number(rec["share_published"], percent=True)
        try:
            line = int(line) if line not in (None, "") else None
        except ValueError:
            line = None
        rows.append(Row(
            i=i, row=no, tokens=toks, code=toks[-1] if toks else "", kind=kind,
            name=nfkc(rec["name_published"]), area=area, area_dec=adec,
            area_text=nfkc(rec["area_ha_published"]), area_problem=aprob,
            share=share, share_dec=sdec, share_text=nfkc(rec["share_published"]),
            share_problem=sprob, source_line=line,
        ))
    assign_structure(rows)
    return rows


def class_areas(rows: list[Row], d: int) -> dict[str, float]:
    """Area per class at depth ``d``, each hectare counted once.

    Within a block, a class is taken from the row printed for it; where no such row
    exists, from the sum of its finest-printed subclasses (at the shallowest depth
    printed). A class printed above ``d`` without subclasses is kept as it is. Rows
    without a code are keyed by their name (``"name:预留发展用地"``).
    """
    out: dict[str, float] = {}
    blocks: dict[int, list[Row]] = {}
    for r in rows:
        if not r.is_sum and not (r.kind == "other" and r.area_problem == "empty"):
            blocks.setdefault(r.block, []).append(r)
    for rs in blocks.values():
        groups: dict[str, list[Row]] = {}
        # every proper prefix of a code in the block: a row "has descendants" if its code is one
        prefixes = {o.code[:k] for o in rs for k in range(1, len(o.code))}
        for r in rs:
            if not r.code:
                out[f"name:{r.name}"] = out.get(f"name:{r.name}", 0.0) + r.area
                continue
            rd = depth(r.code)
            if rd is None:
                key = r.code
            elif rd >= d:
                key = r.code[:d]
            else:
                if r.code in prefixes:  # a longer code in the block starts with it
                    continue
                key = r.code
            groups.setdefault(key, []).append(r)
        for key, g in groups.items():
            exact = [r for r in g if key in r.tokens]
            if exact:
                area = math.fsum(r.area for r in exact)
            else:
                mind = min(len(r.code) for r in g)
                area = math.fsum(r.area for r in g if len(r.code) == mind)
            out[key] = out.get(key, 0.0) + area
    return out
