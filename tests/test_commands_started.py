"""How a step's command starts, through the CLI: a command of plain words starts without
``/bin/sh``, and everything the shell decided before still holds — a script without ``#!``
runs as a shell script, a file without the execute bit is exit 126, a missing program is
exit 127, ``$PWD`` is the step's folder and ``python``/``python3`` are amlrun's interpreter."""

from __future__ import annotations

import json
import os
import stat
import sys

from tests.helpers import run_json, statuses, write_workspace

STEP = """
    type: command
    name: {name}
    code: ./src
    outputs:
      o: {{type: uri_folder}}
    command: {command}
"""


def _pipeline(root, commands: dict[str, str], files: dict[str, str]):
    jobs = "".join(
        f"  {n}:\n    component: ./{n}.yml\n    outputs: {{o: '${{{{parent.outputs.{n}}}}}'}}\n"
        for n in commands
    )
    outputs = "".join(f"  {n}: {{type: uri_folder}}\n" for n in commands)
    write_workspace(
        root,
        {
            "pipeline.yml": f"type: pipeline\noutputs:\n{outputs}jobs:\n{jobs}",
            **{f"{n}.yml": STEP.format(name=n, command=c) for n, c in commands.items()},
            **{f"src/{rel}": text for rel, text in files.items()},
        },
    )
    return root / "pipeline.yml"


def test_a_script_without_a_shebang_runs_as_a_shell_script(tmp_path):
    pipeline = _pipeline(
        tmp_path,
        {"noshebang": "./tool ${{outputs.o}}"},
        {"tool": 'printf %s "ran as sh" > "$1/said"\n'},
    )
    os.chmod(tmp_path / "src/tool", 0o755)

    result = run_json(str(pipeline), "--output", "noshebang=out", cwd=tmp_path)

    assert statuses(result) == {"noshebang": "ran"}
    assert (tmp_path / "out/said").read_text() == "ran as sh"


def test_a_program_that_cannot_run_fails_with_the_shells_exit_codes(tmp_path):
    pipeline = _pipeline(
        tmp_path,
        {"noexec": "./tool ${{outputs.o}}", "missing": "no-such-program-x ${{outputs.o}}"},
        {"tool": "#!/bin/sh\ntouch $1/ran\n"},
    )
    mode = os.stat(tmp_path / "src/tool").st_mode
    os.chmod(tmp_path / "src/tool", mode & ~(stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    (tmp_path / "pipeline.yml").write_text(
        (tmp_path / "pipeline.yml").read_text().replace("type: pipeline\n", _CONTINUE)
    )

    result = run_json(str(pipeline), cwd=tmp_path)

    reasons = {s["name"]: s["reason"] for s in result["steps"]}
    assert statuses(result) == {"noexec": "failed", "missing": "failed"}
    assert reasons["noexec"].startswith("exit code 126"), reasons
    assert reasons["missing"].startswith("exit code 127"), reasons


_CONTINUE = "type: pipeline\nsettings: {continue_on_step_failure: true}\n"


def test_a_plain_command_sees_its_folder_in_pwd_and_amlruns_python(tmp_path):
    probe = (
        "import json, os, subprocess, sys\n"
        "p3 = subprocess.run(['python3', '-c', 'import sys; print(sys.prefix)'],\n"
        "                    capture_output=True, text=True).stdout.strip()\n"
        "json.dump({'pwd': os.environ['PWD'], 'cwd': os.getcwd(), 'prefix': sys.prefix,\n"
        "           'python3': p3}, open(os.path.join(sys.argv[1], 'seen.json'), 'w'))\n"
    )
    pipeline = _pipeline(tmp_path, {"probe": "python probe.py ${{outputs.o}}"}, {"probe.py": probe})

    result = run_json(str(pipeline), "--output", "probe=out", cwd=tmp_path)

    assert statuses(result) == {"probe": "ran"}
    seen = json.loads((tmp_path / "out/seen.json").read_text())
    assert seen["pwd"] == seen["cwd"] != str(tmp_path)
    assert seen["prefix"] == seen["python3"] == sys.prefix
