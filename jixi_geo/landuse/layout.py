"""The column layouts of land-use tables (published, tidy, or a simple user table).

:func:`resolve_layout` maps any accepted layout to the published one, every cell
as text, so that the rest of the package sees one shape.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SchemaError
from .codes import code_tokens, float_decimals, fmt, nfkc, parse_number

__all__ = ["cell_text", "resolve_layout"]

_ALIASES = {
    "code_published": ("code_published", "code", "landuse_code", "代码", "用地代码", "类别代码",
                       "用地类别代码", "用地分类代码", "分类代码"),
    "name_published": ("name_published", "name", "name_zh", "名称", "用地名称", "类别名称",
                       "用地类别名称", "用地性质", "用地类别"),
    "area_ha_published": ("area_ha_published", "area_ha", "area", "面积", "面积(公顷)", "面积(ha)",
                          "面积(hm2)", "用地面积", "用地面积(公顷)", "用地面积(ha)", "用地面积(hm2)"),
    "share_published": ("share_published", "share_pct", "share", "比例", "比例(%)", "占比",
                        "占比(%)", "百分比", "百分比(%)"),
}
_PARSED = {"code_published": "code", "area_ha_published": "area_ha", "share_published": "share_pct"}
_OPTIONAL = ("park", "stage", "row", "share_basis", "row_kind", "section", "source_line", "note",
             "level_published")
_OTHER_UNITS = re.compile(r"(亩|平方米|平方公里|平方千米|km2|(?<!h)m2|mu\b|_mu$)")


def _header_key(h: Any) -> str:
    return re.sub(r"\s+", "", nfkc(h)).lower()


def cell_text(v: Any, *, figure: bool = False) -> str:
    """A cell as text. With ``figure``, a number given as int or float (not as text)
    is written to at least 2 decimals: it carries no printed precision, and
    planning tables give hectares and percentages to 0.01."""
    if type(v) is str:
        return nfkc(v)
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return fmt(float(v), 2) if figure else str(int(v))
    if isinstance(v, (float, np.floating)):
        d = float_decimals(float(v))
        return fmt(float(v), max(d, 2) if figure else d)
    return nfkc(v)


def resolve_layout(df: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """Map a frame's columns to the published layout (all cells text)."""
    dup = sorted({str(c) for c in df.columns if list(df.columns).count(c) > 1})
    if dup:
        raise SchemaError(f"{where}: the column(s) {dup} appear more than once; keep one of each")
    keys = {_header_key(c): c for c in reversed(list(df.columns))}
    cols = {k: df[c] for k, c in keys.items()}
    out: dict[str, list[str]] = {}
    n = len(df)

    def text(col, figure: bool = False) -> list[str]:
        values = col.tolist()
        seen: dict = {}  # cells repeat (codes, names): each distinct value is converted once
        keys = [(v.__class__, v) for v in values]  # 1, 1.0 and True are equal keys otherwise
        for k in keys:
            if k not in seen:
                seen[k] = cell_text(k[1], figure=figure)
        return [seen[k] for k in keys]

    for field, aliases in _ALIASES.items():
        found = [a for a in aliases if a in cols]
        if not found and field == "share_published":
            found = [k for k in cols if re.match(r"^占.*比", k) or k.startswith("比例")]
        if not found and field == "area_ha_published":
            other = [keys[k] for k in cols if ("面积" in k or k.startswith("area")) and _OTHER_UNITS.search(k)]
            if other:
                raise SchemaError(
                    f"{where}: the area column {other[0]!r} is not in hectares. Convert it "
                    "(jixi_geo.units.convert_area(values, 'mu', 'ha') for 亩) into a column "
                    "named area_ha."
                )
            found = [k for k in cols if "面积" in k]
        if not found:
            continue
        figure = field in ("area_ha_published", "share_published")
        primary = text(cols[found[0]], figure)
        parsed_col = _PARSED.get(field)
        if parsed_col and found[0] == field and parsed_col in cols:
            # both the published text and a parsed column (a table from load_table):
            # the parsed value wins where they disagree, written to the published decimals
            parsed = text(cols[parsed_col], figure)
            primary = [p if _agrees(field, p, v) else _redecimal(v, p) if figure else v
                       for p, v in zip(primary, parsed, strict=True)]
        out[field] = primary
    missing = [f for f in ("code_published", "area_ha_published") if f not in out]
    if missing:
        need = {"code_published": "code (代码)", "area_ha_published": "area_ha (面积, hectares)"}
        raise SchemaError(
            f"{where}: no {' and no '.join(need[m] for m in missing)} column; the columns are "
            f"{list(df.columns)}. Use the layout of layers/tables/jidong_landuse.csv, or "
            "code,name,area_ha[,share_pct]."
        )
    out.setdefault("name_published", [""] * n)
    out.setdefault("share_published", [""] * n)
    for opt in _OPTIONAL:
        if opt in cols:
            out[opt] = text(cols[opt])
    frame = pd.DataFrame(out, dtype=object)
    blank = (frame[["code_published", "name_published", "area_ha_published", "share_published"]] == "").all(axis=1)
    return frame[~blank].reset_index(drop=True)


def _redecimal(value: str, published: str) -> str:
    v, d, prob = parse_number(value, percent=True)
    pd_ = parse_number(published, percent=True)[1]
    if prob or pd_ is None:
        return value
    return fmt(v, max(pd_, float_decimals(v)))


def _agrees(field: str, published: str, parsed: str) -> bool:
    if field == "code_published":
        toks = code_tokens(published)
        return (toks[-1] if toks else "") == nfkc(parsed).upper()
    a, b = parse_number(published, percent=True)[0], parse_number(parsed, percent=True)[0]
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-9


