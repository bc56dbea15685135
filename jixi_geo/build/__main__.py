"""``python -m jixi_geo.build [--out DIR]``: rebuild the bundled layers."""

import argparse
import logging

from . import build_layers

if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m jixi_geo.build", description=__doc__)
    ap.add_argument("--out", help="output directory (default: the bundled layers/ directory)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    cat = build_layers(out_dir=args.out)
    for e in cat["layers"]:
        print(f"{e['name']:<24} {e['n_features']:>5}  {e['geometry_type']:<16} {e['precision']}")
