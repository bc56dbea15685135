"""Reading a planner's land-use CSV (decoded by the shared policy of :mod:`jixi_geo._text`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from .._text import read_text
from ..errors import InputError

__all__ = ["decode_file", "read_user_csv"]


def decode_file(p: Path, encoding: str | None) -> tuple[str, str]:
    """The text of ``p`` and its encoding, decided as for site files; InputError for a missing file."""
    try:
        return read_text(p, encoding)
    except FileNotFoundError:
        raise InputError(f"{p}: no such file; check the path (it is resolved from {Path.cwd()})") from None
    except IsADirectoryError:
        raise InputError(f"{p} is a folder; pass the CSV file inside it") from None
    except OSError as e:
        raise InputError(f"{p}: cannot be read ({e.strerror})") from None


def read_user_csv(p: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    """A user's land-use CSV as a frame of text cells, and the encoding used.

    The separator is that of the header line (``,``, tab or ``;``); blank lines are
    skipped; ``attrs["lines"]`` holds each row's line number in the file. Raises
    InputError for an empty file, a header without rows, or rows longer than the header.
    """
    text, enc = decode_file(p, encoding)
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    sep = ","
    if "," not in first:
        sep = "\t" if "\t" in first else ";" if ";" in first else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as e:
        raise InputError(f"{p.name} cannot be read as CSV: {e}. Check the quotes.") from None
    if not records or not any(c.strip() for c in records[0]):
        raise InputError(f"{p.name} is empty; it needs a header row and one row per land-use class")
    header = [c.strip() for c in records[0]]
    while header and not header[-1]:
        header.pop()
    rows, lines, bad = [], [], []
    line = 1
    for rec in records[1:]:
        line += 1
        cells = [c.strip() for c in rec]
        if not any(cells):
            continue
        extra = cells[len(header):]
        if any(extra):
            bad.append(f"line {line} has {len(cells)} fields")
            continue
        rows.append(cells[: len(header)] + [""] * (len(header) - len(cells)))
        lines.append(line)
    if bad:
        raise InputError(
            f"{p.name}: the header has {len(header)} columns but " + "; ".join(bad[:5])
            + ". Quote cells that contain the separator, or remove the extra cells."
        )
    if not rows:
        raise InputError(f"{p.name} has a header but no data rows")
    df = pd.DataFrame(rows, columns=header, dtype=object)
    df.attrs["lines"] = lines
    return df, enc


