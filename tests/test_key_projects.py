"""Checks for the key-project table of the Jixi ecological-civilisation plan 2024-2030.

A second, independent reading of the plan's annex (附件 工程内容与投资估算): the table
``layers/tables/key_projects.csv`` was transcribed row by row; these tests count and
locate the projects in the plan text by other means (build periods, the printed
sequence of 序号, the totals of 表1 and the 合计 line) and check the illustrative
sites in ``layers/params/`` against the county boundaries.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "layers" / "sources" / "plans" / "jixi_eco_civilisation_plan_2024_2030.txt"
KEY_PROJECTS = ROOT / "layers" / "tables" / "key_projects.csv"
PROJECT_SITES = ROOT / "layers" / "params" / "project_sites.csv"
TEST_SITES = ROOT / "layers" / "params" / "test_sites.csv"
COUNTIES = ROOT / "layers" / "sources" / "jixi_county_boundaries.geojson"

ACTIVITIES = {
    "patrol_monitoring", "research", "local_livelihood", "farming", "archaeology",
    "forestry_tending", "tourism", "linear_infrastructure", "road", "water_infrastructure",
    "geological_survey", "mining", "ecological_restoration", "border_works", "wind_farm",
    "solar_farm", "industry", "chemical_industry", "sewage_works", "solid_waste", "housing",
    "public_facility", "military", "other", "farmland_improvement",
}
COUNTY_EN = {
    "鸡冠区": "Jiguan District", "恒山区": "Hengshan District", "滴道区": "Didao District",
    "梨树区": "Lishu District", "城子河区": "Chengzihe District", "麻山区": "Mashan District",
    "鸡东县": "Jidong County", "虎林市": "Hulin City", "密山市": "Mishan City",
    "全市": "Jixi city-wide",
}
KP_COLUMNS = [
    "project_id", "table_section", "no_published", "name_zh", "name_en", "content_zh",
    "investment_published", "investment_wan_yuan", "period_published", "county_zh",
    "county_en", "activity", "activity_basis", "source_line",
]
SITE_COLUMNS = [
    "project_id", "geometry_type", "lon", "lat", "size_m", "bearing_deg", "place_basis",
    "location_precision",
]
TEST_SITE_COLUMNS = ["site_id", "name_zh", "name_en", "activity", "geometry_wkt", "intent", "note"]
INTENTS = {"prohibited", "restricted", "conditional", "attention", "clear", "outside_jixi"}
# city-wide projects are drawn in the central district
CITY_WIDE_COUNTY = "鸡冠区"


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def projects() -> list[dict[str, str]]:
    return _read_csv(KEY_PROJECTS)[1]


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    if not SEED.exists():
        pytest.skip(f"plan text not copied yet: {SEED.relative_to(ROOT)}")
    return SEED.read_text(encoding="utf-8").split("\n")


@pytest.fixture(scope="module")
def annex(seed_lines: list[str]) -> list[str]:
    """Lines of the key-project annex: from '附件' to the last '合计' cell."""
    start = max(i for i, line in enumerate(seed_lines) if line.strip() == "附件")
    end = max(i for i, line in enumerate(seed_lines) if line.strip() == "合计")
    assert start < end, "annex markers '附件' / '合计' not found in order"
    return seed_lines[start:end]


@pytest.fixture(scope="module")
def counties():
    if not COUNTIES.exists():
        pytest.skip(f"county boundaries not copied yet: {COUNTIES.relative_to(ROOT)}")
    gpd = pytest.importorskip("geopandas")
    gdf = gpd.read_file(COUNTIES)
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    return dict(zip(gdf["name"], gdf.geometry))


def to_wan_yuan(published: str) -> float | None:
    """Convert an investment cell to 万元. Bare numbers are 万元 (the annex header unit)."""
    text = published.strip().replace(",", "")
    if not text:
        return None
    m = re.fullmatch(r"约?([0-9]+(?:\.[0-9]+)?)\s*(亿元|万元|元)?", text)
    assert m, f"unparseable investment {published!r}"
    factor = {"亿元": 10_000.0, "万元": 1.0, None: 1.0, "元": 1e-4}[m.group(2)]
    return float(m.group(1)) * factor


# --------------------------------------------------------------------- the table itself

def test_columns() -> None:
    cols, rows = _read_csv(KEY_PROJECTS)
    assert cols[: len(KP_COLUMNS)] == KP_COLUMNS
    assert rows, "key_projects.csv is empty"
    for row in rows:
        for col in ("project_id", "table_section", "no_published", "name_zh", "name_en",
                    "content_zh", "period_published", "activity", "activity_basis",
                    "source_line"):
            assert row[col].strip(), f"{row['project_id']}: empty {col}"


def test_project_ids_unique_and_in_document_order(projects) -> None:
    ids = [p["project_id"] for p in projects]
    assert len(ids) == len(set(ids))
    assert ids == [f"KP-{i:03d}" for i in range(1, len(ids) + 1)]
    lines = [int(p["source_line"]) for p in projects]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)


def test_activity_keys_valid(projects) -> None:
    bad = {p["project_id"]: p["activity"] for p in projects if p["activity"] not in ACTIVITIES}
    assert not bad


def test_counties_valid(projects) -> None:
    for p in projects:
        assert p["county_zh"] in COUNTY_EN or p["county_zh"] == "", p
        if p["county_zh"]:
            assert p["county_en"] == COUNTY_EN[p["county_zh"]], p


def test_investment_conversion(projects) -> None:
    assert to_wan_yuan("1.5亿元") == pytest.approx(15_000)
    assert to_wan_yuan("100.41亿元") == pytest.approx(1_004_100)
    assert to_wan_yuan("4078.06") == pytest.approx(4078.06)
    assert to_wan_yuan("2000万元") == pytest.approx(2000)
    for p in projects:
        expected = to_wan_yuan(p["investment_published"])
        if expected is None:
            assert p["investment_wan_yuan"] == "", p["project_id"]
        else:
            assert float(p["investment_wan_yuan"]) == pytest.approx(expected, abs=1e-6), p["project_id"]


# --------------------------------------------------------------- against the plan text

def test_name_on_source_line(projects, seed_lines) -> None:
    for p in projects:
        line = seed_lines[int(p["source_line"]) - 1]
        assert p["name_zh"] in line, f"{p['project_id']}: {p['name_zh']!r} not on line {p['source_line']}"


def test_cells_as_printed(projects, seed_lines) -> None:
    """序号 sits on the line before the name; content, period, investment follow it."""
    for p in projects:
        i = int(p["source_line"]) - 1
        assert seed_lines[i - 1].strip() == p["no_published"], p["project_id"]
        assert seed_lines[i + 1].strip() == p["content_zh"], p["project_id"]
        assert seed_lines[i + 2].strip() == p["period_published"], p["project_id"]
        assert seed_lines[i + 3].strip() == p["investment_published"], p["project_id"]


def test_annex_unit_is_wan_yuan(annex) -> None:
    header = "".join(line.strip() for line in annex[:20])
    assert "估算总投资（万元）" in header


def test_project_count_by_build_periods(projects, annex) -> None:
    """Every project row has exactly one 建设年限 cell such as '2024-2030'."""
    periods = [line for line in annex if re.fullmatch(r"\t20\d\d-20\d\d\s*", line)]
    assert len(periods) == len(projects)


def test_project_count_by_printed_sequence(projects, annex) -> None:
    """Walk the bare-integer cells and follow the printed 序号 1, 2, 3, … as far as it goes."""
    ints = [int(line) for line in (x.strip() for x in annex) if re.fullmatch(r"\d{1,3}", line)]
    expected = 1
    for value in ints:
        if value == expected:
            expected += 1
    assert expected - 1 == len(projects)
    assert [int(p["no_published"]) for p in projects] == list(range(1, len(projects) + 1))


def test_project_count_matches_plan_text(projects, seed_lines) -> None:
    text = "".join(seed_lines)
    m = re.search(r"共计(\d+)项重点工程", text)
    assert m and int(m.group(1)) == len(projects)


def test_totals_match_plan(projects, seed_lines, annex) -> None:
    total = sum(float(p["investment_wan_yuan"] or 0) for p in projects)
    # the 合计 cell that closes the annex
    end = max(i for i, line in enumerate(seed_lines) if line.strip() == "合计")
    assert total == pytest.approx(float(seed_lines[end + 1].strip()), abs=0.005)
    # the running text gives the same total in 亿元
    m = re.search(r"重点工程总投资预算约([0-9.]+亿元)", "".join(seed_lines))
    assert m
    assert total == pytest.approx(to_wan_yuan(m.group(1)), rel=5e-4)


def _table1(seed_lines: list[str]) -> dict[str, tuple[int, float]]:
    """表1 (project overview): section -> (number of projects, investment in 万元)."""
    start = next(i for i, line in enumerate(seed_lines)
                 if line.startswith("表1") and "重点建设工程" in line)
    cells = []
    for line in seed_lines[start + 1:]:
        if line.strip() == "合计":
            break
        if line.startswith("\t"):
            cells.append(line.strip())
    header = cells.index("估算总投资（万元）")
    body = cells[header + 1:]
    out = {}
    for k in range(0, len(body), 5):  # 序号, 类型, 项目数量, 主要内容, 估算总投资
        _, section, count, _, invest = body[k:k + 5]
        out[section] = (int(count), float(invest))
    return out


def test_sections_match_table1(projects, seed_lines) -> None:
    table1 = _table1(seed_lines)
    assert list(table1) == list(dict.fromkeys(p["table_section"] for p in projects))
    for section, (count, invest) in table1.items():
        rows = [p for p in projects if p["table_section"] == section]
        assert len(rows) == count, section
        assert sum(float(p["investment_wan_yuan"]) for p in rows) == pytest.approx(invest, abs=0.005)


# -------------------------------------------------------------------------- the sites

def _site_geometry(row: dict[str, str]):
    from pyproj import CRS, Transformer
    from shapely.geometry import LineString, Point, Polygon

    lon, lat = float(row["lon"]), float(row["lat"])
    kind = row["geometry_type"]
    if kind == "point":
        return Point(lon, lat)
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=GRS80 +units=m")
    to_ll = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    half = float(row["size_m"]) / 2
    if kind == "polygon":  # north-aligned square centred on lon/lat
        corners = [(-half, -half), (half, -half), (half, half), (-half, half)]
        return Polygon([to_ll.transform(x, y) for x, y in corners])
    # line: centred on lon/lat, size_m long, bearing clockwise from north
    b = math.radians(float(row["bearing_deg"]))
    dx, dy = math.sin(b) * half, math.cos(b) * half
    return LineString([to_ll.transform(-dx, -dy), to_ll.transform(dx, dy)])


def test_project_sites_table(projects) -> None:
    cols, sites = _read_csv(PROJECT_SITES)
    assert cols[: len(SITE_COLUMNS)] == SITE_COLUMNS
    assert [s["project_id"] for s in sites] == [p["project_id"] for p in projects]
    for s in sites:
        assert s["geometry_type"] in {"point", "line", "polygon"}, s
        # policy measures (KP-001..003) have no site: not_spatial, left out of the registry check
        expected = "not_spatial" if s["project_id"] in {"KP-001", "KP-002", "KP-003"} else "illustrative"
        assert s["location_precision"] == expected, s
        assert s["place_basis"].strip(), s
        assert 130.3 < float(s["lon"]) < 134.0 and 44.8 < float(s["lat"]) < 46.7, s
        if s["geometry_type"] in {"line", "polygon"}:
            assert float(s["size_m"]) > 0, s
        if s["geometry_type"] == "line":
            assert 0 <= float(s["bearing_deg"]) < 360, s


def test_project_sites_inside_county(projects, counties) -> None:
    county_of = {p["project_id"]: p["county_zh"] for p in projects}
    _, sites = _read_csv(PROJECT_SITES)
    outside = []
    for s in sites:
        county = county_of[s["project_id"]]
        county = county if county and county != "全市" else CITY_WIDE_COUNTY
        if not counties[county].contains(_site_geometry(s)):
            outside.append((s["project_id"], county))
    assert not outside, f"sites not inside their county polygon: {outside}"


def test_footprint_sizes_follow_content(projects) -> None:
    """Where the content states a footprint in 平方米/㎡, the square's side is its root."""
    _, sites = _read_csv(PROJECT_SITES)
    size = {s["project_id"]: s for s in sites}
    for p in projects:
        m = re.search(r"(?:占地面积|规划用地面积|修复总面积为?)([0-9.]+)(?:平方米|㎡)", p["content_zh"])
        if m:
            s = size[p["project_id"]]
            assert s["geometry_type"] == "polygon"
            assert float(s["size_m"]) == pytest.approx(math.sqrt(float(m.group(1))), abs=0.1)
        if p["activity"] == "wind_farm":
            assert size[p["project_id"]]["geometry_type"] == "polygon"


