"""Packaging: the wheel carries the layers; pyproject and environment.yml agree."""

import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_runtime_dependencies():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {_name(d) for d in deps}
    text = (ROOT / "environment.yml").read_text()
    items = re.findall(r"^\s*-\s+([A-Za-z][^\s:#]*)\s*$", text, re.M)
    listed = {_name(m) for m in items} - {"python", "pip", "conda-forge"}
    assert wanted == listed, wanted ^ listed


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    cmds = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert cmds[:2] == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


@pytest.mark.slow
def test_wheel_installs_and_loads_layers_in_a_separate_venv(tmp_path):
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
                            str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel = next(dist.glob("jixi_geo-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "jixi_geo/layers/catalog.json" in names
    assert "jixi_geo/layers/counties.gpkg" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the dependencies come from the test environment (no network needed), the package
    # itself only from the wheel
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True)
    code = (
        "import jixi_geo as jg, pathlib;"
        "assert 'venv' in jg.__file__ and 'site-packages' in jg.__file__, jg.__file__;"
        "df = jg.list_layers(); print(len(df));"
        "print(jg.load_layer('counties').crs.to_epsg())"
    )
    out = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)
    n, epsg = out.stdout.split()
    assert int(n) >= 3 and epsg == "4490"
    cli = subprocess.run([str(venv / "bin" / "jixi-geo"), "layers"], capture_output=True, text=True,
                         cwd=tmp_path, check=True)
    assert "counties" in cli.stdout
