"""The rules per control line (``layers/rules/control_rules.csv``).

# PROVISIONAL: A1 replaces this module and the table; only :func:`line_rule` of the
# issue-18 contract is given here.
"""

from __future__ import annotations

from functools import cache

from ..errors import UnknownCodeError
from ..rules import read_rule_file

__all__ = ["line_rule"]


@cache
def _index() -> dict[tuple[str, str, str, str], dict]:
    return {(r["role"], r["level"], r["relation"], r["activity"]): r
            for r in read_rule_file("control_rules.csv").to_dict("records")}


def line_rule(role: str, *, level: str, relation: str, activity: str) -> dict:
    """The rule row for a site's relation to a control line (the most specific match wins).

    Exact level and activity first, then the level with any activity (``*``), then any
    level with the activity, then ``*``/``*``.
    """
    idx = _index()
    for lv, act in ((level, activity), (level, "*"), ("*", activity), ("*", "*")):
        row = idx.get((role, lv, relation, act))
        if row is not None:
            return dict(row)
    raise UnknownCodeError(f"无管控规则 / no rule for role {role!r}, level {level!r}, relation {relation!r}, "
                           f"activity {activity!r} in layers/rules/control_rules.csv")
