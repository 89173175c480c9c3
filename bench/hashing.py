"""Hashing benchmark: content hashing against reading, and a no-op re-hash of a big tree.

    python bench/hashing.py [--size-mb 1024] [--files 10000] [--repeats 3]

Both figures are what a user's ``amlrun`` pays: each measured run is a new process, timed
from outside, interpreter start-up and amlrun's imports included.

1. ``hash_file`` of a page-cached 1 GB file in a new python process, against
   ``cat FILE > /dev/null`` (a new process too); target: ``cat``'s time / hashing's >= 0.80.
2. The snapshot of an unchanged 10,000-file tree (nested folders and a .gitignore, like a
   source repository) in a new process that loads the persisted stat cache, walks and stats;
   target <= 0.30 s. The cold snapshot that fills the stat cache comes first.
Work files go to $TMPDIR and are removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import Figure, failed_figure, ratio_figure, table

HASH_GOAL = 0.80
REHASH_GOAL_S = 0.30

HASH = "import sys; from amlrun.hashing import hash_file; print(hash_file(sys.argv[1]))"

#: a snapshot of argv[1] with the stat cache at argv[2], saved afterwards (the cold run fills it)
SNAPSHOT = """
import sys
from pathlib import Path
from amlrun.hashing import StatCache
from amlrun.snapshot import take_snapshot
from amlrun.spec.model import Code
cache = StatCache(Path(sys.argv[2]))
snap = take_snapshot(Code(Path(sys.argv[1])), cache)
cache.save()
print(len(snap.files), snap.tree_hash)
"""


def timed_process(argv: list[str], stdout: int | None = subprocess.PIPE) -> tuple[float, str]:
    """Wall time of a new process and its output; a failure raises with its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {proc.stderr.strip()[-400:]}")
    return seconds, (proc.stdout or "").strip()


def make_big_file(path: Path, size_mb: int) -> None:
    block = os.urandom(16 * 1024 * 1024)
    remaining = size_mb * 1024 * 1024
    with open(path, "wb") as f:
        while remaining > 0:
            f.write(block[: min(len(block), remaining)])
            remaining -= len(block)


def hash_figure(work: Path, size_mb: int, repeats: int) -> Figure:
    title = f"hash {size_mb} MB in a new process (start-up included) vs cat"
    big = work / "big.bin"
    make_big_file(big, size_mb)
    try:
        timed_process(["cat", str(big)], stdout=subprocess.DEVNULL)  # page cache warm
        cat, hashed, digests = [], [], set()
        for _ in range(repeats):  # interleaved: load changes hit both alike
            cat.append(timed_process(["cat", str(big)], stdout=subprocess.DEVNULL)[0])
            seconds, digest = timed_process([sys.executable, "-c", HASH, str(big)])
            hashed.append(seconds)
            digests.add(digest)
    except RuntimeError as exc:
        return failed_figure(title, f">= {HASH_GOAL:.2f}x cat's speed", str(exc))
    finally:
        big.unlink()
    t_cat, t_hash = statistics.median(cat), statistics.median(hashed)
    speed, cat_speed = f"{size_mb / t_hash:.0f} MB/s", f"{size_mb / t_cat:.0f} MB/s"
    return Figure(
        title,
        f"{t_hash:.3f} s ({speed})",
        f"cat {t_cat:.3f} s ({cat_speed})",
        t_cat / t_hash,
        f">= {HASH_GOAL:.2f}x cat's speed",
        t_cat / t_hash >= HASH_GOAL and len(digests) == 1,
        "" if len(digests) == 1 else f"different hashes: {sorted(digests)}",
    )


def make_tree(root: Path, files: int) -> None:
    """Small files spread over nested folders, like a source repository, plus a .gitignore."""
    per_dir = 50
    for i in range(files):
        d = root / f"pkg{i // (per_dir * 20)}" / f"mod{(i // per_dir) % 20}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i}.py").write_text(f"VALUE = {i}\n" * (1 + i % 40))
    (root / ".gitignore").write_text("*.log\n.venv/\nbuild/\ndist/\n*.egg-info/\n")


def rehash_figure(work: Path, files: int, repeats: int) -> list[Figure]:
    title = f"rehash unchanged {files}-file tree, new process (start-up included)"
    target = f"<= {REHASH_GOAL_S:.2f} s"
    tree, cache = work / "tree", work / "statcache"
    make_tree(tree, files)
    argv = [sys.executable, "-c", SNAPSHOT, str(tree), str(cache)]
    try:
        t_cold, first = timed_process(argv)
        runs = [timed_process(argv) for _ in range(repeats)]
        t_start, _ = timed_process([sys.executable, "-c", "import amlrun.snapshot"])
    except RuntimeError as exc:
        return [failed_figure(title, target, str(exc))]
    changed = {out for _, out in runs if out != first}
    t_warm = statistics.median(t for t, _ in runs)
    note = f"cold snapshot {t_cold:.2f} s; python + amlrun imports alone {t_start:.3f} s"
    if changed:
        note += f"; tree hash changed between runs: {sorted(changed)}"
    return [
        Figure(
            title,
            f"{t_warm:.3f} s",
            "budget",
            None,
            target,
            t_warm <= REHASH_GOAL_S and not changed,
            note,
        ),
        ratio_figure(
            f"cold snapshot of the {files}-file tree / rehash", t_cold, "rehash", t_warm, None
        ),
    ]


def figures(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the big file")
    parser.add_argument("--files", type=int, default=10_000, help="files in the tree")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="amlrun-bench-"))
    try:
        return [
            hash_figure(work, args.size_mb, args.repeats),
            *rehash_figure(work, args.files, args.repeats),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    figs = figures()
    print("\n".join(table(figs)))
    return 0 if all(f.passed is not False for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
