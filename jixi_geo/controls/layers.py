"""Control layers by role: what :func:`load_controls` returns.

The contract other modules rely on (do not change without the lead):

- :class:`ControlLayer` ``.gdf``: EPSG:4490, Polygon/MultiPolygon only, non-empty,
  valid, with columns ``control_id`` (str), ``name`` (str, may be ""), ``level``
  (str key from ``control_roles.csv`` ``levels``, "" where the role has none),
  and for the ``landcover`` role also ``class_code`` (str, normalised 三调 code such
  as ``"0101"``; unknown codes kept as given), ``class_known`` (bool) and
  ``black_soil`` (bool, or missing column when the layer does not say); land cover
  also keeps ``class_name`` (the ``DLMC`` as given, "" if none).
- ``source`` (path as given, or ``"<GeoDataFrame>"``), ``sha256`` (of the file's
  bytes; of a ``.gdb`` folder: its files' names and bytes in name order; of a
  frame: its CRS, WKB and attributes), ``year`` (str or None),
  ``synthetic`` (bool: the bundled 合成示例), ``layer`` (layer name read),
  ``crs`` (the input CRS as ``EPSG:xxxx`` or WKT name), ``findings`` (tuple of
  bilingual notes: unknown codes, overlaps, reprojection).

Reading goes through :mod:`.read` (format allow-list, File Geodatabase, layers),
checking through :mod:`.schema` (every problem at once), and ``controls.toml``
through :mod:`.config`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd

from ..errors import InputError
from ..rules import read_rule_file
from .config import ENTRY_KEYS, read_controls_toml
from .read import file_sha256, frame_sha256, read_layer_file
from .schema import check_layer

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

    Parameters
    ----------
    controls : None, Controls, mapping or path
        ``None`` (no control layers), a :class:`Controls` (returned as is), a mapping
        ``role -> layer`` where a layer is a path, a GeoDataFrame, or a dict
        ``{"path" or "gdf", "layer", "year", "code_column", "name_column",
        "id_column", "level_column", "black_soil_column", "encoding", "make_valid",
        "synthetic"}``, or the path of a ``controls.toml`` (see
        :mod:`jixi_geo.controls.config`; its paths are relative to the toml file).
        Roles: :data:`ROLES` (``layers/rules/control_roles.csv``). Files are read
        through the format allow-list, which for control layers also admits an ESRI
        File Geodatabase (``.gdb`` folder or ``.gdb.zip``, GDAL's OpenFileGDB).
    landcover_layer : str, optional, keyword-only
        The layer of a multi-layer land-cover file (``--landcover-layer``); it
        overrides a ``layer`` given in the mapping or toml.

    Returns
    -------
    Controls or None
        Only the roles given, each a :class:`ControlLayer` in EPSG:4490 (a layer in
        another CRS is reprojected, never relabelled, and says so in ``findings``).

    Raises
    ------
    InputError
        An unknown role (the message lists the roles), a missing file, a refused
        format, or a multi-layer file without ``layer`` (the message lists the layers).
    SchemaError, CRSError
        Every problem of a layer at once (columns, CRS, location far from Jixi, mixed
        geometry types, empty or invalid polygons, unknown levels), 中文 first.
    """
    if controls is None or isinstance(controls, Controls):
        return controls
    if isinstance(controls, (str, os.PathLike)):
        spec: Mapping = read_controls_toml(controls)
    elif isinstance(controls, Mapping):
        spec = controls
    else:
        raise InputError(f"controls 须为 {{角色: 文件、GeoDataFrame 或 dict}} 或 controls.toml 路径，收到 "
                         f"{type(controls).__name__}。/ controls must be a mapping role -> layer (path, GeoDataFrame "
                         f"or dict) or the path of a controls.toml; got {type(controls).__name__}")
    unknown = [str(r) for r in spec if r not in ROLES]
    if unknown:
        raise InputError(f"未知的管控角色 {unknown}；可用：{', '.join(ROLES)}。/ unknown control role(s) {unknown}; "
                         f"the roles are: {', '.join(ROLES)} (layers/rules/control_roles.csv)")
    if landcover_layer is not None and "landcover" not in spec:
        raise InputError(f"给出了地类图斑图层名 {landcover_layer!r}（--landcover-layer），但没有地类图斑文件；"
                         f"请同时给出 --landcover。/ a land-cover layer name {landcover_layer!r} "
                         "(--landcover-layer) was given without a land-cover file; give --landcover too")
    out = {}
    for role in ROLES:
        if role in spec:
            out[role] = _load_one(role, spec[role], landcover_layer if role == "landcover" else None)
    return Controls(out)


def _entry(role: str, value) -> dict:
    if isinstance(value, gpd.GeoDataFrame):
        return {"gdf": value}
    if isinstance(value, (str, os.PathLike)):
        return {"path": value}
    if isinstance(value, Mapping):
        bad = sorted(set(value) - set(ENTRY_KEYS) - {"gdf"})
        if bad or ("path" in value) == ("gdf" in value):
            raise InputError(f"{role} 的设置应含 path 或 gdf 之一，可用键：{', '.join(ENTRY_KEYS)}"
                             f"（未知：{bad}）。/ the "
                             f"entry of {role} needs exactly one of path or gdf; its keys are: "
                             f"{', '.join(ENTRY_KEYS)}, gdf (unknown: {bad})")
        return dict(value)
    raise InputError(f"{role} 应为文件路径、GeoDataFrame 或 dict，收到 {type(value).__name__}。/ {role} must be a "
                     f"path, a GeoDataFrame or a dict; got {type(value).__name__}")


def _load_one(role: str, value, layer_override: str | None) -> ControlLayer:
    e = _entry(role, value)
    role_zh = _role_zh(role)
    layer = layer_override if layer_override is not None else e.get("layer")
    if "gdf" in e:
        gdf = e["gdf"]
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"{role} 的 gdf 须为 GeoDataFrame。/ the gdf of {role} must be a GeoDataFrame")
        source, digest, name, read_layer = "<GeoDataFrame>", frame_sha256(gdf), "<GeoDataFrame>", None
        gdf = gdf.copy()
    else:
        source = str(e["path"])
        gdf, read_layer = read_layer_file(e["path"], role=role, role_zh=role_zh, layer=layer,
                                          encoding=e.get("encoding"))
        digest, name = file_sha256(e["path"]), os.path.basename(os.path.normpath(source))
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    checked = check_layer(role, gdf.reset_index(drop=True), name=name, opts=e)
    year = str(e["year"]) if e.get("year") not in (None, "") else checked.year
    synthetic = bool(e.get("synthetic", False)) or checked.synthetic
    return ControlLayer(role=role, gdf=checked.gdf, source=source, sha256=digest, year=year, synthetic=synthetic,
                        layer=read_layer, crs=checked.crs, findings=tuple(checked.findings))


def _role_zh(role: str) -> str:
    t = read_rule_file("control_roles.csv")
    return str(t.loc[t["role"] == role, "name_zh"].iloc[0])
