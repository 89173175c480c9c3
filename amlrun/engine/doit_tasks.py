"""The bridge to doit: one task per step, reuse answered by the store via ``uptodate``.

doit provides ordering, parallel execution (threads: steps mostly wait on subprocesses) and
``--continue`` semantics; its own dep file (pinned to sqlite3) never decides reuse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


class _QuietReporter:
    """doit's reporter interface; amlrun reports progress itself."""

    desc = "amlrun"

    def __init__(self, outstream: Any, options: Any) -> None:
        self.errors: list[str] = []

    def initialize(self, tasks: Any, selected_tasks: Any) -> None: ...
    def get_status(self, task: Any) -> None: ...
    def execute_task(self, task: Any) -> None: ...
    def add_success(self, task: Any) -> None: ...
    def skip_uptodate(self, task: Any) -> None: ...
    def skip_ignore(self, task: Any) -> None: ...
    def teardown_task(self, task: Any) -> None: ...
    def add_failure(self, task: Any, fail: Any) -> None: ...
    def cleanup_error(self, exception: Any) -> None: ...
    def complete_run(self) -> None: ...

    def runtime_error(self, msg: str) -> None:
        self.errors.append(msg)


def run_tasks(
    steps: list[tuple[str, list[str]]],
    uptodate: Callable[[str], bool],
    execute: Callable[[str], bool],
    *,
    dep_file: Path,
    jobs: int,
    keep_going: bool,
) -> int:
    """Run ``steps`` (name, upstream names) through doit; returns doit's exit code."""
    from doit.cmd_base import TaskLoader2
    from doit.doit_cmd import DoitMain
    from doit.task import dict_to_task

    ids = {name: f"s{i}" for i, (name, _) in enumerate(steps)}

    class Loader(TaskLoader2):
        def setup(self, opt_values: dict) -> None: ...

        def load_doit_config(self) -> dict:
            return {
                "dep_file": str(dep_file),
                "backend": "sqlite3",
                "verbosity": 2,  # doit must not capture output: amlrun reports itself
                "reporter": _QuietReporter,
                "num_process": max(1, jobs),
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

    dep_file.parent.mkdir(parents=True, exist_ok=True)
    return DoitMain(Loader()).run(["run"])
