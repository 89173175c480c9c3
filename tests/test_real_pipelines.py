"""Real pipelines as they are: job-level ``--set``, any step output on disk (``--output
STEP.outputs.X``, ``amlrun runs outputs``), pipeline components validated as definitions."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "rows.csv").write_text("a,10\n")
    return tmp_path


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_set_binds_a_job_input_to_other_data_and_reruns_only_what_reads_it(ws: Path) -> None:
    run_json("pipeline.yml", cwd=ws)
    moved = run_json("pipeline.yml", "--set", "jobs.prep.inputs.raw=./other", cwd=ws)
    assert statuses(moved) == {"prep": "ran", "train": "ran", "report": "ran", "side": "reused"}
    run_json("pipeline.yml", "--set", "jobs.prep.inputs.raw=./other", "-o", "final=out", cwd=ws)
    assert (ws / "out" / "report.md").read_text() == "# report\nsum=20\n"


def test_set_a_job_input_path_and_a_literal_as_az_ml_does(ws: Path) -> None:
    args = ("--set", "jobs.prep.inputs.raw.path=other", "--set", "jobs.train.inputs.epochs=3")
    run_json("pipeline.yml", *args, "-o", "final=out", cwd=ws)
    assert (ws / "out" / "report.md").read_text() == "# report\nsum=60\n"


def test_set_a_job_compute_is_where_the_step_runs(ws: Path) -> None:
    proc = amlrun("run", "pipeline.yml", "--set", "jobs.train.compute=gpu-box", cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert "compute 'gpu-box' runs on the local backend" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("jobs.nope.inputs.raw=./other", "the pipeline has no job 'nope'"),
        ("jobs.prep.limits.timeout=3", "cannot set 'jobs.prep.limits.timeout'"),
        ("jobs.prep.inputs.factor=./other", "parameter 'factor' (integer) is bound to data"),
    ],
)
def test_a_job_level_set_that_cannot_apply_names_the_field_and_fix(
    ws: Path, key: str, said: str
) -> None:
    proc = amlrun("run", "pipeline.yml", "--set", key, cwd=ws)
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr
    assert "Fix:" in proc.stderr and "Traceback" not in proc.stderr


def test_output_materializes_a_step_output_that_is_not_a_pipeline_output(ws: Path) -> None:
    result = run_json("pipeline.yml", "--output", "prep.outputs.clean=clean", cwd=ws)
    assert result["outputs"]["prep.outputs.clean"] == str(ws / "clean")
    assert (ws / "clean" / "clean.csv").read_text() == "a,2\nb,4\nc,6\n"


def test_output_of_a_step_obeys_the_destination_rules(ws: Path) -> None:
    mine = ws / "clean" / "mine.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    proc = amlrun("run", "pipeline.yml", "--output", "prep.outputs.clean=clean", cwd=ws)
    assert proc.returncode == 2 and "--force-output" in proc.stderr, proc.stderr
    assert mine.read_text() == "keep me"
    assert not (ws / ".amlrun" / "cache" / "steps").exists()  # refused before any step ran


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("prep.outputs.nope", "step 'prep' has no output 'nope'"),
        ("nope.outputs.clean", "the pipeline has no step 'nope'"),
        ("nope", "STEP.outputs.NAME"),
    ],
)
def test_an_unknown_step_output_is_refused_with_the_names(ws: Path, name: str, said: str) -> None:
    proc = amlrun("run", "pipeline.yml", "--output", f"{name}=x", cwd=ws)
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr


def test_output_of_a_v1_step(tmp_path: Path) -> None:
    _write(tmp_path, "steps/count.py", """
        import sys, pathlib
        pathlib.Path(sys.argv[1], "n.txt").write_text("3")
    """)  # fmt: skip
    _write(tmp_path, "pipeline.yml", """
        pipeline:
          steps:
            Count:
              type: PythonScriptStep
              script_name: count.py
              source_directory: steps
              arguments: [output:counted]
              outputs:
                counted: {destination: counted_data}
    """)  # fmt: skip
    (tmp_path / ".git").mkdir()
    run_json("pipeline.yml", "--output", "Count.outputs.counted=got", cwd=tmp_path)
    assert (tmp_path / "got" / "n.txt").read_text() == "3"


def test_runs_outputs_lists_and_materializes_every_step_output(ws: Path) -> None:
    told = amlrun("run", "pipeline.yml", cwd=ws, check=True).stderr
    first = re.search(r"every step's outputs: amlrun runs outputs (\S+) \[STEP\] -o DIR", told)
    assert first is not None, told
    run_id = run_json("pipeline.yml", cwd=ws)["run_id"]  # all reused: still listed
    assert amlrun("runs", "outputs", first[1], cwd=ws, check=True).stdout.count("\n") == 5
    listed = amlrun("runs", "outputs", run_id, cwd=ws, check=True).stdout.splitlines()
    assert listed[0].split() == ["STEP", "OUTPUT", "KEY", "FILES", "SIZE"]
    assert [line.split()[:2] for line in listed[1:]] == [
        ["prep", "clean"],
        ["train", "model"],
        ["report", "out"],
        ["side", "o"],
    ]
    amlrun("runs", "outputs", run_id, "-o", "dump", cwd=ws, check=True)
    assert (ws / "dump" / "prep" / "clean" / "clean.csv").read_text() == "a,2\nb,4\nc,6\n"
    assert (ws / "dump" / "side" / "o").read_text() == "hihihi"
    again = amlrun("runs", "outputs", run_id, "-o", "dump", cwd=ws)  # what amlrun wrote
    assert again.returncode == 0, again.stderr


def test_runs_outputs_of_one_step_never_replaces_user_files(ws: Path) -> None:
    run_id = run_json("pipeline.yml", cwd=ws)["run_id"]
    mine = ws / "dump" / "train" / "model" / "mine.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("keep me")
    proc = amlrun("runs", "outputs", run_id, "train", "-o", "dump", cwd=ws)
    assert proc.returncode == 2 and "--force-output" in proc.stderr, proc.stderr
    assert mine.read_text() == "keep me"
    amlrun("runs", "outputs", run_id, "prep", "-o", "dump", cwd=ws, check=True)
    assert not (ws / "dump" / "train" / "model" / "model.txt").exists()  # only prep's
    forced = ("runs", "outputs", run_id, "train", "-o", "dump", "--force-output")
    amlrun(*forced, cwd=ws, check=True)
    assert (ws / "dump" / "train" / "model" / "model.txt").read_text() == "sum=12\n"


def test_runs_outputs_of_an_unknown_step_or_run_is_a_clear_error(ws: Path) -> None:
    run_id = run_json("pipeline.yml", cwd=ws)["run_id"]
    for args in ((run_id, "nope"), ("no-such-run",)):
        proc = amlrun("runs", "outputs", *args, cwd=ws)
        assert proc.returncode == 2 and "Fix:" in proc.stderr, proc.stderr


COMPONENT = """
    $schema: https://azuremlschemas.azureedge.net/latest/pipelineComponent.schema.json
    type: pipeline
    name: prep_only
    inputs:
      raw: {type: uri_folder}
      factor: {type: integer}
    outputs:
      clean: {type: uri_folder}
    jobs:
      prep:
        component: ./prep/prep.yml
        inputs:
          raw: ${{parent.inputs.raw}}
          factor: ${{parent.inputs.factor}}
        outputs:
          clean: ${{parent.outputs.clean}}
