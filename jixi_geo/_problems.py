"""Collect every problem an input has, then raise them together (private).

Validation here reports all that is wrong with an input at once, instead of
stopping at the first problem: each check adds a (error class, text) pair; the
collector raises one error whose class is that of the problems, or the given
``mixed`` class (an instance of all the usual ones) when they are of several kinds.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import JixiGeoError

__all__ = ["fmt_list", "Problems", "check_encoding_name", "nul_diagnosis"]


def fmt_list(items: Iterable, limit: int = 10) -> str:
    """``a, b, c, … (n more)``: a readable list of ids or values for a message."""
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", … ({len(items) - limit} more)"


class Problems:
    """Collects (error class, text) pairs and raises them as one error."""

    def __init__(self, name: str, *, mixed: type[JixiGeoError], head: str = "found:"):
        self.name = name
        self.mixed = mixed
        self.head = head
        self.items: list[tuple[type[JixiGeoError], str]] = []

    def add(self, cls: type[JixiGeoError], text: str) -> None:
        self.items.append((cls, text))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        classes = list(dict.fromkeys(cls for cls, _ in self.items))
        cls = classes[0] if len(classes) == 1 else self.mixed
        n = len(self.items)
        head = f"{self.name}: {n} problem{'s' if n > 1 else ''} {self.head}"
        err = cls(head + "\n" + "\n".join(f"  - {t}" for _, t in self.items))
        err.problems = [t for _, t in self.items]
        raise err


def check_encoding_name(encoding: str) -> None:
    """Raise EncodingError unless Python knows ``encoding``."""
    import codecs

    from .errors import EncodingError

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise EncodingError(
            f"encoding={encoding!r} is not an encoding Python knows; use e.g. "
            "encoding='utf-8' or encoding='gbk'"
        ) from None


def nul_diagnosis(name: str, head: bytes) -> str:
    """Why a text file (its first bytes ``head``) holds NUL bytes: UTF-16 without a
    byte-order mark (the message names the encoding to pass), or not text at all."""
    even, odd = head[0::2], head[1::2]
    z_even, z_odd = even.count(0) / max(len(even), 1), odd.count(0) / max(len(odd), 1)
    if max(z_even, z_odd) >= 0.3 and min(z_even, z_odd) <= 0.05:
        enc = "utf-16-le" if z_odd > z_even else "utf-16-be"
        order = "little-endian" if enc.endswith("le") else "big-endian"
        return (f"{name}：文件像是无 BOM 的 UTF-16（{order}）编码——每隔一个字节为 NUL（{max(z_even, z_odd):.0%}）。"
                f"请传 encoding=\"{enc}\"（命令行 --encoding {enc}），或在 Excel/WPS/记事本中另存为 UTF-8。/ "
                f"{name} looks like UTF-16 {order} without a byte-order mark: every second byte is NUL "
                f"({max(z_even, z_odd):.0%} of them). Pass encoding=\"{enc}\" (CLI: --encoding {enc}), or "
                "re-save the file as UTF-8.")
    return (f"{name}：文件含 NUL 字节，不是文本文件（CSV/WKT）。/ {name} holds NUL bytes, so it is not "
            "a text (CSV/WKT) file; if it is a spreadsheet or another format, export it as CSV UTF-8.")
