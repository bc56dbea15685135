"""The bundled synthetic control layers (合成示例·非真实数据): :func:`sample_controls`.

``layers/sample_controls.gpkg`` holds one layer per role (``permanent_farmland``,
``urban_boundary``, ``water_source``, ``landcover``), made up by the build
(:mod:`jixi_geo.layerbuild.controls_sample`) with the columns a real export has. They
show the three-line check in notebooks, tests and ``make run``; they are **not** real
data, and every result that uses them says so (``synthetic=True``).
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd

from .._io import file_sha256
from ..errors import InputError
from ..layers import layer_info, layer_path
from .layers import ROLES, Controls, load_controls

__all__ = ["SAMPLE_NOTE", "sample_layer_name", "sample_controls"]

#: The words every output that uses the sample carries (``precision.csv``, value ``synthetic``).
SAMPLE_NOTE = "合成示例·非真实数据 / synthetic example, not real data"

def sample_layer_name(role: str) -> str:
    """The catalogue name of the sample layer of ``role`` (``"landcover"`` → ``"sample_landcover"``)."""
    return f"sample_{role}"


def sample_controls(*, roles=ROLES) -> Controls:
    """The synthetic control layers, ready for ``check_sites(..., controls=...)``.

    Parameters
    ----------
    roles : iterable of str, optional, keyword-only
        The roles to load (default all four: ``permanent_farmland``, ``urban_boundary``,
        ``water_source``, ``landcover``).

    Returns
    -------
    Controls
        One :class:`~jixi_geo.controls.ControlLayer` per role with ``synthetic=True``,
        ``source`` the GeoPackage, ``sha256`` of its bytes, ``layer`` the role.

    Raises
    ------
    InputError
        If a role is not one of :data:`~jixi_geo.controls.ROLES`.

    Examples
    --------
    >>> c = sample_controls()
    >>> c.roles, c.synthetic
    (('permanent_farmland', 'urban_boundary', 'water_source', 'landcover'), True)
    >>> sorted(set(c["water_source"].gdf["level"]))
    ['first', 'quasi', 'second']
    >>> sample_controls(roles=["landcover"]).roles
    ('landcover',)
    """
    roles = [roles] if isinstance(roles, str) else list(roles)
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise InputError(f"未知或空的管控角色 {unknown}；可用：{', '.join(ROLES)}。/ unknown or no control role(s) "
                         f"{unknown}; the sample has: {', '.join(ROLES)}")
    frames = {}
    for role in roles:
        name = sample_layer_name(role)
        gdf = gpd.read_file(layer_path(name), layer=layer_info(name)["layer"], engine="pyogrio")
        frames[role] = gdf
    loaded = load_controls(frames) or Controls()  # a mapping never loads to None
    path = layer_path(sample_layer_name(next(iter(frames))))
    sha = file_sha256(path)
    layers = {}
    for role, layer in loaded.layers.items():
        layers[role] = dataclasses.replace(layer, source=str(path), sha256=sha, synthetic=True,
                                           layer=role, year=None, crs="EPSG:4490")
    return Controls(layers)
