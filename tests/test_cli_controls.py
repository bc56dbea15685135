"""``jixi-geo check`` with control layers (issue 18): options, their meaning, exit 3, summary lines.

The option names and role labels come from ``layers/rules/control_roles.csv``. The mapping from
options to ``controls=`` is tested directly; the wiring through the CLI with stand-ins for the
loader and the check; and end to end (real layers through ``load_controls`` and ``check_sites``)
once those accept control layers (skipped before: the lead unskips it at merge).
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from shapely import box

import jixi_geo as jg
from jixi_geo import cli
from jixi_geo.cli import controls_argument, load_cli_controls, main
from jixi_geo.controls import ControlLayer, Controls
from jixi_geo.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
X, Y = 520_000.0, 5_030_000.0  # EPSG:4553, inside Jixi


def _roles() -> list[dict]:
    with open(ROOT / "layers" / "rules" / "control_roles.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _run(args):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def _layer(role, geoms, **cols):
    gdf = gpd.GeoDataFrame({"control_id": [f"{role}-{i}" for i in range(len(geoms))], "name": "",
                            "level": "", **cols}, geometry=geoms, crs="EPSG:4553").to_crs("EPSG:4490")
    return ControlLayer(role=role, gdf=gdf, source=f"{role}.gpkg", sha256="0" * 64)


# ---------------------------------------------------------------- the meaning of the options

def test_every_role_has_its_option_in_help():
    r = CliRunner().invoke(main, ["check", "--help"])
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    for row in _roles():
        assert f"{row['cli_option']} PATH" in text and row["name_zh"] in text
    assert "--controls PATH" in text and "--landcover-layer" in text and "--sample-controls" in text
    assert "override its entries for their role" in text


def test_explicit_options_map_role_to_path():
    base, over = controls_argument({"permanent_farmland": Path("f.gpkg"), "urban_boundary": None,
                                    "water_source": "w.shp", "landcover": None})
    assert base is None and over == {"permanent_farmland": Path("f.gpkg"), "water_source": Path("w.shp")}


def test_toml_alone_and_with_overrides():
    assert controls_argument({"landcover": None}, toml="office/controls.toml") == (Path("office/controls.toml"), {})
    base, over = controls_argument({"landcover": Path("new.gdb")}, toml=Path("c.toml"))
    assert base == Path("c.toml") and over == {"landcover": Path("new.gdb")}


def test_sample_and_nothing():
    assert controls_argument({}, sample=True) == ("sample", {})
    assert controls_argument({r["role"]: None for r in _roles()}) == (None, {})


def test_toml_and_sample_together_are_refused():
    with pytest.raises(InputError, match="^--controls 与 --sample-controls"):
        controls_argument({}, toml="c.toml", sample=True)


def test_unknown_role_is_refused():
    with pytest.raises(InputError, match="未知的管控角色"):
        controls_argument({"farmland": "x.gpkg"})


def test_explicit_layers_replace_the_tomls_entry_of_their_role(monkeypatch):
    """The toml's entry for a role given explicitly is never read (it may name a missing file)."""
    import sys
    import types

    toml = {"permanent_farmland": {"path": "/office/missing.gpkg", "year": "2023"},
            "urban_boundary": {"path": "/office/urban.shp", "year": "2022"}}
    fake_config = types.ModuleType("jixi_geo.controls.config")
    fake_config.read_controls_toml = lambda path: toml if Path(path) == Path("c.toml") else {}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jixi_geo.controls.config", fake_config)
    calls = []
    loaded = Controls({"permanent_farmland": _layer("permanent_farmland", [box(0, 0, 1, 1)])})

    def fake(controls, *, landcover_layer=None):
        calls.append((controls, landcover_layer))
        return loaded

    monkeypatch.setattr(jg.controls, "load_controls", fake)
    got = load_cli_controls(Path("c.toml"), {"permanent_farmland": Path("mine.gpkg")}, landcover_layer="DLTB")
    assert got is loaded
    assert calls == [({"urban_boundary": {"path": "/office/urban.shp", "year": "2022"},
                       "permanent_farmland": "mine.gpkg"}, "DLTB")]
    calls.clear()
    load_cli_controls(Path("c.toml"), {})  # the toml alone goes to load_controls as it is
    assert calls == [(Path("c.toml"), None)]
    assert load_cli_controls(None, {}) is None


