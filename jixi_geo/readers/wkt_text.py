"""WKT text files (``.wkt``/``.txt``): one WKT or EWKT per line, optionally ``id;WKT``.

Registered in :mod:`.registry` as the ``wkt`` format. A ``.txt`` holding 部标
section headers is read by :mod:`.bubiao` instead (see :mod:`.planner_formats`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd

from .._text import text_encoding
from ..errors import CRSError
from .base import Raw, parse_crs, parse_wkt
from .formats import Source

__all__ = ["read", "read_wkt_text"]

_WKT_START = re.compile(
    r"(SRID\s*=\s*\d+\s*;\s*)?\b(MULTIPOINT|MULTILINESTRING|MULTIPOLYGON|GEOMETRYCOLLECTION|"
    r"POINT|LINESTRING|POLYGON)\b",
    re.IGNORECASE,
)


def read_wkt_text(path: Path, *, encoding) -> Raw:
    enc = text_encoding(path, encoding)
    ids: list[str | None] = []
    wkts: list[str | None] = []
    lines: list[int] = []
    problems: dict[int, str] = {}
    first = True
    with open(path, encoding=enc) as f:
        for lineno, line in enumerate(f, start=1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            m = _WKT_START.search(s)
            if m is None:
                if first:  # a header such as "id;wkt"
                    first = False
                    continue
                problems[len(wkts)] = f"line {lineno}: no WKT geometry found in {s[:40]!r}"
                ids.append(None)
                wkts.append(None)
                lines.append(lineno)
                continue
            first = False
            prefix = s[: m.start()].strip().rstrip(";,\t").strip().strip('"').strip()
            ids.append(prefix or None)
            wkts.append(s[m.start():].strip().strip('"'))
            lines.append(lineno)
    labels = [f"line {n}" for n in lines]
    geoms, srids, bad = parse_wkt(wkts, labels)
    problems.update(bad)
    crs = None
    if len(srids) > 1:
        raise CRSError(f"{path.name}: the lines mix SRIDs {sorted(srids)}; give every geometry in one CRS")
    if srids:
        crs = parse_crs(f"EPSG:{srids.pop()}")
    data: dict[str, Any] = {}
    if any(i is not None for i in ids):
        for k, i in enumerate(ids):
            if i is None and k not in problems:
                problems[k] = f"{labels[k]}: no id before the WKT (other lines have one)"
        data["site_id"] = ids
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms), crs=crs)
    return Raw(gdf=gdf, name=path.name, kind="wkt", carries_crs=crs is not None,
                row_problems=problems, encoding=enc, path=path)


def read(src: Source, *, layer=None, encoding=None, id_column=None) -> Raw:
    """The registry's reader: a WKT text file the allow-list accepted."""
    return read_wkt_text(src.path, encoding=encoding)
