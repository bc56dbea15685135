"""The compliance rule table and activity vocabulary (data in ``layers/rules/``).

Rules are data: ``verdict_rules.csv`` has one row per (control level, activity);
``activities.csv`` maps the words a planner might type (中文 or English) to an
activity key; ``control_levels.csv`` ranks the levels.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache, cache

import pandas as pd

from . import vocab as _vocab
from ._paths import rules_dir
from .errors import UnknownCodeError

__all__ = ["VERDICTS", "VERDICT_RANK", "rules_version", "rules_sha256", "verdict_rules", "activities",
           "control_levels", "resolve_activity", "rule_for", "apply_zone_types",
           "VERDICT_NAMES", "LOCATION_LABELS", "location_label", "read_rule_file"]

#: Verdicts from most to least severe (order and labels from ``layers/rules/verdicts.csv``).
VERDICTS = _vocab.keys("verdict")
VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}

#: verdict -> (中文, English), read from ``layers/rules/verdicts.csv`` (see :mod:`jixi_geo.vocab`).
VERDICT_NAMES = {v: _vocab.labels("verdict", v) for v in VERDICTS}

#: Labels of a site's ``location_precision`` in results, report and maps (中文 first), read
#: from ``layers/rules/location_precision.csv``.
LOCATION_LABELS = {v: _vocab.display("location_precision", v, sep=" / ") for v in _vocab.keys("location_precision")}


def location_label(value) -> str:
    """The bilingual label of a ``location_precision`` value; '—' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() in ("", "nan", "<NA>"):
        return "—"
    return LOCATION_LABELS.get(str(value), str(value))


@cache
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
    for name in ("verdict_rules.csv", "activities.csv", "control_levels.csv", "control_rules.csv",
                 "control_roles.csv", "control_role_levels.csv", "landcover_codes.csv"):
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


@lru_cache(maxsize=1)
def _zone_type_map() -> dict[tuple[str, str], str]:
    """(control level, zone-type word) → the refined control level, from ``control_levels.csv``."""
    m: dict[tuple[str, str], str] = {}
    for rec in control_levels().itertuples(index=False):
        if rec.refines:
            for word in rec.zone_type.split(";"):
                if word.strip():
                    m[(rec.refines, word.strip().lower())] = rec.control_level
    return m


def apply_zone_types(zones):
    """Refine each zone's ``control_level`` by its official functional zone, if a ``zone_type`` column is given.

    A nature reserve row with ``zone_type`` ``core`` (核心保护区/核心区/缓冲区) becomes
    ``nature_reserve_core``; ``general`` (一般控制区/实验区) becomes ``nature_reserve_general``
    (the words are listed in ``layers/rules/control_levels.csv``). An empty ``zone_type``
    keeps the unzoned level, whose rules tell the planner to confirm the zone.

    Parameters
    ----------
    zones : GeoDataFrame
        Zones of the ``redline_zones`` schema, optionally with ``zone_type``.

    Returns
    -------
    GeoDataFrame
        The zones (a copy when a level changed).

    Raises
    ------
    UnknownCodeError
        If a ``zone_type`` value is not known for its control level.
    """
    if "zone_type" not in zones.columns:
        return zones
    m = _zone_type_map()
    refinable = {lvl for lvl, _ in m}
    levels = zones["control_level"].astype(str).to_numpy()
    words = zones["zone_type"].astype(object).where(zones["zone_type"].notna(), "").astype(str).str.strip()
    out, bad = [], set()
    for lvl, word in zip(levels, words, strict=True):
        if not word:
            out.append(lvl)
        elif lvl in refinable and (lvl, word.lower()) in m:
            out.append(m[(lvl, word.lower())])
        elif lvl in refinable:
            bad.add(word)
            out.append(lvl)
        else:
            out.append(lvl)  # zoning applies to reserves only; other levels keep theirs
    if bad:
        known = sorted({w for _, w in m})
        raise UnknownCodeError(
            f"zone_type 值 {sorted(bad)} 无法识别；可用值：{known}，或留空（未分区）。/ zone_type values {sorted(bad)} "
            f"are not known; use one of {known} (core/general or the Chinese zone names), or leave it empty "
            "for a reserve without zoning data")
    if list(out) == list(levels):
        return zones
    zones = zones.copy()
    zones["control_level"] = out
    return zones
