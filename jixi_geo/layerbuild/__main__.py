"""``python -m jixi_geo.layerbuild [--out DIR]``: the very command ``jixi-geo build-layers``.

There is one entry point, the click command in :mod:`jixi_geo.cli`; this module only
forwards its arguments there, so options, messages and exit codes are the same.
"""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["build-layers", *sys.argv[1:]], prog_name="jixi-geo"))
