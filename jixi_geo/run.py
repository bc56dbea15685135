"""The main job (``make run`` / ``jixi-geo run``): layers, web maps, figures, the
sample registry's compliance check (with the synthetic control lines) and its report, all written to one folder."""

from __future__ import annotations

import logging
import time
from pathlib import Path

__all__ = ["run_all", "open_first"]

log = logging.getLogger(__name__)

PARKS = ("industrial", "chemical", "baoquan")
#: Screening distance of the sample check (metres), drawn on the compliance map.
BUFFER_M = 1000.0


def open_first(written: dict[str, Path]) -> str:
    """The one line that says which output to open first (the report, else the compliance map)."""
    for key, what in (("report_html", "合规检查报告 the compliance report"),
                      ("compliance_map", "合规检查地图 the compliance map"),
                      ("pattern_map", "生态安全格局图 the pattern map")):
        if key in written:
            return f"先打开 Open first: {written[key]}（{what}）"
    return "没有写出文件 Nothing was written."


#: The project line of the registry report's header (the sample registry is not one project).
REGISTRY_PROJECT = ("鸡西市生态文明建设示范区规划重点项目（示例登记表）/ "
                    "Key projects of the Jixi eco-civilisation plan (sample registry)")


def run_all(out_dir="maps", *, build: bool = True, figures: bool = True) -> dict[str, Path]:
    """Build the layers, write the web maps, figures and the sample compliance report.

    Parameters
    ----------
    out_dir : path
        Where the outputs go (created if missing).
    build : bool
        Rebuild the bundled layers first (``jixi-geo build-layers``).
    figures : bool
        Also write the static figures (PNG, SVG; PDF for the pattern map).

    Returns
    -------
    dict
        Output name → path.

    Raises
    ------
    OutputError
        If ``out_dir`` (or a file in it) cannot be written.
    """
    from . import landuse, maps, plot
    from ._io import output_dir
    from .controls import sample_controls
    from .layerbuild import build_layers
    from .layers import load_layer
    from .redline import check_sites
    from .report import write_report
    from .batch import plain_results

    out = output_dir(out_dir)
    written: dict[str, Path] = {}
    t0 = time.perf_counter()
    if build:
        build_layers()
        log.info("layers built in %.1f s", time.perf_counter() - t0)

    written["pattern_map"] = maps.save_map(maps.pattern_map(), out / "pattern.html")
    for park in PARKS:
        written[f"jidong_{park}_map"] = maps.save_map(maps.park_map(park), out / f"jidong_{park}.html")
    written["jidong_map"] = maps.save_map(maps.park_map(), out / "jidong_parks.html")

    registry = load_layer("projects")
    # policy measures (location_precision = not_spatial) have no site: no spatial verdict for them
    policy = registry["location_precision"].astype(str) == "not_spatial"
    if policy.any():
        log.info("left out of the compliance check, not spatial measures: %s", ", ".join(registry.loc[policy, "id"]))
    # the three control lines and land classes on the synthetic sample (合成示例·非真实数据; the report says so)
    controls = sample_controls()
    results = check_sites(registry[~policy], id_column="id", buffer_m=BUFFER_M, controls=controls)
    written["compliance_map"] = maps.save_map(maps.compliance_map(results, buffer_m=BUFFER_M, controls=controls),
                                              out / "compliance.html")
    for kind, p in write_report(results, out, stem="compliance_results", html_name="report.html",
                                controls=controls, project=REGISTRY_PROJECT).items():
        written[f"report_{kind}"] = p

    findings = []
    for park, stage in landuse.published_tables():
        findings.append(landuse.validate(landuse.load_table(park, stage)))
    import pandas as pd

    from ._csvout import write_csv_excel

    written["landuse_findings"] = write_csv_excel(pd.concat(findings, ignore_index=True),
                                                  out / "landuse_findings.csv")

    if figures:
        fig_dir = out / "figures"
        fig = plot.plot_pattern()
        for ext in ("png", "svg", "pdf"):
            written[f"pattern_{ext}"] = plot.save_figure(fig, fig_dir / f"pattern.{ext}")
        for park in ("industrial", "chemical"):
            # the published tables: bars labelled with the rows as printed (H H4 特殊用地, E E1 水域)
            cur = landuse.load_table(park, "current")
            pla = landuse.load_table(park, "planned")
            fig = plot.plot_landuse_shares(cur, pla, title=f"{landuse.PARK_NAMES[park][0]} 用地结构：现状与规划 / "
                                                          f"{landuse.PARK_NAMES[park][1]}: current vs planned")
            for ext in ("png", "svg"):
                written[f"landuse_{park}_{ext}"] = plot.save_figure(fig, fig_dir / f"landuse_{park}.{ext}")
        fig = plot.plot_compliance_summary(plain_results(results))
        for ext in ("png", "svg"):
            written[f"compliance_{ext}"] = plot.save_figure(fig, fig_dir / f"compliance_summary.{ext}")
    log.info("run finished in %.1f s", time.perf_counter() - t0)
    return written
