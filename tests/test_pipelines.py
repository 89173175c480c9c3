"""Pipeline sources beyond v2 YAML: corpus planning, v1 YAML, nesting, the DSL, run records."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.test_spec_corpus import PIPELINES


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip())
    (root / ".git").mkdir(exist_ok=True)


@pytest.mark.parametrize("spec", PIPELINES, ids=lambda p: p.name + str(hash(p) % 1000))
def test_every_corpus_pipeline_plans_with_dry_run(spec, tmp_path):
    proc = amlrun("run", str(spec), "--dry-run", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["steps"]
    for step in plan["steps"]:
        assert step["status"] in ("would-run", "blocked", "unknown"), step
        if step["status"] == "blocked":  # cloud-only parts are named precisely
            assert step["reason"]


def test_cloud_only_parts_are_reported_precisely(corpus, tmp_path):
    spec = corpus / "v2_azureml_examples/cli/jobs/pipelines-with-components/basics"
    spec = spec / "1b_e2e_registered_components/pipeline.yml"
    plan = json.loads(amlrun("run", str(spec), "--dry-run", "--json", cwd=tmp_path).stdout)
    reasons = {s["name"]: s["reason"] for s in plan["steps"]}
    assert "component azureml:my_train@latest is an Azure ML asset" in reasons["train_job"]
    proc = amlrun("run", str(spec), cwd=tmp_path)
    assert proc.returncode == 2 and "cannot run locally" in proc.stderr


def test_corpus_pipeline_with_missing_code_names_the_folder(corpus, tmp_path):
    spec = corpus / "v2_azureml_examples/cli/jobs/pipelines-with-components/basics"
    plan = json.loads(amlrun("status", str(spec / "1a_e2e_local_components/pipeline.yml"),
                             "--json", cwd=tmp_path).stdout)  # fmt: skip
    train = next(s for s in plan["steps"] if s["name"] == "train_job")
    assert (
        train["status"] == "blocked" and "code folder ./train_src does not exist" in train["reason"]
    )


def test_corpus_hello_pipeline_runs_unchanged(corpus, tmp_path):
    spec = corpus / "v2_azureml_examples/cli/jobs/basics/hello-pipeline-io.yml"
    result = run_json(str(spec), cwd=tmp_path)
    assert statuses(result) == {"hello_job": "ran", "world_job": "ran"}
    log = amlrun("runs", "logs", result["run_id"], "world_job", cwd=tmp_path, check=True).stdout
    assert log.strip() == "world"
    assert set(statuses(run_json(str(spec), cwd=tmp_path)).values()) == {"reused"}


def test_v1_pipeline_yaml_runs_with_destination_source_wiring(tmp_path):
    _write(tmp_path, {
        "data/in.txt": "3\n",
        "steps/prep.py": """
            import sys, pathlib
            args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
            n = int(pathlib.Path(args["--in"], "in.txt").read_text()) * int(args["--k"])
            pathlib.Path(args["--out"], "n.txt").write_text(str(n))
        """,
        "steps/use.py": """
            import sys, pathlib
            n = pathlib.Path(sys.argv[1], "n.txt").read_text()
            pathlib.Path(sys.argv[2], "final.txt").write_text("final " + n)
        """,
        "pipeline.yml": """
            pipeline:
              description: v1 test
              default_compute: cpu-cluster
              parameters:
                K: {type: int, default: 2}
              data_references:
                raw: {datastore: localstore, path_on_datastore: data}
              steps:
                Prep:
                  type: PythonScriptStep
                  name: prep
                  script_name: prep.py
                  source_directory: steps
                  arguments: [--in, input:raw_in, --k, parameter:k, --out, output:prepped]
                  parameters:
                    k: {source: K}
                  inputs:
                    raw_in: {source: raw}
                  outputs:
                    prepped: {destination: prepped_data}
                Use:
                  type: PythonScriptStep
                  script_name: use.py
                  source_directory: steps
                  allow_reuse: false
                  arguments: [input:n, output:final]
                  inputs:
                    n: {source: prepped_data}
                  outputs:
                    final: {destination: final_data}
        """,
        ".amlrun/config.yaml": f"datastores:\n  localstore: {tmp_path}\n",
    })  # fmt: skip
    first = run_json(str(tmp_path / "pipeline.yml"), cwd=tmp_path)
    assert statuses(first) == {"Prep": "ran", "Use": "ran"}
    second = run_json(str(tmp_path / "pipeline.yml"), "--set", "K=5", cwd=tmp_path)
    assert statuses(second) == {"Prep": "ran", "Use": "ran"}
    third = run_json(str(tmp_path / "pipeline.yml"), "--set", "K=5", cwd=tmp_path)
    assert statuses(third) == {"Prep": "reused", "Use": "ran"}  # allow_reuse: false


def test_unmapped_datastore_is_a_precise_error(tmp_path):
    _write(tmp_path, {"pipeline.yml": """
        pipeline:
          data_references:
            raw: {datastore: blobs, path_on_datastore: x}
          steps:
            S:
              script_name: s.py
              arguments: [input:i]
              inputs: {i: {source: raw}}
    """})  # fmt: skip
    proc = amlrun("run", str(tmp_path / "pipeline.yml"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "datastore 'blobs' is not mapped to a local folder" in proc.stderr


NESTED = {
    "echo.yml": """
        type: command
        name: echo
        inputs:
          text: {type: string}
          prev: {type: uri_folder, optional: true}
        outputs:
          out: {type: uri_folder}
        command: >-
          echo ${{inputs.text}} > ${{outputs.out}}/t.txt
          $[[&& cat ${{inputs.prev}}/t.txt >> ${{outputs.out}}/t.txt]]
    """,
    "inner.yml": """
        $schema: https://azuremlschemas.azureedge.net/latest/pipelineComponent.schema.json
        type: pipeline
        name: inner
        inputs:
          word: {type: string}
          upstream: {type: uri_folder}
        outputs:
          result: {type: uri_folder}
        jobs:
          one:
            component: ./echo.yml
            inputs: {text: "${{parent.inputs.word}}", prev: "${{parent.inputs.upstream}}"}
          two:
            component: ./echo.yml
            inputs: {text: two, prev: "${{parent.jobs.one.outputs.out}}"}
            outputs: {out: "${{parent.outputs.result}}"}
    """,
    "outer.yml": """
        type: pipeline
        inputs:
          w: hello
        outputs:
          final: {type: uri_folder}
        jobs:
          start:
            component: ./echo.yml
            inputs: {text: start}
          sub:
            type: pipeline
            component: ./inner.yml
            inputs: {word: "${{parent.inputs.w}}", upstream: "${{parent.jobs.start.outputs.out}}"}
          end:
            component: ./echo.yml
            inputs: {text: end, prev: "${{parent.jobs.sub.outputs.result}}"}
            outputs: {out: "${{parent.outputs.final}}"}
    """,
}


def test_nested_pipeline_components_flatten_and_wire_through(tmp_path):
    _write(tmp_path, NESTED)
    out = tmp_path / "final"
    result = run_json(str(tmp_path / "outer.yml"), "--output", f"final={out}", cwd=tmp_path)
    assert statuses(result) == {"start": "ran", "sub/one": "ran", "sub/two": "ran", "end": "ran"}
    assert (out / "t.txt").read_text().split() == ["end", "two", "hello", "start"]
    again = run_json(str(tmp_path / "outer.yml"), "--set", "inputs.w=bye", cwd=tmp_path)
    assert statuses(again) == {"start": "reused", "sub/one": "ran", "sub/two": "ran", "end": "ran"}


@pytest.mark.parametrize(
    "broken,message",
    [
        ("${{parent.jobs.nope.outputs.out}}", "refers to unknown step 'nope'"),
        ("${{parent.jobs.start.outputs.missing}}", "step 'start' has no output 'missing'"),
    ],
)
def test_dangling_bindings_are_errors_naming_file_and_line(tmp_path, broken, message):
    _write(tmp_path, {"echo.yml": NESTED["echo.yml"], "p.yml": f"""
        type: pipeline
        jobs:
          start:
            component: ./echo.yml
            inputs: {{text: a}}
          next:
            component: ./echo.yml
            inputs:
              text: b
              prev: {broken}
    """})  # fmt: skip
    proc = amlrun("run", str(tmp_path / "p.yml"), cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr
    assert "p.yml:10:" in proc.stderr


def test_a_cycle_is_an_error_before_anything_runs(tmp_path):
    _write(tmp_path, {"echo.yml": NESTED["echo.yml"], "p.yml": """
        type: pipeline
        jobs:
          a:
            component: ./echo.yml
            inputs: {text: a, prev: "${{parent.jobs.b.outputs.out}}"}
          b:
            component: ./echo.yml
            inputs: {text: b, prev: "${{parent.jobs.a.outputs.out}}"}
    """})  # fmt: skip
    proc = amlrun("run", str(tmp_path / "p.yml"), cwd=tmp_path)
    assert proc.returncode == 2 and "the pipeline has a cycle: a -> b -> a" in proc.stderr
    assert not (tmp_path / ".amlrun/cache/steps").exists()


def test_port_type_mismatch_is_an_error(tmp_path):
    _write(tmp_path, {"echo.yml": NESTED["echo.yml"], "f.yml": """
        type: command
        name: f
        outputs: {o: {type: uri_file}}
        command: echo x > ${{outputs.o}}
    """, "p.yml": """
        type: pipeline
        jobs:
          f: {component: ./f.yml}
          e:
            component: ./echo.yml
            inputs: {text: x, prev: "${{parent.jobs.f.outputs.o}}"}
    """})  # fmt: skip
    proc = amlrun("run", str(tmp_path / "p.yml"), cwd=tmp_path)
    assert (
        proc.returncode == 2
        and "f.outputs.o (uri_file) cannot feed e.inputs.prev, which accepts uri_folder"
        in proc.stderr
    )


def test_dsl_pipeline_nests_and_runs_from_the_cli(tmp_path):
    _write(tmp_path, {"echo.yml": NESTED["echo.yml"], "flow.py": """
        from pathlib import Path
        import amlrun

        echo = amlrun.load_module(Path(__file__).parent / "echo.yml")

        @amlrun.pipeline()
        def inner(word: str, upstream):
            one = echo(text=word, prev=upstream)
            return {"result": echo(text="two", prev=one.outputs.out).outputs.out}

        @amlrun.pipeline(name="flow")
        def flow(w: str = "hello"):
            start = echo(text="start")
            sub = inner(word=w, upstream=start.outputs.out)
            return {"final": echo(text="end", prev=sub.outputs.result).outputs.out}
    """})  # fmt: skip
    out = tmp_path / "final"
    result = run_json(str(tmp_path / "flow.py"), "--output", f"final={out}", cwd=tmp_path)
    assert set(statuses(result)) == {"echo", "inner/echo", "inner/echo_2", "echo_2"}
    assert (out / "t.txt").read_text().split() == ["end", "two", "hello", "start"]
    again = run_json(str(tmp_path / "flow.py"), "--set", "w=bye", cwd=tmp_path)
    assert statuses(again)["echo"] == "reused" and statuses(again)["inner/echo"] == "ran"


def test_runs_are_recorded_and_listed(tmp_path):
    _write(tmp_path, {"echo.yml": NESTED["echo.yml"], "p.yml": """
        type: pipeline
        jobs:
          a: {component: ./echo.yml, inputs: {text: hi}}
    """})  # fmt: skip
    result = run_json(str(tmp_path / "p.yml"), cwd=tmp_path)
    listing = amlrun("runs", "list", cwd=tmp_path, check=True).stdout
    assert result["run_id"] in listing and "succeeded" in listing
    shown = amlrun("runs", "show", result["run_id"][-6:], cwd=tmp_path, check=True).stdout
    assert "ran" in shown and " a " in shown
