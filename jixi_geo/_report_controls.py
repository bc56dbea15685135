"""The three control lines and land classes in the filed report: 三线压占 and 地类 tables, totals, sources.

A check with control layers (``check_sites(..., controls=...)``) gives each site one verdict per
line (``eco_verdict``; ``farmland_verdict``, ``urban_verdict``, ``water_verdict`` with relation,
hectares, share and level) and, with a land-cover layer, the hectares per land class. This module
turns them into two tidy tables — :func:`lines_frame` (one row per site × line) and
:func:`land_frame` (one row per site × land class) — that the HTML report, the cover's totals and
the Excel workbook all read, so the three never disagree. 1 公顷 = 15 亩 everywhere.

Labels come from data: the roles from ``layers/rules/control_roles.csv``, relations from
``control_terms.csv``, water levels from ``control_role_levels.csv``, the land table's own rows (耕地
total and split, 黑土耕地, 未分类) from ``land_table_rows.csv``, verdicts from :mod:`jixi_geo.vocab`,
the synthetic stamp from ``precision.csv`` (``synthetic``). Every text from a user's file (layer
names, file names, class names) goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import vocab
from ._paths import rules_dir
from .units import M2_PER_HA, M2_PER_MU

__all__ = ["MU_PER_HA", "ECO", "roles_table", "line_roles", "role_label", "term", "synthetic_stamp",
           "is_synthetic", "layer_infos", "given_roles", "lines_frame", "land_frame", "stamp_html",
           "lines_table_html", "land_table_html", "cover_totals_html", "layer_sources_html", "occupation",
           "LINES_SHEET", "LAND_SHEET", "xlsx_sheets"]

_E = html.escape
MU_PER_HA = M2_PER_HA / M2_PER_MU  # 15
#: The key of the ecological red-line row (the check's own zones, ``eco_verdict``).
ECO = "redline"
#: Land-table rows taken from the results' columns (``<key>_ha``), in table order.
_CULTIVATED = ("cultivated", "paddy", "irrigated", "dryland", "black_soil")


@cache
def _roles() -> pd.DataFrame:
    df = pd.read_csv(rules_dir() / "control_roles.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    df = df.assign(_o=df["order"].astype(int)).sort_values("_o", kind="stable").drop(columns="_o")
    return df.set_index("role", drop=False)


def roles_table() -> pd.DataFrame:
    """``layers/rules/control_roles.csv`` in report order, indexed by role (a copy)."""
    return _roles().copy()


def line_roles() -> tuple[str, ...]:
    """The roles that are lines (one verdict each): ``permanent_farmland``, ``urban_boundary``, ``water_source``."""
    t = _roles()
    return tuple(t.index[t["kind"] == "line"])


def role_label(role: str) -> tuple[str, str]:
    """``(中文, English)`` name of a role; the ecological row (:data:`ECO`) is named by ``control_levels.csv``."""
    if role == ECO:
        return vocab.labels("control_level", "ecological_redline")
    t = _roles()
    if role not in t.index:
        return role, role
    return str(t.at[role, "name_zh"]), str(t.at[role, "name_en"])


def _read(name: str) -> list[dict]:
    path = rules_dir() / name
    if not path.is_file():
        return []
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8").to_dict("records")


@cache
def _terms() -> dict[tuple[str, str], tuple[str, str]]:
    """Labels by (kind, key): relations (``control_terms.csv``), levels of a role
    (``control_role_levels.csv``) and the rows of the land table (``land_table_rows.csv``)."""
    out = {("relation", r["term"]): (r["zh"], r["en"]) for r in _read("control_terms.csv")}
    out |= {("level", r["level"]): (r["name_zh"], r["name_en"]) for r in _read("control_role_levels.csv")}
    out |= {("land", r["row"]): (r["zh"], r["en"]) for r in _read("land_table_rows.csv")}
    out |= {("land_code", r["row"]): (r["code"], r["code"]) for r in _read("land_table_rows.csv")}
    return out


def term(kind: str, key) -> tuple[str, str]:
    """``(中文, English)`` of a relation, level or land-table row; an unknown key is returned as text."""
    k = "" if key is None or (isinstance(key, float) and np.isnan(key)) else str(key)
    return _terms().get((kind, k), (k, k))


def _display(pair: tuple[str, str]) -> str:
    zh, en = pair
    return zh if zh == en else f"{zh} {en}"


def synthetic_stamp() -> tuple[str, str]:
    """``("合成示例·非真实数据", "synthetic example, not real data")`` from ``precision.csv``."""
    st = vocab.stamp("synthetic")
    if st is None:  # the data file lost its row: say it anyway, never drop the warning
        return "合成示例·非真实数据", "synthetic example, not real data"
    return st


def is_synthetic(results: pd.DataFrame, infos: list[dict] | None = None) -> bool:
    """Whether any control layer of the check is the synthetic sample (column ``controls_synthetic``
    or the layers' ``synthetic`` flag)."""
    if "controls_synthetic" in results.columns and bool(pd.Series(results["controls_synthetic"]).fillna(False)
                                                        .astype(bool).any()):
        return True
    return any(bool(i.get("synthetic")) for i in (infos or []))


def layer_infos(results: pd.DataFrame, controls=None) -> list[dict]:
    """The control layers of a check, one dict per role (``role, name_zh, name_en, source, sha256, year,
    synthetic, features, layer, crs, findings``).

    From ``controls`` when given (a :class:`jixi_geo.controls.Controls` or such a list of dicts) —
    pandas drops ``attrs`` in many operations, so the caller can pass what it loaded — else from
    ``results.attrs["controls"]``; ``[]`` when neither says.
    """
    if controls is None:
        return [dict(i) for i in (results.attrs.get("controls") or [])]
    if isinstance(controls, list | tuple):
        return [dict(i) for i in controls]
    layers = getattr(controls, "layers", None)
    if layers is None:
        return []
    order = [r for r in _roles().index if r in layers] + [r for r in layers if r not in _roles().index]
    out = []
    for role in order:
        c = layers[role]
        zh, en = role_label(role)
        out.append({"role": role, "name_zh": zh, "name_en": en, "source": c.source, "sha256": c.sha256,
                    "year": c.year, "synthetic": bool(c.synthetic), "features": len(c.gdf), "layer": c.layer,
                    "crs": c.crs, "findings": list(c.findings)})
    return out


def given_roles(results: pd.DataFrame, infos: list[dict] | None = None) -> tuple[str, ...]:
    """The roles checked: those named by ``infos`` and those whose columns the results carry."""
    t = _roles()
    named = {str(i.get("role")) for i in (infos or [])}
    for role in t.index:
        prefix = t.at[role, "prefix"]
        col = "unclassified_ha" if t.at[role, "kind"] == "landcover" else f"{prefix}_verdict"
        if col in results.columns:
            named.add(role)
    return tuple(r for r in t.index if r in named)


def _num(rec, col) -> float:
    v = rec.get(col) if hasattr(rec, "get") else None
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _eco_relation(pct: float, hit: str) -> str:
    if not np.isfinite(pct) or (pct <= 0 and not hit):
        return "outside"
    return "inside" if pct >= 100.0 - 1e-9 else "partly" if pct > 0 else "outside"


def lines_frame(results: pd.DataFrame, roles: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per site × line: the ecological red line (the check's zones) and each line role.

    Columns ``site_id, line, line_zh, line_en, checked, verdict, verdict_zh, relation, level, ha, mu, pct,
    rule_id``; ``mu = 15 × ha``. A line role not given has ``checked = False`` and empty values. The
    ecological row gives ``eco_verdict`` with the overlap of all zones used (``overlap_ha``,
    ``overlap_pct``) and their strictest ``control_level`` as level; its relation is read from the
    share (100 % inside, 0 % and no zone hit outside).
    """
    roles = given_roles(results) if roles is None else roles
    t = _roles()
    rows = []
    ids = results["site_id"].astype(str).to_numpy()
    recs = results.drop(columns=[c for c in ("geometry",) if c in results.columns]).to_dict("records")
    for sid, rec in zip(ids, recs, strict=True):
        eco = str(rec.get("eco_verdict", rec.get("verdict", "")))
        pct = _num(rec, "overlap_pct")
        ha = _num(rec, "overlap_ha")
        zh, en = role_label(ECO)
        rows.append({"site_id": sid, "line": ECO, "line_zh": zh, "line_en": en, "checked": True,
                     "verdict": eco, "verdict_zh": vocab.label("verdict", eco),
                     "relation": _eco_relation(pct, str(rec.get("zones_hit", "") or "")),
                     "level": str(rec.get("control_level", "")), "ha": ha, "mu": ha * MU_PER_HA, "pct": pct,
                     "rule_id": ""})
        for role in line_roles():
            p = t.at[role, "prefix"]
            zh, en = role_label(role)
            row = {"site_id": sid, "line": role, "line_zh": zh, "line_en": en}
            if role in roles and f"{p}_verdict" in rec:
                v, h = str(rec[f"{p}_verdict"]), _num(rec, f"{p}_ha")
                row.update(checked=True, verdict=v, verdict_zh=vocab.label("verdict", v),
                           relation=str(rec.get(f"{p}_relation", "")), level=str(rec.get(f"{p}_level", "") or ""),
                           ha=h, mu=h * MU_PER_HA, pct=_num(rec, f"{p}_pct"), rule_id=str(rec.get(f"{p}_rule_id", "")))
            else:
                row.update(checked=False, verdict="", verdict_zh="", relation="", level="", ha=np.nan, mu=np.nan,
                           pct=np.nan, rule_id="")
            rows.append(row)
    return pd.DataFrame(rows, columns=["site_id", "line", "line_zh", "line_en", "checked", "verdict", "verdict_zh",
                                       "relation", "level", "ha", "mu", "pct", "rule_id"])


def _site_ha(results: pd.DataFrame) -> np.ndarray:
    """Site areas (ha) on the CGCS2000 ellipsoid; NaN for points and lines."""
    from .crs import geodesic_area

    if "geometry" not in results.columns or results.crs is None:
        return np.full(len(results), np.nan)
    geoms = results.geometry
    ha = np.asarray(geodesic_area(geoms, unit="ha"), float)
    poly = np.asarray(geoms.geom_type.isin(["Polygon", "MultiPolygon"]))
    return np.where(poly, ha, np.nan)


def land_frame(results: pd.DataFrame, detail: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per site × land-table row, for sites with land-cover columns.

    Rows per polygon site (``unclassified_ha`` not NaN): 耕地 total, 水田, 水浇地, 旱地 (from
    ``cultivated_ha``, ``paddy_ha`` …), 黑土耕地 when the layer says (``black_soil_ha`` not NaN), then
    every other land class the site occupies (from ``detail``: :func:`jixi_geo.check_sites_detail`
    rows with ``role == "landcover"``; cultivated classes are not repeated), then 未分类
    (``unclassified_ha``). Columns ``site_id, row, code, name_zh, name_en, group, ha, mu, pct``
    (share of the site's area, CGCS2000 ellipsoid) and ``pct_of_cultivated`` (黑土耕地 only).
    The classes, 耕地 total and 未分类 rows sum to the site's area.
    """
    cols = ["site_id", "row", "code", "name_zh", "name_en", "group", "ha", "mu", "pct", "pct_of_cultivated"]
    if "unclassified_ha" not in results.columns:
        return pd.DataFrame(columns=cols)
    site_ha = _site_ha(results)
    by_site: dict[str, pd.DataFrame] = {}
    if detail is not None and len(detail) and "role" in detail.columns:
        lc = detail[(detail["role"].astype(str) == "landcover")
                    & (detail.get("relation", pd.Series("occupies", index=detail.index)).astype(str) == "occupies")]
        lc = lc[(lc["land_group"].astype(str) != "cultivated") & (lc["land_class_code"].astype(str) != "")]
        by_site = {str(k): g for k, g in lc.groupby(lc["site_id"].astype(str), sort=False)}
    rows = []
    recs = results.drop(columns=[c for c in ("geometry",) if c in results.columns]).to_dict("records")
    for rec, area in zip(recs, site_ha, strict=True):
        sid = str(rec["site_id"])
        if not np.isfinite(_num(rec, "unclassified_ha")):  # a point or line: no land classes
            continue
        cult = _num(rec, "cultivated_ha")

        def add(row, ha, code="", zh=None, en=None, group="", of_cult=np.nan, sid=sid, area=area):
            if zh is None:
                zh, en = term("land", row)
            rows.append({"site_id": sid, "row": row, "code": code, "name_zh": zh, "name_en": en, "group": group,
                         "ha": ha, "mu": ha * MU_PER_HA, "pct": 100.0 * ha / area if area > 0 else np.nan,
                         "pct_of_cultivated": of_cult})

        for key in _CULTIVATED:
            ha = _num(rec, f"{key}_ha")
            if key == "black_soil":
                if np.isfinite(ha):
                    add(key, ha, group="cultivated", of_cult=100.0 * ha / cult if cult > 0 else np.nan)
            else:
                add(key, 0.0 if not np.isfinite(ha) else ha, code=term("land_code", key)[0], group="cultivated")
        g = by_site.get(sid)
        if g is not None:
            g = g.groupby(["land_class_code", "land_class_zh", "land_class_en", "land_group"], sort=True,
                          observed=True)["overlap_ha"].sum().reset_index()
            for r in g.itertuples():
                add("class", float(r.overlap_ha), code=str(r.land_class_code), zh=str(r.land_class_zh),
                    en=str(r.land_class_en), group=str(r.land_group))
        add("unclassified", _num(rec, "unclassified_ha"))
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------------- HTML

def _stamp_text() -> str:
    zh, en = synthetic_stamp()
    return f"{_E(zh)} / {_E(en)}"


def stamp_html(synthetic: bool, *, big: bool = False) -> str:
    """The 合成示例·非真实数据 stamp (empty when the layers are not synthetic)."""
    if not synthetic:
        return ""
    cls = "synthetic big" if big else "synthetic"
    return f'<p class="{cls}">{_stamp_text()}</p>'


def _badge(v: str) -> str:
    col, fg = vocab.colour("verdict", v), vocab.text_colour("verdict", v)
    return f'<span class="badge" style="background:{col};color:{fg}">{_E(vocab.display("verdict", v))}</span>'


def _level_text(line: str, level: str) -> str:
    if not level:
        return "—"
    if line == ECO:
        return _E(vocab.display("control_level", level))
    return _E(_display(term("level", level)))


def _f(v, nd: int) -> str:
    return "—" if v is None or not np.isfinite(v) else f"{v:,.{nd}f}"


def lines_table_html(rows: pd.DataFrame, *, synthetic: bool) -> str:
    """The 三线压占 table of one site (its rows of :func:`lines_frame`)."""
    stamp = f' — <span class="synthetic">{_stamp_text()}</span>' if synthetic else ""
    h = [f'<table class="lines"><caption>三线压占 Control lines{stamp}</caption>',
         "<tr><th>管控线 Line</th><th>结论 Verdict</th><th>压占关系 · 级别 Relation, level</th>"
         "<th>公顷 ha</th><th>亩 mu</th><th>占场址 %</th><th>规则 Rule</th></tr>"]
    for r in rows.itertuples():
        name = _E(f"{r.line_zh} {r.line_en}")
        if not r.checked:
            h.append(f'<tr class="unchecked-line"><td>{name}</td><td colspan="6">未核查（未提供该图层）/ not checked '
                     "(no layer given)</td></tr>")
            continue
        level = f" · {_level_text(r.line, r.level)}" if r.level else ""
        h.append(f"<tr><td>{name}</td><td>{_badge(str(r.verdict))}</td>"
                 f"<td>{_E(_display(term('relation', r.relation)))}{level}</td>"
                 f"<td>{_f(r.ha, 4)}</td><td>{_f(r.mu, 2)}</td><td>{_f(r.pct, 1)}</td>"
                 f"<td>{_E(str(r.rule_id)) or '—'}</td></tr>")
    h.append("</table>")
    return "".join(h)


def land_table_html(rows: pd.DataFrame, *, synthetic: bool, has_detail: bool) -> str:
    """The 地类 table of one site (its rows of :func:`land_frame`)."""
    if rows.empty:
        return ""
    cap = "地类 Land classes（国土调查 land survey）" + (f' — <span class="synthetic">{_stamp_text()}</span>'
                                                   if synthetic else "")
    h = [f'<table class="land"><caption>{cap}</caption><tr><th>代码 Code</th><th>地类 Class</th><th>公顷 ha</th>'
         "<th>亩 mu</th><th>占场址 % of site</th></tr>"]
    for r in rows.itertuples():
        share = _f(r.pct, 1)
        if r.row == "black_soil":
            share += f"（占耕地 of cultivated {_f(r.pct_of_cultivated, 1)}）"
        cls = ' class="sub"' if r.row in ("paddy", "irrigated", "dryland", "black_soil") else ""
        h.append(f"<tr{cls}><td>{_E(str(r.code))}</td><td>{_E(_display((str(r.name_zh), str(r.name_en))))}</td>"
                 f"<td>{_f(r.ha, 4)}</td><td>{_f(r.mu, 2)}</td><td>{share}</td></tr>")
    h.append("</table>")
    if not has_detail:
        h.append('<p class="note">其他地类明细未计算（报告未收到管控图层）；见 check_sites_detail。/ Other classes '
                 "not itemised (the report was not given the control layers); see check_sites_detail.</p>")
    return "".join(h)


def cover_totals_html(lines: pd.DataFrame, land: pd.DataFrame, *, synthetic: bool) -> str:
    """The cover's totals: per line the sites occupying it, ha and 亩; per land-table row ha and 亩."""
    h = ['<div class="ctl-totals"><h2>三线压占汇总 / Control lines, all sites</h2>', stamp_html(synthetic),
         "<table class=\"lines-total\"><tr><th>管控线 Line</th><th>压占场址数 Sites occupying</th>"
         "<th>压占面积 公顷 ha</th><th>亩 mu</th></tr>"]
    for _, g in lines.groupby("line", sort=False):
        first = g.iloc[0]
        name = _E(f"{first['line_zh']} {first['line_en']}")
        if not bool(g["checked"].any()):
            h.append(f'<tr class="unchecked-line"><td>{name}</td><td colspan="3">未核查 not checked</td></tr>')
            continue
        occ = int(g["relation"].isin(["inside", "partly"]).sum())
        ha = float(np.nansum(g["ha"].to_numpy(float)))
        h.append(f"<tr><td>{name}</td><td>{occ}</td><td>{ha:,.4f}</td><td>{ha * MU_PER_HA:,.2f}</td></tr>")
    h.append('</table><p class="stamp">生态保护红线一行：所用管控区（含自然保护区、一般生态空间）的结论与压占面积，'
             "级别为最严者（各场址表同）。/ The ecological row gives the verdict and overlap of the zones used "
             "(reserves and general ecological space included), with the strictest level (as in each site table).</p>")
    if len(land):
        h.append('<table class="land-total"><caption>地类汇总 Land classes, all sites</caption><tr><th>代码 Code</th>'
                 "<th>地类 Class</th><th>公顷 ha</th><th>亩 mu</th></tr>")
        tot = (land.groupby(["row", "code", "name_zh", "name_en"], sort=False, observed=True)["ha"]
               .sum(min_count=1).reset_index())
        order = {k: i for i, k in enumerate([*_CULTIVATED, "class", "unclassified"])}
        tot = tot.assign(_o=tot["row"].map(order)).sort_values(["_o", "code"], kind="stable")
        for r in tot.itertuples():
            h.append(f"<tr><td>{_E(str(r.code))}</td><td>{_E(_display((str(r.name_zh), str(r.name_en))))}</td>"
                     f"<td>{_f(r.ha, 4)}</td><td>{_f(r.ha * MU_PER_HA, 2)}</td></tr>")
        h.append("</table>")
    return "".join(h) + "</div>"


def layer_sources_html(infos: list[dict]) -> str:
    """数据来源: one line per control layer (file name, SHA-256, year, features, CRS, layer, findings)."""
    if not infos:
        return ""
    h = ['<div class="ctl-sources"><h2>管控图层数据来源 / Control layers: sources</h2><ul>']
    for i in infos:
        zh, en = role_label(str(i.get("role", "")))
        src = str(i.get("source") or "")
        name = Path(src).name if src and not src.startswith("<") else src or "—"
        parts = [f"<b>{_E(zh)} {_E(en)}</b>: {_E(name)}",
                 f'SHA-256 <code>{_E(str(i.get("sha256") or "—"))}</code>',
                 f'年份 year {_E(str(i.get("year") or "未注明 not given"))}',
                 f'要素数 features {_E(str(i.get("features", "—")))}',
                 f'坐标系 CRS {_E(str(i.get("crs") or "—"))}']
        if i.get("layer"):
            parts.append(f'图层 layer {_E(str(i["layer"]))}')
        if i.get("synthetic"):
            parts.append(f'<span class="synthetic">{_stamp_text()}</span>')
        findings = "".join(f"<li>{_E(str(f))}</li>" for f in (i.get("findings") or []))
        h.append("<li>" + " · ".join(parts) + (f"<ul class=\"findings\">{findings}</ul>" if findings else "") + "</li>")
    return "".join(h) + "</ul></div>"


def occupation(results, *, zones=None, controls=None) -> pd.DataFrame | None:
    """``check_sites_detail`` rows with ``relation == "occupies"`` for the polygon sites of ``results``,
    or ``None`` when no ``controls`` were given (the report then itemises no other land classes)."""
    if controls is None:
        return None
    import geopandas as gpd

    from .redline import check_sites_detail

    sites = gpd.GeoDataFrame({"site_id": results["site_id"].astype(str).to_numpy(),
                              "activity": results["activity"].astype(str).to_numpy()},
                             geometry=results.geometry.to_numpy(), crs=results.crs)
    d = check_sites_detail(sites, zones=zones, controls=controls)
    return d[d["relation"].astype(str) == "occupies"].reset_index(drop=True)


#: Sheet names of the workbook (Excel forbids ``/`` in them; at most 31 characters).
LINES_SHEET = "三线压占 control lines"
LAND_SHEET = "地类 land classes"


def xlsx_sheets(results: pd.DataFrame, roles: tuple[str, ...], occupation: pd.DataFrame | None, *,
                synthetic: bool) -> dict[str, pd.DataFrame]:
    """The workbook's 三线压占 (site × line) and 地类 (site × land class) sheets as frames.

    Both carry ``site_name`` when the results do; when a layer is synthetic every row says so in
    column ``data`` (合成示例·非真实数据 / synthetic example, not real data).
    """
    lines = lines_frame(results, roles)
    lines = lines.assign(relation_zh=[term("relation", r)[0] if r else "" for r in lines["relation"]])
    land = land_frame(results, occupation)
    names = (dict(zip(results["site_id"].astype(str), results["site_name"].astype(str), strict=False))
             if "site_name" in results.columns else None)
    out = {}
    for title, frame in ((LINES_SHEET, lines), (LAND_SHEET, land)):
        frame = frame.copy()
        if names is not None:
            frame.insert(1, "site_name", frame["site_id"].map(names))
        if synthetic:
            frame["data"] = _stamp_text_plain()
        out[title] = frame
    return out


def _stamp_text_plain() -> str:
    zh, en = synthetic_stamp()
    return f"{zh} / {en}"
