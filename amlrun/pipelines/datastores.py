"""Azure ML datastore paths mapped onto local folders or fsspec URLs.

``[tool.amlrun.datastores]`` maps a datastore name to a root (a folder relative to the
workspace, or a URL). v2 ``azureml://datastores/<name>/paths/<p>`` (also the long
``azureml://subscriptions/../workspaces/../datastores/..`` form) and v1 ``data_references``
(``datastore`` + ``path_on_datastore``) both become ``<root>/<p>``. An unmapped datastore
keeps the pipeline loadable (a cloud-only input) and its run stops with the line to add.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from amlrun.errors import SpecError
from amlrun.pipelines.model import Binding

_URI = re.compile(
    r"azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/(?:providers/"
    r"microsoft\.machinelearningservices/)?workspaces/[^/]+/)?datastores/([^/]+)/paths/(.*)$",
    re.IGNORECASE,
)


def datastore_uri(raw: str) -> tuple[str, str] | None:
    """(datastore, path) of an ``azureml://...datastores/<name>/paths/<p>`` URI, else None."""
    m = _URI.match(raw)
    return (m[1], m[2]) if m else None


def datastore_binding(
    name: str, rel: str, table: dict, root: Path, *, line: int | None, field: str
) -> Binding:
    """The data at ``rel`` in datastore ``name``: a path binding, or a cloud one naming the fix."""
    base = table.get(name)
    if not isinstance(base, str):
        return Binding(
            "cloud",
            f"datastore '{name}' is not mapped to a local folder or URL; add to "
            f'[tool.amlrun.datastores]: {name} = "PATH or URL"',
            line=line,
        )
    rel = rel.strip("/")
    if ".." in PurePosixPath(rel).parts:
        raise SpecError(
            f"path '{rel}' in datastore '{name}' leaves the datastore",
            line=line,
            field=field,
            fix="give a path inside the datastore, without '..'",
        )
    if "://" in base:
        return Binding("path", f"{base.rstrip('/')}/{rel}" if rel else base, line=line)
    return Binding("path", str((root / base / rel).resolve()), line=line)
