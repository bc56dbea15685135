"""One text-decoding policy (jixi_geo._text) for site files and land-use tables.

The same bytes must get the same decision from :func:`jixi_geo.read_sites` and
:func:`jixi_geo.landuse.load_table` (``path=``): both read the file with the same
encoding, or both refuse it with the same error class and the same message.
Each file below is a valid input for both readers when decoded correctly: it has
land-use columns (code, name, area_ha) and site columns (经度, 纬度).
"""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import pytest

import jixi_geo as jg
from jixi_geo.errors import EncodingError, InputError

TEXT = "code,name,area_ha,经度,纬度\nM,工业用地,1.00,131.05,45.45\n,合计,1.00,131.10,45.40\n"
GARBLED = TEXT.replace("工业用地", "锟斤拷锟斤拷")  # GBK bytes once decoded as UTF-8 and saved again


def _read_both(path: Path, encoding: str | None):
    """(site read, land-use read): each the encoding used, or the exception raised."""
    out = []
    for read in (lambda: jg.read_sites(path, encoding=encoding).attrs["read_sites"]["encoding"],
                 lambda: jg.landuse.load_table("user", "planned", path=path,
                                               encoding=encoding).attrs["jixi_geo.landuse"]["encoding"]):
        try:
            out.append(read())
        except InputError as e:  # EncodingError is an InputError
            out.append(e)
    return out


def _fake_xlsx(path: Path) -> bytes:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return path.read_bytes()


# name: (bytes, encoding passed, error class or None, words every message must hold)
HOSTILE = {
    "mojibake_kunjinkao": (GARBLED.encode("utf-8"), None, EncodingError, ("mojibake", "锟斤拷")),
    "utf16le_no_bom": (TEXT.encode("utf-16-le"), None, EncodingError, ('encoding="utf-16-le"', "UTF-16")),
    "utf16be_no_bom": (TEXT.encode("utf-16-be"), None, EncodingError, ('encoding="utf-16-be"', "UTF-16")),
    "gbk_declared_utf8": (TEXT.encode("gbk"), "utf-8", EncodingError, ("utf-8 (invalid bytes", 'encoding="gbk"')),
    "utf8_declared_gbk": (TEXT.encode("utf-8"), "gbk", EncodingError, ('encoding="utf-8"',)),
    "utf8_head_gbk_tail": ((TEXT + "G,x,0.00,131.0,45.3\n" * 5000).encode("utf-8") + "G,绿地,0.00,131.0,45.3\n".encode("gbk"),
                           None, EncodingError, ("its bytes are UTF-8",)),
    "double_encoded_utf8": (TEXT.encode("utf-8").decode("latin-1").encode("utf-8"), None, EncodingError,
                            ("mojibake",)),
    "xls_ole_named_csv": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), None, InputError,
                          ("Excel workbook or a zip", "CSV UTF-8")),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_get_the_same_refusal_from_both_readers(name, tmp_path):
    data, encoding, cls, words = HOSTILE[name]
    p = tmp_path / "table.csv"
    p.write_bytes(data)
    site, land = _read_both(p, encoding)
    for got in (site, land):
        assert isinstance(got, cls), (name, got)
        assert p.name in str(got)
        for w in words:
            assert w in str(got), (w, str(got))
    assert type(site) is type(land) and str(site) == str(land)
    assert p.read_bytes() == data  # the input is never modified


def test_xlsx_bytes_named_csv_get_the_same_refusal(tmp_path):
    p = tmp_path / "table.csv"
    data = _fake_xlsx(p)
    site, land = _read_both(p, None)
    for got in (site, land):
        assert type(got) is InputError and "Excel workbook or a zip" in str(got) and "CSV UTF-8" in str(got)
    assert str(site) == str(land)
    assert p.read_bytes() == data


@pytest.mark.parametrize("enc,declared,used", [
    ("utf-8", None, "utf-8-sig"), ("utf-8-sig", None, "utf-8-sig"), ("gbk", None, "gb18030"),
    ("utf-16", None, "utf-16"), ("gbk", "gbk", "gbk"), ("utf-16-le", "utf-16-le", "utf-16-le"),
])
def test_good_bytes_are_read_with_the_same_encoding_by_both(enc, declared, used, tmp_path):
    p = tmp_path / "table.csv"
    p.write_bytes(TEXT.encode(enc))
    assert _read_both(p, declared) == [used, used]
    # and the text really came through: the Chinese name and the coordinates
    t = jg.landuse.load_table("user", "planned", path=p, encoding=declared)
    assert list(t["name_published"]) == ["工业用地", "合计"] and list(t["area_ha"]) == [1.0, 1.0]
    s = jg.read_sites(p, encoding=declared)
    assert list(s["name"]) == ["工业用地", "合计"]
    assert s.geometry.x.round(2).tolist() == [131.05, 131.10]


def test_garbled_text_loaded_before_is_now_refused_with_the_fix(tmp_path):
    """The case issue 14 measured: 锟斤拷 was refused by read_sites but loaded by load_table."""
    p = tmp_path / "lu.csv"
    p.write_bytes(b"code,name,area_ha\nM," + "锟斤拷".encode("utf-8") + b",1.00\n,\xe5\x90\x88\xe8\xae\xa1,1.00\n")
    with pytest.raises(EncodingError, match=r"锟斤拷.*re-export it from the original"):
        jg.landuse.load_table("user", "planned", path=p)


def test_bom_is_detected_before_nul_bytes():
    from jixi_geo._text import binary_kind, bytes_look_utf8

    assert binary_kind(codecs.BOM_UTF16_LE + "代码".encode("utf-16-le")) is None
    assert binary_kind(b"PK\x03\x04") == "zip" and binary_kind(b"\xd0\xcf\x11\xe0") == "ole"
    assert bytes_look_utf8("工业".encode("utf-8")) and not bytes_look_utf8("工业".encode("gbk"))
    assert not bytes_look_utf8(b"code,name")  # ASCII says nothing about the encoding
