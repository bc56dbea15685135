"""Consistency checks for the rule and code tables in layers/rules/.

The files are plain data read by the compliance engine and the land-use functions; these tests catch
the mistakes that are easy to make when editing them by hand: misquoted codes, broken hierarchies,
crosswalk rows pointing nowhere, missing or duplicated rules, and a weaker zone that ends up stricter
than a stronger one.

Files are read with the ``csv`` module so that codes stay text (``"01"`` must not become ``1``).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "layers" / "rules"

COLUMNS = {
    "gb50137_codes.csv": ["code", "level", "parent", "table", "category", "name_zh", "name_en", "source", "confidence"],
    "gb50137_structure_ranges.csv": ["category", "name_zh", "name_en", "min_pct", "max_pct", "standard", "clause",
                                     "note", "source", "confidence"],
    "gbj137_90_structure_ranges.csv": ["category", "name_zh", "name_en", "min_pct", "max_pct", "standard", "clause",
                                       "status", "superseded_by", "note", "source", "confidence"],
    "landuse_2023_codes.csv": ["code", "level", "parent", "name_zh", "name_en", "source", "confidence"],
    "crosswalk_gb50137_to_2023.csv": ["gb50137_code", "code_2023", "relation", "confidence", "note", "source"],
    "landuse_colours.csv": ["code", "name_zh", "name_en", "hex", "source", "confidence", "note"],
    "control_levels.csv": ["control_level", "rank", "name_zh", "name_en", "default_verdict", "basis",
                           "description_zh", "description_en", "refines", "zone_type", "colour", "fill_opacity"],
    "verdicts.csv": ["verdict", "order", "zh", "en", "colour", "text_colour", "meaning_zh", "meaning_en"],
    "location_precision.csv": ["value", "zh", "en"],
    "precision.csv": ["value", "zh", "en", "stamp_zh", "stamp_en"],
    "activities.csv": ["activity", "name_zh", "name_en", "aliases", "description_en"],
    "verdict_rules.csv": ["rule_id", "control_level", "activity", "verdict", "allowed", "rule_zh", "rule_en", "item",
                          "basis", "confidence", "source"],
    "control_roles.csv": ["role", "order", "name_zh", "name_en", "prefix", "cli_option", "kind", "levels",
                          "level_column_aliases", "colour", "fill_opacity", "basis", "source"],
    "control_role_levels.csv": ["role", "level", "rank", "name_zh", "name_en", "aliases", "source", "confidence"],
    "control_rules.csv": ["rule_id", "role", "level", "relation", "activity", "verdict", "allowed", "rule_zh",
                          "rule_en", "basis", "doc_number", "confidence", "source"],
    "control_column_aliases.csv": ["role", "column", "alias", "reason_zh", "reason_en", "source", "confidence"],
    "landcover_codes.csv": ["code", "level", "parent", "scheme", "name_zh", "name_en", "group", "cultivated",
                            "three_class", "aliases", "source", "confidence"],
    "landcover_groups.csv": ["group", "order", "name_zh", "name_en", "codes_zh", "source", "confidence"],
}
# columns that may legitimately be empty
OPTIONAL = {("gb50137_codes.csv", "parent"), ("landuse_2023_codes.csv", "parent"),
            ("control_levels.csv", "refines"), ("control_levels.csv", "zone_type"),
            ("control_levels.csv", "colour"), ("control_levels.csv", "fill_opacity"),
            ("crosswalk_gb50137_to_2023.csv", "note"), ("precision.csv", "stamp_zh"),
            ("precision.csv", "stamp_en"), ("control_roles.csv", "levels"),
            ("control_roles.csv", "level_column_aliases"), ("landcover_codes.csv", "parent"),
            ("landcover_codes.csv", "cultivated"), ("landcover_codes.csv", "three_class"),
            ("landcover_codes.csv", "aliases")}

TAGS = {"V", "S", "U"}
VERDICT_ORDER = {"prohibited": 3, "restricted": 2, "conditional": 1, "attention": 0}
ALLOWED_FOR = {"prohibited": "no", "restricted": "conditional", "conditional": "conditional", "attention": "yes"}
RULE_LEVELS = ("nature_reserve_core", "nature_reserve", "nature_reserve_general", "ecological_redline",
               "general_ecological_space", "unmapped_reserve")
#: Levels from strictest to loosest: for every activity a level is at least as strict as the next.
MONOTONIC_LEVELS = ("nature_reserve_core", "nature_reserve", "nature_reserve_general", "ecological_redline",
                    "general_ecological_space")
RULE_PREFIX = {"nature_reserve": "NR-", "ecological_redline": "ERL-142-", "general_ecological_space": "GES-",
               "nature_reserve_core": "NRC-", "nature_reserve_general": "NRG-", "unmapped_reserve": "UR-"}
ACTIVITY_KEYS = [
    "patrol_monitoring", "research", "local_livelihood", "farming", "archaeology", "forestry_tending", "tourism",
    "linear_infrastructure", "road", "water_infrastructure", "geological_survey", "mining",
    "ecological_restoration", "border_works", "wind_farm", "solar_farm", "industry", "chemical_industry",
    "sewage_works", "solid_waste", "housing", "public_facility", "military", "other", "farmland_improvement",
]

# GB 50137-2011 §3.1, Tables 3.2.2 and 3.3.2: the complete code list.
EXPECTED_GB = set(
    "H H1 H11 H12 H13 H14 H2 H21 H22 H23 H24 H25 H3 H4 H41 H42 H5 H9 "
    "E E1 E11 E12 E13 E2 E9 "
    "R R1 R11 R12 R2 R21 R22 R3 R31 R32 "
    "A A1 A2 A21 A22 A3 A31 A32 A33 A34 A35 A4 A41 A42 A5 A51 A52 A53 A59 A6 A7 A8 A9 "
    "B B1 B11 B12 B13 B14 B2 B21 B22 B29 B3 B31 B32 B4 B41 B49 B9 "
    "M M1 M2 M3 W W1 W2 W3 S S1 S2 S3 S4 S41 S42 S9 "
    "U U1 U11 U12 U13 U14 U15 U16 U2 U21 U22 U23 U3 U31 U32 U9 "
    "G G1 G2 G3".split()
)


def read(name: str) -> list[dict[str, str]]:
    with open(RULES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def gb() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in read("gb50137_codes.csv")}


@pytest.fixture(scope="module")
def codes23() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in read("landuse_2023_codes.csv")}


@pytest.fixture(scope="module")
def crosswalk() -> list[dict[str, str]]:
    return read("crosswalk_gb50137_to_2023.csv")


@pytest.fixture(scope="module")
def rules() -> list[dict[str, str]]:
    return read("verdict_rules.csv")


@pytest.fixture(scope="module")
def activities() -> list[dict[str, str]]:
    return read("activities.csv")


# ------------------------------------------------------------------ files


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_file_is_clean_utf8_csv_with_expected_header(name):
    raw = (RULES / name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{name} starts with a BOM"
    raw.decode("utf-8")  # raises on invalid UTF-8
    with open(RULES / name, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == COLUMNS[name]
    assert len(rows) > 1, f"{name} has no data rows"
    for i, row in enumerate(rows[1:], start=2):
        assert len(row) == len(COLUMNS[name]), f"{name} line {i}: {len(row)} fields (unquoted comma?)"
        for col, value in zip(COLUMNS[name], row):
            assert value == value.strip(), f"{name} line {i} column {col}: stray whitespace"
            if (name, col) not in OPTIONAL:
                assert value, f"{name} line {i}: column {col} is empty"


#: The files whose rows carry a V/S/U source tag in column ``confidence`` (README: "局限 / Limits").
TAGGED = sorted(n for n, cols in COLUMNS.items() if "confidence" in cols and n != "crosswalk_gb50137_to_2023.csv")
#: The crosswalk's ``confidence`` is a judgement of how well two classes match, not a source tag.
MATCH_GRADES = {"high", "medium", "low"}


def test_the_tagged_files_are_the_ones_the_readmes_name():
    assert TAGGED == ["control_column_aliases.csv", "control_role_levels.csv", "control_rules.csv",
                      "gb50137_codes.csv", "gb50137_structure_ranges.csv", "gbj137_90_structure_ranges.csv",
                      "landcover_codes.csv", "landcover_groups.csv", "landuse_2023_codes.csv", "landuse_colours.csv",
                      "verdict_rules.csv"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in TAGGED + ["crosswalk_gb50137_to_2023.csv"]:
        assert name in readme, f"README.md does not say whether {name} carries confidence tags"


@pytest.mark.parametrize("name", TAGGED)
def test_confidence_tags_are_valid(name):
    rows = read(name)
    assert rows and all("confidence" in r for r in rows), name
    bad = {r["confidence"] for r in rows} - TAGS
    assert not bad, f"{name}: unknown confidence tags {bad}"


def test_crosswalk_confidence_is_a_match_grade(crosswalk):
    grades = {r["confidence"] for r in crosswalk}
    assert grades and grades <= MATCH_GRADES, grades - MATCH_GRADES


def test_version_string():
    text = (RULES / "rules_version.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"\d{4}\.(1[0-2]|[1-9])\.\d+", text), text


def test_readme_describes_every_file():
    readme = (RULES / "README.md").read_text(encoding="utf-8")
    for name in [*COLUMNS, "rules_version.txt"]:
        assert name in readme, f"README.md does not describe {name}"
    for misquote in ("R4", "E3"):
        assert misquote in readme


# ------------------------------------------------------------------ GB 50137-2011


def test_gb_registry_is_complete_and_unique(gb):
    codes = [r["code"] for r in read("gb50137_codes.csv")]
    assert len(codes) == len(set(codes)), [c for c, n in Counter(codes).items() if n > 1]
    assert set(codes) == EXPECTED_GB, {"missing": EXPECTED_GB - set(codes), "extra": set(codes) - EXPECTED_GB}


@pytest.mark.parametrize("code", ["R4", "R41", "E3", "E31", "H15", "C", "C2", "T", "D", "G4"])
def test_gb_misquoted_codes_absent(gb, code):
    assert code not in gb, f"{code} is not a GB 50137-2011 code"


def test_gb_hierarchy(gb):
    depth = {"major": 1, "medium": 2, "minor": 3}
    for code, r in gb.items():
        assert re.fullmatch(r"[HERABMWSUG]\d{0,2}", code), code
        assert r["level"] in depth, (code, r["level"])
        assert len(code) == depth[r["level"]], f"{code}: level {r['level']} does not fit the code length"
        assert r["category"] == code[0], f"{code}: category {r['category']}"
        assert r["table"] == ("城乡用地" if code[0] in "HE" else "城市建设用地"), code
        if r["level"] == "major":
            assert r["parent"] == "", code
            continue
        parent = r["parent"]
        assert parent in gb, f"{code}: parent {parent} missing"
        assert code.startswith(parent) and len(code) == len(parent) + 1, f"{code}: parent {parent}"
        assert depth[gb[parent]["level"]] == depth[r["level"]] - 1, code
        assert gb[parent]["category"] == r["category"], f"{code} belongs to {gb[parent]['category']}"


def test_gb_minor_codes_belong_to_their_major(gb):
    for code, r in gb.items():
        if r["level"] == "minor":
            major = gb[gb[code]["parent"]]["parent"]
            assert major == code[0] == r["category"], code


def test_gb_names_spot_check(gb):
    assert gb["R"]["name_en"] == "Residential"
    assert gb["M2"]["name_en"] == "Class-2 industrial"
    assert gb["H5"]["name_zh"] == "采矿用地"
    assert gb["E2"]["name_zh"] == "农林用地"
    assert gb["U21"]["name_zh"].startswith("排水")


# ------------------------------------------------------------------ structure ranges


def _check_ranges(rows):
    for r in rows:
        lo, hi = float(r["min_pct"]), float(r["max_pct"])
        assert 0 <= lo < hi <= 100, r["category"]


def test_structure_ranges(gb):
    rows = read("gb50137_structure_ranges.csv")
    _check_ranges(rows)
    got = {r["category"]: (float(r["min_pct"]), float(r["max_pct"])) for r in rows}
    assert got == {"R": (25, 40), "A": (5, 8), "M": (15, 30), "S": (10, 25), "G": (10, 15)}
    for r in rows:
        assert gb[r["category"]]["level"] == "major" and gb[r["category"]]["table"] == "城市建设用地"
        assert r["standard"] == "GB 50137-2011" and r["clause"] == "4.4.1"
        assert "4.4.2" in r["note"] and "工矿城市" in r["note"]
    assert sum(lo for lo, _ in got.values()) <= 100


def test_old_structure_ranges_are_labelled_superseded():
    rows = read("gbj137_90_structure_ranges.csv")
    _check_ranges(rows)
    current = {r["category"]: (r["min_pct"], r["max_pct"]) for r in read("gb50137_structure_ranges.csv")}
    for r in rows:
        assert r["standard"] == "GBJ 137-90"
        assert r["status"] == "superseded"
        assert "GB 50137-2011" in r["superseded_by"]
        assert "SUPERSEDED" in r["note"]
        assert current.get(r["category"]) != (r["min_pct"], r["max_pct"]), "old and new values look swapped"
    assert {r["category"]: (float(r["min_pct"]), float(r["max_pct"])) for r in rows}["R"] == (20, 32)


# ------------------------------------------------------------------ 2023 classification


def test_2023_codes(codes23):
    levels = {2: "first", 4: "second", 6: "third"}
    codes = [r["code"] for r in read("landuse_2023_codes.csv")]
    assert len(codes) == len(set(codes))
    for code, r in codes23.items():
        assert re.fullmatch(r"\d{2}|\d{4}|\d{6}", code), code
        assert r["level"] == levels[len(code)], code
        if r["level"] == "first":
            assert r["parent"] == ""
        else:
            assert r["parent"] == code[:-2] and r["parent"] in codes23, f"{code}: parent {r['parent']}"
    assert {c for c, r in codes23.items() if r["level"] == "first"} == {f"{i:02d}" for i in range(1, 25)}
    assert codes23["10"]["name_zh"] == "工矿用地" and codes23["1001"]["name_zh"] == "工业用地"
    assert codes23["17"]["name_zh"] == "陆地水域"


# ------------------------------------------------------------------ crosswalk


def _ancestors_or_self(code, codes23):
    out = {code}
    while codes23[code]["parent"]:
        code = codes23[code]["parent"]
        out.add(code)
    return out


def test_crosswalk_codes_exist(crosswalk, gb, codes23):
    for r in crosswalk:
        assert r["gb50137_code"] in gb, r
        assert r["code_2023"] in codes23, r
        assert r["relation"] in {"equivalent", "partial", "many_to_many"}, r
        assert r["confidence"] in {"high", "medium", "low"}, r
    pairs = [(r["gb50137_code"], r["code_2023"]) for r in crosswalk]
    assert len(pairs) == len(set(pairs)), [p for p, n in Counter(pairs).items() if n > 1]


def test_crosswalk_covers_every_major_and_medium_class(crosswalk, gb):
    mapped = {r["gb50137_code"] for r in crosswalk}
    missing = {c for c, r in gb.items() if r["level"] in {"major", "medium"}} - mapped
    assert not missing, missing


def test_crosswalk_equivalent_means_one_target(crosswalk):
    targets = defaultdict(set)
    for r in crosswalk:
        targets[r["gb50137_code"]].add(r["code_2023"])
    for r in crosswalk:
        if r["relation"] == "equivalent":
            assert len(targets[r["gb50137_code"]]) == 1, f"{r['gb50137_code']} is 'equivalent' but has {targets[r['gb50137_code']]}"


def test_crosswalk_children_stay_inside_parent_targets(crosswalk, gb, codes23):
    """A child class must map into (the subtree of) one of its parent's targets."""
    targets = defaultdict(set)
    for r in crosswalk:
        targets[r["gb50137_code"]].add(r["code_2023"])
    for child, tset in targets.items():
        parent = gb[child]["parent"]
        if not parent or parent not in targets:
            continue
        for t in tset:
            assert _ancestors_or_self(t, codes23) & targets[parent], f"{child}→{t} is outside {parent}→{targets[parent]}"


