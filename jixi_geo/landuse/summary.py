"""Shares of land-use classes and current/planned comparisons: :func:`shares`, :func:`compare`."""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd

from ..errors import InputError, SchemaError
from .codes import (CITY_LETTERS, LEVEL_DEPTH, LEVELS, TOTAL_NAMES_EN, depth, gb_codes, gb_order, level_of, nfkc,
                    norm_total_name, parse_number)
from .load import load_table  # noqa: F401  (the doctests)
from .table import class_areas, one_table, require_areas

__all__ = ["shares", "compare"]

def _level_depth(level: str) -> int:
    if level not in LEVEL_DEPTH:
        raise InputError(
            f"level={level!r} is not a level of GB 50137-2011; use one of {LEVELS} "
            "(大类 = major, e.g. M; 中类 = medium, e.g. M2; 小类 = minor, e.g. R21)"
        )
    return LEVEL_DEPTH[level]


def _sort_key(key: str) -> tuple:
    """城市建设用地 classes (R … G) first, then H and E, in the standard's order;
    then unknown codes; rows without a code last."""
    order = gb_order()
    if key.startswith("name:"):
        return (3, 0, key)
    if key in order:
        return (0 if key[:1] in CITY_LETTERS else 1, order[key], key)
    return (2, 0, key)


def _shares_frame(areas: dict[str, float]) -> pd.DataFrame:
    reg = gb_codes()
    total = math.fsum(areas.values())
    recs = []
    for key in sorted(areas, key=_sort_key):
        if key.startswith("name:"):
            name = key[5:]
            code, level, zh, en = "", "other", name, TOTAL_NAMES_EN.get(norm_total_name(name), "")
        else:
            code, level = key, level_of(key)
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
    codes = [nfkc(c).upper() for c in gdf[code_col]]
    empty = [str(ix) for ix, c in zip(gdf.index, codes, strict=True) if not c]
    if empty:
        raise InputError(
            f"shares(): {len(empty)} feature(s) have no {code_col!r}: index {', '.join(empty[:8])}; "
            "give every feature a code or drop it"
        )
    if area_col is not None:
        if area_col not in gdf.columns:
            raise SchemaError(f"area_col={area_col!r} is not a column; the columns are {list(gdf.columns)}")
        parsed = [parse_number(v) for v in gdf[area_col]]
        bad = [f"{ix}: {v!r}" for ix, v, p in zip(gdf.index, gdf[area_col], parsed, strict=True) if p[2] or p[0] < 0]
        if bad:
            raise InputError(
                f"shares(): {area_col!r} must hold non-negative areas in hectares; bad values at "
                + ", ".join(bad[:8])
            )
        areas = [p[0] for p in parsed]
    else:
        import geopandas as gpd

        from ..crs import geodesic_area

        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(
                "shares() of a frame with a landuse_code column needs geometries (a GeoDataFrame) "
                "or area_col= naming a column of areas in hectares"
            )
        areas = list(geodesic_area(gdf, unit="ha"))
    out: dict[str, float] = {}
    for c, a in zip(codes, areas, strict=True):
        dd = depth(c)
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
        classes R … G first, then H and E, each in the standard's order. ``share_pct`` is
        recomputed: area / sum of the rows × 100, so it adds up to 100 (compare with the
        published shares through :func:`validate`).
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
    >>> s[["code", "area_ha"]].to_string(index=False).splitlines()
    ['code  area_ha', '   B     7.94', '   M   542.11', '   W     8.01', '   S    96.21', '   U    25.24',
     '   G    20.07', '   E     2.96', '          10.10']
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
    _, rows = one_table(table_or_gdf, "shares")
    require_areas(rows, "shares")
    return _shares_frame(class_areas(rows, d))


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
    key = lambda df: [c if c else f"name:{n}" for c, n in zip(df["code"], df["name_zh"], strict=True)]  # noqa: E731
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


