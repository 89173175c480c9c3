"""The docker backend: each step runs in a fresh container on a Docker engine on this machine.

The engine must see this machine's files (a local socket, not a remote engine): the step's
work folder is bind-mounted into the container. The command runs in a private, writable copy
of the snapshot (as on Azure ML and in the local backend), sees its inputs read-only and
writes its outputs through one read-write mount, as the invoking user so that what it
writes belongs to them. The container is removed whatever happens.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from amlrun.backends.api import (
    AmlrunError,
    Availability,
    Backend,
    Environment,
    Job,
    JobResult,
    folder_name,
    forget_container,
    new_workdir,
    output_path,
    owner_label,
    pid_alive,
    stage_snapshot,
    store_outputs,
    tracking_env,
    watch_container,
)
from amlrun_docker.images import resolve_image

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

DEFAULT_ENGINE = "unix:///var/run/docker.sock"  # where docker.from_env() looks without DOCKER_HOST
CODE = "/amlrun/code"  # the command's working directory
INPUTS = "/amlrun/inputs"
OUTPUTS = "/amlrun/outputs"
TRACKING = "/amlrun/tracking"  # holds the step's mlflow file store, moved to Job.tracking_dir
MLRUNS = PurePosixPath(TRACKING, "mlruns")  # a folder mlflow creates (it sets up a new store)
CLIENT_TIMEOUT_S = 60  # per API call; log streaming and waiting for the command are not limited
PROBE_TIMEOUT_S = 5  # availability() must answer quickly when the engine is down
POLL_S = 0.1  # how often a running step looks at its deadline and the user's cancel event
EXIT_TIMEOUT = 124  # what timeout(1) returns
EXIT_NOT_FOUND = 127  # what a shell returns for a command it cannot run
EXIT_CANCELLED = 130  # what a shell returns after Ctrl-C
LABEL = "amlrun.step"  # marks amlrun's containers, e.g. for `docker ps -a --filter label=...`
OWNER = "amlrun.owner"  # host:pid of the amlrun that made the container


class DockerBackend(Backend):
    """Steps in containers on a local Docker engine.

    Options: ``host`` (engine URL; default ``DOCKER_HOST``, else the engine's default socket),
    ``default_image`` (for environments naming no image; without it they are an error),
    ``user`` (``uid:gid`` the command runs as; default the invoking user's, ``""`` for the
    image's own user), ``network`` (container network mode for steps and builds, e.g.
    ``none``; default the engine's), ``workspace`` and ``tmp`` (where work folders go, as
    the local backend: ``<workspace>/.amlrun/tmp``).
    """

    name = "docker"
    description = "a fresh container per step on a local Docker engine (image resolved to its ID)"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self._lock = threading.Lock()  # steps run in parallel threads and share one client
        self._image_lock = threading.Lock()  # one build per environment, not one per step
        self._client: DockerClient | None = None
        self._images: dict[str, str] = {}  # repr(env) -> image ID, resolved once per run

    # ------------------------------------------------------------------ options

    @property
    def host(self) -> str | None:
        return self.options.get("host") or os.environ.get("DOCKER_HOST") or None

    @property
    def engine(self) -> str:
        """The engine's URL, for messages (the docker client shows sockets as localhost)."""
        return self.host or DEFAULT_ENGINE

    @property
    def user(self) -> str:
        user = self.options.get("user")
        return f"{os.getuid()}:{os.getgid()}" if user is None else str(user)

    @property
    def workspace(self) -> Path:
        return Path(self.options.get("workspace") or Path.cwd())

    # ------------------------------------------------------------------ Backend

    def availability(self) -> Availability:
        try:
            client = self._connect(PROBE_TIMEOUT_S)
            version = client.version().get("Version", "?")
        except AmlrunError as exc:
            return Availability(False, str(exc))
        except Exception as exc:  # the engine went away after connecting: say why
            return Availability(False, _unreachable(self.engine, exc))
        return Availability(True, f"docker {version} at {self.engine}")

    def environment_identity(self, env: Environment) -> str:
        return self._image(env)

    def execute(self, job: Job, cancel: Any = None) -> JobResult:
        from amlrun.backends.api import open_store

        image = self._image(job.environment)
        store = open_store(job.store_url, self.workspace)
        root = Path(self.options.get("tmp") or self.workspace / ".amlrun" / "tmp")
        work = new_workdir(root, job.step)
        try:
            mounts, paths, outputs = _stage(job, store, work)
            code, log, seconds = self._run(job, image, mounts, paths, cancel)
            produced = store_outputs(store, code, outputs)
            mlruns = work / "tracking" / MLRUNS.name
            if job.tracking_dir is not None and mlruns.is_dir():
                job.tracking_dir.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(mlruns, job.tracking_dir)
            return JobResult(
                code, seconds, produced, log, backend=self.name, detail={"image_id": image}
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # ------------------------------------------------------------------ helpers

    def _connect(self, timeout: float = CLIENT_TIMEOUT_S) -> DockerClient:
        """One client per backend, opened (and the engine pinged) on first use."""
        with self._lock:
            if self._client is not None:
                return self._client
            import docker
            from docker.errors import DockerException

            try:
                if self.host:
                    client = docker.DockerClient(base_url=self.host, timeout=timeout)
                else:  # also honours DOCKER_TLS_VERIFY / DOCKER_CERT_PATH
                    client = docker.from_env(timeout=timeout)
                client.ping()
            except DockerException as exc:
                raise AmlrunError(_unreachable(self.engine, exc)) from exc
            client.api.timeout = CLIENT_TIMEOUT_S
            _remove_orphans(client)
            self._client = client
            return client

    def _image(self, env: Environment) -> str:
        """The image ID of ``env``; built or looked up once per backend (i.e. per run)."""
        client = self._connect()
        key = repr(env)
        with self._image_lock:
            if key not in self._images:
                self._images[key] = resolve_image(
                    client,
                    env,
                    engine=self.engine,
                    default_image=self.options.get("default_image"),
                    network=self.options.get("network"),
                )
            return self._images[key]

    def _run(
        self,
        job: Job,
        image: str,
        mounts: list[Any],
        paths: dict[str, str],
        cancel: threading.Event | None,
    ) -> tuple[int, bytes, float]:
        """Run the command in a new container; returns (exit code, log, seconds)."""
        from docker.errors import APIError

        argv = job.argv(paths)
        env = {"HOME": "/tmp", "PYTHONUNBUFFERED": "1"}  # any uid can write /tmp
        env.update(dict(job.environment.variables))
        env.update(job.env_vars)
        if job.tracking_dir is not None:
            env.update(tracking_env(MLRUNS))
        container = self._connect().containers.create(
            image,
            entrypoint=argv[:1],  # the image's entrypoint would otherwise wrap the command
            command=argv[1:],
            working_dir=CODE,
            environment=env,
            user=self.user or None,
            mounts=mounts,
            network_mode=self.options.get("network"),
            labels={LABEL: job.step, "amlrun.key": job.key, OWNER: owner_label()},
        )
        watch_container(self.engine, container.id)  # removed even if amlrun is killed
        try:
            start = time.perf_counter()
            try:
                container.start()
            except APIError as exc:  # e.g. the program is not in the image
                return EXIT_NOT_FOUND, f"amlrun: {exc.explanation}\n".encode(), 0.0
            stopper = _Stopper(container, cancel, job.timeout_s)
            echo = job.on_output or (_echo() if job.stream_logs else None)
            try:
                chunks: list[bytes] = []
                for chunk in container.logs(stream=True, follow=True):
                    chunks.append(chunk)
                    if echo is not None:
                        echo(chunk)
                code = int(container.wait()["StatusCode"])
            finally:
                stopper.done.set()
            seconds = time.perf_counter() - start
            if stopper.reason:
                code = EXIT_TIMEOUT if stopper.reason == "timeout" else EXIT_CANCELLED
                chunks.append(f"\namlrun: {stopper.message}\n".encode())
            return code, b"".join(chunks), seconds
        finally:
            container.remove(force=True)
            forget_container(container.id)


def _remove_orphans(client: DockerClient) -> None:
    """Remove containers a dead amlrun on this machine left behind (its watchdog could not)."""
    from docker.errors import APIError

    here = owner_label().rsplit(":", 1)[0]
    for container in client.containers.list(all=True, filters={"label": OWNER}):
        host, _, pid = container.labels.get(OWNER, "").rpartition(":")
        if host == here and pid.isdigit() and not pid_alive(int(pid)):
            with contextlib.suppress(APIError):  # another run removed it first
                container.remove(force=True)


def _echo() -> Callable[[bytes], None]:
    """Writes log bytes to stdout, which may be a text-only stream (doit replaces it)."""
    out = sys.stdout
    binary = getattr(out, "buffer", None)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # chunks split characters

    def write(chunk: bytes) -> None:
        if binary is not None:
            binary.write(chunk)
            binary.flush()
        else:
            out.write(decoder.decode(chunk))
            out.flush()

    return write


class _Stopper:
    """Kills a container when the user cancels or its time is up, and says which happened."""

    def __init__(
        self, container: Container, cancel: threading.Event | None, timeout_s: float | None
    ) -> None:
        self.done = threading.Event()
        self.reason: str | None = None
        self.message = ""
        self._container = container
        self._cancel = cancel
        self._timeout_s = timeout_s
        self._deadline = time.monotonic() + timeout_s if timeout_s else None
        threading.Thread(target=self._watch, name=f"stop-{container.short_id}", daemon=True).start()

    def _watch(self) -> None:
        from docker.errors import APIError

        while not self.done.wait(POLL_S):
            if self._cancel is not None and self._cancel.is_set():
                self.reason, self.message = "cancel", "cancelled; the container was killed"
            elif self._deadline is not None and time.monotonic() > self._deadline:
                self.reason = "timeout"
                self.message = f"timed out after {self._timeout_s:g} s; the container was killed"
            else:
                continue
            with contextlib.suppress(APIError):  # it exited on its own meanwhile
                self._container.kill()
            return


def _stage(job: Job, store: Any, work: Path) -> tuple[list[Any], dict[str, str], dict[str, Path]]:
    """The work folder's mounts, the container path of each port, and each output's host path.

    ``work/code`` is a copy of the snapshot (only its files, whatever else the folder holds),
    mounted read-write; inputs are mounted read-only where they are (file inputs as files,
    keeping their name); ``work/outputs`` holds every output, created first as Azure ML does.
    """
    from docker.types import Mount

    code = work / "code"
    stage_snapshot(job, store, code)
    mounts = [Mount(CODE, str(code), type="bind")]
    paths: dict[str, str] = {}
    for name, inp in job.inputs.items():
        source = inp.path
        if source is None:  # only in the store: fetch it next to the code
            source = inp.fetched_path(work)
            store.materialize(inp.entries, source, inp.is_file)
        source = Path(source).resolve()
        folder = f"{INPUTS}/{folder_name(name)}"
        target = f"{folder}/{inp.file_name or source.name}" if inp.is_file else folder
        mounts.append(Mount(target, str(source), type="bind", read_only=True))
        paths[name] = target
    outputs: dict[str, Path] = {}
    (work / "outputs").mkdir()
    for name in job.outputs:
        port = job.module.output(name)
        outputs[name] = output_path(work, name)
        if port is None or not port.is_file:
            outputs[name].mkdir()
        paths[name] = f"{OUTPUTS}/{outputs[name].name}"
    mounts.append(Mount(OUTPUTS, str(work / "outputs"), type="bind"))
    if job.tracking_dir is not None:
        (work / "tracking").mkdir()
        mounts.append(Mount(TRACKING, str(work / "tracking"), type="bind"))
    return mounts, paths, outputs


def _unreachable(engine: str, exc: Exception) -> str:
    return (
        f"cannot reach a docker engine at {engine}: {exc}. Start one and point DOCKER_HOST (or "
        "the docker backend's 'host' option) at it; for an isolated engine run "
        "'.ci/docker-engine.sh start', which prints the DOCKER_HOST to use"
    )
