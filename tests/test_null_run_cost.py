"""A null run pays only for checking: what it never needs, it never imports or parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import run_json, statuses
from tests.pipeline_ws import make_workspace

#: each is imported only when something needs it (a step to run, --set, a non-local backend,
#: a quoted command, a cache secret, a junit report, a pipeline file that changed)
NOT_ON_A_NULL_RUN = ("doit", "yaml", "pluggy", "shlex", "hashlib", "xml.etree")

PROBE = """
import json, sys
from amlrun.cli.main import main
try:
    main(["run", "pipeline.yml", "--json"])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)), file=sys.stderr)
"""


def _null_run_imports(ws: Path) -> tuple[dict, list[str]]:
    """A run's --json result, and which of NOT_ON_A_NULL_RUN it imported."""
    env = {**os.environ, "AMLRUN_WORKSPACE": str(ws)}
    env.pop("AMLRUN_CACHE_SECRET", None)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *NOT_ON_A_NULL_RUN],
        cwd=ws, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return json.loads(proc.stdout), json.loads(proc.stderr.strip().splitlines()[-1])


def test_a_null_run_imports_no_engine_parser_or_plugin_machinery(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    run_json("pipeline.yml", cwd=tmp_path)  # fills the store and the plan cache
    result, imported = _null_run_imports(tmp_path)
    assert set(statuses(result).values()) == {"reused"} and imported == []


def test_touched_spec_files_are_not_parsed_again_but_an_edited_one_is(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    run_json("pipeline.yml", cwd=tmp_path)
    later = time.time() + 60
    for path in tmp_path.rglob("*.y*ml"):  # a checkout: new mtimes, the same bytes
        os.utime(path, (later, later))
    result, imported = _null_run_imports(tmp_path)
    assert set(statuses(result).values()) == {"reused"} and imported == []  # no yaml
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(pipeline.read_text().replace("factor: 2", "factor: 5"))  # same size
    result, imported = _null_run_imports(tmp_path)
    assert statuses(result)["prep"] == "ran" and "yaml" in imported