def test_crosswalk_key_rows(crosswalk):
    by = defaultdict(dict)
    for r in crosswalk:
        by[r["gb50137_code"]][r["code_2023"]] = r["relation"]
    for gbc, t in [("R1", "070101"), ("R2", "070102"), ("R3", "070103"), ("M1", "100101"), ("M2", "100102"),
                   ("M3", "100103"), ("W3", "110103"), ("H5", "1002"), ("A7", "1504"), ("S2", "1206"),
                   ("G1", "1401"), ("E12", "1703")]:
        assert t in by[gbc], (gbc, t)
    assert by["M"] == {"1001": "equivalent"}
    assert by["E2"] == {c: "partial" for c in ("01", "02", "03", "04", "06")}
    assert set(by["H14"]) == {"0703", "0704"}


# ------------------------------------------------------------------ colours


def _rgb(hexval):
    return tuple(int(hexval[i:i + 2], 16) for i in (1, 3, 5))


def test_colours_valid_distinct_and_conventional(gb):
    rows = read("landuse_colours.csv")
    hexes = [r["hex"].upper() for r in rows]
    for r in rows:
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", r["hex"]), r["hex"]
        assert r["code"] in gb, r["code"]
    assert len(hexes) == len(set(hexes)), [h for h, n in Counter(hexes).items() if n > 1]
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    assert set("RABMWSUGHE") | {"E1", "E2"} <= set(codes)
    rgb = {r["code"]: _rgb(r["hex"]) for r in rows}
    r_, g_, b_ = rgb["R"]; assert r_ > 200 and g_ > 200 and b_ < 100, "R should be yellow"
    r_, g_, b_ = rgb["B"]; assert r_ > 200 and g_ < 80 and b_ < 80, "B should be red"
    r_, g_, b_ = rgb["G"]; assert g_ > r_ and g_ > b_, "G should be green"
    r_, g_, b_ = rgb["E2"]; assert g_ > r_ and g_ > b_, "E2 should be green"
    r_, g_, b_ = rgb["E1"]; assert b_ > r_ and b_ >= g_, "E1 should be blue"
    r_, g_, b_ = rgb["U"]; assert g_ > r_ and b_ > r_, "U should be blue-green"
    r_, g_, b_ = rgb["W"]; assert b_ > g_ and r_ > g_ - 40, "W should be purple"
    r_, g_, b_ = rgb["S"]; assert max(r_, g_, b_) - min(r_, g_, b_) < 20, "S should be grey"


