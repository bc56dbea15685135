"""The ``jixi-geo`` command line: thin wrappers around library functions.

Exit codes: 0 success (for ``check``: every site clear); 1 some site is not clear;
2 usage error (click); 3 bad input (a jixi_geo error, message on stderr).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from . import __version__

EXIT_OK = 0
EXIT_NOT_CLEAR = 1
EXIT_BAD_INPUT = 3


class _Group(click.Group):
    """Turns jixi_geo errors into a one-line message and exit code 3."""

    def invoke(self, ctx):
        from .errors import JixiGeoError

        try:
            return super().invoke(ctx)
        except JixiGeoError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


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
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: the bundled layers/ directory).")
def build_layers_cmd(out: Path | None) -> None:
    """Rebuild the layers from layers/sources, params and tables."""
    from .build import build_layers

    cat = build_layers(out_dir=out)
    for e in cat["layers"]:
        click.echo(f"{e['name']:<24} {e['n_features']:>5}  {e['precision']}")


@main.command("run")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("maps"), show_default=True,
              help="Output folder for maps, figures and the report.")
@click.option("--no-build", is_flag=True, help="Use the bundled layers as they are (skip the build step).")
def run_cmd(out: Path, no_build: bool) -> None:
    """The main job: build layers, write web maps, figures and the sample compliance report."""
    from .run import run_all

    t = time.perf_counter()
    written = run_all(out, build=not no_build)
    for name, p in written.items():
        click.echo(f"{name:<24} {p}")
    click.echo(f"done in {time.perf_counter() - t:.1f} s")


@main.command("check")
@click.argument("sites", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--activity", default=None, help="Activity of every site (key, 中文 or alias); default: the file's "
              "`activity` column, else the strictest reading.")
@click.option("--coords", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]), default=None,
              help="Lon/lat copied from a Chinese web map: gcj02 (高德/腾讯) or bd09 (百度).")
@click.option("--crs", default=None, help="CRS of a file that has none, e.g. EPSG:4490 or EPSG:4553.")
@click.option("--buffer", "buffer_m", type=float, default=1000.0, show_default=True,
              help="Sites within this many metres of a zone are 'attention'.")
@click.option("--id-column", default=None, help="Column with the site ids.")
@click.option("--layer", default=None, help="Layer of a multi-layer file (GeoPackage, KML).")
@click.option("--encoding", default=None, help="Text encoding of a CSV or .dbf, e.g. gbk.")
@click.option("--zones", "zones_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Official zones of the redline_zones schema to use instead of the bundled model.")
@click.option("--make-valid", is_flag=True, help="Repair invalid polygons instead of refusing them.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("jixi_check_results"), show_default=True,
              help="Output folder (results.csv, results.geojson, report.html); or NAME.parquet for large "
                   "CSV/GeoParquet inputs: streamed in chunks into a folder of GeoParquet parts, resumable.")
def check_cmd(sites, activity, coords, crs, buffer_m, id_column, layer, encoding, zones_path, make_valid, out):
    """Check project sites against the red-line zones.

    \b
    Exit codes: 0 every site is clear; 1 at least one site is not clear
    (prohibited, restricted, conditional, attention or outside Jixi);
    2 usage error; 3 bad input (the message says what to fix).
    """
    from .redline import check_sites, validate_zones
    from .report import write_report
    from .sites import crs_notes

    zones = validate_zones(zones_path) if zones_path is not None else None
    if out.suffix.lower() == ".parquet":
        # large inputs: streamed chunk by chunk into GeoParquet parts (resumable)
        import pyarrow.parquet as pq

        from .scale import check_file

        check_file(sites, out, activity=activity, zones=zones, buffer_m=buffer_m, coords=coords, crs=crs,
                   id_column=id_column, encoding=encoding, make_valid=make_valid)
        verdicts = pq.read_table(out, columns=["verdict"]).column("verdict").to_pandas().astype(str)
        counts, all_clear = verdicts.value_counts(), bool((verdicts == "clear").all())
        paths = {"parquet": out}
    else:
        res = check_sites(sites, activity=activity, zones=zones, buffer_m=buffer_m, coords=coords, crs=crs,
                          id_column=id_column, layer=layer, encoding=encoding, make_valid=make_valid)
        paths = write_report(res, out, zones=zones)
        counts, all_clear = res["verdict"].astype(str).value_counts(), bool((res["verdict"] == "clear").all())
        for note in crs_notes(res):  # an inferred CRS is said on the console too, not only in the files
            click.echo(note, err=True)
    click.echo("  ".join(f"{v}={int(n)}" for v, n in counts.items()))
    for kind, p in paths.items():
        click.echo(f"{kind}: {p}")
    sys.exit(EXIT_OK if all_clear else EXIT_NOT_CLEAR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
