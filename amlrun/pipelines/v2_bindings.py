"""What a value in a v2 pipeline binds a step input to.

A pipeline input's default or ``--set`` value, a node input (a literal, ``${{parent.inputs.x}}``,
``${{parent.jobs.a.outputs.b}}``, an expression inside a literal, a data spec) and a data path
(local, remote, a registered asset, a datastore path) each become one :class:`Binding`. The
loader (v2.py) walks the pipeline; this module only reads values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.pipelines.datastores import datastore_binding, datastore_uri
from amlrun.pipelines.model import NONE, Binding
from amlrun.pipelines.node import EXPR, PARENT_INPUT, parent_literal
from amlrun.pipelines.sweep import SEARCH_REF
from amlrun.pipelines.v2_schema import CLOUD, JOB_OUTPUT, REMOTE
from amlrun.registry.layered import NotRegistered
from amlrun.registry.refs import is_registry_ref
from amlrun.registry.resolve import RegistryResolver
from amlrun.spec.shape import local_path


class Binder:
    """Bindings of one pipeline load; ``resolver`` turns ``azureml:`` data into paths."""

    def __init__(self, resolver: RegistryResolver | None) -> None:
        self.resolver = resolver

    def declared_default(self, raw: Any, path: Path, line: int | None) -> Binding:
        """A pipeline input's own value: a data spec's path, a default, or a literal."""
        if isinstance(raw, dict):
            if "dataset" in raw:  # 2021 preview: {dataset: {local_path: ./data}}
                ds = raw["dataset"]
                local = ds.get("local_path") if isinstance(ds, dict) else ds
                return self.data(str(local), path, line)
            if raw.get("path") is not None:
                return self.data(str(raw["path"]), path, line)
            if raw.get("default") is not None:
                return Binding("literal", raw["default"], line=line)
            return NONE
        return NONE if raw is None else Binding("literal", raw, line=line)

    def override(self, raw: Any, value: Any, path: Path, line: int | None) -> Binding:
        """``--set inputs.x=V``: data (relative to the current folder) for a data input."""
        is_data = isinstance(raw, dict) and (
            "dataset" in raw
            or "path" in raw
            or str(raw.get("type", "")).lower()
            not in ("", "string", "number", "integer", "boolean")
        )
        if is_data:
            return self.data(str(value), Path.cwd() / "x", line)
        return Binding("literal", value, line=line)

    def data(self, raw: str, path: Path, line: int | None) -> Binding:
        """A data path: registered asset, datastore path, cloud-only, remote or local."""
        if raw.startswith(CLOUD) and self.resolver is not None and is_registry_ref(raw):
            try:
                return Binding("path", self.resolver.data(raw), line=line)
            except NotRegistered:
                pass
        if (ds := datastore_uri(raw)) is not None and self.resolver is not None:
            table = self.resolver.config.get("datastores") or {}
            root = self.resolver.workspace_root
            return datastore_binding(*ds, table, root, line=line, field="path")
        if raw.startswith(CLOUD):
            return Binding("cloud", f"data {raw} is an Azure ML asset or datastore path", line=line)
        if raw.startswith(REMOTE):
            return Binding("path", raw, line=line)
        local = local_path(path.parent, raw, file=path, line=line, field="path")
        return Binding("path", str(local), line=line)

    def binding(
        self, raw: Any, path: Path, prefix: str, parent_inputs: dict[str, Binding], line: int | None
    ) -> Binding:
        """A node input: an expression, a literal (expressions inside resolved), a data spec."""
        if isinstance(raw, str):
            m = EXPR.fullmatch(raw.strip())
            if m:
                expr = m.group(1)
                if pi := PARENT_INPUT.match(expr):
                    if pi.group(1) not in parent_inputs:
                        raise SpecError(
                            f"'{raw}' refers to an undeclared pipeline input",
                            file=path,
                            line=line,
                            fix="declare it under the pipeline's inputs: "
                            + (", ".join(parent_inputs) or "none declared"),
                        )
                    b = parent_inputs[pi.group(1)]
                    return Binding(b.kind, b.value, b.step, b.output, line)
                if jo := JOB_OUTPUT.match(expr):
                    return Binding(
                        "step", step=f"{prefix}{jo.group(1)}", output=jo.group(2), line=line
                    )
                if SEARCH_REF.fullmatch(raw.strip()):  # a sweep binds it (bind_search_space)
                    return Binding("literal", raw, line=line)
                raise SpecError(
                    f"cannot resolve '{raw}' locally",
                    file=path,
                    line=line,
                    fix="use ${{parent.inputs.x}} or ${{parent.jobs.a.outputs.b}}",
                )
            if EXPR.search(raw):  # an expression inside a longer literal

                def sub(mm: re.Match) -> str:
                    value = parent_literal(mm.group(1), parent_inputs)
                    if value is None:
                        raise SpecError(
                            f"cannot resolve '{mm.group(0)}' inside '{raw}'",
                            file=path,
                            line=line,
                            fix="bind the whole value to one expression",
                        )
                    return value

                return Binding("literal", EXPR.sub(sub, raw), line=line)
            return Binding("literal", raw, line=line)
        if isinstance(raw, dict):
            if "dataset" in raw or "path" in raw:
                return self.declared_default(raw, path, line)
            if "value" in raw:
                return Binding("literal", raw["value"], line=line)
            return NONE
        return NONE if raw is None else Binding("literal", raw, line=line)
