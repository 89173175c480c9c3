"""What a user sees of snapshots: which files a command runs with, and when the key moves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from amlrun import hashing
from amlrun.errors import SpecError
from amlrun.hashing import StatCache
from amlrun.snapshot import hash_folder, hash_path, take_snapshot
from amlrun.spec.model import Code


def write(path: Path, text: str = "x", mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def relpaths(code: Code) -> list[str]:
    return [f.relpath for f in take_snapshot(code).files]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write(root / "train.py", "print('train')\n")
    write(root / "lib" / "util.py", "X = 1\n")
    return root


def test_snapshot_lists_the_code_folder_sorted(src: Path) -> None:
    assert relpaths(Code(src)) == ["lib/util.py", "train.py"]


def test_file_ignored_by_amlignore_does_not_change_the_tree_hash(src: Path) -> None:
    write(src / ".amlignore", "*.log\n")
    before = take_snapshot(Code(src)).tree_hash
    write(src / "run.log", "noise")
    write(src / "lib" / "deep.log", "noise")
    assert take_snapshot(Code(src)).tree_hash == before


def test_gitignore_used_when_no_amlignore(src: Path) -> None:
    write(src / ".gitignore", "data/\n")
    write(src / "data" / "big.csv")
    assert "data/big.csv" not in relpaths(Code(src))


def test_amlignore_takes_precedence_over_gitignore(src: Path) -> None:
    write(src / ".gitignore", "*.csv\n")
    write(src / ".amlignore", "*.txt\n")
    write(src / "a.csv")
    write(src / "a.txt")
    files = relpaths(Code(src))
    assert "a.csv" in files
    assert "a.txt" not in files


def test_only_the_root_ignore_file_counts(src: Path) -> None:
    write(src / "lib" / ".gitignore", "util.py\n")
    assert "lib/util.py" in relpaths(Code(src))


def test_negated_pattern_keeps_a_file_inside_an_ignored_pattern(src: Path) -> None:
    write(src / ".amlignore", "data/**\n!data/keep.txt\n")
    write(src / "data" / "keep.txt")
    write(src / "data" / "drop.txt")
    files = relpaths(Code(src))
    assert "data/keep.txt" in files
    assert "data/drop.txt" not in files


def test_ignored_folder_is_not_walked(src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(src / ".gitignore", ".venv/\n")
    write(src / ".venv" / "lib" / "site.py")
    opened: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        opened.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    take_snapshot(Code(src))
    assert not any(".venv" in p for p in opened)


def test_tool_folders_and_bytecode_are_always_left_out(src: Path) -> None:
    write(src / ".git" / "HEAD")
    write(src / ".amlrun" / "runs" / "x.json")
    write(src / "lib" / "__pycache__" / "util.cpython-311.pyc")
    write(src / "stray.pyc")
    write(src / ".ipynb_checkpoints" / "nb.ipynb")
    write(src / "spec.additional_includes", "../common\n")
    assert relpaths(Code(src)) == ["lib/util.py", "train.py"]


def test_additional_include_lands_by_basename(src: Path, tmp_path: Path) -> None:
    lib = write(tmp_path / "utils" / "library1" / "helpers.py").parent
    single = write(tmp_path / "utils" / "conf.yaml")
    files = relpaths(Code(src, includes=((lib, "library1"), (single, "conf.yaml"))))
    assert "library1/helpers.py" in files
    assert "conf.yaml" in files


def test_include_of_parent_folder_merges_into_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "reco_utils" / "common.py")
    spec_dir = write(repo / "entries" / "job" / "x.py").parent
    files = relpaths(Code(spec_dir, includes=((repo, ""),)))
    assert "x.py" in files
    assert "reco_utils/common.py" in files
    assert "entries/job/x.py" in files


def test_ignore_file_of_a_merged_include_applies(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / ".gitignore", "*.bin\n")
    write(repo / "weights.bin")
    spec_dir = write(repo / "job" / "x.py").parent
    assert "weights.bin" not in relpaths(Code(spec_dir, includes=((repo, ""),)))


def test_include_clashing_with_a_code_file_is_a_clear_error(src: Path, tmp_path: Path) -> None:
    other = write(tmp_path / "other" / "train.py", "print('other')\n")
    with pytest.raises(SpecError, match=r"train\.py") as err:
        take_snapshot(Code(src, includes=((other, "train.py"),)))
    assert str(src / "train.py") in str(err.value)
    assert str(other) in str(err.value)


def test_include_with_the_same_bytes_as_a_code_file_is_not_a_clash(
    src: Path, tmp_path: Path
) -> None:
    twin = write(tmp_path / "other" / "train.py", "print('train')\n")
    assert relpaths(Code(src, includes=((twin, "train.py"),))) == ["lib/util.py", "train.py"]


def test_missing_include_is_a_clear_error(src: Path, tmp_path: Path) -> None:
    gone = tmp_path / "common"
    with pytest.raises(SpecError, match=r"additional include .*common does not exist"):
        take_snapshot(Code(src, includes=((gone, "common"),)))


def test_missing_code_folder_is_a_clear_error(tmp_path: Path) -> None:
    code = Code(tmp_path / "train_src", missing="./train_src")
    with pytest.raises(SpecError, match=r"code folder \./train_src does not exist") as err:
        take_snapshot(code)
    assert err.value.fix


def test_editing_a_file_changes_the_tree_hash(src: Path) -> None:
    before = take_snapshot(Code(src)).tree_hash
    write(src / "lib" / "util.py", "X = 2\n")
    assert take_snapshot(Code(src)).tree_hash != before


def test_renaming_a_file_changes_the_tree_hash(src: Path) -> None:
    before = take_snapshot(Code(src)).tree_hash
    (src / "train.py").rename(src / "main.py")
    assert take_snapshot(Code(src)).tree_hash != before


def test_same_content_elsewhere_has_the_same_tree_hash(src: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    take_snapshot(Code(src)).stage(copy)
    assert take_snapshot(Code(copy)).tree_hash == take_snapshot(Code(src)).tree_hash


def test_executable_bit_is_part_of_the_hash(src: Path) -> None:
    before = take_snapshot(Code(src)).tree_hash
    (src / "train.py").chmod(0o755)
    snap = take_snapshot(Code(src))
    assert snap.tree_hash != before
    assert snap.entries()["train.py"][2] == 0o755


def test_unchanged_file_is_not_reread(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_file = tmp_path / "statcache"
    first = StatCache(cache_file)
    before = take_snapshot(Code(src), first).tree_hash
    first.save()

    reads: list[str] = []
    real_hash_file = hashing.hash_file

    def counting(path: str) -> str:
        reads.append(os.fspath(path))
        return real_hash_file(path)

    monkeypatch.setattr(hashing, "hash_file", counting)
    assert take_snapshot(Code(src), StatCache(cache_file)).tree_hash == before
    assert reads == []

    write(src / "train.py", "print('changed')\n")
    take_snapshot(Code(src), StatCache(cache_file))
    assert reads == [str(src / "train.py")]


def test_symlink_inside_the_code_folder_is_hashed_by_its_content(src: Path) -> None:
    write(src / "data" / "real.txt", "shared")
    (src / "linked.txt").symlink_to(src / "data" / "real.txt")
    (src / "alias").symlink_to(src / "data", target_is_directory=True)
    snap = take_snapshot(Code(src))
    assert snap.entries()["linked.txt"][0] == hashing.hash_bytes(b"shared")
    assert snap.entries()["alias/real.txt"][0] == hashing.hash_bytes(b"shared")


@pytest.mark.parametrize("where", ["file", "folder", "dangling"])
def test_symlink_leading_out_of_the_code_folder_is_refused_by_name(
    src: Path, tmp_path: Path, where: str
) -> None:
    target = {
        "file": write(tmp_path / "outside.txt", "secret"),
        "folder": write(tmp_path / "outdir" / "x.txt", "secret").parent,
        "dangling": tmp_path / "nowhere",
    }[where]
    (src / "lib" / "link").symlink_to(target)
    with pytest.raises(SpecError, match=r"symlink .*lib/link.*Fix: .*lib/link"):
        take_snapshot(Code(src))
    write(src / ".amlignore", "lib/link\n")  # the fix it names works
    assert relpaths(Code(src)) == [".amlignore", "lib/util.py", "train.py"]


def test_additional_include_that_is_a_link_out_of_its_folder_is_refused(
    src: Path, tmp_path: Path
) -> None:
    secret = write(tmp_path / "private" / "key.txt", "secret")
    include = tmp_path / "spec" / "key.txt"
    include.parent.mkdir()
    include.symlink_to(secret)
    with pytest.raises(SpecError, match=r"additional include .*key\.txt is a symlink"):
        take_snapshot(Code(src, includes=((include, "key.txt"),)))
    sibling = include.parent / "real.txt"
    write(sibling, "fine")
    include.unlink()
    include.symlink_to(sibling)  # a link within its own folder is followed
    assert take_snapshot(Code(src, includes=((include, "key.txt"),))).entries()["key.txt"]


def test_data_paths_still_follow_links_and_skip_broken_ones(tmp_path: Path) -> None:
    data = tmp_path / "data"
    target = write(tmp_path / "elsewhere" / "big.csv", "1,2\n")
    write(data / "a.csv", "a")
    (data / "big.csv").symlink_to(target)
    (data / "gone.csv").symlink_to(tmp_path / "nowhere")
    entries, _, _ = hash_path(data)
    assert sorted(entries) == ["a.csv", "big.csv"]


def test_symlink_loop_does_not_hang(src: Path) -> None:
    (src / "lib" / "loop").symlink_to(src, target_is_directory=True)
    assert relpaths(Code(src)) == ["lib/util.py", "train.py"]


def test_stage_copies_and_never_links_to_sources(src: Path, tmp_path: Path) -> None:
    (src / "train.py").chmod(0o755)
    dest = tmp_path / "run"
    take_snapshot(Code(src)).stage(dest)

    staged = dest / "train.py"
    assert os.access(staged, os.X_OK)
    assert not staged.is_symlink()
    assert staged.stat().st_ino != (src / "train.py").stat().st_ino
    with open(staged, "w") as f:  # a command writing in place
        f.write("tampered")
    assert (src / "train.py").read_text() == "print('train')\n"
    assert (dest / "lib" / "util.py").read_text() == "X = 1\n"


def test_stage_of_an_empty_code_folder_still_makes_the_working_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    take_snapshot(Code(empty)).stage(tmp_path / "run")
    assert (tmp_path / "run").is_dir()


def test_data_file_hash_has_one_unnamed_entry(tmp_path: Path) -> None:
    data = write(tmp_path / "rows.csv", "a,b\n")
    entries, digest, is_file = hash_path(data)
    assert is_file
    assert list(entries) == [""]
    assert entries[""][:2] == [hashing.hash_bytes(b"a,b\n"), 4]
    assert digest != hash_path(write(tmp_path / "other.csv", "a,c\n"))[1]


def test_data_folder_keeps_everything_even_dotfiles(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / ".git" / "HEAD")
    write(data / "part-0.pyc")
    entries, digest, is_file = hash_path(data)
    assert not is_file
    assert sorted(entries) == [".git/HEAD", "part-0.pyc"]
    assert hash_folder(data) == digest


def test_missing_data_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"data path .*absent does not exist"):
        hash_path(tmp_path / "absent")
