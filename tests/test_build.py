"""The build step is re-runnable and deterministic."""

import json

import jixi_geo as jg
from jixi_geo.build import build_layers


def test_rebuild_gives_identical_layers(tmp_path):
    committed = json.loads((jg.layers.layers_dir() / "catalog.json").read_text(encoding="utf-8"))
    rebuilt = build_layers(out_dir=tmp_path)
    old = {e["name"]: e for e in committed["layers"]}
    new = {e["name"]: e for e in rebuilt["layers"]}
    assert set(old) == set(new)
    for name in old:
        assert new[name]["sha256_content"] == old[name]["sha256_content"], name
        assert new[name]["sha256_file"] == old[name]["sha256_file"], name
    # the bundled files were not touched by a build into another directory
    for e in committed["layers"]:
        assert jg.layers.layers_dir().joinpath(e["file"]).exists()
