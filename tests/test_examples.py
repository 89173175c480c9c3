"""End-to-end tests of examples/ through the ``amlrun`` CLI, each in a copy under tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PIPELINE_STEPS = ["prepare", "train", "score", "evaluate"]


def amlrun(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the CLI on this interpreter with the workspace pinned to ``cwd``."""
    cmd = [sys.executable, "-c", "from amlrun.cli.main import main; main()", *args]
    env = {**os.environ, "AMLRUN_WORKSPACE": str(cwd)}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail(
            f"amlrun {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def copy_example(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name.replace("/", "_")
    shutil.copytree(EXAMPLES / name, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".amlrun").mkdir(exist_ok=True)
    return dest


# ------------------------------------------------------------------ v1 module spec


def run_v1(tmp_path: Path, out: str, *extra: str) -> dict:
    ex = copy_example("modules/v1-nested-optional", tmp_path)
    amlrun("module", "run", "-q", str(ex / "module_spec.yaml"),
           "--input", f"Scored items={ex / 'data' / 'scored'}",
           "--output", f"Selected items={tmp_path / out}", *extra, cwd=tmp_path)  # fmt: skip
    return json.loads((tmp_path / out / "args.json").read_text())


def test_v1_module_defaults_keep_active_groups_only(tmp_path: Path) -> None:
    report = run_v1(tmp_path, "a")
    # Selection mode defaults to "Top k": its sub-parameters have defaults, so their
    # groups are present; the Threshold branch, the optional port and Label are absent.
    assert report["argv"] == [
        "--scored-items", "<path>", "--mode", "Top k", "--top-k", "3",
        "--sort-order", "Descending", "--round-scores", "False", "--output", "<path>",
    ]  # fmt: skip
    assert report["selected"] == ["apple", "grape", "cherry"]
    assert (tmp_path / "a" / "selected.csv").read_text().splitlines()[1] == "apple,0.910,"


def test_v1_module_other_branch_and_optional_port(tmp_path: Path) -> None:
    ex = EXAMPLES / "modules" / "v1-nested-optional"
    report = run_v1(tmp_path, "b",
                    "--input", f"Blocked items={ex / 'data' / 'blocked'}",
                    "--param", "Selection mode=Threshold", "--param", "Minimum score=0.6",
                    "--param", "Label=good", "--param", "Round scores=true")  # fmt: skip
    assert report["options"] == [
        "--blocked-items", "--label", "--min-score", "--mode", "--output",
        "--round-scores", "--scored-items",
    ]  # fmt: skip
    assert "--top-k" not in report["argv"] and "--sort-order" not in report["argv"]
    assert report["argv"][report["argv"].index("--min-score") + 1] == "0.6"
    assert report["selected"] == ["apple", "elderberry", "grape"]  # cherry is blocked


def test_v1_module_threshold_without_value_drops_block_group(tmp_path: Path) -> None:
    report = run_v1(tmp_path, "c", "--param", "Selection mode=Threshold")
    assert report["options"] == ["--mode", "--output", "--round-scores", "--scored-items"]
    assert len(report["selected"]) == 7


def test_v1_module_rejects_inactive_sub_parameter(tmp_path: Path) -> None:
    ex = copy_example("modules/v1-nested-optional", tmp_path)
    proc = amlrun("module", "run", str(ex / "module_spec.yaml"),
                  "--input", f"Scored items={ex / 'data' / 'scored'}",
                  "--param", "Selection mode=All", "--param", "Top k=2",
                  cwd=tmp_path, check=False)  # fmt: skip
    assert proc.returncode != 0
    assert "Top k" in proc.stderr and "only applies" in proc.stderr


# ------------------------------------------------------------------ v2 command component


def run_v2(tmp_path: Path, out: str, *extra: str) -> tuple[dict, str]:
    ex = copy_example("modules/v2-component", tmp_path)
    amlrun("module", "run", "-q", str(ex / "word_count.yml"),
           "--input", f"text={ex / 'data' / 'text.txt'}",
           "--output", f"counts={tmp_path / out}", *extra, cwd=tmp_path)  # fmt: skip
    folder = tmp_path / out
    return json.loads((folder / "args.json").read_text()), (folder / "counts.csv").read_text()


def test_v2_component_defaults(tmp_path: Path) -> None:
    report, counts = run_v2(tmp_path, "a")
    # min_count is optional with a default: its group stays; top_n, stopwords and the
    # key=value lowercase group have no value and are dropped.
    assert report["argv"] == [
        "--text", "<path>", "--min_count", "1", "--separator", ",", "--counts", "<path>",
    ]  # fmt: skip
    assert report["extra"] == {}
    assert counts.splitlines()[:3] == ["word,count", "the,4", "dog,3"]


def test_v2_component_all_optional_groups(tmp_path: Path) -> None:
    ex = EXAMPLES / "modules" / "v2-component"
    report, counts = run_v2(tmp_path, "b",
                            "--input", f"stopwords={ex / 'data' / 'stopwords.txt'}",
                            "--param", "top_n=3", "--param", "min_count=2",
                            "--param", "lowercase=true", "--param", "separator=; ")  # fmt: skip
    assert report["argv"] == [
        "--text", "<path>", "--stopwords", "<path>", "--min_count", "2", "--top_n", "3",
        "--separator", "; ", "--counts", "<path>", "lowercase=True",
    ]  # fmt: skip
    assert counts == "word; count\ndog; 4\nfox; 4\nlazy; 2\n"


def test_v2_component_output_is_reproducible(tmp_path: Path) -> None:
    first = run_v2(tmp_path, "a", "--param", "top_n=5")
    shutil.rmtree(tmp_path / "modules_v2-component")
    assert run_v2(tmp_path, "b", "--param", "top_n=5") == first


# ------------------------------------------------------------------ sklearn pipeline


def run_pipeline(ws: Path, target: str, *extra: str) -> dict[str, str]:
    """``amlrun run TARGET --json``; returns {step: status} after checking the JSON shape."""
    proc = amlrun("run", target, "--json", *extra, cwd=ws)
    result = json.loads(proc.stdout)
    assert result["run_id"]
    for step in result["steps"]:
        assert {"name", "status", "key", "duration_s", "reason"} <= set(step)
    return {s["name"]: s["status"] for s in result["steps"]}


def statuses(**by_status: list[str]) -> dict[str, str]:
    return {name: status for status, names in by_status.items() for name in names}


def test_sklearn_pipeline_incremental(tmp_path: Path) -> None:
    ex = copy_example("sklearn-pipeline", tmp_path)
    pipeline = str(ex / "pipeline.yml")
    metrics_out = tmp_path / "metrics"

    # 1. cold: every step runs; metrics.json is materialized where --output asked
    first = run_pipeline(tmp_path, pipeline, "--output", f"metrics={metrics_out}")
    assert first == statuses(ran=PIPELINE_STEPS)
    assert len(list((tmp_path / ".amlrun" / "cache" / "steps").glob("*.json"))) == 4
    metrics = json.loads((metrics_out / "metrics.json").read_text())
    assert metrics["n_test"] == 143 and 0.85 < metrics["accuracy"] <= 1.0
    metrics_bytes = (metrics_out / "metrics.json").read_bytes()

    # 2. null rerun: everything reused, same bytes restored
    shutil.rmtree(metrics_out)
    assert run_pipeline(tmp_path, pipeline, "--output", f"metrics={metrics_out}") == statuses(
        reused=PIPELINE_STEPS
    )
    assert (metrics_out / "metrics.json").read_bytes() == metrics_bytes
    assert amlrun("status", pipeline, cwd=tmp_path).returncode == 0

    # 3. a comment in train.py reruns train; its model bytes are identical, so score and
    #    evaluate stay reused (early cutoff)
    with open(ex / "train" / "src" / "train.py", "a") as f:
        f.write("# a comment changes the snapshot, not the model\n")
    assert run_pipeline(tmp_path, pipeline) == statuses(
        reused=["prepare", "score", "evaluate"], ran=["train"]
    )

    # 4. a new parameter value reruns train and everything downstream, not prepare
    assert run_pipeline(tmp_path, pipeline, "--set", "inputs.n_estimators=80") == statuses(
        reused=["prepare"], ran=["train", "score", "evaluate"]
    )
    # ... and going back to the default reuses the earlier entries
    assert run_pipeline(tmp_path, pipeline) == statuses(reused=PIPELINE_STEPS)

    # 5. --force reruns one step even though its key is cached
    forced = run_pipeline(tmp_path, pipeline, "--force", "evaluate")
    assert forced == statuses(reused=["prepare", "train", "score"], ran=["evaluate"])


def test_sklearn_dry_run_runs_nothing(tmp_path: Path) -> None:
    ex = copy_example("sklearn-pipeline", tmp_path)
    proc = amlrun("run", str(ex / "pipeline.yml"), "--dry-run", "--json", cwd=tmp_path)
    plan = {s["name"]: s["status"] for s in json.loads(proc.stdout)["steps"]}
    # prepare's key is known and absent; the others depend on outputs not made yet
    assert plan == statuses(**{"would-run": ["prepare"], "unknown": PIPELINE_STEPS[1:]})
    assert not list((tmp_path / ".amlrun").glob("cache/steps/*.json"))
    assert not list(ex.rglob("*.csv")) and not list(ex.rglob("metrics.json"))


def test_sklearn_dsl_shares_steps_with_yaml(tmp_path: Path) -> None:
    ex = copy_example("sklearn-pipeline", tmp_path)
    dsl = run_pipeline(tmp_path, str(ex / "pipeline_dsl.py"))
    assert sorted(dsl.values()) == ["ran"] * 4
    # same components, inputs and parameters: the YAML spelling reuses every step
    assert set(run_pipeline(tmp_path, str(ex / "pipeline.yml")).values()) == {"reused"}
    # running the file as a script goes through the same engine and store
    env = {**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(ex / "pipeline_dsl.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "4 reused" in proc.stdout


def test_sklearn_sweep_runs_6_trials_evaluates_the_best_and_reuses_them(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    ex = copy_example("sklearn-pipeline", tmp_path)
    trials = [f"sweep_train/trial_{i}" for i in range(6)]
    steps = ["prepare", "sweep_train", "score", "evaluate"]
    first = run_pipeline(tmp_path, str(ex / "sweep.yml"), "--output", f"metrics={tmp_path}/m")
    assert first == statuses(ran=[*steps, *trials])
    assert json.loads((tmp_path / "m/metrics.json").read_text())["accuracy"] > 0.9
    # the sweep's pipeline shares prepare with pipeline.yml; a rerun reuses every trial
    assert run_pipeline(tmp_path, str(ex / "sweep.yml")) == statuses(reused=[*steps, *trials])
