"""The ``jixi-geo`` command line: thin wrappers around library functions.

Exit codes: 0 success (for ``check``: every site clear); 1 some site is not clear;
2 usage error (click: an unknown option, a missing argument, a value of the wrong type
such as ``--buffer abc``); 3 bad input or an output that cannot be written (a jixi_geo
error, message on stderr): a missing, unreadable or refused input file, bad values such
as ``--buffer nan``, an ``--out`` that cannot be written (checked before any work).
"""

from __future__ import annotations

import csv
import re

import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import click

from . import __version__
from ._paths import rules_dir

EXIT_OK = 0
EXIT_NOT_CLEAR = 1
EXIT_BAD_INPUT = 3


class _Group(click.Group):
    """Turns jixi_geo errors into a one-line message and exit code 3."""

    def invoke(self, ctx):
        from .errors import JixiGeoError, OutputError

        try:
            return super().invoke(ctx)
        except JixiGeoError as exc:
            out = ctx.meta.get(_OUT_KEY)
            if isinstance(exc, OutputError) and out is not None and _below(exc.path, out):
                exc = exc.relabel("OUT")
            click.echo(f"error: {as_cli_flags(str(exc))}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


#: Library keywords named in error messages, and the command-line flag that sets each.
CLI_FLAGS = {"crs": "--crs", "coords": "--coords", "id_column": "--id-column", "encoding": "--encoding",
             "layer": "--layer", "zones_layer": "--zones-layer", "cad_layer": "--cad-layer", "sheet": "--sheet",
             "name_column": "--name-column", "buffer_m": "--buffer", "make_valid": "--make-valid",
             "activity": "--activity", "landcover_layer": "--landcover-layer"}
_KEYWORD = re.compile(r"(?<![\w.-])(" + "|".join(CLI_FLAGS) + r")=(?:'([^']*)'|\"([^\"]*)\"|(?=[\s,;.)]|$))")


def as_cli_flags(message: str) -> str:
    """A library message as the command line says it: ``crs='EPSG:4553'`` becomes ``--crs EPSG:4553``.

    >>> as_cli_flags("pass crs='EPSG:4553' or coords='gcj02'; drop layer=")
    'pass --crs EPSG:4553 or --coords gcj02; drop --layer'
    >>> as_cli_flags("gdf.set_crs(..., allow_override=True)")
    'gdf.set_crs(..., allow_override=True)'
    """
    def flag(m: re.Match) -> str:
        value = m.group(2) if m.group(2) is not None else m.group(3)
        return CLI_FLAGS[m.group(1)] + (f" {value}" if value else "")

    return _KEYWORD.sub(flag, message)


_OUT_KEY = "jixi_geo.out"


def _below(path: Path, folder: Path) -> bool:
    path, folder = Path(path).absolute(), Path(folder).absolute()
    return path == folder or folder in path.parents


def _out_option(ctx, param, value):
    """``--out`` callback: refuse an output folder that cannot be written before any work (exit 3)."""
    if value is not None:
        from ._io import output_dir

        ctx.meta[_OUT_KEY] = value
        output_dir(value, label="OUT", create=False)
    return value


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="jixi-geo")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less log output.")
def main(verbose: int, quiet: int) -> None:
    """jixi_geo: layers, land use and red-line checks for Jixi (鸡西市)."""
    level = max(10, min(50, 30 - 10 * verbose + 10 * quiet))
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyogrio").setLevel(max(level, logging.WARNING))


@main.command("layers")
def layers_cmd() -> None:
    """List the bundled layers."""
    from .layers import list_layers

    df = list_layers()
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        click.echo(df.to_string(index=False))


@main.command("build-layers")
@click.option("--out", type=click.Path(path_type=Path), default=None, callback=_out_option,
              help="Output directory (default: the bundled layers/ directory).")
def build_layers_cmd(out: Path | None) -> None:
    """Rebuild the layers from layers/sources, params and tables."""
    from .layerbuild import build_layers

    cat = build_layers(out_dir=out)
    for e in cat["layers"]:
        click.echo(f"{e['name']:<24} {e['n_features']:>5}  {e['precision']}")


@main.command("run")
@click.option("--out", type=click.Path(path_type=Path), default=Path("maps"), show_default=True,
              callback=_out_option,
              help="Output folder for maps, figures and the report.")
@click.option("--no-build", is_flag=True, help="Use the bundled layers as they are (skip the build step).")
def run_cmd(out: Path, no_build: bool) -> None:
    """The main job: build layers, write web maps, figures and the sample compliance report."""
    from .run import open_first, run_all

    t = time.perf_counter()
    written = run_all(out, build=not no_build)
    for name, p in written.items():
        click.echo(f"{name:<24} {p}")
    click.echo(f"done in {time.perf_counter() - t:.1f} s")
    click.echo(open_first(written))


