"""The ``jixi-geo`` command line: thin wrappers around library functions.

Exit codes: 0 success (for ``check``: every site clear); 1 some site is not clear;
2 usage error (click); 3 bad input (a jixi_geo error, message on stderr).
"""

from __future__ import annotations

import logging
import sys
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
    with __import__("pandas").option_context("display.width", 200, "display.max_colwidth", 40):
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
