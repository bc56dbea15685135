"""Verdicts per control line, the overall verdict, and the 压占 columns and rows of a check.

For each line role (``kind`` ``line`` in ``layers/rules/control_roles.csv``) a site is
``inside`` (wholly in the layer's polygons), ``partly`` or ``outside``, judged on its
occupied measure (:mod:`.occupy`) with the check's ``tolerance_ha`` for polygons, as
for the ecological zones; the strictest level it occupies is its level. The rule comes
from :func:`jixi_geo.controls.rules.line_rule` (``layers/rules/control_rules.csv``),
once per distinct (level, relation, activity). The overall verdict is the strictest of
the ecological verdict and the line verdicts (order of ``layers/rules/verdicts.csv``);
``outside_jixi`` stays ``outside_jixi``.

Labels of roles come from ``control_roles.csv``, of relations and of ``unclassified``
from ``control_terms.csv``, of land classes from the code registry
(:func:`jixi_geo.controls.codes.class_info`); reasons are built once per distinct sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd

from .._categorical import from_distinct as categorical_from_codes
from .. import rules as R
from ..assembly import row_codes
from ..measures import WHOLE_SITE_REL_TOL
from ..rules import read_rule_file
from .codes import class_info
from .layers import Controls
from .occupy import Occupation, PreparedControl, prepare_control
from .rules import line_rule

__all__ = ["LineResult", "ClassResult", "line_results", "class_results", "control_columns", "overall_verdict",
           "reason_sentences", "append_reasons", "controls_attrs", "detail_rows", "measure", "with_controls",
           "role_info", "term", "RELATIONS", "HA_TO_MU", "DETAIL_COLUMNS", "categorical_from_codes",
           "sorted_categorical", "joined_categorical"]

#: 亩 per hectare (1 公顷 = 15 亩).
HA_TO_MU = 15.0
#: Columns :func:`jixi_geo.check_sites_detail` gains with controls.
DETAIL_COLUMNS = ["role", "level", "land_class_code", "land_class_zh", "land_class_en", "land_group", "overlap_mu",
                  "black_soil_ha"]


@cache
def _roles() -> dict[str, dict]:
    return {r["role"]: r for r in read_rule_file("control_roles.csv").to_dict("records")}


def role_info(role: str) -> dict:
    """The row of ``role`` in ``control_roles.csv`` (``name_zh``, ``name_en``, ``prefix``, ``kind`` …)."""
    return dict(_roles()[role])


@cache
def _terms() -> dict[str, tuple[str, str]]:
    return {r["term"]: (r["zh"], r["en"]) for r in read_rule_file("control_terms.csv").to_dict("records")}


def term(key: str) -> tuple[str, str]:
    """``(中文, English)`` of a term of ``control_terms.csv`` (relations, ``unclassified``, ``occupies``)."""
    return _terms()[key]


def _known_codes(codes) -> dict:
    """Registry row (or ``{}``) of each distinct code."""
    return {c: class_info(c) or {} for c in pd.unique(np.asarray(codes, dtype=object))}


RELATIONS = ("inside", "partly", "outside")


@dataclass
class LineResult:
    """One line role's outcome per site (arrays of length n)."""

    role: str
    relation: np.ndarray     # int codes into RELATIONS
    level: np.ndarray        # object: the strictest level occupied ("" where none or the role has none)
    m2: np.ndarray           # occupied area (m², ellipsoidal; polygons), 0 elsewhere
    len_m: np.ndarray        # occupied length (m; lines), 0 elsewhere
    pct: np.ndarray          # % of the site's area or length; 100/0 for points
    rule: np.ndarray         # int codes into ``rules``
    rules: list[dict]        # the distinct rule rows
    lines: pd.DataFrame      # the occupation's rows: site, level_rank, m2, len_m
    levels: tuple[str, ...]  # the role's levels (rank -> key; a last rank for an unknown level)

    @property
    def verdict_rank(self) -> np.ndarray:
        return np.array([R.VERDICT_RANK[r["verdict"]] for r in self.rules], dtype=np.int64)[self.rule]

    @property
    def by_level(self) -> pd.DataFrame:
        """Rows ``site, level, m2, len_m`` (with something occupied), built when asked for (the details)."""
        bl = self.lines.copy()
        bl["level"] = np.array(list(self.levels) + [""], dtype=object)[bl["level_rank"].to_numpy()]
        return bl[["site", "level", "m2", "len_m"]]