def test_sample_layers_are_replaced_by_explicit_ones(monkeypatch):
    sample = Controls({"permanent_farmland": _layer("permanent_farmland", [box(0, 0, 1, 1)]),
                       "landcover": _layer("landcover", [box(0, 0, 1, 1)])})
    mine = _layer("permanent_farmland", [box(0, 0, 2, 2)])
    monkeypatch.setattr(jg.controls, "sample_controls", lambda: sample, raising=False)
    monkeypatch.setattr(jg.controls, "load_controls",
                        lambda c, *, landcover_layer=None: Controls({"permanent_farmland": mine}))
    got = load_cli_controls("sample", {"permanent_farmland": Path("mine.gpkg")})
    assert got["permanent_farmland"] is mine and got["landcover"] is sample["landcover"]


# ---------------------------------------------------------------------- exit 3, Chinese first

@pytest.fixture
def site_file(tmp_path):
    path = tmp_path / "sites.gpkg"
    gpd.GeoDataFrame({"site_id": ["S1"], "activity": ["housing"]}, geometry=[box(X - 500, Y - 500, X + 500, Y + 500)],
                     crs="EPSG:4553").to_file(path)
    return path


@pytest.mark.parametrize("args, start", [
    (["--landcover-layer", "DLTB"], "--landcover-layer 需要"),
    (["--controls", "c.toml", "--sample-controls"], "--controls 与 --sample-controls"),
])
def test_bad_control_options_exit_3_chinese_first(site_file, tmp_path, args, start):
    r = _run([site_file, *args, "--out", tmp_path / "out"])
    assert r.exit_code == 3, r.output
    assert r.output.startswith(f"error: {start}")
    assert not (tmp_path / "out").exists()  # refused before any work


def test_missing_control_file_exits_3(site_file, tmp_path):
    r = _run([site_file, "--farmland", tmp_path / "缺失.gpkg", "--out", tmp_path / "out"])
    assert r.exit_code == 3, r.output
    msg = r.output.removeprefix("error: ")
    assert "\u4e00" <= msg[0] <= "\u9fff" or "缺失.gpkg" in msg.split("/")[0]  # Chinese first
    assert "缺失.gpkg" in msg


# ------------------------------------------------------------ the wiring, with stand-ins

def test_cli_passes_the_loaded_layers_and_prints_one_line_per_control_line(site_file, tmp_path, monkeypatch):
    farm = _layer("permanent_farmland", [box(X - 1000, Y - 1000, X, Y + 1000)])
    loaded = Controls({"permanent_farmland": farm})
    monkeypatch.setattr(jg.controls, "load_controls", lambda c, *, landcover_layer=None: loaded)
    seen = {}
    real = jg.redline.check_sites

    def fake_check(sites, **kw):
        seen.update(kw)
        kw.pop("controls")
        res = real(sites, **kw)
        res["eco_verdict"] = res["verdict"].astype(str)
        res["farmland_verdict"], res["farmland_relation"], res["farmland_ha"] = "prohibited", "partly", 50.0
        res["farmland_pct"], res["farmland_level"], res["farmland_rule_id"] = 50.0, "", "PF-1"
        res["verdict"] = "prohibited"
        res["controls_synthetic"] = False
        return res

    monkeypatch.setattr(jg.redline, "check_sites", fake_check)
    real_detail = jg.redline.check_sites_detail
    monkeypatch.setattr(jg.redline, "check_sites_detail",
                        lambda *a, **k: pd.DataFrame({"relation": pd.Series([], dtype=str)}) if "controls" in k
                        else real_detail(*a, **k))
    r = _run([site_file, "--farmland", tmp_path / "f.gpkg", "--out", tmp_path / "out"])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), repr(r.exception)
    assert seen["controls"].roles == ("permanent_farmland",) and seen["controls"]["permanent_farmland"] is farm
    lines = r.output.splitlines()
    assert lines[0] == "禁止 prohibited=1"
    assert "永久基本农田 farmland: 禁止 prohibited=1" in lines
    assert any(line.startswith("生态保护红线 eco: ") for line in lines)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<table class="lines">' in page and "farmland.gpkg".replace("farmland", "permanent_farmland") in page
    assert "合成示例" not in page


