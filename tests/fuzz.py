"""Seeded, structure-aware fuzzing of real spec and pipeline files through the CLI, in-process.

Each case takes a real file from the corpus or examples/, mutates its parsed structure
(drop, duplicate, retype or rename keys, swap scalars for lists or mappings, odd strings,
unicode, huge numbers, deep nesting, self-inclusion) or its text (alias bombs), writes it
next to the original in a private copy of the tree (so relative paths still resolve) and
runs ``module validate`` and, for pipelines, ``run --dry-run``. The only acceptable
outcomes are success or a user error (exit 1/2 through ``main``); an exception escaping
``main`` is a traceback, a case over its time limit is a hang.

``python -m tests.fuzz --cases 3000`` (``doit fuzz``) runs the long campaign.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import resource
import shutil
import signal
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
_DEEP = re.compile(r"__DEEP(\d+)__")
ODD_STRINGS = (
    "",
    " ",
    "uri_foldr",
    "${{inputs.nope}}",
    "${{parent.jobs.nope.outputs.x}}",
    "${{parent.inputs}}",
    "$[[--x ${{inputs.x}}",
    "azureml:x@latest",
    "../../../../../../etc",
    "/dev/zero",
    "/proc/self/mem",
    "FIFO",  # replaced by the path of a real named pipe
    "file:",
    "s3://",
    "\u202e\u0000\ufeff",
    "日本語 ✓ \U0001f600",
    "a" * 5000,
    "true",
    "-1e309",
    "{{",
    "'",
    "~",
)
SCALARS = (
    None,
    True,
    False,
    0,
    -1,
    10**400,
    1e308,
    float("inf"),
    float("nan"),
    0.5,
    "x",
)


class Hang(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` in amlrun eats it."""


@dataclass(frozen=True)
class Outcome:
    case: int
    seed_file: str
    command: str
    kind: str  # ok, error (a user error, as designed), traceback, hang
    detail: str = ""
    seconds: float = 0.0


def seed_files(roots: list[Path]) -> list[Path]:
    """Every YAML file under ``roots`` that parses as a mapping (the mutation seeds)."""
    out = []
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.suffix not in (".yml", ".yaml") or ".amlrun" in p.parts:
                continue
            try:
                doc = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
            except (yaml.YAMLError, UnicodeDecodeError):
                continue
            if isinstance(doc, dict):
                out.append(p)
    return out


# ---------------------------------------------------------------- mutations


def _nodes(doc: object, trail: tuple = ()) -> Iterator[tuple[tuple, object]]:
    yield trail, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _nodes(v, (*trail, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _nodes(v, (*trail, i))


def _odd_value(rng: random.Random, old: object, fifo: str) -> object:
    choice = rng.randrange(6)
    if choice == 0:
        s = rng.choice(ODD_STRINGS)
        return fifo if s == "FIFO" else s
    if choice == 1:
        return rng.choice(SCALARS)
    if choice == 2:
        return [old, old] if rng.random() < 0.5 else []
    if choice == 3:
        return {"type": rng.choice(["uri_foldr", "integer", "boolean", None]), "x": old}
    if choice == 4:  # nested in text after dumping (see case_text): the dumper recurses
        return f"__DEEP{rng.choice((5, 60, 99, 150, 5000))}__"
    return {True: old, 3: old} if rng.random() < 0.5 else {}


def mutate(doc: dict, rng: random.Random, fifo: str, own_name: str) -> dict:
    """Apply 1-3 structural mutations to a (copied) document."""
    for _ in range(rng.randint(1, 3)):
        trail, node = rng.choice(list(_nodes(doc)))
        parent = doc
        for k in trail[:-1]:
            parent = parent[k]
        op = rng.randrange(7)
        if isinstance(node, dict) and node and op in (0, 1, 2):
            key = rng.choice(list(node))
            if op == 0:
                del node[key]
            elif op == 1:
                node[f"{key}_copy" if rng.random() < 0.5 else True] = node[key]
            else:
                node[str(key)[:-1] or "x"] = node.pop(key)  # a typo
        elif op == 3 and isinstance(node, str) and trail:
            parent[trail[-1]] = own_name if rng.random() < 0.3 else _odd_value(rng, node, fifo)
        elif trail:
            parent[trail[-1]] = _odd_value(rng, node, fifo)
    return doc


def alias_bomb(text: str, rng: random.Random) -> str:
    """Put a billion-laughs anchor chain in front and an alias of it into one real field."""
    levels = rng.choice((3, 6, 9))
    head = "_a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, levels + 1):
        head += f"_a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    lines = text.splitlines()
    fields = [i for i, ln in enumerate(lines) if ln.rstrip().endswith(":") is False and ": " in ln]
    if fields:
        i = rng.choice(fields)
        key, _, _ = lines[i].partition(": ")
        lines[i] = f"{key}: *a{levels}"
    return head + "\n".join(lines) + "\n"


def case_text(seed: Path, rng: random.Random, fifo: str, own_name: str) -> str:
    """The mutated text; ``own_name`` (the case file's name) may replace a string, so a
    pipeline job can come to include its own file."""
    doc = yaml.safe_load(seed.read_text(encoding="utf-8-sig"))
    if rng.random() < 0.1:
        return alias_bomb(seed.read_text(encoding="utf-8-sig"), rng)
    doc = mutate(doc, rng, fifo, own_name)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=rng.random() < 0.5, width=10**6)
    return _DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)


