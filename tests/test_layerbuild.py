"""The build step is re-runnable and deterministic."""

import json

import jixi_geo as jg
from jixi_geo.layerbuild import build_layers


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


def test_python_m_layerbuild_is_the_click_command(tmp_path):
    """``python -m jixi_geo.layerbuild`` forwards to ``jixi-geo build-layers``: same usage,
    same refusal of an --out that is a file (exit 3, the OUT label), not a second parser."""
    import subprocess
    import sys

    from click.testing import CliRunner

    from jixi_geo.cli import main

    blocker = tmp_path / "a_file"
    blocker.write_text("x", encoding="utf-8")
    mod = subprocess.run([sys.executable, "-m", "jixi_geo.layerbuild", "--out", str(blocker)],
                         capture_output=True, text=True, timeout=120)
    cli = CliRunner().invoke(main, ["build-layers", "--out", str(blocker)])
    assert mod.returncode == cli.exit_code == 3
    assert "无法写入 OUT" in mod.stderr and "cannot write to OUT" in mod.stderr
    assert mod.stderr.strip() == cli.output.strip()
    usage = subprocess.run([sys.executable, "-m", "jixi_geo.layerbuild", "--help"],
                           capture_output=True, text=True, timeout=120)
    assert usage.returncode == 0 and usage.stdout.startswith("Usage: jixi-geo build-layers [OPTIONS]")
    assert blocker.read_text(encoding="utf-8") == "x"


def test_layerbuild_doctests_are_collected():
    """The build package is no longer named ``build`` (which pytest's default
    ``norecursedirs`` skips): its doctests are collected by a plain ``pytest`` run."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(jg.__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                         cwd=root, capture_output=True, text=True, timeout=300)
    items = [ln for ln in run.stdout.splitlines() if ln.startswith("jixi_geo/layerbuild/")]
    assert {ln.rsplit(".", 1)[-1] for ln in items} >= {"clean", "geo_area_m2", "point", "fit"}, run.stdout[-2000:]
