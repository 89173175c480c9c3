"""A Jupyter notebook that builds the pipeline with the DSL and runs it.

nbformat is an optional dependency (the ``notebook`` extra): only this format needs it.
"""

from __future__ import annotations

from pathlib import Path

from amlrun.errors import SpecError
from amlrun.export.python_dsl import pipeline_lines
from amlrun.pipelines.model import Pipeline

SETUP = """from pathlib import Path

import amlrun

HERE = Path.cwd()  # Jupyter and nbclient run a notebook in its own folder"""


def pipeline_notebook(p: Pipeline, dest_dir: Path) -> str:
    try:
        import nbformat
    except ImportError:
        raise SpecError(
            "exporting a notebook needs nbformat", fix="pip install 'amlrun[notebook]'"
        ) from None
    lines, fn = pipeline_lines(p, dest_dir)
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell(f"# Pipeline `{p.name}`\n\nBuild it, then run it incrementally."),
            v4.new_code_cell(SETUP),
            v4.new_code_cell("\n".join(lines).strip()),
            v4.new_code_cell(f"result = {fn}().run()\nprint(result.summary())"),
            v4.new_code_cell("{s.name: s.key for s in result.steps}"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    return nbformat.writes(nb)
