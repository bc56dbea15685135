"""Where the bundled data live, in a checkout and in an installed wheel."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["layers_dir", "rules_dir", "tables_dir", "params_dir", "sources_dir", "assets_dir"]

_PKG = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def layers_dir() -> Path:
    """The directory holding ``catalog.json``, the GeoPackages, tables and rules.

    In a wheel the top-level ``layers/`` is installed as ``jixi_geo/layers``; in a
    source checkout (editable install) it is the repository's ``layers/``.
    """
    installed = _PKG / "layers"
    if installed.is_dir():
        return installed
    checkout = _PKG.parent / "layers"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(  # pragma: no cover - a broken install
        f"jixi_geo's bundled layers are missing (looked in {installed} and {checkout}); "
        "reinstall the package (pip install jixi_geo) or run from a full checkout"
    )


def rules_dir() -> Path:
    return layers_dir() / "rules"


def tables_dir() -> Path:
    return layers_dir() / "tables"


def params_dir() -> Path:
    return layers_dir() / "params"


def sources_dir() -> Path:
    return layers_dir() / "sources"


def assets_dir() -> Path:
    return _PKG / "assets"
