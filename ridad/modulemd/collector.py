"""Pausing Python's cyclic garbage collector while a document is read.

Reading a large modulemd makes a few hundred thousand tracked objects (the
libyaml events, the node tree, the read values), none of them in a cycle:
reference counting frees them all. Yet each automatic pass of the cyclic
collector walks every tracked object of the process, and in the daemon a
pass took 100 to 200 ms during a 1 MiB submission. The collector stops
every thread while it runs, the reactor's included, so the parse, though
run in a worker thread, stalled ``GET /health`` for as long. Pausing the
collector for the few tenths of a second a parse takes removes those
stalls; cyclic garbage made meanwhile elsewhere is collected once it ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off for the duration of the block.

    Safe across threads and nesting: the collector comes back when the
    last block ends, and only if it was on when the first one began.
    """
    global _pausers, _resume
    with _lock:
        if _pausers == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _resume:
                gc.enable()
