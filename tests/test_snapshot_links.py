"""Snapshots stay inside: a link out of a code folder never carries its target anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlrun.hashing import hash_bytes
from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

SECRET = b"token=do-not-copy-me\n"


def anywhere_under(folder: Path, data: bytes) -> list[Path]:
    """Regular files under ``folder`` holding exactly ``data`` (links not followed)."""
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.read_bytes() == data
    ]


def module_folder(tmp_path: Path, extra: str = "", code: str = ".") -> Path:
    mod = tmp_path / "mod"
    (mod / code).mkdir(parents=True)
    (mod / "c.yml").write_text(
        "type: command\nname: w\noutputs: {o: {type: uri_folder}}\n"
        f"code: {code}\n{extra}command: ls -R > ${{{{outputs.o}}}}/listing.txt\n"
    )
    return mod


@pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="needs /etc/passwd")
def test_module_run_refuses_a_code_folder_linking_to_etc_passwd(tmp_path: Path) -> None:
    mod = module_folder(tmp_path)
    (mod / "passwd").symlink_to("/etc/passwd")
    proc = amlrun("module", "run", str(mod / "c.yml"), "-o", "o=out", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert str(mod / "passwd") in proc.stderr and ".amlignore" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert anywhere_under(tmp_path, Path("/etc/passwd").read_bytes()) == []


def test_an_additional_include_that_links_out_is_refused(tmp_path: Path) -> None:
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "key").write_bytes(SECRET)
    mod = module_folder(tmp_path, "additional_includes: [./key]\n", code="src")
    (mod / "key").symlink_to(tmp_path / "private" / "key")
    proc = amlrun("module", "run", str(mod / "c.yml"), "-o", "o=out", cwd=tmp_path)
    assert proc.returncode == 2 and "additional include" in proc.stderr
    assert str(tmp_path / "private" / "key") in proc.stderr
    assert anywhere_under(tmp_path / ".amlrun", SECRET) == []


def test_a_dangling_link_in_a_code_folder_is_named(tmp_path: Path) -> None:
    mod = module_folder(tmp_path)
    (mod / "gone.py").symlink_to(tmp_path / "nowhere.py")
    proc = amlrun("module", "run", str(mod / "c.yml"), cwd=tmp_path)
    assert proc.returncode == 2 and "gone.py" in proc.stderr and "does not exist" in proc.stderr


def test_links_that_stay_inside_the_code_folder_are_followed(tmp_path: Path) -> None:
    mod = module_folder(tmp_path)
    (mod / "real").mkdir()
    (mod / "real" / "x.txt").write_text("x")
    (mod / "alias").symlink_to(mod / "real", target_is_directory=True)
    amlrun("module", "run", str(mod / "c.yml"), "-o", "o=out", cwd=tmp_path, check=True)
    assert "x.txt" in (tmp_path / "out" / "listing.txt").read_text().split("alias:")[1]


def test_a_pipeline_step_linking_out_fails_and_nothing_of_the_target_is_stored(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    ws = tmp_path / "ws"
    pipeline = make_workspace(ws)
    (ws / "prep" / "src" / "secret.txt").symlink_to(outside / "secret.txt")
    result = run_json(str(pipeline), cwd=ws)
    st = statuses(result)
    assert st["prep"] == "failed" and st["side"] == "ran"
    reason = next(s["reason"] for s in result["steps"] if s["name"] == "prep")
    assert "secret.txt" in reason and ".amlignore" in reason
    assert anywhere_under(ws / ".amlrun", SECRET) == []
    assert not list((ws / ".amlrun" / "cache").rglob(hash_bytes(SECRET)))