def test_big_output_carries_the_control_lines(site_file, tmp_path):
    """--out NAME.parquet with a control layer: the streamed parts hold the per-line verdict and area."""
    farm = tmp_path / "永久基本农田.gpkg"
    gpd.GeoDataFrame({"name": ["基本农田"]}, geometry=[box(X - 2000, Y - 2000, X, Y + 2000)],
                     crs="EPSG:4553").to_file(farm)
    out = tmp_path / "r.parquet"
    r = _run([site_file, "--farmland", farm, "--out", out])
    assert r.exit_code in (0, 1), r.output
    res = jg.read_results(out)
    assert res["farmland_relation"].astype(str).tolist() == ["partly"]
    assert float(res["farmland_ha"].iloc[0]) == pytest.approx(_geod_ha(box(X - 500, Y - 500, X, Y + 500)), rel=1e-4)
    assert str(res["farmland_verdict"].iloc[0]) != "clear"


def _geod_ha(geom_4553) -> float:
    ll = gpd.GeoSeries([geom_4553], crs="EPSG:4553").to_crs("EPSG:4490").iloc[0]
    return abs(Geod(ellps="GRS80").geometry_area_perimeter(ll)[0]) / 10_000


def test_end_to_end_farmland_half_and_land_classes(site_file, tmp_path):
    """A 1 km square site, its west half on 永久基本农田; land cover 0101 水田 west, 0301 乔木林地 east."""
    west, east = box(X - 500, Y - 500, X, Y + 500), box(X, Y - 500, X + 500, Y + 500)
    farm = tmp_path / "永久基本农田.gpkg"
    gpd.GeoDataFrame({"name": ["基本农田"]}, geometry=[box(X - 2000, Y - 2000, X, Y + 2000)],
                     crs="EPSG:4553").to_file(farm)
    lc = tmp_path / "地类图斑.gpkg"
    gpd.GeoDataFrame({"DLBM": ["0101", "0301"], "DLMC": ["水田", "乔木林地"]},
                     geometry=[box(X - 3000, Y - 3000, X, Y + 3000), box(X, Y - 3000, X + 3000, Y + 3000)],
                     crs="EPSG:4553").to_file(lc)
    out = tmp_path / "out"
    r = _run([site_file, "--farmland", farm, "--landcover", lc, "--xlsx", "--out", out])
    assert r.exit_code in (0, 1), r.output
    assert any(line.startswith("永久基本农田 farmland: ") for line in r.output.splitlines())
    res = pd.read_csv(out / "results.csv", encoding="utf-8-sig").iloc[0]
    half = _geod_ha(west)
    assert res["farmland_relation"] == "partly" and res["farmland_ha"] == pytest.approx(half, rel=1e-4)
    assert res["paddy_ha"] == pytest.approx(half, rel=1e-4)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<table class="lines">' in page and '<table class="land">' in page and "永久基本农田.gpkg" in page
    assert f"{_geod_ha(east):,.4f}" in page.split('<table class="land">', 1)[1]  # the forest half, itemised
    import openpyxl

    wb = openpyxl.load_workbook(out / "results.xlsx")
    from jixi_geo._report_controls import LAND_SHEET, LINES_SHEET

    assert {LINES_SHEET, LAND_SHEET} <= set(wb.sheetnames)


def test_sample_controls_are_stamped_synthetic(site_file, tmp_path):
    r = _run([site_file, "--sample-controls", "--out", tmp_path / "out"])
    assert r.exit_code in (0, 1), r.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<p class="synthetic big">合成示例·非真实数据 / synthetic example, not real data</p>' in page
    _ = cli  # the module under test


def test_loader_keyword_is_named_as_its_option():
    msg = "图层不止一个，请用 landcover_layer='DLTB' / several layers: pass landcover_layer='DLTB'"
    assert cli.as_cli_flags(msg) == ("图层不止一个，请用 --landcover-layer DLTB / several layers: pass "
                                     "--landcover-layer DLTB")
