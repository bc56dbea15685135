"""Shared input checks for vector layers (private).

:func:`validate_layer` looks at a layer once and collects **every** problem it finds
(missing CRS, no features, null or empty geometries, mixed or unwanted geometry
types, invalid geometries with their :func:`shapely.is_valid_reason`, a missing,
null or duplicated key) before raising a single error that lists them all, so a
planner fixes a file in one round instead of one error at a time.

The error class follows the problems: :class:`~jixi_geo.errors.CRSError`,
:class:`~jixi_geo.errors.InvalidGeometryError` or
:class:`~jixi_geo.errors.InputError` when all problems are of one kind, else
:class:`LayerProblemsError`, which is an instance of all three. Every error
raised here carries the problem texts in its ``problems`` attribute.

Invalid geometries are repaired only when asked (``make_valid=True``); each
repair is recorded in ``gdf.attrs["validate"]["repaired"]``.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._problems import Problems, fmt_list
from .errors import CRSError, InputError, InvalidGeometryError

__all__ = [
    "LayerProblemsError",
    "GeomFamily",
    "GEOM_FAMILIES",
    "resolve_layer",
    "validate_layer",
    "geometry_family",
    "polygonal_part",
]

#: How many feature labels a message lists before saying "… (n more)".

GeomFamily = Literal["polygon", "line", "point", "any"]
GEOM_FAMILIES = ("polygon", "line", "point", "any")

_FAMILY_OF_TYPE = {
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "LineString": "line",
    "MultiLineString": "line",
    "LinearRing": "line",
    "Point": "point",
    "MultiPoint": "point",
    "GeometryCollection": "collection",
}

_FAMILY_FIX = {
    "polygon": "keep only polygons, e.g. gdf[gdf.geom_type.isin(['Polygon', 'MultiPolygon'])]",
    "line": "keep only lines, e.g. gdf[gdf.geom_type.isin(['LineString', 'MultiLineString'])]",
    "point": "keep only points, e.g. gdf[gdf.geom_type.isin(['Point', 'MultiPoint'])]",
}


class LayerProblemsError(CRSError, InvalidGeometryError, InputError):
    """Problems of several kinds in one layer (CRS, geometry, attributes).

    An instance of :class:`~jixi_geo.errors.CRSError`,
    :class:`~jixi_geo.errors.InvalidGeometryError` and
    :class:`~jixi_geo.errors.InputError`, so any of those ``except`` clauses
    catches it. ``problems`` holds the list of problem texts.
    """


def geometry_family(geoms) -> np.ndarray:
    """The family of each geometry: ``polygon``, ``line``, ``point``, ``collection`` or ``""``.

    ``""`` marks None and empty geometries. Single and multi types share a family
    (Polygon and MultiPolygon are both ``polygon``).

    Examples
    --------
    >>> from shapely import Point, box
    >>> geometry_family([box(0, 0, 1, 1), Point(0, 0), None]).tolist()
    ['polygon', 'point', '']
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), "", dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms[ok])
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                      "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)
    out[ok] = [_FAMILY_OF_TYPE[names[t]] for t in types]
    return out


def polygonal_part(geoms) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (lines and points dropped).

    Intersections of polygons that touch return lines or points, and
    :func:`shapely.make_valid` may return a GeometryCollection; this keeps the
    areas only. Geometries without a polygonal part become empty polygons.

    Examples
    --------
    >>> from shapely import box
    >>> g = box(0, 0, 1, 1).intersection(box(1, 0, 2, 1))   # a shared edge
    >>> polygonal_part([g])[0].is_empty
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    fam = geometry_family(geoms)
    empty = shapely.from_wkt("POLYGON EMPTY")
    for i in np.flatnonzero(fam != "polygon"):
        if fam[i] == "collection":
            parts = [p for p in shapely.get_parts(geoms[i]) if shapely.get_dimensions(p) == 2]
            parts = [q for p in parts for q in shapely.get_parts(p)]
            out[i] = shapely.multipolygons(parts) if parts else empty
        else:
            out[i] = empty
    return out


