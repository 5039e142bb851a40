"""Building the app in a server process: the cyclic garbage collector paused meanwhile, and
what was built moved out of its reach afterwards.

Importing and building the app makes several hundred thousand objects that live as long as the
process (modules, classes, mappers, routes, templates' globals). With the collector running,
their creation triggers full collections, each walking every object made so far: a good part
of the start-up's CPU, for nothing, since hardly any of it is garbage. `gc.freeze()` afterwards
moves them all to the permanent generation, so no later collection walks them either, and a
forked gunicorn worker's collections leave the master's pages shared (Python's documentation of
`gc.freeze` recommends exactly this before a fork).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, then freeze what exists and resume.

    Only around importing and building the app: left paused, a long-running process would
    never free reference cycles. When the block fails (a configuration error), nothing is
    frozen: the process is about to end, or (a test calling the command) goes on, and its
    garbage must stay collectable.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
