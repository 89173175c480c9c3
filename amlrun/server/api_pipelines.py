"""``/api/v1/pipelines``: the published pipelines, their versions, and submitting runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from amlrun.server.auth import Admin, Reader, Submitter
from amlrun.server.queue import Submission

router = APIRouter(prefix="/api/v1/pipelines", tags=["pipelines"])


class RunRequest(BaseModel):
    """A submission: parameter values, data inputs (paths in the workspace or URLs) and the
    version to run (default: the endpoint's default version)."""

    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, Any] = Field(default_factory=dict)
    version: str | None = None


def _registry(request: Request):
    from amlrun.registry.pipelines import pipeline_registry

    return pipeline_registry(request.app.state.amlrun.root)


def _versions(request: Request, name: str) -> list[dict[str, Any]]:
    from amlrun.registry.pipelines import version_rows

    return version_rows(_registry(request), name)


@router.get("")
def list_pipelines(request: Request, _who: Reader) -> dict:
    """Every published pipeline with its default version and interface."""
    out = []
    for name in _registry(request).names():
        versions = _versions(request, name)
        default = next((v for v in versions if v["default"]), versions[-1])
        out.append({"name": name, "default_version": default["version"], **default})
    return {"pipelines": out}


@router.get("/{name}")
def show_pipeline(request: Request, name: str, _who: Reader) -> dict:
    """A published pipeline's versions: default, disabled, digest, parameters, inputs."""
    versions = _versions(request, name)
    if not versions:
        raise HTTPException(404, f"no published pipeline named '{name}'")
    return {"name": name, "versions": versions}


@router.post("/{name}/runs", status_code=202)
def submit_run(
    request: Request,
    response: Response,
    name: str,
    body: RunRequest,
    who: Submitter,
    idempotency_key: str | None = Header(None, max_length=200),
) -> dict:
    """Queue a run of the published pipeline: 202 with its id, which ``/api/v1/runs/{id}``
    follows. The same ``Idempotency-Key`` again returns the first run instead of a new one."""
    from amlrun.server.submit import submit

    sub = Submission(name, body.version, body.parameters, body.inputs)
    state = request.app.state.amlrun
    run_id = submit(state, sub, by=who.name, idempotency_key=idempotency_key)
    return {"run_id": run_id, "status_url": f"/api/v1/runs/{run_id}"}


class DefaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str


def _version_or_404(request: Request, name: str, version: str) -> Any:
    reg = _registry(request)
    if version not in reg.versions(name):
        raise HTTPException(404, f"published pipeline {name} has no version {version}")
    return reg


@router.put("/{name}/default")
def set_default(request: Request, name: str, body: DefaultRequest, _who: Admin) -> dict:
    """Make ``version`` the one submissions naming no version run (admin)."""
    _version_or_404(request, name, body.version).set_label(name, "default", body.version)
    return {"name": name, "default_version": body.version}


@router.post("/{name}/versions/{version}/disable")
def disable(request: Request, name: str, version: str, _who: Admin) -> dict:
    """Refuse submissions to ``version`` (admin); it stays stored."""
    _version_or_404(request, name, version).set_disabled(name, version, True)
    return {"name": name, "version": version, "disabled": True}


@router.post("/{name}/versions/{version}/enable")
def enable(request: Request, name: str, version: str, _who: Admin) -> dict:
    """Accept submissions to ``version`` again (admin)."""
    _version_or_404(request, name, version).set_disabled(name, version, False)
    return {"name": name, "version": version, "disabled": False}