def line_results(occ: Occupation, *, dims: np.ndarray, site_area: np.ndarray, site_len: np.ndarray,
                 acts: tuple[np.ndarray, list[str]], tolerance_ha: float) -> LineResult:
    """Relation, strictest level, measures and rule of each site for one line role.

    A polygon site is ``inside`` when what lies outside the layer is below
    ``tolerance_ha`` (or within 1e-6 of nothing), ``partly`` when it occupies at least
    ``tolerance_ha``, else ``outside`` (a smaller overlap is a sliver, as for zones).
    Lines: any positive length, whole length. Points: in a polygon or not.
    """
    n = len(dims)
    levels = occ.levels
    nl = len(levels) + 1  # a last column for a level the role does not know
    site = occ.lines["site"].to_numpy()
    rank = occ.lines["level_rank"].to_numpy()
    m2 = np.zeros((n, nl))
    ln = np.zeros((n, nl))
    present = np.zeros((n, nl), dtype=bool)
    np.add.at(m2, (site, rank), occ.lines["m2"].to_numpy())
    np.add.at(ln, (site, rank), occ.lines["len_m"].to_numpy())
    present[site, rank] = True
    tot_a, tot_l = m2.sum(axis=1), ln.sum(axis=1)
    tol = float(tolerance_ha) * 1e4
    poly, line = dims == 2, dims == 1
    area = np.nan_to_num(site_area)
    length = np.nan_to_num(site_len)
    inside = np.where(poly, (tot_a >= area * (1 - WHOLE_SITE_REL_TOL)) | ((tot_a >= tol) & (area - tot_a < tol)),
                      np.where(line, (tot_l > 0) & (tot_l >= length * (1 - WHOLE_SITE_REL_TOL)),
                               present.any(axis=1)))
    partly = ~inside & np.where(poly, tot_a >= tol, np.where(line, tot_l > 0, False))
    relation = np.where(inside, 0, np.where(partly, 1, 2))
    counted = np.asarray(np.where(poly[:, None], m2 >= tol, np.where(line[:, None], ln > 0, present)), dtype=bool)
    none_counted = ~np.asarray(counted.any(axis=1), dtype=bool)
    counted |= poly[:, None] & none_counted[:, None] & (m2 > 0)  # split over levels, each a sliver
    counted &= (relation != 2)[:, None]
    first = np.where(counted.any(axis=1), counted.argmax(axis=1), -1)
    level_keys = np.array(list(levels) + ["", ""], dtype=object)  # -1 -> ""
    level = level_keys[first]
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(poly, tot_a / area * 100, np.where(line, tot_l / length * 100,
                                                          np.where(inside, 100.0, 0.0)))
    pct = np.clip(np.nan_to_num(pct), 0, 100)
    act_codes, act_names = acts
    lvl_codes, lvl_names = pd.factorize(level)
    key = row_codes([relation.astype(np.int64), lvl_codes.astype(np.int64), act_codes.astype(np.int64)])
    _, firsts, inverse = np.unique(key, return_index=True, return_inverse=True)
    rules = [line_rule(occ.role, level=str(lvl_names[lvl_codes[f]]), relation=RELATIONS[relation[f]],
                       activity=act_names[act_codes[f]]) for f in firsts]
    return LineResult(occ.role, relation, level, np.where(poly, tot_a, 0.0), np.where(line, tot_l, 0.0), pct,
                      inverse.ravel().astype(np.int64), rules, occ.lines, tuple(levels))


@dataclass
class ClassResult:
    """Land classes per polygon site: ``table`` rows ``site, code, m2, black_m2`` (code "" = unclassified)."""

    table: pd.DataFrame
    has_black_soil: bool


