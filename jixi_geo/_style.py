"""The floor shared by web maps (:mod:`jixi_geo.maps`) and figures (:mod:`jixi_geo.plot`).

Layer styles, the layer names a pattern drawing accepts, the ``layers=`` argument check and
the loading of the ecological pattern. Nothing here imports folium or matplotlib, so either
front end can be loaded without the other. Verdict and control-level labels and colours are
not here: they are data, read through :mod:`jixi_geo.vocab`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from .crs import STORAGE_CRS, ensure_crs
from .errors import InputError, LayerNotFoundError, SchemaError
from .layers import load_layer

__all__ = ["PATTERN_ELEMENTS", "REF_STYLE", "PATTERN_KEYS", "ELEMENT_LAYERS", "require_columns",
           "check_layers_arg", "layer_or_none", "pattern_elements"]

log = logging.getLogger("jixi_geo.maps")

#: Ecological pattern elements: element -> (中文, English, colour, fill opacity),
#: in drawing order (bottom first).
PATTERN_ELEMENTS: dict[str, tuple[str, str, str, float]] = {
    "barrier": ("生态屏障", "Ecological barriers", "#a6761d", 0.25),
    "corridor": ("生态廊道", "Ecological corridors", "#4daf4a", 0.45),
    "protected_area": ("自然保护地", "Protected areas", "#00702e", 0.45),
    "lake": ("湖泊", "Lake", "#2b83ba", 0.6),
}

#: Reference layers: key -> (中文, English, line colour).
REF_STYLE: dict[str, tuple[str, str, str]] = {
    "counties": ("区县", "Counties", "#6f6f6f"),
    "boundary": ("鸡西市界", "Jixi city boundary", "#222222"),
    "rivers": ("河流", "Rivers", "#3a7fc1"),
}

#: Layer names the ``layers=`` option of a pattern map or figure accepts.
PATTERN_KEYS = ("pattern", "boundary", "counties", "rivers", "lake", "barriers", "corridors",
                "protected_areas")
#: Separate element layers -> the pattern element each one holds (used until ``pattern`` is built).
ELEMENT_LAYERS = {"lake": "lake", "barriers": "barrier", "corridors": "corridor",
                  "protected_areas": "protected_area"}


def require_columns(gdf, columns, *, name: str) -> None:
    """Refuse ``gdf`` unless it is a GeoDataFrame with ``columns`` and a CRS.

    Raises
    ------
    InputError
        If ``gdf`` is not a GeoDataFrame.
    SchemaError
        If a column is missing.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{name} must be a GeoDataFrame; got {type(gdf).__name__}")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise SchemaError(f"{name} lacks the column(s) {', '.join(missing)}; it has "
                          f"{', '.join(map(str, gdf.columns))}")
    ensure_crs(gdf, name=name)


def layer_or_none(name: str, layers: Mapping, *, notes: list[str] | None = None):
    """``layers[name]`` if given, else the bundled layer, else ``None`` (with a note when ``notes`` is a list)."""
    if name in layers:
        return layers[name]
    try:
        return load_layer(name)
    except LayerNotFoundError:
        log.info("layer %r is not built; the map omits it", name)
        if notes is not None:
            notes.append(f"图层 {name} 尚未构建，未显示。 Layer '{name}' is not built yet and is not shown.")
        return None


def check_layers_arg(layers, allowed: tuple[str, ...]) -> dict:
    """The ``layers=`` option as a dict, checked against the ``allowed`` names.

    Raises
    ------
    InputError
        If ``layers`` is not a mapping, names an unknown layer or holds a non-GeoDataFrame.
    """
    if layers is None:
        return {}
    if not isinstance(layers, Mapping):
        raise InputError(f"layers must be a mapping of layer name to GeoDataFrame; got {type(layers).__name__}")
    unknown = sorted(set(layers) - set(allowed))
    if unknown:
        raise InputError(f"layers has unknown name(s) {', '.join(map(repr, unknown))}; "
                         f"use {', '.join(allowed)}")
    for k, v in layers.items():
        if v is not None and not isinstance(v, gpd.GeoDataFrame):
            raise InputError(f"layers[{k!r}] must be a GeoDataFrame or None; got {type(v).__name__}")
    return dict(layers)


def pattern_elements(layers: dict, notes: list[str], warnings: list[str]) -> gpd.GeoDataFrame | None:
    """The ``pattern`` layer, or (until it is built) the separate element layers combined.

    Raises
    ------
    SchemaError
        If the pattern layer has an ``element`` value not in :data:`PATTERN_ELEMENTS`.
    """
    if "pattern" in layers:
        pattern = layers["pattern"]
    else:
        try:
            pattern = load_layer("pattern")
        except LayerNotFoundError:
            pattern = None
            frames, used = [], []
            for lname, element in ELEMENT_LAYERS.items():
                gdf = layer_or_none(lname, layers)
                if gdf is not None and len(gdf):
                    ensure_crs(gdf, name=f"layers[{lname!r}]")
                    frames.append(gdf.to_crs(STORAGE_CRS).assign(element=element))
                    used.append(lname)
            if frames:
                pattern = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORAGE_CRS)
                notes.append(f"图层 pattern 尚未构建，显示 {'、'.join(used)} 图层。 The 'pattern' layer is "
                             f"not built yet; showing the {', '.join(used)} layers.")
            else:
                warnings.append("生态安全格局图层尚未构建（jixi-geo build-layers）。 The ecological "
                                "pattern layers are not built yet (jixi-geo build-layers).")
            return pattern
    if pattern is None:
        return None
    require_columns(pattern, ["element"], name="the pattern layer")
    bad = sorted(set(pattern["element"].dropna().astype(str)) - set(PATTERN_ELEMENTS)
                 | ({"<missing>"} if pattern["element"].isna().any() else set()))
    if bad:
        raise SchemaError(f"the pattern layer has element value(s) {', '.join(bad)}; expected "
                          f"{', '.join(PATTERN_ELEMENTS)}")
    return pattern