# ------------------------------------------------------------------ control levels


def test_control_levels():
    rows = read("control_levels.csv")
    got = {r["control_level"]: (int(r["rank"]), r["default_verdict"]) for r in rows}
    assert got == {
        "nature_reserve_core": (1, "prohibited"),
        "nature_reserve": (2, "prohibited"),
        "nature_reserve_general": (3, "restricted"),
        "ecological_redline": (4, "restricted"),
        "general_ecological_space": (5, "conditional"),
        "unmapped_reserve": (6, "attention"),
        "near": (7, "attention"),
        "outside": (8, "clear"),
        "outside_jixi": (9, "outside_jixi"),
    }
    refined = {r["control_level"]: (r["refines"], r["zone_type"].split(";")[0]) for r in rows if r["refines"]}
    assert refined == {"nature_reserve_core": ("nature_reserve", "core"),
                       "nature_reserve_general": ("nature_reserve", "general")}
    # 142号 on overlaps says 依照法律法规执行, not 取较严者
    erl = next(r for r in rows if r["control_level"] == "ecological_redline")
    assert "依照法律法规执行" in erl["description_zh"] and "取较严" not in erl["description_zh"]


# ------------------------------------------------------------------ activities


def test_activity_keys(activities):
    keys = [r["activity"] for r in activities]
    assert keys == ACTIVITY_KEYS
    assert "unspecified" not in keys


