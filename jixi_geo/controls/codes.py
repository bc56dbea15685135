"""The land-class code registry: GB/T 21010-2017 and the 三调 working classification.

Data in ``layers/rules/landcover_codes.csv`` (one row per code, with Chinese and
English names, level, parent, ``group`` and the 耕地 subclass) and
``layers/rules/landcover_groups.csv`` (the group labels). A land-cover layer's
codes are normalised here as ArcGIS exports them: ``DLBM`` text such as ``"0101"``,
a numeric field that lost the leading zero (``101``), or only the ``DLMC`` names.

Examples
--------
>>> class_info("0102")["cultivated"]
'irrigated'
>>> class_info("0303")["group"]
'wetland'
>>> class_info("9999") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from .. import rules as _rules

__all__ = ["GROUPS", "landcover_codes", "landcover_groups", "class_info", "known_codes", "code_for_name",
           "NormalisedCodes",
           "normalise_codes", "codes_from_names"]

#: The land-class groups, in display order (keys of ``layers/rules/landcover_groups.csv``).
GROUPS = ("cultivated", "garden", "forest", "grassland", "wetland", "construction", "transport", "water", "other")
_FLOAT_INT = re.compile(r"^(\d+)\.0+$")
_OLD_SCHEME = re.compile(r"^0\d\d$")  # three digits with a leading zero: GB/T 21010-2007 (二调) codes


@cache
def _codes() -> pd.DataFrame:
    return _rules.read_rule_file("landcover_codes.csv").set_index("code", drop=False)


def landcover_codes() -> pd.DataFrame:
    """The code registry (a copy), one row per code.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, level, parent, scheme, name_zh, name_en, group, cultivated,
        three_class, aliases, source, confidence``. ``group`` is one of :data:`GROUPS`;
        ``cultivated`` is ``paddy``/``irrigated``/``dryland`` for 0101/0102/0103, else "".
    """
    return _codes().reset_index(drop=True).copy()


def landcover_groups() -> pd.DataFrame:
    """The group labels (``group, order, name_zh, name_en, codes_zh, source, confidence``), in order."""
    t = _rules.read_rule_file("landcover_groups.csv")
    return t.assign(_o=t["order"].astype(int)).sort_values("_o").drop(columns="_o").reset_index(drop=True)


def class_info(code) -> dict | None:
    """The registry row of a normalised code (``"0101"``) as a dict, or None if unknown."""
    row = _row(str(code))
    return dict(row) if row is not None else None


@cache
def _row(key: str) -> dict | None:
    t = _codes()
    return t.loc[key].to_dict() if key in t.index else None


@cache
def known_codes() -> frozenset[str]:
    """Every code of the registry (for vectorised membership tests)."""
    return frozenset(_codes().index)


@cache
def _names() -> dict[str, str]:
    """Chinese name or alias -> code (names are unique in the registry; a test checks it)."""
    out: dict[str, str] = {}
    for code, zh, aliases in _codes()[["code", "name_zh", "aliases"]].itertuples(index=False):
        for n in [zh, *[a for a in aliases.split(";") if a]]:
            out.setdefault(n.strip(), code)
    return out


def code_for_name(name) -> str | None:
    """The code of a 地类名称 (``DLMC``) such as ``"水浇地"``, or None if unknown."""
    return _names().get(str(name).strip())


@dataclass(frozen=True)
class NormalisedCodes:
    """Codes of one column made comparable with the registry.

    Attributes
    ----------
    codes : numpy.ndarray of str
        One normalised code per row ("" where the cell was empty).
    padded : int
        How many cells got their leading zero back (``101`` -> ``"0101"``).
    note : tuple of str
        (中文, English) sentence saying what was decided and why, or ("", "").
    """

    codes: np.ndarray
    padded: int
    note: tuple[str, str]


def _clean(values: pd.Series) -> tuple[pd.Series, bool]:
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        ok = values.notna()
        text = pd.Series([""] * len(values), index=values.index, dtype=object)
        text[ok] = values[ok].astype("int64").astype(str)
        return text, True
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip().str.upper()
    text = text.str.replace(_FLOAT_INT, r"\1", regex=True)
    return text, False


def normalise_codes(values: pd.Series) -> NormalisedCodes:
    """Normalise a land-class code column (``DLBM``) as ArcGIS and Excel export it.

    The standard stores ``DLBM`` as text of 4 characters (TD/T 1057, 地类图斑
    ``DLBM Char(4)``), so a leading zero can only be lost by a numeric field or
    a numeric round trip (Excel, a Shapefile written with a numeric field). The
    decision, by evidence:

    - a **numeric column** (``101``, ``101.0``): every value had its zero dropped;
      3-digit values are padded to 4 (``0101``) and 1-digit values to 2 (``9`` ->
      ``09``, 特殊用地, which 三调 does not subdivide);
    - a **text column**: 3-digit values are padded only if every padded value is a
      registry code **and** no value has the GB/T 21010-2007 (二调) shape ``0xx``
      (``011`` 水田, ``101`` 铁路用地 in that scheme). With such values the column is
      read as the old scheme: nothing is padded, and the codes stay unknown.

    Parameters
    ----------
    values : pandas.Series
        The column as read (text, integer or float).

    Returns
    -------
    NormalisedCodes
    """
    text, numeric = _clean(values)
    three = text.str.fullmatch(r"\d{3}")
    one = text.str.fullmatch(r"\d")
    known = known_codes()
    padded_vals = text.where(~three, "0" + text).where(~one, "0" + text)
    cand = three | one
    if not cand.any():
        return NormalisedCodes(text.to_numpy(dtype=object), 0, ("", ""))
    old = text.str.fullmatch(_OLD_SCHEME).any()
    if numeric or (not old and padded_vals[cand].isin(known).all()):
        n = int(cand.sum())
        why_zh = "该列为数值字段" if numeric else "该列为文本，但补零后全部为登记编码，且没有 0xx 形式的旧编码"
        why_en = ("the column is numeric" if numeric else
                  "the column is text, every padded value is a registry code and none has the old 0xx shape")
        eg = f"{text[cand].iloc[0]} → {padded_vals[cand].iloc[0]}"
        return NormalisedCodes(padded_vals.to_numpy(dtype=object), n, (
            f"{n} 个地类编码丢失了前导零，已补齐（如 {eg}）：{why_zh}；三调 DLBM 为 4 位文本",
            f"{n} land-class codes had lost their leading zero and were padded (e.g. {eg}): {why_en}; "
            "the 三调 DLBM is 4-character text"))
    if old:
        eg = ", ".join(sorted(set(text[three]))[:5])
        return NormalisedCodes(text.to_numpy(dtype=object), 0, (
            f"地类编码含 3 位编码（{eg}），像是 GB/T 21010-2007（二调）编码，未补零、按未知地类处理；"
            "请使用三调/变更调查（GB/T 21010-2017）数据",
            f"the land-class codes include 3-digit codes ({eg}) that look like GB/T 21010-2007 (second "
            "survey) codes; they were not padded and count as unknown classes. Use 三调 / annual change-survey "
            "data (GB/T 21010-2017 codes)"))
    return NormalisedCodes(text.to_numpy(dtype=object), 0, ("", ""))


def codes_from_names(names: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes for a column of 地类名称 (``DLMC``); unknown names give "".

    Returns
    -------
    (numpy.ndarray of str, list of str)
        The codes, and the distinct names not found in the registry.
    """
    text = names.astype(object).where(names.notna(), "").astype(str).str.strip()
    lookup = _names()
    codes = text.map(lambda n: lookup.get(n, "")).to_numpy(dtype=object)
    unknown = sorted({n for n, c in zip(text, codes, strict=True) if n and not c})
    return codes, unknown
