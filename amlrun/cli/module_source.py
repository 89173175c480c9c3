"""The module a ``module`` verb acts on: a spec file or an ``azureml:`` registry reference.

Either way its environment is resolved (registered, mapped or curated) and its port types
are checked against the registered data types here, where the workspace is known (loading a
spec never opens a registry).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from amlrun.errors import Diagnostics
from amlrun.spec.model import Module


def load_cli_module(spec: str, diags: Diagnostics) -> Module:
    from amlrun.registry.resolve import RegistryResolver, is_registry_ref
    from amlrun.spec.porttypes import typed_module
    from amlrun.workspace import Workspace

    resolver = RegistryResolver(Workspace.find().config)
    if is_registry_ref(spec):
        module = resolver.module(spec)
    else:
        from amlrun.errors import SpecError
        from amlrun.spec.load import load_module

        if not Path(spec).is_file():
            raise SpecError(
                f"{spec} is not a spec file or a registry reference",
                fix="give a spec file, or azureml:NAME:VERSION / azureml:NAME@LABEL",
            )
        module = load_module(spec, diags)
    module = replace(module, environment=resolver.environment(module.environment))
    return typed_module(module, resolver.datatypes)


def resolve_inputs(given: dict[str, str]) -> dict[str, str]:
    """``--input`` values that name a registered data asset or a datastore path, as paths."""
    from amlrun.errors import SpecError
    from amlrun.pipelines.datastores import datastore_binding, datastore_uri
    from amlrun.registry.resolve import RegistryResolver, is_registry_ref
    from amlrun.workspace import Workspace

    resolver = RegistryResolver(Workspace.find().config)
    out = {}
    for name, value in given.items():
        if (ds := datastore_uri(value)) is not None:
            table = resolver.config.get("datastores") or {}
            b = datastore_binding(*ds, table, resolver.workspace_root, line=None, field="--input")
            if b.kind == "cloud":
                raise SpecError(str(b.value), field=f"--input {name}")
            value = str(b.value)
        elif is_registry_ref(value):
            value = resolver.data(value)
        out[name] = value
    return out
