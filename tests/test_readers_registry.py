"""The format registry: a new input format is one reader plus one line in FORMATS."""

import pandas as pd
import pytest

from jixi_geo.errors import InputError
from jixi_geo.readers import formats, registry
from jixi_geo.readers.base import frame_to_raw
from jixi_geo.sites import read_sites


def _read_pts(src, *, layer=None, encoding=None, id_column=None):
    """A toy format: whitespace-separated ``id lon lat`` lines."""
    df = pd.read_csv(src.path, sep=r"\s+", names=["site_id", "lon", "lat"], dtype={"site_id": str})
    raw = frame_to_raw(df, name=src.path.name, kind="pts")
    raw.path = src.path
    return raw


def test_unregistered_suffix_is_refused_naming_every_registered_format(tmp_path):
    p = tmp_path / "sites.pts"
    p.write_text("A 131.0 45.3\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read_sites(p)
    msg = str(ei.value)
    assert "extension .pts is not an accepted format" in msg
    for f in registry.FORMATS:
        if f.label[1] and not f.controls_only:
            assert f.label[1] in msg and f.label[0] in msg
        elif f.label[1]:  # the File Geodatabase is a control-layer format only
            assert f.label[1] not in msg and f.label[1] in registry.accepted(controls=True)[1]


def test_one_registry_line_adds_a_format(tmp_path, monkeypatch):
    p = tmp_path / "sites.pts"
    p.write_text("A 131.0 45.3\nB 131.5 45.6\n", encoding="utf-8")
    line = registry.Format("pts", (".pts",), formats.check_text, _read_pts, zones=False,
                           label=("点表（.pts）", "point list (.pts)"))
    monkeypatch.setattr(registry, "FORMATS", registry.FORMATS + (line,))
    got = read_sites(p)
    # read, then checked like every format: ids, CRS assumed for lon/lat, EPSG:4490
    assert got["site_id"].tolist() == ["A", "B"]
    assert got.attrs["read_sites"]["format"] == "pts"
    assert got["crs_from"].tolist() == ["assumed lon/lat"] * 2 and got.crs.to_epsg() == 4490
    assert got.geometry.x.tolist() == pytest.approx([131.0, 131.5])
    assert "point list (.pts)" in registry.accepted()[1]
    # zones=False: not accepted as a zones file
    with pytest.raises(InputError, match="not an accepted format"):
        registry.identify(p, what="zones file", vector_only=True)
    # the checks run for the new format too: a duplicate id is refused
    p.write_text("A 131.0 45.3\nA 131.5 45.6\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate site ids"):
        read_sites(p)


def test_every_registered_suffix_identifies_as_its_format(tmp_path):
    """The registry, not a second table, decides the kind: a .tsv is csv, a .txt is wkt."""
    made = {".csv": "lon,lat\n131,45.3\n", ".tsv": "lon\tlat\n131\t45.3\n", ".wkt": "POINT (131 45.3)\n",
            ".txt": "POINT (131 45.3)\n"}
    for suffix, text in made.items():
        p = tmp_path / f"s{suffix}"
        p.write_text(text, encoding="utf-8")
        src = registry.identify(p)
        assert src.kind == registry.by_suffix(suffix).kind == ("csv" if suffix in (".csv", ".tsv") else "wkt")
        assert src.drivers is None  # not read through GDAL
