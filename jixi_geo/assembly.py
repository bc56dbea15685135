"""Result assembly of :func:`jixi_geo.redline.check_sites`: from the kernel's (site, zone) pairs to the result table.

:func:`assemble` applies the rules in named steps: the site measures
(:func:`site_measures`), the hits with their rules (:func:`hit_table`), the
deciding hit (:func:`_deciding_hits`), the zones hit (:func:`_zone_columns`), the
nearest zone (:func:`_nearest_columns`), the final verdict (:func:`_verdict_codes`),
the overlaps (:func:`_overlap_columns`), the reasons (:func:`_reason_column`), the
audit stamp (:func:`_stamp_columns`), joined to the input's columns once
(:func:`_frame_join`). Text columns are categoricals built from integer codes.
"""

from __future__ import annotations

import datetime as _dt
import functools
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__
from . import rules as R
from . import vocab
from ._categorical import from_distinct
from ._kernels import Pairs
from ._rowcodes import first_by, first_rows, packed_key, row_codes, zone_combinations
from .crs import STORAGE_CRS
from .measures import outside_share, site_measures, union_overlap
from .readers.checks import constant as _constant
from .readers.crs_checks import crs_note

__all__ = ["assemble", "hit_table", "with_crs_notes", "row_codes", "RESULT_COLUMNS", "LEVEL_NAMES",
           "NEAR_RULE", "CLEAR_RULE", "OUTSIDE_RULE"]


def _in_sentence(en: str) -> str:
    """``"Nature reserve"`` -> ``"nature reserve"``: an English label placed inside a sentence."""
    return en[:1].lower() + en[1:]


#: Columns check_sites adds, in order.
RESULT_COLUMNS = ["site_id", "verdict", "verdict_zh", "control_level", "zones_hit", "zone_ids",
                  "overlap_ha", "overlap_m", "overlap_pct", "outside_jixi_pct", "nearest_zone", "nearest_zone_id",
                  "distance_m", "activity", "rule_id", "rule", "rule_zh", "basis", "reasons",
                  "input_crs", "crs_from", "converted_from", "jixi_geo_version", "zones_sha256",
                  "rules_version", "checked_at"]
#: control level -> (中文, English as written inside a sentence), from ``layers/rules/control_levels.csv``.
LEVEL_NAMES = {lv: (vocab.label("control_level", lv), _in_sentence(vocab.label("control_level", lv, "en")))
               for lv in vocab.keys("control_level")}
NEAR_RULE = {"rule_id": "NEAR", "rule_zh": "位于管控区缓冲范围内：项目选址和环评应关注其对邻近管控区的影响。",
             "rule_en": "Within the buffer of a control zone: siting and the environmental assessment should "
                        "consider the effect on the neighbouring zone.",
             "basis": "jixi_geo screening buffer (buffer_m); level 'near' of layers/rules/control_levels.csv"}
CLEAR_RULE = {"rule_id": "CLEAR", "rule_zh": "不在任何管控区内，缓冲范围内也无管控区。",
              "rule_en": "In no control zone and none within the buffer.", "basis": ""}
OUTSIDE_RULE = {"rule_id": "OUTSIDE", "rule_zh": "场址不在鸡西市域内，本工具的规则不适用。",
                "rule_en": "The site is outside Jixi; this tool's rules do not apply.", "basis": ""}


def _level_tables(zones: gpd.GeoDataFrame):
    """Each zone's control-level rank (``layers/rules/control_levels.csv``; lower is stricter)."""
    levels = R.control_levels().set_index("control_level")["rank"]
    return zones["control_level"].map(levels).to_numpy()


