"""The team caches bench/remote.py measures against: moto's S3 and Azurite on 127.0.0.1,
started and stopped as the tests start them (tests/fixtures/moto.py, azurite.py), each with
a counting proxy in front (tests/fixtures/counting_proxy.py) that the measured job talks to."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures import azurite, moto
from tests.fixtures.counting_proxy import CountingProxy, counting_proxy

BUCKET = "amlrun-bench"
_AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


@dataclass
class Server:
    name: str  # s3 | azure
    url: str  # the team cache's store URL
    direct: dict[str, str]  # environment reaching the server itself (the writer fills it)
    counted: dict[str, str]  # environment reaching it through the proxy (the measured job)
    proxy: CountingProxy

    fs_options: dict

    def fs(self):
        """The server's filesystem, to size what the store holds (not through the proxy)."""
        import fsspec

        return fsspec.filesystem(self.url.split("://")[0], **self.fs_options)

    def path(self, rel: str) -> str:
        return f"{self.url.split('://', 1)[1]}/{rel}"


def _clean_env() -> dict[str, str]:
    drop = ("AWS_", "AZURE_STORAGE_", "FSSPEC_S3_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


@contextlib.contextmanager
def s3() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="amlrun-bench-moto-"))
    proc, endpoint = moto.start_moto(folder / "moto.log")
    try:
        moto.create_bucket(endpoint, BUCKET)
        base = {**_clean_env(), **_AWS, "AWS_DEFAULT_REGION": "us-east-1"}
        with counting_proxy(endpoint) as proxy:
            yield Server(
                "s3",
                f"s3://{BUCKET}/cache",
                {**base, "AWS_ENDPOINT_URL": endpoint},
                {**base, "AWS_ENDPOINT_URL": proxy.endpoint},
                proxy,
                {"key": "bench", "secret": "bench", "client_kwargs": {"endpoint_url": endpoint}},
            )
    finally:
        moto.stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def azure() -> Iterator[Server]:
    command = azurite.azurite_command()
    if command is None or shutil.which("node") is None:
        raise RuntimeError("Azurite is not installed (npm install azurite; see .ci/run)")
    folder = Path(tempfile.mkdtemp(prefix="amlrun-bench-azurite-"))
    proc, endpoint, conn = azurite.start_azurite(command, folder)
    try:
        azurite.create_container(conn, BUCKET)
        with counting_proxy(endpoint.rsplit("/", 1)[0]) as proxy:
            port = int(proxy.endpoint.rsplit(":", 1)[1])
            var = "AZURE_STORAGE_CONNECTION_STRING"
            yield Server(
                "azure",
                f"abfs://{BUCKET}/cache",
                {**_clean_env(), var: conn},
                {**_clean_env(), var: azurite.connection_string(port)},
                proxy,
                {"connection_string": conn},
            )
    finally:
        moto.stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


SERVERS = {"s3": s3, "azure": azure}