def control_roles() -> list[dict]:
    """The rows of ``layers/rules/control_roles.csv`` in order: role, ``cli_option``, names (read without pandas)."""
    with open(rules_dir() / "control_roles.csv", encoding="utf-8", newline="") as f:
        return sorted(csv.DictReader(f), key=lambda r: int(r["order"]))


def _role_param(role: str) -> str:
    return f"control_{role}"


def _control_options(command):
    """One ``--farmland PATH``-style option per role of ``control_roles.csv`` (its ``cli_option``)."""
    for r in reversed(control_roles()):
        command = click.option(
            r["cli_option"], _role_param(r["role"]), type=click.Path(path_type=Path), default=None,
            help=f"{r['name_zh']} {r['name_en']}: GeoPackage, Shapefile or File Geodatabase (.gdb) of your "
                 "official layer; overrides the same role in --controls.")(command)
    return command


def controls_argument(paths: Mapping[str, Path | str | None], *, toml=None, sample: bool = False):
    """What the control options of ``jixi-geo check`` mean, before anything is read.

    Parameters
    ----------
    paths : mapping of str to path or None
        Role (``permanent_farmland``, ``urban_boundary``, ``water_source``, ``landcover``) → the file
        given with its option (``--farmland`` …), None when not given.
    toml : path, optional
        ``--controls controls.toml``: the office's file naming the layers once.
    sample : bool
        ``--sample-controls``: the synthetic sample (合成示例·非真实数据).

    Returns
    -------
    tuple
        ``(base, overrides)``: ``base`` is None, the toml path or ``"sample"``; ``overrides`` the
        role → path mapping of the explicit options, which replace the base's entries for those roles.
        ``(None, {})`` when no control option was given.

    Raises
    ------
    InputError
        If both ``--controls`` and ``--sample-controls`` are given, or a role is unknown.
    """
    from .errors import InputError

    known = {r["role"]: r["cli_option"] for r in control_roles()}
    unknown = sorted(set(paths) - set(known))
    if unknown:
        raise InputError(f"未知的管控角色 {unknown} / unknown control role(s) {unknown}; use {sorted(known)}")
    if toml is not None and sample:
        raise InputError("--controls 与 --sample-controls 不能同用：请二选一。/ --controls and --sample-controls "
                         "cannot be used together: choose one.")
    overrides = {role: Path(p) for role, p in paths.items() if p is not None}
    base = Path(toml) if toml is not None else "sample" if sample else None
    return base, overrides


def load_cli_controls(base, overrides: Mapping[str, Path], *, landcover_layer: str | None = None):
    """Read the control layers named by :func:`controls_argument`: the base (toml or synthetic sample),
    then the explicit options, which replace the base's layer of the same role (a toml entry so replaced
    is never read: ``jixi_geo.controls.config.read_controls_toml`` gives the entries).

    Returns the :class:`jixi_geo.controls.Controls` to pass as ``controls=`` (None when none was given).
    Errors come from :func:`jixi_geo.controls.load_controls` (exit 3).
    """
    from .controls import Controls, load_controls

    if base is None and not overrides:
        if landcover_layer is not None:
            from .errors import InputError

            raise InputError("--landcover-layer 需要同时给出 --landcover 或 --controls。/ --landcover-layer needs "
                             "--landcover FILE or --controls FILE.")
        return None
    layers = {}
    if base == "sample":
        from .controls import sample_controls

        layers.update(sample_controls().layers)
    elif base is not None:
        if overrides:  # the toml's entries for the roles given explicitly are never read
            from .controls.config import read_controls_toml

            toml = read_controls_toml(base)
            spec = {**{r: e for r, e in toml.items() if r not in overrides},
                    **{k: str(v) for k, v in overrides.items()}}
            return load_controls(spec, landcover_layer=landcover_layer)
        layers.update(load_controls(base, landcover_layer=landcover_layer).layers)  # type: ignore[union-attr]
    if overrides:
        given = load_controls({k: str(v) for k, v in overrides.items()}, landcover_layer=landcover_layer)
        layers.update(given.layers)  # type: ignore[union-attr]
    return Controls(layers)


@main.command("check")
@click.argument("sites", type=click.Path(path_type=Path))  # existence checked by jixi_geo: exit 3
@click.option("--activity", default=None, help="Activity of every site (key, 中文 or alias); default: the file's "
              "`activity` column, else the strictest reading.")
