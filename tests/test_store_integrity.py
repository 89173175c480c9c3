"""The store never lies and never spreads damage, driven through the CLI as a user would.

A corrupted blob is never restored, a restored file cannot write through to the store, and a
store someone else controls cannot make amlrun follow a symlink, restore a setuid file or
crash on a malformed manifest.
"""

from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

REPORT = "# report\nsum=12\n"


def _key(result: dict, step: str) -> str:
    return next(s["key"] for s in result["steps"] if s["name"] == step)


def _blob(store: Path, text: str) -> Path:
    """The blob holding ``text`` (outputs in the test workspace are tiny and distinct)."""
    found = [p for p in (store / "cas").glob("*/*") if p.read_bytes() == text.encode()]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    first = run_json("pipeline.yml", "--output", "final=out", cwd=tmp_path)
    assert set(statuses(first).values()) == {"ran"}, first
    return tmp_path


def _rerun(ws: Path, *args: str) -> tuple[dict, str]:
    proc = amlrun("run", "pipeline.yml", "--output", "final=out", "--json", *args, cwd=ws)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, proc.stdout + proc.stderr
    return json.loads(lines[-1]), proc.stderr


def _write_in_place(path: Path, data: bytes, keep_mtime: bool = False) -> None:
    """Rewrite a read-only file's bytes in its own inode, as a root user or bit rot would."""
    before = path.stat()
    path.chmod(0o644)
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)
    path.chmod(stat.S_IMODE(before.st_mode))
    if keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


# ---------------------------------------------------------------- corrupted blobs


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: _write_in_place(b, REPORT.replace("12", "99").encode()), id="flip"),
        pytest.param(lambda b: _write_in_place(b, b""), id="truncate"),
        pytest.param(lambda b: _write_in_place(b, b"#" * len(REPORT), True), id="same-mtime"),
    ],
)
def test_a_damaged_blob_is_quarantined_and_the_step_reruns(ws: Path, damage) -> None:
    store = ws / ".amlrun" / "cache"
    blob = _blob(store, REPORT)
    damage(blob)

    result, err = _rerun(ws)

    assert statuses(result)["report"] == "ran", result
    assert statuses(result)["train"] == "reused"
    assert (ws / "out" / "report.md").read_text() == REPORT
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and blob.name in warnings[0], err
    assert [p.name.split(".")[0] for p in (store / "quarantine").iterdir()] == [blob.name]
    assert amlrun("cache", "verify", cwd=ws).returncode == 0
    again, err = _rerun(ws)
    assert set(statuses(again).values()) == {"reused"} and "warning" not in err


def test_verify_repair_quarantines_bad_blobs_and_drops_the_entries_needing_them(ws: Path) -> None:
    store = ws / ".amlrun" / "cache"
    blob = _blob(store, REPORT)
    _write_in_place(blob, b"rot", keep_mtime=True)

    found = amlrun("cache", "verify", cwd=ws)
    assert found.returncode == 1 and blob.name in found.stdout and "--repair" in found.stdout
    repaired = amlrun("cache", "verify", "--repair", cwd=ws)
    assert repaired.returncode == 0, repaired.stdout
    assert "entry dropped" in repaired.stdout and "quarantine" in repaired.stdout
    assert amlrun("cache", "verify", cwd=ws).stdout.strip() == "store ok"

    result, _ = _rerun(ws)
    assert statuses(result)["report"] == "ran" and statuses(result)["train"] == "reused"
    assert (ws / "out" / "report.md").read_text() == REPORT


# ---------------------------------------------------------------- no write-through


def test_editing_a_materialized_output_as_root_leaves_the_store_intact(ws: Path) -> None:
    out = ws / "out" / "report.md"
    assert out.stat().st_nlink == 1 and not out.stat().st_mode & 0o222  # a read-only copy
    _write_in_place(out, b"edited by hand\n")

    refused = amlrun("run", "pipeline.yml", "--output", "final=out", cwd=ws)
    assert refused.returncode == 2 and "--force-output" in refused.stderr  # the edit is kept
    assert out.read_text() == "edited by hand\n"
    result, _ = _rerun(ws, "--force-output")

    assert set(statuses(result).values()) == {"reused"}
    assert out.read_text() == REPORT  # the store still holds what the step produced
    assert amlrun("cache", "verify", cwd=ws).returncode == 0


def test_a_read_only_shared_layer_is_never_written_through_a_restore(tmp_path: Path) -> None:
    team, mine = tmp_path / "team", tmp_path / "mine"
    shared = tmp_path / "shared-store"
    for folder in (team, mine):
        folder.mkdir()
        make_workspace(folder)
    run_json("pipeline.yml", "--store", str(shared), cwd=team)
    spec = f"local-cache,{shared}?ro"
    result = run_json("pipeline.yml", "--store", spec, "--output", "final=out", cwd=mine)
    assert set(statuses(result).values()) == {"reused"}

    _write_in_place(mine / "out" / "report.md", b"edited by hand\n")

    assert _blob(shared, REPORT).read_text() == REPORT
    assert amlrun("cache", "verify", "--store", str(shared), cwd=team).returncode == 0


