"""jixi_geo: a geospatial planning toolkit for Jixi (鸡西市, Heilongjiang)."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("jixi_geo")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())

from . import crs, errors, units  # noqa: E402
from .crs import geodesic_area, geodesic_length  # noqa: E402
from .layers import list_layers, load_layer  # noqa: E402
from .units import convert_area  # noqa: E402

__all__ = [
    "__version__",
    "crs",
    "errors",
    "units",
    "list_layers",
    "load_layer",
    "geodesic_area",
    "geodesic_length",
    "convert_area",
]
