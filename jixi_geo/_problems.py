"""Collect every problem an input has, then raise them together (private).

Validation here reports all that is wrong with an input at once, instead of
stopping at the first problem: each check adds a (error class, text) pair; the
collector raises one error whose class is that of the problems, or the given
``mixed`` class (an instance of all the usual ones) when they are of several kinds.
"""

from __future__ import annotations

from typing import Iterable


def fmt_list(items: Iterable, limit: int = 10) -> str:
    """``a, b, c, … (n more)``: a readable list of ids or values for a message."""
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", … ({len(items) - limit} more)"


class Problems:
    """Collects (error class, text) pairs and raises them as one error."""

    def __init__(self, name: str, *, mixed: type[Exception], head: str = "found:"):
        self.name = name
        self.mixed = mixed
        self.head = head
        self.items: list[tuple[type[Exception], str]] = []

    def add(self, cls: type[Exception], text: str) -> None:
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
