"""The cache store: what a user can rely on from a local folder, memory://, S3 and layers."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from amlrun.cache.store import LayeredStore, Store, open_store
from amlrun.errors import AmlrunError
from amlrun.hashing import hash_bytes

DAY = 86400.0


def _tree(root: Path) -> Path:
    """A small output folder: nested files, an executable, an empty file, duplicate bytes."""
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.bin").write_bytes(bytes(range(256)) * 10)
    (root / "sub" / "deep" / "same.txt").write_text("alpha\n")
    (root / "empty").write_bytes(b"")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    return root


def _files(root: Path) -> dict[str, tuple[bytes, bool]]:
    """relpath -> (bytes, executable) of every file under ``root``."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), bool(p.stat().st_mode & stat.S_IXUSR))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _manifest(outputs: dict[str, tuple[dict, bool]], **extra: object) -> dict:
    return {
        "outputs": {n: {"is_file": f, "entries": e} for n, (e, f) in outputs.items()},
        "step": "train",
        **extra,
    }


@pytest.fixture
def memory_url() -> Iterator[str]:
    import fsspec

    name = f"amlrun-test-{uuid.uuid4().hex}"
    yield f"memory://{name}"
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{name}"):
        fs.rm(f"/{name}", recursive=True)


@pytest.fixture(params=["local", "memory"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "store")
    return request.getfixturevalue("memory_url")


def _blob_file(store_dir: Path, h: str) -> Path:
    return store_dir / "cas" / h[:2] / h


# ---------------------------------------------------------------- round trips


def test_a_tree_and_a_file_come_back_identical(store_url: str, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    store = open_store(store_url, tmp_path)

    entries, is_file = store.put_tree(src)
    log = store.put_bytes(b"step log\n")
    single, single_is_file = store.put_tree(src / "a.txt")
    store.put_manifest("k1", _manifest({"out": (entries, is_file), "f": (single, True)}, log=log))

    assert not is_file and single_is_file
    assert set(entries) == {"a.txt", "sub/b.bin", "sub/deep/same.txt", "empty", "run.sh"}
    assert entries["run.sh"][2] == 0o755 and entries["a.txt"][2] == 0o644
    assert list(single) == [""]
    reopened = open_store(store.url, tmp_path / "elsewhere")
    manifest = reopened.get_manifest("k1")
    assert manifest is not None and manifest["v"] == 1 and manifest["key"] == "k1"
    assert manifest["outputs"]["out"]["entries"] == entries
    assert reopened.get_bytes(manifest["log"]) == b"step log\n"
    reopened.materialize(entries, tmp_path / "dest" / "out", False)
    reopened.materialize(single, tmp_path / "dest" / "a.txt", True)
    assert _files(tmp_path / "dest" / "out") == _files(src)
    assert (tmp_path / "dest" / "a.txt").read_text() == "alpha\n"


def test_materialize_replaces_what_is_already_at_the_destination(
    store_url: str, tmp_path: Path
) -> None:
    store = open_store(store_url, tmp_path)
    entries, _ = store.put_tree(_tree(tmp_path / "src"))
    dest = tmp_path / "dest"
    (dest / "stale").mkdir(parents=True)
    (dest / "stale" / "old.txt").write_text("old")

    store.materialize(entries, dest, False)

    assert not (dest / "stale").exists()
    assert _files(dest) == _files(tmp_path / "src")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # nothing left aside


def test_a_manifest_is_refused_while_a_blob_it_needs_is_missing(
    store_url: str, tmp_path: Path
) -> None:
    store = open_store(store_url, tmp_path)
    entries, _ = store.put_tree(_tree(tmp_path / "src"))
    lost = hash_bytes(b"never stored")
    broken = {**entries, "lost.txt": [lost, 12, 0o644]}

    with pytest.raises(AmlrunError, match=rf"refusing .* {lost} \(output 'out' lost.txt\)"):
        store.put_manifest("k1", _manifest({"out": (broken, False)}))
    with pytest.raises(AmlrunError, match=r"\(log\)"):
        store.put_manifest("k1", _manifest({"out": (entries, False)}, log=lost))

    assert not store.has_manifest("k1")
    assert store.get_manifest("k1") is None


def test_a_truncated_or_corrupt_manifest_reads_as_absent(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store"), tmp_path)
    entries, is_file = store.put_tree(_tree(tmp_path / "src"))
    store.put_manifest("k1", _manifest({"out": (entries, is_file)}))
    path = tmp_path / "store" / "steps" / "k1.json"
    good = path.read_bytes()

    for bad in (good[: len(good) // 2], b"", b"\xff\xfe not json", b"[1, 2]", b'{"v": 99}'):
        path.write_bytes(bad)
        assert store.get_manifest("k1") is None
    assert any("steps/k1.json: unreadable manifest" in p for p in store.verify())


def test_a_corrupt_manifest_on_a_remote_store_reads_as_absent(memory_url: str) -> None:
    import fsspec

    store = open_store(memory_url, Path("."))
    store.put_manifest("k1", _manifest({"out": ({}, False)}))
    fsspec.filesystem("memory").pipe_file(f"/{memory_url[9:]}/steps/k1.json", b'{"v": 1, "out')

    assert store.has_manifest("k1")
    assert store.get_manifest("k1") is None


# ---------------------------------------------------------------- local disk


def test_a_local_store_copies_user_files_in_and_restores_read_only_copies(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    store_dir = tmp_path / "store"
    store = open_store(str(store_dir), tmp_path)

    entries, _ = store.put_tree(src)
    store.materialize(entries, tmp_path / "dest", False)

    text = _blob_file(store_dir, entries["a.txt"][0])
    restored = tmp_path / "dest" / "a.txt"
    assert text.stat().st_ino != (src / "a.txt").stat().st_ino  # the user's file stays theirs
    assert stat.S_IMODE((src / "a.txt").stat().st_mode) == 0o644  # and writable
    assert restored.stat().st_ino != text.stat().st_ino  # a restore is a copy (or reflink)
    assert stat.S_IMODE(text.stat().st_mode) == 0o444
    assert stat.S_IMODE(restored.stat().st_mode) == 0o444  # read-only either way
    script = tmp_path / "dest" / "run.sh"
    assert stat.S_IMODE(script.stat().st_mode) == 0o555 and os.access(script, os.X_OK)
    assert subprocess.run([str(script)], capture_output=True, text=True).stdout == "hi\n"
    blob = _blob_file(store_dir, entries["run.sh"][0])
    assert not blob.stat().st_mode & 0o111  # a blob is never executable
    assert store.local_blob_path(entries["a.txt"][0]) == text


def test_a_runners_temporary_outputs_are_moved_into_a_local_store(tmp_path: Path) -> None:
    src = _tree(tmp_path / "outputs")
    inode = (src / "a.txt").stat().st_ino
    store = open_store(str(tmp_path / "store"), tmp_path)

    entries, _ = store.put_tree(src, move=True)

    blob = _blob_file(tmp_path / "store", entries["a.txt"][0])
    assert blob.stat().st_ino == inode and blob.stat().st_nlink == 1  # moved, not linked
    assert not (src / "a.txt").exists()
    assert store.verify() == []


def test_hardlinks_are_used_only_when_asked_for_and_are_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _tree(tmp_path / "src")
    store = open_store(str(tmp_path / "store"), tmp_path, link="hardlink")
    entries, _ = store.put_tree(src)

    store.materialize(entries, tmp_path / "linked", False)

    blob = store.local_blob_path(entries["a.txt"][0])
    assert (tmp_path / "linked" / "a.txt").stat().st_ino == blob.stat().st_ino
    assert stat.S_IMODE(blob.stat().st_mode) == 0o444
    assert (tmp_path / "linked" / "run.sh").stat().st_ino != (  # executables are copied
        store.local_blob_path(entries["run.sh"][0]).stat().st_ino
    )

    def cross_device(*args: object, **kwargs: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)  # where linking is impossible: copies
    store.materialize(entries, tmp_path / "copied", False)
    assert _files(tmp_path / "copied") == _files(src)
    assert store.verify() == []


def test_reading_a_local_store_imports_no_fsspec(tmp_path: Path) -> None:
    """A null rerun only asks the local store: it must not pay for importing fsspec."""
    code = (
        "import sys; from pathlib import Path; from amlrun.cache.store import open_store; "
        f"s = open_store(None, Path({str(tmp_path)!r})); "
        "assert not s.has_manifest('k') and s.get_manifest('k') is None; "
        "assert 'fsspec' not in sys.modules, 'fsspec imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------- concurrency


def _write_often(url: str, workdir: str, writer: int, rounds: int) -> int:
    """One runner storing its own result for the shared key, over and over."""
    store = open_store(url, Path(workdir))
    for i in range(rounds):
        out = Path(workdir, f"w{writer}-{i}")
        out.mkdir()
        (out / "shared.txt").write_text("same bytes from every writer\n")
        (out / "own.txt").write_text(f"writer {writer} round {i}\n" * (i + 1) * 100)
        entries, _ = store.put_tree(out)
        store.put_manifest("shared-key", _manifest({"out": (entries, False)}, writer=writer))
    return rounds


def _read_often(url: str, workdir: str, seconds: float) -> tuple[int, int]:
    """A runner deciding reuse meanwhile: (entries seen, times an entry was gone or broken)."""
    store = open_store(url, Path(workdir))
    seen = bad = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = store.get_manifest("shared-key")
        if got is None:
            bad += seen > 0  # absent is fine only before the first write
            continue
        seen += 1
        entries = got["outputs"]["out"]["entries"]
        bad += not all(store.has_blob(h) for h, _size, _mode in entries.values())
    return seen, bad


def test_two_runners_writing_one_key_both_succeed(tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        readers = [pool.apply_async(_read_often, (url, str(tmp_path), 2.5)) for _ in (1, 2)]
        writers = [pool.apply_async(_write_often, (url, str(tmp_path), w, 150)) for w in (1, 2)]
        assert [w.get(timeout=120) for w in writers] == [150, 150]
        for reader in readers:
            seen, bad = reader.get(timeout=120)
            assert seen > 0 and bad == 0, f"{bad} of {seen} reads found no usable entry"

    store = open_store(url, tmp_path)
    manifest = store.get_manifest("shared-key")
    assert manifest is not None and manifest["writer"] in (1, 2)
    assert store.verify() == []
    assert not [p for p in (tmp_path / "store").rglob("*") if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- verify and gc


def test_verify_reports_a_corrupted_blob_and_a_missing_one(store_url: str, tmp_path: Path) -> None:
    import fsspec

    store = open_store(store_url, tmp_path)
    entries, is_file = store.put_tree(_tree(tmp_path / "src"))
    store.put_manifest("k1", _manifest({"out": (entries, is_file)}))
    assert store.verify() == []
    corrupt, lost = entries["sub/b.bin"][0], entries["run.sh"][0]
    if "://" in store_url:
        fs, root = fsspec.core.url_to_fs(store_url)
        fs.pipe_file(f"{root}/cas/{corrupt[:2]}/{corrupt}", b"bit rot")
        fs.rm_file(f"{root}/cas/{lost[:2]}/{lost}")
    else:
        blob = _blob_file(Path(store_url), corrupt)
        blob.unlink()  # the blob is a read-only link to the source: replace it, as rot would
        blob.write_bytes(b"bit rot")
        _blob_file(Path(store_url), lost).unlink()

    problems = store.verify()

    assert any(corrupt in p and "corrupt" in p for p in problems), problems
    assert any("output 'out' run.sh" in p and lost in p and "missing" in p for p in problems)
    assert len(problems) == 2


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_gc_removes_old_entries_then_blobs_nothing_needs(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store = open_store(str(store_dir), tmp_path)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "only-old.txt").write_text("only the old entry has this")
    (tmp_path / "old" / "both.txt").write_text("both entries have this")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "both.txt").write_text("both entries have this")
    old, _ = store.put_tree(tmp_path / "old")
    new, _ = store.put_tree(tmp_path / "new")
    stray = store.put_bytes(b"a blob no entry refers to")
    fresh_stray = store.put_bytes(b"written a moment ago, its entry is on its way")
    store.put_manifest("old", _manifest({"out": (old, False)}))
    store.put_manifest("new", _manifest({"out": (new, False)}))
    store.put_manifest("used", _manifest({"out": (new, False)}))
    for p in [*store_dir.rglob("*")]:
        if p.is_file() and fresh_stray not in p.name:
            _age(p, 2 * DAY)
    assert store.get_manifest("used") is not None  # a use refreshes an entry
    _age(store_dir / "steps" / "new.json", 0)

    removed = store.gc(older_than_s=DAY)

    assert removed == (1, 2)
    assert sorted(p.name for p in (store_dir / "steps").iterdir()) == ["new.json", "used.json"]
    assert not store.has_blob(old["only-old.txt"][0]) and not store.has_blob(stray)
    assert store.has_blob(old["both.txt"][0]) and store.has_blob(fresh_stray)
    assert store.verify() == []


def test_gc_on_a_remote_store(memory_url: str, tmp_path: Path) -> None:
    store = open_store(memory_url, tmp_path)
    entries, _ = store.put_tree(_tree(tmp_path / "src"))
    store.put_manifest("k1", _manifest({"out": (entries, False)}))
    store.put_bytes(b"stray")

    assert store.gc(older_than_s=DAY) == (0, 0)
    assert store.gc(older_than_s=0) == (1, 5)
    assert not store.has_manifest("k1") and store.verify() == []


# ---------------------------------------------------------------- layers


def test_a_layered_store_reads_through_and_writes_back(memory_url: str, tmp_path: Path) -> None:
    local_dir = tmp_path / "local"
    remote = open_store(memory_url, tmp_path)
    layered = open_store(f"{local_dir},{memory_url}", tmp_path)
    local = open_store(str(local_dir), tmp_path)
    assert isinstance(layered, LayeredStore) and layered.is_local
    # a teammate's result, only on the shared remote
    theirs, _ = remote.put_tree(_tree(tmp_path / "theirs"))
    remote.put_manifest("theirs", _manifest({"out": (theirs, False)}, log=remote.put_bytes(b"l")))

    assert layered.has_manifest("theirs") and not local.has_manifest("theirs")
    assert layered.get_manifest("theirs") == remote.get_manifest("theirs")
    assert not any(local.has_blob(h) for h, _, _ in theirs.values())  # read lazily
    layered.materialize(theirs, tmp_path / "dest", False)
    assert _files(tmp_path / "dest") == _files(tmp_path / "theirs")
    assert all(local.has_blob(h) for h, _, _ in theirs.values()) and local.verify() == []

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "m.txt").write_text("mine")
    mine, _ = layered.put_tree(tmp_path / "mine")
    layered.put_manifest("mine", _manifest({"out": (mine, False)}))
    for layer in (local, remote):  # written back to both
        assert layer.get_manifest("mine") is not None and layer.verify() == []

    only_remote = remote.put_bytes(b"fetched on demand")
    assert layered.get_bytes(only_remote) == b"fetched on demand"
    assert local.has_blob(only_remote)


def test_a_layered_write_copies_blobs_a_layer_lacks(memory_url: str, tmp_path: Path) -> None:
    local = open_store(str(tmp_path / "local"), tmp_path)
    remote = open_store(memory_url, tmp_path)
    entries, _ = local.put_tree(_tree(tmp_path / "src"))  # stored before the remote was added

    open_store([local.url, remote.url], tmp_path).put_manifest(
        "k1", _manifest({"out": (entries, False)})
    )

    assert remote.get_manifest("k1") is not None and remote.verify() == []


def test_a_read_only_layer_is_never_written(memory_url: str, tmp_path: Path) -> None:
    import fsspec

    memory = fsspec.filesystem("memory")
    remote = open_store(memory_url, tmp_path)
    theirs, _ = remote.put_tree(_tree(tmp_path / "theirs"))
    remote.put_manifest("theirs", _manifest({"out": (theirs, False)}))
    before = {p: memory.cat_file(p) for p in memory.find(f"/{memory_url[9:]}")}
    local = open_store(str(tmp_path / "local"), tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "m.txt").write_text("untrusted")

    for layered in (
        open_store(f"{tmp_path / 'local'},{memory_url}?ro", tmp_path),
        open_store([str(tmp_path / "local"), memory_url], tmp_path, read_only=True),
    ):
        assert layered.url.endswith("?ro") and not layered.read_only
        mine, _ = layered.put_tree(tmp_path / "mine")
        layered.put_manifest("mine", _manifest({"out": (mine, False)}))
        found = layered.get_manifest("theirs")
        assert found is not None
        layered.materialize(found["outputs"]["out"]["entries"], tmp_path / uuid.uuid4().hex, False)
        assert local.get_manifest("mine")  # the local layer
        assert local.verify() == []  # still gets writes and read-through copies
        assert layered.gc(older_than_s=0) == (1, 5)  # and only it is trimmed

        assert {p: memory.cat_file(p) for p in memory.find(f"/{memory_url[9:]}")} == before


def test_a_read_only_store_refuses_writes(memory_url: str, tmp_path: Path) -> None:
    open_store(memory_url, tmp_path).put_bytes(b"x")
    for spec in (f"{memory_url}?ro", str(tmp_path / "store") + "?ro"):
        store = open_store(spec, tmp_path)
        assert store.read_only
        for write in (
            lambda s: s.put_bytes(b"y"),
            lambda s: s.put_tree(_tree(tmp_path / uuid.uuid4().hex)),
            lambda s: s.put_manifest("k", _manifest({})),
            lambda s: s.gc(0),
        ):
            with pytest.raises(AmlrunError, match="read-only"):
                write(store)
    layered = open_store(f"{memory_url}?ro,{memory_url}?ro", tmp_path)
    assert layered.read_only and layered.get_bytes(hash_bytes(b"x")) == b"x"


# ---------------------------------------------------------------- opening


def test_store_specs_open_the_store_they_name(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    default = open_store(None, ws)
    assert default.is_local and default.url == str(ws / ".amlrun" / "cache")
    assert open_store("cache", ws).url == str(ws / "cache")  # relative to the workspace
    assert open_store(f"file://{tmp_path}/c", ws).url == str(tmp_path / "c")
    remote = open_store("memory://amlrun-spec", ws)
    assert not remote.is_local and remote.url == "memory://amlrun-spec"
    assert remote.local_blob_path(hash_bytes(b"")) is None
    layered = open_store(" cache , memory://amlrun-spec?ro ", ws)
    assert isinstance(layered, Store) and layered.url == f"{ws / 'cache'},memory://amlrun-spec?ro"
    assert open_store(layered.url, tmp_path).url == layered.url  # a url re-opens its store
    with pytest.raises(AmlrunError, match="empty store spec"):
        open_store(" , ", ws)


def test_a_manifest_is_stored_as_compact_json(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    store.put_manifest("k1", _manifest({}, duration_s=1.5, exit_code=0))

    raw = (tmp_path / ".amlrun" / "cache" / "steps" / "k1.json").read_text()
    assert json.loads(raw) == {"v": 1, "key": "k1", "outputs": {}, "step": "train",
                               "duration_s": 1.5, "exit_code": 0}  # fmt: skip
    with pytest.raises(AmlrunError, match="not a step key"):
        store.put_manifest("../escape", _manifest({}))


# ---------------------------------------------------------------- integrity


def _hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full re-reads of blobs (the stat check exists to avoid them)."""
    from amlrun.cache import files

    calls: list[int] = []
    real = files.hash_fd
    monkeypatch.setattr(files, "hash_fd", lambda fd: calls.append(fd) or real(fd))
    return calls


def test_a_reuse_check_stats_blobs_and_rehashes_only_those_whose_stat_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir = tmp_path / "store"
    writer = open_store(str(store_dir), tmp_path)
    entries, _ = writer.put_tree(_tree(tmp_path / "src"), move=True)
    writer.put_manifest("k1", _manifest({"out": (entries, False)}))
    with open(store_dir / "cas-stat.log", "ab") as f:
        f.write(b"0123 torn by a crash")  # a torn last line is skipped
    calls = _hash_calls(monkeypatch)

    assert open_store(str(store_dir), tmp_path).get_manifest("k1") is not None
    assert calls == []  # another process trusts the records: stats only
    _age(_blob_file(store_dir, entries["a.txt"][0]), 2 * DAY)  # changes mtime and ctime
    reader = open_store(str(store_dir), tmp_path)
    assert reader.get_manifest("k1") is not None and len(calls) == 1  # re-hashed once
    assert open_store(str(store_dir), tmp_path).get_manifest("k1") is not None
    assert len(calls) == 1  # and recorded again

    _age(_blob_file(store_dir, entries["a.txt"][0]), 2 * DAY)
    reader.put_tree(_tree(tmp_path / "again"))  # storing it again: re-hashed, refreshed for gc
    assert time.time() - _blob_file(store_dir, entries["a.txt"][0]).stat().st_mtime < DAY
    assert open_store(str(store_dir), tmp_path).get_manifest("k1") is not None
    assert len(calls) == 2  # the refresh recorded the stat it changed: no re-hash for it


def test_a_blob_damaged_after_the_reuse_check_is_never_restored(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store = open_store(str(store_dir), tmp_path)
    entries, _ = store.put_tree(_tree(tmp_path / "src"))
    store.put_manifest("k1", _manifest({"out": (entries, False)}))
    assert store.get_manifest("k1") is not None
    blob = _blob_file(store_dir, entries["sub/b.bin"][0])
    blob.chmod(0o644)
    blob.write_bytes(b"x" * blob.stat().st_size)

    with pytest.raises(AmlrunError, match=rf"blob {blob.name} .*amlrun cache verify --repair"):
        store.materialize(entries, tmp_path / "dest", False)

    assert not (tmp_path / "dest").exists()
    assert (store_dir / "quarantine").is_dir() and not blob.exists()


def test_a_read_only_store_with_a_bad_blob_is_a_miss_and_left_as_it_is(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store = open_store(str(store_dir), tmp_path)
    entries, _ = store.put_tree(_tree(tmp_path / "src"))
    store.put_manifest("k1", _manifest({"out": (entries, False)}))
    blob = _blob_file(store_dir, entries["a.txt"][0])
    blob.unlink()
    blob.write_bytes(b"alpha?")

    assert open_store(f"{store_dir}?ro", tmp_path).get_manifest("k1") is None
    assert blob.read_bytes() == b"alpha?" and not (store_dir / "quarantine").exists()


def test_a_manifest_stored_under_another_key_is_a_miss(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store = open_store(str(store_dir), tmp_path)
    store.put_manifest("k1", _manifest({}))
    (store_dir / "steps" / "k2.json").write_bytes((store_dir / "steps" / "k1.json").read_bytes())

    assert store.get_manifest("k1") is not None and store.get_manifest("k2") is None


def test_a_remote_blob_is_checked_against_its_hash_when_fetched(
    memory_url: str, tmp_path: Path
) -> None:
    import fsspec

    remote = open_store(memory_url, tmp_path)
    entries, _ = remote.put_tree(_tree(tmp_path / "src"))
    remote.put_manifest("k1", _manifest({"out": (entries, False)}))
    h = entries["a.txt"][0]
    fsspec.filesystem("memory").pipe_file(f"/{memory_url[9:]}/cas/{h[:2]}/{h}", b"omega\n")
    layered = open_store(f"{tmp_path / 'local'},{memory_url}", tmp_path)

    assert layered.get_manifest("k1") is not None  # read lazily: checked when fetched
    with pytest.raises(AmlrunError, match=rf"blob {h} .*verify --repair"):
        layered.materialize(entries, tmp_path / "dest", False)
    assert not (tmp_path / "dest").exists()
    assert not open_store(str(tmp_path / "local"), tmp_path).has_blob(h)
    assert any(h in p and "corrupt" in p for p in remote.verify(repair=True))
    assert remote.verify() == [] and not remote.has_manifest("k1")


def test_a_malformed_manifest_on_a_remote_store_is_a_miss(memory_url: str) -> None:
    import fsspec

    store = open_store(memory_url, Path("."))
    doc = {"v": 1, "key": "k1", "outputs": {"o": {"is_file": True, "entries": {"": [
        hash_bytes(b""), 0, "0644"]}}}}  # fmt: skip
    fsspec.filesystem("memory").pipe_file(
        f"/{memory_url[9:]}/steps/k1.json", json.dumps(doc).encode()
    )

    assert store.has_manifest("k1") and store.get_manifest("k1") is None


def test_an_unknown_link_type_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AmlrunError, match=r"link 'symlink' is not a link type.*reflink, copy"):
        open_store(None, tmp_path, link="symlink")


def test_reflink_is_tried_per_file_and_falls_back_to_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import fcntl

    tried: list[int] = []

    def no_clone(fd: int, request: int, arg: int) -> None:
        tried.append(request)
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")  # as on ext4 or tmpfs

    monkeypatch.setattr(fcntl, "ioctl", no_clone)
    src = _tree(tmp_path / "src")
    for link in ("reflink", "copy"):
        store = open_store(str(tmp_path / link), tmp_path, link=link)
        entries, _ = store.put_tree(src)
        tried.clear()
        store.materialize(entries, tmp_path / f"dest-{link}", False)
        assert _files(tmp_path / f"dest-{link}") == _files(src)
        assert tried == ([0x40049409] * len(entries) if link == "reflink" else [])


def test_gc_empties_the_quarantine_of_old_bad_blobs(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store = open_store(str(store_dir), tmp_path)
    h = store.put_bytes(b"soon rotten")
    blob = _blob_file(store_dir, h)
    blob.chmod(0o644)
    blob.write_bytes(b"rotten")
    assert store.local_blob_path(h) is None  # found bad: moved aside
    (moved,) = (store_dir / "quarantine").iterdir()

    assert store.gc(older_than_s=DAY) == (0, 0) and moved.exists()  # kept a while
    _age(moved, 2 * DAY)
    store.gc(older_than_s=DAY)
    assert not moved.exists()


def test_a_store_opened_once_per_step_reads_its_stat_log_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amlrun.cache import blobstat

    root = str(tmp_path / "shared-store")
    first = open_store(root, tmp_path)
    blobs = [first.put_bytes(f"blob {i}".encode()) for i in range(200)]
    parsed = []
    real_parse = blobstat._parse
    monkeypatch.setattr(
        blobstat, "_parse", lambda line, into: parsed.append(line) or real_parse(line, into)
    )
    for h in blobs[:50]:  # the local backend opens the store anew for every step
        store = open_store(root, tmp_path)
        store.put_bytes(b"new " + h.encode())
        assert store.get_bytes(h) == f"blob {blobs.index(h)}".encode()
    assert len(parsed) < 2 * (200 + 50)  # each record parsed about once, not once per opening
