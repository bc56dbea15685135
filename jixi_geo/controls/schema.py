"""The schema check of one control layer, and its normalised columns.

:func:`check_layer` collects every problem of a layer (columns, CRS, location,
geometry types, empty or invalid polygons, unknown levels or flags) and raises
them together, 中文 first; otherwise it returns the layer in EPSG:4490 with the
normalised columns of the contract (``control_id, name, level``; for land cover
also ``class_code, class_name, class_known`` and ``black_soil`` when the layer
says) and the findings worth reporting (reprojection, padded codes, unknown
codes with their area, overlapping polygons with the overlap area).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pyproj
import shapely

import geopandas as gpd

from .. import rules as _rules
from .._kernels import ellipsoidal_area
from ..crs import ANALYSIS_CRS, JIXI_BOUNDS, STORAGE_CRS, ballpark_datum, ballpark_datum_message, project
from ..errors import CRSError, SchemaError
from . import codes as _codes
from .rules import level_key, role_levels

__all__ = ["Checked", "check_layer", "column_aliases", "overlap_ha", "FAR_MARGIN_DEG", "SHOWN", "EXACT_OVERLAP_MAX"]

#: A layer none of whose features lies within this many degrees of Jixi is refused (a wrong CRS).
FAR_MARGIN_DEG = 1.0
#: Messages list at most this many values (unknown levels, codes, reasons).
SHOWN = 10
#: Above this many pairs of overlapping intersections (places covered three times or more),
#: :func:`overlap_ha` gives the sum of the pairwise overlaps as an upper bound instead of
#: the exact area (a layer overlapping everywhere would otherwise take minutes).
EXACT_OVERLAP_MAX = 5_000
_TRUE = {"1", "是", "y", "yes", "true", "t", "黑土耕地", "黑土"}
_FALSE = {"0", "否", "n", "no", "false", "f", "", "非黑土耕地", "nan", "none"}


@dataclass
class Checked:
    """A checked layer: the normalised frame (EPSG:4490), its input CRS and findings."""

    gdf: gpd.GeoDataFrame
    crs: str
    findings: list[str] = field(default_factory=list)
    year: str | None = None
    synthetic: bool = False


@cache
def _alias_table() -> pd.DataFrame:
    return _rules.read_rule_file("control_column_aliases.csv")


def column_aliases(role: str, column: str) -> list[str]:
    """The file column names read as ``column`` for ``role``, in order of preference (the name itself first)."""
    t = _alias_table()
    hits = t[(t["column"] == column) & t["role"].isin(["*", role])]["alias"].tolist()
    return [column, *hits]


@cache
def _role_labels() -> dict[str, tuple[str, str]]:
    t = _rules.read_rule_file("control_roles.csv")
    return {r: (zh, en) for r, zh, en in t[["role", "name_zh", "name_en"]].itertuples(index=False)}


def _find(gdf, role, column, given) -> tuple[str | None, tuple[str, str] | None]:
    """(file column read as ``column``, problem text) — an explicit ``given`` must exist."""
    cols = {str(c).strip().lower(): c for c in gdf.columns if c != gdf.geometry.name}
    if given:
        hit = cols.get(str(given).strip().lower())
        if hit is None:
            have = ", ".join(map(str, list(cols.values())[:20]))
            return None, (f"指定的列 {given!r} 不存在（有：{have}）",
                          f"the column {given!r} given for {column} is not in the layer")
        return hit, None
    for a in column_aliases(role, column):
        hit = cols.get(a.strip().lower())
        if hit is not None:
            return hit, None
    return None, None


def _text(s: pd.Series) -> pd.Series:
    s = s.astype(object).where(s.notna(), "").astype(str).str.strip()
    return s.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _flags(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    t = _text(s).str.lower()
    bad = sorted(set(t) - _TRUE - _FALSE)
    return t.isin(_TRUE).to_numpy(), bad


def _interior_pairs(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs i < j of polygons whose interiors meet in two dimensions (DE-9IM ``2********``)."""
    i, j = shapely.STRtree(g).query(g)  # bounding boxes meet
    b = shapely.bounds(g)
    # neighbours that only touch have boxes meeting in a line or a point: no area can overlap there
    keep = ((i < j) & (np.minimum(b[i, 2], b[j, 2]) > np.maximum(b[i, 0], b[j, 0]))
            & (np.minimum(b[i, 3], b[j, 3]) > np.maximum(b[i, 1], b[j, 1])))
    i, j = i[keep], j[keep]
    if not len(i):
        return i, j
    inner = shapely.relate_pattern(g[i], g[j], "2********")
    return i[inner], j[inner]


