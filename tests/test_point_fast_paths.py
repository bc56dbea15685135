"""The shortcuts of the point path give what the general path gives (issue 17, points).

- text ids proved distinct by 64-bit hashes of their Arrow bytes (``readers.id_hash``):
  equal ids always hash equal, so "distinct" is never said of duplicates; checked
  against Python's ``set`` on random ids built to collide (prefixes, empty text, NUL
  bytes, multi-byte UTF-8) and on sliced Arrow arrays (non-zero offsets);
- WKB point records read from Arrow buffers and written from coordinates: the
  same values and bytes as GEOS's reader and geopandas' writer;
- the garbage-collector pause restores the collector's state, nested or not;
- ``import jixi_geo`` does not load rasterio or the report writer, yet the
  lazily loaded functions are the modules' own.
"""

from __future__ import annotations

import gc
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from jixi_geo.readers.id_hash import MAX_ID_BYTES, id_hashes, surely_distinct


def _random_ids(rng, n, alphabet=("a", "b", "\x00", "é", "鸡")):
    return ["".join(rng.choice(list(alphabet), rng.integers(0, 4))) for _ in range(n)]


def test_hashes_of_equal_ids_are_equal_and_distinct_means_distinct():
    rng = np.random.default_rng(3)
    for _ in range(300):
        ids = _random_ids(rng, 25)
        h = id_hashes(pd.Series(ids, dtype="str"))
        by_hash: dict[int, set[str]] = {}
        for v, x in zip(ids, h.tolist(), strict=True):
            by_hash.setdefault(x, set()).add(v)
        # equal ids, equal hashes; and on these short ids no two different ids share a hash
        assert all(len(vs) == 1 for vs in by_hash.values())
        assert surely_distinct(pd.Series(ids, dtype="str")) == (len(set(ids)) == len(ids))


def test_sliced_and_chunked_arrow_columns_hash_as_their_values():
    ids = [f"s{i}" for i in range(50)] + ["", "ab", "ba"]
    whole = id_hashes(pa.array(ids, type=pa.string()))
    sliced = id_hashes(pa.array(ids, type=pa.large_string()).slice(7, 20))  # offset 7 into the buffers
    chunked = id_hashes(pa.chunked_array([pa.array(ids[:10]), pa.array(ids[10:])]))
    assert np.array_equal(sliced, whole[7:27])
    assert np.array_equal(chunked, whole)
    # a duplicate split across chunks is still seen
    assert not surely_distinct(pa.chunked_array([pa.array(["x1", "x2"]), pa.array(["x3", "x1"])]))


def test_id_hashes_do_not_depend_on_the_block_size(monkeypatch):
    """Ids hashed in blocks (of any size, a block's own longest id bounding its passes) hash as
    one polynomial over their bytes, computed here one id at a time."""
    from jixi_geo.readers import id_hash

    rng = np.random.default_rng(12)
    ids = _random_ids(rng, 3000, alphabet=("a", "Z", "\x00", "é", "鸡", "7"))
    ids += ["", "鸡西编号" * 2]  # the longest hashed: MAX_ID_BYTES (24 bytes)
    want = []
    for v in ids:
        b = v.encode("utf-8")
        h = np.uint64(len(b)) * id_hash._MIX2
        with np.errstate(over="ignore"):
            for byte in b:
                h = h * id_hash._MULT + np.uint64(byte + 1)
        want.append(int(id_hash._mix(np.array([h], dtype=np.uint64))[0]))
    for block in (1, 5, 64, 1 << 16):
        monkeypatch.setattr(id_hash, "HASH_BLOCK", block)
        assert id_hashes(pa.array(ids, type=pa.large_string())).tolist() == want


@pytest.mark.parametrize("values", [
    pd.Series(["a", None], dtype="str"),  # a missing id
    pd.Series([1, 2]),  # not text
    pd.Series(["a", "b"], dtype=object),  # Python objects: the caller's exact check decides
    pd.Series(["x" * (MAX_ID_BYTES + 1), "y"], dtype="str"),  # too long to hash byte by byte
])
def test_columns_it_cannot_hash_are_left_to_the_exact_check(values):
    assert id_hashes(values) is None
    assert surely_distinct(values) is False


def test_streamed_parquet_with_duplicate_ids_is_still_refused(tmp_path):
    from jixi_geo.errors import InputError
    from jixi_geo.sites import iter_sites_parquet

    n = 1000
    ids = [f"p{i}" for i in range(n)]
    ids[900] = ids[3]  # a duplicate far apart, in another row group
    g = gpd.GeoDataFrame({"site_id": ids}, geometry=shapely.points(np.full(n, 131.0), np.linspace(45, 46, n)),
                         crs=4490)
    path = tmp_path / "dup.parquet"
    g.to_parquet(path, row_group_size=200)
    with pytest.raises(InputError, match="p3"):
        list(iter_sites_parquet(path, chunksize=300, id_column="site_id"))


