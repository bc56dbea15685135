"""Transcription checks for the Jidong EDZ tables in ``layers/tables``.

The CSVs ``jidong_landuse.csv``, ``jidong_function_zones.csv`` and
``jidong_parks.csv`` are hand transcriptions of the plan text kept in
``layers/sources/plans/jidong_edz_industrial_plan.txt``.  These tests do a
second, independent reading of that text (they parse the table regions and
the prose themselves, without looking at the CSVs first) and then compare
the two readings cell by cell.  Any typo, dropped row, extra row or wrong
line reference in the CSVs makes a test fail.

They only check *transcription*.  Whether the published numbers add up is a
different question, handled elsewhere; nothing here corrects the source.
"""

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "layers" / "sources" / "plans"
TABLES = ROOT / "layers" / "tables"
SEED = PLANS / "jidong_edz_industrial_plan.txt"

LANDUSE_COLS = [
    "park", "stage", "row", "code_published", "name_published",
    "area_ha_published", "share_published", "share_basis", "row_kind",
    "level_published", "section", "source_line", "note",
]
ZONE_COLS = [
    "park", "zone_no", "name_published", "area_published", "unit_published",
    "area_ha", "description_published", "section", "source_line",
]
PARK_COLS = [
    "park", "name_zh", "name_en", "town_zh", "area_km2_published",
    "four_bounds_published", "location_text_published", "section",
    "source_line",
]
CSV_COLUMNS = {
    "jidong_landuse.csv": LANDUSE_COLS,
    "jidong_function_zones.csv": ZONE_COLS,
    "jidong_parks.csv": PARK_COLS,
}

NUM = r"\d+(?:\.\d+)?"
# a number standing on its own (not part of a code such as H11, not a fragment of 1.5万)
FREE_NUM = re.compile(r"(?<![\w.])" + NUM + r"(?![\w.])")
CODE_TOKEN = re.compile(r"^[A-Z]\d{0,2}$")
NUM_TOKEN = re.compile(r"^" + NUM + r"$")
LEVEL_BY_CODE_LEN = {1: "大类", 2: "中类", 3: "小类"}
UNIT_TO_HA = {"公顷": 1.0, "平方公里": 100.0, "亩": 1.0 / 15.0}


# --------------------------------------------------------------------------
# reading the source text
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def raw():
    return SEED.read_bytes()


@pytest.fixture(scope="module")
def lines(raw):
    """1-based list of the seed's lines (index 0 is a dummy)."""
    return [""] + raw.decode("utf-8").split("\n")


@pytest.fixture(scope="module")
def joined(lines):
    """The text with line breaks removed, as one string.

    Each printed line is stripped and the pieces are concatenated, so that a
    phrase wrapped over several printed lines (with blank lines in between)
    can be searched as one string.  ``owner[k]`` gives the 1-based line
    number that character ``k`` of the joined string came from.
    """
    parts, owner = [], []
    for no, line in enumerate(lines[1:], start=1):
        piece = line.strip()
        parts.append(piece)
        owner.extend([no] * len(piece))
    return "".join(parts), owner


def find_in_joined(joined, needle):
    """Start line numbers of every occurrence of ``needle`` in the joined text."""
    text, owner = joined
    hits, start = [], 0
    while True:
        k = text.find(needle, start)
        if k < 0:
            return hits
        hits.append(owner[k])
        start = k + 1


def first_line(lines, pattern, start=1, stop=None):
    rx = re.compile(pattern)
    stop = len(lines) if stop is None else stop
    for no in range(start, stop):
        if rx.search(lines[no].strip()):
            return no
    raise AssertionError(f"pattern {pattern!r} not found in lines {start}..{stop}")


def check_section(lines, section, before_line):
    """Every ' > ' component of ``section`` is a heading line, in order, before ``before_line``,
    and the deepest component is the nearest heading of its kind above that line."""
    parts = section.split(" > ")
    assert all(parts), f"empty component in section {section!r}"
    limit = before_line
    for part in reversed(parts):
        found = None
        for no in range(limit - 1, 0, -1):
            if lines[no].strip() == part:
                found = no
                break
        assert found is not None, f"heading {part!r} of {section!r} not found above line {limit}"
        limit = found
    deepest = parts[-1]
    kinds = [r"^第.部分", r"^[一二三四五六七八九十]+、", r"^\d+、", r"^（\d+）"]
    kind = next((k for k in kinds if re.search(k, deepest)), None)
    assert kind is not None, f"unrecognised heading style: {deepest!r}"
    for no in range(before_line - 1, 0, -1):
        if re.search(kind, lines[no].strip()):
            assert lines[no].strip() == deepest, (
                f"nearest heading of kind {kind!r} above line {before_line} is "
                f"{lines[no].strip()!r}, not {deepest!r}")
            break


# --------------------------------------------------------------------------
# reading the CSVs
# --------------------------------------------------------------------------

def load(name):
    return pd.read_csv(TABLES / name, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def landuse():
    return load("jidong_landuse.csv")


@pytest.fixture(scope="module")
def zones():
    return load("jidong_function_zones.csv")


@pytest.fixture(scope="module")
def parks():
    return load("jidong_parks.csv")


@pytest.mark.parametrize("name", sorted(CSV_COLUMNS))
def test_csv_is_utf8_and_loads_as_text(name):
    data = (TABLES / name).read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), "no BOM please"
    data.decode("utf-8")  # raises on invalid UTF-8
    df = load(name)
    assert list(df.columns) == CSV_COLUMNS[name]
    assert len(df) > 0
    for col in df.columns:
        assert all(isinstance(v, str) for v in df[col]), f"{name}:{col} not all text"
        assert not any(v != v.strip() for v in df[col]), f"{name}:{col} has stray whitespace"