def test_aliases_unique_across_activities(activities):
    owner: dict[str, str] = {}
    keys = {r["activity"] for r in activities}
    for r in activities:
        aliases = [a.strip().casefold() for a in r["aliases"].split(";")]
        assert all(aliases), f"{r['activity']}: empty alias (double or trailing ';')"
        for a in aliases:
            assert a not in owner or owner[a] == r["activity"], f"alias '{a}' in {owner.get(a)} and {r['activity']}"
            assert a not in keys or a == r["activity"], f"alias '{a}' of {r['activity']} is another activity's key"
            owner[a] = r["activity"]
    for alias, key in [("风电", "wind_farm"), ("wind farm", "wind_farm"), ("光伏", "solar_farm"),
                       ("污水处理厂", "sewage_works"), ("垃圾填埋场", "solid_waste"), ("矿山修复", "ecological_restoration"),
                       ("采煤", "mining"), ("石墨开采", "mining"), ("化工园区", "chemical_industry"), ("公路", "road"),
                       ("高标准农田", "farmland_improvement"), ("土地整理", "farmland_improvement"),
                       ("设施农业", "farmland_improvement"), ("开垦", "farming"), ("学校", "public_facility"),
                       ("界碑", "border_works")]:
        assert owner.get(alias.casefold()) == key, (alias, owner.get(alias.casefold()), key)


