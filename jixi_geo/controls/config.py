"""``controls.toml``: the control layers of an office, named once.

A table per role; paths are relative to the toml file's folder::

    # controls.toml
    [permanent_farmland]
    path = "三区三线/永久基本农田.shp"
    year = "2023"

    [landcover]
    path = "国土变更调查/2023.gdb"
    layer = "DLTB"

    [water_source]
    path = "水源保护区.gpkg"

A role may also be a plain string (``urban_boundary = "城镇开发边界.shp"``), and the
tables may sit under one ``[controls]`` table. Keys other than :data:`ENTRY_KEYS`
are refused, so a typo (``pth``) is not silently ignored.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import InputError

__all__ = ["ENTRY_KEYS", "read_controls_toml"]

#: Keys a role's entry (a toml table or a dict given to ``load_controls``) may hold.
ENTRY_KEYS = ("path", "layer", "year", "code_column", "name_column", "id_column", "level_column",
              "black_soil_column", "encoding", "make_valid", "synthetic")


def read_controls_toml(path) -> dict[str, dict]:
    """Read a ``controls.toml`` into ``{role: {path, layer, year, ...}}``, paths made absolute.

    Parameters
    ----------
    path : str or pathlib.Path
        The toml file.

    Returns
    -------
    dict
        One entry per role as written (role names are checked by ``load_controls``).

    Raises
    ------
    InputError
        A missing or unreadable file, invalid TOML, an entry that is neither a
        path nor a table, a table without ``path``, or an unknown key.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到管控图层配置文件 {path}（相对于 {Path.cwd()}）。/ no such controls file: {path} "
                         f"(relative paths start at {Path.cwd()}). Check the path.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name} 不是有效的 UTF-8 TOML 文件（{e}）；格式见 jixi_geo.controls.config。/ "
                         f"{path.name} is not valid UTF-8 TOML ({e}); see jixi_geo.controls.config for the "
                         "format") from None
    if set(data) == {"controls"} and isinstance(data["controls"], dict):
        data = data["controls"]
    base = path.resolve().parent
    out: dict[str, dict] = {}
    for role, entry in data.items():
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or "path" not in entry:
            raise InputError(f"{path.name} 中 {role} 应为路径字符串或含 path 的表。/ in {path.name}, {role} must "
                             f"be a path string or a table with a path key, e.g. [{role}] path = \"layer.shp\"")
        bad = sorted(set(entry) - set(ENTRY_KEYS))
        if bad:
            raise InputError(f"{path.name} 中 {role} 含未知的键 {bad}（可用：{', '.join(ENTRY_KEYS)}）。/ in "
                             f"{path.name}, {role} has unknown keys {bad}; the keys are: {', '.join(ENTRY_KEYS)}")
        entry = dict(entry)
        p = Path(str(entry["path"]))
        entry["path"] = str(p if p.is_absolute() else base / p)
        if "year" in entry:
            entry["year"] = str(entry["year"])
        out[str(role)] = entry
    return out
