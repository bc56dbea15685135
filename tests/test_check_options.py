"""One options contract: every keyword of read_sites is accepted by each check function and reaches the reader.

The keywords are taken from ``inspect.signature(read_sites)``, so a keyword added to
the reader later fails these tests until every check function takes it (and a case
below shows it reaching the reader).
"""

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import jixi_geo as jg
from jixi_geo import batch, redline
from jixi_geo.batch import check_file, read_results
from jixi_geo.errors import JixiGeoError
from jixi_geo.redline import ReadOptions, check_sites, check_sites_detail
from jixi_geo.sites import read_sites

READ_KEYWORDS = {name: p for name, p in inspect.signature(read_sites).parameters.items()
                 if p.kind is inspect.Parameter.KEYWORD_ONLY}
CHECKS = {"check_sites": check_sites, "check_sites_detail": check_sites_detail, "check_file": check_file}


def test_read_sites_has_the_options_this_contract_knows():
    # guards the test itself: an empty or shrunken keyword list would make the checks below vacuous
    assert {"coords", "crs", "id_column", "layer", "encoding", "make_valid", "cad_layer", "sheet",
            "name_column"} <= set(READ_KEYWORDS)


@pytest.mark.parametrize("func", CHECKS, ids=list(CHECKS))
def test_every_read_sites_keyword_is_a_keyword_of_each_check_function(func):
    params = inspect.signature(CHECKS[func]).parameters
    for name, p in READ_KEYWORDS.items():
        assert name in params, f"{func} lacks read_sites' keyword {name!r}"
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, (func, name)
        assert params[name].default == p.default, (func, name)
        # the docstring documents it (the shared block)
        assert f"\n    {name} :" in CHECKS[func].__doc__ or f"{name}," in CHECKS[func].__doc__ or \
            f", {name} :" in CHECKS[func].__doc__, (func, name)


def test_read_options_are_read_sites_keywords_with_their_defaults():
    fields = {f: getattr(ReadOptions(), f) for f in ReadOptions().kwargs()}
    assert fields == {name: p.default for name, p in READ_KEYWORDS.items()}


def test_check_functions_share_their_other_options_too():
    """buffer_m, search_m, zones_layer, method …: one set of options serves all three."""
    common = set(inspect.signature(check_sites).parameters) - {"sites"}
    for func in (check_sites_detail, check_file):
        assert common <= set(inspect.signature(func).parameters), func.__name__


def _sites_csv(tmp_path) -> Path:
    # two sites inside a control zone (rows in check_sites_detail), one clear; two name columns
    df = pd.DataFrame({"site_id": ["a", "b", "c"], "lon": [132.45, 132.46, 131.05], "lat": [45.43, 45.43, 45.45],
                       "名称": ["甲", "乙", "丙"], "alias": ["north pit", "south pit", "quarry"]})
    src = tmp_path / "sites.csv"
    df.to_csv(src, index=False, encoding="utf-8")
    return src


def _run(func, src, tmp_path, **kw):
    if func == "check_file":
        return read_results(check_file(src, tmp_path / f"out-{len(list(tmp_path.iterdir()))}.parquet",
                                       progress=False, **kw))
    return CHECKS[func](src, **kw)


@pytest.mark.parametrize("func", CHECKS, ids=list(CHECKS))
def test_name_column_changes_site_name_in_each_check_function(tmp_path, func):
    src = _sites_csv(tmp_path)
    default = _run(func, src, tmp_path)
    named = _run(func, src, tmp_path, name_column="alias")
    names = {"a": "north pit", "b": "south pit", "c": "quarry"}
    assert len(named) and list(named["site_name"].astype(str)) == [names[s] for s in named["site_id"]]
    assert list(default["site_name"].astype(str)) == [{"a": "甲", "b": "乙", "c": "丙"}[s] for s in default["site_id"]]
    assert set(named["site_id"]) >= {"a", "b"}  # the detail table lists the two sites in a zone


def _bowtie_gpkg(tmp_path) -> Path:
    g = gpd.GeoDataFrame({"site_id": ["bow"]}, crs="EPSG:4490", geometry=[shapely.Polygon(
        [(131.50, 45.40), (131.52, 45.42), (131.52, 45.40), (131.50, 45.42)])])
    src = tmp_path / "bow.gpkg"
    g.to_file(src, layer="sites", driver="GPKG")
    return src


# keyword -> (input builder, value the reader refuses, words its error names): the same
# refusal from every check function shows the option reached the reader
REFUSED = {
    "coords": (_sites_csv, "mars", "mars"),
    "crs": (_sites_csv, "EPSG:99999999", "99999999"),
    "id_column": (_sites_csv, "no_such_column", "no_such_column"),
    "layer": (_bowtie_gpkg, "no_such_layer", "no_such_layer"),
    "encoding": (_sites_csv, "no-such-codec", "no-such-codec"),
    "cad_layer": (_sites_csv, "红线", "cad-layer"),
    "sheet": (_sites_csv, "Sheet1", "sheet"),
    "name_column": (_sites_csv, "no_such_name", "no_such_name"),
}


