"""Resolving ``azureml:`` module references for the pipeline loaders and the DSL.

The spec layer never imports the registry: loaders receive :func:`module_resolver`'s
function. A resolved module runs from a checkout named by its content digest, so its step
key holds that content (snapshot tree, command, environment), never the label that led to it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from amlrun.registry.refs import is_registry_ref, parse_ref
from amlrun.spec.model import Module

__all__ = ["is_registry_ref", "module_resolver"]


def module_resolver(config: dict, root: Path | None = None) -> Callable[[str], Module]:
    """``ref -> Module`` through the workspace's registries, opened on first use.

    Labels move and versions get disabled without any local file changing, so a plan that
    used the registry is never served from the plan cache.
    """
    from amlrun.pipelines.plancache import volatile
    from amlrun.registry.layered import Registries
    from amlrun.workspace import Workspace

    opened: list[Registries] = []

    def resolve(ref: str) -> Module:
        volatile()
        if not opened:
            opened.append(Registries(root or Workspace.find().root, config))
        return opened[0].load(parse_ref(ref))

    return resolve
