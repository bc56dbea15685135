"""The learning-path notebooks (issue 8): committed clean, run top to bottom, show what they promise.

Fast checks read the committed ``.ipynb`` JSON: no outputs, bilingual markdown, the
schematic-data note near the top, no code that lives only in a notebook. The slow check
executes every notebook with nbclient in a kernel that runs *this* interpreter (a
kernelspec written for ``sys.executable`` into a temporary folder, so a ``python3``
kernelspec elsewhere on the machine cannot take over), twice: from ``notebooks/`` and
from an empty folder elsewhere. Each run must leave its working folder untouched and write
only under the kernel's temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = (
    "00-quickstart.ipynb",
    "01-ecological-pattern.ipynb",
    "02-jidong-landuse.ipynb",
    "03-redline-compliance.ipynb",
    "04-bring-your-own-data.ipynb",
    "05-three-lines.ipynb",
)
NEEDS_CJK_FONT = {"01-ecological-pattern.ipynb", "05-three-lines.ipynb"}  # draw jg.plot.plot_pattern()
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _raw(name: str) -> dict:
    return json.loads((NB_DIR / name).read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


# ============================================================================ committed files


def test_the_learning_path_is_complete():
    assert sorted(p.name for p in NB_DIR.glob("*.ipynb")) == list(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(name):
    nb = _raw(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code
    for cell in code:
        where = f"{name}, cell {cell.get('id')}"
        assert cell["outputs"] == [], f"{where} has outputs: clear them before committing"
        assert cell["execution_count"] is None, f"{where} has an execution count"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_valid_notebook_format(name):
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.read(NB_DIR / name, as_version=4))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_markdown_is_bilingual_and_states_the_schematic_data(name):
    cells = _raw(name)["cells"]
    md = [_source(c) for c in cells if c["cell_type"] == "markdown"]
    assert md
    for text in md:
        assert CJK.search(text) and LATIN_WORD.search(text), f"{name}: not bilingual:\n{text[:200]}"
    title = md[0].splitlines()[0]
    assert title.startswith("# ") and CJK.search(title) and LATIN_WORD.search(title), title
    top = "\n".join(_source(c) for c in cells[:2])  # the note on the data comes right under the title
    assert "schematic" in top and "示意" in top, f"{name}: says nowhere near the top which data are schematic"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_thin_and_path_independent(name):
    code = "\n".join(_source(c) for c in _raw(name)["cells"] if c["cell_type"] == "code")
    # analysis lives in the library: no functions or classes defined in a notebook
    assert not re.search(r"^\s*(def|class)\s", code, re.M), f"{name} defines functions; move them into jixi_geo"
    # bundled layers come from jg.load_layer; outputs go to a temporary folder
    assert "tempfile.mkdtemp(" in code
    for bad in ("../", "os.chdir", "/work/", "layers/"):
        assert bad not in code, f"{name} uses {bad!r}: paths must not depend on the working folder"


# ============================================================================ execution


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if ".ipynb_checkpoints" not in p.parts}


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory):
    """A kernelspec ``python3`` whose argv is this interpreter, found before any other."""
    pytest.importorskip("nbclient")
    kernelspec = pytest.importorskip("ipykernel.kernelspec")
    from jupyter_client.kernelspec import KernelSpecManager

    prefix = tmp_path_factory.mktemp("kernel")
    kernelspec.install(user=False, prefix=str(prefix), kernel_name="python3")
    ksm = KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])
    assert ksm.get_kernel_spec("python3").argv[0] == sys.executable
    return ksm


def _execute(name: str, cwd: Path, tmp: Path, ksm):
    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(NB_DIR / name, as_version=4)
    probe = nbformat.v4.new_code_cell("import sys\nprint(sys.executable)")
    probe.id = "interpreter-probe"
    nb.cells.insert(0, probe)
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=ksm)
    client = NotebookClient(nb, km=km, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    env = {**os.environ, "TMPDIR": str(tmp)}  # tempfile.mkdtemp() in the kernel lands in tmp
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    probe = nb.cells.pop(0)
    return nb, probe.outputs[0]["text"].strip(), seconds


def _text(outputs) -> str:
    parts = []
    for o in outputs:
        if o["output_type"] == "stream":
            parts.append(o["text"])
        elif o["output_type"] in ("execute_result", "display_data"):
            parts.append(o["data"].get("text/plain", ""))
        elif o["output_type"] == "error":
            parts.append(f"{o['ename']}: {o['evalue']}")
    return "\n".join(parts)


def _cell(nb, snippet: str):
    """The first code cell whose source contains ``snippet``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and snippet in cell.source:
            return cell
    raise AssertionError(f"no code cell contains {snippet!r}")


