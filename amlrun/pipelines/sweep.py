"""The v2 ``type: sweep`` node as data: search space, sampling, objective, limits, policy.

A sweep runs its ``trial`` component once per sampled set of parameters; each trial is an
ordinary cached step (see :mod:`amlrun.engine.sweep`). This module only reads and checks the
node, so a bad search space is an error naming its field before anything runs.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amlrun.errors import SpecError

if TYPE_CHECKING:
    from amlrun.spec.model import Module

SEARCH_REF = re.compile(r"\$\{\{\s*search_space\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

#: search space types and the fields each needs (Azure ML's SweepJob schema)
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "choice": ("values",),
    "randint": ("upper",),
    "uniform": ("min_value", "max_value"),
    "loguniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "lognormal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "qlognormal": ("mu", "sigma", "q"),
}
SAMPLERS = ("grid", "random", "bayesian")
POLICIES: dict[str, tuple[str, ...]] = {
    "bandit": ("slack_factor", "slack_amount", "evaluation_interval", "delay_evaluation"),
    "median_stopping": ("evaluation_interval", "delay_evaluation"),
    "truncation_selection": ("truncation_percentage", "evaluation_interval", "delay_evaluation"),
}


@dataclass(frozen=True)
class Dimension:
    name: str
    type: str
    args: tuple[tuple[str, Any], ...]  # the fields DIMENSIONS names, in that order

    def arg(self, name: str) -> Any:
        return dict(self.args)[name]


@dataclass(frozen=True)
class Policy:
    type: str
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    slack_factor: float | None = None
    slack_amount: float | None = None
    truncation_percentage: float = 0.0


@dataclass(frozen=True)
class Sweep:
    search_space: tuple[Dimension, ...]
    sampling: str  # grid | random | bayesian
    seed: int | None
    primary_metric: str
    goal: str  # maximize | minimize
    max_total_trials: int | None = None
    max_concurrent_trials: int = 1
    timeout_s: float | None = None
    trial_timeout_s: float | None = None
    early_termination: Policy | None = None
    #: (trial input, search space name) pairs: each trial binds the input to its sample
    targets: tuple[tuple[str, str], ...] = ()

    @property
    def maximize(self) -> bool:
        return self.goal == "maximize"

    def as_node(self) -> dict[str, Any]:
        """The node's sweep keys as a v2 pipeline file spells them (for export)."""
        limits = {
            "max_total_trials": self.max_total_trials,
            "max_concurrent_trials": self.max_concurrent_trials,
            "timeout": self.timeout_s,
            "trial_timeout": self.trial_timeout_s,
        }
        policy = self.early_termination
        node = {
            "sampling_algorithm": {"type": self.sampling, "seed": self.seed}
            if self.seed is not None
            else self.sampling,
            "search_space": {d.name: {"type": d.type, **dict(d.args)} for d in self.search_space},
            "objective": {"primary_metric": self.primary_metric, "goal": self.goal},
            "limits": {k: v for k, v in limits.items() if v is not None},
        }
        if policy is not None:
            fields = {k: v for k, v in vars(policy).items() if v is not None}
            node["early_termination"] = fields
        return node


def parse_sweep(node: dict, file: Path, where: str) -> Sweep:
    """The sweep settings of a ``type: sweep`` node; SpecError names what is wrong."""

    def fail(field: str, message: str, fix: str) -> SpecError:
        return SpecError(message, file=file, field=f"{where}.{field}", fix=fix)

    space = node.get("search_space")
    if not isinstance(space, dict) or not space:
        raise fail("search_space", "a sweep needs a search_space", "map parameter -> {type: ...}")
    dims = tuple(_dimension(str(k), v, fail) for k, v in space.items())
    sampling, seed = _sampling(node.get("sampling_algorithm", "random"), fail)
    if sampling != "grid" and importlib.util.find_spec("optuna") is None:
        raise fail(
            "sampling_algorithm",
            f"{sampling} sampling needs the optuna package, which is not installed",
            "pip install 'amlrun[sweep]' (or use sampling_algorithm: grid)",
        )
    if sampling == "grid" and any(d.type != "choice" for d in dims):
        raise fail("search_space", "grid sampling takes only choice dimensions", "use random")
    objective = node.get("objective")
    if not isinstance(objective, dict) or not objective.get("primary_metric"):
        raise fail("objective", "a sweep needs objective.primary_metric", "name a logged metric")
    goal = str(objective.get("goal", "maximize")).lower()
    if goal not in ("maximize", "minimize"):
        raise fail("objective.goal", f"goal '{goal}' is unknown", "maximize or minimize")
    limits = node.get("limits") or {}
    if not isinstance(limits, dict):
        raise fail("limits", "limits is not a mapping", "max_total_trials: N, ...")
    total = _number(limits, "max_total_trials", int, fail)
    if total is None and sampling != "grid":
        raise fail("limits.max_total_trials", "random and bayesian sweeps need a limit", "set it")
    return Sweep(
        search_space=dims,
        sampling=sampling,
        seed=seed,
        primary_metric=str(objective["primary_metric"]),
        goal=goal,
        max_total_trials=total,
        max_concurrent_trials=_number(limits, "max_concurrent_trials", int, fail) or 1,
        timeout_s=_number(limits, "timeout", float, fail),
        trial_timeout_s=_number(limits, "trial_timeout", float, fail),
        early_termination=_policy(node.get("early_termination"), fail),
    )


