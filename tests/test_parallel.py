"""Parallel (mini-batch) steps: v2 ``type: parallel`` nodes and components."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import amlrun


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_a_parallel_node_is_refused_rather_than_faked(tmp_path: Path) -> None:
    _write(tmp_path, "data/a.txt", "1\n")
    _write(tmp_path, "src/score.py", "def init():\n    pass\n\ndef run(batch):\n    return batch\n")
    _write(
        tmp_path,
        "pipeline.yml",
        """
        type: pipeline
        jobs:
          score:
            type: parallel
            inputs:
              data: {type: uri_folder, path: ./data}
            outputs:
              out: {type: uri_file}
            input_data: ${{inputs.data}}
            mini_batch_size: "1"
            task:
              type: run_function
              code: ./src
              entry_script: score.py
              append_row_to: ${{outputs.out}}
        """,
    )
    proc = amlrun("run", "pipeline.yml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "parallel (mini-batch) steps cannot run locally yet" in proc.stdout + proc.stderr
