"""The land-class code registry of the land survey (GB/T 21010-2017 / 三调 工作分类).

# PROVISIONAL: A1 replaces this module (and ``layers/rules/landcover_codes.csv``) with the
# full registry; only the two functions of the issue-18 contract are given here.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from ..rules import read_rule_file

__all__ = ["landcover_codes", "class_info"]


@cache
def _codes() -> pd.DataFrame:
    return read_rule_file("landcover_codes.csv")


def landcover_codes() -> pd.DataFrame:
    """The code registry: ``code, name_zh, name_en, level, parent, group, cultivated`` (a copy)."""
    return _codes().copy()


@cache
def _index() -> dict[str, dict]:
    return {r["code"]: r for r in _codes().to_dict("records")}


def class_info(code) -> dict | None:
    """The registry row of a normalised code (``"0101"``) as a dict, or None if it is not known."""
    return _index().get(str(code))
