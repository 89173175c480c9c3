"""``--set`` values: recorded with the run (so ``module debug`` needs them no more), and an
unknown name is one clear error in v1 and v2 pipelines alike."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace


def test_module_debug_reuses_the_runs_set_values(tmp_path: Path) -> None:
    pipe = make_workspace(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other/rows.csv").write_text("a,10\n")
    sub = tmp_path / "prep"  # a relative data path, given in a subfolder
    sets = ("--set", "inputs.epochs=3", "--set", "inputs.raw=../other")
    rid = run_json(str(pipe), *sets, cwd=sub, env={"AMLRUN_WORKSPACE": str(tmp_path)})["run_id"]
    proc = amlrun("module", "debug", rid, "train", "--run", "-o", "dbg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "dbg/outputs/model/model.txt").read_text() == "sum=60\n"  # 10*2*3
    explicit = amlrun(
        "module", "debug", rid, "train", "-o", "dbg2", "--set", "inputs.epochs=1", cwd=tmp_path
    )
    assert explicit.returncode == 2  # --set replaces the run's values: not that run's step
    assert "cannot be recreated" in explicit.stderr


def test_an_unknown_set_name_lists_the_known_ones_in_v2_and_v1(tmp_path: Path) -> None:
    pipe = make_workspace(tmp_path)
    proc = amlrun("run", str(pipe), "--set", "inputs.epoch=2", cwd=tmp_path)
    assert proc.returncode == 2
    assert "the pipeline has no input 'epoch'" in proc.stderr
    assert "use one of: raw, factor, epochs" in proc.stderr
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps/k.py").write_text(
        "import sys, pathlib\npathlib.Path(sys.argv[2], 'k').write_text(sys.argv[1])\n"
    )
    (tmp_path / "v1.yml").write_text(textwrap.dedent("""
        pipeline:
          parameters:
            K: {type: int, default: 2}
            Mode: {default: fast}
          steps:
            S:
              type: PythonScriptStep
              script_name: k.py
              source_directory: steps
              arguments: [parameter:k, output:o]
              parameters:
                k: {source: K}
              outputs:
                o: {destination: out}
    """))  # fmt: skip
    proc = amlrun("run", "v1.yml", "--set", "k=5", cwd=tmp_path)
    assert proc.returncode == 2
    assert "the pipeline has no parameter 'k'" in proc.stderr
    assert "use one of: K, Mode" in proc.stderr
    assert statuses(run_json("v1.yml", "--set", "K=5", cwd=tmp_path)) == {"S": "ran"}
