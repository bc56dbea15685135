"""Large inputs: streamed, resumable file checks; dask partitions give identical results."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import jixi_geo as jg
from jixi_geo.redline import check_sites
from jixi_geo.batch import check_file, plain_results, read_results

AUDIT = ["checked_at"]


def _points(n, seed=1):
    rng = np.random.default_rng(seed)
    b = jg.load_layer("boundary").total_bounds
    return pd.DataFrame({"site_id": [f"p{i:06d}" for i in range(n)],
                         "lon": rng.uniform(b[0], b[2], n).round(6), "lat": rng.uniform(b[1], b[3], n).round(6),
                         "activity": rng.choice(["wind_farm", "road", "风电场", ""], n)})


def _same(a, b):
    a, b = plain_results(a).drop(columns=AUDIT), plain_results(b).drop(columns=AUDIT)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")),
                                  check_dtype=False)
    assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()


def test_streamed_file_equals_the_in_memory_run(tmp_path):
    df = _points(2500)
    src = tmp_path / "sites.csv"
    df.to_csv(src, index=False)
    out = check_file(src, tmp_path / "res.parquet", chunksize=700, progress=False)
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 4
    streamed = read_results(out)
    whole = check_sites(src)
    _same(streamed, whole)
    assert json.loads((out / "_manifest.json").read_text())["complete"] is True


def test_interrupted_run_resumes_after_the_last_finished_part(tmp_path, monkeypatch):
    df = _points(2000)
    src = tmp_path / "sites.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "res.parquet"
    import jixi_geo.redline as rl

    real = rl.check_sites
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(rl, "check_sites", flaky)
    with pytest.raises(KeyboardInterrupt):
        check_file(src, out, chunksize=500, progress=False)
    kept = sorted(p.name for p in out.glob("part-*.parquet"))
    assert kept == ["part-00000.parquet", "part-00001.parquet"]  # finished parts survive, no partial file
    assert not list(out.glob(".*"))
    calls["n"] = -100
    monkeypatch.setattr(rl, "check_sites", lambda *a, **k: (calls.__setitem__("n", calls["n"] + 1), real(*a, **k))[1])
    check_file(src, out, chunksize=500, progress=False)
    assert calls["n"] == -100 + 2  # only the two missing chunks were checked again
    _same(read_results(out), check_sites(src))


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_bad_row_in_a_later_chunk_stops_the_run_after_the_parts_before_it(tmp_path, kind):
    """The next chunk is read ahead on a second thread; a reader's refusal still surfaces when
    that chunk's turn comes: the parts before it are finished and listed, none after it, and
    the run is not marked complete."""
    from jixi_geo.errors import JixiGeoError

    df = _points(2000)
    df["lon"] = df["lon"].astype(object)
    df.loc[1234, "lon"] = "abc"  # chunk 2 of 500-site chunks (rows 1000-1499)
    src = tmp_path / f"sites.{kind}"
    if kind == "csv":
        df.to_csv(src, index=False)
    else:
        df.astype({"lon": str, "lat": str}).to_parquet(src, row_group_size=500)
    out = tmp_path / "res.parquet"
    with pytest.raises(JixiGeoError, match="p001234"):
        check_file(src, out, chunksize=500, progress=False)
    assert sorted(p.name for p in out.glob("part-*.parquet")) == ["part-00000.parquet", "part-00001.parquet"]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["done"] == [0, 1] and not manifest.get("complete")
    with pytest.raises(JixiGeoError):
        read_results(out)


def test_changed_options_do_not_resume(tmp_path):
    df = _points(600)
    src = tmp_path / "sites.csv"
    df.to_csv(src, index=False)
    out = check_file(src, tmp_path / "r", chunksize=300, progress=False)
    before = read_results(out)
    out = check_file(src, out, chunksize=300, progress=False, buffer_m=5000)
    after, fresh = read_results(out), check_sites(src, buffer_m=5000)
    _same(after, fresh)  # every part checked again with the new buffer, none kept from the first run
    # the buffer matters for these points: a stale resume would have given other verdicts
    assert (fresh["verdict"] == "attention").sum() > (before["verdict"] == "attention").sum()


def test_geoparquet_input_and_output(tmp_path):
    df = _points(300)
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4490")
    src = tmp_path / "big.parquet"
    g.to_parquet(src)
    out = check_file(src, tmp_path / "out.parquet", chunksize=100, progress=False)
    _same(read_results(out), check_sites(g))


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(tmp_path):
    dask_geopandas = pytest.importorskip("dask_geopandas")
    distributed = pytest.importorskip("distributed")
    df = _points(3000, seed=7)
    g = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat),
                         crs="EPSG:4490")
    ddf = dask_geopandas.from_geopandas(g, npartitions=4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl):
        lazy = check_sites(ddf)
        assert type(lazy).__module__.startswith("dask_geopandas")
        got = lazy.compute()
    assert got.index.equals(g.index)  # the input's index, not one reset per partition
    _same(got, check_sites(g))


def test_in_process_result_keeps_the_input_index_and_joins_back():
    df = _points(6, seed=3)
    g = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat),
                         crs="EPSG:4490").set_axis([1000, 1001, 7, -3, 1002, 5])
    res = check_sites(g)
    assert list(res.index) == [1000, 1001, 7, -3, 1002, 5]
    joined = g.join(res[["verdict"]])  # a planner joins results back by index
    assert list(joined["verdict"]) == list(check_sites(g.reset_index(drop=True))["verdict"])
    assert list(check_sites(g.iloc[:2]).index) == [1000, 1001]
    named = pd.DataFrame({"lon": [131.0, 132.45], "lat": [45.3, 45.43]}, index=pd.Index(["a", "b"], name="key"))
    assert check_sites(named).index.equals(named.index)


@pytest.mark.slow
def test_dask_result_index_is_the_input_index_at_400k_points():
    dask_geopandas = pytest.importorskip("dask_geopandas")
    n = 400_000
    rng = np.random.default_rng(17)
    b = jg.load_layer("boundary").total_bounds
    g = gpd.GeoDataFrame({"site_id": np.char.add("d", np.arange(n).astype(str))},
                         geometry=gpd.points_from_xy(rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)),
                         crs="EPSG:4490").set_axis(np.arange(n) * 3 + 10)  # unique, not 0..n-1
    ddf = dask_geopandas.from_geopandas(g, npartitions=4)
    got = check_sites(ddf, activity="wind_farm").compute(scheduler="threads")
    assert got.index.is_unique and got.index.equals(g.index)
    whole = check_sites(g, activity="wind_farm")
    joined = g[["site_id"]].join(got[["verdict"]])
    assert (joined["verdict"].astype(str) == whole["verdict"].astype(str)).all()
    assert (got["site_id"] == g["site_id"]).all()


def test_old_module_name_scale_is_a_deprecated_alias_of_batch():
    """``jixi_geo.scale`` (the old name) still imports, warns once, and is the same code as ``batch``."""
    import importlib
    import sys
    import warnings

    import jixi_geo.batch as batch

    sys.modules.pop("jixi_geo.scale", None)
    with pytest.warns(DeprecationWarning, match=r"jixi_geo\.scale 已更名为 jixi_geo\.batch.*renamed jixi_geo\.batch") as rec:
        scale = importlib.import_module("jixi_geo.scale")
    assert len(rec) == 1
    for name in [*batch.__all__, "result_verdicts", "STREAMED_SUFFIXES"]:
        assert getattr(scale, name) is getattr(batch, name), name
    assert scale.__all__ == batch.__all__
    # the warning points at the line that imports the old name, not at importlib's frames
    sys.modules.pop("jixi_geo.scale", None)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        exec("import jixi_geo.scale", {"__name__": "planner_script"})  # noqa: S102
    assert [w.filename for w in seen if issubclass(w.category, DeprecationWarning)] == ["<string>"]
    # ``jg.scale`` (attribute access) still works, through the same alias
    if "scale" in vars(jg):  # set by the imports above
        delattr(jg, "scale")
    sys.modules.pop("jixi_geo.scale", None)
    with pytest.warns(DeprecationWarning):
        assert jg.scale.check_file is jg.batch.check_file is jg.check_file