def _polygon_parts(geoms: np.ndarray) -> np.ndarray:
    parts = shapely.get_parts(geoms)
    return parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]


def overlap_ha(geoms_analysis: np.ndarray) -> tuple[float, int, bool]:
    """Area (ha, CGCS2000 ellipsoid) covered by two or more polygons, the number of overlapping
    pairs, and whether the area is exact (False: an upper bound, see :data:`EXACT_OVERLAP_MAX`).

    ``geoms_analysis`` are polygons in EPSG:4553. Pairs are found with an STRtree
    and kept when their interiors meet in two dimensions (DE-9IM ``2********``,
    so shared edges do not count); the area is that of the union of the pairwise
    intersections, so a place covered three times is counted once. That union is
    never built whole: each intersection adds what the earlier intersections
    overlapping it do not cover, so a layer full of slivers costs time in proportion
    to its slivers.
    """
    g = np.asarray(geoms_analysis, dtype=object)
    if len(g) < 2:
        return 0.0, 0, True
    i, j = _interior_pairs(g)
    if not len(i):
        return 0.0, 0, True
    pieces = _polygon_parts(shapely.intersection(g[i], g[j]))
    if len(pieces) > 4 * EXACT_OVERLAP_MAX:
        return float(ellipsoidal_area(pieces).sum()) / 1e4, int(len(i)), False
    pi, pj = _interior_pairs(pieces) if len(pieces) > 1 else (np.zeros(0, int), np.zeros(0, int))
    # area of the union of the pieces without one big union: each piece counts what the
    # lower-numbered pieces overlapping it do not already cover
    own = ellipsoidal_area(pieces)
    if len(pj) > EXACT_OVERLAP_MAX:
        return float(own.sum()) / 1e4, int(len(i)), False
    if len(pj):
        order = np.argsort(pj, kind="stable")
        later, starts = np.unique(pj[order], return_index=True)
        lower = np.split(pi[order], starts[1:])
        covers = np.array([shapely.union_all(pieces[idx]) for idx in lower], dtype=object)
        rest = shapely.difference(pieces[later], covers)
        own[later] = [ellipsoidal_area(_polygon_parts(np.array([r], dtype=object))).sum() for r in rest]
    area = float(own.sum())
    return area / 1e4, int(len(i)), True


def _check_crs_and_place(gdf, problems) -> tuple[np.ndarray | None, str]:
    """Geometries in EPSG:4490 (or None after recording a problem) and the input CRS label."""
    if gdf.crs is None:
        problems.append((CRSError, "没有坐标系：请设置数据实际所用的坐标系"
                         "（如 EPSG:4490 或 EPSG:4553；Shapefile 请补 .prj）",
                         "no CRS: set the CRS the coordinates are in (e.g. EPSG:4490 or EPSG:4553; for a "
                         "Shapefile supply the .prj); jixi_geo never guesses a control layer's CRS"))
        return None, ""
    src = pyproj.CRS.from_user_input(gdf.crs)
    auth = src.to_authority(min_confidence=70)
    label = f"{auth[0]}:{auth[1]}" if auth else src.name
    datum = ballpark_datum(src)
    if datum is not None:  # reprojected by a null shift it would sit tens of metres off: refused
        problems.append((CRSError, *ballpark_datum_message(label, datum)))
        return None, label
    g = gdf.geometry.values
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if not ok.any():
        return None, label
    b = shapely.bounds(g[ok])
    x0, y0, x1, y1 = np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3])
    if src.is_geographic:
        if 44.0 <= x0 and x1 <= 47.5 and 129.0 <= y0 and y1 <= 135.0:
            problems.append((CRSError, f"经纬度疑似颠倒（x {x0:.3f}–{x1:.3f}，y {y0:.3f}–{y1:.3f}）："
                             "鸡西约为东经 130.4–133.9°、"
                             "北纬 44.9–46.6°，请交换坐标轴后再用",
                             "longitude and latitude look swapped (Jixi is at 130.4–133.9°E, 44.9–46.6°N); swap the "
                             "axes and try again"))
            return None, label
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            problems.append((CRSError, f"坐标系 {label} 以度为单位，"
                             f"但坐标（x 至 {max(abs(x0), abs(x1)):.0f}）不是经纬度："
                             "多半是投影坐标（米）被标成了地理坐标系，请在源头改正 .prj 或坐标系",
                             f"the CRS {label} is in degrees but the coordinates are not (x up to "
                             f"{max(abs(x0), abs(x1)):.0f}): probably projected metres with a wrong CRS label; "
                             "fix the CRS at the source"))
            return None, label
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = project(g, src, STORAGE_CRS)
    tb = shapely.bounds(out[ok])
    m = FAR_MARGIN_DEG
    jx0, jy0, jx1, jy1 = JIXI_BOUNDS
    with np.errstate(invalid="ignore"):
        near = ((tb[:, 2] >= jx0 - m) & (tb[:, 0] <= jx1 + m) & (tb[:, 3] >= jy0 - m) & (tb[:, 1] <= jy1 + m))
    if not near.any():
        fin = np.isfinite(tb).all(axis=1)
        found = (f"({np.min(tb[fin, 0]):.3f}, {np.min(tb[fin, 1]):.3f}, {np.max(tb[fin, 2]):.3f}, "
                 f"{np.max(tb[fin, 3]):.3f})" if fin.any() else "(无有限坐标 / not finite)")
        problems.append((CRSError, f"全部要素都远离鸡西（EPSG:4490 范围 {found}，"
                         f"应在东经 {jx0 - m:.1f}–{jx1 + m:.1f}°、北纬 {jy0 - m:.1f}–{jy1 + m:.1f}° 之内）："
                         f"坐标系 {label} 多半有误（鸡西在 3° 带 44，中央经线 132°E，"
                         "EPSG:4553 / 带号前缀 EPSG:4532）",
                         f"every feature lies far from Jixi (EPSG:4490 bounds {found}; expected within "
                         f"{jx0 - m:.1f}–{jx1 + m:.1f}°E, {jy0 - m:.1f}–{jy1 + m:.1f}°N): the CRS {label} is "
                         "probably wrong (Jixi is in 3-degree zone 44, CM 132E: EPSG:4553, or EPSG:4532 with the "
                         "zone prefix)"))
        return None, label
    return out, label