def test_test_sites() -> None:
    from shapely import wkt

    cols, sites = _read_csv(TEST_SITES)
    assert cols[: len(TEST_SITE_COLUMNS)] == TEST_SITE_COLUMNS
    assert 8 <= len(sites) <= 12
    assert [s["site_id"] for s in sites] == [f"TS-{i:02d}" for i in range(1, len(sites) + 1)]
    kinds = []
    for s in sites:
        assert s["activity"] in ACTIVITIES, s
        assert s["intent"] in INTENTS, s
        g = wkt.loads(s["geometry_wkt"])
        assert g.is_valid and not g.is_empty, s
        kinds.append(g.geom_type)
    assert {s["intent"] for s in sites} == INTENTS
    assert kinds.count("Polygon") >= 2 and "LineString" in kinds
    assert any(s["name_zh"] == "<script>alert(1)</script>" for s in sites)


def test_test_sites_inside_or_outside_jixi(counties) -> None:
    from shapely import wkt
    from shapely.ops import unary_union

    jixi = unary_union(list(counties.values()))
    _, sites = _read_csv(TEST_SITES)
    for s in sites:
        g = wkt.loads(s["geometry_wkt"])
        if s["intent"] == "outside_jixi":
            assert not g.intersects(jixi), s["site_id"]
        else:
            assert jixi.contains(g), s["site_id"]
