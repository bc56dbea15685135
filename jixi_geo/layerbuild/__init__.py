"""The layer build step: derive ``layers/*.gpkg`` and ``catalog.json`` from sources.

Run ``jixi-geo build-layers`` (or ``python -m jixi_geo.layerbuild``, the same command). The build reads only
``layers/sources``, ``layers/params`` and ``layers/tables``; it is deterministic, so a
second run gives layers with identical content checksums.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__
from .._io import atomic_path, content_sha256, file_sha256, output_dir, write_text_atomic
from .._paths import layers_dir
from ..crs import STORAGE_CRS, geodesic_area
from ..errors import BuildError

__all__ = ["LayerSpec", "BuildContext", "build_layers", "STANDARD_COLUMNS", "STORAGE_GRID_DEG", "PRECISIONS"]

log = logging.getLogger(__name__)

#: Columns every feature of every layer carries, in this order.
STANDARD_COLUMNS = ["id", "name_zh", "name_en", "category", "source", "precision", "method",
                    "official_area_ha"]
STORAGE_GRID_DEG = 1e-7
#: ``synthetic``: made up from a seed (the 合成示例 control layers), not a model of anything real.
PRECISIONS = {"surveyed", "generalised", "schematic", "illustrative", "synthetic"}

# GeoPackage writers stamp the current time into gpkg_contents; fix it so the same
# content gives the same bytes.
_FIXED_DATE = "2024-01-01T00:00:00Z"


@dataclass
class LayerSpec:
    """One layer produced by a builder."""

    name: str
    gdf: gpd.GeoDataFrame
    title_zh: str
    title_en: str
    source: str
    precision: str
    licence: str
    description: str = ""
    parameters: dict = field(default_factory=dict)
    #: GeoPackage file stem and layer name inside it; default both ``name``. Layers that share
    #: a ``file`` are written into one GeoPackage (e.g. the four roles of ``sample_controls``).
    file: str | None = None
    layer: str | None = None


@dataclass
class BuildContext:
    """What builders can read: sources, parameters, tables, and layers built so far."""

    root: Path
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    def source(self, filename: str) -> Path:
        return self.root / "sources" / filename

    def params_csv(self, filename: str, **kw) -> pd.DataFrame:
        return pd.read_csv(self.root / "params" / filename, encoding="utf-8", **kw)

    def params_json(self, filename: str) -> dict:
        return json.loads((self.root / "params" / filename).read_text(encoding="utf-8"))

    def table(self, filename: str, **kw) -> pd.DataFrame:
        return pd.read_csv(self.root / "tables" / filename, encoding="utf-8", **kw)


def _builders():
    from . import base

    mods = [base]
    for name in ("pattern", "jidong", "projects", "controls_sample"):
        try:
            mods.append(__import__(f"{__name__}.{name}", fromlist=["build"]))
        except ModuleNotFoundError as exc:  # a theme not written yet
            if exc.name != f"{__name__}.{name}":
                raise
    return mods


def _finish(spec: LayerSpec) -> gpd.GeoDataFrame:
    gdf = spec.gdf
    missing = [c for c in STANDARD_COLUMNS if c not in gdf.columns]
    if missing:
        raise BuildError(f"layer {spec.name!r} lacks the standard columns {missing}")
    if gdf.crs is None:
        raise BuildError(f"layer {spec.name!r} was built without a CRS")
    gdf = gdf.to_crs(STORAGE_CRS)
    # Snap to a 1e-7° grid (~1 cm): GEOS returns valid output, which a reprojection of
    # near-touching rings from metres to degrees does not guarantee.
    import shapely

    geoms = gdf.geometry.values
    polygonal = shapely.get_dimensions(geoms) == 2
    fixed = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    geoms = np.where(polygonal & ~shapely.is_valid(geoms), fixed, geoms)
    gdf["geometry"] = shapely.set_precision(geoms, STORAGE_GRID_DEG)
    bad = sorted(set(gdf["precision"]) - PRECISIONS)
    if bad:
        raise BuildError(f"layer {spec.name!r} has precision values {bad}; allowed {sorted(PRECISIONS)}")
    if gdf["id"].duplicated().any():
        raise BuildError(f"layer {spec.name!r} has duplicate ids: {gdf['id'][gdf['id'].duplicated()].tolist()}")
    bad = gdf.geometry.is_empty | ~gdf.geometry.is_valid
    if bad.any():
        import shapely

        why = dict(zip(gdf["id"][bad], shapely.is_valid_reason(gdf.geometry[bad].values), strict=True))
        raise BuildError(f"layer {spec.name!r} has empty or invalid geometries: {why}")
    if gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        gdf["area_ha"] = geodesic_area(gdf, unit="ha").round(4)
    others = [c for c in gdf.columns if c not in STANDARD_COLUMNS and c != "geometry"]
    return gdf[STANDARD_COLUMNS + others + ["geometry"]].reset_index(drop=True)


def _write(layers: list[tuple[str, gpd.GeoDataFrame]], path: Path) -> None:
    """Write ``(layer name, frame)`` pairs into one GeoPackage, atomically and with fixed timestamps."""
    old = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = _FIXED_DATE
    try:
        with atomic_path(path) as tmp:
            for i, (layer, gdf) in enumerate(layers):
                gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio", **({"mode": "a"} if i else {}))
    finally:
        if old is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = old


def build_layers(*, out_dir: str | os.PathLike | None = None, root: str | os.PathLike | None = None) -> dict:
    """Build every layer and write the GeoPackages and ``catalog.json``.

    Parameters
    ----------
    out_dir : path, optional
        Where to write; default the bundled ``layers/`` directory itself.
    root : path, optional
        The ``layers/`` directory to read sources, parameters and tables from.

    Returns
    -------
    dict
        The catalogue written.
    """
    root = Path(root) if root else layers_dir()
    out = output_dir(Path(out_dir) if out_dir else root)  # OutputError if it cannot be written
    ctx = BuildContext(root=root)
    built: list[tuple[LayerSpec, gpd.GeoDataFrame]] = []
    for mod in _builders():
        for spec in mod.build(ctx):
            gdf = _finish(spec)
            ctx.layers[spec.name] = gdf
            built.append((spec, gdf))
    files: dict[str, list[tuple[str, gpd.GeoDataFrame]]] = {}
    for spec, gdf in built:
        files.setdefault(spec.file or spec.name, []).append((spec.layer or spec.name, gdf))
    for stem, layers in files.items():
        _write(layers, out / f"{stem}.gpkg")
    entries = []
    for spec, _ in built:
        path = out / f"{spec.file or spec.name}.gpkg"
        layer = spec.layer or spec.name
        back = gpd.read_file(path, layer=layer, engine="pyogrio")
        entries.append({
            "name": spec.name,
            "file": path.name,
            "layer": layer,
            "title_zh": spec.title_zh,
            "title_en": spec.title_en,
            "geometry_type": sorted(set(back.geom_type))[0] if len(set(back.geom_type)) == 1
            else "/".join(sorted(set(back.geom_type))),
            "n_features": int(len(back)),
            "crs": back.crs.to_string(),
            "source": spec.source,
            "precision": spec.precision,
            "licence": spec.licence,
            "description": spec.description,
            "parameters": spec.parameters,
            "sha256_content": content_sha256(back),
            "sha256_file": file_sha256(path),
        })
        log.info("built %s: %d features", spec.name, len(back))
    cat = {"catalog_version": 1, "built_by": f"jixi_geo {__version__}", "layers": entries}
    write_text_atomic(out / "catalog.json", json.dumps(cat, ensure_ascii=False, indent=2) + "\n")
    return cat
