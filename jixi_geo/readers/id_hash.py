"""Fast "are these site ids all distinct?" for millions of ids: a 64-bit hash per id, from the Arrow buffers.

Checking a million text ids with a hash table of strings (``Series.is_unique``,
``pyarrow.compute.count_distinct``) takes 0.3–0.4 s; hashing the UTF-8 bytes of
every id at once with NumPy, then a hash table of the 64-bit hashes, takes about a
third of that. Equal ids always have equal hashes, so distinct hashes prove
distinct ids; equal hashes (a duplicate, or very rarely two ids colliding) only
mean "look closer": callers then run their exact check, which words the problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MAX_ID_BYTES", "HASH_BLOCK", "id_hashes", "all_distinct", "surely_distinct"]

#: Ids longer than this (bytes) are not hashed here (None: the caller's exact check decides).
MAX_ID_BYTES = 24
#: Ids hashed per block (:func:`id_hashes`).
HASH_BLOCK = 1 << 16
_MULT = np.uint64(0x100000001B3)  # the 64-bit FNV prime, as the multiplier of a polynomial hash
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)  # splitmix64's finaliser


def _mix(h: np.ndarray) -> np.ndarray:
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    return h


def id_hashes(values) -> np.ndarray | None:
    """A uint64 hash of each id of a text column without missing values, or None if it is not one.

    Parameters
    ----------
    values : pandas.Series, pyarrow Array or ChunkedArray
        Text ids (pandas' ``str`` dtype, or an Arrow string column).

    Returns
    -------
    ndarray of uint64, or None
        None for missing values, a column that is not text, or ids longer than
        :data:`MAX_ID_BYTES` (the caller checks another way).
    """
    import pyarrow as pa

    try:
        if isinstance(values, pd.Series):
            if not pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
                return None
            arr = pa.array(values.array)  # pandas' str dtype: its Arrow array, not copied
        else:
            arr = values
        if isinstance(arr, pa.Array):
            arr = pa.chunked_array([arr])
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)) or arr.null_count:
            return None
    except (TypeError, ValueError, pa.ArrowException):
        return None
    out = []
    for chunk in arr.chunks:
        n = len(chunk)
        if n == 0:
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return None
        _, off_buf, data_buf = chunk.buffers()
        off = np.frombuffer(off_buf, dtype=np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
        off = off[chunk.offset:chunk.offset + n + 1].astype(np.int64)
        lens = np.diff(off)
        longest = int(lens.max())
        if longest > MAX_ID_BYTES:
            return None
        data = np.frombuffer(data_buf, dtype=np.uint8) if longest else np.zeros(1, dtype=np.uint8)
        last = len(data) - 1
        hashed = np.empty(n, dtype=np.uint64)
        # h = h * MULT + (byte + 1), byte by byte over the ids' positions, modulo 2**64; ids ended
        # leave their hash alone. In blocks of HASH_BLOCK ids: the working arrays stay in the
        # processor's cache and are reused (new memory is slow to touch on virtual machines)
        for a in range(0, n, HASH_BLOCK):
            b = min(a + HASH_BLOCK, n)
            ln = lens[a:b]
            h = ln.astype(np.uint64) * _MIX2  # the length, so that no id is a prefix-with-zeros of another
            start = off[a:b]
            for k in range(int(ln.max())):
                byte = data[np.minimum(start + k, last)].astype(np.uint64) + np.uint64(1)
                h = np.where(ln > k, h * _MULT + byte, h)
            hashed[a:b] = _mix(h)
        out.append(hashed)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint64)


def surely_distinct(values) -> bool:
    """True when every id is present and all are distinct, proved by their hashes; False: look closer."""
    h = id_hashes(values)
    if h is None:
        return False
    return all_distinct(h)


def all_distinct(h: np.ndarray, *, in_place: bool = False) -> bool:
    """Whether every value of a uint64 array is distinct.

    Sorted, then neighbours compared: measured faster than pandas' hash table of
    uint64 at every size tried (12 ms against 43 ms for a million values, 0.32 s
    against 1.3 s for ten million). ``in_place`` sorts ``h`` itself (no copy).
    """
    if len(h) < 2:
        return True
    s = h if in_place else h.copy()
    s.sort()
    return not bool((s[1:] == s[:-1]).any())
