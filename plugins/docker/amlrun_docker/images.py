"""Environments as Docker images, each resolved to the image ID that goes into the step key.

An image name resolves to its ID, so retagging a name to another image changes the key. An
image plus a conda file, pip packages, or a build context is built once, tagged by a hash of
what it is built from (``amlrun-env:<hash>``), and reused by every later run and repository.
Nothing is pulled: an image that is not on the engine is an error saying how to get it, so a
key never depends on whatever a registry serves at that moment.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.backends.api import (
    AmlrunError,
    Environment,
    SpecError,
    environment_spec_identity,
    pip_requirements,
)

if TYPE_CHECKING:
    from docker import DockerClient

ENV_REPOSITORY = "amlrun-env"
RECIPE_VERSION = 1  # bump when the generated Dockerfile changes, so old builds are not reused
BUILD_TIMEOUT_S = 3600  # one HTTP request spans the whole build
BUILD_LOG_TAIL = 30  # lines of a failed build's log quoted in the error
#: conda packages the image itself must provide (pip installs into its python)


def resolve_image(
    client: DockerClient,
    env: Environment,
    *,
    engine: str,
    default_image: str | None,
    network: str | None,
) -> str:
    """The ID of the image ``env`` runs in (on ``engine``), building it if it never was."""
    if env.kind == "build":
        if not env.build_context:
            raise SpecError("a docker build environment has no build context", field="environment")
        return _build(
            client, env.build_context, env.dockerfile, environment_spec_identity(env), network
        )
    base = env.image or default_image
    if base is None:
        raise AmlrunError(
            f"the docker backend needs an image for the environment '{env.describe()}': give "
            "the module's environment an image, or set the docker backend's 'default_image' "
            "option (e.g. amlrun-test-python:bookworm)"
        )
    base_id = image_id(client, base, engine)
    if env.conda is None and not env.pip and env.kind not in ("conda", "pip"):
        return base_id
    reqs = pip_requirements(
        env,
        fix="move them to the pip: section (the image's pip installs them), or build an "
        "image that has them and name it as the environment's image",
    )
    with tempfile.TemporaryDirectory(prefix="amlrun-env-") as tmp:
        _write_context(Path(tmp), base_id, reqs)
        return _build(
            client, tmp, None, {"env": environment_spec_identity(env), "base": base_id}, network
        )


def image_id(client: DockerClient, name: str, engine: str) -> str:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(name).id
    except ImageNotFound:
        raise AmlrunError(
            f"docker image '{name}' is not on the docker engine at {engine}: run "
            f"'docker pull {name}' (or 'docker build -t {name} <folder>') first; amlrun does "
            "not pull images, so a step's key never depends on what a registry serves today"
        ) from None


def _write_context(folder: Path, base_id: str, reqs: list[str]) -> None:
    """A Dockerfile installing ``reqs`` into the base image's python (no conda offline)."""
    lines = [f"FROM {base_id}"]
    if reqs:
        (folder / "requirements.txt").write_text("\n".join(reqs) + "\n")
        # the pip variables apply to this RUN only: the image's own pip settings stay as they are
        lines += [
            "COPY requirements.txt /tmp/amlrun-requirements.txt",
            "RUN PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "
            '"$(command -v python || command -v python3)" -m pip install '
            "-r /tmp/amlrun-requirements.txt && rm /tmp/amlrun-requirements.txt",
        ]
    (folder / "Dockerfile").write_text("\n".join(lines) + "\n")


def _build(
    client: DockerClient,
    context: str,
    dockerfile: str | None,
    recipe: object,
    network: str | None,
) -> str:
    """Build ``context`` once per recipe: an existing ``amlrun-env:<hash>`` tag is reused."""
    from docker.errors import APIError, BuildError, ImageNotFound

    canonical = json.dumps({"v": RECIPE_VERSION, "recipe": recipe}, sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:20]
    tag = f"{ENV_REPOSITORY}:{digest}"
    try:
        return client.images.get(tag).id
    except ImageNotFound:
        pass
    try:
        image, _log = client.images.build(
            path=context,
            dockerfile=dockerfile,
            tag=tag,
            rm=True,
            forcerm=True,
            pull=False,
            network_mode=network,
            labels={"amlrun.environment": digest},
            timeout=BUILD_TIMEOUT_S,
        )
    except BuildError as exc:
        lines = [str(c.get("stream") or c.get("error") or "") for c in exc.build_log]
        tail = "".join(lines).splitlines()[-BUILD_LOG_TAIL:]
        raise AmlrunError(
            f"building the docker environment {tag} from {context} failed: {exc.msg}\n"
            + "\n".join(tail)
        ) from None
    except APIError as exc:
        raise AmlrunError(
            f"the docker engine refused to build {tag} from {context}: {exc.explanation}"
        ) from None
    return image.id
