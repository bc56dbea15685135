"""GeoParquet as an input: read with pyarrow/geopandas (never GDAL, whose wheels have no Parquet
driver) in read_sites, the CLI and check_file, and streamed batch by batch in check_file."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import jixi_geo as jg
from jixi_geo.cli import main
from jixi_geo.errors import InputError
from jixi_geo.batch import check_file, plain_results, read_results
from jixi_geo.sites import iter_sites_parquet, read_sites

AUDIT = ["checked_at"]


@pytest.fixture
def no_gdal(monkeypatch):
    """Any attempt to read a Parquet file through GDAL fails the test (the bundled layers still load)."""
    def guard(real):
        def wrapped(path, *a, **k):
            if str(path).lower().endswith("parquet"):
                raise AssertionError(f"a Parquet input was sent to GDAL ({real.__name__})")
            return real(path, *a, **k)
        return wrapped

    for name in ("read_dataframe", "read_info", "list_layers", "read_arrow"):
        monkeypatch.setattr(pyogrio, name, guard(getattr(pyogrio, name)))
    monkeypatch.setattr(gpd, "read_file", guard(gpd.read_file))


def _gdf(n=400, seed=2, polygons=False):
    rng = np.random.default_rng(seed)
    b = jg.load_layer("boundary").total_bounds
    x, y = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    geoms = shapely.box(x, y, x + 0.01, y + 0.008) if polygons else shapely.points(x, y)
    return gpd.GeoDataFrame({"site_id": [f"q{i:05d}" for i in range(n)], "name": [f"场址{i}" for i in range(n)],
                             "activity": rng.choice(["wind_farm", "road", ""], n)}, geometry=geoms, crs="EPSG:4490")


def _same(a, b):
    a, b = plain_results(a).drop(columns=AUDIT), plain_results(b).drop(columns=AUDIT)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")).reset_index(drop=True),
                                  pd.DataFrame(b.drop(columns="geometry")).reset_index(drop=True), check_dtype=False)
    assert a.geometry.reset_index(drop=True).geom_equals_exact(b.geometry.reset_index(drop=True), 1e-9).all()


@pytest.mark.parametrize("polygons", [False, True])
def test_read_sites_reads_geoparquet_without_gdal(tmp_path, no_gdal, polygons):
    g = _gdf(polygons=polygons)
    p = tmp_path / "sites.parquet"
    g.to_crs(4553).to_parquet(p)  # projected: the CRS must come from the file's metadata
    s = read_sites(p)
    assert s.attrs["read_sites"]["format"] == "geoparquet"
    assert s.attrs["read_sites"]["input_crs"] == "EPSG:4553"
    assert list(s["site_id"]) == list(g["site_id"]) and list(s["name"]) == list(g["name"])
    assert s.geometry.geom_equals_exact(g.geometry, 1e-7).all()  # back in EPSG:4490
    _same(jg.check_sites(p), jg.check_sites(g.to_crs(4553)))


def test_points_decoded_from_wkb_buffers_equal_geos_decoding(tmp_path):
    from jixi_geo.readers.geoparquet import wkb_points_xy as _wkb_points_xy

    g = _gdf(1000, seed=9)
    p = tmp_path / "pts.parquet"
    g.to_parquet(p, row_group_size=300)  # several chunks in the column
    col = pq.read_table(p).column("geometry")
    assert col.num_chunks >= 1
    xy = _wkb_points_xy(col)
    np.testing.assert_array_equal(xy, shapely.get_coordinates(g.geometry.values))
    # anything but finite 2-D little-endian points falls back to GEOS
    for other in (shapely.box(0, 0, 1, 1), shapely.points(1.0, np.nan), shapely.Point(1, 2, 3), None):
        gg = g.iloc[:3].copy()
        gg.loc[gg.index[1], "geometry"] = other
        gg.to_parquet(tmp_path / "o.parquet")
        assert _wkb_points_xy(pq.read_table(tmp_path / "o.parquet").column("geometry")) is None
    big_endian = shapely.to_wkb(shapely.points([1.0, 2.0], [3.0, 4.0]), byte_order=0)
    import pyarrow as pa

    assert _wkb_points_xy(pa.chunked_array([pa.array(list(big_endian), pa.binary())])) is None


def test_geoparquet_crs_rules(tmp_path, no_gdal):
    g = _gdf(20)
    p = tmp_path / "nocrs.parquet"
    g.set_crs(None, allow_override=True).to_parquet(p)  # "crs": null in the metadata: unknown
    with pytest.raises(jg.errors.CRSError):
        read_sites(p)
    s = read_sites(p, crs="EPSG:4490")
    assert s.attrs["read_sites"]["crs_from"] == "given"
    import json

    t = pq.read_table(tmp_path / "nocrs.parquet")
    geo = json.loads(t.schema.metadata[b"geo"])
    del geo["columns"]["geometry"]["crs"]  # absent means OGC:CRS84 (GeoParquet specification)
    t = t.replace_schema_metadata({**t.schema.metadata, b"geo": json.dumps(geo).encode()})
    pq.write_table(t, tmp_path / "absent.parquet")
    s = read_sites(tmp_path / "absent.parquet")
    assert s.attrs["read_sites"]["crs_from"] == "file"
    assert s.geometry.geom_equals_exact(g.geometry, 1e-7).all()


def test_plain_parquet_with_lon_lat_columns(tmp_path, no_gdal):
    g = _gdf(50)
    df = pd.DataFrame({"编号": g["site_id"], "经度": g.geometry.x, "纬度": g.geometry.y})
    p = tmp_path / "table.parquet"
    df.to_parquet(p)
    s = read_sites(p)
    assert s.attrs["read_sites"]["format"] == "parquet"
    assert list(s["site_id"]) == list(g["site_id"])
    assert s.geometry.geom_equals_exact(g.geometry, 1e-12).all()
    out = check_file(p, tmp_path / "r.parquet", chunksize=20, progress=False)
    assert len(list(out.glob("part-*.parquet"))) == 3
    _same(read_results(out), jg.check_sites(df))


def test_unreadable_parquet_and_wrong_options_are_refused(tmp_path, no_gdal):
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="could not be opened as a \\(Geo\\)Parquet file"):
        read_sites(p)
    good = tmp_path / "ok.parquet"
    _gdf(5).to_parquet(good)
    with pytest.raises(InputError, match="layer="):
        read_sites(good, layer="x")
    with pytest.raises(InputError, match="encoding="):
        read_sites(good, encoding="gbk")
    with pytest.raises(InputError, match="encoding="):
        check_file(good, tmp_path / "o.parquet", encoding="gbk", progress=False)


def test_cli_check_geoparquet_to_a_folder(tmp_path, no_gdal, monkeypatch):
    g = _gdf(60)
    p = tmp_path / "sites.parquet"
    g.to_parquet(p)
    r = CliRunner().invoke(main, ["check", str(p), "--activity", "wind_farm", "--out", str(tmp_path / "res")])
    assert r.exit_code in (0, 1), r.output
    csv = pd.read_csv(tmp_path / "res" / "results.csv", encoding="utf-8-sig")
    assert list(csv["site_id"]) == list(g["site_id"])
    exp = jg.check_sites(g, activity="wind_farm")
    assert list(csv["verdict"]) == list(exp["verdict"].astype(str))


def test_check_file_streams_geoparquet_batch_by_batch(tmp_path, no_gdal, monkeypatch):
    g = _gdf(1000, seed=5)
    p = tmp_path / "big.parquet"
    g.to_parquet(p, row_group_size=250)
    assert pq.ParquetFile(p).metadata.num_row_groups == 4
    whole_reads = []
    real_read = pq.ParquetFile.read

    def read(self, columns=None, **k):
        if columns is None or len(columns) > 1:
            whole_reads.append(columns)
        return real_read(self, columns=columns, **k)

    monkeypatch.setattr(pq.ParquetFile, "read", read)
    monkeypatch.setattr(gpd, "read_parquet", lambda *a, **k: pytest.fail("the whole file was read"))
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: pytest.fail("the whole file was read"))
    out = check_file(p, tmp_path / "out.parquet", chunksize=300, progress=False)
    assert whole_reads == []  # only the id column was read whole (to check ids are unique)
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) >= 4  # batches never exceed chunksize rows
    monkeypatch.undo()
    res = read_results(out)
    _same(res, jg.check_sites(g))


def test_iter_sites_parquet_chunks_match_read_sites(tmp_path):
    g = _gdf(500, seed=6)
    g.loc[[3, 4], "site_id"] = "dup"
    p = tmp_path / "dups.parquet"
    g.to_parquet(p, row_group_size=100)
    with pytest.raises(InputError, match="duplicate site ids.*dup"):
        list(iter_sites_parquet(p, chunksize=100))  # found before streaming, over the whole file
    g = _gdf(500, seed=6).drop(columns="site_id")
    g.to_parquet(p, row_group_size=100)
    chunks = list(iter_sites_parquet(p, chunksize=130))
    assert len(chunks) >= 4 and all(len(c) <= 130 for c in chunks)
    joined = pd.concat(chunks)
    assert list(joined.index) == list(range(500))
    whole = read_sites(p)
    assert list(joined["site_id"]) == list(whole["site_id"]) == [f"S{i:04d}" for i in range(1, 501)]
    assert joined.geometry.geom_equals_exact(whole.geometry, 0).all()


def test_check_file_reads_a_geopackage(tmp_path):
    g = _gdf(300, seed=8, polygons=True)
    p = tmp_path / "sites.gpkg"
    g.to_file(p)
    out = check_file(p, tmp_path / "res.parquet", chunksize=120, progress=False)
    assert len(list(out.glob("part-*.parquet"))) == 3
    _same(read_results(out), jg.check_sites(g))


@pytest.mark.parametrize("ids, problem", [
    (["a", "b", "a"], "duplicate site ids in column 'site_id': a;"),
    (["a", " ", "c"], "empty in row 2"),
    (["a", None, "c"], "empty in row 2"),
    ([" a", "a", "c"], "duplicate site ids in column 'site_id': a;"),  # the same id once padded
    ([1, 2, 2], "duplicate site ids in column 'site_id': 2;"),
])
def test_streamed_ids_are_checked_over_the_whole_file(tmp_path, ids, problem):
    g = _gdf(3).drop(columns="site_id")
    g.insert(0, "site_id", pd.Series(ids, dtype=object if None in ids else None))
    p = tmp_path / "ids.parquet"
    g.to_parquet(p, row_group_size=1)
    with pytest.raises(InputError, match=problem):
        list(iter_sites_parquet(p, chunksize=1))
    g["site_id"] = ["x", "y", "z"]
    g.to_parquet(p, row_group_size=1)
    assert [c["site_id"].iloc[0] for c in iter_sites_parquet(p, chunksize=1)] == ["x", "y", "z"]


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4553"])
def test_grid_check_with_the_readers_coordinates_equals_reading_them_again(tmp_path, monkeypatch, crs):
    """The point coordinates a GeoParquet or table reader already had are handed to the cell grid
    instead of being read again from the geometries: the same result as with the hand-over off, and
    the verdicts agree with the reference kernel. Points in another CRS (EPSG:4553, transformed on
    reading) get no hand-over, and a frame changed after read_sites is read again."""
    from jixi_geo import _kernels
    from jixi_geo.readers import checks

    rng = np.random.default_rng(8)
    n = 4000
    b = jg.load_layer("boundary", crs="EPSG:4553").total_bounds
    pts = gpd.GeoSeries(shapely.points(rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)), crs="EPSG:4553")
    g = gpd.GeoDataFrame({"site_id": [f"q{i}" for i in range(n)]}, geometry=pts.to_crs(crs))
    path = tmp_path / "pts.parquet"
    g.to_parquet(path)
    monkeypatch.setattr(_kernels, "GRID_MIN_POINTS", 1)
    taken = []
    real_take = checks.take_coords
    monkeypatch.setattr(checks, "take_coords", lambda f: taken.append(x := real_take(f)) or x)
    got = jg.check_sites(path, search_m=1000.0).drop(columns=["checked_at"])
    assert (taken[-1] is not None) == (crs == "EPSG:4490")
    monkeypatch.setattr(checks, "take_coords", lambda f: None)  # the hand-over off: coordinates read again
    again = jg.check_sites(path, search_m=1000.0).drop(columns=["checked_at"])
    pd.testing.assert_frame_equal(got, again, check_exact=True)
    ref = jg.check_sites(path, search_m=1000.0, method="reference").drop(columns=["checked_at"])
    assert got["verdict"].astype(str).tolist() == ref["verdict"].astype(str).tolist()
    # a frame read earlier and then changed in place is checked as it is now, not as it was read
    monkeypatch.setattr(checks, "take_coords", real_take)
    s = read_sites(path)
    zone = jg.load_layer("redline_zones").geometry.values[0]
    s.geometry.values[:] = shapely.points(np.repeat(shapely.get_coordinates(zone.representative_point()), n, 0))
    moved = jg.check_sites(s, search_m=1000.0)
    assert (moved["zones_hit"].astype(str) != "").all()


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("ids, problem", [
    (["a", "b", "a", "d"], "duplicate site ids in column 'site_id': a;"),
    (["a", " ", "c", "d"], "empty in row 2"),
    ([" a", "a", "c", "d"], "duplicate site ids in column 'site_id': a;"),  # the same id once padded
    ([1, 2, 2, 4], "duplicate site ids in column 'site_id': 2;"),
    (["a", "b", "c", "d"], None),
])
def test_ids_read_ahead_by_the_geoparquet_reader_judge_as_the_frame_path(tmp_path, monkeypatch, ids, problem,
                                                                         threaded):
    """A whole GeoParquet file's default id column is read while its geometries are built
    (checks.ids_ahead): those ids are the ones checked (the job runs once, and its answer is used), the
    problems found are worded as for the same sites given as a frame, and an id_column= naming another
    column is read as always."""
    from jixi_geo.readers import checks

    if threaded:
        monkeypatch.setattr(checks, "BACKGROUND_MIN", 1)
    g = _gdf(4).drop(columns="site_id")
    g.insert(0, "site_id", pd.Series(ids))
    g["code"] = ["k1", "k2", "k3", "k4"]
    p = tmp_path / "ids.parquet"
    g.to_parquet(p)
    calls = []
    real = checks._read_ids
    monkeypatch.setattr(checks, "_read_ids", lambda col, name: calls.append(name) or real(col, name))
    if problem is None:
        got = read_sites(p)
        assert list(got["site_id"]) == ids and calls == ["site_id"]
    else:
        with pytest.raises(InputError) as e:
            read_sites(p)
        assert calls == ["site_id"]
        assert problem in str(e.value)
        with pytest.raises(InputError) as e2:
            read_sites(g)  # the same sites as a frame: no reader read ahead
        assert str(e2.value).split(":", 1)[1] == str(e.value).split(":", 1)[1]
    calls.clear()
    other = read_sites(p, id_column="code")
    assert list(other["site_id"]) == ["k1", "k2", "k3", "k4"]  # read as always; the read-ahead column not taken

    def broken(col, name):
        raise RuntimeError("the read-ahead failed")

    monkeypatch.setattr(checks, "_read_ids", broken)  # not waited for when another column is chosen
    assert list(read_sites(p, id_column="code")["site_id"]) == ["k1", "k2", "k3", "k4"]
    # a lie from the read-ahead is believed only for the column it read
    monkeypatch.setattr(checks, "_read_ids", lambda col, name: (name, real(col, name)[1], True))
    if problem and "duplicate" in problem:
        assert len(read_sites(p)) == 4  # believed: "surely distinct" (so the answer is really used)
        g.assign(code=g["site_id"]).to_parquet(p)
        with pytest.raises(InputError, match="duplicate site ids in column 'code'"):
            read_sites(p, id_column="code")  # the lie was about site_id: code is read and judged itself