def _out(nb, snippet: str) -> str:
    return _text(_cell(nb, snippet).outputs)


def _has_map(cell) -> bool:
    return any("iframe" in o.get("data", {}).get("text/html", "") and "leaflet" in o["data"]["text/html"].lower()
               for o in cell.outputs)


def _has_png(cell) -> bool:
    return any("image/png" in o.get("data", {}) for o in cell.outputs)


def _check_00(nb):
    import jixi_geo

    assert f"jixi_geo {jixi_geo.__version__}" in _out(nb, "import jixi_geo as jg")
    assert "redline_zones" in _out(nb, "jg.list_layers()") and "schematic" in _out(nb, "jg.list_layers()")
    assert _has_map(_cell(nb, "jg.maps.pattern_map()"))
    assert "pattern.html" in _out(nb, "save_map")
    checked = _out(nb, "jg.check_sites(sites)")
    assert "prohibited" in checked and "clear" in checked
    assert "/ Inside the nature reserve" in _out(nb, "reasons")


def _check_01(nb):
    areas = _out(nb, "official_area_ha")
    for name in ("lake", "barriers", "corridors", "protected_areas", "222488.0"):
        assert name in areas
    assert "placeholder" in _out(nb, "area_status")
    assert _has_map(_cell(nb, "jg.maps.pattern_map()"))
    matrix = _out(nb, "jg.overlap_matrix(PATTERN)")
    assert "share_of_a_pct" in matrix and "corridor-muling" in matrix and "pa-xingkaihu" in matrix
    assert "lake:lake-water" in _out(nb, 'form="wide"')
    figure = _cell(nb, "jg.plot.plot_pattern()")
    assert _has_png(figure) and "pattern.png" in _text(figure.outputs)


def _check_02(nb):
    assert "('chemical', 'planned')" in _out(nb, "lu.published_tables()")
    findings = _out(nb, "for f in findings.itertuples()")
    assert "code_duplicate" in findings and "M2" in findings and "三类工业用地" in findings
    assert "total_sum" in findings and "725.04" in findings
    assert "change_ha" in _out(nb, 'lu.compare(tables["industrial", "current"]')
    structure = _out(nb, 'structure = lu.check_structure')
    assert "above" in structure and "4.4.2" in structure
    assert "100102" in _out(nb, "lu.crosswalk")
    assert _has_map(_cell(nb, 'jg.maps.park_map("industrial")'))
    parks = _out(nb, '"redline_zones", a_key="park"')
    assert "industrial" in parks and "general_ecological_space" in parks
    assert "corridor-muling" in _out(nb, '"corridors", a_key="park"')


def _check_03(nb):
    counts = _out(nb, 'results["verdict"].value_counts()')
    for verdict in ("prohibited", "restricted", "conditional", "attention", "clear", "outside_jixi"):
        assert verdict in counts
    assert "依据 basis" in _out(nb, 'results["verdict"] == "prohibited"')
    policy = _out(nb, 'policy = projects["location_precision"] == "not_spatial"')
    assert all(k in policy for k in ("KP-001", "KP-002", "KP-003")) and "not_spatial" in policy
    assert "示意位置" in _out(nb, 'results[["site_id", "location_precision", "verdict", "reasons"]]')
    assert "KP-004" in _out(nb, "jg.check_sites_detail")
    shp = _out(nb, 'encoding="gbk"')
    assert "my_sites.cpg" not in shp and "兴凯湖北岸风电场" in shp  # GBK names read back without a .cpg
    assert "gcj02" in _out(nb, 'coords="gcj02"')
    same = _out(nb, "Shapefile (GBK)")
    rows = [line.split() for line in same.splitlines() if re.match(r"P\d\s", line)]
    assert len(rows) == 3 and all(len(set(r[1:])) == 1 for r in rows), same
    assert {r[1] for r in rows} == {"prohibited", "conditional", "clear"}
    report = _out(nb, "jg.write_report(results, OUT)")
    assert all(f in report for f in ("results.csv", "results.geojson", "report.html"))
    assert _has_map(_cell(nb, "jg.maps.compliance_map(results)"))


