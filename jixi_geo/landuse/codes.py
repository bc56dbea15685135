"""GB 50137-2011 codes and names, and the parsing of printed numbers and code cells.

The code registry and the other rule files are read from ``layers/rules/`` (see
``layers/rules/README.md``); nothing here reads a user's file.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from functools import lru_cache
from typing import Any

import pandas as pd

__all__ = ["gb_codes", "gb_order", "crosswalk_2023", "codes_2023", "structure_ranges", "LEVELS",
           "CITY_LETTERS", "MISQUOTES", "LEVEL_NAMES", "LEVEL_DEPTH", "TOTAL_NAMES_EN", "nfkc",
           "float_decimals", "parse_number", "fmt", "code_tokens", "depth", "parent_code", "level_of",
           "ancestors", "norm_name", "norm_total_name", "looks_like_sum"]

# --------------------------------------------------------------------------- registries


def _read_rules(name: str) -> pd.DataFrame:
    from ..rules import read_rule_file

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


#: Levels of the GB 50137-2011 classification: 大类, 中类, 小类.
LEVELS = ("major", "medium", "minor")

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


