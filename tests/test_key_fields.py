"""Every field of the normalized step model is classified: in the key, or deliberately not.

The fields are enumerated from the dataclasses themselves (Step and everything it reaches),
so a field added without a decision here fails ``test_every_field_of_the_step_model_is_classified``.
Each classified field is then perturbed on a baseline step: ``KEY`` fields must change the key,
``FREE`` fields must not, and ``FAILS`` fields make the step unable to run (no key at all).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from amlrun.engine.keys import KeyCalculator
from amlrun.errors import SpecError
from amlrun.hashing import StatCache
from amlrun.pipelines.model import Binding, Step
from amlrun.pipelines.sweep import Dimension, Policy, Sweep
from amlrun.spec.model import (
    Code,
    Command,
    Condition,
    Environment,
    Group,
    Module,
    Parallel,
    Parameter,
    Port,
    Ref,
    Text,
)

KEY, FREE, FAILS, TREE = "key", "free", "fails", "tree"  # TREE: its own fields are classified
MOD, ENV, CODE = ("module",), ("module", "environment"), ("module", "code")
CMD, PAR = ("module", "command"), ("module", "parallel")
DATA, K = ("module", "inputs", 0), ("module", "parameters", 1)
SW = ("sweep",)

#: (class, field) -> (path to an instance in the baseline, new value, expectation);
#: a value "ctx2"/"code2" names a folder of the baseline with other content
FIELDS: dict[tuple[str, str], tuple[tuple, Any, str]] = {
    ("Step", "name"): ((), "renamed", FREE),
    ("Step", "module"): ((), None, TREE),
    ("Step", "bindings"): ((), {}, KEY),
    ("Step", "source"): ((), Path("/elsewhere/p.yml"), FREE),
    ("Step", "line"): ((), 99, FREE),
    ("Step", "compute"): ((), "gpu-cluster", FREE),  # picks the backend, whose identity is keyed
    ("Step", "force_rerun"): ((), True, FREE),  # bypasses reuse instead
    ("Step", "output_paths"): ((), {"out": "/copy/here"}, FREE),  # a copy made after the run
    ("Step", "timeout_s"): ((), 5.0, FREE),  # a timed-out step stores nothing
    ("Step", "env_vars"): ((), {"A": "2"}, KEY),
    ("Step", "blocked"): ((), "cloud only", FREE),
    # a sweep node is never keyed itself: each trial's key holds the values sampled for it
    ("Step", "sweep"): ((), None, TREE),
    ("Sweep", "search_space"): (SW, (), FREE),
    ("Sweep", "sampling"): (SW, "random", FREE),
    ("Sweep", "seed"): (SW, 7, FREE),
    ("Sweep", "primary_metric"): (SW, "loss", FREE),
    ("Sweep", "goal"): (SW, "minimize", FREE),
    ("Sweep", "max_total_trials"): (SW, 3, FREE),
    ("Sweep", "max_concurrent_trials"): (SW, 2, FREE),
    ("Sweep", "timeout_s"): (SW, 60.0, FREE),
    ("Sweep", "trial_timeout_s"): (SW, 6.0, FREE),
    ("Sweep", "early_termination"): (SW, None, TREE),
    ("Sweep", "targets"): (SW, (("k", "k"),), FREE),
    ("Dimension", "name"): ((*SW, "search_space", 0), "k2", FREE),
    ("Dimension", "type"): ((*SW, "search_space", 0), "randint", FREE),
    ("Dimension", "args"): ((*SW, "search_space", 0), (("upper", 3),), FREE),
    ("Policy", "type"): ((*SW, "early_termination"), "median_stopping", FREE),
    ("Policy", "evaluation_interval"): ((*SW, "early_termination"), 2, FREE),
    ("Policy", "delay_evaluation"): ((*SW, "early_termination"), 2, FREE),
    ("Policy", "slack_factor"): ((*SW, "early_termination"), 0.5, FREE),
    ("Policy", "slack_amount"): ((*SW, "early_termination"), 0.5, FREE),
    ("Policy", "truncation_percentage"): ((*SW, "early_termination"), 20.0, FREE),
    ("Binding", "kind"): (("bindings", "word"), "none", KEY),
    ("Binding", "value"): (("bindings", "word"), "ho", KEY),
    ("Binding", "step"): (("bindings", "up"), "up2", KEY),
    ("Binding", "output"): (("bindings", "up"), "o2", KEY),
    ("Binding", "line"): (("bindings", "up"), 7, FREE),
    ("Module", "name"): (MOD, "other", FREE),
    ("Module", "version"): (MOD, "2", FREE),
    ("Module", "command"): (MOD, None, TREE),
    ("Module", "environment"): (MOD, None, TREE),
    ("Module", "code"): (MOD, None, TREE),
    ("Module", "inputs"): (MOD, "+port", KEY),
    ("Module", "outputs"): (MOD, "+port", KEY),
    ("Module", "parameters"): (MOD, "+param", KEY),
    ("Module", "namespace"): (MOD, "org/x", FREE),
    ("Module", "display_name"): (MOD, "Pretty", FREE),
    ("Module", "description"): (MOD, "said otherwise", FREE),
    ("Module", "tags"): (MOD, (("t", "2"),), FREE),
    ("Module", "is_deterministic"): (MOD, False, FREE),  # bypasses reuse instead
    ("Module", "job_type"): (MOD, "distributed", KEY),
    ("Module", "kind"): (MOD, "parallel", KEY),
    ("Module", "parallel"): (MOD, None, TREE),
    ("Module", "source"): (MOD, Path("/elsewhere/m.yml"), FREE),  # its content is keyed
    ("Module", "format"): (MOD, "v1", FREE),  # what it means is in command and interface
    ("Module", "func"): (MOD, print, FREE),  # its file is in the snapshot, the command names it
    ("Command", "style"): (CMD, "argv", KEY),
    ("Command", "items"): (CMD, (Text("python run.py"),), KEY),
    ("Text", "text"): ((*CMD, "items", 0), "python other.py ", KEY),
    ("Ref", "kind"): ((*CMD, "items", 1), "output", KEY),
    ("Ref", "name"): ((*CMD, "items", 1), "up", KEY),
    ("Group", "items"): ((*CMD, "items", 2), (Text(" -v"),), KEY),
    ("Environment", "kind"): (ENV, "build", KEY),
    ("Environment", "image"): (ENV, "img:2", KEY),
    ("Environment", "conda"): (ENV, {"dependencies": ["python=3.12"]}, KEY),
    ("Environment", "conda_file"): (ENV, "other.yml", FREE),  # its parsed content is keyed
    ("Environment", "pip"): (ENV, ("a==2",), KEY),
    ("Environment", "build_context"): (ENV, "ctx2", KEY),
    ("Environment", "dockerfile"): (ENV, "Dockerfile.gpu", KEY),
    ("Environment", "reference"): (ENV, "azureml:e:2", KEY),
    ("Environment", "variables"): (ENV, (("B", "1"),), KEY),
    ("Code", "root"): (CODE, "code2", KEY),
    ("Code", "includes"): (CODE, (), KEY),
    ("Code", "missing"): (CODE, "src", FAILS),
    ("Port", "name"): (DATA, "renamed", KEY),
    ("Port", "type"): (DATA, "uri_folder", KEY),  # a file became a folder; a name alone: FREE
    ("Port", "file"): (DATA, False, KEY),  # a registered custom type's kind
    ("Port", "optional"): (DATA, True, KEY),
    ("Port", "description"): (DATA, "other words", FREE),
    ("Parameter", "name"): (K, "k2", KEY),
    ("Parameter", "type"): (K, "number", KEY),
    ("Parameter", "default"): (K, 2, KEY),
    ("Parameter", "optional"): (K, True, KEY),
    ("Parameter", "description"): (K, "other words", FREE),
    ("Parameter", "min"): (K, 1, KEY),
    ("Parameter", "max"): (K, 9, KEY),
    ("Parameter", "enum"): (K, ("1", "2"), KEY),
    ("Parameter", "active_when"): (K, (), KEY),
    ("Condition", "parameter"): ((*K, "active_when", 0), "word", KEY),
    ("Condition", "value"): ((*K, "active_when", 0), "slow", KEY),
    ("Parallel", "input_data"): (PAR, ("up",), KEY),
    ("Parallel", "output_data"): (PAR, "out2", KEY),
    ("Parallel", "entry_script"): (PAR, "other.py", KEY),
    ("Parallel", "mini_batch_size"): (PAR, "2", KEY),
    ("Parallel", "settings"): (PAR, (("x", "2"),), KEY),
}


def model_fields() -> set[tuple[str, str]]:
    """(class, field) of Step and of every dataclass its field types reach."""
    found: set[tuple[str, str]] = set()
    todo, seen = [Step], set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            found.add((cls.__name__, f.name))
            todo += [t for t in _types_in(hints[f.name]) if dataclasses.is_dataclass(t)]
    return found


def _types_in(hint: Any) -> list[Any]:
    args = typing.get_args(hint)
    return [hint] + [t for a in args for t in _types_in(a)] if args else [hint]


def baseline(tmp: Path) -> tuple[Step, dict]:
    for rel, text in {
        "code/run.py": "print(1)\n",
        "code2/run.py": "print(2)\n",
        "inc/lib.py": "X = 1\n",
        "ctx/Dockerfile": "FROM a\n",
        "ctx2/Dockerfile": "FROM b\n",
        "data.csv": "x,1\n",
    }.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    module = Module(
        name="m",
        version="1",
        command=Command(
            "shell",
            (
                Text("python run.py "),
                Ref("input", "data"),
                Group((Text(" --k "), Ref("input", "k"))),
                Ref("output", "out"),
            ),
        ),
        environment=Environment(
            kind="image",
            image="img:1",
            conda={"dependencies": ["python=3.11"]},
            conda_file="env.yml",
            pip=("a==1",),
            build_context=str(tmp / "ctx"),
            dockerfile="Dockerfile",
            reference="azureml:e:1",
            variables=(("A", "1"),),
        ),
        code=Code(root=tmp / "code", includes=((tmp / "inc", "lib"),)),
        inputs=(Port("data", "uri_file"), Port("up", "uri_folder")),
        outputs=(Port("out", "uri_folder"),),
        parameters=(
            Parameter("mode", "enum", default="fast", enum=("fast", "slow")),
            Parameter("k", "integer", 1, min=0, max=10, active_when=(Condition("mode", "fast"),)),
            Parameter("word", "string"),
        ),
        tags=(("t", "1"),),
        parallel=Parallel(("data",), "out", "entry.py", "1", (("x", "1"),)),
        source=tmp / "m.yml",
    )
    step = Step(
        name="s",
        module=module,
        bindings={
            "data": Binding("path", str(tmp / "data.csv")),
            "up": Binding("step", step="up", output="o"),
            "mode": Binding("literal", "fast"),
            "word": Binding("literal", "hi"),
        },
        source=tmp / "p.yml",
        env_vars={"A": "3"},
        sweep=Sweep(
            search_space=(Dimension("k", "choice", (("values", [1, 2]),)),),
            sampling="grid",
            seed=None,
            primary_metric="m",
            goal="maximize",
            early_termination=Policy("bandit", slack_factor=0.1),
        ),
    )
    tree = {"is_file": False}
    upstream = {
        "up": {
            "outputs": {
                "o": {**tree, "entries": {"a": ["h1", 1, 0o644]}},
                "o2": {**tree, "entries": {"a": ["h2", 1, 0o644]}},
            }
        },
        "up2": {"outputs": {"o": {**tree, "entries": {"a": ["h3", 1, 0o644]}}}},
    }
    return step, upstream


def parts(step: Step, upstream: dict):
    backend = SimpleNamespace(name="fake", environment_identity=lambda env: "fake-python")
    return KeyCalculator(StatCache(None)).parts(step, backend, upstream)


def edit(obj: Any, path: tuple, value: Any) -> Any:
    """``obj`` with the item at ``path`` (attributes, indexes, keys) replaced by ``value``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if dataclasses.is_dataclass(obj):
        return dataclasses.replace(obj, **{head: edit(getattr(obj, head), rest, value)})
    if isinstance(obj, tuple):
        return tuple(edit(x, rest, value) if i == head else x for i, x in enumerate(obj))
    return {**obj, head: edit(obj[head], rest, value)}


