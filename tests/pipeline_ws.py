"""A small real workspace for pipeline tests: prep -> train -> report, plus an independent
branch ``side``. Every script is deterministic, so reruns reproduce identical bytes."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_workspace

FILES = {
    "data/rows.csv": "a,1\nb,2\nc,3\n",
    "prep/prep.yml": """
        $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
        type: command
        name: prep
        version: 1
        description: doubles the numbers
        inputs:
          raw: {type: uri_folder}
          factor: {type: integer, default: 2}
        outputs:
          clean: {type: uri_folder}
        code: ./src
        environment: azureml:AzureML-sklearn-1.0:1
        command: python prep.py ${{inputs.raw}} ${{inputs.factor}} ${{outputs.clean}}
    """,
    "prep/src/prep.py": """
        import sys, pathlib
        raw, factor, out = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
        rows = [l.split(",") for l in pathlib.Path(raw, "rows.csv").read_text().split()]
        out.joinpath("clean.csv").write_text("".join(f"{k},{int(v) * factor}\\n" for k, v in rows))
    """,
    "prep/src/.amlignore": "notes.txt\n",
    "prep/src/notes.txt": "ignored by .amlignore\n",
    "train/train.yml": """
        type: command
        name: train
        inputs:
          data: {type: uri_folder}
          epochs: {type: integer, default: 1}
        outputs:
          model: {type: uri_folder}
        code: ./src
        command: >-
          python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}}
          --model ${{outputs.model}}
    """,
    "train/src/train.py": """
        import argparse, pathlib
        p = argparse.ArgumentParser()
        p.add_argument("--data"); p.add_argument("--epochs", type=int); p.add_argument("--model")
        a = p.parse_args()
        rows = pathlib.Path(a.data, "clean.csv").read_text().split()
        total = sum(int(l.split(",")[1]) for l in rows)
        pathlib.Path(a.model, "model.txt").write_text(f"sum={total * a.epochs}\\n")
    """,
    "report/report.yml": """
        type: command
        name: report
        inputs:
          model: {type: uri_folder}
        outputs:
          out: {type: uri_folder}
        code: ./src
        command: python report.py ${{inputs.model}} ${{outputs.out}}
    """,
    "report/src/report.py": """
        import sys, pathlib
        text = pathlib.Path(sys.argv[1], "model.txt").read_text()
        pathlib.Path(sys.argv[2], "report.md").write_text("# report\\n" + text)
    """,
    "side/side.yml": """
        type: command
        name: side
        inputs:
          word: {type: string, default: hi}
        outputs:
          o: {type: uri_file}
        code: ./src
        command: python side.py ${{inputs.word}} ${{outputs.o}}
    """,
    "side/src/side.py": """
        import sys, pathlib
        pathlib.Path(sys.argv[2]).write_text(sys.argv[1] * 3)
    """,
    "pipeline.yml": """
        $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
        type: pipeline
        display_name: testpipe
        settings:
          default_compute: azureml:cpu-cluster
        inputs:
          raw: {type: uri_folder, path: ./data}
          factor: 2
          epochs: 1
        outputs:
          final: {type: uri_folder}
        jobs:
          prep:
            component: ./prep/prep.yml
            inputs:
              raw: ${{parent.inputs.raw}}
              factor: ${{parent.inputs.factor}}
          train:
            component: ./train/train.yml
            inputs:
              data: ${{parent.jobs.prep.outputs.clean}}
              epochs: ${{parent.inputs.epochs}}
          report:
            component: ./report/report.yml
            inputs:
              model: ${{parent.jobs.train.outputs.model}}
            outputs:
              out: ${{parent.outputs.final}}
          side:
            component: ./side/side.yml
    """,
}


def make_workspace(root: Path) -> Path:
    write_workspace(root, FILES)
    return root / "pipeline.yml"