# ------------------------------------------------------------------ verdict rules


def test_every_pair_exactly_once(rules, activities):
    keys = [r["activity"] for r in activities] + ["unspecified"]
    pairs = Counter((r["control_level"], r["activity"]) for r in rules)
    assert set(pairs) == set(itertools.product(RULE_LEVELS, keys)), set(pairs) ^ set(itertools.product(RULE_LEVELS, keys))
    assert all(n == 1 for n in pairs.values()), [p for p, n in pairs.items() if n > 1]


def test_rule_ids_unique_and_stable(rules, activities):
    ids = [r["rule_id"] for r in rules]
    assert len(ids) == len(set(ids))
    order = {k: i for i, k in enumerate([r["activity"] for r in activities] + ["unspecified"], start=1)}
    for r in rules:
        assert r["rule_id"] == f"{RULE_PREFIX[r['control_level']]}{order[r['activity']]:02d}", r["rule_id"]


def test_verdicts_and_allowed_consistent(rules):
    for r in rules:
        assert r["verdict"] in VERDICT_ORDER, r["rule_id"]
        assert r["allowed"] == ALLOWED_FOR[r["verdict"]], r["rule_id"]
        assert r["confidence"] in TAGS, r["rule_id"]
        assert re.search(r"[\u4e00-\u9fff]", r["rule_zh"]), r["rule_id"]
        assert r["rule_en"].endswith("."), r["rule_id"]


