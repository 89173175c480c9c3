"""Registering from archives and checkouts: nothing unpacks outside its folder or unbounded."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from amlrun.errors import SpecError
from amlrun.registry.unpack import check_tree, unpack_zip
from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def test_a_zip_built_by_ci_registers_and_runs_like_the_folder(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    make_workspace(ws)
    members = {
        f"prep/{p.relative_to(ws / 'prep')}": p.read_bytes()
        for p in (ws / "prep").rglob("*")
        if p.is_file()
    }
    archive = _zip(tmp_path / "drop.zip", members)
    proc = amlrun("module", "register", str(archive), cwd=ws, check=True)
    assert proc.stdout.startswith("registered prep:1")
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"ran"}
    text = (ws / "pipeline.yml").read_text().replace("./prep/prep.yml", "azureml:prep:1")
    (ws / "reg.yml").write_text(text)
    assert statuses(run_json("reg.yml", cwd=ws))["prep"] == "reused"


def test_a_zip_slip_archive_is_refused_through_the_cli(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    make_workspace(ws)
    archive = _zip(tmp_path / "slip.zip", {"ok.yml": b"x: 1\n", "../../evil.py": b"boom\n"})
    proc = amlrun("module", "register", str(archive), cwd=ws)
    assert proc.returncode == 2
    assert "'../../evil.py' points outside the archive (zip-slip)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "evil.py").exists() and not Path("/tmp/evil.py").exists()


@pytest.mark.parametrize("name", ["/etc/evil.py", "C:/evil.py", "a/../../evil.py"])
def test_absolute_and_escaping_member_names_are_refused(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "bad.zip", {name: b"boom\n"})
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError, match=r"absolute path|outside the archive"):
        unpack_zip(archive, tmp_path / "out")
    assert list((tmp_path / "out").rglob("*")) == []


def test_a_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "link.zip", {"a.txt": b"a"}, links={"passwd": "/etc/passwd"})
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError, match="'passwd' is a symbolic link"):
        unpack_zip(archive, tmp_path / "out")


def test_a_zip_bomb_stops_at_the_size_bound_while_extracting(tmp_path: Path) -> None:
    """The headers are not trusted: the bound is counted on the bytes actually inflated."""
    archive = _zip(tmp_path / "bomb.zip", {"zeros.bin": b"\0" * (8 * 1024 * 1024)})
    assert archive.stat().st_size < 64 * 1024  # compresses > 100x
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError, match="expands to more than 1,048,576 bytes"):
        unpack_zip(archive, tmp_path / "out", max_bytes=1024 * 1024)
    assert (tmp_path / "out/zeros.bin").stat().st_size <= 2 * 1024 * 1024


def test_too_many_members_are_refused_before_extracting(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "many.zip", {f"f{i}": b"" for i in range(30)})
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError, match="30 entries, more than 10"):
        unpack_zip(archive, tmp_path / "out", max_files=10)


def test_a_checkout_holding_a_link_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo/secret").symlink_to("/etc/passwd")
    (tmp_path / "repo/inside").symlink_to("secret")
    with pytest.raises(SpecError, match="secret in the repo links outside it"):
        check_tree(tmp_path / "repo", "the repo")


def test_a_file_that_is_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    make_workspace(ws)
    (tmp_path / "fake.zip").write_text("not a zip")
    proc = amlrun("module", "register", str(tmp_path / "fake.zip"), cwd=ws)
    assert proc.returncode == 2 and "not a readable zip file" in proc.stderr
