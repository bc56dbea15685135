"""The land-use package keeps its public API and has one documented check per rule."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pandas as pd

import jixi_geo as jg
from jixi_geo.landuse import checks
from jixi_geo.landuse.table import tables_in


def test_public_names_are_kept_and_lazy_access_works():
    lu = importlib.import_module("jixi_geo.landuse")
    assert jg.landuse is lu
    for name in lu.__all__:
        assert hasattr(lu, name), name
    for fn in ("published_tables", "load_table", "load_function_zones", "load_parks", "validate", "shares",
               "compare", "check_structure", "crosswalk"):
        assert callable(getattr(lu, fn)) and "Examples" in getattr(lu, fn).__doc__, fn
    # a submodule must not shadow a public function of the same name
    assert callable(lu.validate) and callable(lu.shares) and callable(lu.crosswalk)


def test_every_rule_has_one_documented_check():
    assert list(checks.CHECKS) == list(jg.landuse.RULES)
    fns = list(checks.CHECKS.values())
    assert len(set(fns)) == len(fns)  # one function per rule
    for rule, fn in checks.CHECKS.items():
        assert fn.__name__ == f"check_{rule}", rule
        assert fn.__doc__ and f"``{rule}``" in fn.__doc__, rule


def test_each_check_reports_only_its_rule():
    t = pd.DataFrame({"code": ["M", "M1", "M1", "R4", "W M2", "H4", "", "", ""],
                      "name": ["工业用地", "一类", "一类工业用地", "x", "y", "特殊用地", "预留发展用地",
                               "城市建设用地合计", "合计"],
                      "area_ha": ["abc", "-1", "2", "3", "1", "1", "1", "4", "9"],
                      "share_pct": ["x", "", "", "", "", "", "", "100", ""]})
    f = jg.landuse.validate(t, park_area_km2="1.00", function_zones=[5.0])
    (ctx, rows, _), = tables_in(t, "validate")
    ctx = {**ctx, "zones": [("1", "", 5.0, 1, "5.0")], "park_area_km2": (1.0, 2)}
    for rule in set(f["rule"]):
        got = checks.CHECKS[rule](rows, ctx)
        assert got and {g["rule"] for g in got} == {rule}, rule
        assert len(got) == (f["rule"] == rule).sum(), rule  # validate reports exactly these
    assert {"area_invalid", "area_negative", "share_invalid", "code_unknown", "code_combined", "code_duplicate",
            "code_missing", "category_misfiled", "park_area", "zones_sum"} <= set(f["rule"])


def test_no_landuse_module_over_600_lines():
    pkg = Path(jg.landuse.__file__).parent
    names = [m.name for m in pkgutil.iter_modules([str(pkg)])]
    assert {"codes", "table", "checks", "io"} <= set(names)
    for py in pkg.glob("*.py"):
        assert len(py.read_text(encoding="utf-8").splitlines()) <= 600, py.name
