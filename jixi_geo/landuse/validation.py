"""Checking a land-use table: :func:`validate`."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import pandas as pd

from ..errors import InputError, SchemaError
from . import checks
from .findings import FINDING_COLUMNS
from .codes import fmt, nfkc, parse_number
from .layout import cell_text
from .load import ATTRS_KEY, load_table  # noqa: F401  (load_table: the doctests)
from .table import tables_in

__all__ = ["validate"]

def _zones_arg(zones: Any) -> list[tuple[str, str, float, int | None, str]]:
    if zones is None:
        return []
    if isinstance(zones, pd.DataFrame):
        if "area_ha" not in zones.columns:
            raise SchemaError(
                f"function_zones needs an area_ha column (hectares); it has {list(zones.columns)}. "
                "Use load_function_zones(park)."
            )
        n = len(zones)
        nos = [cell_text(v) for v in zones["zone_no"]] if "zone_no" in zones.columns else [""] * n
        names = ([cell_text(v) for v in zones["name_published"]] if "name_published" in zones.columns
                 else [""] * n)
        pubs = (list(zones["area_published"]) if "area_published" in zones.columns else [None] * n)
        units = (list(zones["unit_published"]) if "unit_published" in zones.columns else [""] * n)
        out = []
        for no, name, a, pub, unit in zip(nos, names, zones["area_ha"], pubs, units, strict=True):
            v, dec, prob = parse_number(a)
            if prob == "not a number":
                raise InputError(f"function_zones: zone {no or name!r} has area_ha {a!r}, not a number")
            shown = fmt(v, dec) if dec is not None else ""
            if pub is not None and nfkc(unit) in ("", "公顷", "ha", "hm2"):
                pdec = parse_number(pub)[1]
                if pdec is not None:
                    dec, shown = pdec, nfkc(pub)
            out.append((no, name, v, dec, shown))
        return out
    try:
        values = list(zones)
    except TypeError:
        raise InputError(
            f"function_zones must be a DataFrame from load_function_zones() or a list of areas "
            f"in hectares; got {type(zones).__name__}"
        ) from None
    out = []
    for i, a in enumerate(values, 1):
        v, dec, prob = parse_number(a)
        if prob:
            raise InputError(f"function_zones: item {i} is {a!r}, not an area in hectares")
        out.append((str(i), "", v, dec, fmt(v, dec or 0)))
    return out


def _km2_arg(value: Any) -> tuple[float, int]:
    v, dec, prob = parse_number(value)
    if prob or v <= 0:
        raise InputError(f"park_area_km2={value!r} is not a positive area in km²; e.g. park_area_km2=3.52")
    if not isinstance(value, str):
        dec = max(dec or 0, 2)  # a float carries no printed decimals: take km² to 0.01
    return v, dec if dec is not None else 2


def validate(table: pd.DataFrame, *, park_area_km2: float | str | None = None,
             function_zones: pd.DataFrame | Iterable[float] | None = None) -> pd.DataFrame:
    """Check a land-use table; return one finding per problem.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`load_table` (several park/stage tables may be concatenated), or
        a frame with ``code``, ``name`` and ``area_ha`` (and optionally
        ``share_pct``, ``row_kind``) columns.
    park_area_km2 : float or str, optional
        The park size stated in the text, km². A string keeps its decimals
        (``"0.47"``), which set the rounding of the comparison; a float is taken
        to at least 0.01 km². Default: the size
        recorded by :func:`load_table` in ``attrs`` for a published table
        (``jidong_parks.csv``); published tables concatenated with ``pd.concat``
        keep it.
    function_zones : DataFrame or sequence of float, optional
        Planned function zones (from :func:`load_function_zones`) or their areas in
        hectares, compared with the table's total. Default: the zones recorded by
        :func:`load_table` for a published planned table. An explicit value applies
        to every table in ``table``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FINDING_COLUMNS`: ``severity`` (``error`` / ``warning`` /
        ``info``), ``rule`` (a key of :data:`RULES`), ``park``, ``stage``, ``code``,
        ``message`` (中文 / English), ``expected``, ``actual`` (text, with the
        table's decimals) and ``row`` (the table row, or NA). Empty when the table
        is clean.

    Notes
    -----
    Sums are compared at the table's rounding: half a unit of the last printed
    decimal times the number of summands (the unit of the most precise figure;
    documents drop trailing zeros, ``43`` for 43.00 公顷). A sum that closes only
    within that tolerance is reported as ``info``; beyond it as ``error`` (a class
    whose subclasses add up to *less* is a ``warning``: the breakdown may be
    incomplete). A published share is compared with area / basis × 100, where the
    basis is the total or subtotal printed as 100 %, allowing for the rounding of
    the share and of both areas. The rules are listed in :data:`RULES`.

    Examples
    --------
    >>> clean = pd.DataFrame({"code": ["M", "M1", "M2", ""],
    ...                       "name": ["工业用地", "一类工业用地", "二类工业用地", "合计"],
    ...                       "area_ha": [10.0, 4.0, 6.0, 10.0]})
    >>> len(validate(clean))
    0
    >>> f = validate(load_table("baoquan", "current"))
    >>> f[["severity", "rule", "expected", "actual"]].to_string(index=False)
    'severity      rule expected      actual\\n warning park_area 0.47 km2 0.4763 km2'
    """
    groups = tables_in(table, "validate")
    meta = table.attrs.get(ATTRS_KEY, {})
    zones_arg = _zones_arg(function_zones) if function_zones is not None else None
    km2_arg = _km2_arg(park_area_km2) if park_area_km2 is not None else None

    findings: list[dict] = []
    for ctx, rows, _ in groups:
        km2 = km2_arg
        if km2 is None and ctx["park"] in meta.get("park_area_km2_published", {}):
            km2 = _km2_arg(meta["park_area_km2_published"][ctx["park"]])
        zones = zones_arg
        if zones is None and ctx["stage"] == "planned" and ctx["park"] in meta.get("function_zones", {}):
            zones = _zones_arg(pd.DataFrame(
                list(meta["function_zones"][ctx["park"]]),
                columns=["zone_no", "name_published", "area_ha", "area_published", "unit_published"]))
        found = checks.run_checks(rows, {**ctx, "zones": zones or None, "park_area_km2": km2})
        findings += found
    out = pd.DataFrame(findings, columns=list(FINDING_COLUMNS))
    out["row"] = pd.array(out["row"], dtype="Int64")
    return out