def class_results(occ: Occupation, *, dims: np.ndarray, site_area: np.ndarray,
                  has_black_soil: bool) -> ClassResult:
    """Land-class areas per polygon site; unknown codes and the uncovered part as one unclassified row."""
    c = occ.classes if occ.classes is not None else pd.DataFrame(
        {"site": [], "class_code": [], "class_known": [], "m2": [], "black_m2": []})
    site = c["site"].to_numpy(dtype=np.int64)
    code = c["class_code"].to_numpy(dtype=object)
    m2, black = c["m2"].to_numpy(dtype=float), c["black_m2"].to_numpy(dtype=float)
    kcodes, kuniq = pd.factorize(code)
    reg = _known_codes(kuniq)
    known = c["class_known"].to_numpy(dtype=bool) & np.array([bool(reg[k]) for k in kuniq] + [False])[kcodes]
    n = len(dims)
    poly = np.flatnonzero(dims == 2)
    covered = np.bincount(site[known], weights=m2[known], minlength=n)
    unknown_black = np.bincount(site[~known], weights=black[~known], minlength=n)
    rest = np.maximum(np.nan_to_num(site_area) - covered, 0.0)
    un = poly[rest[poly] > 0]
    t_site = np.concatenate([site[known], un])
    t_code = np.concatenate([code[known], np.full(len(un), "", dtype=object)])
    tcodes, tuniq = pd.factorize(t_code)
    rank = np.empty(len(tuniq), dtype=np.int64)
    rank[sorted(range(len(tuniq)), key=lambda i: tuniq[i])] = np.arange(len(tuniq))
    order = np.lexsort((rank[tcodes], t_site))  # by site, then code ("" first): stable
    table = pd.DataFrame({"site": t_site[order], "class_code": t_code[order],
                          "m2": np.concatenate([m2[known], rest[un]])[order],
                          "black_m2": np.concatenate([black[known], unknown_black[un]])[order]})
    return ClassResult(table, has_black_soil)


def _class_sums(cr: ClassResult, n: int, dims: np.ndarray) -> dict[str, np.ndarray]:
    """Per site, hectares of 耕地 (and 水田/水浇地/旱地), 黑土耕地 and unclassified; NaN for non-polygons."""
    t = cr.table
    site = t["site"].to_numpy(dtype=np.int64)
    codes, uniq = pd.factorize(t["class_code"].to_numpy(dtype=object))
    info = _known_codes(uniq)
    group = np.array([info[c].get("group", "") for c in uniq] or [""], dtype=object)[codes]
    cult = np.array([info[c].get("cultivated", "") for c in uniq] or [""], dtype=object)[codes]
    blank = np.array([c == "" for c in uniq] or [False], dtype=bool)[codes]
    ha = t["m2"].to_numpy() / 1e4
    poly = dims == 2
    out = {}
    for name, sel in (("cultivated_ha", group == "cultivated"), ("paddy_ha", cult == "paddy"),
                      ("irrigated_ha", cult == "irrigated"), ("dryland_ha", cult == "dryland"),
                      ("unclassified_ha", blank)):
        v = np.bincount(site[sel], weights=ha[sel], minlength=n)
        out[name] = np.where(poly, v, np.nan)
    b = np.bincount(site, weights=t["black_m2"].to_numpy() / 1e4, minlength=n)
    out["black_soil_ha"] = np.where(poly & cr.has_black_soil, b, np.nan)
    return out


def control_columns(lines: list[LineResult], classes: ClassResult | None, *, n: int,
                    dims: np.ndarray) -> dict[str, object]:
    """The result columns of the controls, by name, in contract order."""
    cols: dict[str, object] = {}
    for lr in lines:
        p = role_info(lr.role)["prefix"]
        rank = lr.verdict_rank
        cols[f"{p}_verdict"] = pd.Categorical.from_codes(rank, categories=pd.Index(list(R.VERDICTS), dtype="str"))
        cols[f"{p}_verdict_zh"] = pd.Categorical.from_codes(rank, categories=pd.Index(
            [R.VERDICT_NAMES[v][0] for v in R.VERDICTS], dtype="str"))
        cols[f"{p}_relation"] = pd.Categorical.from_codes(lr.relation, categories=pd.Index(list(RELATIONS),
                                                                                            dtype="str"))
        cols[f"{p}_ha"] = np.round(np.where(dims == 2, lr.m2 / 1e4, np.nan), 6)
        cols[f"{p}_pct"] = np.round(lr.pct, 4)
        lvl_codes, lvl_names = pd.factorize(lr.level)
        cols[f"{p}_level"] = sorted_categorical(lvl_codes, lvl_names)
        id_codes, id_names = pd.factorize(np.array([r["rule_id"] for r in lr.rules] or [""], dtype=object))
        cols[f"{p}_rule_id"] = (sorted_categorical(id_codes[lr.rule], id_names) if len(lr.rule)
                                else pd.Categorical([]))
    if classes is not None:
        for k, v in _class_sums(classes, n, dims).items():
            cols[k] = np.round(v, 6)
    return cols