@click.option("--coords", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]), default=None,
              help="Lon/lat copied from a Chinese web map: gcj02 (高德/腾讯) or bd09 (百度).")
@click.option("--crs", default=None, help="CRS of a file that has none, e.g. EPSG:4490 or EPSG:4553.")
@click.option("--buffer", "buffer_m", type=float, default=1000.0, show_default=True,
              help="Sites within this many metres of a zone are 'attention'.")
@click.option("--id-column", default=None, help="Column with the site ids.")
@click.option("--layer", default=None, help="Layer of a multi-layer file (GeoPackage, KML), or the Shapefile "
              "of a .zip holding several.")
@click.option("--encoding", default=None, help="Text encoding of a CSV or .dbf, e.g. gbk.")
@click.option("--zones", "zones_path", type=click.Path(path_type=Path), default=None,
              help="Official zones of the redline_zones schema to use instead of the bundled model.")
@click.option("--zones-layer", default=None, help="Layer of a multi-layer zones file (GeoPackage, KML).")
@click.option("--make-valid", is_flag=True, help="Repair invalid polygons instead of refusing them.")
@_control_options
@click.option("--landcover-layer", default=None, help="Layer of a multi-layer land-cover file (File Geodatabase, "
              "GeoPackage), e.g. DLTB.")
@click.option("--controls", "controls_toml", type=click.Path(path_type=Path), default=None,
              help="controls.toml naming the office's control layers once; "
                   + ", ".join(r["cli_option"] for r in control_roles())
                   + " given as well override its entries for their role.")
@click.option("--sample-controls", is_flag=True, help="Use the bundled synthetic control layers (合成示例·非真实数据 "
              "/ synthetic example, not real data) to try the three-line check; never for a real review.")
@click.option("--cad-layer", default=None, help="DXF: read only these layers, e.g. 红线 (several: 红线,用地红线).")
@click.option("--sheet", default=None, help="Excel: the sheet to read (name or 1-based number).")
@click.option("--name-column", default=None, help="Column with the site names (default: 名称/项目名称/地块名称/name…).")
@click.option("--project", default=None, help="项目名称 Project name for the report header (default: the input "
              "file's name).")
@click.option("--applicant", default=None, help="申请单位 Applicant for the report header.")
@click.option("--pdf", is_flag=True, help="Also print report.pdf (A4, one site per page) with headless Chromium "
              "(apt install chromium).")
@click.option("--xlsx", is_flag=True, help="Also write results.xlsx: results and the 压占 overlap table (with control "
              "layers also the 三线压占 and 地类 sheets).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("jixi_check_results"), show_default=True,
              callback=_out_option,
              help="Output folder (results.csv, results.geojson, report.html; more than 10 000 sites: "
                   "results.parquet and a summary report.html); or NAME.parquet (a folder of GeoParquet parts, "
                   "resumable) or NAME.gpkg for large inputs of any format (CSV and GeoParquet are streamed).")