"""


def test_a_pipeline_component_validates_as_a_definition(ws: Path) -> None:
    _write(ws, "prep_only.yml", COMPONENT)
    proc = amlrun("module", "validate", "prep_only.yml", cwd=ws)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("ok ") and "pipeline prep_only (1 steps)" in proc.stdout


def test_a_pipeline_component_run_without_its_inputs_is_refused(ws: Path) -> None:
    _write(ws, "prep_only.yml", COMPONENT)
    proc = amlrun("run", "prep_only.yml", cwd=ws)
    assert proc.returncode == 2, proc.stderr
    assert "required input 'raw' is bound to pipeline input 'raw', which has no value" in (
        proc.stderr
    )
    assert "--set inputs.raw=VALUE" in proc.stderr
    given = ("--set", "raw=./other", "--set", "factor=3", "-o", "clean=out")
    run_json("prep_only.yml", *given, cwd=ws)
    assert (ws / "out" / "clean.csv").read_text() == "a,30\n"


def test_a_pipeline_job_still_needs_its_input_values_to_validate(ws: Path) -> None:
    job = COMPONENT.replace("pipelineComponent", "pipelineJob")
    _write(ws, "job.yml", job)
    proc = amlrun("module", "validate", "job.yml", cwd=ws)
    assert proc.returncode == 2 and "pipeline input 'raw', which has no value" in proc.stdout


def test_runs_outputs_says_which_results_left_the_store(ws: Path) -> None:
    run_id = run_json("pipeline.yml", cwd=ws)["run_id"]
    amlrun("cache", "gc", "--older-than-days", "0", cwd=ws, check=True)
    proc = amlrun("runs", "outputs", run_id, cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert "note: the result of prep is no longer in the store" in proc.stderr
