"""Integer codes for the rows of a result and for each site's group of hits (private).

Used by :mod:`jixi_geo.assembly` and :mod:`jixi_geo.controls.verdicts`: equal rows of several
integer columns get one code (:func:`row_codes`); each site's run of (site, zone) rows
gives its sequence of zones (:func:`zone_combinations`) and its first row by some keys
(:func:`first_by`). NumPy throughout; pandas where the input is not plain integers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["packed_key", "row_codes", "first_rows", "zone_combinations", "first_by"]


def packed_key(arrays: list[np.ndarray]) -> np.ndarray | None:
    """One int64 per row of several non-negative integer arrays, a mixed-radix number (the first
    array most significant): equal rows get equal keys, and keys sort as the rows do. None when an
    array is not of integers, holds a negative value, or the number would not fit in 62 bits."""
    if any(a.dtype.kind not in "iu" or (len(a) and a.min() < 0) for a in arrays):
        return None
    radix = [int(a.max()) + 1 if len(a) else 1 for a in arrays]
    if float(np.prod(np.array(radix, dtype=float))) >= 2.0 ** 62:
        return None
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for a, r in zip(arrays, radix, strict=True):
        key = key * r + a
    return key


def row_codes(arrays: list[np.ndarray]) -> np.ndarray:
    """One integer code per row of several integer arrays (equal rows, equal codes), numbered in
    order of first appearance."""
    key = packed_key(arrays)
    if key is not None:
        return pd.factorize(key)[0]
    return pd.factorize(pd.MultiIndex.from_arrays(arrays))[0]


def first_rows(codes: np.ndarray) -> np.ndarray:
    """The position of each code's first row, in code order, for codes numbered in order of first
    appearance (as :func:`row_codes` numbers them): ``np.unique(codes, return_index=True)[1]``
    without a sort. A row starts a new code where it exceeds every code before it."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.empty(len(codes), dtype=bool)
    new[0] = True
    np.greater(codes[1:], np.maximum.accumulate(codes)[:-1], out=new[1:])
    return np.flatnonzero(new)


def zone_combinations(site: np.ndarray, zone: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """Group (site, zone) rows, sorted by site, into each site's zone sequence.

    Returns the distinct sites, a code per site into the list of distinct zone
    sequences, and that list (tuples of zone positions, in row order).
    """
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    size = np.diff(np.r_[starts, len(site)])
    pos = np.arange(len(site)) - np.repeat(starts, size)
    rows = np.full((len(starts), int(size.max())), -1, dtype=np.int64)
    rows[np.repeat(np.arange(len(starts)), size), pos] = zone
    codes = row_codes(list(rows.T + 1))
    first = first_rows(codes)
    combos = [tuple(int(z) for z in rows[f] if z >= 0) for f in first]
    return site[starts], codes, combos


def first_by(hits: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Row positions of each site's first hit by ``keys`` (ascending), in site order: the rows
    ``hits.sort_values(["site", *keys]).drop_duplicates("site")`` keeps.

    ``hits`` has one row per (site, zone), so the keys (which end with ``zone``) tell the rows
    of a site apart. Non-negative integer keys are packed into one number per row and each
    site's least taken from its run of rows (the kernels give hits sorted by site); anything
    else goes through pandas.
    """
    site = hits["site"].to_numpy()
    key = packed_key([hits[k].to_numpy() for k in keys])
    if key is None:
        order = hits.sort_values(["site", *keys]).drop_duplicates("site").index
        return hits.index.get_indexer(order)
    order = None
    if len(site) > 1 and (site[1:] < site[:-1]).any():  # not in site order: sort by site (stable)
        order = np.argsort(site, kind="stable")
        site, key = site[order], key[order]
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    least = np.minimum.reduceat(key, starts)
    rows = np.flatnonzero(key == np.repeat(least, np.diff(np.r_[starts, len(site)])))
    if len(rows) != len(starts):  # two rows of a site alike: not one row per (site, zone); as pandas does
        order = hits.sort_values(["site", *keys]).drop_duplicates("site").index
        return hits.index.get_indexer(order)
    return rows if order is None else order[rows]
