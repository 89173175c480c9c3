"""A small real workspace with a sweep: prep -> sweep over train (logs ``score`` through
mlflow, per epoch) -> report of the best model. Every script is deterministic."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_workspace
from tests.pipeline_ws import FILES as PIPELINE_FILES

FILES = {
    "data/rows.csv": "a,1\nb,2\nc,3\n",
    "prep/prep.yml": """
        type: command
        name: prep
        inputs:
          raw: {type: uri_folder}
        outputs:
          clean: {type: uri_folder}
        code: ./src
        command: python prep.py ${{inputs.raw}} ${{outputs.clean}}
    """,
    "prep/src/prep.py": """
        import sys, pathlib, shutil
        shutil.copy(pathlib.Path(sys.argv[1], "rows.csv"), pathlib.Path(sys.argv[2], "clean.csv"))
    """,
    "train/train.yml": """
        type: command
        name: train
        inputs:
          data: {type: uri_folder}
          lr: {type: number, default: 0.5}
          depth: {type: integer, default: 1}
        outputs:
          model: {type: uri_folder}
        code: ./src
        command: >-
          python train.py ${{inputs.data}} ${{inputs.lr}} ${{inputs.depth}} ${{outputs.model}}
    """,
    "train/src/train.py": """
        import sys, pathlib
        import mlflow
        data, lr, depth, model = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        rows = pathlib.Path(data, "clean.csv").read_text().split()
        total = sum(int(line.split(",")[1]) for line in rows)
        score = total * depth - (lr - 0.3) ** 2  # best: the deepest tree, lr near 0.3
        for epoch in range(3):
            mlflow.log_metric("score", score * (epoch + 1) / 3, step=epoch)
        pathlib.Path(model, "model.txt").write_text(f"lr={lr} depth={depth} score={score}\\n")
    """,
    "report/report.yml": PIPELINE_FILES["report/report.yml"],  # the same report component
    "report/src/report.py": """
        import sys, pathlib
        text = pathlib.Path(sys.argv[1], "model.txt").read_text()
        pathlib.Path(sys.argv[2], "best.txt").write_text(text)
    """,
    "pipeline.yml": """
        type: pipeline
        inputs:
          raw: {type: uri_folder, path: ./data}
        outputs:
          best: {type: uri_folder}
        jobs:
          prep:
            component: ./prep/prep.yml
            inputs:
              raw: ${{parent.inputs.raw}}
          sweep:
            type: sweep
            trial: ./train/train.yml
            inputs:
              data: ${{parent.jobs.prep.outputs.clean}}
            sampling_algorithm: grid
            search_space:
              lr: {type: choice, values: [0.1, 0.3, 0.5]}
              depth: {type: choice, values: [1, 2]}
            objective: {primary_metric: score, goal: maximize}
            limits: {max_concurrent_trials: 2}
          report:
            component: ./report/report.yml
            inputs:
              model: ${{parent.jobs.sweep.outputs.model}}
            outputs:
              out: ${{parent.outputs.best}}
    """,
}


def make_workspace(root: Path) -> Path:
    write_workspace(root, FILES)
    return root / "pipeline.yml"
