"""What a step's script logged through mlflow: its metrics and params, read without mlflow.

Every step runs with ``MLFLOW_TRACKING_URI`` pointing at a private mlflow *file store* (unless
the user set one), so ``mlflow.log_metric``/``log_param``/``autolog`` just work. The file
store is plain files, read here with the standard library and pyyaml:

    <root>/<experiment id>/meta.yaml                     (experiment_id, name)
    <root>/<experiment id>/<run id>/meta.yaml            (run_id, run_name, start_time, ...)
    <root>/<experiment id>/<run id>/metrics/<name>       lines "timestamp value step"
    <root>/<experiment id>/<run id>/params/<name>        the value, as text

Metric and param names may contain "/", which the store keeps as sub-folders. The summary is
kept in the run record and in the step's store entry, so a reused step shows the metrics of
the run that produced it. A manifest may come from a shared store: :meth:`StepMetrics.from_json`
turns anything malformed into "no metrics", never into a traceback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amlrun.runs.db import RunDB

#: points of a metric's history kept (the count says how many were logged)
HISTORY_LIMIT = 1000


@dataclass(frozen=True)
class Metric:
    """One metric: its last value (at the highest step, then the latest time) and history."""

    last: float
    step: int
    count: int
    history: tuple[tuple[int, float], ...] = ()  # (step, value) in logged order, capped

    def as_json(self) -> dict[str, Any]:
        return {
            "last": _number(self.last),
            "step": self.step,
            "count": self.count,
            "history": [[s, _number(v)] for s, v in self.history],
        }


@dataclass(frozen=True)
class StepMetrics:
    """The metrics and params one step logged, and the amlrun run that produced them."""

    metrics: Mapping[str, Metric] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    mlflow_runs: tuple[str, ...] = ()
    produced_by: str = ""  # amlrun run id of the run that ran the step

    def __bool__(self) -> bool:
        return bool(self.metrics or self.params)

    def as_json(self) -> dict[str, Any]:
        return {
            "produced_by": self.produced_by,
            "mlflow_runs": list(self.mlflow_runs),
            "params": dict(self.params),
            "metrics": {n: m.as_json() for n, m in sorted(self.metrics.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> StepMetrics:
        """What :meth:`as_json` wrote; anything else (an untrusted store entry) is empty."""
        try:
            metrics = {
                str(n): Metric(
                    float(m["last"]),
                    int(m["step"]),
                    int(m["count"]),
                    tuple((int(s), float(v)) for s, v in m.get("history", ())),
                )
                for n, m in data["metrics"].items()
            }
            params = {str(k): str(v) for k, v in data["params"].items()}
            runs = tuple(str(r) for r in data.get("mlflow_runs", ()))
            return cls(metrics, params, runs, str(data.get("produced_by", "")))
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls()


def _number(value: float) -> float | str:
    """JSON has no NaN or infinity: those are kept as the strings float() reads back."""
    return value if math.isfinite(value) else str(value)


def read_file_store(root: Path, produced_by: str = "") -> StepMetrics:
    """Everything the runs in the mlflow file store at ``root`` logged, merged by name.

    Runs are read in start order, so when several runs (nested or sequential) log the same
    name the latest run's param wins and metric histories follow each other.
    """
    runs = sorted(_runs(root), key=lambda r: (r[0], r[1].name))
    points: dict[str, list[tuple[int, int, float]]] = {}  # name -> (ts, step, value)
    params: dict[str, str] = {}
    for _start, run in runs:
        for name, path in _named_files(run / "params"):
            params[name] = _text(path)
        for name, path in _named_files(run / "metrics"):
            points.setdefault(name, []).extend(_metric_lines(path))
    metrics = {name: _metric(p) for name, p in points.items() if p}
    return StepMetrics(metrics, params, tuple(r.name for _, r in runs), produced_by)


def _runs(root: Path) -> list[tuple[int, Path]]:
    """(start time, folder) of each active run in each experiment of the store."""
    found = []
    for experiment in _folders(root):
        if experiment.name.startswith(".") or not (experiment / "meta.yaml").is_file():
            continue  # ".trash", or not an experiment
        for run in _folders(experiment):
            meta = _yaml(run / "meta.yaml")
            if meta.get("run_id") and meta.get("lifecycle_stage", "active") == "active":
                start = meta.get("start_time")
                found.append((start if isinstance(start, int) else 0, run))
    return found


def _folders(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []


def _text(path: Path) -> str:
    """A file's text; one mlflow is still writing, or cannot be read, counts as empty: the
    metrics are a report about a run, never a reason for the run to fail."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _yaml(path: Path) -> dict:
    import yaml  # only a run that read a tracking store needs it: a null run never does

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _named_files(folder: Path) -> list[tuple[str, Path]]:
    """(name, file) under ``folder``; a name with "/" is a file in a sub-folder."""
    if not folder.is_dir():
        return []
    try:
        files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    except OSError:
        return []
    return sorted((p.relative_to(folder).as_posix(), p) for p in files)


def _metric_lines(path: Path) -> list[tuple[int, int, float]]:
    """(timestamp, step, value) of each line; mlflow writes "ts value step" (maybe more)."""
    points = []
    for line in _text(path).splitlines():
        parts = line.split()
        try:
            ts, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0
        except (IndexError, ValueError):
            continue  # a line being written, or not a metric line
        points.append((ts, step, value))
    return points


def _metric(points: list[tuple[int, int, float]]) -> Metric:
    _ts, step, value = max(points, key=lambda p: (p[1], p[0]))  # mlflow's "latest" metric
    history = tuple((s, v) for _t, s, v in points[:HISTORY_LIMIT])
    return Metric(value, step, len(points), history)


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS step_metrics "
    "(run_id TEXT, step TEXT, data TEXT, PRIMARY KEY (run_id, step))"
)


def record_step_metrics(db: RunDB, run_id: str, steps: Mapping[str, StepMetrics]) -> None:
    """Keep what each step of run ``run_id`` logged (or, reused, what its producer logged)."""
    rows = [(run_id, step, json.dumps(m.as_json())) for step, m in steps.items() if m]
    with db.conn:
        db.conn.execute(_SCHEMA)
        db.conn.executemany("INSERT OR REPLACE INTO step_metrics VALUES (?, ?, ?)", rows)


def step_metrics(db: RunDB, run_id: str) -> dict[str, StepMetrics]:
    """Step name -> the metrics and params it shows in run ``run_id`` (steps without: absent).

    A reused step shows those of the run that produced it (``produced_by``), which may be a
    run on another machine that shared its store.
    """
    if not db.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'step_metrics'").fetchone():
        return {}  # recorded before metrics were: reading never changes the database
    rows = db.conn.execute(
        "SELECT step, data FROM step_metrics WHERE run_id = ? ORDER BY rowid", (run_id,)
    ).fetchall()
    return {step: StepMetrics.from_json(json.loads(data)) for step, data in rows}
