"""Resolving ``azureml:`` references (modules, environments, data) for loaders and the DSL.

The spec layer never imports the registry: the pipeline loaders receive a
:class:`RegistryResolver`. A resolved module runs from a checkout named by its content digest,
so its step key holds that content (snapshot tree, command, environment), never the label
that led to it; likewise a data asset's content and an environment's definition.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.registry.refs import ModuleRef, environment_ref, is_registry_ref, parse_ref
from amlrun.spec.datatypes import Catalog
from amlrun.spec.model import Environment, Module

if TYPE_CHECKING:
    from amlrun.registry.layered import Registries

__all__ = ["RegistryResolver", "is_registry_ref"]


class RegistryResolver:
    """The workspace's registries, opened on first use.

    Labels move and versions get disabled without the pipeline's files changing: a plan that
    used a local registry is cached against its generation file, one that used a remote
    registry is never served from the plan cache.
    """

    def __init__(self, config: dict, root: Path | None = None) -> None:
        self.config = config
        self.root = root
        self._opened: Registries | None = None

    def _registries(self) -> Registries:
        if self._opened is None:
            from amlrun.registry.layered import Registries
            from amlrun.workspace import Workspace

            self._opened = Registries(self.root or Workspace.find().root, self.config)
        for reg in self._opened.layers:
            reg.loc.watch()
        return self._opened

    @property
    def workspace_root(self) -> Path:
        """Where relative paths of the configuration (datastores, datasets) start."""
        from amlrun.workspace import Workspace

        return self.root or Workspace.find().root

    @property
    def cache(self) -> Path:
        return self._registries().workspace / ".amlrun" / "registry-cache"

    @property
    def datatypes(self) -> Catalog:
        """Built-in port types, then registered ones (the registries open only when asked)."""
        from amlrun.registry.datatypes import find_type

        return Catalog(lambda name: find_type(self._registries(), name))

    def module(self, ref: str) -> Module:
        return self._registries().load(parse_ref(ref))

    def data(self, ref: str) -> str:
        """Where a data asset is read from: a registered version, else ``[tool.amlrun.
        datasets]`` (``"name:version"`` or ``name`` -> a path relative to the workspace, or a
        URL); NotRegistered when neither knows it."""
        from amlrun.registry.assets import data_path
        from amlrun.registry.layered import NotRegistered

        parsed = parse_ref(ref)
        try:
            found = self._registries().find(parsed, kind="data")
        except NotRegistered:
            table = self.config.get("datasets") or {}
            mapped = table.get(str(parsed)) or table.get(parsed.name)
            if not isinstance(mapped, str):
                raise
            if "://" in mapped:
                return mapped
            return str((self._registries().workspace / mapped).resolve())
        return data_path(found.registry, found.record, self.cache)

    def environment(self, env: Environment) -> Environment:
        """An ``azureml:`` (or registry URI) environment reference resolved: a registered
        version, else ``[tool.amlrun.environments]``, else a shipped curated definition;
        anything else unchanged (an unresolved reference gets the runner's note)."""
        from amlrun.registry.assets import environment_of, with_environment
        from amlrun.registry.curated import curated_environment
        from amlrun.registry.layered import NotRegistered

        ref = environment_ref(env.reference or "") if env.kind == "reference" else None
        if ref is None:
            return env
        try:
            found = self._registries().find(ref, kind="environments")
        except NotRegistered:
            mapped = self._mapped_environment(ref) or curated_environment(ref.name)
            return env if mapped is None else with_environment(env, mapped)
        return with_environment(env, environment_of(found.registry, found.record, self.cache))

    def _mapped_environment(self, ref: ModuleRef) -> Environment | None:
        """``[tool.amlrun.environments]``: ``"name:version"`` or ``name`` -> ``{image = ..,
        conda_file = .., pip = [..]}`` (a conda file relative to the workspace)."""
        from amlrun.errors import SpecError
        from amlrun.spec.common import conda_environment, read_conda

        table = {str(k).lower(): v for k, v in (self.config.get("environments") or {}).items()}
        spec = table.get(str(ref).lower()) or table.get(ref.name.lower())  # names: any case
        if spec is None:
            return None
        field = f"[tool.amlrun.environments] {ref.name}"
        if not isinstance(spec, dict) or not set(spec) <= {"image", "conda_file", "pip"}:
            raise SpecError(
                "must be a table of image, conda_file and/or pip",
                field=field,
                fix='write {pip = ["scikit-learn==1.5.2"]} or {image = "python:3.11"}',
            )
        if spec.get("pip"):
            if spec.get("image") or spec.get("conda_file"):
                raise SpecError(
                    "pip goes alone", field=field, fix="list pip packages in the conda file"
                )
            return Environment(kind="pip", pip=tuple(str(p) for p in spec["pip"]))
        conda, conda_file, missing = None, spec.get("conda_file"), None
        if conda_file:
            path = self._registries().workspace / str(conda_file)
            conda = read_conda(path, file=path, line=None, field=field)
            missing = None if conda is not None else path
        return conda_environment(conda, conda_file, spec.get("image"), missing)
