"""Land-use tables of the Jidong Economic Development Zone (鸡东经济开发区).

Load the five published land-use tables (or a planner's own table), check them,
and derive shares, current/planned comparisons, the GB 50137-2011 structure check
and the mapping to the 2023 land-use classification.

Areas are hectares (公顷, hm²) throughout; shares are percentages.

The table model
---------------
:func:`load_table` returns one row per printed table row, in printed order, with
the published text kept next to the parsed values (``code_published`` and
``code``, ``area_ha_published`` and ``area_ha`` …). Rows are ``class`` /
``subclass`` / ``non_construction`` / ``other`` rows, or ``subtotal`` / ``total``
rows. Two derived columns describe what sums into what:

- ``block``: a subtotal closes a block (the chemical park's current table has
  the land inside the construction-land boundary in block 0 and the land outside
  it in block 1);
- ``parent_row``: the row this row adds up into. A subclass adds into the nearest
  earlier row of its block with its parent code (M2 into M); a row without one is
  top-level and adds into the block's subtotal, or else into the total; a subtotal
  adds into the total.

Where the 大类 and 中类 are printed in one cell (``H H4``), ``code`` is the finer
code (``H4``) and ``code_published`` keeps both.

Bad input
---------
Problems that make a table unusable raise: an unknown park or stage, a file that
cannot be found or decoded (:class:`~jixi_geo.errors.EncodingError`), text that is
not CSV, missing columns (:class:`~jixi_geo.errors.SchemaError`), no row with a
numeric area. Problems *in the content* do not raise at load time: a non-numeric
or negative area, an unknown or duplicated code, a missing total row, sums that do
not close. They are reported by :func:`validate` as findings, because a reviewer
wants all of them at once, with the published text that caused them.
:func:`shares`, :func:`compare` and :func:`crosswalk` refuse tables whose class
rows lack numeric areas (InputError naming the rows).

Everything except the ``load_*`` functions is pure: no file is read or written
other than the bundled rule tables.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

import pandas as pd

from . import _landuse_rules as _r
from ._paths import tables_dir
from .errors import InputError, SchemaError

__all__ = [
    "PARKS",
    "STAGES",
    "LEVELS",
    "TABLE_COLUMNS",
    "FINDING_COLUMNS",
    "RULES",
    "PARK_NAMES",
    "published_tables",
    "load_table",
    "load_function_zones",
    "load_parks",
    "validate",
    "shares",
    "compare",
    "check_structure",
    "crosswalk",
]

#: Park keys: 宝泉工业园, 工业产业园, 化工产业园.
PARKS = ("baoquan", "industrial", "chemical")
#: Bilingual park names.
PARK_NAMES = {"baoquan": ("宝泉工业园", "Baoquan Industrial Park"),
              "industrial": ("工业产业园", "Industrial Park"),
              "chemical": ("化工产业园", "Chemical Industry Park")}
#: 现状 (current) and 规划 (planned).
STAGES = ("current", "planned")
#: Levels of the GB 50137-2011 classification: 大类, 中类, 小类.
LEVELS = ("major", "medium", "minor")

#: Columns of a table returned by :func:`load_table`, in order.
TABLE_COLUMNS = (
    "park", "stage", "row", "code", "level", "parent", "name_zh", "name_en",
    "area_ha", "share_pct", "share_basis", "row_kind", "section", "source_line",
    "code_published", "name_published", "area_ha_published", "share_published",
    "block", "parent_row", "note",
)
#: Columns of the findings returned by :func:`validate`, in order.
FINDING_COLUMNS = ("severity", "rule", "park", "stage", "code", "message", "expected", "actual", "row")

#: The validation rules: rule id → (usual severity, what the rule checks). A
#: figure that closes only within the table's rounding is reported as ``info``.
RULES = dict(_r.RULES)

_ATTRS = "jixi_geo.landuse"
_LANDUSE_CSV = "jidong_landuse.csv"


# =========================================================================== loading


@lru_cache(maxsize=4)
def _bundled(name: str) -> pd.DataFrame:
    return pd.read_csv(tables_dir() / name, dtype=str, keep_default_na=False)


def _valid_combinations() -> list[tuple[str, str]]:
    raw = _bundled(_LANDUSE_CSV)
    return list(dict.fromkeys(zip(raw["park"], raw["stage"])))


def published_tables() -> list[tuple[str, str]]:
    """The (park, stage) pairs the plan publishes a land-use table for.

    Examples
    --------
    >>> published_tables()
    [('baoquan', 'current'), ('industrial', 'current'), ('chemical', 'current'), ('industrial', 'planned'), ('chemical', 'planned')]
    """
    return _valid_combinations()


def load_table(park: str, stage: str, *, path: str | os.PathLike | None = None,
               encoding: str | None = None) -> pd.DataFrame:
    """Load a land-use table as a tidy DataFrame.

    Parameters
    ----------
    park : {"baoquan", "industrial", "chemical"}
        The park (宝泉工业园, 工业产业园, 化工产业园). With ``path``, any label; if the
        file has a ``park`` column, only the rows with this value are read.
    stage : {"current", "planned"}
        现状 or 规划. With ``path``, any label; filters a ``stage`` column like ``park``.
    path : path-like, optional
        A user's CSV instead of the published tables. Accepted layouts: the columns
        of ``layers/tables/jidong_landuse.csv``; the columns of this function's
        output; or a simple table ``code, name, area_ha[, share_pct]`` (Chinese
        headers such as 代码, 用地名称, 面积(公顷), 比例(%) are recognised). Total rows
        have an empty code and a name such as 合计 or 城乡用地; the last one is the
        total, earlier ones are subtotals, unless a ``row_kind`` column says otherwise.
    encoding : str, optional
        Text encoding of ``path``. By default UTF-8 (with or without BOM) is tried,
        then GB 18030 (a superset of GBK, as saved by Chinese Excel/WPS).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`: ``area_ha`` (hectares, float; NaN where the
        cell is empty or not a number), ``share_pct`` (the published percentage,
        NaN where none is printed), ``level`` (``major`` / ``medium`` / ``minor`` for
        codes, ``subtotal`` / ``total`` for total rows, ``other`` for a row without
        a code, ``unknown`` for a malformed code), ``name_zh`` / ``name_en`` from the
        GB 50137-2011 registry when the code is known (the printed label for total
        rows), and the published text in the ``*_published`` columns. For the
        published tables ``attrs["jixi_geo.landuse"]`` records the stated park
        sizes and the function zones, which :func:`validate` uses.

    Raises
    ------
    InputError
        Unknown park or stage (the message lists the published combinations), a
        missing file, text that is not CSV, or no row with a numeric area.
    EncodingError
        The file is in none of the encodings tried, or not in ``encoding``.
    SchemaError
        Required columns (a code and an area column) are missing, or areas are in
        another unit than hectares.

    Examples
    --------
    >>> t = load_table("industrial", "planned")
    >>> t.loc[t.code == "M", ["code", "name_zh", "area_ha", "share_pct"]].to_string(index=False)
    'code name_zh  area_ha  share_pct\\n   M    工业用地   162.91      46.48'
    """
    if path is None:
        if encoding is not None:
            raise InputError(
                f"encoding={encoding!r} applies to a user file given with path=; the bundled "
                "tables are UTF-8. Drop encoding= or pass path=."
            )
        combos = _valid_combinations()
        if (park, stage) not in combos:
            raise InputError(
                f"no published land-use table for park={park!r}, stage={stage!r}. The plan "
                "publishes these: " + ", ".join(f"({p!r}, {s!r})" for p, s in combos)
                + f". Parks are {PARKS}, stages {STAGES}; baoquan has no planned table. "
                "For your own table pass path=."
            )
        raw = _bundled(_LANDUSE_CSV)
        raw = raw[(raw["park"] == park) & (raw["stage"] == stage)]
        table = _tidy(raw, park=park, stage=stage)
        table.attrs[_ATTRS] = _published_meta()
        return table

    for label, value in (("park", park), ("stage", stage)):
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{label}={value!r}: give a non-empty label for the user's table, e.g. "
                             f"{label}={'industrial' if label == 'park' else 'planned'!r}")
    p = Path(path)
    df, enc = _r.read_user_csv(p, encoding)
    lines = df.attrs.pop("lines")  # pandas deep-copies attrs on every operation: keep them small
    if "source_line" not in df.columns:
        df["source_line"] = [str(i) for i in lines]  # the CSV's own line numbers
    raw = _r.resolve_layout(df, where=p.name)
    for label, value in (("park", park), ("stage", stage)):
        if label in raw.columns and (raw[label] != "").any():
            found = list(dict.fromkeys(raw[label]))
            raw = raw[raw[label] == value]
            if raw.empty:
                raise InputError(
                    f"{p.name}: no rows with {label}={value!r}; the file's {label} column holds "
                    f"{found}. Pass one of those, or drop the column."
                )
    table = _tidy(raw, park=park, stage=stage, where=p.name)
    table.attrs[_ATTRS] = {"source": str(p), "encoding": enc}
    return table


def _published_meta() -> dict[str, Any]:
    # The same for every published table, so that pd.concat of several keeps it
    # (pandas drops attrs that differ). Plain strings and tuples only.
    parks = _bundled("jidong_parks.csv")
    zones = _bundled("jidong_function_zones.csv")
    return {
        "source": f"layers/tables/{_LANDUSE_CSV}",
        "park_area_km2_published": {p: a for p, a in zip(parks["park"], parks["area_km2_published"])},
        "function_zones": {
            park: tuple((z["zone_no"], z["name_published"], z["area_ha"], z["area_published"],
                         z["unit_published"]) for z in part.to_dict("records"))
            for park, part in zones.groupby("park", sort=False)
        },
    }


def load_function_zones(park: str) -> pd.DataFrame:
    """The planned function zones of a park (规划功能分区), as published.

    Parameters
    ----------
    park : {"industrial", "chemical"}
        The plan gives function zones for these two parks only.

    Returns
    -------
    pandas.DataFrame
        The columns of ``layers/tables/jidong_function_zones.csv`` with ``area_ha``
        as float (hectares; NaN for a zone whose area is only given per sub-area),
        ``source_line`` as int, and ``counted``: True for the rows whose areas add up
        to the zones' total without counting a hectare twice.

    Raises
    ------
    InputError
        ``park`` is not one of the parks with function zones.

    Examples
    --------
    >>> z = load_function_zones("industrial")
    >>> round(float(z.loc[z.counted, "area_ha"].sum()), 2)
    351.43
    """
    raw = _bundled("jidong_function_zones.csv")
    have = list(dict.fromkeys(raw["park"]))
    if park not in have:
        raise InputError(
            f"no function zones for park={park!r}; the plan gives them for {have} "
            f"(parks are {PARKS})."
        )
    z = raw[raw["park"] == park].copy()
    z["area_ha"] = [_r.parse_number(v)[0] for v in z["area_ha"]]
    z["source_line"] = z["source_line"].astype(int)
    numbers = set(z["zone_no"])
    z["counted"] = [
        not math.isnan(a) and not any(n.startswith(f"{no}.") for n in numbers)
        for no, a in zip(z["zone_no"], z["area_ha"])
    ]
    return z.reset_index(drop=True)


def load_parks() -> pd.DataFrame:
    """The three parks and the whole zone with their stated sizes.

    Returns
    -------
    pandas.DataFrame
        The columns of ``layers/tables/jidong_parks.csv`` plus ``area_km2`` and
        ``area_ha`` (floats; square kilometres and hectares).

    Examples
    --------
    >>> load_parks().set_index("park")["area_km2"].to_dict()
    {'baoquan': 0.47, 'industrial': 3.52, 'chemical': 7.13, 'total': 11.12}
    """
    p = _bundled("jidong_parks.csv").copy()
    p["area_km2"] = [_r.parse_number(v)[0] for v in p["area_km2_published"]]
    p["area_ha"] = p["area_km2"] * 100.0
    p["source_line"] = p["source_line"].astype(int)
    return p


def _tidy(raw: pd.DataFrame, *, park: str, stage: str, where: str = "table") -> pd.DataFrame:
    raw = raw.reset_index(drop=True)
    rows = _r.rows_from_raw(raw, where=where)
    if not any(not r.area_problem for r in rows):
        raise InputError(
            f"{where}: no row has a numeric area; the area column holds "
            f"{[r.area_text for r in rows][:6]}. Give areas in hectares as plain numbers."
        )
    reg = _r.gb_codes()
    col = lambda name, default="": (list(raw[name]) if name in raw.columns else [default] * len(raw))  # noqa: E731
    recs = []
    for r, basis, section, note in zip(rows, col("share_basis"), col("section"), col("note")):
        known = reg.get(r.code)
        if r.is_sum:
            level, parent = r.kind, ""
            name_zh = r.name
            name_en = _r.TOTAL_NAMES_EN.get(_r.norm_total_name(r.name), "")
        elif not r.code:
            level, parent, name_zh = "other", "", r.name
            name_en = _r.TOTAL_NAMES_EN.get(_r.norm_total_name(r.name), "")
        else:
            level, parent = _r.level_of(r.code), _r.parent_code(r.code)
            name_zh = known["name_zh"] if known else ""
            name_en = known["name_en"] if known else ""
        recs.append({
            "park": park, "stage": stage, "row": r.row, "code": r.code, "level": level,
            "parent": parent, "name_zh": name_zh, "name_en": name_en, "area_ha": r.area,
            "share_pct": r.share, "share_basis": _r.nfkc(basis), "row_kind": r.kind,
            "section": _r.nfkc(section), "source_line": r.source_line,
            "code_published": " ".join(r.tokens) if r.tokens else "",
            "name_published": r.name, "area_ha_published": r.area_text,
            "share_published": r.share_text, "block": r.block, "parent_row": r.parent_row,
            "note": _r.nfkc(note),
        })
    out = pd.DataFrame(recs, columns=list(TABLE_COLUMNS))
    out["row"] = out["row"].astype(int)
    out["area_ha"] = out["area_ha"].astype(float)
    out["share_pct"] = out["share_pct"].astype(float)
    out["block"] = out["block"].astype(int)
    out["source_line"] = pd.array(out["source_line"], dtype="Int64")
    out["parent_row"] = pd.array(out["parent_row"], dtype="Int64")
    return out


def _tables(obj: Any, fn: str) -> list[tuple[dict, list[_r.Row], pd.DataFrame]]:
    """Split an input into (context, rows, tidy frame) per park and stage."""
    if not isinstance(obj, pd.DataFrame):
        raise InputError(
            f"{fn}() takes a DataFrame from load_table() (or one with code and area_ha "
            f"columns); got {type(obj).__name__}"
        )
    if obj.empty:
        raise InputError(f"{fn}() got an empty table; load one with load_table()")
    raw = _r.resolve_layout(obj, where=f"{fn}() input")
    if raw.empty:
        raise InputError(f"{fn}() got a table whose rows are all blank; load one with load_table()")
    if "park" not in raw.columns:
        raw["park"] = "user"
    if "stage" not in raw.columns:
        raw["stage"] = ""
    out = []
    for (park, stage), part in raw.groupby(["park", "stage"], sort=False):
        part = part.reset_index(drop=True)
        rows = _r.rows_from_raw(part, where=f"{fn}() input")
        basis = next((b for b in part.get("share_basis", []) if b), "")
        out.append(({"park": park, "stage": stage, "share_basis": basis}, rows, part))
    return out


def _one_table(obj: Any, fn: str) -> tuple[dict, list[_r.Row]]:
    groups = _tables(obj, fn)
    if len(groups) > 1:
        names = ", ".join(f"({c['park']!r}, {c['stage']!r})" for c, _, _ in groups)
        raise InputError(f"{fn}() takes one table; the input holds {len(groups)}: {names}. Select one.")
    ctx, rows, _ = groups[0]
    return ctx, rows


# =========================================================================== validate


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
        nos = [_r.cell_text(v) for v in zones["zone_no"]] if "zone_no" in zones.columns else [""] * n
        names = ([_r.cell_text(v) for v in zones["name_published"]] if "name_published" in zones.columns
                 else [""] * n)
        pubs = (list(zones["area_published"]) if "area_published" in zones.columns else [None] * n)
        units = (list(zones["unit_published"]) if "unit_published" in zones.columns else [""] * n)
        out = []
        for no, name, a, pub, unit in zip(nos, names, zones["area_ha"], pubs, units):
            v, dec, prob = _r.parse_number(a)
            if prob == "not a number":
                raise InputError(f"function_zones: zone {no or name!r} has area_ha {a!r}, not a number")
            shown = _r.fmt(v, dec) if dec is not None else ""
            if pub is not None and _r.nfkc(unit) in ("", "公顷", "ha", "hm2"):
                pdec = _r.parse_number(pub)[1]
                if pdec is not None:
                    dec, shown = pdec, _r.nfkc(pub)
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
        v, dec, prob = _r.parse_number(a)
        if prob:
            raise InputError(f"function_zones: item {i} is {a!r}, not an area in hectares")
        out.append((str(i), "", v, dec, _r.fmt(v, dec or 0)))
    return out


def _km2_arg(value: Any) -> tuple[float, int]:
    v, dec, prob = _r.parse_number(value)
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
    groups = _tables(table, "validate")
    meta = table.attrs.get(_ATTRS, {})
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
        found = []
        found += _r.check_values(rows, ctx)
        found += _r.check_codes(rows, ctx)
        found += _r.check_duplicates(rows, ctx)
        found += _r.check_names(rows, ctx)
        found += _r.check_categories(rows, ctx)
        found += _r.check_totals(rows, ctx)
        found += _r.check_sums(rows, ctx)
        found += _r.check_shares(rows, ctx, ctx["share_basis"])
        if zones:
            found += _r.check_zones(rows, ctx, zones)
        if km2 is not None:
            found += _r.check_park_area(rows, ctx, *km2)
        order = {k: i for i, k in enumerate(RULES)}
        found.sort(key=lambda f: (f["row"] if f["row"] is not None else 10**9, order[f["rule"]]))
        findings += found
    out = pd.DataFrame(findings, columns=list(FINDING_COLUMNS))
    out["row"] = pd.array(out["row"], dtype="Int64")
    return out


# =========================================================================== shares


def _level_depth(level: str) -> int:
    if level not in _r.LEVEL_DEPTH:
        raise InputError(
            f"level={level!r} is not a level of GB 50137-2011; use one of {LEVELS} "
            "(大类 = major, e.g. M; 中类 = medium, e.g. M2; 小类 = minor, e.g. R21)"
        )
    return _r.LEVEL_DEPTH[level]


def _require_areas(rows: list[_r.Row], fn: str) -> None:
    bad = [r for r in rows if not r.is_sum and r.area_problem and not (r.kind == "other" and r.area_problem == "empty")]
    neg = [r for r in rows if not r.is_sum and not r.area_problem and r.area < 0]
    if bad or neg:
        parts = [f"{r.where} ({r.label}): {r.area_text!r}" for r in bad + neg]
        raise InputError(
            f"{fn}() needs a non-negative area in hectares on every class row; "
            + "; ".join(parts[:6]) + ". Fix these rows (validate() lists every problem)."
        )


def _sort_key(key: str) -> tuple:
    """城市建设用地 classes (R … G) first, then H and E, in the standard's order;
    then unknown codes; rows without a code last."""
    order = _r.gb_order()
    if key.startswith("name:"):
        return (3, 0, key)
    if key in order:
        return (0 if key[:1] in _r.CITY_LETTERS else 1, order[key], key)
    return (2, 0, key)


def _shares_frame(areas: dict[str, float]) -> pd.DataFrame:
    reg = _r.gb_codes()
    total = math.fsum(areas.values())
    recs = []
    for key in sorted(areas, key=_sort_key):
        if key.startswith("name:"):
            name = key[5:]
            code, level, zh, en = "", "other", name, _r.TOTAL_NAMES_EN.get(_r.norm_total_name(name), "")
        else:
            code, level = key, _r.level_of(key)
            zh, en = (reg[key]["name_zh"], reg[key]["name_en"]) if key in reg else ("", "")
        a = areas[key]
        recs.append({"code": code, "level": level, "name_zh": zh, "name_en": en, "area_ha": a,
                     "share_pct": a / total * 100.0 if total > 0 else math.nan})
    return pd.DataFrame(recs, columns=["code", "level", "name_zh", "name_en", "area_ha", "share_pct"])


def _feature_areas(gdf: pd.DataFrame, d: int, *, area_col: str | None, code_col: str) -> dict[str, float]:
    if code_col not in gdf.columns:
        raise SchemaError(
            f"shares() needs a {code_col!r} column with GB 50137-2011 codes; the columns are "
            f"{list(gdf.columns)}. Pass code_col= to name another column."
        )
    codes = [_r.nfkc(c).upper() for c in gdf[code_col]]
    empty = [str(ix) for ix, c in zip(gdf.index, codes) if not c]
    if empty:
        raise InputError(
            f"shares(): {len(empty)} feature(s) have no {code_col!r}: index {', '.join(empty[:8])}; "
            "give every feature a code or drop it"
        )
    if area_col is not None:
        if area_col not in gdf.columns:
            raise SchemaError(f"area_col={area_col!r} is not a column; the columns are {list(gdf.columns)}")
        parsed = [_r.parse_number(v) for v in gdf[area_col]]
        bad = [f"{ix}: {v!r}" for ix, v, p in zip(gdf.index, gdf[area_col], parsed) if p[2] or p[0] < 0]
        if bad:
            raise InputError(
                f"shares(): {area_col!r} must hold non-negative areas in hectares; bad values at "
                + ", ".join(bad[:8])
            )
        areas = [p[0] for p in parsed]
    else:
        import geopandas as gpd

        from .crs import geodesic_area

        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(
                "shares() of a frame with a landuse_code column needs geometries (a GeoDataFrame) "
                "or area_col= naming a column of areas in hectares"
            )
        areas = list(geodesic_area(gdf, unit="ha"))
    out: dict[str, float] = {}
    for c, a in zip(codes, areas):
        dd = _r.depth(c)
        key = c[:d] if dd is not None and dd >= d else c
        out[key] = out.get(key, 0.0) + float(a)
    return out


def shares(table_or_gdf: pd.DataFrame, *, level: Literal["major", "medium", "minor"] = "major",
           area_col: str | None = None, code_col: str | None = None) -> pd.DataFrame:
    """Area and share of each land-use class at one level of GB 50137-2011.

    Parameters
    ----------
    table_or_gdf : DataFrame or GeoDataFrame
        A table from :func:`load_table`, or features (polygons) with a land-use code
        column. Feature areas are computed on the CGCS2000 ellipsoid
        (:func:`jixi_geo.crs.geodesic_area`) unless ``area_col`` is given.
    level : {"major", "medium", "minor"}
        大类 (the letter: M), 中类 (M2) or 小类 (R21). Finer codes are added up to
        this level; a class printed only at a coarser level stays as it is.
    area_col : str, optional
        A column of areas in hectares to use instead of ``area_ha`` (tables) or of
        the geodesic area (features).
    code_col : str, optional
        The code column of features; default ``landuse_code``.

    Returns
    -------
    pandas.DataFrame
        ``code, level, name_zh, name_en, area_ha, share_pct``: the 城市建设用地
        classes R … G first, then H and E, each in the standard's order. ``share_pct`` is recomputed: area / sum of the rows × 100, so it
        adds up to 100 (compare with the published shares through :func:`validate`).
        A table row without a code (预留发展用地) is kept with an empty ``code``.
        In a table, each hectare is counted once: a class is taken from its own row
        where one is printed, else from its subclasses, and rows in every block
        (e.g. inside and outside the construction-land boundary) are added.

    Raises
    ------
    InputError
        Unknown level, a class row without a numeric non-negative area, features
        without a code, or a frame holding several tables.

    Examples
    --------
    >>> s = shares(load_table("chemical", "planned"))
    >>> s[["code", "area_ha"]].to_string(index=False)
    'code  area_ha\\n   B     7.94\\n   M   542.11\\n   W     8.01\\n   S    96.21\\n   U    25.24\\n   G    20.07\\n   E     2.96\\n          10.10'
    """
    d = _level_depth(level)
    if isinstance(table_or_gdf, pd.DataFrame):
        geo = hasattr(table_or_gdf, "geometry") and "geometry" in table_or_gdf.columns
        feature_code = code_col or "landuse_code"
        if geo or (feature_code in table_or_gdf.columns and "row_kind" not in table_or_gdf.columns):
            return _shares_frame(_feature_areas(table_or_gdf, d, area_col=area_col, code_col=feature_code))
        if area_col is not None:
            if area_col not in table_or_gdf.columns:
                raise SchemaError(f"area_col={area_col!r} is not a column; the columns are "
                                  f"{list(table_or_gdf.columns)}")
            table_or_gdf = table_or_gdf.drop(columns=[c for c in ("area_ha", "area_ha_published")
                                                      if c in table_or_gdf.columns and c != area_col])
            table_or_gdf = table_or_gdf.rename(columns={area_col: "area_ha"})
        if code_col is not None and code_col in table_or_gdf.columns and code_col != "code":
            table_or_gdf = table_or_gdf.drop(columns=[c for c in ("code", "code_published")
                                                      if c in table_or_gdf.columns])
            table_or_gdf = table_or_gdf.rename(columns={code_col: "code"})
    _, rows = _one_table(table_or_gdf, "shares")
    _require_areas(rows, "shares")
    return _shares_frame(_r.class_areas(rows, d))


def compare(current: pd.DataFrame, planned: pd.DataFrame, *,
            level: Literal["major", "medium", "minor"] = "major") -> pd.DataFrame:
    """Current against planned land use, class by class.

    Parameters
    ----------
    current, planned : pandas.DataFrame
        Tables from :func:`load_table` (or anything :func:`shares` accepts).
    level : {"major", "medium", "minor"}
        Level of the classes compared.

    Returns
    -------
    pandas.DataFrame
        ``code, name_zh, name_en, current_ha, planned_ha, change_ha,
        current_share_pct, planned_share_pct, change_pp``: hectares, and shares of
        each table's own class sum (percent; ``change_pp`` in percentage points). A
        class missing on one side counts as 0. The Jidong current tables use the
        城乡用地 classes (H, E) while the planned ones use 城市建设用地 classes
        (R … G), so at the major level most classes appear on one side only.

    Examples
    --------
    >>> c = compare(load_table("industrial", "current"), load_table("industrial", "planned"))
    >>> c.set_index("code").loc["E", ["current_ha", "planned_ha", "change_ha"]].round(2).tolist()
    [198.68, 1.27, -197.41]
    """
    a = shares(current, level=level)
    b = shares(planned, level=level)
    key = lambda df: [c if c else f"name:{n}" for c, n in zip(df["code"], df["name_zh"])]  # noqa: E731
    a.index, b.index = key(a), key(b)
    keys = sorted(set(a.index) | set(b.index), key=_sort_key)
    recs = []
    for k in keys:
        src = a.loc[k] if k in a.index else b.loc[k]
        ca = float(a.loc[k, "area_ha"]) if k in a.index else 0.0
        pa = float(b.loc[k, "area_ha"]) if k in b.index else 0.0
        cs = float(a.loc[k, "share_pct"]) if k in a.index else 0.0
        ps = float(b.loc[k, "share_pct"]) if k in b.index else 0.0
        recs.append({"code": src["code"], "name_zh": src["name_zh"], "name_en": src["name_en"],
                     "current_ha": ca, "planned_ha": pa, "change_ha": pa - ca,
                     "current_share_pct": cs, "planned_share_pct": ps, "change_pp": ps - cs})
    return pd.DataFrame(recs, columns=["code", "name_zh", "name_en", "current_ha", "planned_ha",
                                       "change_ha", "current_share_pct", "planned_share_pct",
                                       "change_pp"])


# =========================================================================== structure


_STRUCTURE_NOTE_ZH = (
    "GB 50137-2011 表4.4.1 的比例针对整个城市的城市建设用地；第4.4.2条允许工矿城市、风景旅游城市等"
    "特殊城市另定用地结构。单一功能的工业园区不必符合这些比例，鸡西又是煤炭、石墨工矿城市。"
)


def check_structure(planned: pd.DataFrame, *, basis: Literal["classes", "table"] = "classes") -> pd.DataFrame:
    """Compare the planned shares of 城市建设用地 with GB 50137-2011 Table 4.4.1.

    Parameters
    ----------
    planned : pandas.DataFrame
        A planned table from :func:`load_table`.
    basis : {"classes", "table"}
        The 城市建设用地 area the shares are taken of: ``"classes"`` (default) is the
        sum of the R A B M W S U G classes, as the standard defines it; ``"table"``
        is the table's own row named 城市建设用地 (合计), which in the industrial
        park's plan also holds H4 特殊用地.

    Returns
    -------
    pandas.DataFrame
        One row per class with a range (R, A, M, S, G): ``code, name_zh, name_en,
        area_ha, share_pct, min_pct, max_pct, status`` (``below`` / ``within`` /
        ``above``), ``basis_ha``, ``note``. The note says that the ranges describe a
        whole city and that clause 4.4.2 lets mining/industrial cities (Jixi is one)
        set their own structure, so an industrial park is not expected to fit them.
        The ranges are recorded as unverified (``U``) in the rule table.

    Raises
    ------
    InputError
        The table has no 城市建设用地 classes (a current table in H/E classes), or
        ``basis="table"`` and no row is named 城市建设用地.

    Examples
    --------
    >>> s = check_structure(load_table("chemical", "planned"))
    >>> s[["code", "share_pct", "status"]].round(2).to_string(index=False)
    'code  share_pct status\\n   R       0.00  below\\n   A       0.00  below\\n   M      77.49  above\\n   S      13.75 within\\n   G       2.87  below'
    """
    if basis not in ("classes", "table"):
        raise InputError(f"basis={basis!r}: use 'classes' (sum of R…G) or 'table' (the table's 城市建设用地 row)")
    ctx, rows = _one_table(planned, "check_structure")
    _require_areas(rows, "check_structure")
    majors = _r.class_areas(rows, 1)
    city = {k: v for k, v in majors.items() if k in _r.CITY_LETTERS}
    if not city or math.fsum(city.values()) <= 0:
        raise InputError(
            f"check_structure() needs 城市建设用地 classes (R A B M W S U G); the table "
            f"({ctx['park']}, {ctx['stage']}) has {sorted(k for k in majors if not k.startswith('name:'))}. "
            "Pass a planned table, e.g. load_table('industrial', 'planned')."
        )
    if basis == "classes":
        base = math.fsum(city.values())
    else:
        named = [r for r in rows if r.is_sum and _r.norm_total_name(r.name) == "城市建设用地"
                 and not r.area_problem]
        if not named:
            raise InputError(
                "basis='table' needs a total row named 城市建设用地 (合计); the table's total rows are "
                f"{[r.name for r in rows if r.is_sum]}. Use basis='classes'."
            )
        base = named[0].area
    recs = []
    for rng in _r.structure_ranges():
        code = rng["category"]
        area = city.get(code, 0.0)
        share = area / base * 100.0
        lo, hi = float(rng["min_pct"]), float(rng["max_pct"])
        status = "below" if share < lo else "above" if share > hi else "within"
        recs.append({
            "code": code, "name_zh": rng["name_zh"], "name_en": rng["name_en"], "area_ha": area,
            "share_pct": share, "min_pct": lo, "max_pct": hi, "status": status, "basis_ha": base,
            "note": f"{_STRUCTURE_NOTE_ZH} / {rng['note']}",
        })
    return pd.DataFrame(recs, columns=["code", "name_zh", "name_en", "area_ha", "share_pct", "min_pct",
                                       "max_pct", "status", "basis_ha", "note"])


# =========================================================================== crosswalk

_TARGETS = {"2023": "2023", "gb2023": "2023", "2023-guide": "2023"}


def crosswalk(table: pd.DataFrame, *, to: str = "2023", leaves_only: bool = True) -> pd.DataFrame:
    """Re-express a table in the 2023 land and sea use classification.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`load_table` (several may be concatenated).
    to : {"2023"}
        The target classification: 《国土空间调查、规划、用途管制用地用海分类指南》(2023).
    leaves_only : bool
        Map only the finest printed row of each branch (M2 and M3, not M too), so
        that each hectare appears once. False maps every class row; the ``leaf``
        column tells them apart.

    Returns
    -------
    pandas.DataFrame
        One row per (table row, 2023 code), following
        ``layers/rules/crosswalk_gb50137_to_2023.csv``: ``park, stage, row, code,
        name_zh, name_published, level, leaf, area_ha`` (``name_zh`` from the
        registry, ``area_ha`` the source row's area, always kept),
        ``code_2023, name_2023_zh, name_2023_en, level_2023, relation, confidence,
        n_targets, apportionable, area_2023_ha, note``.

        The area is carried over (``area_2023_ha``) only where the code has exactly
        one target and the relation is ``equivalent``. A ``partial`` or
        ``many_to_many`` mapping lists the possible targets without area weights,
        and splitting an area between them needs finer data than the table, so
        those rows have ``apportionable`` False and ``area_2023_ha`` NaN. Rows
        without a code or with a code the crosswalk does not hold get one row with
        ``relation`` ``"none"``.

    Raises
    ------
    InputError
        ``to`` is not a known classification.

    Examples
    --------
    >>> x = crosswalk(load_table("chemical", "planned"))
    >>> x.loc[x.code.str.startswith("M"), ["code", "code_2023", "area_2023_ha"]].to_string(index=False)
    'code code_2023  area_2023_ha\\n  M2    100102        122.48\\n  M3    100103        419.63'
    """
    if _TARGETS.get(str(to).lower()) is None:
        raise InputError(
            f"to={to!r} is not a classification jixi_geo can map to; use to='2023' (the 2023 "
            "用地用海分类指南). The crosswalk file is layers/rules/crosswalk_gb50137_to_2023.csv."
        )
    cw = _r.crosswalk_2023()
    c23 = _r.codes_2023()
    reg = _r.gb_codes()
    recs = []
    for ctx, rows, _ in _tables(table, "crosswalk"):
        parents = {r.parent_row for r in rows if r.parent_row is not None}
        for r in rows:
            if r.is_sum or (r.kind == "other" and r.area_problem == "empty"):
                continue
            leaf = r.row not in parents or not r.code
            if leaves_only and not leaf:
                continue
            base = {"park": ctx["park"], "stage": ctx["stage"], "row": r.row, "code": r.code,
                    "name_zh": reg[r.code]["name_zh"] if r.code in reg else r.name,
                    "name_published": r.name,
                    "level": _r.level_of(r.code) if r.code else "other", "leaf": leaf,
                    "area_ha": r.area}
            targets = cw.get(r.code, []) if r.code else []
            if not targets:
                why = ("the row has no land-use code" if not r.code
                       else f"{r.code} is not in the crosswalk (not a GB 50137-2011 code?)")
                recs.append({**base, "code_2023": "", "name_2023_zh": "", "name_2023_en": "",
                             "level_2023": "", "relation": "none", "confidence": "", "n_targets": 0,
                             "apportionable": False, "area_2023_ha": math.nan, "note": why})
                continue
            n = len(targets)
            for t in targets:
                ok = n == 1 and t["relation"] == "equivalent"
                tgt = c23.get(t["code_2023"], {})
                note = t["note"]
                if not ok:
                    why = (f"{t['relation']}: the area is not split over the {n} targets" if n > 1
                           else f"{t['relation']}: the classes do not cover the same land")
                    note = f"{why}; {note}" if note else why
                recs.append({**base, "code_2023": t["code_2023"], "name_2023_zh": tgt.get("name_zh", ""),
                             "name_2023_en": tgt.get("name_en", ""), "level_2023": tgt.get("level", ""),
                             "relation": t["relation"], "confidence": t["confidence"], "n_targets": n,
                             "apportionable": ok, "area_2023_ha": r.area if ok else math.nan,
                             "note": note})
    cols = ["park", "stage", "row", "code", "name_zh", "name_published", "level", "leaf", "area_ha", "code_2023",
            "name_2023_zh", "name_2023_en", "level_2023", "relation", "confidence", "n_targets",
            "apportionable", "area_2023_ha", "note"]
    out = pd.DataFrame(recs, columns=cols)
    out["apportionable"] = out["apportionable"].astype(bool)
    out["leaf"] = out["leaf"].astype(bool)
    out["n_targets"] = out["n_targets"].astype(int)
    return out
