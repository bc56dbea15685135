"""README claims about the bundled layers, checked against the layers themselves."""

import re
from pathlib import Path

import pytest

import jixi_geo as jg

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
PRECISIONS = ("surveyed", "generalised", "schematic", "illustrative", "synthetic")


def _layer_table() -> dict[str, str]:
    """Layer name -> the README's precision cell, from the table under '## 图层 / Layers'."""
    section = README.split("## 图层 / Layers", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            for name in re.findall(r"`(\w+)`", cells[0]):
                rows[name] = cells[3]
    return rows


@pytest.mark.parametrize("name", sorted(_layer_table()))
def test_layer_table_states_each_layers_precision(name):
    cell = _layer_table()[name]
    have = set(jg.load_layer(name)["precision"])
    said = {p for p in PRECISIONS if p in cell}
    assert said == have, f"README says {cell!r} for {name}; the layer has {sorted(have)}"


def test_every_layer_is_in_the_table():
    assert set(_layer_table()) == set(jg.list_layers()["name"])


def test_area_ha_is_on_every_polygon_except_the_project_sites():
    assert "every layer except `projects` also carry `area_ha`" in README
    for name in jg.list_layers()["name"]:
        g = jg.load_layer(name)
        poly = g.geom_type.isin(["Polygon", "MultiPolygon"])
        if name == "projects":
            assert poly.sum() == 25 and "area_ha" not in g.columns
        elif poly.any():
            assert "area_ha" in g.columns and g.loc[poly, "area_ha"].notna().all(), name