def hit_table(pairs: Pairs, pz, acts: tuple[np.ndarray, list[str]], dims, tolerance_ha) -> pd.DataFrame:
    """Hits with their rule, after dropping polygon slivers below the tolerance.

    Rules are looked up once per distinct (control level, activity) pair and
    broadcast with integer keys.
    """
    act_of_site, act_names = acts
    h = pairs.hits
    sd = dims[h["site"].to_numpy()]
    keep = (sd != 2) | (h["overlap_m2"].to_numpy() >= tolerance_ha * 1e4)
    h = h[keep].reset_index(drop=True)
    z = pz.zones
    zone = h["zone"].to_numpy()
    lvl_codes, lvl_names = pd.factorize(z["control_level"].astype(str).to_numpy(dtype=object))
    act_codes = act_of_site[h["site"].to_numpy()]
    na = max(len(act_names), 1)
    key = lvl_codes[zone] * na + act_codes
    ukeys, inverse = _small_unique(key, len(lvl_names) * na)
    rules = [R.rule_for(lvl_names[k // na], act_names[k % na]) for k in ukeys]
    verdicts = np.array([r["verdict"] for r in rules], dtype=object)
    # text columns as categoricals: cheap to filter and sort for a million hits
    h["control_level"] = _labels(lvl_codes[zone], list(lvl_names))
    h["activity"] = _labels(act_codes, list(act_names) or [""])
    h["verdict"] = _labels(inverse, list(verdicts) or [""])
    h["rank"] = np.array([R.VERDICT_RANK[v] for v in verdicts], dtype=int)[inverse] if len(h) else 0
    h["level_rank"] = _level_tables(z)[zone]
    h["rule_id"] = _labels(inverse, [r["rule_id"] for r in rules] or [""])
    return h


def _small_unique(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` for integers in ``[0, size)`` with ``size`` small: by a
    table of the values present instead of a sort (a million hits, a few dozen values)."""
    present = np.zeros(size, dtype=bool)
    present[key] = True
    ukeys = np.flatnonzero(present)
    position = np.cumsum(present) - 1
    return ukeys, position[key]


class _Labels:
    """Builds a categorical column from integer codes, adding each distinct label once."""

    def __init__(self, labels=()):
        self.labels: list[str] = []
        self.index: dict[str, int] = {}
        for lab in labels:
            self.code(lab)

    def code(self, label: str) -> int:
        c = self.index.get(label)
        if c is None:
            c = self.index[label] = len(self.labels)
            self.labels.append(label)
        return c

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64),
                                         categories=pd.Index(self.labels, dtype="str"))


def _reasons(vcode, lcode, level_labels, zh_code, dec_code, name_labels, acts, dims, ov_ha, ov_m, ov_pct,
             nz_code, dist, rcode, rule_labels, rules_by_id, buffer_m, out_pct=None) -> pd.Categorical:
    """Bilingual reason per site: templates for the common cases, numbers where they differ.

    A line or polygon partly outside Jixi (``0 < out_pct < 100``) gets a second
    sentence giving the share outside, which no rule here covers.

    Sites are described by integer codes into label lists (levels, zone names,
    activities, rules). Each distinct template head is built once, each distinct
    amount formatted once, and each distinct sentence put together once (in one
    list comprehension per kind of site); the sites get integer codes into them.
    """
    acts_table = R.activities()
    act_text = dict(zip(acts_table["activity"].tolist(),
                        zip(acts_table["name_zh"].tolist(), acts_table["name_en"].tolist(), strict=True),
                        strict=True))
    act_text["unspecified"] = ("未说明活动类型（按最严格解释）", "activity not given (strictest reading)")
    act_codes, act_names = acts
    texts: list[str] = []  # candidate sentences (each kind's are distinct; kinds may repeat one)
    codes = np.zeros(len(vcode), dtype=np.int32)  # per site: its sentence in ``texts``

    def put(where: np.ndarray, block: list[str], local) -> None:  # where: positions, or a mask (local 0)
        codes[where] = len(texts) + local
        texts.extend(block)

    put(vcode == R.VERDICT_RANK["outside_jixi"], ["场址不在鸡西市域内。/ The site is outside Jixi."], 0)
    put(vcode == R.VERDICT_RANK["clear"],
        [f"不在任何管控区内，{buffer_m:,.0f} 米范围内也无管控区。/ In no control zone and none within "
         f"{buffer_m:,.0f} m."], 0)
    near = np.flatnonzero((vcode == R.VERDICT_RANK["attention"]) & (lcode == 0))
    if len(near):  # one sentence per (nearest zone, distance in whole metres)
        metres = np.round(dist[near]).astype(np.int64)
        kc = row_codes([nz_code[near], metres])
        first = near[first_rows(kc)]
        buf = f"{buffer_m:,.0f}"
        put(near, [f"距{z} {d} 米（缓冲 {buf} 米内）。/ {d} m from {z} (within the {buf} m buffer)."
                   for z, d in zip([name_labels[c] for c in nz_code[first].tolist()],
                                   [f"{v:,.0f}" for v in dist[first].tolist()], strict=True)], kc)
    heads: dict = {}

    def head(i):
        key = (lcode[i], zh_code[i], dec_code[i], act_codes[i], rcode[i])
        if key not in heads:
            level = level_labels[lcode[i]]
            lz, le = LEVEL_NAMES.get(level, (level, level))
            zn = name_labels[zh_code[i]].split("; ")
            hd = name_labels[dec_code[i]] or zn[0]
            more_zh = f"等 {len(zn)} 个管控区" if len(zn) > 1 else ""
            more_en = f" and {len(zn) - 1} more zone(s)" if len(zn) > 1 else ""
            an = act_text[act_names[act_codes[i]]]
            rule = rules_by_id[rule_labels[rcode[i]]]
            heads[key] = (f"位于{lz}（{hd}）{more_zh}内",
                          f"；活动：{an[0]}。{rule['rule_zh']} / Inside the {le} ({hd}){more_en}",
                          f"; activity: {an[1]}. {rule['rule_en']}")
        return heads[key]

    in_zone = lcode != 0
    # points: one sentence per distinct (level, zones, deciding zone, activity, rule)
    pts = np.flatnonzero(in_zone & (dims == 0))
    if len(pts):
        kc = row_codes([a[pts] for a in (lcode, zh_code, dec_code, act_codes, rcode)])
        first = first_rows(kc)  # the first site of each key, by key code
        tc, pt_heads = _distinct([head(pts[f]) for f in first.tolist()])
        put(pts, ["".join(h) for h in pt_heads], tc[kc])
    # lines and polygons: one head per distinct template key; each distinct amount is
    # formatted once, and each distinct (head, amount, share) sentence is built once
    templates = ((2, ov_ha, "{:,.2f}", ("，重叠 ", " 公顷，占场址 ", ", ", " ha, ", "% of the site")),
                 (1, ov_m, "{:,.0f}", ("，区内长度 ", " 米，占 ", ", ", " m inside, ", "% of its length")))
    for dim, amounts, fmt, (p0, p1, p2, p3, p4) in templates:
        idx = np.flatnonzero(in_zone & (dims == dim))
        if len(idx) == 0:
            continue
        hk = row_codes([a[idx] for a in (lcode, zh_code, dec_code, act_codes, rcode)])
        hfirst = first_rows(hk)
        # two keys may read alike (zone sets A+B and A+C both read "A and 1 more zone"): one head
        tc, hd = _distinct([head(idx[f]) for f in hfirst.tolist()])
        hk = tc[hk]
        amt_text, amt_code = _formatted(amounts[idx], fmt)
        pct_text, pct_code = _formatted(ov_pct[idx], "{:.1f}")
        kc = row_codes([hk, amt_code, pct_code])
        first = first_rows(kc)
        heads_of = [hd[k] for k in hk[first].tolist()]
        amounts_of = [amt_text[k] for k in amt_code[first].tolist()]
        shares_of = [pct_text[k] for k in pct_code[first].tolist()]
        put(idx, [f"{h[0]}{p0}{m}{p1}{q}%{h[1]}{p2}{m}{p3}{q}{p4}{h[2]}"
                  for h, m, q in zip(heads_of, amounts_of, shares_of, strict=True)], kc)
    # one category per distinct sentence, in order of first appearance; the kinds of site word their
    # sentences differently, so the candidates are usually distinct already (one set tells)
    index: dict[str, int] | None = None
    if len(set(texts)) == len(texts):
        labels = texts
    else:
        index = {}
        remap = np.array([index.setdefault(t, len(index)) for t in texts], dtype=np.int32)
        codes = remap[codes]
        labels = list(index)
    if out_pct is not None:
        part = np.flatnonzero((out_pct > 0) & (out_pct < 100))
        if len(part):  # a second sentence per distinct (sentence, area or length, share shown)
            shown = [f"{v:.1f}" if v >= 0.05 else "<0.1" for v in out_pct[part].tolist()]
            shown_code = pd.factorize(np.asarray(shown, dtype=object))[0]
            kc = row_codes([codes[part], (dims[part] == 2).astype(np.int64), shown_code])
            first = first_rows(kc)
            block = []
            for f in first.tolist():
                what_zh, what_en = ("面积", "area") if dims[part[f]] == 2 else ("长度", "length")
                sh = shown[f]
                block.append(f"{labels[codes[part[f]]]} 场址{what_zh}的 {sh}% 在鸡西市域外，"
                             f"域外部分未按本工具规则检查。/ {sh}% of the site's {what_en} lies outside Jixi; "
                             "that part is not checked by these rules.")
            if index is None:
                index = dict(zip(labels, range(len(labels)), strict=True))
            local = np.array([index.setdefault(t, len(index)) for t in block], dtype=np.int64)
            codes[part] = local[kc]
            labels = list(index)
    return from_distinct(codes, labels)  # distinct: checked by the set, or the keys of ``index``


def _distinct(heads: list[tuple[str, ...]]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """The distinct texts of ``heads`` (tuples of sentence parts): (code of each head into them, the texts)."""
    index: dict[tuple[str, ...], int] = {}
    codes = np.array([index.setdefault(h, len(index)) for h in heads], dtype=np.int64)
    return codes, list(index)


def _formatted(values: np.ndarray, fmt: str) -> tuple[list[str], np.ndarray]:
    """Each distinct value formatted once: (distinct texts, code of each value into them).

    Values that read alike once formatted (0.681 and 0.684 as "0.68") share one text and one code.
    """
    uniq, inverse = np.unique(values, return_inverse=True)
    codes, texts = pd.factorize(np.asarray([fmt.format(v) for v in uniq.tolist()], dtype=object))
    return list(texts), codes[inverse.ravel()]


def _label_location(reasons: pd.Categorical, precision: pd.Series) -> pd.Categorical:
    """Prefix the reason of each site whose ``location_precision`` has a label (e.g. illustrative)."""
    prec = precision.astype(object).where(precision.notna(), "").astype(str).to_numpy(dtype=object)
    flagged = np.isin(prec, list(R.LOCATION_LABELS))
    if not flagged.any():
        return reasons
    text = np.asarray(reasons.astype(str), dtype=object)
    for value in R.LOCATION_LABELS:
        sel = prec == value
        if sel.any():
            text[sel] = f"【{R.location_label(value)}】" + text[sel]
    return pd.Categorical(text)


def with_crs_notes(reasons: pd.Categorical, gdf: gpd.GeoDataFrame) -> pd.Categorical:
    """``reasons`` with :func:`jixi_geo.sites.crs_note` appended where the input CRS was
    inferred (zone prefix) or assumed (lon/lat without a CRS)."""
    if "crs_from" not in gdf.columns or "input_crs" not in gdf.columns or not len(gdf):
        return reasons
    how_codes, how = _codes(gdf["crs_from"])
    crs_codes, crs = _codes(gdf["input_crs"])
    if len(how) == 1 and len(crs) == 1:  # one source, one CRS (the usual case): no grouping of rows
        pair, first = np.zeros(len(gdf), dtype=np.int64), np.zeros(1, dtype=np.int64)
    else:
        pair = row_codes([how_codes, crs_codes])
        _, first = np.unique(pair, return_index=True)
    notes = [crs_note(str(how[how_codes[f]]), str(crs[crs_codes[f]])) for f in first]
    if not any(notes):
        return reasons
    if len(notes) == 1:  # one source, one CRS (the usual case): append to each distinct reason
        cats = [f"{c} {notes[0]}" for c in reasons.categories]  # one suffix: still distinct
        return from_distinct(reasons.codes, cats)
    _, pair = np.unique(pair, return_inverse=True)  # pair codes in the order of ``notes``
    combo = row_codes([reasons.codes.astype(np.int64), pair])
    _, first = np.unique(combo, return_index=True)
    cat_texts = np.asarray(reasons.categories, dtype=object)
    texts = [f"{cat_texts[reasons.codes[f]]} {notes[pair[f]]}".strip() for f in first]
    _, combo = np.unique(combo, return_inverse=True)
    return _labels(combo, texts)


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(col.astype(object), use_na_sentinel=False)`` up to the numbering of the codes, read from
    a categorical's own codes when it has no missing value (no million Python strings)."""
    if isinstance(col.dtype, pd.CategoricalDtype) and not (col.cat.codes.to_numpy() < 0).any():
        return col.cat.codes.to_numpy().astype(np.int64), pd.Index(col.cat.categories.astype(object))
    codes, uniq = pd.factorize(col.astype(object), use_na_sentinel=False)
    return codes, pd.Index(uniq)


def _labels(codes: np.ndarray, labels: list) -> pd.Categorical:
    """Categorical of ``labels[codes]`` built from integer codes (labels may repeat)."""
    lab_codes, lab_uniq = pd.factorize(np.asarray(labels, dtype=object))
    return pd.Categorical.from_codes(lab_codes[codes], categories=pd.Index(list(lab_uniq), dtype="str"))


def assemble(gdf, geoms, pz, pairs: Pairs, acts, *, buffer_m, tolerance_ha) -> gpd.GeoDataFrame:
    """Apply the rules to the kernel's pairs and build the result table, in named steps.

    Text columns are categoricals built from integer codes: a million sites share a
    few dozen distinct verdicts, rules and zone names.
    """
    n = len(gdf)
    # a site's own area or length is needed only where it overlaps a zone (overlap_pct);
    # outside_share measures the sites crossing the city's outline itself
    dims, site_area, site_len = site_measures(geoms, where=pairs.hits["site"].to_numpy(), known=pairs.site_size,
                                              dims=pairs.dims)
    hits = hit_table(pairs, pz, acts, dims, tolerance_ha)
    zl = _zone_labels(pz.zones)
    level_lab = _Labels([""])
    rule_lab = _Labels([CLEAR_RULE["rule_id"], NEAR_RULE["rule_id"], OUTSIDE_RULE["rule_id"]])
    vcode, lcode, rcode, deciding = _deciding_hits(hits, n, level_lab, rule_lab)
    inside = deciding >= 0
    zh_code, zi_code = _zone_columns(hits, n, zl)
    nearest_zone, distance = _nearest_columns(pairs, deciding)
    vcode, lcode, rcode = _verdict_codes(vcode, lcode, rcode, inside, nearest_zone, distance, pairs.in_jixi,
                                         rule_lab, buffer_m=buffer_m)
    overlap_ha, overlap_m, pct = _overlap_columns(geoms, pz, hits, dims, site_area, site_len, inside, pairs.pieces)
    # zone position -> label code, with code 0 ("") for position -1 (no zone): the table's last entry
    name_of, id_of = np.r_[zl.name_code, 0], np.r_[zl.id_code, 0]
    decider = name_of[deciding]
    nz_code, nzi_code = name_of[nearest_zone], id_of[nearest_zone]
    out_pct = outside_share(geoms, dims, pairs.in_jixi, site_area, site_len)
    rules_by_id = _rules_by_id()
    reasons = _reason_column(gdf, vcode, lcode, level_lab.labels, zh_code, decider, zl.names.labels, acts, dims,
                             overlap_ha, overlap_m, pct, nz_code, distance, rcode, rule_lab.labels, rules_by_id,
                             buffer_m, out_pct)
    rule_texts = {k: [rules_by_id[r][k] for r in rule_lab.labels] for k in ("rule_zh", "rule_en", "basis")}
    added = {
        "verdict": pd.Categorical.from_codes(vcode, categories=pd.Index(list(R.VERDICTS), dtype="str")),
        "verdict_zh": pd.Categorical.from_codes(vcode, categories=pd.Index(
            [R.VERDICT_NAMES[v][0] for v in R.VERDICTS], dtype="str")),
        "control_level": level_lab.categorical(lcode),
        "zones_hit": zl.names.categorical(zh_code), "zone_ids": zl.ids.categorical(zi_code),
        # rounded in place: these arrays are this call's own, and a million sites' copies would be new memory
        "overlap_ha": np.round(overlap_ha, 6, out=overlap_ha), "overlap_m": np.round(overlap_m, 3, out=overlap_m),
        "overlap_pct": np.round(pct, 4, out=pct), "outside_jixi_pct": np.round(out_pct, 4, out=out_pct),
        "nearest_zone": zl.names.categorical(nz_code), "nearest_zone_id": zl.ids.categorical(nzi_code),
        "distance_m": np.round(distance, 3, out=distance),
        "activity": pd.Categorical.from_codes(acts[0], categories=pd.Index(acts[1], dtype="str")),
        "rule_id": rule_lab.categorical(rcode),
        "rule": _labels(rcode, rule_texts["rule_en"]), "rule_zh": _labels(rcode, rule_texts["rule_zh"]),
        "basis": _labels(rcode, rule_texts["basis"]), "reasons": reasons,
        **_stamp_columns(gdf, pz.sha256),
    }
    return _frame_join(gdf, added)


class _ZoneLabels(NamedTuple):
    """Label lists of zone names and ids, and each zone's code into them."""

    names: _Labels  # "" then each zone's name_zh; combinations of names are added as found
    ids: _Labels  # "" then each zone's id; likewise
    name_code: np.ndarray  # per zone position: its code in ``names``
    id_code: np.ndarray  # per zone position: its code in ``ids``
    name_zh: np.ndarray  # per zone position: its name (object array)
    zone_id: np.ndarray  # per zone position: its id as text (object array)


def _zone_labels(zones: gpd.GeoDataFrame) -> _ZoneLabels:
    """The label lists of the zones' names and ids, with the empty label first (code 0: no zone)."""
    zname = zones["name_zh"].astype(str).to_numpy(dtype=object)
    zid = zones["id"].astype(str).to_numpy(dtype=object)
    names, ids = _Labels([""]), _Labels([""])
    name_code = np.array([names.code(v) for v in zname], dtype=np.int64)
    id_code = np.array([ids.code(v) for v in zid], dtype=np.int64)
    return _ZoneLabels(names, ids, name_code, id_code, zname, zid)


def _deciding_hits(hits: pd.DataFrame, n: int, level_lab: _Labels,
                   rule_lab: _Labels) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each site's deciding hit: the most severe verdict, then the strictest level, then zone order.

    Returns
    -------
    vcode, lcode, rcode : numpy.ndarray of int64
        Per site: the verdict rank (``clear`` where no hit), the code of the control
        level in ``level_lab`` (0: none) and of the rule in ``rule_lab`` (0: CLEAR).
    deciding : numpy.ndarray of int64
        Per site: the position of the deciding zone, -1 for sites in no zone.
    """
    vcode = np.full(n, R.VERDICT_RANK["clear"], dtype=np.int64)
    lcode = np.zeros(n, dtype=np.int64)
    rcode = np.zeros(n, dtype=np.int64)
    deciding = np.full(n, -1, dtype=np.int64)
    if len(hits):
        best = hits.iloc[first_by(hits, ["rank", "level_rank", "zone"])]
        s = best["site"].to_numpy()
        vcode[s] = best["rank"].to_numpy()
        for col, lab, dest in (("control_level", level_lab, lcode), ("rule_id", rule_lab, rcode)):
            cat = best[col].array  # categorical: recode its categories into the label list
            dest[s] = np.array([lab.code(str(u)) for u in cat.categories], dtype=np.int64)[cat.codes]
        deciding[s] = best["zone"].to_numpy()
    return vcode, lcode, rcode, deciding


def _zone_columns(hits: pd.DataFrame, n: int, zl: _ZoneLabels) -> tuple[np.ndarray, np.ndarray]:
    """Per site, the codes of the zones hit (names and ids, strictest level first, ``"; "``-joined).

    One label per distinct combination of zones, added to ``zl.names`` and ``zl.ids``;
    code 0 (``""``) for sites in no zone.
    """
    zh_code = np.zeros(n, dtype=np.int64)
    zi_code = np.zeros(n, dtype=np.int64)
    if len(hits):
        site, zone, level = (hits[c].to_numpy() for c in ("site", "zone", "level_rank"))
        by_zone, by_level = packed_key([site, zone]), packed_key([site, level])
        if by_zone is not None and by_level is not None and (np.diff(by_zone) > 0).all():
            # in (site, zone) order, as the kernels give them: a stable sort by (site, level) keeps it within
            order = np.argsort(by_level, kind="stable")
        else:
            order = np.lexsort((zone, level, site))
        combo_sites, combo, combos = zone_combinations(site[order], zone[order])
        name_of = np.array([zl.names.code("; ".join(zl.name_zh[list(c)])) for c in combos], dtype=np.int64)
        id_of = np.array([zl.ids.code("; ".join(zl.zone_id[list(c)])) for c in combos], dtype=np.int64)
        zh_code[combo_sites] = name_of[combo]
        zi_code[combo_sites] = id_of[combo]
    return zh_code, zi_code


def _nearest_columns(pairs: Pairs, deciding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per site, the nearest zone's position (-1: none within ``search_m``) and its distance (m).

    A site in a zone is at distance 0 from its deciding zone. A polygon touching
    zones only by slivers (below ``tolerance_ha``, so in no zone) lies at distance 0
    from the first zone it touches.
    """
    inside = deciding >= 0
    nearest_zone = np.where(inside, deciding, pairs.nearest_zone)
    distance = np.where(inside, 0.0, pairs.nearest_m)
    raw = pairs.hits
    sliver_only = np.zeros(len(deciding), dtype=bool)
    sliver_only[raw["site"].to_numpy()] = True
    sliver_only &= ~inside
    if sliver_only.any():
        first = raw[sliver_only[raw["site"].to_numpy()]].sort_values(["site", "zone"]).drop_duplicates("site")
        nearest_zone[first["site"].to_numpy()] = first["zone"].to_numpy()
        distance[first["site"].to_numpy()] = 0.0
    return nearest_zone, distance


def _verdict_codes(vcode: np.ndarray, lcode: np.ndarray, rcode: np.ndarray, inside: np.ndarray,
                   nearest_zone: np.ndarray, distance: np.ndarray, in_jixi: np.ndarray, rule_lab: _Labels, *,
                   buffer_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The final verdict, level and rule codes: ``attention`` near a zone, ``outside_jixi`` outside the city.

    A site in no zone but within ``buffer_m`` (metres) of one is ``attention`` (rule
    NEAR); a site outside Jixi is ``outside_jixi`` (rule OUTSIDE, no level),
    whatever else it is. Changes ``vcode``, ``lcode`` and ``rcode`` in place (the deciding hits' own
    arrays) and returns them.
    """
    near = (~inside) & (distance <= buffer_m) & (nearest_zone >= 0)
    vcode[near] = R.VERDICT_RANK["attention"]
    rcode[near] = rule_lab.code(NEAR_RULE["rule_id"])
    outside = ~in_jixi
    vcode[outside] = R.VERDICT_RANK["outside_jixi"]
    rcode[outside] = rule_lab.code(OUTSIDE_RULE["rule_id"])
    lcode[outside] = 0
    return vcode, lcode, rcode


def _overlap_columns(geoms: np.ndarray, pz, hits: pd.DataFrame, dims: np.ndarray, site_area: np.ndarray,
                     site_len: np.ndarray, inside: np.ndarray,
                     pieces=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site, the overlap with the union of its zones: hectares (polygons), metres (lines), % of the site.

    Points are 100 % inside a zone or 0 %; ``overlap_ha``/``overlap_m`` are NaN
    where they do not apply (points; lines for ``overlap_ha``; polygons for
    ``overlap_m``). Unrounded. ``pieces``: the kernel's cuts (:func:`union_overlap`).
    """
    n = len(geoms)
    ov_m2, ov_len = union_overlap(geoms, pz, hits, dims, site_area, site_len, pieces)
    poly, line = np.flatnonzero(dims == 2), np.flatnonzero(dims == 1)
    overlap_ha = np.full(n, np.nan)
    overlap_ha[poly] = ov_m2[poly] / 1e4
    overlap_m = np.full(n, np.nan)
    overlap_m[line] = ov_len[line]
    pct = np.where(inside, 100.0, 0.0)  # points: all or nothing
    with np.errstate(invalid="ignore", divide="ignore"):
        pct[poly] = ov_m2[poly] / site_area[poly] * 100
        pct[line] = ov_len[line] / site_len[line] * 100
    if len(poly) or len(line):
        pct = np.clip(np.nan_to_num(pct), 0, 100)
    return overlap_ha, overlap_m, pct


@functools.lru_cache(maxsize=1)
def _rules_by_id() -> dict[str, dict]:
    """rule_id -> rule row of ``verdict_rules.csv``, plus the NEAR, CLEAR and OUTSIDE rules
    (built once per process, as the rule table is read once; shared: read it, never write to it)."""
    rules_by_id = {r["rule_id"]: r for r in R.verdict_rules().to_dict("records")}
    for special in (NEAR_RULE, CLEAR_RULE, OUTSIDE_RULE):
        rules_by_id[special["rule_id"]] = special
    return rules_by_id


def _reason_column(gdf: gpd.GeoDataFrame, vcode, lcode, level_labels, zh_code, decider, name_labels, acts, dims,
                   overlap_ha, overlap_m, pct, nz_code, distance, rcode, rule_labels, rules_by_id, buffer_m,
                   out_pct) -> pd.Categorical:
    """The bilingual ``reasons`` column: the sentence of :func:`_reasons`, then the CRS note
    where the input CRS was inferred (:func:`with_crs_notes`), with the location-precision
    label in front where the sites have one (:func:`_label_location`)."""
    reasons = _reasons(vcode, lcode, level_labels, zh_code, decider, name_labels, acts, dims, overlap_ha,
                       overlap_m, pct, nz_code, distance, rcode, rule_labels, rules_by_id, buffer_m, out_pct=out_pct)
    reasons = with_crs_notes(reasons, gdf)
    if "location_precision" in gdf.columns:
        reasons = _label_location(reasons, gdf["location_precision"])
    return reasons


def _stamp_columns(gdf: gpd.GeoDataFrame, zones_sha256: str) -> dict[str, pd.Categorical]:
    """The audit stamp: package version, zone checksum, rule-table version and time (UTC), one value
    for every row (a one-category column, no per-row strings); empty CRS columns if the sites lack them."""
    n = len(gdf)
    stamp = {"jixi_geo_version": __version__, "zones_sha256": zones_sha256, "rules_version": R.rules_version(),
             "checked_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    for k in ("input_crs", "crs_from", "converted_from"):
        if k not in gdf.columns:
            stamp[k] = ""
    return {k: _constant(v, n) for k, v in stamp.items()}


def _frame_join(gdf: gpd.GeoDataFrame, added: dict) -> gpd.GeoDataFrame:
    """The sites' own columns and the ``added`` result columns in their final order, put together once
    (no intermediate frames), with the sites' index and geometry, in EPSG:4490.

    Order: ``site_id``, the input's other columns, then :data:`RESULT_COLUMNS`.
    """
    geom = gdf.geometry.name
    front = [c for c in gdf.columns if c not in RESULT_COLUMNS and c != geom]
    cols = ["site_id"] + [c for c in front if c != "site_id"] + [c for c in RESULT_COLUMNS if c != "site_id"]
    # the added columns are this call's own arrays: taken as they are (no copy, no consolidation of the
    # float columns into one block, which for a million sites costs more than the rest of this step);
    # the sites' columns go in as Series, so copy-on-write still guards the caller's frame
    data = {c: (added[c] if c in added else gdf[c]) for c in cols}
    if geom == "geometry":
        result = gpd.GeoDataFrame(data, index=gdf.index, geometry=gdf.geometry.array, copy=False)
    else:
        data[geom] = gdf.geometry
        result = gpd.GeoDataFrame(pd.DataFrame(data, index=gdf.index, copy=False), geometry=geom, crs=gdf.crs,
                                  copy=False)
    return result if STORAGE_CRS.equals(result.crs) else result.to_crs(STORAGE_CRS)