def overall_verdict(eco_rank: np.ndarray, lines: list[LineResult]) -> np.ndarray:
    """The strictest of the ecological and the line verdicts (rank codes); ``outside_jixi`` stays."""
    out = eco_rank.copy()
    for lr in lines:
        out = np.minimum(out, lr.verdict_rank)
    return np.where(eco_rank == R.VERDICT_RANK["outside_jixi"], eco_rank, out)


def reason_sentences(lr: LineResult, *, dims: np.ndarray, tolerance_ha: float) -> tuple[list[str], np.ndarray]:
    """One bilingual sentence per site for a line role: (distinct texts, code per site).

    Each distinct (relation, rule, amount, share, dimension) is written once.
    """
    info = role_info(lr.role)
    name_en = f"{info['name_en'][:1].upper()}{info['name_en'][1:]}"
    poly, line = dims == 2, dims == 1
    amount = np.where(poly, np.round(lr.m2 / 1e4, 2), np.where(line, np.round(lr.len_m), 0.0))
    pct = np.round(lr.pct, 1)
    sliver = (lr.relation == 2) & poly & (lr.m2 > 0)
    key = row_codes([lr.relation.astype(np.int64), lr.rule, _codes_of(amount), _codes_of(pct), dims.astype(np.int64),
                     sliver.astype(np.int64)])
    _, firsts, inverse = np.unique(key, return_index=True, return_inverse=True)
    texts = []
    for rel, rule_k, d, amt, share, thin, m2 in zip(*(a[firsts].tolist() for a in (
            lr.relation, lr.rule, dims, amount, pct, sliver, lr.m2)), strict=True):
        rz, re_ = term(RELATIONS[rel])
        rule = lr.rules[rule_k]
        az = ae = ""
        if rel != 2 and d == 2:
            az = f"，占用 {amt:,.2f} 公顷（{share:.1f}%）"
            ae = f", {amt:,.2f} ha ({share:.1f}% of the site)"
        elif rel != 2 and d == 1:
            az = f"，区内长度 {amt:,.0f} 米（{share:.1f}%）"
            ae = f", {amt:,.0f} m inside ({share:.1f}% of its length)"
        elif thin:
            az = f"（重叠 {m2 / 1e4:.4f} 公顷，小于容差 {tolerance_ha:g} 公顷，不计）"
            ae = f" (an overlap of {m2 / 1e4:.4f} ha is below the {tolerance_ha:g} ha tolerance)"
        texts.append(f"{info['name_zh']}：{rz}{az}。{rule['rule_zh']} / {name_en}: {re_}{ae}. {rule['rule_en']}")
    return texts, inverse.ravel().astype(np.int64)


def _codes_of(values: np.ndarray) -> np.ndarray:
    """A code per value, equal values equal codes (positions among the sorted distinct values)."""
    return np.unique(values, return_inverse=True)[1].ravel().astype(np.int64)


def append_reasons(reasons: pd.Categorical, lines: list[LineResult], *, dims: np.ndarray,
                   tolerance_ha: float) -> pd.Categorical:
    """``reasons`` with one sentence per line role appended; each distinct combination built once."""
    if not lines:
        return reasons
    parts = [reason_sentences(lr, dims=dims, tolerance_ha=tolerance_ha) for lr in lines]
    base = np.asarray(reasons.codes, dtype=np.int64)
    key = row_codes([base] + [codes for _, codes in parts])
    _, firsts, inverse = np.unique(key, return_index=True, return_inverse=True)
    words = [(np.asarray(reasons.categories, dtype=object), base[firsts])] + [
        (np.asarray(t, dtype=object), c[firsts]) for t, c in parts]
    return joined_categorical(words, inverse.ravel())


