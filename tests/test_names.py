"""Names never reach outside the run folder: v2 names are checked, v1 display names mapped."""

from __future__ import annotations

from tests.helpers import amlrun, run_json, statuses, write_workspace

COMPONENT = """
    type: command
    name: evil
    outputs:
      {port}: {{type: uri_folder}}
    command: echo hi
"""


def test_an_output_port_named_like_a_path_is_an_error_naming_file_line_field_and_fix(tmp_path):
    write_workspace(tmp_path, {"evil.yml": COMPONENT.format(port='"../../x"')})
    proc = amlrun("module", "validate", str(tmp_path / "evil.yml"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert f"{tmp_path / 'evil.yml'}:4: outputs.../../x: port name '../../x'" in proc.stdout
    assert "Fix: start it with a letter or _" in proc.stdout


def test_a_pipeline_job_named_like_a_path_is_an_error(tmp_path):
    write_workspace(
        tmp_path,
        {
            "c.yml": COMPONENT.format(port="o"),
            "pipeline.yml": """
                type: pipeline
                jobs:
                  ../up:
                    component: ./c.yml
            """,
        },
    )
    proc = amlrun("run", str(tmp_path / "pipeline.yml"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "jobs.../up: step name '../up' is not a valid identifier" in proc.stderr


def test_v1_display_names_run_and_no_name_writes_outside_the_run_folder(tmp_path):
    ws = tmp_path / "ws"
    escape = "../../../../../escaped"  # from .amlrun/tmp/<work>/outputs/ up to tmp_path
    write_workspace(
        ws,
        {
            "steps/make.py": """
                import sys, pathlib
                pathlib.Path(sys.argv[1], "n.txt").write_text("7")
            """,
            "steps/use.py": """
                import sys, pathlib
                n = pathlib.Path(sys.argv[1], "n.txt").read_text()
                pathlib.Path(sys.argv[2], "final.txt").write_text("final " + n)
            """,
            "pipeline.yml": f"""
                pipeline:
                  description: hostile names
                  steps:
                    "{escape}":
                      type: PythonScriptStep
                      script_name: make.py
                      source_directory: steps
                      arguments: ["output:{escape}"]
                      outputs:
                        "{escape}": {{destination: made}}
                    Use it:
                      type: PythonScriptStep
                      script_name: use.py
                      source_directory: steps
                      arguments: ["input:Input data", "output:Output data"]
                      inputs:
                        Input data: {{source: made}}
                      outputs:
                        Output data: {{destination: final}}
            """,
        },
    )
    result = run_json(str(ws / "pipeline.yml"), cwd=ws)
    assert set(statuses(result).values()) == {"ran"}, result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]
    outs = [p for p in (ws / ".amlrun/out").rglob("*") if p.name == "n.txt"]
    assert len(outs) == 1 and outs[0].read_text() == "7"
    assert all(".." not in p.parts for p in outs)