def _check_geometry(gdf, make_valid, problems, findings) -> np.ndarray:
    g = gdf.geometry.values.copy()
    missing = shapely.is_missing(g) | shapely.is_empty(g)
    if missing.any():
        problems.append((SchemaError, f"{int(missing.sum())} 个要素几何为空或缺失；请删除或补全",
                         f"{int(missing.sum())} features have empty or missing geometry; delete or complete them"))
    types = pd.Series(shapely.get_type_id(g))
    poly = types.isin([3, 6]).to_numpy()
    other = ~poly & ~missing
    if other.any():
        kinds = sorted(set(gdf.geometry[other].geom_type))
        mixed = "混合" if poly.any() else ""
        problems.append((SchemaError, f"几何类型{mixed}：含 {', '.join(kinds)} 共 {int(other.sum())} 个要素；"
                         "管控图层须全部为面"
                         "（Polygon/MultiPolygon），请在 GIS 中只导出面要素",
                         f"{'mixed ' if poly.any() else ''}geometry types: {int(other.sum())} features are "
                         f"{', '.join(kinds)}; a control layer must hold polygons only; export only the polygon "
                         "features"))
    invalid = poly & ~missing & ~shapely.is_valid(g)
    if invalid.any():
        if make_valid:
            fixed = shapely.make_valid(g[invalid])
            parts = [shapely.multipolygons(shapely.get_parts(p)[shapely.get_type_id(shapely.get_parts(p)) == 3])
                     for p in fixed]
            g[invalid] = parts
            gone = int(shapely.is_empty(np.array(parts, dtype=object)).sum())
            if gone:
                problems.append((SchemaError, f"{gone} 个无效面经 make_valid 修复后不剩任何面"
                                 "（退化为线或点）；请删除或重画",
                                 f"{gone} invalid polygons keep no area after make_valid (they collapse to lines or "
                                 "points); delete or redraw them"))
            findings.append(f"{int(invalid.sum())} 个无效面已用 shapely.make_valid 修复（只保留面部分），请核对结果 / "
                            f"{int(invalid.sum())} invalid polygons were repaired with shapely.make_valid (polygon "
                            "parts kept); check the result")
        else:
            reasons = sorted(set(shapely.is_valid_reason(g[invalid])))[:3]
            problems.append((SchemaError, f"{int(invalid.sum())} 个面无效（如 {'; '.join(reasons)}）；请在 GIS 中修复，"
                             "或传 make_valid=True 让 jixi_geo 修复并记录",
                             f"{int(invalid.sum())} invalid polygons (e.g. {'; '.join(reasons)}); repair them in a "
                             "GIS, or pass make_valid=True to have jixi_geo repair them and say so"))
    return g


