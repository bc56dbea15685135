"""Persistent cache of prepared zone layers and cell grids (private).

Preparing the bundled zones (projection, 5 km tiles) and classifying the cell grid
take about two seconds; a planner who runs one command in a fresh process would
pay them every time. Their results are stored in the user cache directory
(``platformdirs.user_cache_dir("jixi_geo")``, or ``$JIXI_GEO_CACHE_DIR``) as plain
NumPy ``.npz`` files, never pickles: geometries as WKB, loaded with
``allow_pickle=False``, so a file planted in the cache cannot run code.

- The key is a SHA-256 of the zone checksum, the package version, the shapely/GEOS
  version and every parameter of the computation, so a change of any of them
  misses the cache instead of reading a stale entry.
- Files are written to a temporary name and moved into place (``os.replace``): two
  processes starting together both compute and both write a complete file; a
  reader never sees half a file.
- A file that cannot be read or does not hold what it should (truncated, garbage,
  another layout) is ignored: the value is recomputed and the file rewritten.
- ``JIXI_GEO_CACHE=0`` switches the cache off; ``jixi-geo cache clear`` (or
  :func:`clear`) empties it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

__all__ = ["cache_dir", "enabled", "clear", "load", "store", "key", "pack_geoms", "unpack_geoms", "FORMAT"]

log = logging.getLogger(__name__)

#: Layout version of the cache files; bump when what is stored changes.
FORMAT = 1


def enabled() -> bool:
    """Whether the persistent cache is used (``JIXI_GEO_CACHE`` is not ``0``/``false``/``off``/``no``)."""
    return os.environ.get("JIXI_GEO_CACHE", "1").strip().lower() not in ("0", "false", "off", "no")


def cache_dir() -> Path:
    """The cache folder: ``$JIXI_GEO_CACHE_DIR`` if set, else the user cache directory of jixi_geo."""
    env = os.environ.get("JIXI_GEO_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("jixi_geo", appauthor=False))


def key(kind: str, **parts) -> str:
    """Cache key (hex) of a ``kind`` of value from its inputs, the package and GEOS versions."""
    from . import __version__

    text = "\x1f".join([kind, f"format={FORMAT}", f"jixi_geo={__version__}",
                        f"shapely={shapely.__version__}", f"geos={shapely.geos_version_string}"]
                       + [f"{k}={parts[k]!r}" for k in sorted(parts)])
    return hashlib.sha256(text.encode()).hexdigest()


def _path(kind: str, k: str) -> Path:
    return cache_dir() / f"{kind}-{k[:32]}.npz"


def load(kind: str, k: str, check: Callable[[dict], object]):
    """The value stored under ``(kind, k)``, rebuilt by ``check(arrays)``; None if absent or unusable.

    ``check`` receives the arrays of the file and returns the value; any exception
    it (or the reading) raises marks the file unusable: it is logged and ignored.
    """
    if not enabled():
        return None
    p = _path(kind, k)
    try:
        with np.load(p, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
        if str(arrays.pop("_key")) != k:
            raise ValueError("key mismatch")
        return check(arrays)
    except FileNotFoundError:
        return None
    except Exception as e:  # corrupt, truncated, foreign: recompute
        log.info("ignoring unusable cache file %s (%s: %s); it will be rewritten", p, type(e).__name__, e)
        return None


def store(kind: str, k: str, arrays: dict[str, np.ndarray]) -> Path | None:
    """Write ``arrays`` under ``(kind, k)`` atomically; a failure to write is logged, not raised."""
    if not enabled():
        return None
    p = _path(kind, k)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        payload: dict[str, Any] = {"_key": np.array(k), **arrays}  # Any: no key is taken for savez's flags
        np.savez(buf, **payload)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(buf.getvalue())
            os.replace(tmp, p)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return p
    except OSError as e:  # read-only home, full disk: work without the cache
        log.info("could not write cache file %s (%s)", p, e)
        return None


def clear() -> int:
    """Delete every cache file of jixi_geo; returns how many were removed."""
    d = cache_dir()
    n = 0
    if d.is_dir():
        for p in d.iterdir():
            if p.is_file() and (p.suffix == ".npz" or p.name.endswith(".tmp")):
                p.unlink(missing_ok=True)
                n += 1
    return n


def pack_geoms(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometries as (concatenated WKB bytes, offsets), storable without pickle."""
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    lens = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    return np.frombuffer(b"".join(wkb), dtype=np.uint8), np.r_[0, np.cumsum(lens)]


def unpack_geoms(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    raw = blob.tobytes()
    wkb = np.array([raw[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)], dtype=object)
    return shapely.from_wkb(wkb)
