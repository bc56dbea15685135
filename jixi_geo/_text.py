"""How users' text files (CSV, WKT, land-use tables) are decoded: one policy for every reader.

Planners' text files come from Chinese Excel/WPS (GBK), from UTF-8 tools, from
Excel's "Unicode text" (UTF-16), and sometimes are not text at all (a workbook
renamed ``.csv``). The same bytes get the same decision from every reader
(:func:`jixi_geo.read_sites` and :func:`jixi_geo.landuse.load_table`):

- zip or OLE bytes (``.xlsx``, ``.xls``, any zip) are refused with the fix
  (save as "CSV UTF-8");
- a UTF-16 byte-order mark means UTF-16; NUL bytes without one are diagnosed as
  UTF-16 without a BOM (naming the ``encoding=`` to pass) or as not text;
- otherwise UTF-8 (with or without BOM) is tried, then GB 18030 (a superset of
  GBK), each over the whole file;
- a decoding that "succeeds" with mojibake (``锟斤拷``, U+FFFD, UTF-8 read as
  Latin-1) or that reads bytes which are valid UTF-8 with another codec is
  refused, naming the encoding to pass.

Every refusal is an :class:`~jixi_geo.errors.EncodingError` (or an
:class:`~jixi_geo.errors.InputError` for non-text bytes) naming the file and
the fix.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pandas as pd

from ._problems import check_encoding_name, nul_diagnosis
from .errors import EncodingError, InputError

__all__ = [
    "SNIFF_CHUNK",
    "SAMPLE_BYTES",
    "binary_kind",
    "refuse_binary",
    "mojibake_sample",
    "frame_mojibake",
    "bytes_look_utf8",
    "is_utf8",
    "text_encoding",
    "read_text",
]

#: Bytes decoded at a time when a whole file is checked (1 MB).
SNIFF_CHUNK = 1 << 20
#: Bytes of a file's head used for the NUL/BOM diagnosis and the mojibake sample (64 KB).
SAMPLE_BYTES = 1 << 16

_BINARY_MAGIC = {
    b"PK\x03\x04": "zip",  # .xlsx, .ods, .docx, any zip
    b"\xd0\xcf\x11\xe0": "ole",  # .xls, .et (OLE compound file)
}

_LATIN1_MOJIBAKE = re.compile("[\u00c2-\u00ef][\u0080-\u00bf\u2018-\u203a\u20ac]|\u00e2\u20ac")


def binary_kind(head: bytes) -> str | None:
    """``"zip"`` or ``"ole"`` if a file's first bytes are a workbook/zip container, else None.

    Examples
    --------
    >>> binary_kind(b"PK\\x03\\x04rest"), binary_kind(b"code,name\\n")
    ('zip', None)
    """
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def refuse_binary(path: Path, head: bytes) -> None:
    """Raise InputError if ``head`` (the first bytes of ``path``) is an Excel workbook or a zip."""
    if binary_kind(head) is not None:
        raise InputError(
            f"{path.name}：内容是 Excel/压缩文件而不是文本；请“另存为 CSV UTF-8”。/ {path.name}: holds an "
            "Excel workbook or a zip, not text; save it as \"CSV UTF-8\" and pass that."
        )


def mojibake_sample(text: str) -> str | None:
    """A short excerpt if ``text`` shows typical mojibake, else None.

    Examples
    --------
    >>> mojibake_sample("名称\\nM,锟斤拷锟斤拷,1")
    '名称\\nM,锟斤拷锟斤拷,1'
    >>> mojibake_sample("代码,名称\\nM,工业用地") is None
    True
    """
    for pat in ("\ufffd", "锟斤拷"):
        i = text.find(pat)
        if i >= 0:
            return text[max(0, i - 8): i + 12]
    m = _LATIN1_MOJIBAKE.search(text)
    if m:
        return text[max(0, m.start() - 4): m.end() + 8]
    return None


def frame_mojibake(df: pd.DataFrame) -> str | None:
    """A mojibake excerpt from a frame's column names and text cells (first 2 000 rows), or None."""
    texts = [str(c) for c in df.columns]
    for c in df.columns:
        if c != "geometry" and df[c].dtype == object:
            texts.extend(str(v) for v in df[c].iloc[:2000] if isinstance(v, str))
    return mojibake_sample("\n".join(texts))