@pytest.mark.parametrize("case", ["distinct", "dup_far", "dup_last", "missing_late", "long_dup", "long_distinct",
                                  "numbers", "blank_late", "padded_dup"])
def test_whole_file_id_pass_agrees_with_the_exact_check(tmp_path, case):
    """The threaded, batch-by-batch hash pass over a Parquet id column says "distinct" exactly when
    pandas' exact check on the whole column does (many batches in flight, a duplicate or a missing
    id in any of them, ids too long to hash byte by byte, numbers)."""
    from jixi_geo.readers.base import id_series
    from jixi_geo.readers.geoparquet import ids_unique_by_hash

    n = 5000
    ids: list = [f"id{i}" for i in range(n)]
    if case == "dup_far":
        ids[4321] = ids[17]
    elif case == "dup_last":
        ids[-1] = ids[-2]
    elif case == "missing_late":
        ids[4999] = None
    elif case.startswith("long"):
        ids = [f"{'x' * (MAX_ID_BYTES + 5)}{i}" for i in range(n)]
        if case == "long_dup":
            ids[3000] = ids[1]
    elif case == "numbers":
        ids = list(range(n))
    elif case == "blank_late":
        ids[4000] = "   "  # blank after stripping: missing
    elif case == "padded_dup":
        ids[2500] = f" {ids[10]} "  # equal to ids[10] once normalised
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"site_id": ids}), path, row_group_size=300)
    exact = id_series(pd.Series(ids))
    want = bool(exact.notna().all() and exact.is_unique)
    assert ids_unique_by_hash(pq.ParquetFile(path), "site_id", batch_rows=250) is want
    assert want is (case in ("distinct", "long_distinct", "numbers"))


def test_wkb_points_read_from_buffers_equal_geos(tmp_path):
    from jixi_geo.readers.geoparquet import wkb_points_xy

    rng = np.random.default_rng(5)
    xy = rng.uniform(-1e6, 1e6, (1000, 2))
    wkb = shapely.to_wkb(shapely.points(xy), byte_order=1)
    arr = pa.chunked_array([pa.array(wkb[:400].tolist(), pa.binary()), pa.array(wkb[400:].tolist(), pa.binary())])
    got = wkb_points_xy(arr)
    assert np.array_equal(got, shapely.get_coordinates(shapely.from_wkb(wkb)))
    assert np.array_equal(wkb_points_xy(pa.chunked_array([arr.combine_chunks().slice(10, 50)])), xy[10:60])
    # big-endian, 3-D, or a polygon: left to GEOS
    assert wkb_points_xy(pa.chunked_array([pa.array(shapely.to_wkb(shapely.points(xy), byte_order=0).tolist())])) is None
    z = shapely.to_wkb(shapely.points(np.c_[xy, xy[:, 0]]), output_dimension=3).tolist()
    assert wkb_points_xy(pa.chunked_array([pa.array(z)])) is None
    assert wkb_points_xy(pa.chunked_array([pa.array([shapely.to_wkb(shapely.box(0, 0, 1, 1))])])) is None


def _result_frame(geoms):
    n = len(geoms)
    return gpd.GeoDataFrame({"site_id": pd.Series([f"s{i}" for i in range(n)], dtype="str"),
                             "verdict": pd.Categorical(np.where(np.arange(n) % 3, "clear", "prohibited")),
                             "distance_m": np.linspace(0, 1, n)},
                            geometry=geoms, crs=4490)


def test_points_table_is_geopandas_table_byte_for_byte(tmp_path):
    from geopandas.io.arrow import _geopandas_to_arrow

    from jixi_geo.batch import _points_table, _write_part

    rng = np.random.default_rng(9)
    res = _result_frame(shapely.points(rng.uniform(130, 134, 500), rng.uniform(44, 47, 500)))
    fast = _points_table(res)
    slow = _geopandas_to_arrow(res, index=False)
    assert fast is not None
    stable = pa.dictionary(pa.int32(), pa.string())

    def stabilised(t):
        return t.cast(pa.schema([pa.field(f.name, stable) if pa.types.is_dictionary(f.type) else f for f in t.schema],
                                metadata=t.schema.metadata))

    assert stabilised(fast).schema.equals(stabilised(slow).schema, check_metadata=True)
    assert stabilised(fast).equals(stabilised(slow))
    _write_part(res, tmp_path / "p.parquet")
    back = gpd.read_parquet(tmp_path / "p.parquet")
    assert back.geometry.geom_equals_exact(res.geometry, 0).all() and back.crs.equals(res.crs)
    assert list(back["verdict"].astype(str)) == list(res["verdict"].astype(str))
    assert pq.read_metadata(tmp_path / "p.parquet").schema.to_arrow_schema().metadata[b"geo"] == \
        slow.schema.metadata[b"geo"]


