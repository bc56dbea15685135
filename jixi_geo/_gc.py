"""Pause Python's cyclic garbage collector while many geometries are created (private).

Shapely geometries are objects the cyclic collector tracks; creating a million of
them (``shapely.points``, ``shapely.from_wkb``) sets off hundreds of collections,
the later ones walking every object of the process (pandas, pyproj …): in a fresh
process this is about half the cost of building the points. No reference cycle is
created by that work, so pausing the collector for its duration changes nothing
but the time. Reference counting still frees memory as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["paused", "while_paused"]

_LOCK = threading.Lock()
_DEPTH = [0]  # pauses in progress (nested, or on several threads)
_WAS_ENABLED = [False]


@contextmanager
def paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its state when the last pause ends."""
    with _LOCK:
        if _DEPTH[0] == 0:
            _WAS_ENABLED[0] = gc.isenabled()
            gc.disable()
        _DEPTH[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0 and _WAS_ENABLED[0]:
                gc.enable()


def while_paused(fn: Callable) -> Callable:
    """Decorator: ``fn`` runs inside :func:`paused`."""
    import functools

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with paused():
            return fn(*args, **kwargs)

    return run
