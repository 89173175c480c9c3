"""pytest plugin (entry point ``pytest11``): test a pipeline's results, and in CI assert
that a change reran only what it should.

- ``amlrun_run(pipeline, set={...}, outputs={...})`` runs a pipeline incrementally and returns
  a :class:`~amlrun.testing.session.PipelineResult`;
- ``--amlrun-store URL`` runs every pipeline against that store (e.g. the team's cache,
  ``.amlrun/cache,s3://team/cache?ro``);
- ``--amlrun-expect-reuse`` fails a test whose pipeline reruns any step, unless the test is
  marked ``@pytest.mark.amlrun_reruns("train", ...)``: then only those steps may rerun (a
  warm cache may hold them too).

Importing this module costs nothing: amlrun's engine is imported when a test runs a pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from amlrun.testing.session import MARKER


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("amlrun", "amlrun pipelines")
    group.addoption(
        "--amlrun-store",
        metavar="URL",
        help="Store (or comma-separated layers) for amlrun_run; default: the workspace's.",
    )
    group.addoption(
        "--amlrun-expect-reuse",
        action="store_true",
        help=f"Fail tests whose pipeline reruns a step not declared with @{MARKER}(...).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*steps): the steps this test may rerun (checked with "
        "--amlrun-expect-reuse: every other step must be reused)",
    )


@pytest.fixture
def amlrun_run(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Any]:
    """``amlrun_run(pipeline, set=None, outputs=None)`` -> PipelineResult."""
    from amlrun.engine.expect import ExpectationFailed
    from amlrun.testing.session import run_pipeline

    config = request.config
    reruns = None
    if config.getoption("amlrun_expect_reuse"):
        marker = request.node.get_closest_marker(MARKER)
        reruns = tuple(marker.args) if marker else ()
    counter = iter(range(1_000_000))

    def run(
        pipeline: str | Path,
        set: Mapping[str, Any] | None = None,
        outputs: Mapping[str, str | Path] | None = None,
    ):
        try:
            return run_pipeline(
                pipeline,
                folder=tmp_path / f"amlrun-{next(counter)}",
                inputs=set,
                outputs=outputs,
                store=config.getoption("amlrun_store"),
                may_rerun=reruns,
            )
        except ExpectationFailed as exc:  # the message is the finding, not a traceback
            pytest.fail(f"amlrun: {exc}", pytrace=False)

    return run