def joined_categorical(words: list[tuple[np.ndarray, np.ndarray]], codes: np.ndarray, *,
                       arrow: bool = True) -> pd.Categorical:
    """A categorical of sentences: sentence ``k`` joins, with spaces, ``texts[picks[k]]`` of each
    ``(texts, picks)`` of ``words``; row ``i`` is sentence ``codes[i]``. Sentences that read alike
    are one category (first come, first).

    Joined and told apart in pyarrow (``arrow``, where pandas keeps its strings in Arrow), else
    in Python; a test compares both ways.
    """
    str_dtype = pd.Index([], dtype="str").dtype
    if arrow and getattr(str_dtype, "storage", None) == "pyarrow" and all(
            len(p) == 0 or p.min() >= 0 for _, p in words):
        import pyarrow as pa
        import pyarrow.compute as pc

        cols = [pa.array(t, type=pa.large_string()).take(pa.array(p, type=pa.int64())) for t, p in words]
        enc = pc.binary_join_element_wise(*cols, pa.scalar(" ", type=pa.large_string())).dictionary_encode()
        categories = pd.Index(pd.array(enc.dictionary, dtype="str"))
        if categories.dtype == str_dtype:
            return categorical_from_codes(enc.indices.to_numpy(zero_copy_only=False)[codes], categories)
    texts = [" ".join(w) for w in zip(*(t[p] for t, p in words), strict=True)]
    if len(set(texts)) == len(texts):
        return categorical_from_codes(codes, texts)
    # different code combinations can read the same (e.g. two rules with one text): one category each
    tcodes, uniq = pd.factorize(np.asarray(texts, dtype=object))
    return pd.Categorical.from_codes(tcodes[codes], categories=pd.Index(uniq, dtype="str"))


