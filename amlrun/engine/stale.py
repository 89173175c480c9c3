"""A reused step whose stored data turns out unusable when it is finally fetched.

Remote layers are read lazily: a step is reused on its manifest alone, and its blobs are
fetched (and checked against their hashes) only when a running step or the user needs them.
If the store lost them, or they are corrupt, that reuse was not a real hit: the fetch raises
:class:`StaleResult`, the executor forgets the entry and reruns the step, and the consumer
is staged again from the new result. Nothing half-restored is left: outputs are built aside
and swapped in whole (``Store.materialize``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from amlrun.cache.base import BadBlob, MissingBlob
from amlrun.errors import AmlrunError


class StaleResult(AmlrunError):
    """The stored result of ``step`` could not be fetched: ``problem`` says why."""

    def __init__(self, step: str, problem: Exception) -> None:
        super().__init__(f"the stored result of step {step} is unusable: {problem}")
        self.step = step
        self.problem = problem


@contextmanager
def fetching(step: str) -> Iterator[None]:
    """Blobs of ``step``'s result being placed: a missing or bad one makes it stale."""
    try:
        yield
    except (MissingBlob, BadBlob) as exc:
        raise StaleResult(step, exc) from exc
