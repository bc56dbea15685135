"""`jixi-geo check`: outputs, exit codes, input files untouched."""

import hashlib

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import Point

from jixi_geo.cli import EXIT_BAD_INPUT, EXIT_NOT_CLEAR, EXIT_OK, main


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def clear_site(tmp_path):
    p = tmp_path / "clear.geojson"
    gpd.GeoDataFrame({"site_id": ["c1"]}, geometry=[Point(131.05, 45.45)], crs="EPSG:4326").to_file(p)
    return p


@pytest.fixture
def mixed_sites(tmp_path):
    p = tmp_path / "sites.csv"
    pd.DataFrame({"编号": ["a", "b"], "经度": [132.45, 131.05], "纬度": [45.43, 45.45],
                  "activity": ["风电", "住宅"]}).to_csv(p, index=False, encoding="gbk")
    return p


def test_clear_sites_exit_0(clear_site, tmp_path):
    r = CliRunner().invoke(main, ["check", str(clear_site), "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_OK == 0, r.output
    assert (tmp_path / "o" / "report.html").exists() and "clear=1" in r.output


def test_not_clear_exit_1_and_input_untouched(mixed_sites, tmp_path):
    before = sha(mixed_sites)
    r = CliRunner().invoke(main, ["check", str(mixed_sites), "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_NOT_CLEAR == 1, r.output
    assert sha(mixed_sites) == before
    res = pd.read_csv(tmp_path / "o" / "results.csv", encoding="utf-8-sig", dtype=str)
    assert list(res["verdict"]) == ["prohibited", "clear"]
    assert list(res["activity"]) == ["wind_farm", "housing"]


def test_gcj02_coordinates_are_converted_and_recorded(tmp_path):
    from jixi_geo.coords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(132.45, 45.43)
    p = tmp_path / "gcj.csv"
    pd.DataFrame({"site_id": ["g"], "lng": [lon], "lat": [lat]}).to_csv(p, index=False)
    r = CliRunner().invoke(main, ["check", str(p), "--coords", "gcj02", "--activity", "wind_farm",
                                  "--out", str(tmp_path / "o")])
    assert r.exit_code == 1, r.output
    res = pd.read_csv(tmp_path / "o" / "results.csv", encoding="utf-8-sig", dtype=str)
    assert res["converted_from"].iloc[0] == "gcj02" and res["verdict"].iloc[0] == "prohibited"


@pytest.mark.parametrize("content,needle", [
    ("x_only\n1\n", "column"),
    ("lon,lat\n45.43,132.45\n", "swapped"),
    ("lon,lat\n500000,5000000\n", "CRS"),
])
def test_bad_input_exit_3_with_a_message(tmp_path, content, needle):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    r = CliRunner().invoke(main, ["check", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_BAD_INPUT == 3, r.output
    assert needle.lower() in r.output.lower()
    assert not (tmp_path / "o").exists()


def test_unknown_activity_is_bad_input(clear_site, tmp_path):
    r = CliRunner().invoke(main, ["check", str(clear_site), "--activity", "spaceport", "--out", str(tmp_path)])
    assert r.exit_code == 3 and "wind_farm" in r.output


def test_parquet_output(mixed_sites, tmp_path):
    out = tmp_path / "res.parquet"
    r = CliRunner().invoke(main, ["check", str(mixed_sites), "--out", str(out)])
    assert r.exit_code == 1, r.output
    from jixi_geo.batch import read_results

    back = read_results(out)
    assert list(back["verdict"].astype(str)) == ["prohibited", "clear"] and back.crs.to_epsg() == 4490


def test_an_assumed_crs_is_said_on_the_console(mixed_sites, tmp_path):
    r = CliRunner().invoke(main, ["check", str(mixed_sites), "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_NOT_CLEAR, r.output
    assert "经纬度按 China Geodetic Coordinate System 2000 (EPSG:4490) 读取" in r.stderr
    assert "文件未注明坐标系" not in r.stdout  # the summary on stdout stays machine-readable
    given = CliRunner().invoke(main, ["check", str(mixed_sites), "--crs", "EPSG:4490", "--out", str(tmp_path / "g")])
    assert given.exit_code == EXIT_NOT_CLEAR and "坐标系" not in given.stderr
    res = pd.read_csv(tmp_path / "g" / "results.csv", encoding="utf-8-sig", dtype=str)
    assert list(res["crs_from"]) == ["given", "given"]


def test_cli_messages_name_flags_not_python_keywords(tmp_path):
    """A CSV of Gauss-Kruger metres without a CRS: the CLI tells the user which flag to add
    (--crs EPSG:4553), not the library keyword (crs='EPSG:4553')."""
    from click.testing import CliRunner

    from jixi_geo.cli import main

    src = tmp_path / "metres.csv"
    src.write_text("site_id,x,y\na,500000,5010000\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["check", str(src), "--out", str(tmp_path / "out")])
    assert r.exit_code == 3, r.output
    assert "--crs EPSG:4553" in r.output and "crs='" not in r.output and "crs=" not in r.output
