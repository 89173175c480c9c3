"""A null run reuses the manifests it checked before without reading them again, and never
trusts that memory over the file: a manifest changed in any way, one checked under another
signing secret, or a memo that is garbage, is read and checked again."""

from __future__ import annotations

import json
import os
from pathlib import Path

from amlrun.cache import manifest as manifest_mod
from amlrun.cache.manifest_memo import NAME
from amlrun.cache.store import open_store
from tests.helpers import amlrun, statuses
from tests.pipeline_ws import make_workspace


def _run(ws: Path, secret: str = "") -> tuple[dict[str, str], str]:
    result = amlrun(
        "run", str(ws / "pipeline.yml"), "--json", cwd=ws, env={"AMLRUN_CACHE_SECRET": secret}
    )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    assert lines, result.stderr
    return statuses(json.loads(lines[-1])), result.stderr


def _manifests(ws: Path) -> list[Path]:
    return sorted((ws / ".amlrun" / "cache" / "steps").glob("*.json"))


def test_a_null_run_reads_no_manifest_it_checked_before(tmp_path: Path, monkeypatch) -> None:
    make_workspace(tmp_path)
    _run(tmp_path)
    _run(tmp_path)  # reads each manifest once more and remembers it
    assert (tmp_path / ".amlrun" / NAME).is_file()
    parsed: list[bytes] = []
    real = manifest_mod.parse_manifest
    monkeypatch.setattr(
        "amlrun.cache.local.parse_manifest",
        lambda data, key=None: parsed.append(data) or real(data, key),
    )
    store = open_store(None, tmp_path)

    found = [store.get_manifest(p.stem) for p in _manifests(tmp_path)]

    assert all(found) and parsed == []


def test_a_manifest_rewritten_in_place_is_read_again_and_refused(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    _run(tmp_path)
    _run(tmp_path)
    target = _manifests(tmp_path)[0]
    before = target.stat()
    doc = json.loads(target.read_bytes())
    doc["key"] = "0" * 32  # the same length, another key
    data = json.dumps(doc, separators=(",", ":")).encode()
    target.chmod(0o644)
    with open(target, "r+b") as f:  # same inode; size and mtime put back as they were
        f.write(data.ljust(before.st_size))
        f.truncate(before.st_size)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))

    steps, stderr = _run(tmp_path)

    assert "ran" in steps.values()
    assert f"{target.name}: manifest is stored for key" in stderr


def test_manifests_checked_without_the_secret_are_misses_with_it(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    _run(tmp_path)
    _run(tmp_path)

    steps, stderr = _run(tmp_path, secret="team-secret")

    assert set(steps.values()) == {"ran"}
    assert "is not signed (AMLRUN_CACHE_SECRET is set)" in stderr


def test_a_garbage_memo_is_ignored(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    first, _ = _run(tmp_path)
    (tmp_path / ".amlrun" / NAME).write_bytes(b"\x00not marshal" * 100)

    steps, stderr = _run(tmp_path)

    assert set(steps.values()) == {"reused"} and "Traceback" not in stderr
    assert set(steps) == set(first)


def test_a_long_lived_process_keeps_a_bounded_memo(tmp_path: Path, monkeypatch) -> None:
    from amlrun.cache import manifest_memo

    monkeypatch.setattr(manifest_memo, "KEEP", 3)
    memo = manifest_memo.ManifestMemo(tmp_path / NAME)
    st = os.stat(tmp_path)
    for n in range(20):
        memo.put(f"/store/steps/{n}.json", st, {"v": 1, "n": n})

    kept = memo._load()
    assert len(kept) <= 6 and "/store/steps/19.json" in kept
    assert memo.get("/store/steps/19.json", st) == {"v": 1, "n": 19}
