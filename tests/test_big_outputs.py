"""Big inputs end to end: any readable input to --out NAME.parquet / NAME.gpkg, and a report that
summarises (counts, sites per zone, a table of limited length) while the data files hold everything."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

import jixi_geo as jg
from jixi_geo import report as R
from jixi_geo.cli import main
from jixi_geo.batch import plain_results, read_results


def _gdf(n, seed=1):
    rng = np.random.default_rng(seed)
    b = jg.load_layer("boundary").total_bounds
    x, y = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    return gpd.GeoDataFrame({"site_id": [f"b{i:04d}" for i in range(n)]}, geometry=shapely.points(x, y),
                            crs="EPSG:4490")


@pytest.fixture
def small_big(monkeypatch):
    """'Big' from 60 sites, so the summarised report is tested on a small input."""
    monkeypatch.setattr(R, "BIG_REPORT_SITES", 60)
    monkeypatch.setattr(R, "MAX_TABLE_ROWS", 25)
    monkeypatch.setattr(R, "BIG_SITE_SECTIONS", 3)


def test_big_report_summarises_and_the_parquet_holds_every_site(tmp_path, small_big):
    g = _gdf(300, seed=4)
    res = jg.check_sites(g, activity="wind_farm")
    paths = jg.write_report(res, tmp_path / "out")
    assert set(paths) == {"parquet", "html"}
    assert not (tmp_path / "out" / "results.csv").exists() and not (tmp_path / "out" / "results.geojson").exists()
    back = gpd.read_parquet(paths["parquet"])
    pd.testing.assert_frame_equal(pd.DataFrame(plain_results(back)).drop(columns="geometry"),
                                  pd.DataFrame(plain_results(res)).drop(columns="geometry"), check_dtype=False)
    assert back.crs.to_epsg() == 4490
    page = paths["html"].read_text(encoding="utf-8")
    # the verdict counts are the real ones
    counts = res["verdict"].astype(str).value_counts()
    for v, n in counts.items():
        zh, en = jg.rules.VERDICT_NAMES[v]
        assert re.search(rf"{re.escape(zh)} {re.escape(en)}</span></td><td>{n}</td>", page), v
    # the table lists 25 sites, the most severe first, and names the file holding all
    table = page.split("most severe sites</h2>")[1].split("</table>")[0]
    listed = re.findall(r"<tr><td>(b\d{4})</td>", table)
    assert len(listed) == 25
    rank = {v: i for i, v in enumerate(jg.rules.VERDICTS)}
    ranks = res.set_index("site_id").loc[listed, "verdict"].astype(str).map(rank).tolist()
    assert ranks == sorted(ranks) and ranks[-1] <= sorted(res["verdict"].astype(str).map(rank))[24]
    assert "results.parquet holds every result" in page
    assert page.count('<div class="site"') == 3
    # sites per zone: the count of each zone equals the sites whose zones_hit name it
    per_zone = page.split("Sites per zone</h2>")[1].split("</table>")[0]
    hit = res[res["zones_hit"].astype(str) != ""]
    top_zone = hit["zones_hit"].astype(str).str.split("; ").explode().value_counts()
    row = re.search(rf"<tr><td>{re.escape(top_zone.index[0])}</td>((?:<td>\d+</td>)+)</tr>", per_zone)
    assert sum(int(n) for n in re.findall(r"\d+", row.group(1))) == top_zone.iloc[0]


def test_small_report_is_unchanged_in_kind(tmp_path, small_big):
    res = jg.check_sites(_gdf(40, seed=5), activity="wind_farm")
    paths = jg.write_report(res, tmp_path / "o")
    assert set(paths) == {"csv", "geojson", "html"}
    page = paths["html"].read_text(encoding="utf-8")
    assert "All sites" in page and "Sites per zone" not in page
    assert len(re.findall(r"<tr><td>b\d{4}</td>", page.split("All sites</h2>")[1].split("</table>")[0])) == 40


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".csv"])
@pytest.mark.parametrize("out_kind", ["parquet", "gpkg"])
def test_cli_big_output_takes_any_readable_input(tmp_path, suffix, out_kind):
    g = _gdf(150, seed=6)
    src = tmp_path / f"sites{suffix}"
    if suffix == ".csv":
        pd.DataFrame({"site_id": g["site_id"], "lon": g.geometry.x, "lat": g.geometry.y}).to_csv(src, index=False)
    else:
        g.to_file(src)
    out = tmp_path / f"res.{out_kind}"
    r = CliRunner().invoke(main, ["check", str(src), "--activity", "wind_farm", "--out", str(out)])
    assert r.exit_code == 1, r.output  # some sites are not clear
    got = read_results(out)
    exp = jg.check_sites(g, activity="wind_farm")
    assert list(got["site_id"]) == list(exp["site_id"])
    assert list(got["verdict"].astype(str)) == list(exp["verdict"].astype(str))
    np.testing.assert_allclose(got["distance_m"].to_numpy(float), exp["distance_m"].to_numpy(float), equal_nan=True)
    counts = exp["verdict"].astype(str).value_counts()
    # 中文 label and key, most severe first
    assert "  ".join(f"{jg.rules.VERDICT_NAMES[v][0]} {v}={counts[v]}" for v in jg.rules.VERDICTS
                     if v in counts.index) in r.output
    if out_kind == "gpkg":
        assert out.is_file() and not list(tmp_path.glob(".res.gpkg*"))  # no temporary file left


def test_gpkg_output_replaces_an_old_file_only_when_complete(tmp_path, monkeypatch):
    g = _gdf(120, seed=7)
    src = tmp_path / "s.parquet"
    g.to_parquet(src, row_group_size=40)
    out = tmp_path / "r.gpkg"
    jg.check_file(src, out, chunksize=40, progress=False)
    before = out.read_bytes()
    import jixi_geo.redline as rl

    real, calls = rl.check_sites, []

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*a, **k)

    monkeypatch.setattr(rl, "check_sites", failing)
    with pytest.raises(RuntimeError):
        jg.check_file(src, out, chunksize=40, progress=False, buffer_m=3000)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
