"""What model objects do that belongs to higher layers: running, and the pipeline DSL.

``Module.run``, calling a Module inside an ``@amlrun.pipeline`` function, ``Module.from_func``
and ``Pipeline.run`` are public API, but their work is done by runs/, dsl/ and the engine.
The top package binds them here when it is imported (``amlrun/__init__``, which Python runs
before any of its submodules), so the model imports none of those layers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amlrun.errors import AmlrunError

_bound: dict[str, Callable[..., Any]] = {}


def bind(**impls: Callable[..., Any]) -> None:
    """Called once by the top package with the implementation of each behaviour."""
    _bound.update(impls)


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    impl = _bound.get(name)
    if impl is None:  # only when amlrun/__init__ was bypassed
        raise AmlrunError(f"'{name}' is not bound: import amlrun before using its model")
    return impl(*args, **kwargs)
