"""The display vocabulary: labels, colours and order of verdicts, control levels and location precision.

One source for every output. The words and colours live in data files of ``layers/rules/``
(``verdicts.csv``, ``control_levels.csv``, ``location_precision.csv``, ``precision.csv``,
``activities.csv``); maps, report, figures,
CLI output and rule text all read them through this module, so a label or a colour is changed
in one place. Chinese comes first, English second.

Examples
--------
>>> label("verdict", "prohibited"), label("verdict", "prohibited", "en")
('禁止', 'prohibited')
>>> display("verdict", "clear")
'无冲突 clear'
>>> keys("verdict")[:2]
('prohibited', 'restricted')
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import pandas as pd

from ._paths import rules_dir
from .errors import UnknownCodeError

__all__ = ["KINDS", "GREY", "keys", "label", "labels", "display", "colour", "text_colour", "fill_opacity",
           "meaning", "stamp", "table", "Kind", "result_label", "result_display", "unchecked_controls"]

#: Vocabulary kinds -> (file in ``layers/rules/``, key column, order column, zh column, en column).
_FILES = {
    "verdict": ("verdicts.csv", "verdict", "order", "zh", "en"),
    "control_level": ("control_levels.csv", "control_level", "rank", "name_zh", "name_en"),
    "location_precision": ("location_precision.csv", "value", None, "zh", "en"),
    "precision": ("precision.csv", "value", None, "zh", "en"),
    "activity": ("activities.csv", "activity", None, "name_zh", "name_en"),
}
KINDS = tuple(_FILES)
#: Colour of a key that has none in its table (hex).
GREY = "#9e9e9e"

Kind = Literal["verdict", "control_level", "location_precision", "precision", "activity"]


@cache
def _table(kind: str) -> pd.DataFrame:
    if kind not in _FILES:
        raise UnknownCodeError(f"vocabulary kind {kind!r} is not known; use one of {', '.join(KINDS)}")
    name, key, order, *_ = _FILES[kind]
    df = pd.read_csv(rules_dir() / name, dtype=str, keep_default_na=False, encoding="utf-8")
    if order is not None:
        df = df.assign(_order=df[order].astype(int)).sort_values("_order", kind="stable").drop(columns="_order")
    return df.set_index(key, drop=False)


def table(kind: Kind) -> pd.DataFrame:
    """The vocabulary table of ``kind`` in display order, indexed by key (a copy)."""
    return _table(kind).copy()


@cache
def keys(kind: Kind) -> tuple[str, ...]:
    """The keys of ``kind`` in display order (verdicts most severe first, levels strictest first)."""
    return tuple(_table(kind).index)


@cache
def _records(kind: str) -> dict[str, dict[str, str]]:
    """The rows of ``kind`` as plain dicts by key (labels are looked up per site in reports: no pandas per call)."""
    return {str(k): {str(c): str(v) for c, v in row.items()} for k, row in _table(kind).iterrows()}


def _row(kind: str, key) -> dict[str, str] | None:
    return _records(kind).get(str(key))


def label(kind: Kind, key, lang: Literal["zh", "en"] = "zh") -> str:
    """The label of ``key`` in ``lang`` (``"zh"`` or ``"en"``); an unknown key is returned as text.

    Raises
    ------
    ValueError
        If ``lang`` is neither ``"zh"`` nor ``"en"``.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en'; got {lang!r}")
    row = _row(kind, key)
    if row is None:
        return str(key)
    _, _, _, zh, en = _FILES[kind]
    return str(row[zh if lang == "zh" else en])


def labels(kind: Kind, key) -> tuple[str, str]:
    """``(中文, English)`` labels of ``key``."""
    return label(kind, key, "zh"), label(kind, key, "en")


def display(kind: Kind, key, *, sep: str = " ") -> str:
    """``"中文 English"``: the label shown in legends, badges and summaries (Chinese first)."""
    zh, en = labels(kind, key)
    return zh if zh == en else f"{zh}{sep}{en}"


def _field(kind: str, key, column: str, default: str) -> str:
    row = _row(kind, key)
    if row is None or column not in row or not str(row[column]):
        return default
    return str(row[column])


def colour(kind: Kind, key) -> str:
    """The colour of ``key`` (lower-case hex); :data:`GREY` when it has none."""
    return _field(kind, key, "colour", GREY).lower()


def text_colour(kind: Kind, key) -> str:
    """The colour of text drawn on :func:`colour` (hex), chosen for contrast; black when unset."""
    return _field(kind, key, "text_colour", "#000000").lower()


def fill_opacity(kind: Kind, key, default: float = 0.3) -> float:
    """The fill opacity (0–1) of ``key`` on maps; ``default`` when unset."""
    return float(_field(kind, key, "fill_opacity", str(default)))


def meaning(kind: Kind, key, lang: Literal["zh", "en"] = "zh") -> str:
    """What ``key`` means, in one sentence (verdicts; description for control levels); '' if none."""
    col = {"verdict": "meaning", "control_level": "description"}.get(kind)
    return "" if col is None else _field(kind, key, f"{col}_{lang}", "")


def stamp(precision) -> tuple[str, str] | None:
    """The ``(中文, English)`` stamp a map of features of this ``precision`` carries, or ``None``.

    ``precision`` may name several values (``"generalised / schematic"``); the first one
    with a stamp in ``precision.csv`` gives it.

    >>> stamp("generalised / schematic")
    ('示意·非法定', 'schematic, not legal boundaries')
    >>> stamp("generalised") is None
    True
    """
    for token in str(precision).replace(";", "/").split("/"):
        zh = _field("precision", token.strip(), "stamp_zh", "")
        if zh:
            return zh, _field("precision", token.strip(), "stamp_en", "")
    return None


@cache
def _result_labels() -> dict[tuple[str, str], dict]:
    df = pd.read_csv(rules_dir() / "result_labels.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    return {(r["verdict"], r["control_level"]): r for r in df.to_dict("records")}


def result_label(verdict, control_level, lang: Literal["zh", "en"] = "zh") -> str:
    """The display label of a result: the verdict label, refined by the control level where
    ``layers/rules/result_labels.csv`` gives one (``attention`` in general ecological space with the
    activity allowed is not "near a zone"). The verdict value itself is unchanged.

    >>> result_label("attention", "general_ecological_space"), result_label("attention", "near")
    ('一般生态空间内·活动允许', '邻近管控区')
    >>> result_label("prohibited", "nature_reserve")
    '禁止'
    """
    row = _result_labels().get((str(verdict), str(control_level)))
    if row is None:
        return label("verdict", verdict, lang)
    return str(row["zh" if lang == "zh" else "en"])


def result_display(verdict, control_level, *, sep: str = " ") -> str:
    """``"中文 English"`` of :func:`result_label`."""
    zh, en = result_label(verdict, control_level, "zh"), result_label(verdict, control_level, "en")
    return zh if zh == en else f"{zh}{sep}{en}"


@cache
def _unchecked() -> pd.DataFrame:
    return pd.read_csv(rules_dir() / "unchecked_controls.csv", dtype=str, keep_default_na=False, encoding="utf-8")


def unchecked_controls(levels=()) -> pd.DataFrame:
    """The control lines a check with zones of ``levels`` (control-level keys) did not cover.

    From ``layers/rules/unchecked_controls.csv`` (永久基本农田, 城镇开发边界, 饮用水水源保护区 …):
    a line is checked only when the zones used hold its ``control_level``.
    """
    t = _unchecked()
    return t[~t["control_level"].isin({str(v) for v in levels})].reset_index(drop=True)