def test_points_table_leaves_other_geometries_to_geopandas():
    from jixi_geo.batch import _points_table

    assert _points_table(_result_frame(shapely.box(np.arange(3), 0, np.arange(3) + 1, 1))) is None
    assert _points_table(_result_frame(np.array([shapely.Point(1, 2), shapely.Point()], dtype=object))) is None
    assert _points_table(_result_frame(shapely.points(np.ones((2, 3))))) is None


def test_gc_pause_restores_the_collector_state():
    from jixi_geo._gc import paused

    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()  # a collector the caller switched off stays off
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError):
        with paused():
            1 / 0  # noqa: B018
    assert gc.isenabled()


def test_import_does_not_load_rasterio_or_the_report_writer():
    code = ("import sys, jixi_geo as jg; "
            "print('rasterio' in sys.modules, 'jixi_geo.report' in sys.modules, 'matplotlib' in sys.modules); "
            "import jixi_geo.raster as r, jixi_geo.report as w; "
            "print(jg.rasterize is r.rasterize, jg.zonal_composition is r.zonal_composition, "
            "jg.write_report is w.write_report, 'write_report' in dir(jg))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False", "True", "True", "True", "True"]


@pytest.mark.parametrize("crs_from, input_crs", [
    (["assumed lon/lat"] * 6, ["EPSG:4490"] * 6),  # one source, one CRS
    (["file", "zone prefix", "assumed lon/lat", "file", "zone prefix", "given"],
     ["EPSG:4490", "EPSG:4532", "EPSG:4490", "EPSG:4490", "EPSG:4533", "EPSG:4553"]),
])
def test_crs_notes_from_categorical_codes_equal_the_notes_from_text(crs_from, input_crs):
    """The CRS notes read from the categoricals' codes are those read from the same columns as plain text,
    and each row's note is the sentence of its own (crs_from, input_crs) pair."""
    from jixi_geo.assembly import with_crs_notes
    from jixi_geo.readers.crs_checks import crs_note

    reasons = pd.Categorical(["r1", "r2", "r1", "r2", "r1", "r1"])
    as_text = pd.DataFrame({"crs_from": pd.Series(crs_from, dtype=object),
                            "input_crs": pd.Series(input_crs, dtype=object)})
    as_cat = as_text.astype("category")
    a, b = with_crs_notes(reasons, as_cat), with_crs_notes(reasons, as_text)
    assert list(a.astype(str)) == list(b.astype(str))
    want = [f"{r} {crs_note(h, c)}".strip() for r, h, c in zip(reasons.astype(str), crs_from, input_crs, strict=True)]
    assert list(a.astype(str)) == want


def test_a_bad_row_in_a_later_chunk_stops_the_run_after_the_parts_before_it(tmp_path):
    """check_file writes each part on a second thread while it checks the next chunk: a refused row is still
    raised when its chunk is reached, after every earlier part is finished, and no later part is written."""
    import json

    import jixi_geo as jg
    from jixi_geo.batch import check_file, read_results
    from jixi_geo.errors import InputError

    rng = np.random.default_rng(2)
    b = jg.load_layer("boundary").total_bounds
    n = 2000
    df = pd.DataFrame({"site_id": [f"q{i}" for i in range(n)], "lon": rng.uniform(b[0], b[2], n).round(6).astype(str),
                       "lat": rng.uniform(b[1], b[3], n).round(6)})
    df.loc[1600, "lon"] = "abc"
    src = tmp_path / "sites.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "res.parquet"
    with pytest.raises(InputError, match="row 1601"):
        check_file(src, out, chunksize=500, progress=False, activity="wind_farm")
    assert sorted(p.name for p in out.glob("part-*.parquet")) == [f"part-0000{i}.parquet" for i in range(3)]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["done"] == [0, 1, 2] and not manifest.get("complete")
    with pytest.raises(InputError, match="not finished"):
        read_results(out)