def _landcover_columns(gdf, role, opts, problems, findings, out):
    code_col, p1 = _find(gdf, role, "class_code", opts.get("code_column"))
    name_col, p2 = _find(gdf, role, "class_name", opts.get("name_column"))
    for p in (p1, p2):
        if p:
            problems.append((SchemaError, p[0], p[1]))
    if code_col is None and name_col is None and not (p1 or p2):
        problems.append((SchemaError, "缺少地类编码列：地类图斑须有 DLBM（地类编码）或 DLMC（地类名称）列，"
                         "可用 code_column= 指定",
                         "no land-class column: a land-cover layer needs DLBM (地类编码) or DLMC (地类名称); name "
                         "it with code_column= (see layers/rules/control_column_aliases.csv)"))
        return
    names = _text(gdf[name_col]) if name_col is not None else pd.Series([""] * len(gdf), index=gdf.index)
    if code_col is not None:
        norm = _codes.normalise_codes(gdf[code_col])
        code = pd.Series(norm.codes, index=gdf.index, dtype=object)
        if norm.note[0]:
            findings.append(" / ".join(norm.note))
        if name_col is not None:
            from_names, _ = _codes.codes_from_names(names)
            empty = (code == "").to_numpy() & (from_names != "")
            code[empty] = from_names[empty]
            if empty.any():
                findings.append(f"{int(empty.sum())} 个图斑缺地类编码，已按地类名称补齐 / {int(empty.sum())} parcels "
                                "without a code got it from their DLMC name")
            clash = (from_names != "") & (code.to_numpy() != from_names)
            if clash.any():
                eg = f"{code[clash].iloc[0]}≠{names[clash].iloc[0]}"
                findings.append(f"{int(clash.sum())} 个图斑的地类编码与地类名称不符（如 {eg}），按编码计 / "
                                f"{int(clash.sum())} parcels have a code that does not match their DLMC name "
                                f"(e.g. {eg}); the code is used")
    else:
        c, unknown_names = _codes.codes_from_names(names)
        code = pd.Series(c, index=gdf.index, dtype=object)
        code[code == ""] = names[code == ""]  # kept as given: an unknown class
        findings.append(f"图层只有地类名称（{name_col}），地类编码由名称对照得出 / the layer has only land-class names "
                        f"({name_col}); codes were looked up from the names")
    out["class_code"] = code.to_numpy(dtype=object)
    out["class_name"] = names.to_numpy(dtype=object)
    out["class_known"] = code.isin(_codes.known_codes()).to_numpy(dtype=bool)
    bs_col, p3 = _find(gdf, role, "black_soil", opts.get("black_soil_column"))
    if p3:
        problems.append((SchemaError, p3[0], p3[1]))
    if bs_col is not None:
        flags, bad = _flags(gdf[bs_col])
        if bad:
            problems.append((SchemaError, f"黑土耕地列 {bs_col} 含无法识别的值 {bad[:SHOWN]}；请用 1/0 或 是/否",
                             f"the black-soil column {bs_col} holds values {bad[:SHOWN]} that are neither yes nor "
                             "no; use 1/0 or 是/否"))
        out["black_soil"] = flags


