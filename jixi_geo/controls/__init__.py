"""The three control lines and land classes: bring-your-own official layers (三区三线, 三调).

A real 选址 / 用地预审 check reports, for each site, whether it occupies each of the
three control lines (生态保护红线 — the ``zones`` of :func:`jixi_geo.check_sites` —
永久基本农田, 城镇开发边界) and the 饮用水水源保护区, with areas, and how its area
splits over the land classes of the land survey (三调 地类图斑).

The official layers are not public; planners bring them (GPKG, Shapefile, File
Geodatabase). :func:`load_controls` reads and checks them by role (roles in
``layers/rules/control_roles.csv``), :mod:`.codes` is the GB/T 21010-2017 / 三调
code registry (``layers/rules/landcover_codes.csv``), :mod:`.rules` the rules per
role (``layers/rules/control_rules.csv``), :mod:`.config` reads a
``controls.toml``, :mod:`.occupy` measures what each site
occupies (areas on the CGCS2000 ellipsoid, overlaps counted once). :func:`sample_controls`
gives the bundled synthetic layers (合成示例·非真实数据) for notebooks, tests and ``make run``.
"""

from __future__ import annotations

from .codes import GROUPS, class_info, code_for_name, landcover_codes, landcover_groups
from .config import read_controls_toml
from .layers import ROLES, ControlLayer, Controls, load_controls
from .rules import RELATIONS, control_rules, level_key, line_rule, role_levels
from .sample import SAMPLE_NOTE, sample_controls

__all__ = ["ROLES", "ControlLayer", "Controls", "load_controls", "GROUPS", "class_info", "code_for_name",
           "landcover_codes", "landcover_groups", "read_controls_toml", "RELATIONS", "control_rules", "line_rule",
           "level_key", "role_levels", "sample_controls", "SAMPLE_NOTE"]
