"""The bridge to doit: one task per step, reuse answered by the store via ``uptodate``.

doit provides ordering, parallel execution (threads: steps mostly wait on subprocesses) and
``--continue`` semantics; its own dep file never decides reuse, so it is an in-memory sqlite3
database: concurrent runs of one workspace share no doit state, and nothing is written. The
engine's callbacks record every outcome themselves; what doit reports on its own (a failure
the callbacks did not see, an error of doit's) is handed back so nothing is swallowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DoitOutcome:
    """What doit itself reported: failures amlrun's own callbacks did not record."""

    failures: dict[str, str] = field(default_factory=dict)  # step name -> doit's message
    errors: list[str] = field(default_factory=list)  # doit errors not tied to a task


class _QuietReporter:
    """doit's reporter interface; amlrun reports progress itself, doit's failures are kept."""

    desc = "amlrun"

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names  # doit task id -> step name
        self.outcome = DoitOutcome()

    def initialize(self, tasks: Any, selected_tasks: Any) -> None: ...
    def get_status(self, task: Any) -> None: ...
    def execute_task(self, task: Any) -> None: ...
    def add_success(self, task: Any) -> None: ...
    def skip_uptodate(self, task: Any) -> None: ...
    def skip_ignore(self, task: Any) -> None: ...
    def teardown_task(self, task: Any) -> None: ...
    def cleanup_error(self, exception: Any) -> None: ...
    def complete_run(self) -> None: ...

    def add_failure(self, task: Any, fail: Any) -> None:
        from doit.exceptions import UnmetDependency

        if not isinstance(fail, UnmetDependency):  # dependants are settled as skipped
            first = (fail.message or type(fail).__name__).strip().splitlines()
            self.outcome.failures[self.names.get(task.name, task.name)] = first[0] if first else ""

    def runtime_error(self, msg: str) -> None:
        self.outcome.errors.append(" ".join(msg.split()))


def run_tasks(
    steps: list[tuple[str, list[str]]],
    uptodate: Callable[[str], bool],
    execute: Callable[[str], bool],
    *,
    jobs: int,
    keep_going: bool,
) -> DoitOutcome:
    """Run ``steps`` (name, upstream names) through doit; returns what doit reported."""
    from doit.cmd_base import TaskLoader2
    from doit.cmd_run import Run
    from doit.task import dict_to_task

    ids = {name: f"s{i}" for i, (name, _) in enumerate(steps)}
    reporter = _QuietReporter({v: k for k, v in ids.items()})

    class Loader(TaskLoader2):
        def setup(self, opt_values: dict) -> None: ...

        def load_doit_config(self) -> dict:
            return {
                "dep_file": ":memory:",
                "backend": "sqlite3",
                "verbosity": 2,  # doit must not capture output: amlrun reports itself
                "reporter": reporter,
                "num_process": jobs if jobs > 1 else 0,  # 0: in this thread, no handoffs
                "par_type": "thread",
                "continue": keep_going,
            }

        def load_tasks(self, cmd: Any, pos_args: list) -> list:
            return [
                dict_to_task(
                    {
                        "name": ids[name],
                        "actions": [(execute, [name])],
                        "uptodate": [(uptodate, [name])],
                        "task_dep": [ids[u] for u in ups],
                        "doc": name,
                    }
                )
                for name, ups in steps
            ]

    # the command itself, not DoitMain, which would print a traceback for doit's own errors:
    # they propagate to the engine, which fails the unfinished steps with the reason
    code = Run(task_loader=Loader(), bin_name="amlrun").parse_execute([])
    if code not in (0, 1) and not reporter.outcome.errors:  # 1: some task failed
        reporter.outcome.errors.append(f"doit stopped with exit code {code}")
    return reporter.outcome
