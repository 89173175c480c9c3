"""The watchdog of one amlrun process: kills its steps' process groups when amlrun dies.

Started once per amlrun process with the read end of a pipe as stdin; amlrun writes
``+PGID`` when a step's process group starts and ``-PGID`` when it is gone. When the pipe
closes (amlrun exited, crashed or was SIGKILLed: the kernel closes its end either way), every
group still registered is killed, grandchildren included. Standard library only: it runs as
``python -I -S`` so it starts in milliseconds.
"""

import contextlib
import os
import signal
import sys


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is amlrun's to handle
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin.buffer:
        op, pgid = line[:1], int(line[1:])
        if op == b"+":
            groups.add(pgid)
        else:
            groups.discard(pgid)
    for pgid in groups:
        with contextlib.suppress(OSError):  # already gone
            os.killpg(pgid, signal.SIGKILL)


if __name__ == "__main__":
    main()