def test_stronger_zone_never_more_permissive(rules):
    v = {(r["control_level"], r["activity"]): VERDICT_ORDER[r["verdict"]] for r in rules}
    for act in {r["activity"] for r in rules}:
        for strong, weak in zip(MONOTONIC_LEVELS, MONOTONIC_LEVELS[1:]):
            assert v[(strong, act)] >= v[(weak, act)], f"{act}: {strong} is more permissive than {weak}"
    # a placeholder reserve never gives a hard verdict
    assert {r["verdict"] for r in rules if r["control_level"] == "unmapped_reserve"} == {"attention"}


def test_erl_restricted_rows_name_a_142_item(rules):
    for r in rules:
        if r["control_level"] != "ecological_redline":
            continue
        assert r["verdict"] in {"restricted", "prohibited"}, r["rule_id"]
        assert "142号" in r["basis"], r["rule_id"]
        if r["verdict"] == "restricted":
            items = [int(n) for n in re.findall(r"142号 item (\d+)", r["item"])]
            assert items and all(1 <= n <= 10 for n in items), r["rule_id"]


def test_key_rules(rules):
    by = {(r["control_level"], r["activity"]): r for r in rules}
    assert by[("ecological_redline", "wind_farm")]["verdict"] == "prohibited"
    assert by[("ecological_redline", "ecological_restoration")]["verdict"] == "restricted"
    assert by[("ecological_redline", "mining")]["verdict"] == "prohibited"
    assert by[("ecological_redline", "geological_survey")]["verdict"] == "restricted"
    assert "item 7" in by[("ecological_redline", "geological_survey")]["item"]
    for act in ("road", "linear_infrastructure", "water_infrastructure"):
        assert by[("ecological_redline", act)]["verdict"] == "restricted"
        assert "item 6" in by[("ecological_redline", act)]["item"]
    for lvl in MONOTONIC_LEVELS:
        chem = by[(lvl, "chemical_industry")]
        assert chem["verdict"] == "prohibited", lvl
        assert "220号" in chem["basis"] and "化工园区" in chem["basis"], lvl
    for act in ("patrol_monitoring", "research", "ecological_restoration", "local_livelihood",
                "linear_infrastructure", "water_infrastructure", "military"):
        assert by[("nature_reserve", act)]["verdict"] == "restricted", act
    for act in ("wind_farm", "solar_farm", "industry", "mining", "housing", "farming"):
        assert by[("nature_reserve", act)]["verdict"] == "prohibited", act
    for act in ("ecological_restoration", "patrol_monitoring", "research", "local_livelihood", "border_works",
                "forestry_tending", "archaeology"):
        assert by[("general_ecological_space", act)]["verdict"] == "attention", act
    for act in ("industry", "housing", "wind_farm", "solar_farm", "mining"):
        assert by[("general_ecological_space", act)]["verdict"] == "conditional", act


def test_unspecified_takes_the_strictest_reading(rules):
    for r in rules:
        if r["activity"] == "unspecified":
            assert "strictest" in r["rule_en"] and "最严格" in r["rule_zh"], r["rule_id"]
    v = {(r["control_level"], r["activity"]): VERDICT_ORDER[r["verdict"]] for r in rules}
    for lvl in RULE_LEVELS:
        others = [v[(lvl, a)] for a in ACTIVITY_KEYS if a != "chemical_industry"]
        assert v[(lvl, "unspecified")] == max(others), lvl


# ------------------------------------------------------------------ control lines and land classes (issue 18)

