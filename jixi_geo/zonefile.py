"""Validation of a user's zone layer (file or GeoDataFrame) against the ``redline_zones`` schema.

:func:`validate_zones` reads a zones file through the format allow-list, reads
documented ``.dbf``-cut column names as the schema's, and collects every schema
problem into one :class:`~jixi_geo.errors.SchemaError`.
"""

from __future__ import annotations

import functools
import warnings

import geopandas as gpd
import shapely

from . import rules as R
from .errors import InputError, JixiGeoWarning, SchemaError

__all__ = ["validate_zones", "ZONE_COLUMNS", "SHOWN_DUPLICATE_IDS", "SHOWN_INVALID_REASONS"]

#: validate_zones' message lists at most this many duplicate ids and this many
#: invalid-geometry reasons (the number of invalid polygons is given in full).
SHOWN_DUPLICATE_IDS = 10
SHOWN_INVALID_REASONS = 5
#: Columns a zone layer must have (the schema of the bundled ``redline_zones``).
ZONE_COLUMNS = ("id", "name_zh", "name_en", "control_level")


def validate_zones(zones, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Check a user's zone layer (e.g. official red-line data) against the ``redline_zones`` schema.

    Collects every problem (missing columns, unknown control levels, missing CRS,
    empty or invalid or non-polygon geometries, duplicate ids) and raises them together.

    Parameters
    ----------
    zones : GeoDataFrame or path
        The zones, or a file of them: GeoJSON, GeoPackage, Shapefile (``.shp`` or a
        ``.zip``), KML/KMZ or GeoParquet. The format is decided from the file's name
        and first bytes before anything opens it; other formats (VRT, GML, …) are
        refused. Column names cut by the 10-character ``.dbf`` limit
        (``control_le``) are read as the schema's names, as listed in
        ``layers/rules/zone_column_aliases.csv``, with a
        :class:`~jixi_geo.errors.JixiGeoWarning` saying so.
    layer : str, optional
        The layer of a multi-layer file (required when it has more than one).

    Returns
    -------
    geopandas.GeoDataFrame
        The zones (read from the file if a path was given); renamed columns are
        listed in ``attrs["validate_zones"]["renamed"]``.

    Raises
    ------
    InputError
        A missing file, a refused format, a file that is not a vector file, or a
        multi-layer file without ``layer`` (the message lists the layers).
    SchemaError
        Listing every problem and how to fix it.
    """
    if not isinstance(zones, gpd.GeoDataFrame):
        zones = _read_zone_file(zones, layer=layer)
    zones, renamed = _apply_aliases(zones)
    problems = []
    missing = [c for c in ZONE_COLUMNS if c not in zones.columns]
    if missing:
        problems.append(f"missing column(s) {missing}: a zone layer needs {list(ZONE_COLUMNS)} "
                        "(see layers/SOURCES.md, 'Red-line zones'; a Shapefile's .dbf cuts names to 10 "
                        "characters: the cut names read as the schema's are in "
                        "layers/rules/zone_column_aliases.csv)")
    if zones.crs is None:
        problems.append("no CRS: set the CRS the coordinates are in (e.g. EPSG:4490 or EPSG:4553)")
    if len(zones) == 0:
        problems.append("the layer has no features")
    if "control_level" in zones.columns:
        allowed = set(R.verdict_rules()["control_level"])
        bad = sorted(set(zones["control_level"].astype(str)) - allowed)
        if bad:
            problems.append(f"control_level values {bad} are not known; use {sorted(allowed)}")
    if "id" in zones.columns and zones["id"].duplicated().any():
        dup = sorted(zones["id"][zones["id"].duplicated()].astype(str).unique())
        problems.append(f"duplicate ids: {dup[:SHOWN_DUPLICATE_IDS]}")
    g = zones.geometry
    if len(zones):
        if g.isna().any() or g.is_empty.any():
            problems.append(f"{int(g.isna().sum() + g.is_empty.sum())} empty or missing geometries")
        poly = g.geom_type.isin(["Polygon", "MultiPolygon"])
        if (~poly & g.notna()).any():
            kinds = sorted(set(g.geom_type[~poly].dropna()))
            problems.append(f"non-polygon geometries: {kinds}; zones must be polygons")
        invalid = g.notna() & ~g.is_valid
        if invalid.any():
            reasons = shapely.is_valid_reason(g[invalid].values)[:SHOWN_INVALID_REASONS]
            problems.append(f"{int(invalid.sum())} invalid polygon(s), e.g. {list(reasons)}; repair them "
                            "(shapely.make_valid) and check the result")
    if problems:
        raise SchemaError("the zone layer does not fit the redline_zones schema:\n- " + "\n- ".join(problems))
    zones.attrs = dict(zones.attrs)
    zones.attrs["validate_zones"] = {"renamed": renamed}
    return zones


def _read_zone_file(path, *, layer) -> gpd.GeoDataFrame:
    """Read a zones file through the format allow-list; refuse an ambiguous multi-layer file."""
    from .readers import registry as _formats
    from .readers.geoparquet import read_parquet as _read_parquet
    from .readers.vector import read_vector as _read_vector

    src = _formats.identify(path, layer=layer, what="zones file", vector_only=True)
    if src.kind == "parquet":
        return _read_parquet(src.path, layer=None, encoding=None).gdf
    if src.kind in ("gpkg", "kml", "kmz", "geojson"):
        import pyogrio  # here, not at the top: the check of bundled zones needs no GDAL

        try:
            layers = [str(n) for n in pyogrio.list_layers(src.gdal_path)[:, 0]]
        except Exception as e:  # pyogrio.errors.DataSourceError and friends
            raise InputError(f"管控区文件 {src.path.name} 无法作为矢量文件打开（{e}）。/ the zones file "
                             f"{src.path.name} could not be opened as a vector file ({e}). Accepted formats: "
                             f"{_formats.ACCEPTED_VECTOR_EN}.") from None
        if layer is None and len(layers) > 1:
            raise InputError(
                f"管控区文件 {src.path.name} 含 {len(layers)} 个图层（{', '.join(layers)}），不会默认取第一个；"
                f"请用 --zones-layer（或 zones_layer=/layer=）指定。/ the zones file {src.path.name} has "
                f"{len(layers)} layers: {', '.join(layers)}. jixi_geo does not pick the first one; choose with "
                f"--zones-layer NAME (API: zones_layer= in check_sites, layer= in validate_zones), e.g. "
                f"--zones-layer {layers[0]}")
        if layer is not None and str(layer) not in layers:
            raise InputError(f"管控区文件 {src.path.name} 中没有图层 {layer!r}（有：{', '.join(layers)}）。/ layer "
                             f"{layer!r} is not in the zones file {src.path.name}; its layers are: "
                             f"{', '.join(layers)}")
    return _read_vector(src, layer=layer, encoding=None).gdf


@functools.lru_cache(maxsize=1)
def _zone_aliases() -> dict[str, tuple[str, str, str]]:
    """alias (lower case) -> (schema column, reason 中文, reason English)."""
    t = R.read_rule_file("zone_column_aliases.csv")
    return {a.strip().lower(): (c, zh, en) for c, a, zh, en in
            t[["column", "alias", "reason_zh", "reason_en"]].itertuples(index=False)}


def _apply_aliases(zones: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Rename documented aliases (``control_le``) to the schema's columns, and say so."""
    have = {str(c) for c in zones.columns}
    renames: dict[str, str] = {}
    for c in zones.columns:
        hit = _zone_aliases().get(str(c).strip().lower())
        if hit is not None and hit[0] not in have and hit[0] not in renames.values():
            renames[c] = hit[0]
            warnings.warn(f"管控区图层的列 {c!r} 按 {hit[0]!r} 读取：{hit[1]}。/ zones column {c!r} read as "
                          f"{hit[0]!r}: {hit[2]} (layers/rules/zone_column_aliases.csv).", JixiGeoWarning,
                          stacklevel=3)
    if renames:
        zones = zones.rename(columns=renames)
    return zones, {str(k): v for k, v in renames.items()}
