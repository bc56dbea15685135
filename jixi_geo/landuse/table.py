"""The structure of a land-use table: its rows, which row sums into which, and class areas.

A table arrives as a frame in the published layout (:mod:`.layout`); here it
becomes a list of :class:`Row`, each with its ``block`` and ``parent_row``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import InputError, SchemaError
from .codes import ancestors, code_tokens, depth, looks_like_sum, nfkc, parse_number
from .layout import resolve_layout

__all__ = ["SUM_KINDS", "ROW_KINDS", "Row", "assign_structure", "rows_from_raw", "class_areas", "tables_in",
           "one_table", "require_areas"]

# --------------------------------------------------------------------------- table structure

SUM_KINDS = ("subtotal", "total")
ROW_KINDS = ("class", "subclass", "non_construction", "other", "subtotal", "total")


@dataclass
class Row:
    """One table row as the checks see it."""

    i: int  # position in the table
    row: int
    tokens: list[str]
    code: str
    kind: str
    name: str
    area: float
    area_dec: int | None
    area_text: str
    area_problem: str
    share: float
    share_dec: int | None
    share_text: str
    share_problem: str
    source_line: Any = None
    block: int = 0
    parent_row: int | None = None

    @property
    def is_sum(self) -> bool:
        return self.kind in SUM_KINDS

    @property
    def where(self) -> str:
        line = f", line {self.source_line}" if self.source_line not in (None, "") and not (
            isinstance(self.source_line, float) and math.isnan(self.source_line)) else ""
        return f"row {self.row}{line}"

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip() if self.code else self.name


def assign_structure(rows: list[Row]) -> None:
    """Set ``block`` and ``parent_row`` on each row, in place.

    A subtotal closes a block: it sums the top-level rows of its block. A total
    sums the subtotals before it and the top-level rows that no subtotal took.
    A class row's parent is the nearest earlier row of its block that carries
    its parent code (or grandparent); a class row without one is top-level.

    Linear time: the latest row of the block carrying each code is kept in a
    dict, so finding a parent is a lookup, not a scan of the earlier rows.
    """
    block = 0
    pending: list[Row] = []
    subtotals: list[Row] = []
    latest: dict[str, Row] = {}  # code -> the latest row of this block that carries it
    for r in rows:
        r.block = block
        if r.kind == "subtotal":
            for t in pending:
                t.parent_row = r.row
            subtotals.append(r)
            pending, latest = [], {}
            block += 1
        elif r.kind == "total":
            for t in pending + subtotals:
                t.parent_row = r.row
            pending, subtotals, latest = [], [], {}
            block += 1
        else:
            parent = None
            if r.code:
                for anc in ancestors(r.code):
                    parent = latest.get(anc)
                    if parent is not None:
                        break
            if parent is not None:
                r.parent_row = parent.row
            else:
                pending.append(r)
            for tok in r.tokens:
                latest[tok] = r


def _infer_kinds(raw: pd.DataFrame) -> list[str]:
    given = [(nfkc(k).lower() if "row_kind" in raw.columns else "") for k in
             (raw["row_kind"] if "row_kind" in raw.columns else [""] * len(raw))]
    kinds = []
    sums = []
    for i, (code, name, kind) in enumerate(zip(raw["code_published"], raw["name_published"], given, strict=True)):
        if kind:
            kinds.append(kind)
            continue
        toks = code_tokens(code)
        if toks:
            kinds.append("non_construction" if toks[0].startswith("E")
                         else "class" if len(toks[-1]) == 1 else "subclass")
        elif looks_like_sum(name):
            kinds.append("subtotal")
            sums.append(i)
        else:
            kinds.append("other")
    if sums and not any(k == "total" for k in kinds):
        kinds[sums[-1]] = "total"
    return kinds


def rows_from_raw(raw: pd.DataFrame, *, where: str) -> list[Row]:
    kinds = _infer_kinds(raw)
    bad = [(i, k) for i, k in enumerate(kinds) if k not in ROW_KINDS]
    if bad:
        raise SchemaError(
            f"{where}: row_kind must be one of {ROW_KINDS}; found "
            + ", ".join(f"{k!r} (row {i + 1})" for i, k in bad[:5])
        )
    if "row" in raw.columns and (raw["row"] != "").all():
        try:
            numbers = [int(v) for v in raw["row"]]
        except ValueError:
            numbers = []
        if not numbers or len(set(numbers)) != len(numbers):
            raise SchemaError(
                f"{where}: the row column must hold distinct whole numbers (1, 2, 3 …); found "
                f"{list(raw['row'])[:8]}. Drop the column to number the rows in order."
            )
    else:
        numbers = list(range(1, len(raw) + 1))
    lines = raw["source_line"].tolist() if "source_line" in raw.columns else [None] * len(raw)
    fields = ("code_published", "name_published", "area_ha_published", "share_published")
    recs = (dict(zip(fields, vals, strict=True)) for vals in zip(*(raw[f].tolist() for f in fields), strict=True))
    rows = []
    for i, (rec, kind, no, line) in enumerate(zip(recs, kinds, numbers, lines, strict=True)):
        toks = code_tokens(rec["code_published"])
        area, adec, aprob = parse_number(rec["area_ha_published"])
        share, sdec, sprob = parse_number(rec["share_published"], percent=True)
        try:
            line = int(line) if line not in (None, "") else None
        except ValueError:
            line = None
        rows.append(Row(
            i=i, row=no, tokens=toks, code=toks[-1] if toks else "", kind=kind,
            name=nfkc(rec["name_published"]), area=area, area_dec=adec,
            area_text=nfkc(rec["area_ha_published"]), area_problem=aprob,
            share=share, share_dec=sdec, share_text=nfkc(rec["share_published"]),
            share_problem=sprob, source_line=line,
        ))
    assign_structure(rows)
    return rows


def class_areas(rows: list[Row], d: int) -> dict[str, float]:
    """Area per class at depth ``d``, each hectare counted once.

    Within a block, a class is taken from the row printed for it; where no such row
    exists, from the sum of its finest-printed subclasses (at the shallowest depth
    printed). A class printed above ``d`` without subclasses is kept as it is. Rows
    without a code are keyed by their name (``"name:预留发展用地"``).
    """
    out: dict[str, float] = {}
    blocks: dict[int, list[Row]] = {}
    for r in rows:
        if not r.is_sum and not (r.kind == "other" and r.area_problem == "empty"):
            blocks.setdefault(r.block, []).append(r)
    for rs in blocks.values():
        groups: dict[str, list[Row]] = {}
        # every proper prefix of a code in the block: a row "has descendants" if its code is one
        prefixes = {o.code[:k] for o in rs for k in range(1, len(o.code))}
        for r in rs:
            if not r.code:
                out[f"name:{r.name}"] = out.get(f"name:{r.name}", 0.0) + r.area
                continue
            rd = depth(r.code)
            if rd is None:
                key = r.code
            elif rd >= d:
                key = r.code[:d]
            else:
                if r.code in prefixes:  # a longer code in the block starts with it
                    continue
                key = r.code
            groups.setdefault(key, []).append(r)
        for key, g in groups.items():
            exact = [r for r in g if key in r.tokens]
            if exact:
                area = math.fsum(r.area for r in exact)
            else:
                mind = min(len(r.code) for r in g)
                area = math.fsum(r.area for r in g if len(r.code) == mind)
            out[key] = out.get(key, 0.0) + area
    return out


def tables_in(obj: Any, fn: str) -> list[tuple[dict, list[Row], pd.DataFrame]]:
    """Split an input into (context, rows, tidy frame) per park and stage."""
    if not isinstance(obj, pd.DataFrame):
        raise InputError(
            f"{fn}() takes a DataFrame from load_table() (or one with code and area_ha "
            f"columns); got {type(obj).__name__}"
        )
    if obj.empty:
        raise InputError(f"{fn}() got an empty table; load one with load_table()")
    raw = resolve_layout(obj, where=f"{fn}() input")
    if raw.empty:
        raise InputError(f"{fn}() got a table whose rows are all blank; load one with load_table()")
    if "park" not in raw.columns:
        raw["park"] = "user"
    if "stage" not in raw.columns:
        raw["stage"] = ""
    out = []
    for (park, stage), part in raw.groupby(["park", "stage"], sort=False):
        part = part.reset_index(drop=True)
        rows = rows_from_raw(part, where=f"{fn}() input")
        basis = next((b for b in part.get("share_basis", []) if b), "")
        out.append(({"park": park, "stage": stage, "share_basis": basis}, rows, part))
    return out


def one_table(obj: Any, fn: str) -> tuple[dict, list[Row]]:
    """The (context, rows) of an input holding one park/stage table; InputError for several."""
    groups = tables_in(obj, fn)
    if len(groups) > 1:
        names = ", ".join(f"({c['park']!r}, {c['stage']!r})" for c, _, _ in groups)
        raise InputError(f"{fn}() takes one table; the input holds {len(groups)}: {names}. Select one.")
    ctx, rows, _ = groups[0]
    return ctx, rows


def require_areas(rows: list[Row], fn: str) -> None:
    """Raise InputError naming the class rows without a numeric, non-negative area (hectares)."""
    bad = [r for r in rows if not r.is_sum and r.area_problem and not (r.kind == "other" and r.area_problem == "empty")]
    neg = [r for r in rows if not r.is_sum and not r.area_problem and r.area < 0]
    if bad or neg:
        parts = [f"{r.where} ({r.label}): {r.area_text!r}" for r in bad + neg]
        raise InputError(
            f"{fn}() needs a non-negative area in hectares on every class row; "
            + "; ".join(parts[:6]) + ". Fix these rows (validate() lists every problem)."
        )