def test_streamed_chunks_lend_their_coordinates_only_to_their_own_frame(tmp_path):
    """check_file lets check_sites take the coordinates the streaming reader decoded
    (``redline.fresh_from_reader``): used for exactly that frame, ignored for a copy, a
    frame whose geometry was replaced, or any frame outside the block (a user's frame
    may have been changed since it was read), and the result is the one without them."""
    import jixi_geo as jg
    from jixi_geo import redline
    from jixi_geo.crs import KnownCoords
    from jixi_geo.readers.checks import _remember, take_coords

    def _remember_xy(frame, xy):  # as a reader keeps the coordinates of single points
        _remember(frame, KnownCoords(xy, np.zeros(len(xy), dtype=np.int32)))

    def take_point_xy(frame):
        known = take_coords(frame)
        return None if known is None else known.points
    from jixi_geo.sites import iter_sites_parquet

    rng = np.random.default_rng(11)
    n = 60_000  # above the cell grid's threshold (_kernels.GRID_MIN_POINTS): the path that reads coordinates
    g = gpd.GeoDataFrame({"site_id": [f"q{i}" for i in range(n)]},
                         geometry=shapely.points(rng.uniform(130.5, 133.5, n), rng.uniform(44.9, 46.5, n)), crs=4490)
    path = tmp_path / "pts.parquet"
    g.to_parquet(path)
    chunk = next(iter_sites_parquet(path, chunksize=n))
    xy = take_point_xy(chunk)
    assert xy is not None and np.array_equal(xy, shapely.get_coordinates(chunk.geometry.values))
    kw = {"activity": "wind_farm", "buffer_m": 1000, "search_m": 1000}
    plain = jg.check_sites(chunk, **kw)
    _remember_xy(chunk, xy)  # as the reader left it
    with redline.fresh_from_reader(chunk):
        lent = jg.check_sites(chunk, **kw)
    assert take_point_xy(chunk) is None  # taken by that check
    assert_cols = ["verdict", "zones_hit", "nearest_zone", "distance_m", "rule"]
    pd.testing.assert_frame_equal(pd.DataFrame(lent[assert_cols]), pd.DataFrame(plain[assert_cols]))
    # a lie is believed for this very frame (so the coordinates are really used) ...
    far = xy + np.array([20.0, 0.0])  # 20° east: outside Jixi
    _remember_xy(chunk, far)
    with redline.fresh_from_reader(chunk):
        lied = jg.check_sites(chunk, **kw)
    assert n >= redline._kernels.GRID_MIN_POINTS
    assert (lied["verdict"].astype(str) == "outside_jixi").all()
    # ... and ignored for a copy, once the geometry is replaced, or outside the block
    copy = chunk.copy()
    moved = chunk.set_geometry(gpd.GeoSeries(chunk.geometry.values.copy(), index=chunk.index, crs=chunk.crs))
    for frame in (copy, moved, chunk):
        _remember_xy(frame, far)
    with redline.fresh_from_reader(chunk):
        copied = jg.check_sites(copy, **kw)
        replaced = jg.check_sites(moved, **kw)
    outside = jg.check_sites(chunk, **kw)
    for other in (copied, replaced, outside):
        assert (other["verdict"].astype(str).to_numpy() == plain["verdict"].astype(str).to_numpy()).all()


def test_trusted_geometry_array_equals_geopandas_checked_one():
    from geopandas.array import from_shapely

    from jixi_geo._geoarray import trusted

    geoms = np.array([shapely.Point(1, 2), None, shapely.box(0, 0, 1, 1), shapely.Point()], dtype=object)
    fast, checked = trusted(geoms, crs=4490), from_shapely(geoms, crs=4490)
    assert type(fast) is type(checked) and fast.crs.equals(checked.crs)
    assert fast.isna().tolist() == checked.isna().tolist() == [False, True, False, False]
    assert shapely.equals_exact(fast[~fast.isna()], checked[~checked.isna()], 0).all()
    with pytest.raises(TypeError):  # anything but a 1-D object array is checked as before
        trusted([shapely.Point(0, 0), "not a geometry"])


def test_result_columns_are_not_shared_with_the_input_frame():
    """The result is put together without copying its own columns; the input's columns
    still are guarded by copy-on-write: writing into one never changes the other."""
    import jixi_geo as jg

    g = gpd.GeoDataFrame({"site_id": ["a", "b"], "name": ["甲", "乙"], "n": [1.5, 2.5]},
                         geometry=[shapely.Point(132.45, 45.43), shapely.Point(131.05, 45.45)], crs=4490)
    r = jg.check_sites(g, activity="wind_farm")
    r.loc[r.index[0], "name"] = "changed"
    r.loc[r.index[0], "n"] = -1.0
    r.loc[r.index[1], "distance_m"] = -5.0
    assert g["name"].tolist() == ["甲", "乙"] and g["n"].tolist() == [1.5, 2.5]
    g.loc[1, "n"] = 99.0
    assert r["n"].tolist() == [-1.0, 2.5] and r["distance_m"].iloc[1] == -5.0
    again = jg.check_sites(g.assign(n=[1.5, 2.5]), activity="wind_farm")  # a later result is unaffected
    assert again["distance_m"].iloc[1] != -5.0
