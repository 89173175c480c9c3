"""Concurrent runs of one workspace share ``.amlrun/snapshots`` and ``.amlrun/out``: what
one run's step is reading is never removed or replaced by another run."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from amlrun.engine.materialize import Staging


class _Snapshot:
    """A snapshot whose staging lets another run stage the same tree first, mid-way."""

    tree_hash = "0" * 32

    def __init__(self, meanwhile=None) -> None:
        self.meanwhile = meanwhile

    def stage(self, dest: Path) -> None:
        dest.mkdir(parents=True)
        (dest / "main.py").write_text("print('hi')\n")
        if self.meanwhile is not None:
            self.meanwhile()


def test_a_snapshot_another_run_staged_meanwhile_stays_the_one_in_use(tmp_path: Path):
    seen: dict[str, object] = {}

    def other_run_stages_and_starts_a_step() -> None:
        dest = Staging(tmp_path, None).snapshot(_Snapshot())
        seen["inode"] = os.stat(dest).st_ino
        seen["open"] = open(dest / "main.py")  # noqa: SIM115 - its step is reading it

    def other_run() -> None:  # on another thread: its temporary names are its own
        thread = threading.Thread(target=other_run_stages_and_starts_a_step)
        thread.start()
        thread.join()

    dest = Staging(tmp_path, None).snapshot(_Snapshot(other_run))

    assert os.stat(dest).st_ino == seen["inode"]  # not replaced under the other run's step
    assert (dest / "main.py").read_text() == "print('hi')\n"
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [_Snapshot.tree_hash]
    seen["open"].close()  # type: ignore[attr-defined]


def test_an_incomplete_snapshot_folder_is_replaced_by_a_complete_one(tmp_path: Path):
    left = tmp_path / "snapshots" / _Snapshot.tree_hash
    left.mkdir(parents=True)
    (left / "half.py").write_text("")  # a run was killed while removing it

    dest = Staging(tmp_path, None).snapshot(_Snapshot())

    assert sorted(p.name for p in dest.iterdir()) == [".amlrun-complete", "main.py"]
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [_Snapshot.tree_hash]


class _SlowStore:
    """Restores take a while, so a second run asks while the first is restoring."""

    def __init__(self) -> None:
        self.calls = 0
        self.busy = 0
        self.overlapped = False
        self.started = threading.Event()

    def materialize(self, entries: dict, dest: Path, is_file: bool) -> None:
        self.calls += 1
        self.busy += 1
        self.overlapped |= self.busy > 1
        self.started.set()
        time.sleep(0.3)
        tmp = dest.with_name(f".{dest.name}.{threading.get_ident()}")
        tmp.mkdir(parents=True)
        (tmp / "data.csv").write_text("a,b\n")
        if dest.exists():
            os.rename(dest, tmp.with_suffix(".old"))
        os.rename(tmp, dest)
        self.busy -= 1


def test_two_runs_needing_one_upstream_output_restore_it_once(tmp_path: Path):
    store = _SlowStore()
    spec = {"entries": {"data.csv": ["ab" * 16, 4, 0o644]}, "is_file": False}
    got: list[Path] = []
    first = threading.Thread(
        target=lambda: got.append(Staging(tmp_path, store).upstream("k" * 32, "o", spec))
    )
    first.start()
    store.started.wait(10)
    got.append(Staging(tmp_path, store).upstream("k" * 32, "o", spec))  # another run
    first.join()

    assert not store.overlapped
    assert store.calls == 1  # the second run found the first one's copy untouched
    assert got[0] == got[1] and (got[0] / "data.csv").read_text() == "a,b\n"