def check_cmd(sites, activity, coords, crs, buffer_m, id_column, layer, encoding, zones_path, zones_layer, make_valid,
              cad_layer, sheet, name_column, project, applicant, pdf, xlsx, out, landcover_layer, controls_toml,
              sample_controls, **control_paths):
    """Check project sites against the red-line zones.

    \b
    SITES: GeoJSON, GeoPackage, Shapefile, KML, CSV (经度/纬度), WKT text,
    GeoParquet, 部标 界址点 TXT, CAD DXF (DWG: save as DXF), Excel .xlsx/.xls.
    \b
    Control layers (三线 and 地类): --farmland, --urban-boundary, --water-source,
    --landcover, or --controls controls.toml; options given explicitly override
    the toml's entries for their role. With them every site gets one verdict per
    line and the overall verdict is the strictest.
    \b
    Exit codes: 0 every site is clear; 1 at least one site is not clear
    (prohibited, restricted, conditional, attention or outside Jixi);
    2 usage error (unknown option, wrong type); 3 bad input: a missing,
    unreadable or refused file, or a bad value (the message says what to fix).
    """
    from ._args import amount
    from .redline import check_sites, validate_zones
    from .report import write_report
    from .sites import crs_notes

    amount(buffer_m, name="--buffer")  # before any file is read
    if zones_layer is not None and zones_path is None:
        from .errors import InputError

        raise InputError("--zones-layer 需要同时给出 --zones。/ --zones-layer needs --zones FILE.")
    if pdf:
        from ._report_pdf import require_chromium

        require_chromium()  # before any work: exit 3 with the fix when there is no browser
    zones = validate_zones(zones_path, layer=zones_layer) if zones_path is not None else None
    base, overrides = controls_argument({k.removeprefix("control_"): v for k, v in control_paths.items()},
                                        toml=controls_toml, sample=sample_controls)
    controls = load_cli_controls(base, overrides, landcover_layer=landcover_layer)  # before the sites: exit 3
    ctl = {} if controls is None else {"controls": controls}
    if out.suffix.lower() in (".parquet", ".gpkg"):
        if pdf or xlsx:
            from .errors import InputError

            raise InputError(f"--pdf / --xlsx 只用于输出文件夹，不能与 --out {out.name} 同用。/ --pdf and --xlsx "
                             f"need an output folder as --out, not {out.name}.")
        # large inputs: checked chunk by chunk (CSV and GeoParquet streamed) into GeoParquet parts
        # (resumable) or one GeoPackage
        from .batch import check_file, result_verdicts

        check_file(sites, out, activity=activity, zones=zones, buffer_m=buffer_m, coords=coords, crs=crs,
                   id_column=id_column, encoding=encoding, make_valid=make_valid, layer=layer,
                   cad_layer=cad_layer, sheet=sheet, name_column=name_column, **ctl)
        verdicts = result_verdicts(out)
        counts, all_clear = verdicts.value_counts(), bool((verdicts == "clear").all())
        paths = {out.suffix.lower().lstrip("."): out}
    else:
        res = check_sites(sites, activity=activity, zones=zones, buffer_m=buffer_m, coords=coords, crs=crs,
                          id_column=id_column, layer=layer, encoding=encoding, make_valid=make_valid,
                          cad_layer=cad_layer, sheet=sheet, name_column=name_column, **ctl)
        paths = write_report(res, out, zones=zones, project=project, applicant=applicant, source=sites,
                             zones_source=zones_path, pdf=pdf, xlsx=xlsx, **ctl)
        counts, all_clear = res["verdict"].astype(str).value_counts(), bool((res["verdict"] == "clear").all())
        for note in crs_notes(res):  # an inferred CRS is said on the console too, not only in the files
            click.echo(note, err=True)
    click.echo(verdict_counts(counts))
    if out.suffix.lower() not in (".parquet", ".gpkg"):
        for line in line_counts(res):
            click.echo(line)
    for kind, p in paths.items():
        click.echo(f"{kind}: {p}")
    sys.exit(EXIT_OK if all_clear else EXIT_NOT_CLEAR)


def verdict_counts(counts) -> str:
    """``"禁止 prohibited=3  无冲突 clear=2"``: 中文 label then the verdict key, in the vocabulary's order."""
    from . import vocab

    order = [*vocab.keys("verdict"), *sorted(set(counts.index) - set(vocab.keys("verdict")))]
    return "  ".join(f"{vocab.label('verdict', v)} {v}={int(counts[v])}" for v in order if v in counts.index)


def line_counts(res) -> list[str]:
    """One summary line per control line the results carry: ``"永久基本农田 farmland: 禁止 prohibited=1 …"``."""
    out = []
    from . import vocab

    eco = vocab.label("control_level", "ecological_redline")
    lines = [("eco", eco, "eco")] if "eco_verdict" in res.columns else []
    lines += [(r["prefix"], r["name_zh"], r["prefix"]) for r in control_roles() if r["kind"] == "line"]
    for prefix, zh, key in lines:
        col = f"{prefix}_verdict"
        if col in res.columns:
            out.append(f"{zh} {key}: {verdict_counts(res[col].astype(str).value_counts())}")
    return out


@main.group("cache")
def cache_cmd() -> None:
    """The cache of prepared zones and cell grids (user cache folder; JIXI_GEO_CACHE=0 switches it off)."""


@cache_cmd.command("clear")
def cache_clear_cmd() -> None:
    """Delete every cached file (they are rebuilt when needed)."""
    from . import _cache

    n = _cache.clear()
    click.echo(f"已删除 {n} 个缓存文件 / removed {n} cache file(s) from {_cache.cache_dir()}")


@cache_cmd.command("info")
def cache_info_cmd() -> None:
    """Show where the cache is, whether it is on, and its size."""
    from . import _cache

    d = _cache.cache_dir()
    files = sorted(d.glob("*.npz")) if d.is_dir() else []
    size = sum(p.stat().st_size for p in files) / 1e6
    state = "on" if _cache.enabled() else "off (JIXI_GEO_CACHE=0)"
    click.echo(f"{d}\n{len(files)} file(s), {size:.1f} MB; cache {state}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
