"""``amlrun serve``: the REST API (and web UI) of the workspace, runs from a queue."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from amlrun.errors import AmlrunError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--max-parallel-runs",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Runs executing at once; the others wait in the queue.",
)
def serve(host: str, port: int, max_parallel_runs: int) -> None:
    """Serve published pipelines over HTTP: submit runs, follow them, get their outputs.

    Every request needs a token (amlrun token create NAME --scope read|submit|admin).
    Queued runs survive a restart; runs cut short by one are marked interrupted.
    The workspace's schedules (amlrun schedule create) fire while it serves.
    """
    from amlrun.extras import missing_module
    from amlrun.server.tokens import has_tokens
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    if not is_loopback(host) and not has_tokens(ws.dir):
        raise AmlrunError(
            f"refusing to listen on {host} with no token: anyone could reach it. "
            "Create one first: amlrun token create NAME --scope admin"
        )
    try:
        import uvicorn

        from amlrun.server.app import create_app
    except ImportError as exc:
        found = missing_module(exc)
        raise AmlrunError(
            f"amlrun serve needs {found.name if found else 'fastapi'}: pip install 'amlrun[serve]'"
        ) from None
    with _one_server(ws.dir), _listening(host, port) as sock:
        if not has_tokens(ws.dir):
            click.echo("note: no tokens yet; create one: amlrun token create NAME --scope admin")
        from amlrun.server.schedules import SchedulerService

        app = create_app(ws, max_parallel_runs=max_parallel_runs, services=[SchedulerService()])
        click.echo(f"amlrun serve: http://{host}:{port}/ (API: /api/v1/openapi.json)", err=True)
        config = uvicorn.Config(app, log_level="info", access_log=True)
        uvicorn.Server(config).run(sockets=[sock])


@contextmanager
def _listening(host: str, port: int) -> Iterator[socket.socket]:
    """The bound socket, before anything starts: a busy port is a plain error (exit 2)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AmlrunError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (pick another with --port N)"
        ) from None
    with sock:
        yield sock


@contextmanager
def _one_server(amlrun_dir: Path) -> Iterator[None]:
    """Held while serving: two servers of one workspace would mark each other's runs
    interrupted at start."""
    import fcntl

    amlrun_dir.mkdir(parents=True, exist_ok=True)
    with open(amlrun_dir / "server.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AmlrunError(
                f"another amlrun serve is running for this workspace ({amlrun_dir})"
            ) from None
        yield
