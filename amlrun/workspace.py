"""The workspace: the ``.amlrun/`` folder of a repository (runs, local store, config).

Found like git and DVC find theirs: the nearest folder at or above the current one holding
``.amlrun/``, ``.git`` or ``pyproject.toml``. Commands that only read (``status``,
``runs list``...) never create ``.amlrun/``: without one they work on an empty throwaway
state (:meth:`Workspace.scratch`), so looking never litters a folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError

_MARKERS = (".amlrun", ".git", "pyproject.toml")


@dataclass(frozen=True)
class Workspace:
    root: Path
    state: Path | None = None  # where runs, logs and caches go; None: <root>/.amlrun

    @classmethod
    def find(cls, start: Path | None = None) -> Workspace:
        """The nearest folder at or above ``start`` holding .amlrun/, .git or pyproject.toml."""
        env = os.environ.get("AMLRUN_WORKSPACE")
        if env:
            return cls(Path(env).resolve())
        start = (start or Path.cwd()).resolve()
        for folder in (start, *start.parents):
            if any((folder / m).exists() for m in _MARKERS):
                return cls(folder)
        return cls(start)

    @property
    def dir(self) -> Path:
        return self.state or self.root / ".amlrun"

    @property
    def exists(self) -> bool:
        return (self.root / ".amlrun").is_dir()

    @contextmanager
    def scratch(self) -> Iterator[Workspace]:
        """This workspace, or, if it has no ``.amlrun/`` yet, one whose state is a temporary
        folder removed afterwards: for commands that must not create a workspace."""
        if self.exists:
            yield self
            return
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="amlrun-readonly-"))
        try:
            yield replace(self, state=tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @property
    def tmp(self) -> Path:
        return self.dir / "tmp"

    @property
    def statcache_path(self) -> Path:
        return self.dir / "statcache"

    @cached_property
    def config(self) -> dict[str, Any]:
        """``[tool.amlrun]`` in pyproject.toml, overlaid by ``.amlrun/config.yaml``."""
        cfg: dict[str, Any] = {}
        pyproject = self.root / "pyproject.toml"
        if pyproject.is_file():
            import tomllib

            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise SpecError(f"invalid TOML: {exc}", file=pyproject) from None
            cfg.update(data.get("tool", {}).get("amlrun", {}))
        yml = self.dir / "config.yaml"
        if yml.is_file():
            from amlrun.spec import yamlio

            data = yamlio.load(yml)
            if data is not None and not isinstance(data, dict):
                raise SpecError("must be a mapping", file=yml, fix="write 'key: value' lines")
            _merge(cfg, data or {})
        return cfg


def _merge(base: dict[str, Any], over: dict[str, Any]) -> None:
    """Overlay ``over`` onto ``base`` table by table (config.yaml refines pyproject.toml)."""
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
