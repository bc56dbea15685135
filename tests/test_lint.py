"""Lint and type checks as part of the test command: ruff and mypy, configured in pyproject.toml.

ruff selects pyflakes (F), pycodestyle errors (E, line length 120), bugbear (B) and pyupgrade
(UP); mypy checks the package with ``ignore_missing_imports`` only for the third-party packages
that ship no type hints. Both must report nothing for the modules in ``CLEAN``.

``CLEAN`` is the whole package except ``redline.py``, which another branch is splitting; once
that lands clean, the list becomes the whole package (``CLEAN = ["jixi_geo"]``).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Modules not yet held to the checks: redline.py is being split on another branch.
#: TODO(lead): once the split lands clean, drop this and use CLEAN = ["jixi_geo"].
NOT_YET_CLEAN: set[str] = set()

#: Files and folders (relative to the repository) that ruff and mypy must find clean: every module
#: and subpackage of jixi_geo except NOT_YET_CLEAN (listed from the folder, so new modules count).
CLEAN = sorted(
    f"jixi_geo/{p.name}" for p in (ROOT / "jixi_geo").iterdir()
    if f"jixi_geo/{p.name}" not in NOT_YET_CLEAN
    and (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
)


def _ruff() -> str:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if not found:
        pytest.skip("ruff is not installed; `pip install -e '.[test]'` installs it")
    return found


def _mypy() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed; `pip install -e '.[test]'` installs it")


def _run_ruff(paths: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([_ruff(), "check", "--no-cache", "--output-format", "concise",
                           "--config", str(ROOT / "pyproject.toml"), *paths],
                          cwd=cwd, capture_output=True, text=True)


def _run_mypy(cache: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache),
                           "--config-file", str(ROOT / "pyproject.toml"), *args],
                          cwd=cwd, capture_output=True, text=True)


def _in_clean(path: str) -> bool:
    path = path.replace("\\", "/")
    return any(path == c or path.startswith(c.rstrip("/") + "/") for c in CLEAN)


def test_the_clean_list_names_real_files():
    missing = [c for c in CLEAN if not (ROOT / c).exists()]
    assert not missing, f"renamed or removed: {missing}; update CLEAN"


def test_ruff_finds_nothing_in_the_clean_modules():
    out = _run_ruff(CLEAN)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_nothing_in_the_clean_modules(tmp_path):
    _mypy()
    # the whole package is checked (a module's types depend on what it imports); only the
    # errors located in the clean modules fail the test
    out = _run_mypy(tmp_path / "cache")
    assert re.search(r"^(Success|Found \d+ errors?)", out.stdout, re.M), out.stdout + out.stderr
    errors = [line for line in out.stdout.splitlines()
              if re.match(r"^[^:]+:\d+: error:", line) and _in_clean(line.split(":", 1)[0])]
    assert not errors, "\n".join(errors)


# -- the checks do fail on findings: a made-up module with one finding of each kind ---------------

BAD = '''\
import os


def pairs(a, b):
    return list(zip(a, b))


def name() -> int:
    return "not an int"
'''


def test_ruff_with_the_project_config_flags_unused_imports_and_zip_without_strict(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    out = _run_ruff(["bad.py"], cwd=tmp_path)
    assert out.returncode == 1
    assert "F401" in out.stdout and "B905" in out.stdout, out.stdout


def test_mypy_with_the_project_config_flags_a_wrong_return_type(tmp_path):
    _mypy()
    (tmp_path / "bad.py").write_text(BAD)
    out = _run_mypy(tmp_path / "cache", "bad.py", cwd=tmp_path)
    assert out.returncode == 1
    assert re.search(r"bad\.py:9: error: Incompatible return value type .*\[return-value\]", out.stdout), \
        out.stdout
