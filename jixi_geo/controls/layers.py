"""Control layers by role: what :func:`load_controls` returns (CONTRACT STUB — helper A1 completes it).

The contract other modules rely on (do not change without the lead):

- :class:`ControlLayer` ``.gdf``: EPSG:4490, Polygon/MultiPolygon only, non-empty,
  valid, with columns ``control_id`` (str), ``name`` (str, may be ""), ``level``
  (str key from ``control_roles.csv`` ``levels``, "" where the role has none),
  and for the ``landcover`` role also ``class_code`` (str, normalised 三调 code such
  as ``"0101"``; unknown codes kept as given), ``class_known`` (bool) and
  ``black_soil`` (bool, or missing column when the layer does not say).
- ``source`` (path as given, or ``"<GeoDataFrame>"``), ``sha256`` (of the file's
  bytes, or of the frame's WKB + attributes), ``year`` (str or None),
  ``synthetic`` (bool: the bundled 合成示例), ``layer`` (layer name read),
  ``crs`` (the input CRS as ``EPSG:xxxx`` or WKT name), ``findings`` (tuple of
  bilingual notes: unknown codes, overlaps, reprojection).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd

from .._paths import rules_dir
from ..crs import STORAGE_CRS
from ..errors import InputError

__all__ = ["ROLES", "ControlLayer", "Controls", "load_controls"]

#: The roles a control layer can play, in report order (keys of ``layers/rules/control_roles.csv``).
ROLES = ("permanent_farmland", "urban_boundary", "water_source", "landcover")


@dataclass(frozen=True)
class ControlLayer:
    """One checked control layer (see the module docstring for the columns)."""

    role: str
    gdf: gpd.GeoDataFrame
    source: str = "<GeoDataFrame>"
    sha256: str | None = None
    year: str | None = None
    synthetic: bool = False
    layer: str | None = None
    crs: str | None = None
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Controls:
    """The control layers of one check, by role (only the roles given)."""

    layers: dict[str, ControlLayer] = field(default_factory=dict)

    def __contains__(self, role: str) -> bool:
        return role in self.layers

    def __getitem__(self, role: str) -> ControlLayer:
        return self.layers[role]

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles given, in :data:`ROLES` order."""
        return tuple(r for r in ROLES if r in self.layers)

    @property
    def synthetic(self) -> bool:
        """Whether any layer is the bundled synthetic sample (合成示例·非真实数据)."""
        return any(c.synthetic for c in self.layers.values())


def load_controls(controls, *, landcover_layer: str | None = None) -> Controls | None:
    """Read and check control layers by role.

    STUB: accepts a :class:`Controls`, ``None``, or a mapping role -> GeoDataFrame that
    already has the normalised columns. Helper A1 replaces it with the full reader
    (paths, File Geodatabase, ``controls.toml``, schema checks, code normalisation).
    """
    if controls is None or isinstance(controls, Controls):
        return controls
    if not isinstance(controls, Mapping):
        raise InputError("controls 须为 {角色: 文件或 GeoDataFrame} / controls must be a mapping role -> layer")
    out = {}
    for role, gdf in controls.items():
        if role not in ROLES:
            raise InputError(f"未知的管控角色 {role!r} / unknown control role {role!r}; use one of {list(ROLES)}")
        out[role] = ControlLayer(role=role, gdf=gdf.to_crs(STORAGE_CRS))
    _ = rules_dir
    return Controls(out)
