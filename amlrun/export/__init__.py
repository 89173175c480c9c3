"""Write a loaded Pipeline back out: v2 YAML, a Python DSL script, a notebook or a Mermaid graph.

Export works from the Pipeline model, not the source file, so any input format (v2, v1 YAML,
DSL) exports the same way and the result describes exactly the steps amlrun would run.
"""

from __future__ import annotations

from pathlib import Path

from amlrun.pipelines.model import Pipeline

FORMATS = ("yaml", "python", "notebook", "mermaid")


def export_pipeline(pipeline: Pipeline, fmt: str, dest_dir: Path) -> str:
    """The text of ``pipeline`` in ``fmt``; relative paths in it are relative to ``dest_dir``."""
    from amlrun.export import mermaid, notebook, python_dsl, v2_yaml

    writers = {
        "yaml": v2_yaml.pipeline_yaml,
        "python": python_dsl.pipeline_python,
        "notebook": notebook.pipeline_notebook,
        "mermaid": lambda p, _dest: mermaid.pipeline_mermaid(p),
    }
    return writers[fmt](pipeline, dest_dir)


def lost_in_export(pipeline: Pipeline, fmt: str) -> list[str]:
    """What the exported file cannot say, so the CLI names it instead of dropping it silently."""
    notes = [
        f"step '{s.name}' never reuses (allow_reuse: false); the export does not carry that"
        for s in pipeline.steps.values()
        if s.force_rerun and not pipeline.force_rerun
    ]
    if fmt in ("python", "notebook"):
        lacks = "compute, output paths, environment variables or timeouts"
        notes += [
            f"step '{s.name}': the DSL has no per-step {lacks}; --format yaml keeps them"
            for s in pipeline.steps.values()
            if (s.compute and s.compute != pipeline.default_compute)
            or s.output_paths
            or s.env_vars
            or s.timeout_s
        ]
        notes += [
            f"step '{s.name}' is a sweep; the DSL calls its trial component once with its "
            "defaults; --format yaml keeps the sweep"
            for s in pipeline.steps.values()
            if s.sweep is not None
        ]
    return notes
