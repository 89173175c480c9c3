"""A null run pays only for checking: what it never needs, it never imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def test_a_null_run_imports_no_engine_parser_or_plugin_machinery(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    run_json("pipeline.yml", cwd=tmp_path)  # fills the store and the plan cache
    env = {**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)}
    env.pop("AMLRUN_CACHE_SECRET", None)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *NOT_ON_A_NULL_RUN],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    result = json.loads(proc.stdout)
    assert set(statuses(result).values()) == {"reused"}
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []
