"""Tests of jixi_geo.landuse: loading, validation, shares, comparison, structure, crosswalk.

Small tables are built here with planted errors; each validator rule must catch
its own error, and the clean table must give no findings at all.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from jixi_geo import landuse as lu
from jixi_geo.landuse.load import _bundled
from jixi_geo.errors import EncodingError, InputError, JixiGeoError, SchemaError

PUBLISHED = [
    ("baoquan", "current", 6),
    ("industrial", "current", 7),
    ("chemical", "current", 15),
    ("industrial", "planned", 24),
    ("chemical", "planned", 19),
]

# --------------------------------------------------------------------------- helpers

# A clean planned table: 大类 and 中类, a 城市建设用地 subtotal, water outside it, a total.
CLEAN_ROWS = [
    ("R", "居住用地", "30.00", "30.00"),
    ("R2", "二类居住用地", "30.00", "30.00"),
    ("M", "工业用地", "50.00", "50.00"),
    ("M1", "一类工业用地", "20.00", "20.00"),
    ("M2", "二类工业用地", "30.00", "30.00"),
    ("G", "绿地与广场用地", "20.00", "20.00"),
    ("G1", "公园绿地", "15.00", "15.00"),
    ("G2", "防护绿地", "5.00", "5.00"),
    ("", "城市建设用地合计", "100.00", "100.00"),
    ("E E1", "水域", "4.00", ""),
    ("", "规划范围总用地合计", "104.00", ""),
]


def frame(rows=CLEAN_ROWS, **extra) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["code", "name", "area_ha", "share_pct"])
    for k, v in extra.items():
        df[k] = v
    return df


def edit(which: str, **changes) -> pd.DataFrame:
    """The clean table with the row whose code is ``which`` changed."""
    df = frame()
    i = df.index[df["code"] == which][0]
    for k, v in changes.items():
        df.loc[i, k] = v
    return df


def rules_of(findings: pd.DataFrame) -> set[str]:
    return set(findings["rule"])


# --------------------------------------------------------------------------- load_table


@pytest.mark.parametrize("park,stage,n", PUBLISHED)
def test_load_published_tables(park, stage, n):
    t = lu.load_table(park, stage)
    assert list(t.columns) == list(lu.TABLE_COLUMNS)
    assert len(t) == n
    assert list(t["row"]) == list(range(1, n + 1))
    assert (t["park"] == park).all() and (t["stage"] == stage).all()
    assert t["area_ha"].dtype == float and t["share_pct"].dtype == float
    assert not t["area_ha"].isna().any()
    assert (t["row_kind"] == "total").sum() == 1
    known = t[t["code"] != ""]
    assert (known["name_en"] != "").all()  # every published code is in the registry


def test_published_text_is_kept():
    t = lu.load_table("chemical", "current")
    row = t.set_index("row").loc[4]
    assert row["area_ha_published"] == "133.00" and row["area_ha"] == 133.0
    assert row["code"] == "H14" and row["level"] == "minor" and row["parent"] == "H1"
    assert row["name_zh"] == "村庄建设用地" and row["name_en"] == "Village construction land"
    # rows outside the construction-land boundary form a second block
    assert set(t.loc[t.row <= 8, "block"]) == {0} and set(t.loc[t.row >= 9, "block"]) == {1}
    parents = dict(zip(t["row"], t["parent_row"]))
    assert parents[1] == 8 and parents[2] == 1 and parents[3] == 2 and parents[8] == 15
    assert parents[9] == 15 and parents[12] == 15 and pd.isna(parents[15])


def test_combined_code_cell():
    t = lu.load_table("industrial", "planned").set_index("row")
    assert t.loc[21, "code_published"] == "H H4"
    assert t.loc[21, "code"] == "H4" and t.loc[21, "level"] == "medium"
    assert t.loc[21, "parent_row"] == 22  # top-level inside 城市建设用地合计
    assert t.loc[8, "code"] == "M2" and t.loc[8, "name_published"] == "三类工业用地"
    assert t.loc[8, "name_zh"] == "二类工业用地"  # the registry name of the printed code


@pytest.mark.parametrize("park,stage", [("baoquan", "planned"), ("jidong", "current"), ("industrial", "2035")])
def test_unknown_park_or_stage(park, stage):
    with pytest.raises(InputError) as e:
        lu.load_table(park, stage)
    msg = str(e.value)
    assert repr(park) in msg and repr(stage) in msg
    assert "('industrial', 'planned')" in msg and "('baoquan', 'current')" in msg


def test_encoding_without_path_is_refused():
    with pytest.raises(InputError, match="path="):
        lu.load_table("baoquan", "current", encoding="gbk")


# --------------------------------------------------------------------------- user files


SIMPLE_CSV = "代码,用地名称,面积(公顷),比例(%)\nM,工业用地,60.00,60.00\nM1,一类工业用地,20.00,20.00\n" \
             "M2,二类工业用地,40.00,40.00\nG,绿地与广场用地,40.00,40.00\n,城市建设用地合计,100.00,100.00\n"


@pytest.mark.parametrize("enc", ["gbk", "utf-8", "utf-8-sig"])
def test_user_csv_encodings(tmp_path, enc):
    p = tmp_path / f"{enc}.csv"
    p.write_bytes(SIMPLE_CSV.encode(enc))
    t = lu.load_table("demo", "planned", path=p)
    assert list(t["code"]) == ["M", "M1", "M2", "G", ""]
    assert list(t["name_published"])[:2] == ["工业用地", "一类工业用地"]
    assert list(t["row_kind"]) == ["class", "subclass", "subclass", "class", "total"]
    assert list(t["source_line"]) == [2, 3, 4, 5, 6]
    assert t["area_ha"].sum() == pytest.approx(260.0)
    assert len(lu.validate(t)) == 0


def test_user_csv_blank_lines_and_tabs(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("code\tname\tarea_ha\n\nM\t工业用地\t3.5\n\t\t\nG\t绿地与广场用地\t1.5\n\t合计\t5.0\n",
                 encoding="utf-8")
    t = lu.load_table("demo", "planned", path=p)
    assert list(t["code"]) == ["M", "G", ""] and list(t["source_line"]) == [3, 5, 6]
    assert lu.validate(t).empty


def test_user_csv_explicit_encoding(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(SIMPLE_CSV.encode("gbk"))
    assert len(lu.load_table("demo", "planned", path=p, encoding="gbk")) == 5
    with pytest.raises(EncodingError, match="utf-8"):
        lu.load_table("demo", "planned", path=p, encoding="utf-8")
    with pytest.raises(EncodingError, match="not an encoding"):
        lu.load_table("demo", "planned", path=p, encoding="klingon")


def test_user_csv_in_the_published_layout(tmp_path):
    src = _bundled("jidong_landuse.csv")
    p = tmp_path / "copy.csv"
    src.to_csv(p, index=False, encoding="gbk")
    t = lu.load_table("chemical", "current", path=p)
    ref = lu.load_table("chemical", "current")
    pd.testing.assert_frame_equal(t.drop(columns=["source_line"]), ref.drop(columns=["source_line"]))
    assert list(t["source_line"]) == list(ref["source_line"])
    with pytest.raises(InputError, match="stage column holds"):
        lu.load_table("chemical", "2035", path=p)


def test_tidy_table_round_trips(tmp_path):
    ref = lu.load_table("industrial", "planned")
    p = tmp_path / "tidy.csv"
    ref.to_csv(p, index=False)
    t = lu.load_table("industrial", "planned", path=p)
    pd.testing.assert_frame_equal(t, ref, check_dtype=False)


BAD_FILES = {
    "empty": b"",
    "header_only": b"code,name,area_ha\n",
    "no_code_column": "名称,面积\n工业用地,10\n".encode(),
    "no_area_column": b"code,name\nM,x\n",
    "area_in_mu": "代码,面积(亩)\nM,150\n".encode("gbk"),
    "no_numeric_area": b"code,area_ha\nM,ten\nG,five\n",
    "ragged": b"code,name,area_ha\nM,a,1,2,3,4\n",
    "excel": b"PK\x03\x04" + bytes(60),
    "binary": bytes(range(256)) * 4,
    "bad_row_kind": b"code,name,area_ha,row_kind\nM,x,1,class\n,y,1,grand_total\n",
    "bad_row_numbers": b"row,code,area_ha\n1,M,1\n1,G,2\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_unusable_files_raise_input_error(tmp_path, name):
    p = tmp_path / f"{name}.csv"
    p.write_bytes(BAD_FILES[name])
    with pytest.raises(InputError) as e:  # EncodingError and SchemaError are InputErrors
        lu.load_table("demo", "planned", path=p)
    assert p.name in str(e.value) or "encoding" in str(e.value)


def test_missing_columns_are_named(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("foo,bar\n1,2\n")
    with pytest.raises(SchemaError) as e:
        lu.load_table("demo", "planned", path=p)
    assert "code" in str(e.value) and "area_ha" in str(e.value) and "'foo'" in str(e.value)


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        lu.load_table("demo", "planned", path="/nonexistent/landuse.csv")


def test_content_problems_become_findings(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("code,name,area_ha\nM,工业用地,abc\nM1,一类工业用地,-5\nM1,一类工业用地,5\n"
                 "R4,四类居住用地,3\n", encoding="utf-8")
    t = lu.load_table("demo", "planned", path=p)  # loads: the problems are in the content
    f = lu.validate(t)
    got = set(zip(f["rule"], f["code"]))
    assert {("area_invalid", "M"), ("area_negative", "M1"), ("code_duplicate", "M1"),
            ("code_unknown", "R4"), ("total_missing", "")} <= got
    assert (f.loc[f.rule.isin(["area_invalid", "area_negative", "code_unknown"]), "severity"] == "error").all()
    r4 = f[f.rule == "code_unknown"].iloc[0]
    assert "GBJ 137-90" in r4["message"] and r4["actual"] == "R4"
    assert "'abc'" in f[f.rule == "area_invalid"].iloc[0]["message"]
    with pytest.raises(InputError, match="abc"):
        lu.shares(t)


# --------------------------------------------------------------------------- validate: planted errors


def test_clean_table_gives_no_findings():
    f = lu.validate(frame())
    assert list(f.columns) == list(lu.FINDING_COLUMNS)
    assert f.empty


def test_clean_table_with_context_gives_no_findings():
    assert lu.validate(frame(), park_area_km2="1.04", function_zones=[54.0, 50.0]).empty


def _with_row(df, at, row):
    top, bottom = df.iloc[:at], df.iloc[at:]
    return pd.concat([top, pd.DataFrame([row], columns=df.columns), bottom], ignore_index=True)


PLANTED = {
    "area_invalid": lambda: edit("M1", area_ha="abc"),
    "area_negative": lambda: edit("G2", area_ha="-5.00"),
    "share_invalid": lambda: edit("R2", share_pct="thirty"),
    "code_missing": lambda: edit("G2", code=""),
    "code_unknown": lambda: edit("R2", code="R4", name="四类居住用地"),
    "code_combined": lambda: edit("E E1", code="H E1"),
    "code_duplicate": lambda: edit("M2", code="M1", name="一类工业用地"),
    "name_mismatch": lambda: edit("M2", name="三类工业用地"),
    "category_misfiled": lambda: _with_row(frame(), 8, ["H4", "特殊用地", "0.00", "0.00"]),
    "children_sum": lambda: edit("M1", area_ha="21.00", share_pct="21.00"),
    "total_sum": lambda: edit("E E1", area_ha="5.00"),
    "total_missing": lambda: frame(CLEAN_ROWS[:8]),
    "total_multiple": lambda: frame(row_kind=["class", "subclass"] * 4 + ["total", "non_construction", "total"]),
    "share_mismatch": lambda: edit("R2", share_pct="30.50"),
    "shares_sum": lambda: edit("M", share_pct="52.00"),
    "share_basis": lambda: frame(share_basis="建设用地"),
}


@pytest.mark.parametrize("rule", sorted(PLANTED))
def test_each_rule_catches_its_planted_error(rule):
    assert rule in lu.RULES
    f = lu.validate(PLANTED[rule]())
    assert rule in rules_of(f), f.to_string()
    hit = f[f.rule == rule].iloc[0]
    assert hit["severity"] in ("error", "warning", "info")
    assert " / " in hit["message"]  # 中文 / English
    assert any("\u4e00" <= ch <= "\u9fff" for ch in hit["message"])


def test_planted_errors_are_precise():
    # each planted error is reported by its rule and not spread over unrelated rules
    assert rules_of(lu.validate(PLANTED["name_mismatch"]())) == {"name_mismatch"}
    assert rules_of(lu.validate(PLANTED["category_misfiled"]())) == {"category_misfiled"}
    assert rules_of(lu.validate(PLANTED["share_mismatch"]())) == {"share_mismatch"}
    assert rules_of(lu.validate(PLANTED["share_basis"]())) == {"share_basis"}
    assert rules_of(lu.validate(PLANTED["total_sum"]())) == {"total_sum"}
    f = lu.validate(PLANTED["children_sum"]())
    row = f[f.rule == "children_sum"].iloc[0]
    assert (row["code"], row["expected"], row["actual"], row["severity"]) == ("M", "50.00", "51.00", "error")


def test_subclass_printed_under_another_class():
    rows = [("W", "物流仓储用地", "10.00", ""), ("W1", "一类物流仓储用地", "5.00", ""),
            ("M2", "二类工业用地", "5.00", ""), ("", "合计", "15.00", "")]
    f = lu.validate(frame(rows))
    hit = f[f.rule == "category_misfiled"]
    assert list(hit["code"]) == ["M2"] and list(hit["actual"]) == ["W"]
    assert "children_sum" in rules_of(f)  # W's subclasses now fall short


def test_name_mismatch_suggests_the_right_code():
    f = lu.validate(PLANTED["name_mismatch"]())
    assert f.iloc[0]["actual"] == "三类工业用地 (= M3)" and f.iloc[0]["expected"] == "二类工业用地"


def test_names_allow_obvious_equivalents():
    df = edit("M2", name=" 二类工业 ")
    df.loc[df.code == "G", "name"] = "绿地与广场"
    assert lu.validate(df).empty


def test_zones_and_park_area_rules():
    f = lu.validate(frame(), function_zones=[50.0, 50.0])
    z = f[f.rule == "zones_sum"].iloc[0]
    assert (z["severity"], z["expected"], z["actual"]) == ("warning", "104.00", "100.00")
    f = lu.validate(frame(), park_area_km2=2.0)
    assert list(f["rule"]) == ["park_area"] and f.iloc[0]["expected"] == "2.00 km2"
    with pytest.raises(InputError, match="park_area_km2"):
        lu.validate(frame(), park_area_km2="big")
    with pytest.raises(InputError, match="function_zones"):
        lu.validate(frame(), function_zones=["x"])


def test_rounding_tolerance():
    rows = [("M", "工业用地", "1.00", ""), ("M1", "一类工业用地", "0.33", ""),
            ("M2", "二类工业用地", "0.33", ""), ("M3", "三类工业用地", "0.33", ""),
            ("", "合计", "1.00", "")]
    f = lu.validate(frame(rows))
    assert list(f["rule"]) == ["children_sum"] and f.iloc[0]["severity"] == "info"
    rows[1] = ("M1", "一类工业用地", "0.30", "")  # 0.96: beyond 3 × 0.005
    f = lu.validate(frame(rows))
    assert list(f["severity"]) == ["warning"]  # subclasses short of the class: incomplete?
    rows[1] = ("M1", "一类工业用地", "0.40", "")  # 1.06: subclasses exceed the class
    assert list(lu.validate(frame(rows))["severity"]) == ["error"]


def test_edited_table_uses_the_parsed_values():
    t = lu.load_table("baoquan", "current")
    t.loc[t.row == 5, "area_ha"] = 4.0  # the published text still says 3.57
    f = lu.validate(t)
    e = f[f.rule == "children_sum"].iloc[0]
    assert (e["code"], e["expected"], e["actual"]) == ("E", "3.57", "4.00")
    assert f[f.rule == "share_mismatch"].iloc[0]["severity"] == "warning"


def test_numbers_given_as_numbers_are_taken_to_two_decimals():
    f = lu.validate(pd.DataFrame({"code": ["M", "M1", "M2", ""], "name": ["", "", "", "合计"],
                                  "area_ha": [10, 4, 7, 10]}))
    assert list(zip(f["rule"], f["severity"], f["actual"])) == [("children_sum", "error", "11.00")]


def test_duplicates_are_per_block():
    # the same code inside and outside the construction-land boundary is not a duplicate
    t = lu.load_table("chemical", "current")
    assert (t["code"] == "H").sum() == 2
    assert "code_duplicate" not in rules_of(lu.validate(t))


# --------------------------------------------------------------------------- validate: published tables

PUBLISHED_FINDINGS = {
    ("baoquan", "current"): {("warning", "park_area", "", "0.47 km2", "0.4763 km2")},
    ("industrial", "current"): {("warning", "share_mismatch", "E2", "55.74", "55.75")},
    ("chemical", "current"): {
        ("warning", "share_mismatch", "E2", "76.32", "76.31"),
        ("error", "total_sum", "", "712.64", "725.04"),
    },
    ("industrial", "planned"): {
        ("error", "code_duplicate", "M2", "1 row", "2 rows (7, 8)"),
        ("warning", "name_mismatch", "M2", "二类工业用地", "三类工业用地 (= M3)"),
        ("warning", "category_misfiled", "H4", "R A B M W S U G", "H H4"),
        ("info", "shares_sum", "", "100.00", "100.01"),
        ("warning", "zones_sum", "", "351.73", "351.43"),
    },
    ("chemical", "planned"): {
        ("info", "shares_sum", "", "100.00", "99.99"),
        ("warning", "share_basis", "", "建设用地", "城市建设用地合计"),
        ("info", "code_missing", "", "a GB 50137-2011 code", ""),
        ("info", "zones_sum", "", "712.64", "712.62"),
    },
}


@pytest.mark.parametrize("park,stage", list(PUBLISHED_FINDINGS))
def test_findings_on_published_tables(park, stage):
    f = lu.validate(lu.load_table(park, stage))
    got = set(zip(f["severity"], f["rule"], f["code"], f["expected"], f["actual"]))
    assert got == PUBLISHED_FINDINGS[(park, stage)], f.to_string()
    assert (f["park"] == park).all() and (f["stage"] == stage).all()


def test_validate_concatenated_published_tables():
    both = pd.concat([lu.load_table(p, s) for p, s, _ in PUBLISHED])
    f = lu.validate(both)
    assert len(f) == sum(len(v) for v in PUBLISHED_FINDINGS.values())


def test_validate_refuses_non_tables():
    with pytest.raises(InputError):
        lu.validate([1, 2, 3])
    with pytest.raises(InputError):
        lu.validate(pd.DataFrame())


# --------------------------------------------------------------------------- shares


@pytest.mark.parametrize("park,stage,n", PUBLISHED)
@pytest.mark.parametrize("level", lu.LEVELS)
def test_shares_of_published_tables(park, stage, n, level):
    s = lu.shares(lu.load_table(park, stage), level=level)
    assert list(s.columns) == ["code", "level", "name_zh", "name_en", "area_ha", "share_pct"]
    assert s["share_pct"].sum() == pytest.approx(100.0)
    assert s["code"].is_unique


def test_shares_values():
    s = lu.shares(lu.load_table("industrial", "planned")).set_index("code")
    assert s.loc["M", "area_ha"] == pytest.approx(162.91)
    assert s.loc["H", "area_ha"] == pytest.approx(2.58)  # from the combined H H4 row
    assert s["area_ha"].sum() == pytest.approx(351.73)
    s = lu.shares(lu.load_table("chemical", "planned"), level="medium").set_index("code")
    assert s.loc["M3", "area_ha"] == pytest.approx(419.63)
    assert s.loc["", "name_zh"] == "预留发展用地"
    assert s["area_ha"].sum() == pytest.approx(712.64)
    # both blocks of the chemical park's current table count
    s = lu.shares(lu.load_table("chemical", "current")).set_index("code")
    assert s.loc["H", "area_ha"] == pytest.approx(162.49 + 12.07)


def test_shares_from_subclasses_when_no_class_row():
    s = lu.shares(frame([("M1", "", "2", ""), ("M2", "", "6", ""), ("G", "", "2", ""), ("", "合计", "10", "")]))
    assert dict(zip(s.code, s.share_pct.round(6))) == {"M": 80.0, "G": 20.0}


def test_shares_of_features():
    gdf = gpd.GeoDataFrame(
        {"landuse_code": ["M1", "m2", "G1"], "ha": [1.0, 3.0, 4.0]},
        geometry=[box(500000, 5000000, 501000, 5001000), box(501000, 5000000, 503000, 5001000),
                  box(503000, 5000000, 504000, 5001000)],
        crs="EPSG:4553",
    )
    s = lu.shares(gdf).set_index("code")
    assert s.loc["M", "area_ha"] == pytest.approx(300.0, rel=1e-4)  # geodesic, ~100 ha per km²
    assert s.loc["M", "share_pct"] == pytest.approx(75.0, rel=1e-4)
    s = lu.shares(gdf, level="medium", area_col="ha").set_index("code")
    assert s["area_ha"].to_dict() == {"M1": 1.0, "M2": 3.0, "G1": 4.0}
    with pytest.raises(SchemaError, match="landuse_code"):
        lu.shares(gdf.drop(columns="landuse_code"))
    with pytest.raises(InputError, match="no 'landuse_code'"):
        lu.shares(gdf.assign(landuse_code=["M1", "", "G"]))


def test_shares_bad_level():
    with pytest.raises(InputError, match="level='small'"):
        lu.shares(frame(), level="small")


def test_shares_needs_one_table():
    both = pd.concat([lu.load_table("baoquan", "current"), lu.load_table("industrial", "current")])
    with pytest.raises(InputError, match="one table"):
        lu.shares(both)


# --------------------------------------------------------------------------- compare


def test_compare_arithmetic():
    cur = frame([("M", "", "40", ""), ("G", "", "10", ""), ("E", "", "50", ""), ("", "合计", "100", "")])
    plan = frame([("M", "", "60", ""), ("G", "", "20", ""), ("R", "", "20", ""), ("", "合计", "100", "")])
    c = lu.compare(cur, plan).set_index("code")
    assert list(c.columns) == ["name_zh", "name_en", "current_ha", "planned_ha", "change_ha",
                               "current_share_pct", "planned_share_pct", "change_pp"]
    assert c.loc["M"].tolist()[2:] == pytest.approx([40, 60, 20, 40, 60, 20])
    assert c.loc["R"].tolist()[2:] == pytest.approx([0, 20, 20, 0, 20, 20])
    assert c.loc["E"].tolist()[2:] == pytest.approx([50, 0, -50, 50, 0, -50])
    assert c["change_ha"].sum() == pytest.approx(0.0)
    assert c["change_pp"].sum() == pytest.approx(0.0)


def test_compare_published():
    c = lu.compare(lu.load_table("chemical", "current"), lu.load_table("chemical", "planned"))
    assert (c["change_ha"] == c["planned_ha"] - c["current_ha"]).all()
    assert c["planned_share_pct"].sum() == pytest.approx(100.0)


# --------------------------------------------------------------------------- check_structure


def test_check_structure_statuses():
    t = frame([("R", "", "30", ""), ("A", "", "2", ""), ("M", "", "40", ""), ("S", "", "15", ""),
               ("G", "", "13", ""), ("", "城市建设用地合计", "100", "")])
    s = lu.check_structure(t)
    assert list(s.columns[:8]) == ["code", "name_zh", "name_en", "area_ha", "share_pct", "min_pct",
                                   "max_pct", "status"]
    got = dict(zip(s["code"], s["status"]))
    assert got == {"R": "within", "A": "below", "M": "above", "S": "within", "G": "within"}
    assert s.set_index("code").loc["M", "share_pct"] == pytest.approx(40.0)
    assert (s["min_pct"] < s["max_pct"]).all()
    note = s["note"].iloc[0]
    assert "4.4.2" in note and "工矿城市" in note and "mining" in note and "industrial park" in note


def test_check_structure_published():
    s = lu.check_structure(lu.load_table("industrial", "planned")).set_index("code")
    assert s.loc["M", "status"] == "above" and s.loc["R", "status"] == "below"
    assert s.loc["M", "basis_ha"] == pytest.approx(350.46 - 2.58)  # R…G only, without H4
    t = lu.check_structure(lu.load_table("industrial", "planned"), basis="table").set_index("code")
    assert t.loc["M", "share_pct"] == pytest.approx(46.48, abs=0.005)  # as published
    with pytest.raises(InputError, match="城市建设用地"):
        lu.check_structure(lu.load_table("baoquan", "current"))
    with pytest.raises(InputError, match="basis"):
        lu.check_structure(lu.load_table("industrial", "planned"), basis="gross")


# --------------------------------------------------------------------------- crosswalk


def test_crosswalk_industrial_classes():
    t = frame([("M", "工业用地", "60", ""), ("M1", "一类工业用地", "10", ""), ("M2", "二类工业用地", "20", ""),
               ("M3", "三类工业用地", "30", ""), ("", "合计", "60", "")])
    x = lu.crosswalk(t)
    assert list(zip(x["code"], x["code_2023"])) == [("M1", "100101"), ("M2", "100102"), ("M3", "100103")]
    assert x["apportionable"].all() and (x["relation"] == "equivalent").all()
    assert x["area_2023_ha"].tolist() == [10.0, 20.0, 30.0]
    assert list(x["name_2023_zh"]) == ["一类工业用地", "二类工业用地", "三类工业用地"]
    every = lu.crosswalk(t, leaves_only=False)
    assert ("M", "1001") in set(zip(every["code"], every["code_2023"]))
    assert every.loc[every.code == "M", "leaf"].tolist() == [False]


def test_crosswalk_partial_is_not_apportioned():
    x = lu.crosswalk(lu.load_table("industrial", "planned"))
    r2 = x[x.code == "R2"]
    assert set(r2["code_2023"]) == {"070102", "0702"} and not r2["apportionable"].any()
    assert r2["area_ha"].tolist() == [16.29, 16.29] and r2["area_2023_ha"].isna().all()
    # each hectare is apportioned at most once
    once = x.drop_duplicates("row")  # the leaves: every hectare of the table once
    assert once["area_ha"].sum() == pytest.approx(351.73)
    assert x["area_2023_ha"].sum() < 351.73


def test_crosswalk_rows_without_mapping():
    x = lu.crosswalk(lu.load_table("chemical", "planned"))
    reserve = x[x.code == ""]
    assert len(reserve) == 1 and reserve.iloc[0]["relation"] == "none"
    assert reserve.iloc[0]["area_ha"] == pytest.approx(10.10)


def test_crosswalk_unknown_target():
    with pytest.raises(InputError, match="to='1990'"):
        lu.crosswalk(frame(), to="1990")


# --------------------------------------------------------------------------- zones and parks


def test_function_zones_and_parks():
    z = lu.load_function_zones("industrial")
    assert z.loc[z.counted, "area_ha"].sum() == pytest.approx(351.43)
    assert not z.set_index("zone_no").loc["2", "counted"]
    c = lu.load_function_zones("chemical")
    assert c.loc[c.counted, "area_ha"].sum() == pytest.approx(712.62)
    with pytest.raises(InputError, match="baoquan"):
        lu.load_function_zones("baoquan")
    parks = lu.load_parks().set_index("park")
    assert parks.loc["baoquan", "area_ha"] == pytest.approx(47.0)
    f = lu.validate(lu.load_table("industrial", "planned"), function_zones=c)
    assert "zones_sum" in rules_of(f)  # explicit zones replace the recorded ones


def test_errors_are_jixi_geo_errors():
    for call in (lambda: lu.load_table("x", "y"), lambda: lu.shares(frame(), level="x"),
                 lambda: lu.crosswalk(frame(), to="x"), lambda: lu.load_function_zones("x")):
        with pytest.raises(JixiGeoError):
            call()
    assert math.isnan(lu.load_table("chemical", "current")["share_pct"].iloc[-1])