#: GB/T 21010-2017 Table 1: the 73 second-level codes.
GBT21010_2017 = set(
    "0101 0102 0103 0201 0202 0203 0204 0301 0302 0303 0304 0305 0306 0307 0401 0402 0403 0404 "
    "0501 0502 0503 0504 0505 0506 0507 0601 0602 0603 0604 0701 0702 "
    "0801 0802 0803 0804 0805 0806 0807 0808 0809 0810 0901 0902 0903 0904 0905 0906 "
    "1001 1002 1003 1004 1005 1006 1007 1008 1009 1101 1102 1103 1104 1105 1106 1107 1108 1109 1110 "
    "1201 1202 1203 1204 1205 1206 1207".split())
#: 三调 工作分类: 00 湿地 and its members, and the merged construction codes.
SANDIAO_WETLAND = {"0303", "0304", "0306", "0402", "0603", "1105", "1106", "1108"}
SANDIAO_ONLY = {"00", "05H1", "0508", "08H1", "08H2"}
GROUPS = ["cultivated", "garden", "forest", "grassland", "wetland", "construction", "transport", "water", "other"]


@pytest.fixture(scope="module")
def lc_codes() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in read("landcover_codes.csv")}


def test_landcover_registry_holds_both_schemes(lc_codes):
    codes = [r["code"] for r in read("landcover_codes.csv")]
    assert len(codes) == len(set(codes))
    gbt = {c for c, r in lc_codes.items() if r["level"] == "second" and r["scheme"] in ("both", "gbt21010_2017")}
    assert gbt == GBT21010_2017, gbt ^ GBT21010_2017
    assert SANDIAO_ONLY <= set(lc_codes)
    for c in SANDIAO_WETLAND:
        assert lc_codes[c]["group"] == "wetland" and lc_codes[c]["parent"] == "00", c
    assert {c for c, r in lc_codes.items() if r["group"] == "wetland"} == SANDIAO_WETLAND | {"00"}
    assert {c: r["cultivated"] for c, r in lc_codes.items() if r["cultivated"]} == {
        "0101": "paddy", "0102": "irrigated", "0103": "dryland"}
    assert {c for c, r in lc_codes.items() if r["group"] == "cultivated"} == {"01", "0101", "0102", "0103"}
    for c in ("05H1", "0508", "0601", "0602", "0701", "0702", "08H1", "08H2", "0809", "0810", "09", "1109"):
        assert lc_codes[c]["group"] == "construction", c
    assert {lc_codes[f"100{i}"]["group"] for i in range(1, 10)} == {"transport"}
    assert lc_codes["0101"]["name_zh"] == "水田" and lc_codes["0102"]["name_zh"] == "水浇地"
    assert lc_codes["1108"]["name_zh"] == "沼泽地" and lc_codes["0603"]["name_zh"] == "盐田"


def test_landcover_hierarchy_groups_and_names(lc_codes):
    groups = [r["group"] for r in read("landcover_groups.csv")]
    assert groups == GROUPS
    for c, r in lc_codes.items():
        assert r["group"] in GROUPS, c
        assert r["level"] in ("first", "second", "third"), c
        assert (r["level"] == "first") == (r["parent"] == ""), c
        if r["parent"]:
            assert r["parent"] in lc_codes, c
        assert r["three_class"] in ("", "agricultural", "construction", "unused"), c
        assert re.fullmatch(r"\d{2}|\d{4}|\d{2}H\d|\d{4}[AK]|\d{2}H\dA", c), c
    names: dict[str, str] = {}
    for c, r in lc_codes.items():
        for n in [r["name_zh"], *[a for a in r["aliases"].split(";") if a]]:
            assert names.setdefault(n, c) == c, f"name {n} of {c} also names {names[n]}"


def test_control_role_levels_and_aliases():
    roles = {r["role"]: r for r in read("control_roles.csv")}
    assert list(roles) == ["permanent_farmland", "urban_boundary", "water_source", "landcover"]
    levels = read("control_role_levels.csv")
    for role, r in roles.items():
        mine = [lv["level"] for lv in levels if lv["role"] == role]
        assert mine == [x for x in r["levels"].split(";") if x], role
    seen: dict[tuple[str, str], str] = {}
    for lv in levels:
        for a in lv["aliases"].split(";"):
            assert a.strip(), lv["level"]
            assert seen.setdefault((lv["role"], a.strip().lower()), lv["level"]) == lv["level"], a
    aliases = read("control_column_aliases.csv")
    cols = {"control_id", "name", "level", "class_code", "class_name", "black_soil", "year"}
    scope: dict[str, str] = {}
    for a in aliases:
        assert a["role"] in set(roles) | {"*"} and a["column"] in cols, a
        for role in (roles if a["role"] == "*" else [a["role"]]):
            key = f"{role}:{a['alias'].lower()}"
            assert scope.setdefault(key, a["column"]) == a["column"], key
    got = {(a["role"], a["alias"]): a["column"] for a in aliases}
    assert got[("landcover", "DLBM")] == "class_code" and got[("landcover", "DLMC")] == "class_name"
    assert got[("*", "BSM")] == "control_id" and got[("water_source", "BHQJB")] == "level"