@pytest.mark.parametrize("keyword", sorted(READ_KEYWORDS))
@pytest.mark.parametrize("func", CHECKS, ids=list(CHECKS))
def test_each_read_option_reaches_the_reader(tmp_path, func, keyword):
    if keyword == "make_valid":  # a bow-tie polygon: refused without it, repaired (and noted) with it
        src = _bowtie_gpkg(tmp_path)
        with pytest.raises(JixiGeoError, match="make_valid"):
            _run(func, src, tmp_path)
        if func == "check_sites_detail":
            assert isinstance(_run(func, src, tmp_path, make_valid=True), pd.DataFrame)
        else:
            res = _run(func, src, tmp_path, make_valid=True)
            assert "make_valid" in str(res["note"].iloc[0])
        return
    assert keyword in REFUSED, f"no case shows read_sites' keyword {keyword!r} reaching the reader"
    build, value, named = REFUSED[keyword]
    src = build(tmp_path)
    with pytest.raises(JixiGeoError) as direct:
        read_sites(src, **{keyword: value})
    assert named in str(direct.value)
    with pytest.raises(type(direct.value)) as got:
        _run(func, src, tmp_path, **{keyword: value})
    assert named in str(got.value)
    if func == "check_file":
        assert not list(tmp_path.glob("out-*")), "refused before any output was written"


def test_check_file_reads_whole_when_an_option_its_stream_does_not_take_is_given(tmp_path, caplog):
    src = _sites_csv(tmp_path)
    with caplog.at_level("INFO", logger="jixi_geo.batch"):
        check_file(src, tmp_path / "o.parquet", progress=False, name_column="alias")
    assert "read whole: the streaming reader does not take name_column" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="jixi_geo.batch"):
        check_file(src, tmp_path / "p.parquet", progress=False, id_column="site_id", encoding="utf-8")
    assert "read whole" not in caplog.text  # streamed


def test_check_file_records_the_read_options_and_does_not_resume_across_them(tmp_path):
    src = _sites_csv(tmp_path)
    out = check_file(src, tmp_path / "r.parquet", progress=False)
    assert set(read_results(out)["site_name"]) == {"甲", "乙", "丙"}
    out = check_file(src, out, progress=False, name_column="alias")  # not resumed from the first run
    assert set(read_results(out)["site_name"]) == {"north pit", "south pit", "quarry"}


def test_check_file_passes_method_and_zones_layer(tmp_path):
    src = _sites_csv(tmp_path)
    with pytest.raises(JixiGeoError, match="method"):
        check_file(src, tmp_path / "m.parquet", progress=False, method="nope")
    ref = read_results(check_file(src, tmp_path / "ref.parquet", progress=False, method="reference"))
    fast = read_results(check_file(src, tmp_path / "fast.parquet", progress=False))
    assert list(ref["verdict"]) == list(fast["verdict"])
    zones = jg.load_layer("redline_zones")
    zfile = tmp_path / "zones.gpkg"
    zones.to_file(zfile, layer="a", driver="GPKG")
    zones.iloc[:0].to_file(zfile, layer="b", driver="GPKG")
    with pytest.raises(JixiGeoError, match="zones-layer"):
        check_file(src, tmp_path / "z.parquet", progress=False, zones=zfile)
    got = read_results(check_file(src, tmp_path / "z.parquet", progress=False, zones=zfile, zones_layer="a"))
    assert list(got["verdict"]) == list(fast["verdict"])


def test_check_sites_detail_checks_search_m_as_check_sites_does():
    s = gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[shapely.Point(132.45, 45.43)], crs="EPSG:4490")
    with pytest.raises(JixiGeoError, match="search_m"):
        check_sites_detail(s, search_m=float("nan"))
    assert check_sites_detail(s, search_m=50_000).equals(check_sites_detail(s))  # no row depends on it


def _imports(path: Path) -> set[str]:
    """Every module a source file imports, at any depth (function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            found |= {f"{base}{a.name}" if node.module is None else base for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_redline_never_imports_batch_so_there_is_no_cycle():
    from jixi_geo import assembly, measures, options, zonefile

    for mod in (redline, options, assembly, measures, zonefile):  # redline and the modules split from it
        imported = _imports(Path(inspect.getfile(mod)))
        assert not {m for m in imported if m.split(".")[-1] in ("batch", "scale")}, (mod.__name__, imported)
    assert ".redline" in _imports(Path(batch.__file__))


def test_the_dask_dispatch_is_registered_by_importing_the_package():
    code = ("import jixi_geo.options as o, jixi_geo.batch as b; "
            "print([c.__module__ + '.' + c.__name__ for _, c in o.PARTITIONED])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['jixi_geo.batch.check_sites_dask']"


def test_a_dask_frame_gets_every_option_too(tmp_path):
    dask_geopandas = pytest.importorskip("dask_geopandas")
    g = gpd.GeoDataFrame({"site_id": ["a", "b", "c"], "alias": ["x", "y", "z"]}, crs="EPSG:4490",
                         geometry=gpd.points_from_xy([132.45, 132.46, 131.05], [45.43, 45.43, 45.45]))
    ddf = dask_geopandas.from_geopandas(g, npartitions=2)
    got = check_sites(ddf, name_column="alias", activity="wind_farm").compute(scheduler="synchronous")
    assert list(got["site_name"]) == ["x", "y", "z"]
    with pytest.raises(JixiGeoError, match="fast kernel only"):
        check_sites(ddf, method="reference")  # no longer dropped on the way to the partitions


def test_cli_passes_every_read_option_to_check_file_too(tmp_path):
    """``jixi-geo check … --out NAME.parquet`` (check_file) gets --name-column as the in-memory path does."""
    from click.testing import CliRunner

    from jixi_geo.cli import main

    src = _sites_csv(tmp_path)
    r = CliRunner().invoke(main, ["check", str(src), "--name-column", "alias", "--out", str(tmp_path / "c.parquet")])
    assert r.exit_code in (0, 1), r.output
    assert set(read_results(tmp_path / "c.parquet")["site_name"]) == {"north pit", "south pit", "quarry"}
    r = CliRunner().invoke(main, ["check", str(src), "--sheet", "1", "--out", str(tmp_path / "d.gpkg")])
    assert r.exit_code == 3 and "sheet" in r.output and not (tmp_path / "d.gpkg").exists()