def sorted_categorical(codes: np.ndarray, labels) -> pd.Categorical:
    """``pd.Categorical(labels[codes])`` (categories: the labels used, sorted) for distinct str ``labels``."""
    labels = [str(v) for v in labels]
    used = sorted(np.unique(codes).tolist(), key=labels.__getitem__)
    remap = np.full(len(labels), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return categorical_from_codes(remap[codes], [labels[i] for i in used])


def controls_attrs(controls: Controls, prepared: dict[str, PreparedControl] | None = None) -> list[dict]:
    """``result.attrs["controls"]``: one dict per role given, in role order."""
    out = []
    for role in controls.roles:
        layer = controls[role]
        info = role_info(role)
        pc = prepared[role] if prepared is not None else prepare_control(layer)
        out.append({"role": role, "name_zh": info["name_zh"], "name_en": info["name_en"], "source": layer.source,
                    "sha256": layer.sha256 or pc.sha256, "year": layer.year,
                    "synthetic": bool(layer.synthetic), "features": int(len(layer.gdf)), "layer": layer.layer,
                    "crs": layer.crs, "findings": list(layer.findings),
                    "overlap_ha": round(pc.overlap_m2 / 1e4, 6)})
    return out


def detail_rows(lines: list[LineResult], classes: ClassResult | None, *, dims: np.ndarray,
                site_area: np.ndarray, site_len: np.ndarray) -> pd.DataFrame:
    """The ``occupies`` rows of :func:`jixi_geo.check_sites_detail`: per (site, line role, level) and
    per (site, land class); ``site`` is the site position, the verdict columns are the role's."""
    frames = []
    for lr in lines:
        info = role_info(lr.role)
        b = lr.by_level
        s = b["site"].to_numpy(dtype=np.int64)
        rule = [lr.rules[k] for k in lr.rule[s]]
        d = dims[s]
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(d == 2, b["m2"].to_numpy() / site_area[s] * 100,
                           np.where(d == 1, b["len_m"].to_numpy() / site_len[s] * 100, 100.0))
        ha = np.where(d == 2, b["m2"].to_numpy() / 1e4, np.nan)
        frames.append(pd.DataFrame({
            "site": s, "zone_id": "", "zone_name_zh": info["name_zh"], "zone_name_en": info["name_en"],
            "control_level": "", "overlap_ha": ha, "overlap_m": np.where(d == 1, b["len_m"].to_numpy(), np.nan),
            "overlap_pct": np.clip(np.nan_to_num(pct), 0, 100), "verdict": [r["verdict"] for r in rule],
            "rule_id": [r["rule_id"] for r in rule], "rule_zh": [r["rule_zh"] for r in rule],
            "rule_en": [r["rule_en"] for r in rule], "basis": [r["basis"] for r in rule], "role": lr.role,
            "level": b["level"].to_numpy(dtype=object), "land_class_code": "", "land_class_zh": "",
            "land_class_en": "", "land_group": "", "overlap_mu": ha * HA_TO_MU, "black_soil_ha": np.nan}))
    if classes is not None:
        t = classes.table
        s = t["site"].to_numpy(dtype=np.int64)
        un = term("unclassified")
        info = _known_codes(t["class_code"])
        codes = t["class_code"].to_numpy(dtype=object)
        ha = t["m2"].to_numpy() / 1e4
        lc = role_info("landcover")
        frames.append(pd.DataFrame({
            "site": s, "zone_id": "", "zone_name_zh": lc["name_zh"], "zone_name_en": lc["name_en"],
            "control_level": "", "overlap_ha": ha, "overlap_m": np.nan,
            "overlap_pct": np.clip(np.nan_to_num(t["m2"].to_numpy() / site_area[s] * 100), 0, 100),
            "verdict": "", "rule_id": "", "rule_zh": "", "rule_en": "", "basis": "", "role": "landcover",
            "level": "", "land_class_code": codes,
            "land_class_zh": [info[c].get("name_zh", un[0]) if c else un[0] for c in codes],
            "land_class_en": [info[c].get("name_en", un[1]) if c else un[1] for c in codes],
            "land_group": [info[c].get("group", "") for c in codes], "overlap_mu": ha * HA_TO_MU,
            "black_soil_ha": (t["black_m2"].to_numpy() / 1e4 if classes.has_black_soil else np.nan)}))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def measure(geoms: np.ndarray, controls: Controls, *, acts: tuple[np.ndarray, list[str]], tolerance_ha: float):
    """Occupation, line results and land classes of the sites (EPSG:4553 geometries).

    Returns ``(dims, site_area, site_len, lines, classes, prepared)``: the site measures, a
    :class:`LineResult` per line role given (role order), the :class:`ClassResult`
    of the land cover (None without one) and the prepared layers by role.
    """
    from ..measures import site_measures
    from .occupy import occupy

    dims, site_area, site_len = site_measures(geoms)
    prepared = {role: prepare_control(controls[role]) for role in controls.roles}
    occ = occupy(geoms, controls, dims=dims, site_area=site_area, site_len=site_len, prepared=prepared)
    lines = [line_results(o, dims=dims, site_area=site_area, site_len=site_len, acts=acts,
                          tolerance_ha=tolerance_ha) for role, o in occ.items() if role != "landcover"]
    classes = None
    if "landcover" in occ:
        classes = class_results(occ["landcover"], dims=dims, site_area=site_area,
                                has_black_soil=prepared["landcover"].has_black_soil)
    return dims, site_area, site_len, lines, classes, prepared


def with_controls(result, geoms: np.ndarray, controls: Controls, *, acts: tuple[np.ndarray, list[str]],
                  tolerance_ha: float):
    """The result of :func:`jixi_geo.check_sites` with the controls' columns, overall verdict and reasons.

    ``verdict``/``verdict_zh`` become the overall verdict; the ecological one moves to
    ``eco_verdict``/``eco_verdict_zh``; ``attrs["controls"]`` describes the layers.
    """
    n = len(result)
    dims, _, _, lines, classes, prepared = measure(geoms, controls, acts=acts, tolerance_ha=tolerance_ha)
    eco = pd.Categorical(result["verdict"].array)
    eco_rank = np.array([R.VERDICT_RANK[v] for v in eco.categories], dtype=np.int64)[eco.codes]
    overall = overall_verdict(eco_rank, lines)
    geom = result.geometry.name
    cols = {"eco_verdict": result["verdict"].array, "eco_verdict_zh": result["verdict_zh"].array,
            **control_columns(lines, classes, n=n, dims=dims),
            "controls_synthetic": np.full(n, bool(controls.synthetic))}
    out = result.copy()
    out["verdict"] = pd.Categorical.from_codes(overall, categories=pd.Index(list(R.VERDICTS), dtype="str"))
    out["verdict_zh"] = pd.Categorical.from_codes(overall, categories=pd.Index(
        [R.VERDICT_NAMES[v][0] for v in R.VERDICTS], dtype="str"))
    out["reasons"] = append_reasons(pd.Categorical(result["reasons"].array), lines, dims=dims,
                                    tolerance_ha=tolerance_ha)
    added = pd.DataFrame(cols, index=out.index)
    order = [c for c in out.columns if c != geom and c not in cols] + list(cols) + [geom]
    out = gpd.GeoDataFrame(pd.concat([out.drop(columns=[c for c in cols if c in out.columns]), added], axis=1)[order],
                           geometry=geom, crs=result.crs)
    out.attrs = {**result.attrs, "controls": controls_attrs(controls, prepared)}
    return out
