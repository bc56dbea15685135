"""The compliance report files: content, escaping, self-containment, Excel-friendly CSV."""

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, box

from jixi_geo.redline import check_sites
from jixi_geo.report import report_html, write_report

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def results():
    s = gpd.GeoDataFrame({"site_id": ["w1", "x2", "c3"], "name_zh": ["兴凯湖风电", XSS, "城北住宅"],
                          "activity": ["wind_farm", "other", "housing"]},
                         geometry=[box(132.44, 45.42, 132.46, 45.44), Point(131.05, 45.45), Point(131.02, 45.42)],
                         crs="EPSG:4490")
    return check_sites(s)


def test_html_escapes_input_text_and_lists_every_site(results):
    page = report_html(results)
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for sid in results["site_id"]:
        assert f'id="site-{sid}"' in page
    counts = results["verdict"].astype(str).value_counts()
    for v, n in counts.items():
        assert re.search(rf"/ {v}\b.*?</td><td>{n}</td>", page), v
    assert "示意性模型" in page and "schematic" in page


def test_html_is_self_contained(results):
    page = report_html(results)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    assert page.count("<svg") == len(results) - (results["verdict"] == "outside_jixi").sum()


def test_files_are_readable_in_excel_and_gis(results, tmp_path):
    paths = write_report(results, tmp_path)
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    back = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert list(back["site_id"]) == ["w1", "x2", "c3"] and back["name_zh"].iloc[0] == "兴凯湖风电"
    gj = gpd.read_file(paths["geojson"])
    assert list(gj["verdict"]) == list(results["verdict"].astype(str))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "results.csv", "results.geojson"]


# what write_report serialises each file with, and where in the call the destination is
WRITERS = {"csv": (pd.DataFrame, "to_csv", lambda obj, args: args[0]),
           "geojson": (gpd.GeoDataFrame, "to_file", lambda obj, args: args[0]),
           "html": (Path, "write_text", lambda obj, args: obj)}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_write_that_dies_half_way_leaves_the_previous_file_intact(results, tmp_path, monkeypatch, kind):
    """Atomic writes: the serialiser writes its file, cuts it in half and dies (a full disk, a
    kill); the file of the previous run must survive unchanged, with no temporary file left."""
    old = write_report(results, tmp_path)
    before = old[kind].read_bytes()
    owner, name, target_of = WRITERS[kind]
    real, died = getattr(owner, name), []

    def dies_half_way(obj, *args, **kw):
        real(obj, *args, **kw)
        target = Path(target_of(obj, args))
        target.write_bytes(target.read_bytes()[: len(before) // 2])  # bypasses the patched write_text
        died.append(target)
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(owner, name, dies_half_way)
    with pytest.raises(Exception):
        write_report(results, tmp_path)
    monkeypatch.undo()
    assert died, f"write_report no longer writes its {kind} with {owner.__name__}.{name}: update WRITERS"
    assert old[kind].read_bytes() == before, f"the previous {old[kind].name} was overwritten in place"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "results.csv", "results.geojson"]


def test_numbers_are_shown_and_missing_ones_are_a_dash(results):
    page = report_html(results)
    w1 = results.set_index("site_id").loc["w1"]
    assert w1["overlap_ha"] > 1
    assert f"<td>{w1['overlap_ha']:,.2f} ha ({w1['overlap_pct']:.1f}%)</td>" in page
    assert "<td>— (0.0%)</td>" in page  # a point outside every zone: no overlap area or length
    assert "<td>— / — (0.0%)</td>" in page  # the same in its own section (area / length)
    assert not re.search(r"\bnan\b", page, re.I)
    assert "<td>自然保护区 nature reserve</td>" in page and "<td>nature_reserve</td>" not in page
    assert "<td>None</td>" not in page  # a site in no zone has an empty level cell


def test_the_report_draws_the_zones_checked_against(tmp_path):
    """Official zones given to check_sites and write_report are the ones in the map snippets,
    and write_report creates a nested output folder."""
    s = gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[Point(131.30, 45.30)], crs="EPSG:4490")
    own = gpd.GeoDataFrame({"id": ["own-1"], "name_zh": ["用户红线区"], "name_en": ["user zone"],
                            "control_level": ["ecological_redline"]},
                           geometry=[box(131.29, 45.29, 131.31, 45.31)], crs="EPSG:4490")
    res = check_sites(s, zones=own, activity="industry")
    paths = write_report(res, tmp_path / "new" / "folder", zones=own)
    page = paths["html"].read_text(encoding="utf-8")
    assert "<title>用户红线区</title>" in page
    assert "<title>" not in report_html(res, zones=own.iloc[:0]).split("<svg", 1)[1]
