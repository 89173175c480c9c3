"""The FastAPI application of ``amlrun serve``: routes, error mapping, the dispatcher.

FastAPI (on Starlette) because request bodies are declared as typed models and checked
before a handler runs (a 422 names the field), and the OpenAPI document comes from the
same declarations; uvicorn serves it. Pipelines never run in the server process: the
dispatcher started with the app runs them in worker processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from amlrun.server.auth import Reader
from amlrun.server.dispatcher import Dispatcher
from amlrun.server.queue import IdempotencyConflict, Submission
from amlrun.server.submit import Invalid, NotFound, Refused
from amlrun.workspace import Workspace


class Service(Protocol):
    """Something running beside the API for the server's lifetime (e.g. a scheduler)."""

    def start(self, state: ServerState) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class ServerState:
    """What routes and in-process callers (schedules) share: ``app.state.amlrun``."""

    workspace: Workspace
    dispatcher: Dispatcher | None

    @property
    def root(self) -> Path:
        return self.workspace.root

    @property
    def amlrun_dir(self) -> Path:
        return self.workspace.dir

    def submit(self, sub: Submission, *, by: str, idempotency_key: str | None = None) -> str:
        """Queue a run of a published pipeline from inside the server; its run id."""
        from amlrun.server.submit import submit

        return submit(self, sub, by=by, idempotency_key=idempotency_key)


def create_app(
    workspace: Workspace,
    *,
    max_parallel_runs: int = 2,
    dispatch: bool = True,
    services: Sequence[Service] = (),
) -> FastAPI:
    """The app for ``workspace``; with ``dispatch``, queued runs start while it serves;
    ``services`` are started after the dispatcher and stopped before it."""
    from amlrun.server import api_pipelines, api_runs, auth, ui_routes

    dispatcher = Dispatcher(workspace.root, workspace.dir, max_parallel_runs) if dispatch else None
    state = ServerState(workspace, dispatcher)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if dispatcher is not None:
            dispatcher.start()
        started: list[Service] = []
        try:
            for service in services:
                service.start(state)
                started.append(service)
            yield
        finally:
            for service in reversed(started):
                service.stop()
            if dispatcher is not None:
                dispatcher.stop()

    app = FastAPI(
        title="amlrun",
        version=_version(),
        openapi_url=None,  # served below, behind a token like every route
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.amlrun = state
    app.include_router(auth.router)
    app.include_router(api_pipelines.router)
    app.include_router(api_runs.router)
    ui_routes.mount_ui(app)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi(_who: Reader) -> JSONResponse:
        return JSONResponse(app.openapi())

    _errors(app)
    return app


def _errors(app: FastAPI) -> None:
    def answer(status: int, detail: Any) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(Invalid)
    async def invalid(_r: Request, exc: Invalid) -> JSONResponse:
        return answer(422, exc.errors)

    @app.exception_handler(NotFound)
    async def not_found(_r: Request, exc: NotFound) -> JSONResponse:
        return answer(404, str(exc))

    @app.exception_handler(Refused)
    async def refused(_r: Request, exc: Refused) -> JSONResponse:
        return answer(409, str(exc))

    @app.exception_handler(IdempotencyConflict)
    async def conflict(_r: Request, exc: IdempotencyConflict) -> JSONResponse:
        return answer(409, str(exc))


def _version() -> str:
    from amlrun.version import __version__

    return __version__
