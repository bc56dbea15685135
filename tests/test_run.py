"""The main job writes every output, and each says what it should."""

import re

import pandas as pd
import pytest

from jixi_geo import _fonts
from jixi_geo.errors import JixiGeoError
from jixi_geo.run import run_all


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The main job, run as on a fresh machine: system font discovery disabled, so the
    figures must come from the font package jixi_geo depends on."""
    mp = pytest.MonkeyPatch()
    mp.setattr(_fonts, "_by_family", lambda: None)
    mp.setattr(_fonts, "_by_file", lambda: None)
    _fonts.cjk_font.cache_clear()
    try:
        try:
            _fonts.cjk_font()
        except JixiGeoError as exc:
            pytest.skip(f"no CJK font package installed ({exc})")
        out = tmp_path_factory.mktemp("maps")
        yield out, run_all(out, build=False)
    finally:
        mp.undo()
        _fonts.cjk_font.cache_clear()


def test_every_map_is_self_contained_and_bilingual(outputs):
    out, written = outputs
    for name in ("pattern.html", "jidong_industrial.html", "jidong_chemical.html", "jidong_baoquan.html",
                 "jidong_parks.html", "compliance.html", "report.html"):
        page = (out / name).read_text(encoding="utf-8")
        assert not re.search(r"""<(script|link|img)[^>]+(src|href)\s*=\s*["']https?:""", page), name
        assert re.search(r"[\u4e00-\u9fff]", page) and re.search(r"[A-Za-z]{4,}", page), name
    assert (out / "pattern.html").stat().st_size < 5 * 2**20


def test_registry_report_covers_every_site_and_verdict(outputs):
    out, _ = outputs
    res = pd.read_csv(out / "compliance_results.csv", encoding="utf-8-sig", dtype=str)
    # 42 sites less the 3 policy measures KP-001..003 (location_precision = not_spatial), which get
    # no spatial verdict (issue 16); every other site is labelled illustrative in the results
    assert len(res) == 39 and res["site_id"].is_unique
    assert not res["site_id"].isin(["KP-001", "KP-002", "KP-003"]).any()
    assert (res["location_precision"] == "illustrative").all()
    assert res["reasons"].str.startswith("【示意位置").all()
    assert set(res["verdict"]) == {"prohibited", "restricted", "conditional", "attention", "clear", "outside_jixi"}
    # the hand-made test sites get the red-line verdict they were made for (with the synthetic control
    # lines, `verdict` is the overall one and `eco_verdict` the red line's)
    ts = res[res["site_id"].str.startswith("TS-")]
    from jixi_geo import load_layer

    intent = load_layer("projects").set_index("id")["intent"]
    assert (ts.set_index("site_id")["eco_verdict"] == intent[ts["site_id"]]).all()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("示意位置") >= 2 * len(res)  # the summary table and each site's section


def test_registry_check_uses_the_synthetic_control_lines_and_says_so(outputs):
    """`make run` checks the registry against the synthetic sample of the three control lines and land
    classes; the results and the report carry 合成示例·非真实数据 (issue 18)."""
    out, _ = outputs
    res = pd.read_csv(out / "compliance_results.csv", encoding="utf-8-sig", dtype=str)
    assert set(res["controls_synthetic"].str.lower()) == {"true"}
    for prefix in ("farmland", "urban", "water"):
        assert res[f"{prefix}_verdict"].notna().all(), prefix
    # a known answer from the sample itself: sites placed on the synthetic farmland are not clear on it
    from jixi_geo import load_layer

    farm = load_layer("sample_permanent_farmland", crs="EPSG:4553").union_all()
    sites = load_layer("projects", crs="EPSG:4553").set_index("id").geometry
    on_farm = [i for i in res["site_id"]
               if (sites[i].geom_type == "Point" and farm.contains(sites[i])) or sites[i].intersection(farm).area > 1e3]
    assert on_farm and (res.set_index("site_id").loc[on_farm, "farmland_verdict"] != "clear").all()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "合成示例·非真实数据" in page  # the report marks the synthetic layers (helper C, issue 18)


def test_landuse_findings_and_figures(outputs):
    out, written = outputs
    f = pd.read_csv(out / "landuse_findings.csv", encoding="utf-8-sig", dtype=str)
    assert {"code_duplicate", "total_sum", "category_misfiled"} <= set(f["rule"])
    for key in ("pattern_png", "pattern_svg", "pattern_pdf", "landuse_industrial_png", "compliance_png"):
        assert written[key].stat().st_size > 20_000, key
    # the README's count: 9 figure files (4 figures) and 6 web maps besides the report
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert len(figures) == 9 and len({p.split(".")[0] for p in figures}) == 4, figures
    maps_ = sorted(p.name for p in out.glob("*.html") if p.name != "report.html")
    assert len(maps_) == 6, maps_
    assert written["pattern_pdf"].read_bytes().startswith(b"%PDF")


def test_run_ends_with_the_file_to_open_first(outputs, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from jixi_geo import run as run_module
    from jixi_geo.cli import main

    out, written = outputs
    line = run_module.open_first(written)
    assert line.startswith("先打开 Open first: ") and str(out / "report.html") in line
    # the CLI (what `make run` calls) prints it as its last line
    monkeypatch.setattr(run_module, "run_all", lambda out_dir, build=True: written)
    result = CliRunner().invoke(main, ["run", "--no-build", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip("\n").splitlines()[-1] == line
    # without a report, the compliance map is named
    assert "compliance.html" in run_module.open_first({k: v for k, v in written.items() if k != "report_html"})


def test_compliance_map_draws_the_run_buffer(outputs):
    out, _ = outputs
    from jixi_geo.run import BUFFER_M

    page = (out / "compliance.html").read_text(encoding="utf-8")
    assert f"筛查缓冲区 {BUFFER_M:,.0f} 米" in page and "check_sites 的默认值" not in page