def bind_search_space(
    sweep: Sweep, module: Module, bindings: dict[str, Any], file: Path, where: str
) -> Sweep:
    """``sweep`` with its targets: a search space name is a trial parameter's name, or is
    referenced by a node input bound to ``${{search_space.NAME}}``."""
    refs = {
        k: m.group(1)
        for k, b in bindings.items()
        if b.kind == "literal" and (m := SEARCH_REF.fullmatch(str(b.value).strip()))
    }
    names = {d.name for d in sweep.search_space}
    for k, name in refs.items():
        if name not in names:
            raise SpecError(
                f"input '{k}' refers to search space '{name}', which is not defined",
                file=file,
                field=f"{where}.inputs.{k}",
                fix="define it under search_space, or use one of: " + ", ".join(sorted(names)),
            )
    targets = dict(refs)
    for d in sweep.search_space:
        if d.name not in refs.values() and d.name not in bindings:
            if module.parameter(d.name) is None:
                raise SpecError(
                    f"search space '{d.name}' is no parameter of the trial '{module.name}'",
                    file=file,
                    field=f"{where}.search_space.{d.name}",
                    fix="name a parameter of the trial component, or bind one to "
                    f"${{{{search_space.{d.name}}}}}",
                )
            targets[d.name] = d.name
    return replace(sweep, targets=tuple(targets.items()))


def _dimension(name: str, spec: Any, fail) -> Dimension:
    field = f"search_space.{name}"
    kind = spec.get("type") if isinstance(spec, dict) else None
    if not isinstance(kind, str) or kind not in DIMENSIONS:
        raise fail(field, f"search space '{name}' has type {kind!r}", ", ".join(DIMENSIONS))
    missing = [a for a in DIMENSIONS[kind] if a not in spec]
    if missing:
        raise fail(field, f"{kind} needs {', '.join(missing)}", f"add {missing[0]}: ...")
    try:  # plain data (a YAML date or a tagged object is no trial parameter)
        args = tuple((a, json.loads(json.dumps(spec[a]))) for a in DIMENSIONS[kind])
    except (TypeError, ValueError):
        raise fail(
            field, f"{kind}'s values must be numbers, strings or lists", "fix them"
        ) from None
    if kind == "choice":
        if not isinstance(spec["values"], list) or not spec["values"]:
            raise fail(f"{field}.values", "choice values must be a non-empty list", "[a, b]")
    elif not all(isinstance(v, int | float) and not isinstance(v, bool) for _, v in args):
        raise fail(field, f"{kind}'s {', '.join(DIMENSIONS[kind])} must be numbers", "fix them")
    elif kind == "randint" and spec["upper"] < 1:
        raise fail(f"{field}.upper", "randint's upper must be at least 1", "upper: 10")
    elif "min_value" in spec and spec["min_value"] > spec["max_value"]:
        raise fail(field, "min_value is above max_value", "swap them")
    return Dimension(name, kind, args)


def _sampling(raw: Any, fail) -> tuple[str, int | None]:
    kind, seed = (raw.get("type"), raw.get("seed")) if isinstance(raw, dict) else (raw, None)
    kind = str(kind).lower()
    if kind not in SAMPLERS:
        raise fail("sampling_algorithm", f"sampling algorithm '{kind}' is unknown", "grid/random")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise fail("sampling_algorithm.seed", f"seed {seed!r} is not an integer", "seed: 42")
    return kind, seed


def _number(limits: dict, key: str, kind: type, fail) -> Any:
    value = limits.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise fail(f"limits.{key}", f"{key} must be a positive number, not {value!r}", "fix it")
    return kind(value)


def _policy(raw: Any, fail) -> Policy | None:
    if raw is None:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in POLICIES:
        raise fail("early_termination", f"policy {kind!r} is unknown", ", ".join(POLICIES))
    values = {k: raw[k] for k in POLICIES[kind] if raw.get(k) is not None}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()):
        raise fail("early_termination", f"{kind}'s settings must be numbers", "fix them")
    if kind == "bandit" and ("slack_factor" in values) == ("slack_amount" in values):
        raise fail("early_termination", "bandit needs slack_factor or slack_amount", "one")
    if kind == "truncation_selection" and "truncation_percentage" not in values:
        raise fail("early_termination", "truncation_selection needs a percentage", "add it")
    return Policy(kind, **values)
