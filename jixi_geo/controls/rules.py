"""The rules per control line (data in ``layers/rules/control_rules.csv``).

One row per (role, level, relation, activity) with the verdict, the rule text
中文/English, the basis with article and document number, and a confidence tag.
``level`` and ``activity`` may be ``*`` (any); :func:`line_rule` picks the most
specific row: exact level and activity, then level + ``*``, then ``*`` +
activity, then ``*``/``*``. Every (role, relation) has a ``*``/``*`` row, so a
rule is always found for a known role and relation.

Examples
--------
>>> line_rule("permanent_farmland", level="", relation="inside", activity="housing")["verdict"]
'prohibited'
>>> line_rule("water_source", level="first", relation="inside", activity="water_infrastructure")["verdict"]
'restricted'
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from .. import rules as _rules
from ..errors import UnknownCodeError

__all__ = ["RELATIONS", "control_rules", "line_rule", "role_levels", "level_key"]

#: How a site stands to a control layer: wholly inside its polygons, partly, or not at all.
RELATIONS = ("inside", "partly", "outside")


@cache
def _table() -> pd.DataFrame:
    return _rules.read_rule_file("control_rules.csv")


@cache
def _index() -> dict[tuple[str, str, str, str], int]:
    t = _table()
    return {(r, lv, rel, a): i for i, (r, lv, rel, a) in
            enumerate(t[["role", "level", "relation", "activity"]].itertuples(index=False))}


@cache
def _roles() -> list[str]:
    return sorted(set(_table()["role"]))


@cache
def _row(i: int) -> dict:
    return _table().iloc[i].to_dict()


def control_rules() -> pd.DataFrame:
    """The rule table (a copy), one row per (role, level, relation, activity)."""
    return _table().copy()


def line_rule(role: str, *, level: str | None = "", relation: str, activity: str | None = "") -> dict:
    """The rule for a site's ``relation`` to a control line, for its ``activity``.

    Parameters
    ----------
    role : str
        A line role with rules: ``permanent_farmland``, ``urban_boundary`` or ``water_source``.
    level : str, keyword-only
        The level occupied (``first``/``second``/``quasi`` for water sources); "" or
        None where the role has none or the relation is ``outside``.
    relation : {"inside", "partly", "outside"}, keyword-only
    activity : str, keyword-only
        An activity key of ``layers/rules/activities.csv`` (or ``unspecified``, "", None:
        no activity given, which takes the ``*`` row).

    Returns
    -------
    dict
        The row: ``rule_id, role, level, relation, activity, verdict, allowed,
        rule_zh, rule_en, basis, doc_number, confidence, source``.

    Raises
    ------
    UnknownCodeError
        For a role without rules or a relation not in :data:`RELATIONS`.
    """
    roles = _roles()
    if role not in roles:
        raise UnknownCodeError(f"管控规则表中没有角色 {role!r}（有：{', '.join(roles)}）。/ no rules for the control "
                               f"role {role!r}; roles with rules: {', '.join(roles)}")
    if relation not in RELATIONS:
        raise UnknownCodeError(f"未知的位置关系 {relation!r}。/ unknown relation {relation!r}; use one of "
                               f"{', '.join(RELATIONS)}")
    lv = level or "*"
    act = activity or "*"
    idx = _index()
    for key in ((lv, act), (lv, "*"), ("*", act), ("*", "*")):
        i = idx.get((role, key[0], relation, key[1]))
        if i is not None:
            return dict(_row(i))
    raise UnknownCodeError(  # pragma: no cover - a test checks the table is complete
        f"{role}/{relation} 缺少 */* 兜底规则。/ control_rules.csv lacks the */* row for {role}/{relation}")


@cache
def _levels() -> pd.DataFrame:
    return _rules.read_rule_file("control_role_levels.csv")


def role_levels(role: str) -> pd.DataFrame:
    """The levels of ``role`` (``role, level, rank, name_zh, name_en, aliases, source, confidence``), by rank."""
    t = _levels()
    t = t[t["role"] == role]
    return t.assign(_r=t["rank"].astype(int)).sort_values("_r").drop(columns="_r").reset_index(drop=True)


@cache
def _level_lookup(role: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for level, aliases in role_levels(role)[["level", "aliases"]].itertuples(index=False):
        for a in [level, *aliases.split(";")]:
            if a.strip():
                out[a.strip().lower()] = level
    return out


def level_key(role: str, value) -> str | None:
    """The level key of a layer's level value (``"一级保护区"`` -> ``"first"``), or None if unknown."""
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return _level_lookup(role).get(text.lower())
