"""Entry points for loading a module spec of any supported format."""

from __future__ import annotations

from pathlib import Path

from amlrun.errors import Diagnostics, SpecError
from amlrun.spec import yamlio
from amlrun.spec.component import load_component
from amlrun.spec.detect import kind_of
from amlrun.spec.model import Module
from amlrun.spec.v1 import is_v1_module, load_v1


def module_from_doc(doc: dict, path: Path, diags: Diagnostics, base: Path | None = None) -> Module:
    if is_v1_module(doc):
        return load_v1(doc, path, diags)
    return load_component(doc, path, diags, base=base)


def load_module(path: str | Path, diags: Diagnostics | None = None) -> Module:
    """Load a module/component spec file (v1 module spec, sdk-2.0 or v2 component)."""
    path = Path(path)
    diags = diags if diags is not None else Diagnostics()
    doc = yamlio.load(path)
    kind = kind_of(doc, path)
    if kind == "pipeline":
        raise SpecError(
            "this is a pipeline, not a module", file=path, fix=f"run it with 'amlrun run {path}'"
        )
    if kind != "module":
        raise SpecError(
            f"not a module spec (looks like: {kind})",
            file=path,
            fix="give a v1 module spec (amlModuleIdentifier), an sdk-2.0 CommandComponent "
            "or a v2 command component (type: command)",
        )
    return module_from_doc(doc, path.resolve(), diags)
