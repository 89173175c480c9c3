"""Python's cyclic garbage collector, paused while amlrun builds long-lived objects.

Planning a 10,000-step pipeline allocates millions of objects that live until the run ends
(the unpickled plan, keys, manifests, outcomes). The collector scans young objects every
700 allocations and, now and then, all of them: a third of a 10,000-step null run went
there, finding nothing, since these objects form almost no reference cycles (memory is
freed by reference counting as usual). A run pauses it from start to end, except while
steps execute (:func:`resumed`): threads, subprocesses and user callbacks run then.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside; the collector's state is restored after (nesting is
    fine: an inner pause leaves an outer one in force).

    ``freeze``: for a command whose process ends next. What it built is moved out of the
    collector's sight (``gc.freeze``) before collection resumes, else the first collection
    after the pause scans all of it once more (0.2 s after a 10,000-step null run).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        gc.enable()


@contextmanager
def resumed() -> Iterator[None]:
    """Collection as usual inside, paused again after if it was paused before."""
    if gc.isenabled():
        yield
        return
    gc.enable()
    try:
        yield
    finally:
        gc.disable()
