"""Every workspace setting, in one table: the ``amlrun init`` template and
docs/configuration.md are generated from it, and a test checks that every key the code
reads is listed here, so the reference cannot drift from what amlrun does.

Settings live in ``[tool.amlrun]`` of pyproject.toml, refined by ``.amlrun/config.yaml``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    example: Any  # a value or, for a table, a mapping
    doc: str

    @property
    def is_table(self) -> bool:
        return isinstance(self.example, dict)


SETTINGS = (
    Setting(
        "store",
        ".amlrun/cache,s3://team-bucket/amlrun?ro",
        "The cache store: a folder or fsspec URL (s3://, memory://); comma-separate layers "
        "(the first one written), suffix a layer with ?ro to only read it. "
        "Default: .amlrun/cache. `--store` overrides it.",
    ),
    Setting(
        "link",
        "reflink",
        "How outputs are restored from a local store: reflink (falling back to copy), copy, "
        "or hardlink (cheapest, shares the store's read-only inode). `--link` overrides it.",
    ),
    Setting(
        "stores",
        {"s3": {"endpoint_url": "http://127.0.0.1:9000"}, "azure": {"account_name": "team"}},
        "Connection settings of remote stores, by protocol kind (s3, azure, or any fsspec "
        "protocol). Credentials never go here: they come from the libraries' environment "
        "variables (AWS_*, AZURE_STORAGE_*); a setting named like a key or secret is refused "
        "(see docs/ci.md).",
    ),
    Setting(
        "default_backend",
        "local",
        "Where a step runs when its compute is not mapped in `compute` (default: local).",
    ),
    Setting(
        "compute",
        {"cpu-cluster": "dask", "gpu-cluster": "docker"},
        "Compute names used in pipeline files (without `azureml:`) -> backend names. Once this "
        "table exists, a compute it does not name is an error.",
    ),
    Setting(
        "backends",
        {
            "docker": {"default_image": "python:3.11-slim"},
            "dask": {"scheduler": "tcp://127.0.0.1:8786"},
        },
        "Options of each backend, by backend name (see docs/backends.md).",
    ),
    Setting(
        "registry",
        "s3://team-bucket/registry",
        "Team module registries (one URL, or a list) layered after the workspace's own "
        "`.amlrun/registry`; `--registry` adds one. `azureml:name:version`, `@label` and "
        "`azureml:name` references resolve through them (see docs/registry.md).",
    ),
    Setting(
        "environments",
        {"AzureML-sklearn-1.0": {"pip": ["scikit-learn==1.5.2"]}},
        '`azureml:` environment names ("name:version" or name) -> {pip = [...]}, '
        "{image = ...} and/or {conda_file = ...} (relative to the workspace), used when the "
        "registry does not hold the environment.",
    ),
    Setting(
        "datasets",
        {"titanic:1": "./data/titanic.csv"},
        '`azureml:` data assets and v1 `dataset_name` ("name:version" or name) -> a path '
        "relative to the workspace or a URL, used when the registry does not hold them.",
    ),
    Setting(
        "datastores",
        {"workspaceblobstore": "./data"},
        "Datastore names -> a folder (relative to the workspace) or an fsspec URL: v2 "
        "`azureml://datastores/<name>/paths/<p>` inputs and v1 `data_references` "
        "(`datastore`, `path_on_datastore`) read `<root>/<p>`.",
    ),
)


def config_template() -> str:
    """``.amlrun/config.yaml`` as ``amlrun init`` writes it: every setting, commented."""
    import yaml

    lines = [
        "## amlrun workspace configuration. It refines [tool.amlrun] of pyproject.toml table",
        "## by table; every setting is optional. Uncomment what you need (the lines starting",
        "## with a single '#'); docs/configuration.md explains each one.",
    ]
    for s in SETTINGS:
        text = yaml.safe_dump({s.name: s.example}, sort_keys=False, default_flow_style=False)
        lines += [
            "",
            *(
                f"## {t}"
                for t in textwrap.wrap(s.doc.replace("`", "'"), 86, break_on_hyphens=False)
            ),
        ]
        lines += [f"# {line}" for line in text.rstrip().splitlines()]
    return "\n".join(lines) + "\n"


def reference() -> str:
    """docs/configuration.md: each setting with its meaning, in TOML and in YAML."""
    import yaml

    out = [
        "# Configuration reference",
        "",
        "Generated from `amlrun/settings.py` (`python -m amlrun.settings > "
        "docs/configuration.md`). Settings live in `[tool.amlrun]` of `pyproject.toml`, "
        "refined table by table by `.amlrun/config.yaml` (`amlrun init` writes a commented "
        "one). The workspace is the nearest folder at or above the current one with "
        "`.amlrun/`, `.git` or `pyproject.toml` (`$AMLRUN_WORKSPACE` overrides).",
    ]
    for s in SETTINGS:
        out += ["", f"## `{s.name}`", "", s.doc, "", "```toml", *_toml(s), "```", ""]
        out += ["```yaml", yaml.safe_dump({s.name: s.example}, sort_keys=False).rstrip(), "```"]
    return "\n".join(out) + "\n"


def _toml(s: Setting) -> list[str]:
    if not s.is_table:
        return ["[tool.amlrun]", f"{s.name} = {_value(s.example)}"]
    flat = {k: v for k, v in s.example.items() if not isinstance(v, dict)}
    lines = [f"[tool.amlrun.{s.name}]", *(f'"{k}" = {_value(v)}' for k, v in flat.items())]
    for sub, table in s.example.items():
        if isinstance(table, dict):
            lines += [f"[tool.amlrun.{s.name}.{sub}]"]
            lines += [f"{k} = {_value(v)}" for k, v in table.items()]
    return lines


def _value(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v).lower()


if __name__ == "__main__":
    print(reference(), end="")
