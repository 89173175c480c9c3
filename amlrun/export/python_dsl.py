"""A Python DSL script of a Pipeline: ``amlrun.load_module`` per spec, one ``@amlrun.pipeline``.

Bindings are written as the values the steps received (paths relative to the script), so the
script builds the same steps with the same keys. The DSL names steps after their modules.
"""

from __future__ import annotations

from pathlib import Path

from amlrun.errors import SpecError
from amlrun.export.paths import own_spec, relative, spec_file
from amlrun.pipelines.model import Binding, Pipeline


def _ident(text: str) -> str:
    name = "".join(c if c.isalnum() else "_" for c in text)
    return name if name[:1].isalpha() else f"m_{name}"


def _modules(p: Pipeline, dest_dir: Path) -> dict[Path, str]:
    """One variable per distinct spec file, named after the module."""
    out: dict[Path, str] = {}
    for step in p.steps.values():
        spec = spec_file(step)
        if not own_spec(step):
            raise SpecError(
                f"step '{step.name}' is declared inside its pipeline file, with no spec of its own",
                file=step.source,
                line=step.line,
                fix="export --format yaml (it writes such modules inline), or give the module "
                "a spec file",
            )
        if spec not in out:
            base = _ident(step.module.name)
            taken = set(out.values())
            out[spec] = base if base not in taken else f"{base}_{len(taken)}"
    return out


def _arg(b: Binding, nodes: dict[str, str], dest_dir: Path) -> str:
    if b.kind == "step":
        return f"{nodes[b.step]}.outputs[{b.output!r}]"
    if b.kind == "path" and "://" not in str(b.value):
        return f"HERE / {relative(b.value, dest_dir)!r}"
    return repr(b.value)


def pipeline_lines(p: Pipeline, dest_dir: Path) -> tuple[list[str], str]:
    """(the lines that define the pipeline function, its name); the script and notebook share it."""
    modules = _modules(p, dest_dir)
    lines = [
        f"{var} = amlrun.load_module(HERE / {relative(spec, dest_dir)!r})"
        for spec, var in modules.items()
    ]
    fn = _ident(p.name)
    options = [f"name={p.name!r}"]
    if p.default_compute:
        options.append(f"default_compute={p.default_compute!r}")
    if p.force_rerun:
        options.append("force_rerun=True")
    if not p.continue_on_step_failure:
        options.append("continue_on_step_failure=False")
    lines += ["", "", f"@amlrun.pipeline({', '.join(options)})", f"def {fn}() -> dict:"]
    nodes = {name: f"n{i}" for i, name in enumerate(p.steps)}
    for name, step in p.steps.items():
        bound = {k: _arg(b, nodes, dest_dir) for k, b in step.bindings.items() if b.kind != "none"}
        lines.append(f"    {nodes[name]} = {modules[spec_file(step)]}({_call_args(bound)})")
    outs = ", ".join(f"{k!r}: {nodes[o.step]}.outputs[{o.output!r}]" for k, o in p.outputs.items())
    lines.append(f"    return {{{outs}}}")
    return lines, fn


def _call_args(bound: dict[str, str]) -> str:
    """Keyword arguments, or one ``**{...}`` when an input name is no identifier (v1 names)."""
    if all(k.isidentifier() for k in bound):
        return ", ".join(f"{k}={v}" for k, v in bound.items())
    return "**{" + ", ".join(f"{k!r}: {v}" for k, v in bound.items()) + "}"


def pipeline_python(p: Pipeline, dest_dir: Path) -> str:
    lines, fn = pipeline_lines(p, dest_dir)
    head = [
        f'"""The amlrun pipeline {p.name!r}, exported by ``amlrun pipeline export``."""',
        "",
        "from __future__ import annotations",
        "",
        "from pathlib import Path",
        "",
        "import amlrun",
        "",
        "HERE = Path(__file__).parent",
        "",
    ]
    tail = ["", "", 'if __name__ == "__main__":', f"    print({fn}().run().summary())"]
    return "\n".join([*head, *lines, *tail]) + "\n"