# ---------------------------------------------------------------- running


def _alarm(signum, frame) -> None:
    raise Hang


def run_cli(argv: list[str], limit_s: float) -> tuple[str, str]:
    """(kind, detail) of ``amlrun ARGV`` run in this process under a time limit."""
    from amlrun.cli.main import main

    out = io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            main(argv)
        return "ok", ""
    except SystemExit as exc:
        return ("ok" if exc.code in (0, None) else "error"), out.getvalue()[-300:]
    except Hang:
        return "hang", out.getvalue()[-300:]
    except BaseException:  # anything else escaping main is the defect
        lines = traceback.format_exc().splitlines()[-24:]
        return "traceback", "\n".join(ln[:240] for ln in lines)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _is_pipeline(path: Path) -> bool:
    doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    return "jobs" in doc or isinstance(doc.get("pipeline"), dict)


def _run_command(seed: Path, path: Path, rng: random.Random, fifo: str) -> list[str]:
    """``run --dry-run``, sometimes overriding a declared pipeline input with an odd value."""
    command = ["run", str(path), "--dry-run"]
    doc = yaml.safe_load(seed.read_text(encoding="utf-8-sig"))
    declared = doc.get("inputs") if isinstance(doc, dict) else None
    if isinstance(declared, dict) and declared and rng.random() < 0.3:
        value = _odd_value(rng, "x", fifo)
        value = value if isinstance(value, str) else yaml.safe_dump(value).strip()
        command += ["--set", f"inputs.{rng.choice(list(declared))}={value}"]
    return command


def campaign(cases: int, seed: int, work: Path, limit_s: float = 10.0) -> list[Outcome]:
    """Run ``cases`` mutated files; the tree is copied into ``work`` once."""
    from tests.conftest import CORPUS

    tree = work / "tree"
    roots = []
    for name, src in (("corpus", CORPUS), ("examples", REPO / "examples")):
        if src.is_dir():
            shutil.copytree(src, tree / name, ignore=shutil.ignore_patterns(".amlrun"))
            roots.append(tree / name)
    (tree / ".git").mkdir(exist_ok=True)
    fifo = str(work / "fifo")
    os.mkfifo(fifo)
    seeds = seed_files(roots)
    pipelines = [p for p in seeds if _is_pipeline(p)]  # half the cases: planning goes deeper
    rng = random.Random(seed)
    outcomes: list[Outcome] = []
    old_env = os.environ.get("AMLRUN_WORKSPACE")
    os.environ["AMLRUN_WORKSPACE"] = str(tree)
    try:
        for n in range(cases):
            src = rng.choice(pipelines if rng.random() < 0.5 else seeds)
            path = src.with_name(f"__fuzz{n}__{src.suffix}")
            path.write_text(case_text(src, rng, fifo, path.name), encoding="utf-8")
            for command in (["module", "validate", str(path)], _run_command(src, path, rng, fifo)):
                started = time.perf_counter()
                kind, detail = run_cli(command, limit_s)
                outcomes.append(
                    Outcome(
                        n,
                        str(src.relative_to(tree)),
                        "validate" if command[0] == "module" else "run --dry-run",
                        kind,
                        detail,
                        time.perf_counter() - started,
                    )
                )
            path.unlink()
    finally:
        if old_env is None:
            os.environ.pop("AMLRUN_WORKSPACE", None)
        else:
            os.environ["AMLRUN_WORKSPACE"] = old_env
    return outcomes


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary(outcomes: list[Outcome]) -> str:
    cases = len({o.case for o in outcomes})
    kinds = {k: sum(o.kind == k for o in outcomes) for k in ("ok", "error", "traceback", "hang")}
    slowest = max((o.seconds for o in outcomes), default=0.0)
    return (
        f"{cases} cases, {len(outcomes)} commands: {kinds['ok']} ok, {kinds['error']} user "
        f"errors, {kinds['traceback']} tracebacks, {kinds['hang']} hangs; slowest "
        f"{slowest:.2f} s; peak RSS {peak_rss_mb():.0f} MB"
    )


def main() -> None:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = campaign(args.cases, args.seed, Path(tmp))
    for o in outcomes:
        if o.kind in ("traceback", "hang"):
            print(f"--- case {o.case} ({o.seed_file}, {o.command}): {o.kind}\n{o.detail}")
    print(summary(outcomes))
    bad = [o for o in outcomes if o.kind in ("traceback", "hang")]
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
