"""Compliance reports: CSV for Excel, GeoJSON, and a self-contained bilingual HTML page.

The HTML report needs no network: styles are inline and each site's map snippet
is an SVG drawn here from the site and the zones around it. Every text that comes
from input files is HTML-escaped.
"""

from __future__ import annotations

import functools

import html
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._gc import while_paused
from ._report_svg import LEVEL_COLOURS, dots as _dots, svg_snippet as _svg_snippet  # noqa: F401 (names of this module before)
from ._io import atomic_path, file_sha256, verify_set, write_set
from .crs import ANALYSIS_CRS
from .layers import load_layer
from . import vocab
from .rules import VERDICTS, location_label
from .sites import crs_notes

__all__ = ["write_report", "verify_report", "report_html", "VERDICT_COLOURS", "LEVEL_COLOURS"]

log = logging.getLogger(__name__)

#: verdict -> colour (hex), from ``layers/rules/verdicts.csv`` (see :mod:`jixi_geo.vocab`).
VERDICT_COLOURS = {v: vocab.colour("verdict", v) for v in vocab.keys("verdict")}
#: Sites given their own section in the HTML report at most (the tables list all).
MAX_SITE_SECTIONS = 500
#: Inputs with more sites than this are *big*: the report summarises (counts, sites per
#: zone, the most severe sites) and the data files are GeoParquet, not CSV/GeoJSON.
BIG_REPORT_SITES = 10_000
#: The site table of a big report lists at most this many sites, the most severe first.
MAX_TABLE_ROWS = 1_000
#: Sites with a map section in a big report, the most severe first.
BIG_SITE_SECTIONS = 50
_E = html.escape


def _texts(col: pd.Series) -> np.ndarray:
    """A text column as an object array of str (missing as ""), read from a categorical's
    categories and codes without converting row by row."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.append(np.asarray(col.cat.categories.astype(str), dtype=object), "")
        return cats[col.cat.codes.to_numpy()]  # code -1 (missing) takes the last: ""
    return col.astype(object).where(col.notna(), "").astype(str).to_numpy(dtype=object)


def _codes_in(values: np.ndarray, labels) -> np.ndarray:
    """Position of each value in ``labels`` (every value must be one of them)."""
    uniq, inverse = np.unique(values.astype(str), return_inverse=True)
    where = {v: i for i, v in enumerate(labels)}
    return np.array([where[u] for u in uniq.tolist()], dtype=np.int64)[inverse.ravel()]


def _records_by(frame: pd.DataFrame, key: pd.Series) -> dict:
    """The rows of ``frame`` as dicts, grouped by ``key`` (in row order within each group)."""
    out: dict = {}
    for k, rec in zip(key.tolist(), frame.to_dict("records"), strict=True):
        out.setdefault(k, []).append(rec)
    return out


def _fmt(v, nd=2, unit=""):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v:,.{nd}f}{unit}"




_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.5;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
h4{margin:.6em 0 .2em}table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ddd;
padding:4px 6px;text-align:left;vertical-align:top}th{background:#f4f4f0}.header th{width:11em}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:bold}
.site{border:1px solid #e4e4e0;padding:.8em;margin:1em 0;border-radius:6px;break-inside:avoid}
.site-head{display:flex;justify-content:space-between;align-items:baseline}.site-head h3{margin:0}
.site-body{display:flex;gap:1.2em;flex-wrap:wrap}.site .facts{flex:1;min-width:16em}
.facts th{width:8.5em;word-break:keep-all}.snip{max-width:100%;height:auto}
.note{background:#fff8e1;border-left:4px solid #f1c40f;padding:.6em 1em}.prov{border-left:4px solid #888;
padding:.4em 1em;background:#f7f7f7}.unchecked{border-left:4px solid #56b4e9;padding:.4em 1em;background:#eef7fc}
.stamp,.end,.count{color:#666;font-size:.85em}.mono,code{font-family:monospace;word-break:break-all}
.legend span{margin-right:1em}.cover-row{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-start}
.summary{flex:1;min-width:18em}.overview h2{margin-top:2em}caption{text-align:left;font-size:.85em;color:#444}
table{overflow-wrap:anywhere}
.synthetic{border:2px solid #c0392b;color:#c0392b;font-weight:bold;padding:.2em .6em;display:inline-block}
.synthetic.big{font-size:1.4em;display:block;text-align:center}caption .synthetic{font-size:.9em}
table.lines,table.land{margin:.4em 0}table.lines td:nth-child(n+4),table.land td:nth-child(n+3),
table.lines .badge{white-space:nowrap}tr.sub td:nth-child(2){padding-left:1.5em}tr.unchecked-line td{color:#777}
.reasons{margin:.3em 0}
@media (max-width:600px){body{margin:.5em;padding:0 .4em}table{font-size:.8em}th,td{padding:2px 3px}}
@page{size:A4;margin:12mm}
@media print{body{max-width:none;margin:0;padding:0;font-size:8.5pt;line-height:1.3}
h2{margin-top:.6em}.cover-row{flex-wrap:nowrap}.overview .snip{width:230px;height:230px}
.cover,.table-page{break-after:page}.site{break-before:page;break-inside:avoid;
border:none;padding:0;margin:0}.sites-title,.legend{display:none}table,tr,.snip{break-inside:avoid}
.badge,th,.note,.prov,.unchecked,.synthetic{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.closing{break-before:page}.site{font-size:7.5pt}.site-body .snip{width:210px;height:210px}
table.lines,table.land{font-size:7.5pt}table.lines td:first-child{white-space:nowrap}
:is(table.lines,table.land,table.points) :is(td,th){padding:1px 3px}table.lines .badge{padding:0 5px}}
"""


