"""Deprecated alias of :mod:`jixi_geo.batch` (renamed: "scale" read as map scale).

``import jixi_geo.scale`` still works for one release and warns with a
:class:`DeprecationWarning`; import :mod:`jixi_geo.batch` instead. The names are
the very same objects as in :mod:`jixi_geo.batch`.
"""

from __future__ import annotations

import warnings

from .batch import (  # noqa: F401  (re-exported)
    STREAMED_SUFFIXES,
    check_file,
    check_sites_dask,
    plain_results,
    read_results,
    result_verdicts,
)
from .batch import __all__  # noqa: F401

warnings.warn(
    "jixi_geo.scale 已更名为 jixi_geo.batch，旧名将在下一版本移除；请改为 `import jixi_geo.batch`。 "
    "jixi_geo.scale was renamed jixi_geo.batch and the old name will be removed in the next release; "
    "import jixi_geo.batch instead.",
    DeprecationWarning,
    stacklevel=2,  # the import line (warnings skips importlib's own frames)
)