def test_seed_copy_matches_readme_sha256(raw):
    readme = (PLANS / "README.md").read_text(encoding="utf-8")
    for path in sorted(PLANS.glob("*.txt")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rows = [ln for ln in readme.splitlines() if path.name in ln]
        assert rows, f"{path.name} not described in plans/README.md"
        listed = {h for ln in rows for h in re.findall(r"\b[0-9a-f]{64}\b", ln)}
        assert listed == {digest}, f"sha256 for {path.name} in README does not match the file"
    assert hashlib.sha256(raw).hexdigest() in readme


def test_tables_readme_mentions_every_csv():
    text = (TABLES / "README.md").read_text(encoding="utf-8")
    for name in CSV_COLUMNS:
        assert name in text


# --------------------------------------------------------------------------
# land-use tables: independent parse of the table regions
# --------------------------------------------------------------------------

def table_key(title):
    if "宝泉" in title:
        park = "baoquan"
    elif title.startswith("工业产业园"):
        park = "industrial"
    elif title.startswith("化工产业园"):
        park = "chemical"
    else:
        raise AssertionError(f"unknown table title {title!r}")
    if "现状" in title:
        stage = "current"
    elif "规划" in title:
        stage = "planned"
    else:
        raise AssertionError(f"unknown table stage {title!r}")
    return park, stage


def parse_tables(lines):
    """Find every 汇总表 in the text and split its region into rows.

    A table region runs from its title line to the line before the next
    sub-heading ``（n）``, figure caption (``——``) or part heading.  In the
    region, a line carrying numbers is a data row: leading code tokens, then
    the name, then the numbers (area, then share if printed).  A line made of
    code tokens only belongs to the next data row (merged code cells).  Any
    other line is header text.
    """
    tables = {}
    for title_no in range(1, len(lines)):
        title = lines[title_no].strip()
        if not title.endswith("汇总表"):
            continue
        end = title_no + 1
        while end < len(lines):
            s = lines[end].strip()
            if re.match(r"^（\d+）", s) or "——" in s or re.match(r"^第.部分", s) or s.endswith("汇总表"):
                break
            end += 1
        rows, header, pending, pending_lines, header_between = [], [], [], [], []
        for no in range(title_no + 1, end):
            s = lines[no].strip()
            if not s:
                continue
            toks = s.split()
            if all(CODE_TOKEN.match(t) for t in toks):
                pending += toks
                pending_lines.append(no)
                continue
            if not NUM_TOKEN.match(toks[-1]):
                header.append(s)
                if rows:
                    header_between.append(no)
                continue
            nums = []
            while toks and NUM_TOKEN.match(toks[-1]):
                nums.insert(0, toks.pop())
            codes = list(pending)
            while toks and CODE_TOKEN.match(toks[0]):
                codes.append(toks.pop(0))
            dedup = [c for i, c in enumerate(codes) if i == 0 or c != codes[i - 1]]
            rows.append({
                "line": no,
                "codes": dedup,
                "code_lines": list(pending_lines),
                "name": " ".join(toks),
                "nums": nums,
                "header_lines_before": list(header_between),
            })
            pending, pending_lines, header_between = [], [], []
        assert not pending, f"dangling code cells in table at line {title_no}"
        key = table_key(title)
        assert key not in tables, f"two tables for {key}"
        tables[key] = {"title_line": title_no, "end": end, "rows": rows,
                       "header": "".join("".join(h.split()) for h in header)}
    return tables


@pytest.fixture(scope="module")
def tables(lines):
    return parse_tables(lines)


def test_text_has_the_five_tables(tables):
    assert sorted(tables) == sorted([
        ("baoquan", "current"), ("industrial", "current"), ("chemical", "current"),
        ("industrial", "planned"), ("chemical", "planned"),
    ])


def test_landuse_covers_exactly_the_published_tables(landuse, tables):
    keys = set(zip(landuse["park"], landuse["stage"]))
    assert keys == set(tables)
    assert set(landuse["row_kind"]) <= {"class", "subclass", "subtotal", "total", "non_construction"}


@pytest.mark.parametrize("park,stage", [
    ("baoquan", "current"), ("industrial", "current"), ("chemical", "current"),
    ("industrial", "planned"), ("chemical", "planned"),
])
def test_landuse_rows_match_text(landuse, tables, lines, park, stage):
    table = tables[(park, stage)]
    parsed = table["rows"]
    sub = landuse[(landuse["park"] == park) & (landuse["stage"] == stage)]
    assert list(sub["row"]) == [str(i) for i in range(1, len(sub) + 1)], "row must be 1..n in file order"
    assert len(sub) == len(parsed), f"{park}/{stage}: CSV has {len(sub)} rows, text has {len(parsed)}"

    for (_, rec), got in zip(sub.iterrows(), parsed):
        where = f"{park}/{stage} row {rec['row']}"
        assert int(rec["source_line"]) == got["line"], where
        assert rec["code_published"].split() == got["codes"], where
        assert rec["name_published"] == got["name"], where
        published = [rec["area_ha_published"]] + ([rec["share_published"]] if rec["share_published"] else [])
        assert rec["area_ha_published"], where
        assert published == got["nums"], where
        assert "%" not in rec["share_published"], where
        # the source line itself carries the cells (belt and braces on the parser)
        src = lines[got["line"]]
        for cell in [rec["name_published"]] + published:
            assert cell in src, f"{where}: {cell!r} not on line {got['line']}"
        # merged code cells printed on their own lines are recorded in the note
        for no in got["code_lines"]:
            assert str(no) in rec["note"], f"{where}: note should cite code line {no}"
        if got["header_lines_before"]:
            assert "header repeated" in rec["note"], f"{where}: repeated header not noted"
        assert rec["section"], where
        check_section(lines, rec["section"], table["title_line"])

    # every free-standing number in the table region is in the CSV, and nothing else
    region = "\n".join(lines[table["title_line"]:table["end"]])
    text_numbers = sorted(FREE_NUM.findall(region))
    csv_numbers = sorted([v for v in sub["area_ha_published"] if v] + [v for v in sub["share_published"] if v])
    assert csv_numbers == text_numbers
    # every code token in the region is accounted for
    text_codes = sorted(set(t for s in lines[table["title_line"]:table["end"]]
                            for t in s.split() if CODE_TOKEN.match(t)))
    csv_codes = sorted(set(t for v in sub["code_published"] for t in v.split()))
    assert csv_codes == text_codes


@pytest.mark.parametrize("park,stage", [
    ("baoquan", "current"), ("industrial", "current"), ("chemical", "current"),
    ("industrial", "planned"), ("chemical", "planned"),
])
def test_landuse_readings(landuse, tables, park, stage):
    """share_basis, level and row_kind follow from the header and the layout."""
    table = tables[(park, stage)]
    sub = landuse[(landuse["park"] == park) & (landuse["stage"] == stage)].reset_index(drop=True)
    header = table["header"]

    # one share basis per table, taken from the header (or the row that is 100 %)
    bases = set(sub["share_basis"])
    assert len(bases) == 1
    basis = bases.pop()
    hundred = list(sub.loc[sub["share_published"] == "100.00", "name_published"])
    assert len(hundred) == 1
    assert basis and (basis in header or basis == hundred[0]), f"{basis!r} vs header {header!r}"

    # the level follows the code length, and the header has those level columns
    for _, rec in sub.iterrows():
        codes = rec["code_published"].split()
        expected = "+".join(LEVEL_BY_CODE_LEN[len(c)] for c in codes)
        assert rec["level_published"] == expected, rec.to_dict()
        for level in expected.split("+") if expected else []:
            assert level in header

    # row kinds: last row total, other 100 % row subtotal, E rows and rows after
    # the subtotal outside construction land, otherwise class / subclass by code
    n = len(sub)
    sub_idx = [i for i in range(n - 1) if sub.loc[i, "share_published"] == "100.00"]
    for i, rec in sub.iterrows():
        codes = rec["code_published"].split()
        if i == n - 1:
            kind = "total"
        elif i in sub_idx:
            kind = "subtotal"
        elif (codes and codes[0].startswith("E")) or (sub_idx and i > sub_idx[0]):
            kind = "non_construction"
        elif any(len(c) == 1 for c in codes):
            kind = "class"
        else:
            kind = "subclass"
        assert rec["row_kind"] == kind, rec.to_dict()


# --------------------------------------------------------------------------
# function zones
# --------------------------------------------------------------------------

def part_span(lines, part_no_zh):
    start = first_line(lines, rf"^第{part_no_zh}部分")
    end = first_line(lines, r"^第.部分", start + 1)
    return start, end


def park_spans(lines, start, end):
    """Line spans of '1、工业产业园' / '2、化工产业园' style headings inside [start, end)."""
    heads = [(no, lines[no].strip()) for no in range(start, end)
             if re.match(r"^\d+、(宝泉工业园|工业产业园|化工产业园)$", lines[no].strip())]
    spans = {}
    for i, (no, head) in enumerate(heads):
        stop = heads[i + 1][0] if i + 1 < len(heads) else end
        name = head.split("、", 1)[1]
        park = {"宝泉工业园": "baoquan", "工业产业园": "industrial", "化工产业园": "chemical"}[name]
        spans[park] = (no, stop)
    return spans


def test_function_zone_areas_match_text(zones, lines, joined):
    """Every '规划用地面积 … 公顷' in part 6 is a CSV row (same order, park, line, value, unit)."""
    text, owner = joined
    start, end = part_span(lines, "六")
    spans = park_spans(lines, start, end)
    found = []
    for m in re.finditer(r"规划用地面积为?\s*(" + NUM + r")\s*(公顷|平方公里|亩)", text):
        line = owner[m.start(1)]
        if not (start <= line < end):
            continue
        park = next(p for p, (a, b) in spans.items() if a <= line < b)
        found.append((park, m.group(1), m.group(2), line))
    with_area = zones[zones["area_published"] != ""]
    listed = [(r["park"], r["area_published"], r["unit_published"], int(r["source_line"]))
              for _, r in with_area.iterrows()]
    assert listed == found
    for _, r in with_area.iterrows():
        factor = UNIT_TO_HA[r["unit_published"]]
        assert abs(float(r["area_ha"]) - float(r["area_published"]) * factor) < 1e-6, r.to_dict()
        assert re.search(r"(?<![\d.])" + re.escape(r["area_published"]) + r"(?![\d.])",
                         lines[int(r["source_line"])]), r.to_dict()
    blank = zones[zones["area_published"] == ""]
    assert (blank["unit_published"] == "").all() and (blank["area_ha"] == "").all()


def test_function_zone_names_and_descriptions(zones, lines, joined):
    start, end = part_span(lines, "六")
    spans = park_spans(lines, start, end)
    for park, (a, b) in spans.items():
        heads = [(no, lines[no].strip()) for no in range(a, b) if re.match(r"^（\d+）", lines[no].strip())]
        sub = zones[zones["park"] == park]
        top = sub[~sub["zone_no"].str.contains(r"\.")]
        # one CSV row per printed zone heading, same order and names
        assert [f"（{r['zone_no']}）{r['name_published']}" for _, r in top.iterrows()] == [h for _, h in heads]
        bounds = {h.split("）")[0].lstrip("（"): (no, heads[i + 1][0] if i + 1 < len(heads) else b)
                  for i, (no, h) in enumerate(heads)}
        for _, r in sub.iterrows():
            head_no, stop = bounds[r["zone_no"].split(".")[0]]
            line = int(r["source_line"])
            assert head_no <= line < stop, r.to_dict()
            if "." not in r["zone_no"]:
                assert r["area_published"] or line == head_no, r.to_dict()
            zone_text = "".join(lines[no].strip() for no in range(head_no, stop))
            assert r["name_published"] in zone_text, r.to_dict()
            assert r["description_published"] and r["description_published"] in zone_text, r.to_dict()
            check_section(lines, r["section"].split(" > （")[0], head_no)
            if " > （" in r["section"]:
                assert r["section"].endswith(lines[head_no].strip())


# --------------------------------------------------------------------------
# parks
# --------------------------------------------------------------------------

def test_parks_match_text(parks, lines, joined):
    text, owner = joined
    assert sorted(parks["park"]) == ["baoquan", "chemical", "industrial", "total"]
    start, end = part_span(lines, "一")
    # every km² figure printed in part 1 is a park size in the CSV, at its line
    found = sorted((m.group(1), owner[m.start(1)])
                   for m in re.finditer(r"(" + NUM + r")\s*平方公里", text)
                   if start <= owner[m.start(1)] < end)
    listed = sorted((r["area_km2_published"], int(r["source_line"])) for _, r in parks.iterrows())
    assert listed == found
    spans = park_spans(lines, start, end)
    for _, r in parks.iterrows():
        line = int(r["source_line"])
        assert r["name_zh"] in text and r["name_en"]
        if r["park"] != "total":
            a, b = spans[r["park"]]
            assert a <= line < b, r.to_dict()
            assert lines[a].strip().endswith(r["name_zh"])
            assert r["town_zh"] and r["town_zh"] in "".join(lines[no].strip() for no in range(a, b))
            bounds = r["four_bounds_published"]
            assert all(d in bounds for d in ("东至", "南至", "西至", "北至")), r.to_dict()
            hits = find_in_joined(joined, bounds)
            assert any(a <= h < b and abs(h - line) <= 10 for h in hits), r.to_dict()
        hits = find_in_joined(joined, r["location_text_published"])
        assert r["location_text_published"] and any(abs(h - line) <= 60 for h in hits), r.to_dict()
        check_section(lines, r["section"], line)