def resolve_layer(layer, *, arg: str = "layer") -> tuple[gpd.GeoDataFrame, str]:
    """Turn a layer argument into a GeoDataFrame (a copy) and a label for messages.

    Parameters
    ----------
    layer : str or GeoDataFrame
        A bundled layer name (loaded with :func:`jixi_geo.load_layer`) or a
        GeoDataFrame.
    arg : str
        The argument's name, used in messages.

    Returns
    -------
    (GeoDataFrame, str)
        The data and a label such as ``"layer 'corridors'"`` or ``"a (GeoDataFrame)"``.

    Raises
    ------
    InputError
        If ``layer`` is neither.
    LayerNotFoundError
        If the name is not in the catalogue.
    """
    if isinstance(layer, str):
        from .layers import load_layer

        return load_layer(layer), f"layer {layer!r}"
    if isinstance(layer, gpd.GeoDataFrame):
        return layer.copy(), f"{arg} (GeoDataFrame)"
    if isinstance(layer, gpd.GeoSeries):
        return gpd.GeoDataFrame(geometry=layer.copy()), f"{arg} (GeoSeries)"
    raise InputError(
        f"{arg} must be a bundled layer name (str, see jixi_geo.list_layers()) or a "
        f"GeoDataFrame; got {type(layer).__name__}. Read files with geopandas.read_file first."
    )


def _labels(gdf: gpd.GeoDataFrame, key: str | None) -> list[str]:
    if key is not None and key in gdf.columns:
        return [f"{key}={v!r}" for v in gdf[key].tolist()]
    return [f"row {i}" for i in range(len(gdf))]