def _level(v) -> str:
    return _E(vocab.display("control_level", v))


def _badge(v: str) -> str:
    col, fg = vocab.colour("verdict", v), vocab.text_colour("verdict", v)
    return f'<span class="badge" style="background:{col};color:{fg}">{_E(vocab.display("verdict", v))}</span>'


def _activity(key) -> str:
    """``"风电场 wind farm"``: the activity's names from ``layers/rules/activities.csv``."""
    return _activity_names().get(str(key), str(key))


@functools.cache
def _activity_names() -> dict[str, str]:
    from .rules import activities

    return {str(r["activity"]): f'{r["name_zh"]} {r["name_en"]}' for r in activities().to_dict("records")}


def _result_badge(verdict, level) -> str:
    v = str(verdict)
    col, fg = vocab.colour("verdict", v), vocab.text_colour("verdict", v)
    return (f'<span class="badge" style="background:{col};color:{fg}">'
            f"{_E(vocab.result_display(v, str(level)))}</span>")


def _overlaps(results: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Per (site, zone) overlaps of the sites that hit a zone, from :func:`jixi_geo.check_sites_detail`."""
    from .errors import SchemaError
    from .redline import check_sites_detail

    hit = results[results["zones_hit"].astype(str) != ""]
    cols = ["site_id", "zone_id", "zone_name_zh", "control_level", "overlap_ha", "overlap_m", "overlap_pct"]
    if hit.empty or (zones is not None and zones.empty):
        return pd.DataFrame(columns=cols)
    sites = gpd.GeoDataFrame({"site_id": hit["site_id"].astype(str).to_numpy(),
                              "activity": hit["activity"].astype(str).to_numpy()},
                             geometry=hit.geometry.to_numpy(), crs=hit.crs)
    try:
        d = check_sites_detail(sites, zones=zones)
    except SchemaError as exc:  # zones given to the report only, not of the redline_zones schema
        out = pd.DataFrame(columns=cols)
        out.attrs["unavailable"] = str(exc).splitlines()[0]
        return out
    return d[d["relation"] == "inside"][cols].reset_index(drop=True)


@while_paused  # a geometry or text object per site, no reference cycle: no cyclic collections meanwhile
def report_html(results: gpd.GeoDataFrame, *, zones: gpd.GeoDataFrame | None = None,
                title: str = "红线合规检查报告 / Red-line compliance report",
                max_sections: int | None = None, max_rows: int | None = None,
                data_file: str = "results.csv", companions: dict[str, str] | None = None,
                project: str | None = None, applicant: str | None = None, source=None,
                zones_source=None, overlaps: pd.DataFrame | None = None, controls=None,
                occupation: pd.DataFrame | None = None) -> str:
    """The HTML report of :func:`jixi_geo.check_sites` results, as a string.

    Modelled on the 压占分析 / 选址合规性审查 sheets of the Chinese 一张图 systems: a cover
    with the project's header (name, applicant, input file and its SHA-256, 坐标系, number of
    地块, total area in 公顷 and 亩, zones used, rules version, date), the summary and the
    provenance of the zones; then one page per site with its map snippet, 压占 table, zones
    within 1, 5 and 10 km (direction and distance), 界址点 table and the control lines not
    checked. Prints on A4 (``@media print``), one site per page.

    Parameters
    ----------
    results : GeoDataFrame
        Output of :func:`jixi_geo.check_sites`.
    zones : GeoDataFrame, optional
        The zones checked against; default (None) the bundled schematic ``redline_zones``,
        and only then does the report carry the schematic warning and credit Natural Earth.
    title : str
        Page title.
    max_sections : int, optional
        At most this many sites get a section with a map (the most severe first).
        Default :data:`MAX_SITE_SECTIONS`, or :data:`BIG_SITE_SECTIONS` for more than
        :data:`BIG_REPORT_SITES` sites.
    max_rows : int, optional
        The site table lists every site, in input order, up to this many (default: all,
        or :data:`MAX_TABLE_ROWS` for more than :data:`BIG_REPORT_SITES` sites); beyond,
        it lists the ``max_rows`` most severe and says where the full results are.
    data_file : str
        The file holding every result, named in the notes of a shortened report.
    companions : dict of str to str, optional
        File name → SHA-256 of the files written with the report.
    project, applicant : str, optional
        项目名称 and 申请单位 for the header (default project: the input file's name).
    source : path, optional
        The input file the sites were read from (its name and SHA-256 go in the header);
        default ``results.attrs["read_sites"]["source"]`` when present.
    zones_source : path, optional
        The file the user's zones were read from (``--zones``): its name and SHA-256 are
        given as the zones' provenance.
    overlaps : DataFrame, optional
        Per (site, zone) overlaps (``check_sites_detail`` rows with ``relation == "inside"``);
        computed when not given.
    controls : Controls or list of dict, optional
        The control layers of a check with ``controls=`` (what :func:`jixi_geo.controls.load_controls`
        returned, or the list of ``results.attrs["controls"]``): their 数据来源 lines. Default
        ``results.attrs["controls"]``; pass it explicitly, because pandas drops ``attrs`` in many
        operations. When the results carry the line columns (``eco_verdict``, ``farmland_verdict`` …)
        each site gets a 三线压占 table and, with a land-cover layer, a 地类 table, the cover their
        totals, and the list of lines not checked drops the roles given.
    occupation : DataFrame, optional
        ``check_sites_detail(..., controls=...)`` rows with ``relation == "occupies"``: the land classes
        beyond 耕地 itemised in the 地类 table.
    """
    from . import _report_controls as RC
    from . import _report_parts as P
    from ._proximity import proximity

    big = len(results) > BIG_REPORT_SITES
    max_sections = (BIG_SITE_SECTIONS if big else MAX_SITE_SECTIONS) if max_sections is None else max_sections
    max_rows = (MAX_TABLE_ROWS if big else len(results)) if max_rows is None else max_rows
    bundled = zones is None
    zones = load_layer("redline_zones") if zones is None else zones
    zp = zones.to_crs(ANALYSIS_CRS)
    res = results.copy()
    site_verdicts = _texts(res["verdict"])  # once: a big report has 10⁵ rows
    rank_of = {v: i for i, v in enumerate(VERDICTS)}
    res["_rank"] = np.array([rank_of[v] for v in VERDICTS], dtype=np.int64)[_codes_in(site_verdicts, VERDICTS)]
    counts = pd.Series(site_verdicts).value_counts()
    stamp = res.iloc[0] if len(res) else None
    name_col = next((c for c in ("site_name", "name_zh", "name") if c in res.columns), None)
    if source is None:
        source = (results.attrs.get("read_sites") or {}).get("source")
    info = P.zones_info(zones, bundled=bundled, source=zones_source,
                        data_sha256=str(stamp["zones_sha256"]) if stamp is not None else "")
    geoms_all = P.project(res.geometry.to_numpy(), res.crs)
    areas = P.site_areas_m2(geoms_all)
    checked_at = str(stamp["checked_at"]) if stamp is not None else ""
    infos = RC.layer_infos(results, controls)
    roles = RC.given_roles(results, infos)
    with_lines = "eco_verdict" in res.columns
    synthetic = RC.is_synthetic(results, infos)
    lines = RC.lines_frame(results, roles) if with_lines else None
    land = RC.land_frame(results, occupation) if with_lines else None

    h = ["<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         f"<title>{_E(title)}</title><style>{_CSS}</style></head><body>",
         f'<section class="cover"><h1>{_E(title)}</h1>', RC.stamp_html(synthetic, big=True)]
    src_name = Path(source).name if source is not None else ""
    src_sha = file_sha256(source) if source is not None and Path(source).is_file() else ""
    crs_vals = [str(c) for c in pd.unique(res["input_crs"].astype(str))] if "input_crs" in res else []
    rows = [("项目名称 Project", _E(project or (Path(src_name).stem if src_name else "—"))),
            ("申请单位 Applicant", _E(applicant) if applicant else "—"),
            ("输入文件 Input file", (f"{_E(src_name)}<br><span class=\"mono\">SHA-256 {_E(src_sha)}</span>"
                                     if src_name else "—")),
            ("输入坐标系 Input CRS", "<br>".join(_E(P.crs_text(c)) for c in crs_vals) or "—"),
            ("地块数 Parcels", str(len(res))),
            ("总面积 Total area", P.fmt_area(float(areas.sum()))),
            ("管控区数据 Zones", f"{_E(info.name)} · {info.n_features} 要素 features"),
            ("规则版本 Rules", _E(str(stamp["rules_version"])) if stamp is not None else "—"),
            ("检查日期 Date", _E(checked_at[:10] or "—")),
            ("软件 Software", f"jixi_geo {_E(str(stamp['jixi_geo_version']))}" if stamp is not None else "—")]
    h.append(P.header_html(rows))
    h.append(P.provenance_html(info))
    h.extend(f'<p class="note crs">{_E(t)}</p>' for t in crs_notes(res))
    h.append('<div class="cover-row"><div class="summary"><h2>汇总 / Summary</h2><table><tr><th>结论 Verdict</th>'
             "<th>场址数 Sites</th></tr>")
    for v in VERDICTS:
        h.append(f"<tr><td>{_badge(v)}</td><td>{int(counts.get(v, 0))}</td></tr>")
    h.append(f"<tr><th>合计 Total</th><th>{len(res)}</th></tr></table>")
    h.append(P.unchecked_html(info.levels, roles=roles) + "</div>")
    garr = np.asarray(geoms_all, dtype=object)
    keep = (site_verdicts != "outside_jixi") & ~shapely.is_missing(garr)
    if keep.any():  # one vectorised pass: a big report has 10⁵ sites
        overview = garr[keep]
        h.append('<div class="overview"><h2>位置总图 / Overview map</h2>'
                 + _svg_snippet(overview, zp, size=300, crs_label="CGCS2000 3°GK CM132°E (EPSG:4553)",
                                date=checked_at[:10]) + "</div>")
    h.append("</div>")
    if lines is not None and land is not None:
        h.append(RC.cover_totals_html(lines, land, synthetic=synthetic))
    h.append(RC.layer_sources_html(infos))
    if stamp is not None:
        h.append(f'<p class="stamp">管控区数据校验和 zones sha256 {_E(str(stamp["zones_sha256"])[:16])}… · '
                 f'检查时间 checked {_E(checked_at)}</p>')
    h.append("</section>")
    if big:
        h.append(_per_zone_table(res))

    shown = res
    h.append('<section class="table-page">')
    shown_sorted = None
    if len(res) > max_rows:
        shown_sorted = res.sort_values(["_rank"], kind="stable")
        shown = shown_sorted.head(max_rows)
        h.append(f'<h2>最严重的 {max_rows} 个场址 / The {max_rows} most severe sites</h2><p class="note">共 {len(res)} '
                 f"个场址，表中仅列出最严重的 {max_rows} 个；全部结果见 {_E(data_file)}。"
                 f"/ Of {len(res)} sites, the table "
                 f"lists the {max_rows} most severe; {_E(data_file)} holds every result.</p>")
    else:
        h.append("<h2>全部场址 / All sites</h2>")
    h.append("<table><tr><th>编号 ID</th><th>名称 Name</th><th>活动 Activity</th>"
             "<th>结论 Verdict</th><th>管控级别 Level</th><th>涉及管控区 Zones</th><th>重叠 Overlap</th>"
             "<th>距离 Distance (m)</th><th>位置精度 Location</th></tr>")
    has_lp = "location_precision" in res.columns
    for rec in shown.itertuples():
        ov = (_fmt(rec.overlap_ha, 2, " ha") if not pd.isna(rec.overlap_ha)
              else _fmt(rec.overlap_m, 0, " m") if not pd.isna(rec.overlap_m) else "—")
        nm = _E(str(getattr(rec, name_col))) if name_col else ""
        h.append(f"<tr><td>{_E(str(rec.site_id))}</td><td>{nm}</td><td>{_E(_activity(rec.activity))}</td>"
                 f"<td>{_result_badge(rec.verdict, rec.control_level)}</td><td>{_level(rec.control_level)}</td>"
                 f"<td>{_E(str(rec.zones_hit))}</td><td>{ov} ({rec.overlap_pct:.1f}%)</td>"
                 f"<td>{_fmt(rec.distance_m, 0)}</td>"
                 f"<td>{_E(location_label(rec.location_precision if has_lp else None))}</td></tr>")
    h.append("</table></section>")

    h.append('<h2 class="sites-title">逐个场址 / Site by site</h2><p class="legend">'
             + "".join(f'<span style="color:{c}">■</span><span>{_E(n)}</span>' for n, c in
                       [(vocab.display("control_level", lv), c) for lv, c in LEVEL_COLOURS.items()])
             + "</p>")
    ordered = shown_sorted if shown_sorted is not None else res.sort_values(["_rank"], kind="stable")
    ordered = ordered[ordered["_rank"] != VERDICTS.index("outside_jixi")].head(max_sections)
    pos = res.index.get_indexer(ordered.index)
    geoms = geoms_all[pos]
    if overlaps is None:
        overlaps = _overlaps(ordered, None if bundled else zones)
    ov_by_site = _records_by(overlaps, overlaps["site_id"].astype(str)) if len(overlaps) else {}
    prox = proximity(gpd.GeoSeries(geoms, crs=ANALYSIS_CRS), zp)
    prox_by = _records_by(prox, prox["site"]) if len(prox) else {}
    unchecked = P.unchecked_html(info.levels, roles=roles)
    lines_by = {str(k): g for k, g in lines.groupby("site_id", sort=False)} if lines is not None else {}
    land_by = {str(k): g for k, g in land.groupby("site_id", sort=False)} if land is not None and len(land) else {}
    crs_label = "CGCS2000 3°GK CM132°E (EPSG:4553)"
    for k, ((_, rec), g) in enumerate(zip(ordered.iterrows(), geoms, strict=True)):
        sid = str(rec["site_id"])
        nm = _E(str(rec[name_col])) if name_col else ""
        verdict = str(rec["verdict"])
        h.append(f'<div class="site" id="site-{_E(sid)}"><div class="site-head"><h3>场址 Site {_E(sid)} {nm}</h3>'
                 f'<span class="count">{k + 1} / {len(ordered)}</span></div><div class="site-body">'
                 f'{_svg_snippet(g, zp, crs_label=crs_label, date=checked_at[:10])}<div class="facts">'
                 f"<p>{_result_badge(verdict, rec['control_level'])}</p><table>"
                 f"<tr><th>位置精度 Location</th><td>{_E(location_label(rec.get('location_precision')))}</td></tr>"
                 f"<tr><th>活动 Activity</th><td>{_E(_activity(rec['activity']))}</td></tr>"
                 f"<tr><th>场址面积 Area</th><td>{P.fmt_site_area(g)}</td></tr>"
                 f"<tr><th>涉及管控区 Zones</th><td>{_E(str(rec['zones_hit'])) or '—'}</td></tr>"
                 f"<tr><th>重叠面积 Overlap</th><td>{_fmt(rec['overlap_ha'], 2, ' ha')} / "
                 f"{_fmt(rec['overlap_m'], 0, ' m')} ({rec['overlap_pct']:.1f}%)</td></tr>"
                 f"<tr><th>最近管控区 Nearest zone</th><td>{_E(str(rec['nearest_zone']))} "
                 f"({_fmt(rec['distance_m'], 0, ' m')})</td></tr>"
                 f"<tr><th>规则 Rule</th><td>{_E(str(rec['rule_id']))}: {_E(str(rec['rule_zh']))}<br>"
                 f"{_E(str(rec['rule']))}</td></tr>"
                 f"<tr><th>依据 Basis</th><td>{_E(str(rec['basis'])) or '—'}</td></tr>"
                 + (f"<tr><th>备注 Notes</th><td>{_E(str(rec['note']))}</td></tr>" if str(rec.get("note", "")) else "")
                 + "</table></div></div>"
                 + f'<p class="reasons"><b>说明 Reasons</b> {_E(str(rec["reasons"]))}</p>'
                 + "<h4>压占分析 Overlap analysis</h4>"
                 + (P.overlap_table_html(ov_by_site.get(sid, [])) if "unavailable" not in overlaps.attrs
                    else f'<p class="note">压占表无法计算 / No overlap table: {_E(overlaps.attrs["unavailable"])}</p>')
                 + (RC.lines_table_html(lines_by[sid], synthetic=synthetic) if sid in lines_by else "")
                 + (RC.land_table_html(land_by[sid], synthetic=synthetic, has_detail=occupation is not None)
                    if sid in land_by else "")
                 + "<h4>周边管控区 Zones within 1 / 5 / 10 km</h4>"
                 + P.proximity_table_html(prox_by.get(k, []))
                 + P.points_table_html(g, rec.geometry)
                 + (unchecked if verdict in ("clear", "attention") else "")
                 + f'<p class="end">场址 {_E(sid)} 完 / end of site {_E(sid)}</p></div>')
    if int((site_verdicts != "outside_jixi").sum()) > max_sections:
        h.append(f"<p>仅列出最严重的 {max_sections} 个场址；完整结果见 {_E(data_file)}。/ Only the {max_sections} "
                 f"most severe sites are shown; {_E(data_file)} has them all.</p>")
    h.append('<section class="closing">' + P.sources_html(info))
    if companions:
        h.append('<h2>同批文件 / Files of this run</h2><p class="stamp">本报告与下列文件一同写出（SHA-256）。 '
                 "This report was written together with these files (SHA-256):</p><ul class=\"stamp\">"
                 + "".join(f"<li>{_E(n)}: <code>{_E(d)}</code></li>" for n, d in companions.items()) + "</ul>")
    h.append("</section></body></html>")
    return "\n".join(h)


def _per_zone_table(res: pd.DataFrame) -> str:
    """Sites per zone hit and verdict (for big reports): one row per zone.

    Counted per distinct (zones hit, verdict) pair first (a few dozen for 10⁵ sites), then
    each combination of zones split once."""
    zones_hit, verdict = _texts(res["zones_hit"]), _texts(res["verdict"])
    hit = zones_hit != ""
    if not hit.any():
        return ""
    combos = pd.DataFrame({"zones": zones_hit[hit], "verdict": verdict[hit]}).value_counts().reset_index(name="n")
    pairs = combos.assign(zone=combos["zones"].str.split("; ")).explode("zone")
    counts = pairs.pivot_table(index="zone", columns="verdict", values="n", aggfunc="sum", fill_value=0)
    counts = counts.reindex(columns=[v for v in VERDICTS if v in counts.columns])
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    h = ["<h2>按管控区汇总 / Sites per zone</h2><table><tr><th>管控区 Zone</th>"
         + "".join(f"<th>{_badge(v)}</th>" for v in counts.columns) + "</tr>"]
    for zone, row in counts.iterrows():
        h.append(f"<tr><td>{_E(str(zone))}</td>" + "".join(f"<td>{int(n)}</td>" for n in row) + "</tr>")
    return "".join(h) + "</table>"


def write_report(results: gpd.GeoDataFrame, out_dir, *, zones: gpd.GeoDataFrame | None = None,
                 stem: str = "results", html_name: str = "report.html", project: str | None = None,
                 applicant: str | None = None, source=None, zones_source=None, pdf: bool = False,
                 xlsx: bool = False, controls=None, occupation: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write ``results.csv`` (UTF-8 with BOM, for Excel), ``results.geojson`` and ``report.html``.

    The three files are written as one set: they appear together or not at all
    (staged in a hidden folder, moved in, then ``<stem>.manifest.json`` written
    last with their SHA-256; see :func:`verify_report`). The report lists the
    SHA-256 of the CSV and GeoJSON written with it. Text cells of the CSV that
    Excel would run as formulas are neutralised (see
    :func:`jixi_geo._csvout.write_csv_excel`); the GeoJSON keeps the raw values.

    For more than :data:`BIG_REPORT_SITES` sites the data go to ``<stem>.parquet``
    (GeoParquet, every site and column; EPSG:4490) instead of CSV and GeoJSON, which
    would be hundreds of megabytes, and the HTML page summarises (counts, sites per
    zone, the :data:`MAX_TABLE_ROWS` most severe sites); the two are written as one
    set too.

    Parameters
    ----------
    results : GeoDataFrame
        Output of :func:`jixi_geo.check_sites`.
    out_dir : path
        Output folder (created if missing; other files in it are left alone).
    zones : GeoDataFrame, optional
        The zones checked against, for the report's map snippets.
    stem, html_name : str
        Names of the CSV/GeoJSON (``<stem>.csv``) and of the HTML page.
    project, applicant : str, optional
        项目名称 and 申请单位 for the report's header.
    source : path, optional
        The input file of the sites (name and SHA-256 in the header).
    zones_source : path, optional
        The file ``zones`` were read from (``--zones``), named with its SHA-256 as their provenance.
    pdf : bool
        Also print ``report.pdf`` (A4, one site per page) through headless Chromium;
        an :class:`~jixi_geo.errors.InputError` says so when no Chromium is installed.
    xlsx : bool
        Also write ``<stem>.xlsx``: the results and the 压占 table (one row per site and zone),
        with text cells neutralised as in the CSV; for a check with control layers also the
        三线压占 sheet (one row per site × line) and the 地类 sheet (site × land class).
    controls : Controls or list of dict, optional
        The control layers of a check with ``controls=``: passed explicitly because pandas may drop
        ``results.attrs["controls"]`` (the default). A :class:`~jixi_geo.controls.Controls` (as
        :func:`~jixi_geo.controls.load_controls` returns it) also lets the report itemise every land
        class (``check_sites_detail(..., controls=...)``); a list of dicts gives the sources only.
    occupation : DataFrame, optional
        The ``relation == "occupies"`` rows of ``check_sites_detail(..., controls=...)`` when already
        computed (else computed from a :class:`~jixi_geo.controls.Controls` given as ``controls``).

    Returns
    -------
    dict of str to pathlib.Path
        The paths by kind (csv, geojson or parquet, html).

    Raises
    ------
    OutputError
        If ``out_dir`` is a file, lies below a file, or cannot be written.
    """
    from ._csvout import write_csv_excel

    out = Path(out_dir)
    if len(results) > BIG_REPORT_SITES:
        names = {"parquet": f"{stem}.parquet", "html": html_name}

        def write_parquet(path: Path) -> None:
            results.to_parquet(path)  # text columns stay dictionary-encoded (categorical): small and fast

        def write_big_html(path: Path) -> None:
            companions = {names["parquet"]: file_sha256(path.parent / names["parquet"])}
            path.write_text(report_html(results, zones=zones, data_file=names["parquet"], companions=companions,
                                        project=project, applicant=applicant, source=source,
                                        zones_source=zones_source, controls=controls), encoding="utf-8")

        written = write_set(out, {names["parquet"]: write_parquet, names["html"]: write_big_html},
                            set_name=stem, meta={"kind": "jixi_geo compliance report", "jixi_geo": _version()})
        paths = {k: written[n] for k, n in names.items()}
        for k, p in paths.items():
            log.info("wrote %s %s", k, p)
        return paths
    from ._report_pdf import html_to_pdf, require_chromium

    browser = require_chromium() if pdf else None  # before any work
    from . import _report_controls as RC

    if occupation is None and getattr(controls, "layers", None) is not None and "eco_verdict" in results.columns:
        occupation = RC.occupation(results, zones=zones, controls=controls)
    opts = {"project": project, "applicant": applicant, "source": source, "zones_source": zones_source,
            "controls": controls, "occupation": occupation}
    names = {"csv": f"{stem}.csv", "geojson": f"{stem}.geojson", "html": html_name}
    overlaps = _overlaps(results, zones)
    plain = results.copy()
    for c in plain.columns:
        if isinstance(plain[c].dtype, pd.CategoricalDtype):
            plain[c] = plain[c].astype(str)

    def write_geojson(path: Path) -> None:
        with atomic_path(path) as tmp:
            plain.to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON", engine="pyogrio")

    def write_html(path: Path) -> None:
        companions = {names[k]: file_sha256(path.parent / names[k]) for k in ("csv", "geojson", "xlsx") if k in names}
        path.write_text(report_html(results, zones=zones, data_file=names["csv"], companions=companions,
                                    overlaps=overlaps, **opts), encoding="utf-8")

    writers = {names["csv"]: lambda p: write_csv_excel(plain, p), names["geojson"]: write_geojson}
    if xlsx:
        from ._report_xlsx import write_xlsx

        names["xlsx"] = f"{stem}.xlsx"
        sheets = {}
        if "eco_verdict" in results.columns:
            infos = RC.layer_infos(results, controls)
            sheets = RC.xlsx_sheets(results, RC.given_roles(results, infos), occupation,
                                    synthetic=RC.is_synthetic(results, infos))
        writers[names["xlsx"]] = lambda p: write_xlsx(p, plain, overlaps, extra=sheets)
    writers[names["html"]] = write_html
    if pdf:
        names["pdf"] = Path(html_name).with_suffix(".pdf").name
        writers[names["pdf"]] = lambda p: html_to_pdf(p.parent / names["html"], p, browser=browser)
    written = write_set(out, writers,
                        set_name=stem, meta={"kind": "jixi_geo compliance report", "jixi_geo": _version()})
    paths = {k: written[n] for k, n in names.items()}
    for k, p in paths.items():
        log.info("wrote %s %s", k, p)
    return paths


def verify_report(out_dir, *, stem: str = "results") -> dict:
    """Check that ``out_dir`` holds one whole set written by :func:`write_report`.

    Returns
    -------
    dict
        The manifest (file name → SHA-256 under ``files``, time, version).

    Raises
    ------
    InputError
        If ``<stem>.manifest.json`` is missing (a run was interrupted, or is
        replacing the set right now) or a file differs from it.
    """
    return verify_set(out_dir, stem)


def _version() -> str:
    from . import __version__

    return __version__
