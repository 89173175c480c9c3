"""A workspace for the web UI tests: hello -> wait -> done (which logs through mlflow).
``wait`` blocks until the file its ``gate`` parameter names exists, so a test sees it running,
then lets it finish. A name, a parameter default and log lines carry HTML, so the tests can
check that none of it runs."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_workspace

HOSTILE = '<img src=x onerror="window.__xss=1">'

FILES = {
    "hello/hello.yml": """
        type: command
        name: hello
        inputs:
          greeting: {type: string, default: '<script>window.__xss=2</script>'}
        outputs:
          said: {type: uri_folder}
        code: ./src
        command: python hello.py ${{inputs.greeting}} ${{outputs.said}}
    """,
    "hello/src/hello.py": f"""
        import sys, pathlib
        print("hello from the UI test")
        print('{HOSTILE}')
        print(sys.argv[1])
        pathlib.Path(sys.argv[2], "said.txt").write_text(sys.argv[1])
    """,
    "wait/wait.yml": """
        type: command
        name: wait
        inputs:
          said: {type: uri_folder}
          gate: {type: string}
        outputs:
          waited: {type: uri_folder}
        code: ./src
        command: python wait.py ${{inputs.said}} ${{inputs.gate}} ${{outputs.waited}}
    """,
    "wait/src/wait.py": """
        import pathlib, sys, time
        deadline = time.time() + 120
        print("waiting for the gate", flush=True)
        while not pathlib.Path(sys.argv[2]).exists() and time.time() < deadline:
            time.sleep(0.1)
        print("the gate is open", flush=True)
        text = pathlib.Path(sys.argv[1], "said.txt").read_text()
        pathlib.Path(sys.argv[3], "waited.txt").write_text(text)
    """,
    "done/done.yml": """
        type: command
        name: done
        inputs:
          waited: {type: uri_folder}
        outputs:
          report: {type: uri_folder}
        code: ./src
        command: python done.py ${{inputs.waited}} ${{outputs.report}}
    """,
    "done/src/done.py": """
        import pathlib, sys
        import mlflow
        text = pathlib.Path(sys.argv[1], "waited.txt").read_text()
        pathlib.Path(sys.argv[2], "report.md").write_text("# done\\n" + text)
        mlflow.log_param("words", len(text.split()))
        for step, value in enumerate([0.5, 0.75, 0.875]):
            mlflow.log_metric("accuracy", value, step=step)
    """,
    "pipeline.yml": f"""
        type: pipeline
        display_name: 'ui{HOSTILE}'
        inputs:
          gate: /nonexistent
        jobs:
          hello:
            component: ./hello/hello.yml
          wait:
            component: ./wait/wait.yml
            inputs:
              said: ${{{{parent.jobs.hello.outputs.said}}}}
              gate: ${{{{parent.inputs.gate}}}}
          done:
            component: ./done/done.yml
            inputs:
              waited: ${{{{parent.jobs.wait.outputs.waited}}}}
    """,
}


def make_ui_workspace(root: Path) -> Path:
    write_workspace(root, FILES)
    return root / "pipeline.yml"
