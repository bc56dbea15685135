"""Shared fixtures. Paths are resolved from this file, never from the working directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    """The persistent cache of prepared zones goes to a folder of this test session, never the user's."""
    import os

    old = os.environ.get("JIXI_GEO_CACHE_DIR")
    os.environ["JIXI_GEO_CACHE_DIR"] = str(tmp_path_factory.mktemp("jixi_geo_cache"))
    yield
    if old is None:
        os.environ.pop("JIXI_GEO_CACHE_DIR", None)
    else:
        os.environ["JIXI_GEO_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    pytest.skip("headless Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