def check_layer(role: str, gdf: gpd.GeoDataFrame, *, name: str, opts: dict) -> Checked:
    """Check one control layer and return it normalised (see the module docstring).

    Raises
    ------
    SchemaError or CRSError
        Every problem at once: the message starts with the layer's name in
        中文, then each problem as ``中文 / English``.
    """
    role_zh, role_en = _role_labels()[role]
    problems: list[tuple[type, str, str]] = []
    findings: list[str] = []
    if len(gdf) == 0:
        problems.append((SchemaError, "图层没有要素", "the layer has no features"))
    geoms = _check_geometry(gdf, bool(opts.get("make_valid")), problems, findings)
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    out: dict[str, np.ndarray] = {}
    id_col, p = _find(gdf, role, "control_id", opts.get("id_column"))
    if p:
        problems.append((SchemaError, p[0], p[1]))
    out["control_id"] = (_text(gdf[id_col]).to_numpy(dtype=object) if id_col is not None
                         else np.array([str(i + 1) for i in range(len(gdf))], dtype=object))
    name_col, p = _find(gdf, role, "name", None)
    out["name"] = (_text(gdf[name_col]).to_numpy(dtype=object) if name_col is not None
                   else np.full(len(gdf), "", dtype=object))
    levels = role_levels(role)
    if len(levels):
        lv_col, p = _find(gdf, role, "level", opts.get("level_column"))
        if p:
            problems.append((SchemaError, p[0], p[1]))
        elif lv_col is None:
            problems.append((SchemaError, f"缺少保护区级别列（{'、'.join(column_aliases(role, 'level'))} 之一），或用 "
                             "level_column= 指定",
                             f"no level column: the {role_en} layer needs one of "
                             f"{', '.join(column_aliases(role, 'level'))} (or name it with level_column=)"))
        if lv_col is not None:
            vals = _text(gdf[lv_col])
            keys = vals.map(lambda v: level_key(role, v) or "")
            bad = sorted(set(vals[keys == ""]))
            if bad:
                known = "；".join(f"{k}: {a}" for k, a in levels[["level", "aliases"]].itertuples(index=False))
                problems.append((SchemaError, f"级别列 {lv_col} 含无法识别的值 {bad[:SHOWN]}；可用的写法：{known}",
                                 f"the level column {lv_col} holds unknown values {bad[:SHOWN]}; known values "
                                 f"(layers/rules/control_role_levels.csv): {known}"))
            out["level"] = keys.to_numpy(dtype=object)
    else:
        out["level"] = np.full(len(gdf), "", dtype=object)
    if role == "landcover":
        _landcover_columns(gdf, role, opts, problems, findings, out)
    stored, label = _check_crs_and_place(gdf, problems)
    if problems:
        cls = CRSError if all(c is CRSError for c, _, _ in problems) else SchemaError
        lines = "\n".join(f"  - {zh} / {en}" for _, zh, en in problems)
        err = cls(f"{role_zh}图层 {name} 有 {len(problems)} 个问题，无法使用：\n{lines}\n"
                  f"/ the {role_en} layer {name} has {len(problems)} problem(s); fix each one above")
        err.problems = [f"{zh} / {en}" for _, zh, en in problems]
        raise err
    assert stored is not None
    if shapely.has_z(gdf.geometry.values).any():  # a reprojection drops Z; without one, drop it here
        stored = shapely.force_2d(stored)
        findings.append("图层含高程（Z）坐标，已只保留平面坐标 / the layer has Z coordinates; only x and y are kept")
    result = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(stored, crs=STORAGE_CRS), crs=STORAGE_CRS)
    if label != "EPSG:4490":
        findings.insert(0, f"图层坐标系为 {label}，已转换（非重新标注）为 EPSG:4490 / the layer is in {label}; it was "
                           "reprojected (never relabelled) to EPSG:4490")
    year, synthetic = _year_and_synthetic(gdf, role, findings)
    _area_findings(role, result, findings)
    return Checked(result, label, findings, year, synthetic)


def _year_and_synthetic(gdf, role, findings) -> tuple[str | None, bool]:
    year = None
    y_col, _ = _find(gdf, role, "year", None)
    if y_col is not None:
        ys = sorted({v for v in _text(gdf[y_col]) if v})
        if len(ys) == 1:
            year = ys[0]
        elif ys:
            year = f"{ys[0]}–{ys[-1]}"
            findings.append(f"年份列 {y_col} 含多个年份（{', '.join(ys[:SHOWN])}） / the year column {y_col} holds "
                            f"several years ({', '.join(ys[:SHOWN])})")
    synthetic = False
    if "synthetic" in gdf.columns and len(gdf):
        flags, bad = _flags(gdf["synthetic"])
        synthetic = bool(flags.all()) and not bad
    return year, synthetic


def _area_findings(role, result, findings) -> None:
    ana = project(result.geometry.values, STORAGE_CRS, ANALYSIS_CRS)
    if role == "landcover":
        unknown = ~result["class_known"].to_numpy()
        if unknown.any():
            ha = pd.Series(ellipsoidal_area(ana[unknown]) / 1e4).groupby(
                result["class_code"].to_numpy()[unknown]).sum().sort_values(ascending=False)
            listed = ", ".join(f"{c or '(空)'} {a:.2f} ha" for c, a in ha.head(SHOWN).items())
            findings.append(f"{int(unknown.sum())} 个图斑的地类编码不在登记表中（{listed}），共 {ha.sum():.2f} ha，"
                            f"计入未分类 / {int(unknown.sum())} parcels have codes not in the registry ({listed}), "
                            f"{ha.sum():.2f} ha in all, counted as unclassified")
    ha, pairs, exact = overlap_ha(ana)
    if pairs:
        at_most_zh, at_most_en = ("", "") if exact else (
            "至多", "at most (a place covered three times or more counts more than once in this bound) ")
        findings.append(f"图层内 {pairs} 对面相互重叠，重叠面积{at_most_zh} {ha:.4f} ha，只计一次 / {pairs} pairs of "
                        f"polygons overlap within the layer, {at_most_en}{ha:.4f} ha covered more than once; "
                        "counted once")
