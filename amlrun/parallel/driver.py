"""The worker process of a parallel step, as Azure ML's driver runs it: a standalone script.

It runs in the step's environment (a cached venv, a container), where amlrun may not be
installed, so it imports only the standard library (and pandas for tabular batches). The
runtime copies it as ``__main__.py`` into a plan folder and runs ``python PLAN RESULTS LOGS
ENTRY ARGS...``: the entry script is imported once, ``init()`` called once, ``run()`` called
per mini-batch with retries and a timeout; ``sys.argv`` is ``[ENTRY, *ARGS]`` as on Azure ML.
Each batch leaves ``RESULTS/<id>.json`` (status) and, when it succeeded, ``RESULTS/<id>.out``
(its rows); ``LOGS/progress.txt`` and ``LOGS/errors.txt`` say what happened.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path


class BatchTimeout(Exception):
    """run() took longer than the per-mini-batch timeout."""


def _alarm(signum, frame):
    raise BatchTimeout("run() exceeded the mini-batch timeout")


def _load_entry(entry: str):
    """Import the entry script once, from the snapshot folder (the working directory)."""
    sys.path.insert(0, os.getcwd())
    spec = importlib.util.spec_from_file_location("amlrun_entry_script", entry)
    if spec is None or spec.loader is None:
        raise SystemExit(f"amlrun parallel: cannot import entry script {entry}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise SystemExit(f"amlrun parallel: entry script {entry} defines no run(mini_batch)")
    return module


def _mini_batch(plan_dir: Path, data: str, batch: dict):
    """What run() receives: file paths, or a DataFrame for tabular input."""
    if batch.get("frame"):
        import pandas

        return pandas.read_pickle(plan_dir / batch["frame"])
    return [os.path.join(data, rel) if rel else data for rel in batch["items"]]


def _rows(result, count: int) -> tuple[str, int]:
    """(the text appended for ``result``, how many items it answers for)."""
    if result is None:
        return "", 0
    if hasattr(result, "to_csv"):  # a DataFrame: its rows, space separated, as Azure ML does
        return result.to_csv(sep=" ", header=False, index=False), len(result)
    rows = list(result)
    return "".join(f"{row}\n" for row in rows), len(rows)


def _attempt(module, mini_batch, timeout: float) -> object:
    if timeout > 0:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return module.run(mini_batch)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _one_batch(module, batch: dict, plan: dict, plan_dir: Path, data: str, logs) -> dict:
    """Run one mini-batch with its retries; its status (and rows, in RESULTS) on success."""
    count = batch["count"]
    tries = 1 + max(0, int(plan["max_retries"]))
    error = ""
    for attempt in range(1, tries + 1):
        started = time.perf_counter()
        try:
            text, answered = _rows(
                _attempt(module, _mini_batch(plan_dir, data, batch), plan["timeout"]), count
            )
        except Exception:
            error = traceback.format_exc()
            logs.errors.write(f"batch {batch['index']} attempt {attempt}/{tries}:\n{error}\n")
            logs.errors.flush()
            continue
        seconds = time.perf_counter() - started
        logs.progress.write(
            f"batch {batch['index']}: {answered}/{count} items in {seconds:.3f} s\n"
        )
        logs.progress.flush()
        return {"ok": True, "items": count, "failed": max(0, count - answered), "text": text}
    return {"ok": False, "items": count, "failed": count, "error": error.strip()[-2000:]}


class _Logs:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.progress = open(folder / "progress.txt", "a", encoding="utf-8")  # noqa: SIM115
        self.errors = open(folder / "errors.txt", "a", encoding="utf-8")  # noqa: SIM115


def main(argv: list[str]) -> int:
    results, log_dir, data, entry = argv[0], argv[1], argv[2], argv[3]
    plan_dir_p, results_p = Path(__file__).resolve().parent, Path(results)
    plan = json.loads((plan_dir_p / "plan.json").read_text(encoding="utf-8"))
    results_p.mkdir(parents=True, exist_ok=True)
    logs = _Logs(Path(log_dir))
    sys.argv = [entry, *argv[4:]]
    signal.signal(signal.SIGALRM, _alarm)
    module = _load_entry(entry)
    if callable(getattr(module, "init", None)):
        module.init()
    logs.progress.write(f"init() done; {len(plan['batches'])} mini-batches to run\n")
    for batch in plan["batches"]:
        status = _one_batch(module, batch, plan, plan_dir_p, data, logs)
        text = status.pop("text", None)
        if text is not None:
            (results_p / f"{batch['id']}.out").write_text(text, encoding="utf-8")
        (results_p / f"{batch['id']}.json").write_text(json.dumps(status), encoding="utf-8")
    if callable(getattr(module, "shutdown", None)):
        module.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