def validate_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str = "layer",
    geom_type: GeomFamily = "any",
    key: str | None = None,
    unique_key: bool = False,
    make_valid: bool = False,
) -> gpd.GeoDataFrame:
    """Check a layer and report every problem at once.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer.
    name : str
        How to call the layer in messages.
    geom_type : {"polygon", "line", "point", "any"}
        The geometry family the caller needs. Single and multi types count as
        one family. ``"any"`` accepts any family, but still refuses a mix.
    key : str, optional
        A column that identifies features: it must exist and have no nulls.
    unique_key : bool
        Also require the key values to be unique.
    make_valid : bool
        Repair invalid geometries with ``shapely.make_valid(method="structure")``
        instead of reporting them; for ``geom_type="polygon"`` only the polygonal
        part of a repair is kept. Repairs are listed in
        ``result.attrs["validate"]["repaired"]`` (label → ``is_valid_reason``).

    Returns
    -------
    GeoDataFrame
        A copy of ``gdf`` (repaired where asked), in its own CRS.

    Raises
    ------
    CRSError
        The layer has no CRS (and nothing else is wrong).
    InvalidGeometryError
        Null, empty, mixed-type, wrong-type or invalid geometries.
    InputError
        No features, or a missing / null / duplicated key.
    LayerProblemsError
        Problems of more than one of those kinds.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> g = gpd.GeoDataFrame({"id": [1]}, geometry=[bowtie], crs="EPSG:4553")
    >>> validate_layer(g, key="id")
    Traceback (most recent call last):
    ...
    jixi_geo.errors.InvalidGeometryError: layer: 1 problem found:
      - 1 invalid geometry: id=1: Self-intersection[0.5 0.5]. ...
    >>> validate_layer(g, key="id", make_valid=True).attrs["validate"]["repaired"]
    {'id=1': 'Self-intersection[0.5 0.5]'}
    """
    if geom_type not in GEOM_FAMILIES:
        raise InputError(f"geom_type must be one of {GEOM_FAMILIES}; got {geom_type!r}")
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{name} must be a GeoDataFrame; got {type(gdf).__name__}")
    gdf = gdf.copy()
    problems = Problems(name, mixed=LayerProblemsError)

    if gdf.crs is None:
        problems.add(CRSError,
                     "no coordinate reference system. Set the one the coordinates are in, e.g. "
                     "gdf.set_crs('EPSG:4490') for CGCS2000 lon/lat or 'EPSG:4553' for CGCS2000 "
                     "Gauss-Kruger CM 132E (only label data this way; transform with to_crs)")
    if len(gdf) == 0:
        problems.add(InputError, "the layer has no features; pass a layer with at least one "
                                 "feature (check the filter or the file you read)")
        problems.raise_if_any()
        return gdf

    labels = _labels(gdf, key)
    if key is not None:
        if key not in gdf.columns:
            cols = [c for c in gdf.columns if c != gdf.geometry.name]
            problems.add(InputError, f"key column {key!r} is missing; the columns are {cols}. "
                                     "Pass the right column name as the key")
        else:
            nulls = np.flatnonzero(gdf[key].isna().to_numpy())
            if len(nulls):
                problems.add(InputError,
                             f"{len(nulls)} feature(s) with a null {key!r}: "
                             f"{fmt_list(f'row {i}' for i in nulls)}. Give every feature a key value")
            if unique_key:
                dup = gdf[key][gdf[key].duplicated(keep=False) & gdf[key].notna()]
                if len(dup):
                    problems.add(InputError,
                                 f"{key!r} is not unique: {fmt_list(pd.unique(dup))} occur more "
                                 "than once. Dissolve them (gdf.dissolve(by=key)) or use a unique key")

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    fam = geometry_family(geoms)
    blank = np.flatnonzero(fam == "")
    if len(blank):
        problems.add(InvalidGeometryError,
                     f"{len(blank)} null or empty geometr{'y' if len(blank) == 1 else 'ies'}: "
                     f"{fmt_list(labels[i] for i in blank)}. Drop them, e.g. "
                     "gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]")

    present = [f for f in ("polygon", "line", "point", "collection") if (fam == f).any()]
    counts = pd.Series(gdf.geom_type[fam != ""]).value_counts()
    found = ", ".join(f"{n} {t}" for t, n in counts.items())
    if len(present) > 1 or "collection" in present:
        want = geom_type if geom_type != "any" else present[0] if present[0] != "collection" else "polygon"
        problems.add(InvalidGeometryError,
                     f"mixed geometry types ({found}); a layer must hold one geometry type. "
                     f"Split it by type and pass one part, e.g. {_FAMILY_FIX[want]}; "
                     "explode GeometryCollections with gdf.explode()")
    elif present and geom_type != "any" and present[0] != geom_type:
        fix = ("buffer them to polygons in metres first, e.g. gdf.to_crs('EPSG:4553').buffer(50)"
               if geom_type == "polygon" else _FAMILY_FIX[geom_type])
        problems.add(InvalidGeometryError, f"this needs {geom_type} geometries but the layer "
                                           f"holds {found}; {fix}")

    repaired: dict[str, str] = {}
    check = np.flatnonzero(fam != "")
    bad = check[~shapely.is_valid(geoms[check])]
    if len(bad):
        reasons = shapely.is_valid_reason(geoms[bad])
        if make_valid:
            fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
            if geom_type == "polygon":
                fixed = polygonal_part(fixed)
            collapsed = []
            for i, g, r in zip(bad, fixed, reasons, strict=True):
                if g is None or g.is_empty:
                    collapsed.append(f"{labels[i]}: {r}")
                else:
                    geoms[i] = g
                    repaired[labels[i]] = str(r)
            if collapsed:
                problems.add(InvalidGeometryError,
                             f"{len(collapsed)} invalid geometr{'y' if len(collapsed) == 1 else 'ies'} "
                             f"that make_valid reduces to nothing of the needed type: "
                             f"{fmt_list(collapsed)}. Redraw or drop them")
            gdf[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
        else:
            listed = [f"{labels[i]}: {r}" for i, r in zip(bad, reasons, strict=True)]
            problems.add(InvalidGeometryError,
                         f"{len(bad)} invalid geometr{'y' if len(bad) == 1 else 'ies'}: "
                         f"{fmt_list(listed)}. Redraw them, or pass make_valid=True to repair them "
                         "with shapely.make_valid")

    problems.raise_if_any()
    gdf.attrs = dict(gdf.attrs)
    gdf.attrs["validate"] = {"repaired": repaired}
    return gdf

