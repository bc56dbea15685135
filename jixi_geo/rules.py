"""The compliance rule table and activity vocabulary (data in ``layers/rules/``).

Rules are data: ``verdict_rules.csv`` has one row per (control level, activity);
``activities.csv`` maps the words a planner might type (中文 or English) to an
activity key; ``control_levels.csv`` ranks the levels.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import pandas as pd

from ._paths import rules_dir
from .errors import UnknownCodeError

__all__ = ["VERDICTS", "VERDICT_RANK", "rules_version", "rules_sha256", "verdict_rules", "activities",
           "control_levels", "resolve_activity", "rule_for"]

#: Verdicts from most to least severe.
VERDICTS = ("prohibited", "restricted", "conditional", "attention", "clear", "outside_jixi")
VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}

VERDICT_NAMES = {
    "prohibited": ("禁止", "prohibited"),
    "restricted": ("限制（仅允许清单内活动）", "restricted (only listed activities)"),
    "conditional": ("有条件（须论证）", "conditional (needs assessment)"),
    "attention": ("关注", "attention"),
    "clear": ("无冲突", "clear"),
    "outside_jixi": ("不在鸡西市域内", "outside Jixi"),
}


@lru_cache(maxsize=None)
def _read_cached(name: str) -> pd.DataFrame:
    return pd.read_csv(rules_dir() / name, dtype=str, keep_default_na=False, encoding="utf-8")


def read_rule_file(name: str) -> pd.DataFrame:
    """A file of ``layers/rules/`` as text columns (codes keep leading zeros); a fresh copy."""
    return _read_cached(name).copy()


_read = read_rule_file


@lru_cache(maxsize=1)
def rules_version() -> str:
    """Version string of the rule table (``layers/rules/rules_version.txt``)."""
    return (rules_dir() / "rules_version.txt").read_text(encoding="utf-8").strip()


@lru_cache(maxsize=1)
def rules_sha256() -> str:
    """Checksum of the rule files that decide verdicts."""
    h = hashlib.sha256()
    for name in ("verdict_rules.csv", "activities.csv", "control_levels.csv"):
        h.update((rules_dir() / name).read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def verdict_rules() -> pd.DataFrame:
    """The rule table, one row per (control_level, activity)."""
    return _read("verdict_rules.csv")


@lru_cache(maxsize=1)
def activities() -> pd.DataFrame:
    """The activity vocabulary with its aliases."""
    return _read("activities.csv")


@lru_cache(maxsize=1)
def control_levels() -> pd.DataFrame:
    """Control levels with their rank (1 = strictest)."""
    df = _read("control_levels.csv")
    df["rank"] = df["rank"].astype(int)
    return df


@lru_cache(maxsize=1)
def _alias_map() -> dict[str, str]:
    m: dict[str, str] = {"unspecified": "unspecified"}
    for rec in activities().itertuples(index=False):
        m[rec.activity.lower()] = rec.activity
        m[rec.name_zh.strip().lower()] = rec.activity
        m[rec.name_en.strip().lower()] = rec.activity
        for alias in rec.aliases.split(";"):
            if alias.strip():
                m[alias.strip().lower()] = rec.activity
    return m


def resolve_activity(value) -> str:
    """The activity key for what a user wrote (key, 中文 name or alias, any case).

    Empty or missing → ``"unspecified"`` (the strictest reading applies).

    Raises
    ------
    UnknownCodeError
        If the word is not in ``layers/rules/activities.csv``; the message lists the keys.

    Examples
    --------
    >>> resolve_activity("风电场"), resolve_activity("Wind Farm"), resolve_activity(None)
    ('wind_farm', 'wind_farm', 'unspecified')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return "unspecified"
    key = _alias_map().get(str(value).strip().lower())
    if key is None:
        raise UnknownCodeError(
            f"activity {value!r} is not known; use one of {', '.join(activities()['activity'])} "
            "(or a Chinese/English alias listed in layers/rules/activities.csv), or leave it empty "
            "for the strictest reading"
        )
    return key


@lru_cache(maxsize=1)
def _rule_index() -> dict[tuple[str, str], dict]:
    return {(r["control_level"], r["activity"]): r for r in verdict_rules().to_dict("records")}


def rule_for(control_level: str, activity: str) -> dict:
    """The rule row for a control level and an activity key.

    Raises
    ------
    UnknownCodeError
        If the pair is not in the rule table.
    """
    try:
        return _rule_index()[(control_level, activity)]
    except KeyError:
        levels = sorted({k[0] for k in _rule_index()})
        raise UnknownCodeError(
            f"no rule for control level {control_level!r} and activity {activity!r}; control levels "
            f"with rules are {levels}; check the zones' control_level column"
        ) from None
