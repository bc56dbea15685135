"""Loading land-use tables: the bundled Jidong tables and a planner's own CSV."""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from .._paths import tables_dir
from ..errors import InputError
from .codes import TOTAL_NAMES_EN, gb_codes, level_of, nfkc, norm_total_name, parent_code, parse_number
from .io import read_user_csv
from .layout import resolve_layout
from .table import rows_from_raw

__all__ = ["PARKS", "PARK_NAMES", "STAGES", "TABLE_COLUMNS", "ATTRS_KEY", "published_tables", "load_table",
           "load_function_zones", "load_parks"]

#: Park keys: 宝泉工业园, 工业产业园, 化工产业园.
PARKS = ("baoquan", "industrial", "chemical")
#: Bilingual park names.
PARK_NAMES = {"baoquan": ("宝泉工业园", "Baoquan Industrial Park"),
              "industrial": ("工业产业园", "Industrial Park"),
              "chemical": ("化工产业园", "Chemical Industry Park")}
#: 现状 (current) and 规划 (planned).
STAGES = ("current", "planned")
#: Columns of a table returned by :func:`load_table`, in order.
TABLE_COLUMNS = (
    "park", "stage", "row", "code", "level", "parent", "name_zh", "name_en",
    "area_ha", "share_pct", "share_basis", "row_kind", "section", "source_line",
    "code_published", "name_published", "area_ha_published", "share_published",
    "block", "parent_row", "note",
)
#: Key of ``DataFrame.attrs`` where :func:`load_table` records the source and, for the
#: published tables, the stated park sizes and function zones.
ATTRS_KEY = "jixi_geo.landuse"
_LANDUSE_CSV = "jidong_landuse.csv"



@lru_cache(maxsize=4)
def _bundled(name: str) -> pd.DataFrame:
    return pd.read_csv(tables_dir() / name, dtype=str, keep_default_na=False)


def _valid_combinations() -> list[tuple[str, str]]:
    raw = _bundled(_LANDUSE_CSV)
    return list(dict.fromkeys(zip(raw["park"], raw["stage"], strict=True)))


def published_tables() -> list[tuple[str, str]]:
    """The (park, stage) pairs the plan publishes a land-use table for.

    Examples
    --------
    >>> published_tables()
    [('baoquan', 'current'), ('industrial', 'current'), ('chemical', 'current'),
     ('industrial', 'planned'), ('chemical', 'planned')]
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
        then GB 18030 (a superset of GBK, as saved by Chinese Excel/WPS); a UTF-16
        byte-order mark means UTF-16. The file is decoded by the same policy as
        :func:`jixi_geo.read_sites` (:mod:`jixi_geo._text`).

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
        missing file, an Excel workbook or zip saved as ``.csv``, text that is not
        CSV, or no row with a numeric area.
    EncodingError
        The file is in none of the encodings tried, or not in ``encoding``; it
        decodes only to garbled text (mojibake such as 锟斤拷, or UTF-8 bytes read
        as GBK); or it is UTF-16 without a byte-order mark (the message names the
        ``encoding=`` to pass).
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
        table.attrs[ATTRS_KEY] = _published_meta()
        return table

    for label, value in (("park", park), ("stage", stage)):
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{label}={value!r}: give a non-empty label for the user's table, e.g. "
                             f"{label}={'industrial' if label == 'park' else 'planned'!r}")
    p = Path(path)
    df, enc = read_user_csv(p, encoding)
    lines = df.attrs.pop("lines")  # pandas deep-copies attrs on every operation: keep them small
    if "source_line" not in df.columns:
        df["source_line"] = [str(i) for i in lines]  # the CSV's own line numbers
    raw = resolve_layout(df, where=p.name)
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
    table.attrs[ATTRS_KEY] = {"source": str(p), "encoding": enc}
    return table


def _published_meta() -> dict[str, Any]:
    # The same for every published table, so that pd.concat of several keeps it
    # (pandas drops attrs that differ). Plain strings and tuples only.
    parks = _bundled("jidong_parks.csv")
    zones = _bundled("jidong_function_zones.csv")
    return {
        "source": f"layers/tables/{_LANDUSE_CSV}",
        "park_area_km2_published": {p: a for p, a in zip(parks["park"], parks["area_km2_published"], strict=True)},
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
    z["area_ha"] = [parse_number(v)[0] for v in z["area_ha"]]
    z["source_line"] = z["source_line"].astype(int)
    numbers = set(z["zone_no"])
    z["counted"] = [
        not math.isnan(a) and not any(n.startswith(f"{no}.") for n in numbers)
        for no, a in zip(z["zone_no"], z["area_ha"], strict=True)
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
    p["area_km2"] = [parse_number(v)[0] for v in p["area_km2_published"]]
    p["area_ha"] = p["area_km2"] * 100.0
    p["source_line"] = p["source_line"].astype(int)
    return p


def _tidy(raw: pd.DataFrame, *, park: str, stage: str, where: str = "table") -> pd.DataFrame:
    raw = raw.reset_index(drop=True)
    rows = rows_from_raw(raw, where=where)
    if not any(not r.area_problem for r in rows):
        raise InputError(
            f"{where}: no row has a numeric area; the area column holds "
            f"{[r.area_text for r in rows][:6]}. Give areas in hectares as plain numbers."
        )
    reg = gb_codes()
    col = lambda name, default="": (list(raw[name]) if name in raw.columns else [default] * len(raw))  # noqa: E731
    recs = []
    for r, basis, section, note in zip(rows, col("share_basis"), col("section"), col("note"), strict=True):
        known = reg.get(r.code)
        if r.is_sum:
            level, parent = r.kind, ""
            name_zh = r.name
            name_en = TOTAL_NAMES_EN.get(norm_total_name(r.name), "")
        elif not r.code:
            level, parent, name_zh = "other", "", r.name
            name_en = TOTAL_NAMES_EN.get(norm_total_name(r.name), "")
        else:
            level, parent = level_of(r.code), parent_code(r.code)
            name_zh = known["name_zh"] if known else ""
            name_en = known["name_en"] if known else ""
        recs.append({
            "park": park, "stage": stage, "row": r.row, "code": r.code, "level": level,
            "parent": parent, "name_zh": name_zh, "name_en": name_en, "area_ha": r.area,
            "share_pct": r.share, "share_basis": nfkc(basis), "row_kind": r.kind,
            "section": nfkc(section), "source_line": r.source_line,
            "code_published": " ".join(r.tokens) if r.tokens else "",
            "name_published": r.name, "area_ha_published": r.area_text,
            "share_published": r.share_text, "block": r.block, "parent_row": r.parent_row,
            "note": nfkc(note),
        })
    out = pd.DataFrame(recs, columns=list(TABLE_COLUMNS))
    out["row"] = out["row"].astype(int)
    out["area_ha"] = out["area_ha"].astype(float)
    out["share_pct"] = out["share_pct"].astype(float)
    out["block"] = out["block"].astype(int)
    out["source_line"] = pd.array(out["source_line"], dtype="Int64")
    out["parent_row"] = pd.array(out["parent_row"], dtype="Int64")
    return out

