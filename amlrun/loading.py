"""Which loader a pipeline file needs: a ``.py`` file is a DSL pipeline, anything else YAML.

The dispatch sits above both loaders so that neither pipelines/ (YAML) nor dsl/ (Python)
needs the other to load a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics
from amlrun.pipelines.model import Pipeline


def load_pipeline(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    diags: Diagnostics | None = None,
    config: dict[str, Any] | None = None,
    cache_dir: Path | None = None,
) -> Pipeline:
    """A pipeline from v2 YAML, v1 YAML or a Python file with an ``@amlrun.pipeline``."""
    path = Path(path).resolve()
    if path.suffix == ".py":
        from amlrun.dsl.builder import pipeline_from_file
        from amlrun.pipelines.load import resolved
        from amlrun.registry.resolve import RegistryResolver

        resolver = RegistryResolver(config or {})
        return resolved(pipeline_from_file(path, overrides or {}), resolver)
    from amlrun.pipelines.load import load_yaml_pipeline

    return load_yaml_pipeline(path, overrides, diags, config, cache_dir)
