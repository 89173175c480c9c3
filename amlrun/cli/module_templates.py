"""The files ``amlrun module init`` writes, per spec format: source, spec, test, notebook.

Every template is the same small module (count the lines of a text file that are at least
``min_len`` long, write ``count.json``), so the generated test and notebook are format-neutral
apart from the spec file and the port names a v1 spec uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

SCRIPT = '''"""{name}: count the lines of a text file that are at least --min-len long."""

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--text", required=True)
    parser.add_argument("--min-len", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    lines = Path(args.text).read_text().splitlines()
    count = sum(len(line) >= args.min_len for line in lines)
    Path(args.out, "count.json").write_text(json.dumps({{"lines": count}}))


if __name__ == "__main__":
    main()
'''

FUNCTION = '''"""{name}: count the lines of a text file that are at least min_len long."""

import json
from pathlib import Path

import amlrun


@amlrun.module(name="{name}", version="1")
def {name}(
    text: amlrun.Input(type="uri_file"), out: amlrun.Output(type="uri_folder"), min_len: int = 0
):
    """Count the lines of a text file that are at least min_len long."""
    lines = Path(text).read_text().splitlines()
    count = sum(len(line) >= min_len for line in lines)
    Path(out, "count.json").write_text(json.dumps({{"lines": count}}))
'''

V2_SPEC = """$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
type: command
name: {name}
version: 1
description: Count the lines of a text file that are at least min_len long.
inputs:
  text:
    type: uri_file
  min_len:
    type: integer
    default: 0
outputs:
  out:
    type: uri_folder
code: .
command: >-
  python {name}.py --text ${{{{inputs.text}}}} --min-len ${{{{inputs.min_len}}}}
  --out ${{{{outputs.out}}}}
"""

V1_SPEC = """amlModuleIdentifier:
  moduleName: {name}
  moduleVersion: 0.0.1
description: Count the lines of a text file that are at least Min length long.
isDeterministic: true
inputs:
- name: Text
  type: AnyFile
- name: Min length
  type: Integer
  default: 0
outputs:
- name: Out
  type: AnyDirectory
implementation:
  container:
    command: [python, {name}.py]
    args:
    - --text
    - inputPath: Text
    - --min-len
    - inputValue: Min length
    - --out
    - outputPath: Out
"""

TEST = '''"""Runs the {name} module through `amlrun module run`, as a pipeline step would run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_{name}_counts_the_long_lines(tmp_path):
    text = tmp_path / "input.txt"
    text.write_text("a\\nlonger line\\n\\nxyz\\n")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", "module", "run",
         str(HERE / "{spec}"), "-i", "{text}=" + str(text), "-p", "{min_len}=3",
         "-o", "{out}=" + str(out)],
        cwd=tmp_path, env={{**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)}},
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "count.json").read_text()) == {{"lines": 2}}
'''

NOTEBOOK_CODE = """import json
from pathlib import Path

import amlrun

Path("input.txt").write_text("a\\nlonger line\\n\\nxyz\\n")
module = amlrun.load_module("{spec}")
result = module.run(**{{"{text}": "input.txt", "{min_len}": 3, "{out}": "out"}})
print(result.ok, json.loads(Path("out/count.json").read_text()))"""


@dataclass(frozen=True)
class Layout:
    """What one format writes: its spec file name and the names of its ports."""

    spec: str
    text: str = "text"
    min_len: str = "min_len"
    out: str = "out"


LAYOUTS = {
    "v2": Layout("{name}.yml"),
    "v1": Layout("module_spec.yaml", "Text", "Min length", "Out"),
    "python": Layout("{name}.yml"),
}


def notebook(code: str) -> str:
    """A minimal nbformat-4 notebook (validated by nbformat when it is installed)."""
    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "id": "about",  # nbformat 4.5 cells carry ids (a missing one is a warning)
                "metadata": {},
                "source": ["Try the module locally."],
            },
            {
                "cell_type": "code",
                "id": "run",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": code.splitlines(keepends=True),
            },
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    try:
        import nbformat
    except ImportError:
        return json.dumps(nb, indent=1) + "\n"
    return nbformat.writes(nbformat.from_dict(nb))


def template_files(name: str, fmt: str) -> dict[str, str]:
    """Relative path -> text, except the python format's spec (built from the function)."""
    lay = LAYOUTS[fmt]
    values = {**vars(lay), "spec": lay.spec.format(name=name), "name": name}
    files = {
        f"test_{name}.py": TEST.format(**values),
        f"{name}.ipynb": notebook(NOTEBOOK_CODE.format(**values)),
    }
    if fmt == "python":
        files[f"{name}.py"] = FUNCTION.format(name=name)
    else:
        files[f"{name}.py"] = SCRIPT.format(name=name)
        files[values["spec"]] = (V2_SPEC if fmt == "v2" else V1_SPEC).format(name=name)
    return files
