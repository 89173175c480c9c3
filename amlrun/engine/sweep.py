"""Running a sweep node: its trials are ordinary cached steps; the best one's outputs are the
node's outputs.

Trial ``n`` is the node's step with the sampled values bound as literals, named
``<node>/trial_<n>``: its key is computed, looked up and run exactly like any step's, so a
trial with the same parameters is reused (names are not in keys). Trials run in batches of
``max_concurrent_trials``; each batch's results are told to the sampler in trial order (see
:mod:`amlrun.engine.sweep_sampling`). The objective is the last value of
``primary_metric`` the trial logged through mlflow, read from its store entry. A summary of
the trials is printed and kept in ``.amlrun/sweeps/<run id>/<node>.json``.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any

from amlrun.engine.state import StepOutcome
from amlrun.engine.sweep_sampling import Proposer
from amlrun.engine.sweep_watch import watch_trial
from amlrun.pipelines.model import Binding, Step
from amlrun.runs.metrics import StepMetrics
from amlrun.spec.names import folder_name


@dataclass(frozen=True)
class Trial:
    number: int
    name: str
    params: dict[str, Any]
    status: str  # ran | reused | failed | stopped | cancelled
    key: str | None
    value: float | None  # the primary metric's last value
    history: dict[int, float]  # primary metric: step -> value


def run_sweep(executor: Any, step: Step, out: StepOutcome) -> bool:
    """Run the trials of sweep ``step``; its outcome and manifest are the best trial's."""
    sweep = step.sweep
    assert sweep is not None
    out.status, started = "running", time.perf_counter()
    trials: list[Trial] = []
    try:
        _run_trials(executor, step, trials, started)
        _conclude(executor, step, out, trials)
    except Exception as exc:  # a sampler or bookkeeping bug fails the sweep, visibly
        executor.records.fail(out, exc, "sweep error: ")
    out.duration_s = time.perf_counter() - started
    executor.report(out)
    return out.status in ("ran", "reused")


def _run_trials(executor: Any, step: Step, trials: list[Trial], started: float) -> None:
    """Propose, run and score batches of trials until a limit is reached (into ``trials``)."""
    proposer = Proposer(step.sweep)
    while not executor.cancel.is_set():
        batch = _next_batch(step, proposer, len(trials), started)
        if not batch:
            return
        done = [t for t in trials if t.status in ("ran", "reused")]
        with ThreadPoolExecutor(len(batch)) as pool:
            finished = list(pool.map(_run_trial, *zip(*[(executor, step, i, done) for i in batch])))
        for trial in finished:  # in trial order: the sampler's next proposals are reproducible
            proposer.tell(trial.number, trial.value)
        trials += finished


def _next_batch(
    step: Step, proposer: Proposer, count: int, started: float
) -> list[tuple[int, dict]]:
    sweep = step.sweep
    assert sweep is not None
    if sweep.timeout_s is not None and time.perf_counter() - started >= sweep.timeout_s:
        return []
    size = sweep.max_concurrent_trials
    if sweep.max_total_trials is not None:
        size = min(size, sweep.max_total_trials - count)
    batch = []
    for number in range(count, count + max(size, 0)):
        params = proposer.ask(number)
        if params is None:  # the grid is exhausted
            break
        batch.append((number, params))
    return batch


def trial_step(step: Step, number: int, params: dict[str, Any]) -> Step:
    """Trial ``number`` of sweep ``step``: the trial component with ``params`` bound."""
    sweep = step.sweep
    assert sweep is not None
    bound = {k: Binding("literal", params[name]) for k, name in sweep.targets}
    return replace(
        step,
        name=f"{step.name}/trial_{number}",
        bindings={**step.bindings, **bound},
        sweep=None,
        timeout_s=sweep.trial_timeout_s,  # the node's limits.timeout is the whole sweep's
    )


def _run_trial(executor: Any, step: Step, item: tuple[int, dict], done: list[Trial]) -> Trial:
    number, params = item
    trial = trial_step(step, number, params)
    plan = executor.plan
    if step.name in plan.force:  # --force SWEEP reruns its trials
        plan.force.add(trial.name)
    out = plan.outcomes[trial.name] = StepOutcome(trial.name)
    judged: dict[int, float] = {}  # what the policy saw of a trial it stopped
    try:
        if plan.decide(trial, plan.key(trial)):
            executor.report(out)
        else:
            with watch_trial(executor, step, trial, done) as stop:
                executor.run_once(trial, out, stop)
            judged = stop.history
    except Exception as exc:  # e.g. a sampled value the trial's parameter refuses
        executor.records.fail(out, exc, "trial error: ")
        executor.report(out)
    logged = StepMetrics.from_json((plan.manifests.get(trial.name) or {}).get("tracking"))
    metric = logged.metrics.get(step.sweep.primary_metric)
    history = dict(metric.history) if metric else judged
    value = metric.last if metric and out.status in ("ran", "reused") else None
    return Trial(number, trial.name, params, out.status, out.key, value, history)


def _conclude(executor: Any, step: Step, out: StepOutcome, trials: list[Trial]) -> None:
    """The node's outcome: the best trial's key and manifest, or why there is none."""
    sweep = step.sweep
    assert sweep is not None
    scored = [t for t in trials if t.value is not None]
    statuses = [t.status for t in trials]
    tally = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses)) or "none"
    if executor.cancel.is_set():
        out.status, out.reason = "cancelled", "run interrupted"
    elif not scored:
        out.status = "failed"
        out.reason = f"no trial logged {sweep.primary_metric} ({len(trials)} trials: {tally})"
    else:
        pick = max if sweep.maximize else min
        best = pick(scored, key=lambda t: t.value)
        executor.plan.manifests[step.name] = executor.plan.manifests[best.name]
        out.key = best.key
        out.status = "reused" if all(t.status == "reused" for t in trials) else "ran"
        out.reason = (
            f"sweep of {len(trials)} trials ({tally}); best {best.name}: "
            f"{sweep.primary_metric}={best.value:.6g}"
        )
    _summary(executor, step, trials)


def _summary(executor: Any, step: Step, trials: list[Trial]) -> None:
    """Print the trials' table and keep it with the run's records."""
    records = executor.records
    path = records.dir / "sweeps" / records.run_id / f"{folder_name(step.name)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(t) for t in trials], indent=1, default=str) + "\n")
    metric = step.sweep.primary_metric if step.sweep else ""
    rows = [
        f"  {t.name:<{len(step.name) + 10}} {t.status:9} {_cell(t.value):>12}  "
        + " ".join(f"{k}={_cell(v)}" for k, v in t.params.items())
        for t in trials
    ]
    header = f"  {'TRIAL':<{len(step.name) + 10}} {'STATUS':9} {metric[:12]:>12}  PARAMS"
    sys.stderr.write(f"sweep {step.name}:\n{header}\n" + "\n".join(rows) + "\n")


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.6g}" if isinstance(v, float) else str(v)
