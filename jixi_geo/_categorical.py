"""Categorical columns built from integer codes into labels known to be distinct (private).

``pd.Categorical.from_codes`` checks that the categories are unique, which for tens of
thousands of text labels (the bilingual reason of each polygon site) costs more than
building them. :func:`from_distinct` skips that check where the caller built the labels
distinct, and falls back to ``from_codes`` if the pandas internals it uses are absent.
Used by :mod:`jixi_geo.assembly` and :mod:`jixi_geo.controls.verdicts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["from_distinct", "str_index", "FASTPATH_MIN_LABELS"]

#: Below this many labels the public, checked constructor is used (it is cheap there).
FASTPATH_MIN_LABELS = 1_000


def from_distinct(codes: np.ndarray, labels: list[str] | pd.Index) -> pd.Categorical:
    """``pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype="str"))`` without re-checking
    that ``labels`` are distinct.

    Parameters
    ----------
    codes : ndarray of int
        Per row, a position in ``labels`` (no missing values: every code is in range;
        a code out of range raises ``ValueError``).
    labels : list of str or pandas.Index
        Distinct texts (an Index is taken as the categories as it is): the caller
        guarantees no two are equal.

    Returns
    -------
    pandas.Categorical
        Equal, category for category and code for code, to the checked constructor's result.
    """
    categories = labels if isinstance(labels, pd.Index) else str_index(labels)
    codes = np.asarray(codes)
    if len(codes) and (codes.min() < 0 or codes.max() >= len(categories)):
        raise ValueError("a code outside the labels")
    if len(categories) < FASTPATH_MIN_LABELS:
        return pd.Categorical.from_codes(codes, categories=categories)
    try:
        return _unchecked(codes, categories)
    except (AttributeError, TypeError):  # pandas internals changed: the checked way
        return pd.Categorical.from_codes(codes, categories=categories)


def str_index(labels: list[str]) -> pd.Index:
    """``pd.Index(labels, dtype="str")``, its Arrow array built from one UTF-8 buffer when the labels are many.

    pandas' own constructor checks and copies every element into an object array, then
    lets Arrow grow its buffers as it appends; for fifteen thousand bilingual reasons (five
    million characters) that costs 15–80 ms, varying with the state of Arrow's allocator.
    Here each text is encoded once, the bytes joined into one buffer and the offsets summed
    by NumPy: about 8 ms, the same every time. Anything that is not a text (a missing value,
    a number) goes the public way, as does a pandas whose ``"str"`` dtype is not Arrow's.
    """
    if len(labels) >= FASTPATH_MIN_LABELS and isinstance(labels, list):
        import pyarrow as pa

        try:
            encoded = [t.encode("utf-8") for t in labels]
        except (AttributeError, UnicodeError):  # not all texts: pandas decides what they become
            encoded = None
        if encoded is not None:
            offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
            arr = pa.LargeStringArray.from_buffers(len(encoded), pa.py_buffer(offsets),
                                                   pa.py_buffer(b"".join(encoded)))
            index = pd.Index(pd.array(arr, dtype="str"))
            if index.dtype == _STR:
                return index
    return pd.Index(labels, dtype="str")


_STR = pd.Index([], dtype="str").dtype


def _unchecked(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """The categorical from pandas' private constructors (no check of the categories)."""
    dtype = pd.CategoricalDtype._from_fastpath(categories, ordered=False)
    return pd.Categorical._simple_new(codes.astype(_code_dtype(len(categories)), copy=False), dtype=dtype)


def _code_dtype(n: int) -> type:
    """The integer type pandas itself gives the codes of ``n`` categories."""
    for t in (np.int8, np.int16, np.int32):
        if n < np.iinfo(t).max:
            return t
    return np.int64
