"""The watchdog of one amlrun process: kills its steps when amlrun dies.

Started once per amlrun process with the read end of a pipe as stdin; amlrun writes
``+PGID`` when a step's process group starts and ``-PGID`` when it is gone, and
``C<engine> <id>`` / ``c<id>`` for a step's docker container. When the pipe closes (amlrun
exited, crashed or was SIGKILLed: the kernel closes its end either way), every group still
registered is killed, grandchildren included, and every container still registered is
removed through the engine's HTTP API. Standard library only: it runs as ``python -I -S``
so it starts in milliseconds.
"""

import contextlib
import http.client
import os
import signal
import socket
import sys


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def remove_container(engine: str, cid: str) -> None:
    """``docker rm -f`` over the engine's API (unix socket or plain tcp; TLS is not spoken)."""
    scheme, _, where = engine.partition("://")
    if scheme == "unix":
        conn: http.client.HTTPConnection = _UnixHTTPConnection(where)
    elif scheme in ("tcp", "http"):
        conn = http.client.HTTPConnection(where.rstrip("/"), timeout=30)
    else:
        return
    with contextlib.suppress(OSError, http.client.HTTPException):
        conn.request("DELETE", f"/containers/{cid}?force=1")
        conn.getresponse().read()
    conn.close()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is amlrun's to handle
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: set[int] = set()
    containers: dict[str, str] = {}  # id -> engine URL
    for raw in sys.stdin.buffer:
        op, arg = raw[:1], raw[1:].decode().strip()
        if op == b"+":
            groups.add(int(arg))
        elif op == b"-":
            groups.discard(int(arg))
        elif op == b"C":
            engine, cid = arg.rsplit(" ", 1)
            containers[cid] = engine
        elif op == b"c":
            containers.pop(arg, None)
    for pgid in groups:
        with contextlib.suppress(OSError):  # already gone
            os.killpg(pgid, signal.SIGKILL)
    for cid, engine in containers.items():
        remove_container(engine, cid)


if __name__ == "__main__":
    main()