@pytest.fixture(scope="module")
def control_rules() -> list[dict[str, str]]:
    return read("control_rules.csv")


def test_control_rules_keys_are_known_and_the_table_is_complete(control_rules, activities):
    roles = {r["role"] for r in read("control_roles.csv") if r["kind"] == "line"}
    levels = {(lv["role"], lv["level"]) for lv in read("control_role_levels.csv")}
    acts = {r["activity"] for r in activities}
    verdicts = {r["verdict"] for r in read("verdicts.csv")} - {"outside_jixi"}
    allowed = {**ALLOWED_FOR, "clear": "yes"}
    keys = Counter((r["role"], r["level"], r["relation"], r["activity"]) for r in control_rules)
    assert all(n == 1 for n in keys.values()), [k for k, n in keys.items() if n > 1]
    ids = [r["rule_id"] for r in control_rules]
    assert len(ids) == len(set(ids))
    for r in control_rules:
        assert r["role"] in roles, r["rule_id"]
        assert r["level"] == "*" or (r["role"], r["level"]) in levels, r["rule_id"]
        assert r["relation"] in ("inside", "partly", "outside"), r["rule_id"]
        assert r["activity"] == "*" or r["activity"] in acts, r["rule_id"]
        assert r["verdict"] in verdicts and r["allowed"] == allowed[r["verdict"]], r["rule_id"]
        assert "〔" in r["doc_number"] or "令" in r["doc_number"], r["rule_id"]
        assert re.search(r"[\u4e00-\u9fff]", r["rule_zh"]) and re.search(r"[A-Za-z]{3}", r["rule_en"]), r["rule_id"]
    for role in roles:
        for rel in ("inside", "partly", "outside"):
            assert (role, "*", rel, "*") in keys, (role, rel)


def test_control_rules_key_verdicts(control_rules):
    by = {(r["role"], r["level"], r["relation"], r["activity"]): r for r in control_rules}
    pf = "permanent_farmland"
    for act in ("linear_infrastructure", "road", "water_infrastructure", "military"):
        r = by[(pf, "*", "inside", act)]
        assert r["verdict"] == "restricted" and "国务院批准" in r["rule_zh"] and "补划" in r["rule_zh"], act
        assert "第三十五条" in r["basis"] and "第十五条" in r["basis"], act
    assert by[(pf, "*", "inside", "*")]["verdict"] == "prohibited"
    coal = by[(pf, "*", "inside", "mining")]  # national-plan energy extraction only (自然资规〔2018〕3号 能源类)
    assert coal["verdict"] == "restricted" and "能源开采" in coal["rule_zh"] and "2018〕3号" in coal["doc_number"]
    for act in ("wind_farm", "solar_farm", "housing", "industry"):  # not in the list: the prohibited fallback
        assert (pf, "*", "inside", act) not in by
    assert by[(pf, "*", "inside", "farmland_improvement")]["verdict"] in ("clear", "conditional")
    assert by[(pf, "*", "outside", "*")]["verdict"] == "clear"
    ub = "urban_boundary"
    assert by[(ub, "*", "inside", "*")]["verdict"] == "clear"
    for act in ("housing", "industry"):
        assert by[(ub, "*", "outside", act)]["verdict"] == "restricted"
    assert by[(ub, "*", "outside", "linear_infrastructure")]["verdict"] == "conditional"
    ws = "water_source"
    assert by[(ws, "first", "inside", "*")]["verdict"] == "prohibited"
    assert "第六十五条" in by[(ws, "first", "inside", "*")]["basis"]
    assert by[(ws, "first", "inside", "water_infrastructure")]["verdict"] == "restricted"
    for act in ("sewage_works", "chemical_industry", "solid_waste", "mining", "industry"):
        assert by[(ws, "second", "inside", act)]["verdict"] == "prohibited", act
    assert "第六十六条" in by[(ws, "second", "inside", "industry")]["basis"]
    assert "第六十七条" in by[(ws, "quasi", "inside", "*")]["basis"]
    assert by[(ws, "*", "outside", "*")]["verdict"] == "clear"
