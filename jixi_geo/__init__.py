"""jixi_geo: a geospatial planning toolkit for Jixi (鸡西市, Heilongjiang).

The public API, in one place:

- layers: :func:`list_layers`, :func:`load_layer` (the bundled, modelled layers)
- compliance: :func:`check_sites`, :func:`check_sites_detail`, :func:`validate_zones`,
  :func:`read_sites`, :func:`write_report`, :func:`check_file` (large files)
- analysis: :func:`overlap`, :func:`overlap_matrix`, :func:`share_split`,
  :func:`rasterize`, :func:`zonal_composition`
- land use of the Jidong EDZ: the :mod:`jixi_geo.landuse` module
- CRS and units: :mod:`jixi_geo.crs`, :func:`geodesic_area`, :func:`convert_area`
- outputs: :mod:`jixi_geo.maps` (folium web maps) and :mod:`jixi_geo.plot`
  (matplotlib figures), imported on first use
"""

from __future__ import annotations

import importlib
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
from .overlap import overlap, overlap_matrix, share_split  # noqa: E402
from .redline import check_sites, check_sites_detail, validate_zones  # noqa: E402
from .batch import check_file, read_results  # noqa: E402
from .sites import iter_sites_csv, iter_sites_parquet, read_sites  # noqa: E402
from .units import convert_area  # noqa: E402

__all__ = [
    "__version__",
    # modules
    "crs", "errors", "units", "landuse", "maps", "plot",
    # layers
    "list_layers", "load_layer",
    # compliance
    "check_sites", "check_sites_detail", "validate_zones", "read_sites", "iter_sites_csv", "iter_sites_parquet",
    "write_report",
    "check_file", "read_results",
    # analysis
    "overlap", "overlap_matrix", "share_split", "rasterize", "zonal_composition",
    # measures
    "geodesic_area", "geodesic_length", "convert_area",
]

_LAZY = {"landuse", "maps", "plot"}
#: Functions whose module loads on first use: rasterio (raster) and the report writer are not on the
#: path of a check, so `import jixi_geo` does not pay for them. Their names differ from their modules'.
_LAZY_FUNCTIONS = {"rasterize": "raster", "zonal_composition": "raster", "write_report": "report"}


def __getattr__(name: str):
    # heavy optional modules (folium, matplotlib, rasterio) load on first use, keeping `import jixi_geo` fast
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_FUNCTIONS:
        value = getattr(importlib.import_module(f".{_LAZY_FUNCTIONS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name == "scale":  # deprecated alias of jixi_geo.batch for one release; warns on import
        return importlib.import_module(".scale", __name__)
    raise AttributeError(f"module 'jixi_geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
