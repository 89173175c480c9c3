"""Complete keys: whatever the command can observe reruns the step when it changes.

Each test drives the real CLI on a small workspace whose one step writes what it observed
(environment variables, its input's file name) into a pipeline output.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

from tests.helpers import amlrun, run_json, statuses, write_workspace

FILES = {
    "show/show.yml": """
        type: command
        name: show
        inputs:
          data: {type: uri_file}
        outputs:
          o: {type: uri_folder}
        code: ./src
        environment_variables: {GREETING: hello}
        command: python show.py ${{inputs.data}} ${{outputs.o}}
    """,
    "show/src/show.py": """
        import os, sys, pathlib
        env = os.environ.get
        seen = [env("GREETING"), env("TARGET"), pathlib.Path(sys.argv[1]).name]
        pathlib.Path(sys.argv[2], "seen.txt").write_text(" ".join(map(str, seen)))
    """,
    "data/a.csv": "x,1\n",
    "pipeline.yml": """
        type: pipeline
        inputs:
          data: {type: uri_file, path: ./data/a.csv}
        outputs:
          final: {type: uri_folder, path: ./result}
        jobs:
          show:
            component: ./show/show.yml
            environment_variables: {TARGET: world}
            inputs:
              data: ${{parent.inputs.data}}
            outputs:
              o: ${{parent.outputs.final}}
    """,
}


def make_ws(root: Path) -> Path:
    write_workspace(root, FILES)
    return root


def run(ws: Path) -> tuple[str, str]:
    """(status of the step, what the command saw)."""
    result = run_json(str(ws / "pipeline.yml"), cwd=ws)
    return statuses(result)["show"], (ws / "result/seen.txt").read_text()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def status(ws: Path) -> str:
    return amlrun("status", str(ws / "pipeline.yml"), cwd=ws, check=True).stdout


def test_component_and_node_environment_variables_reach_the_command(tmp_path):
    ws = make_ws(tmp_path)
    assert run(ws) == ("ran", "hello world a.csv")
    edit(ws / "pipeline.yml", "{TARGET: world}", "{TARGET: world, GREETING: hi}")
    assert run(ws) == ("ran", "hi world a.csv")  # the node overrides the component


def test_changing_a_node_environment_variable_reruns_the_step_and_status_names_it(tmp_path):
    ws = make_ws(tmp_path)
    run(ws)
    edit(ws / "pipeline.yml", "TARGET: world", "TARGET: moon")
    assert "environment variable TARGET changed" in status(ws)
    assert run(ws) == ("ran", "hello moon a.csv")
    assert run(ws)[0] == "reused"


def test_changing_a_component_environment_variable_reruns_the_step(tmp_path):
    ws = make_ws(tmp_path)
    run(ws)
    edit(ws / "show/show.yml", "GREETING: hello", "GREETING: howdy")
    assert "environment variable GREETING changed" in status(ws)
    assert run(ws) == ("ran", "howdy world a.csv")


def test_renaming_a_file_input_reruns_the_step_that_sees_its_name(tmp_path):
    ws = make_ws(tmp_path)
    run(ws)
    (ws / "data/a.csv").rename(ws / "data/b.csv")  # same bytes, new name
    edit(ws / "pipeline.yml", "./data/a.csv", "./data/b.csv")
    assert "input data file name: a.csv -> b.csv" in status(ws)
    assert run(ws) == ("ran", "hello world b.csv")


def test_two_clones_of_a_workspace_share_every_key(tmp_path):
    one = make_ws(tmp_path / "one")
    two = tmp_path / "elsewhere" / "two"
    shutil.copytree(one, two)
    keys = [
        {s["name"]: s["key"] for s in run_json(str(ws / "pipeline.yml"), cwd=ws)["steps"]}
        for ws in (one, two)
    ]
    assert keys[0] == keys[1] and all(keys[0].values())


def test_compute_bound_to_a_pipeline_input_is_resolved_before_choosing_the_backend(tmp_path):
    ws = make_ws(tmp_path)
    (ws / "pyproject.toml").write_text('[tool.amlrun.compute]\ncpu = "local"\n')
    edit(ws / "pipeline.yml", "inputs:\n  data:", "inputs:\n  target: cpu\n  data:")
    edit(
        ws / "pipeline.yml",
        "    component:",
        "    compute: ${{parent.inputs.target}}\n    component:",
    )
    assert run(ws)[0] == "ran"
    proc = amlrun("run", str(ws / "pipeline.yml"), "--set", "inputs.target=gpu", cwd=ws)
    assert proc.returncode == 2 and "compute 'gpu' of step 'show' is not configured" in proc.stderr


def test_upgrading_an_installed_distribution_reruns_steps_on_the_current_interpreter(tmp_path):
    ws = make_ws(tmp_path / "ws")
    site = tmp_path / "site"
    (site / "fakepkg-1.0.dist-info").mkdir(parents=True)
    (site / "fakepkg-1.0.dist-info/METADATA").write_text("Name: fakepkg\nVersion: 1.0\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    assert statuses(run_json(str(ws / "pipeline.yml"), cwd=ws, env=env))["show"] == "ran"
    assert statuses(run_json(str(ws / "pipeline.yml"), cwd=ws, env=env))["show"] == "reused"
    (site / "fakepkg-1.0.dist-info").rename(site / "fakepkg-1.1.dist-info")
    (site / "fakepkg-1.1.dist-info/METADATA").write_text("Name: fakepkg\nVersion: 1.1\n")
    proc = amlrun("status", str(ws / "pipeline.yml"), cwd=ws, env=env, check=True)
    assert "environment changed" in proc.stdout
    assert statuses(run_json(str(ws / "pipeline.yml"), cwd=ws, env=env))["show"] == "ran"


def test_a_node_level_command_override_is_what_runs_and_is_in_the_key(tmp_path):
    ws = make_ws(tmp_path)
    run(ws)
    override = "    command: echo override $GREETING > ${{outputs.o}}/seen.txt\n"
    edit(ws / "pipeline.yml", "    component:", override + "    component:")
    assert "module interface or command changed" in status(ws)
    assert run(ws) == ("ran", "override hello\n")


def test_editing_a_v1_steps_arguments_or_script_name_reruns_it(tmp_path):
    ws = tmp_path
    (ws / ".git").mkdir()
    (ws / "steps").mkdir()
    for name in ("a.py", "b.py"):
        script = (
            "import sys, pathlib; pathlib.Path(sys.argv[-1], 'o.txt').write_text(str(sys.argv))"
        )
        (ws / "steps" / name).write_text(script)
    (ws / "pipeline.yml").write_text(
        textwrap.dedent("""
            pipeline:
              steps:
                Make:
                  type: PythonScriptStep
                  script_name: a.py
                  source_directory: steps
                  arguments: [--n, "1", "output:out"]
                  outputs:
                    out: {destination: made}
        """)
    )

    def make() -> str:
        return statuses(run_json(str(ws / "pipeline.yml"), cwd=ws))["Make"]

    assert make() == "ran"
    edit(ws / "pipeline.yml", '"1"', '"2"')
    assert make() == "ran"
    edit(ws / "pipeline.yml", "a.py", "b.py")
    assert make() == "ran"
    assert make() == "reused"


def test_a_key_is_the_hash_of_its_versioned_canonical_components():
    """Stores written before components were encoded once must keep every key."""
    from amlrun.engine.key import KEY_FORMAT_VERSION, KeyParts
    from amlrun.hashing import hash_json

    parts = KeyParts(
        module="m" * 32,
        snapshot="s" * 32,
        environment="e" * 32,
        params={"lr": 0.1, "name": "ünï", "none": None, "list": [1, "a"]},
        inputs={"data": "d" * 32, "absent": None},
        env_vars={"SEED": "x" * 32},
        file_names={"data": "train.csv"},
    )

    assert parts.key == hash_json({"v": KEY_FORMAT_VERSION, **parts.as_dict()})
    assert json.loads(parts.components_json) == parts.as_dict()
