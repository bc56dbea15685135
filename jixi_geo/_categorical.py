"""Categorical columns built from integer codes into labels known to be distinct (private).

``pd.Categorical.from_codes`` checks that the categories are unique, which for tens of
thousands of text labels (the bilingual reason of each polygon site) costs more than
building them. :func:`from_distinct` skips that check where the caller built the labels
distinct, and falls back to ``from_codes`` if the pandas internals it uses are absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["from_distinct", "FASTPATH_MIN_LABELS"]

#: Below this many labels the public, checked constructor is used (it is cheap there).
FASTPATH_MIN_LABELS = 1_000


def from_distinct(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """``pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype="str"))`` without re-checking
    that ``labels`` are distinct.

    Parameters
    ----------
    codes : ndarray of int
        Per row, a position in ``labels`` (no missing values: every code is in range).
    labels : list of str
        Distinct texts: the caller guarantees no two are equal.

    Returns
    -------
    pandas.Categorical
        Equal, category for category and code for code, to the checked constructor's result.
    """
    categories = pd.Index(labels, dtype="str")
    if len(labels) < FASTPATH_MIN_LABELS:
        return pd.Categorical.from_codes(codes, categories=categories)
    try:
        dtype = pd.CategoricalDtype._from_fastpath(categories, ordered=False)
        codes = np.asarray(codes)
        if len(codes) and (codes.min() < 0 or codes.max() >= len(labels)):
            raise ValueError("a code outside the labels")
        small = codes.astype(pd.api.types.pandas_dtype(_code_dtype(len(labels))), copy=False)
        return pd.Categorical._simple_new(small, dtype=dtype)
    except (AttributeError, TypeError):  # pandas internals changed: the checked way
        return pd.Categorical.from_codes(codes, categories=categories)


def _code_dtype(n: int) -> str:
    """The integer type pandas itself gives the codes of ``n`` categories."""
    for name, top in (("int8", 2 ** 7), ("int16", 2 ** 15), ("int32", 2 ** 31)):
        if n < top:
            return name
    return "int64"
