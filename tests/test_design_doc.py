"""DESIGN.md matches the code: every module it names exists, and every module is named."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jixi_geo"


def _modules() -> set[str]:
    """Every module of the package, as a path relative to ``jixi_geo/`` (``readers/csv.py``)."""
    return {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
            if "__pycache__" not in p.parts}


def _module_map() -> str:
    text = (ROOT / "DESIGN.md").read_text(encoding="utf-8")
    start = text.index("## Module map")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _named(section: str) -> set[str]:
    # module-map rows look like "| `readers/csv.py` | 120 | ... |"
    return set(re.findall(r"^\|\s*`([\w/]+\.py)`", section, flags=re.M))


def test_every_module_is_in_the_module_map():
    missing = sorted(_modules() - _named(_module_map()))
    assert not missing, f"modules missing from DESIGN.md's module map: {missing}"


def test_every_module_the_map_names_exists():
    stale = sorted(_named(_module_map()) - _modules())
    assert not stale, f"DESIGN.md names modules that do not exist: {stale}"


def test_module_map_line_counts_are_current():
    """Each row gives the module's length; a stale count (±25 %) means the map was not updated."""
    section = _module_map()
    for name, count in re.findall(r"^\|\s*`([\w/]+\.py)`\s*\|\s*(\d+)\s*\|", section, flags=re.M):
        path = PACKAGE / name
        if not path.exists():
            continue  # reported by the test above
        actual = len(path.read_text(encoding="utf-8").splitlines())
        assert abs(actual - int(count)) <= max(10, 0.25 * actual), (name, count, actual)


def test_design_doc_cites_only_documents_in_the_repository():
    text = (ROOT / "DESIGN.md").read_text(encoding="utf-8")
    assert "../shared" not in text and "ARCHITECTURE.md" not in text
