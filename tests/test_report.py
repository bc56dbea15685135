"""The compliance report files: content, escaping, self-containment, Excel-friendly CSV."""

import re

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


def _verdict_rows():
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "layers" / "rules" / "verdicts.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_html_escapes_input_text_and_lists_every_site(results):
    page = report_html(results)
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for sid in results["site_id"]:
        assert f'id="site-{sid}"' in page
    counts = results["verdict"].astype(str).value_counts()
    names = {r["verdict"]: f'{r["zh"]} {r["en"]}' for r in _verdict_rows()}  # from the data file
    for v, n in counts.items():
        assert re.search(rf"{re.escape(names[v])}</span></td><td>{n}</td>", page), v
    assert "示意性模型" in page and "schematic" in page


def test_html_is_self_contained(results):
    page = report_html(results)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    assert page.count("<svg") == len(results) - (results["verdict"] == "outside_jixi").sum()


def test_files_written_atomically_and_readable(results, tmp_path):
    paths = write_report(results, tmp_path)
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    back = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert list(back["site_id"]) == ["w1", "x2", "c3"] and back["name_zh"].iloc[0] == "兴凯湖风电"
    gj = gpd.read_file(paths["geojson"])
    assert list(gj["verdict"]) == list(results["verdict"].astype(str))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "results.csv", "results.geojson",
                                                          "results.manifest.json"]