def _check_04(nb):
    assert "OK: 24 zones" in _out(nb, "jg.validate_zones(user_zones)")
    err = _out(nb, "jg.validate_zones(broken)")
    assert "SchemaError" in err and "missing column(s) ['name_en']" in err and "核心保护区" in err
    changed = _out(nb, "comparison = pd.DataFrame")
    n = int(re.search(r"(\d+) verdicts changed", changed).group(1))
    assert n >= 1 and "KP-024" in changed and "prohibited" in changed
    sha = _out(nb, "zones_sha256").splitlines()
    assert sha[0].split()[1] != sha[1].split()[1]  # the audit stamp tells the zone layers apart
    assert _has_map(_cell(nb, "jg.maps.compliance_map(with_user"))


def _check_05(nb):
    synthetic = "合成示例·非真实数据"
    # every output that uses the sample says so
    for snippet in ("controls = sample_controls()", 'jg.load_layer("sample_landcover")', "controls=controls)\nif",
                    "pd.crosstab", 'detail["relation"] == "occupies"', 'results["cultivated_ha"] > 0',
                    'activity="sewage_works"'):
        assert synthetic in _out(nb, snippet), snippet
    layers = _out(nb, "controls = sample_controls()")
    assert all(r in layers for r in ("permanent_farmland", "urban_boundary", "water_source", "landcover"))
    classes = _out(nb, 'jg.load_layer("sample_landcover")')
    assert "1108" in classes and "沼泽地" in classes and "0101" in classes and "水田" in classes
    verdicts = _out(nb, "controls=controls)\nif")
    assert "farmland_verdict" in verdicts and "prohibited" in verdicts
    occupies = _out(nb, 'detail["relation"] == "occupies"')
    assert "permanent_farmland" in occupies and "landcover" in occupies and "旱地" in occupies
    grades = _out(nb, 'activity="sewage_works"')
    assert all(g in grades for g in ("first", "second", "quasi"))
    assert "永久基本农田" in _out(nb, 'results["farmland_relation"] != "outside"')
    assert "report.html" in _out(nb, "jg.write_report(results, OUT)")
    figure = _cell(nb, "jg.plot.plot_pattern(")
    assert _has_png(figure) and "three_lines.png" in _text(figure.outputs)


CHECKS = {
    "00-quickstart.ipynb": _check_00,
    "01-ecological-pattern.ipynb": _check_01,
    "02-jidong-landuse.ipynb": _check_02,
    "03-redline-compliance.ipynb": _check_03,
    "04-bring-your-own-data.ipynb": _check_04,
    "05-three-lines.ipynb": _check_05,
}


@pytest.mark.slow
@pytest.mark.parametrize("where", ["from-notebooks-dir", "from-elsewhere"])
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, where, kernel_spec_manager, tmp_path):
    if name in NEEDS_CJK_FONT:
        from jixi_geo import _fonts
        from jixi_geo.errors import JixiGeoError

        try:
            _fonts.cjk_font()
        except JixiGeoError as exc:
            pytest.skip(f"no CJK font installed ({exc})")
    kernel_tmp = tmp_path / "tmp"
    kernel_tmp.mkdir()
    if where == "from-notebooks-dir":
        cwd = NB_DIR
    else:
        cwd = tmp_path / "elsewhere"
        cwd.mkdir()
    before = _files(cwd)

    nb, interpreter, seconds = _execute(name, cwd, kernel_tmp, kernel_spec_manager)
    print(f"{name} ({where}): {seconds:.1f} s")

    assert interpreter == sys.executable, "the kernel did not run the test's interpreter"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.outputs:
            assert o["output_type"] != "error", f"{name}, cell {cell.id}: {o.get('ename')}: {o.get('evalue')}"
            if o["output_type"] == "stream" and o["name"] == "stderr":
                assert "Traceback" not in o["text"] and "JixiGeoWarning" not in o["text"], o["text"]
    # outputs only in the kernel's temporary folder; the working folder is untouched
    assert _files(cwd) == before, f"{name} wrote into its working folder {cwd}"
    written = [p for p in kernel_tmp.glob("jixi_geo_nb*/*") if p.is_file()]
    assert written, f"{name} wrote nothing under the temporary folder"
    CHECKS[name](nb)
    assert seconds < 60, f"{name} took {seconds:.0f} s; the whole path must run in well under 3 minutes"