APPEND = {
    "make/make.yml": """
        type: command
        name: make
        outputs: {o: {type: uri_folder}}
        code: .
        command: python make.py ${{outputs.o}}
    """,
    "make/make.py": """
        import pathlib, sys
        pathlib.Path(sys.argv[1], "a.txt").write_text("made\\n")
    """,
    "grow/grow.yml": """
        type: command
        name: grow
        inputs: {i: {type: uri_folder}}
        outputs: {o: {type: uri_folder}}
        code: .
        command: python grow.py ${{inputs.i}} ${{outputs.o}}
    """,
    "grow/grow.py": """
        import os, pathlib, sys
        f = pathlib.Path(sys.argv[1], "a.txt")
        if os.geteuid() == 0:  # root: the read-only mode does not stop it, and it insists
            os.chmod(f, 0o644)
        with open(f, "a") as out:
            out.write("appended\\n")
        pathlib.Path(sys.argv[2], "b.txt").write_text(f.read_text())
    """,
    "pipeline.yml": """
        type: pipeline
        outputs: {made: {type: uri_folder}}
        jobs:
          make: {component: ./make/make.yml, outputs: {o: "${{parent.outputs.made}}"}}
          grow:
            component: ./grow/grow.yml
            inputs: {i: "${{parent.jobs.make.outputs.o}}"}
    """,
}


def test_a_step_appending_to_its_input_does_not_change_the_upstream_result(tmp_path: Path) -> None:
    for rel, text in APPEND.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text).lstrip())
    (tmp_path / ".git").mkdir()

    first = run_json("pipeline.yml", cwd=tmp_path)
    assert set(statuses(first).values()) == {"ran"}, first
    again = run_json("pipeline.yml", "--output", "made=made", "--force", "grow", cwd=tmp_path)

    assert (tmp_path / "made" / "a.txt").read_text() == "made\n"
    assert amlrun("cache", "verify", cwd=tmp_path).returncode == 0
    grown = tmp_path / ".amlrun" / "cache"
    assert [p.read_text() for p in grown.glob("cas/*/*") if "appended" in p.read_text()] == [
        "made\nappended\n"
    ]  # grow saw its input as made, once per run
    assert statuses(again)["grow"] == "ran"


# ---------------------------------------------------------------- a store that attacks


def test_a_symlinked_blob_is_not_followed_and_its_target_keeps_its_mode(ws: Path) -> None:
    store = ws / ".amlrun" / "cache"
    blob = _blob(store, REPORT)
    victim = ws / "victim.txt"
    victim.write_text(REPORT)  # the same bytes: hashing through the link would pass
    victim.chmod(0o600)
    blob.unlink()
    blob.symlink_to(victim)

    result, err = _rerun(ws)

    assert statuses(result)["report"] == "ran" and "not a regular file" in err
    out = ws / "out" / "report.md"
    assert not out.is_symlink() and out.stat().st_ino != victim.stat().st_ino
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600


def _edit_manifest(ws: Path, key: str, edit) -> None:
    path = ws / ".amlrun" / "cache" / "steps" / f"{key}.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _entries(doc: dict) -> dict:
    return doc["outputs"]["out"]["entries"]


def test_stored_modes_are_masked_so_no_setuid_file_is_restored(ws: Path) -> None:
    result, _ = _rerun(ws)
    _edit_manifest(
        ws, _key(result, "report"), lambda d: _entries(d)["report.md"].__setitem__(2, 0o6777)
    )

    result, _ = _rerun(ws)

    assert statuses(result)["report"] == "reused"
    assert stat.S_IMODE((ws / "out" / "report.md").stat().st_mode) == 0o555


MALFORMED = {
    "string-mode": lambda d: _entries(d)["report.md"].__setitem__(2, "0644"),
    "no-output": lambda d: d["outputs"].pop("out"),
    "file-and-folder": lambda d: _entries(d).update(
        {"x": _entries(d)["report.md"], "x/y": _entries(d)["report.md"]}
    ),
    "nul-byte": lambda d: _entries(d).update({"a\0b": _entries(d)["report.md"]}),
    "negative-size": lambda d: _entries(d)["report.md"].__setitem__(1, -1),
}


@pytest.mark.parametrize("edit", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_manifest_is_a_miss_with_one_warning(ws: Path, edit) -> None:
    result, _ = _rerun(ws)
    key = _key(result, "report")
    _edit_manifest(ws, key, edit)

    result, err = _rerun(ws)

    assert statuses(result)["report"] == "ran", result
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and key in warnings[0], err
    assert (ws / "out" / "report.md").read_text() == REPORT


# ---------------------------------------------------------------- link types


def test_hardlinks_are_used_only_when_the_workspace_asks_and_stay_read_only(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    run_json("pipeline.yml", cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.amlrun]\nlink = "hardlink"\n')

    run_json("pipeline.yml", "--output", "final=linked", cwd=tmp_path)
    run_json("pipeline.yml", "--output", "final=copied", "--link", "copy", cwd=tmp_path)

    linked, copied = tmp_path / "linked" / "report.md", tmp_path / "copied" / "report.md"
    assert linked.stat().st_nlink >= 2 and stat.S_IMODE(linked.stat().st_mode) == 0o444
    assert copied.stat().st_nlink == 1 and copied.read_text() == REPORT
    again, err = _rerun(tmp_path)  # the links added and removed cost a re-hash, not a rerun
    assert set(statuses(again).values()) == {"reused"} and "warning" not in err


def test_an_unknown_link_type_in_the_config_is_a_clear_error(tmp_path: Path) -> None:
    make_workspace(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.amlrun]\nlink = "symlink"\n')

    proc = amlrun("run", "pipeline.yml", cwd=tmp_path)

    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "link 'symlink' is not a link type" in proc.stderr and "reflink" in proc.stderr
