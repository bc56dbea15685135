"""Atomic writes and content checksums (private helpers)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import shapely


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    A reader never sees a half-written file, and a failed write leaves any
    earlier file untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write text to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canon(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(f"{float(v):.10g}")
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    return v if isinstance(v, (int, str, bool)) else str(v)


def content_sha256(gdf) -> str:
    """Checksum of a layer's content: feature order, attributes and geometry.

    Independent of the container (file timestamps, driver metadata), so two
    builds of the same layer compare equal even if the GeoPackage bytes differ.
    Coordinates are compared at 1e-9 degrees (0.1 mm).
    """
    h = hashlib.sha256()
    h.update((gdf.crs.to_string() if gdf.crs is not None else "none").encode())
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    h.update(json.dumps(cols, ensure_ascii=False).encode())
    geoms = shapely.set_precision(np.asarray(gdf.geometry.values, dtype=object), 1e-9)
    wkb = shapely.to_wkb(shapely.normalize(geoms), hex=True)
    for rec, g in zip(gdf[cols].itertuples(index=False, name=None), wkb):
        h.update(json.dumps([_canon(v) for v in rec], ensure_ascii=False).encode())
        h.update((g or "").encode())
    return h.hexdigest()