def perturbed(step: Step, tmp: Path, where: tuple, field: str, value: Any) -> Step:
    current = step
    for p in where:
        current = getattr(current, p) if dataclasses.is_dataclass(current) else current[p]
    if value in ("ctx2", "code2"):
        value = tmp / value if field == "root" else str(tmp / value)
    elif value == "+port":
        value = (*getattr(current, field), Port("extra", "uri_folder", optional=True))
    elif value == "+param":
        value = (*getattr(current, field), Parameter("extra", "string", default="e"))
    return edit(step, (*where, field), value)


def test_every_field_of_the_step_model_is_classified():
    assert model_fields() == set(FIELDS), "classify new fields in FIELDS (and docs/reuse.md)"


@pytest.mark.parametrize(
    "name", [n for n, (_, _, how) in FIELDS.items() if how != TREE], ids=".".join
)
def test_perturbing_a_field_changes_the_key_exactly_when_the_command_can_observe_it(tmp_path, name):
    step, upstream = baseline(tmp_path)
    before = parts(step, upstream)
    where, value, how = FIELDS[name]
    changed = perturbed(step, tmp_path, where, name[1], value)
    if how == FAILS:
        with pytest.raises(SpecError):
            parts(changed, upstream)
        return
    after = parts(changed, upstream)
    assert (after.key != before.key) == (how == KEY), (before.as_dict(), after.as_dict())


def test_no_key_component_holds_a_local_path(tmp_path):
    step, upstream = baseline(tmp_path)
    assert str(tmp_path) not in json.dumps(parts(step, upstream).as_dict())