def bytes_look_utf8(raw: bytes) -> bool:
    """Whether ``raw`` (a file's first bytes) has non-ASCII text and is valid UTF-8.

    Real GBK text of any length is practically never valid UTF-8, so this tells a
    UTF-8 file decoded with a GBK codec (which "succeeds" with mojibake).
    """
    if not any(b >= 0x80 for b in raw):
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)  # tail may be cut
    except UnicodeDecodeError:
        return False
    return True


def is_utf8(enc: str) -> bool:
    """Whether the codec ``enc`` is UTF-8 (with or without BOM)."""
    return codecs.lookup(enc).name in ("utf-8", "utf-8-sig")


def _decodes(path: Path, enc: str) -> tuple[bool, str, int | None]:
    """Decode the whole file incrementally (1 MB at a time); return (ok, sample, bad byte)."""
    dec = codecs.getincrementaldecoder(enc)(errors="strict")
    sample: list[str] = []
    kept = 0
    pos = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(SNIFF_CHUNK)
            final = not chunk
            try:
                text = dec.decode(chunk, final=final)
            except UnicodeDecodeError as e:
                return False, "", pos + max(e.start, 0)
            if kept < SAMPLE_BYTES:
                sample.append(text)
                kept += len(text)
            if final:
                break
            pos += len(chunk)
    return True, "".join(sample)[:SAMPLE_BYTES], None


def text_encoding(path: Path, encoding: str | None) -> str:
    """Pick the encoding of a text file (CSV, WKT, land-use table), or refuse the file.

    Parameters
    ----------
    path : pathlib.Path
        The file; it is read, never modified.
    encoding : str, optional
        The encoding the user named; None to detect (UTF-8, then GB 18030).

    Returns
    -------
    str
        A codec name for :func:`open` / :func:`pandas.read_csv`.

    Raises
    ------
    InputError
        The bytes are an Excel workbook or a zip.
    EncodingError
        Unknown ``encoding``; UTF-16 without a BOM or NUL bytes; the text is in none
        of the encodings tried; or it decodes only to mojibake.
    """
    if encoding is not None:
        check_encoding_name(encoding)
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    refuse_binary(path, head)
    if encoding is None:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ["utf-16"]  # the byte-order mark says so (Excel's "Unicode text")
        elif b"\x00" in head:
            raise EncodingError(nul_diagnosis(path.name, head))
    tried: list[str] = []
    for enc in candidates:
        ok, sample, bad = _decodes(path, enc)
        if not ok:
            tried.append(f"{enc} (invalid bytes near byte {bad})")
            continue
        shown = mojibake_sample(sample)
        if shown is None and not is_utf8(enc) and bytes_look_utf8(head):
            shown = sample[:40]
            tried.append(f"{enc} (the text decodes, but its bytes are UTF-8)")
        if shown is not None:
            raise EncodingError(
                f"{path.name}: decoding as {enc} gives garbled text (mojibake) such as "
                f"{shown!r}. Tried: {', '.join(tried + [enc])}. If the file was saved as "
                "GBK, pass encoding=\"gbk\"; if it is UTF-8, pass encoding=\"utf-8\"; if the "
                "text was already garbled when saved, re-export it from the original."
            )
        return enc
    hint = ""
    if encoding is not None and not is_utf8(encoding) and bytes_look_utf8(head):
        hint = " The file looks like UTF-8: pass encoding=\"utf-8\" or drop encoding=."
    raise EncodingError(
        f"{path.name}: the text is in none of the encodings tried: {'; '.join(tried)}.{hint} "
        "Pass the right one, e.g. encoding=\"gbk\" for files saved by Chinese Excel/WPS, "
        "or re-save the file as UTF-8."
    )


def read_text(path: Path, encoding: str | None) -> tuple[str, str]:
    """The whole text of a small text file and the encoding chosen by :func:`text_encoding`.

    Line ends are kept as they are in the file (no newline translation), and a
    leading byte-order mark is removed by the codec (``utf-8-sig``, ``utf-16``).
    """
    enc = text_encoding(path, encoding)
    return path.read_bytes().decode(enc), enc
