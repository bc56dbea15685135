"""Read options shared by the check functions, their docstring block, and the registry of partitioned-input checkers.

:class:`ReadOptions` carries the options of :func:`jixi_geo.read_sites` that every
check function accepts; :func:`with_read_options_doc` puts :data:`READ_OPTIONS_DOC`
into their docstrings; :func:`register_partitioned` lets :mod:`jixi_geo.batch`
hand dask-geopandas inputs of :func:`jixi_geo.redline.check_sites` to its checker
(:data:`PARTITIONED`) without an import cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["ReadOptions", "READ_OPTIONS_DOC", "with_read_options_doc", "register_partitioned", "PARTITIONED"]


@dataclass(frozen=True)
class ReadOptions:
    """The options of :func:`jixi_geo.read_sites`, which every check function accepts and passes on.

    :func:`check_sites`, :func:`check_sites_detail` and :func:`jixi_geo.check_file`
    take each of these as a keyword (``tests/test_batch.py`` asserts that the
    three signatures hold every keyword of :func:`jixi_geo.read_sites`); inside,
    they travel together as one of these. The block :data:`READ_OPTIONS_DOC`
    documents them once, in every check function's docstring.
    """

    coords: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | None = None
    crs: Any = None
    id_column: str | None = None
    layer: str | int | None = None
    encoding: str | None = None
    make_valid: bool = False
    cad_layer: str | None = None
    sheet: str | int | None = None
    name_column: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """The options as keywords of :func:`jixi_geo.read_sites`."""
        return asdict(self)

    def given(self) -> dict[str, Any]:
        """The options that differ from their defaults."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}


#: The numpydoc block of the read options, put into each check function's docstring
#: where it says ``{read_options}`` (by :func:`with_read_options_doc`).
READ_OPTIONS_DOC = """\
coords : {"wgs84", "cgcs2000", "gcj02", "bd09"}, optional
    Lon/lat copied from a Chinese web map (GCJ-02 for 高德/腾讯, BD-09 for 百度) is
    converted to WGS84 first; the result records it in ``converted_from``.
crs : optional
    The CRS of a file that has none (e.g. a Shapefile without ``.prj``).
id_column : str, optional
    The column holding the site ids (default: ``site_id``/``id``/``编号`` if unique).
layer : str or int, optional
    Layer of a multi-layer file (GeoPackage, KML), or the Shapefile of a ``.zip``
    holding several.
encoding : str, optional
    Text encoding of a CSV, WKT text or ``.dbf`` (e.g. ``"gbk"``).
make_valid : bool
    Repair invalid polygons instead of refusing them (the repair is noted).
cad_layer, sheet, name_column : str, optional
    DXF layers to read, the Excel sheet, the column of site names. Each of these
    options (:class:`ReadOptions`) is passed to :func:`jixi_geo.read_sites`, which
    documents it in full."""


def with_read_options_doc(func):
    """Put :data:`READ_OPTIONS_DOC` into ``func``'s docstring at ``{read_options}``, indented as that line."""
    doc = func.__doc__ or ""
    lines = doc.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "{read_options}")
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at:at + 1] = [(indent + t) if t else "" for t in READ_OPTIONS_DOC.splitlines()]
    func.__doc__ = "\n".join(lines) + ("\n" if doc.endswith("\n") else "")
    return func


#: Checkers of partitioned inputs, tried in order by :func:`check_sites`: (accepts, check) pairs.
PARTITIONED: list[tuple[Callable[[Any], bool], Callable[..., Any]]] = []


def register_partitioned(accepts: Callable[[Any], bool], check: Callable[..., Any]) -> None:
    """Let :func:`check_sites` hand a partitioned input to ``check``.

    :mod:`jixi_geo.batch` registers its dask-geopandas checker when it is
    imported (``import jixi_geo`` imports it), so ``check_sites(dask_gdf)``
    works while :mod:`jixi_geo.redline` never imports :mod:`jixi_geo.batch`, which
    imports it: no import cycle.

    Parameters
    ----------
    accepts : callable
        ``accepts(sites) -> bool``: whether ``check`` takes these sites. It must
        not import anything heavy (test the type's module name, for example).
    check : callable
        ``check(sites, **options)`` with every keyword of :func:`check_sites`.
    """
    if (accepts, check) not in PARTITIONED:
        PARTITIONED.append((accepts, check))
