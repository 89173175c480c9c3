"""Which backend runs a step: its compute name mapped through ``[tool.amlrun.compute]``.

One backend instance per name and run, made on first use and closed when the run ends; the
notes a user should see (an unmapped compute, an environment the local backend cannot give)
are collected here once each.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from amlrun.backends.base import Backend
from amlrun.errors import SpecError
from amlrun.pipelines.model import Step


class Backends:
    def __init__(
        self,
        config: dict[str, Any],
        root: Path,
        *,
        override: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.root = root
        self.override = override
        self.options = options or {}
        self.notes: list[str] = []
        self._made: dict[str, Backend] = {}
        self._names: dict[str | None, str] = {}  # step.compute -> backend name, once a run
        self._lock = threading.Lock()

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def name_for(self, step: Step) -> str:
        """The backend name of ``step``: the override, its mapped compute, or the default."""
        from amlrun.backends.registry import compute_map

        if self.override is not None:
            return self.override
        mapping = compute_map(self.config)
        compute = (step.compute or "").removeprefix("azureml:") or None
        default = str(self.config.get("default_backend", "local"))
        if compute is None:
            return default
        if not mapping:
            self.note(
                f"compute '{compute}' runs on the {default} backend "
                "(map compute names in [tool.amlrun.compute])"
            )
            return default
        if compute in mapping:
            return mapping[compute]
        raise SpecError(
            f"compute '{compute}' of step '{step.name}' is not configured",
            file=step.source,
            line=step.line,
            field="compute",
            fix="map it in [tool.amlrun.compute]; configured: " + ", ".join(sorted(mapping)),
        )

    def for_step(self, step: Step) -> Backend:
        from amlrun.backends.registry import make_backend

        name = self._names.get(step.compute)
        if name is None:
            name = self._names[step.compute] = self.name_for(step)
        with self._lock:
            if name not in self._made:
                options = dict((self.config.get("backends") or {}).get(name) or {})
                options.update(self.options.get(name, {}))
                options.setdefault("workspace", str(self.root))
                self._made[name] = make_backend(name, options)
            return self._made[name]

    def close(self) -> None:
        for backend in self._made.values():
            backend.close()
