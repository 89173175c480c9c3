"""A Mermaid flowchart of a Pipeline: one node per step, edges labelled ``output→input``."""

from __future__ import annotations

from amlrun.pipelines.model import Pipeline


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def pipeline_mermaid(p: Pipeline) -> str:
    """Node ids are ``s0``, ``s1``… (step names may hold ``/``); names go into the labels."""
    ids = {name: f"s{i}" for i, name in enumerate(p.steps)}
    lines = ["flowchart LR"]
    for name, step in p.steps.items():
        module = step.module.name if step.module else "blocked"
        lines.append(f'    {ids[name]}["{_label(name)}<br/>{_label(module)}"]')
    for name, step in p.steps.items():
        for input_name, b in step.bindings.items():
            if b.kind == "step" and b.step in ids:
                edge = _label(f"{b.output}→{input_name}")
                lines.append(f'    {ids[b.step]} -- "{edge}" --> {ids[name]}')
    return "\n".join(lines) + "\n"
