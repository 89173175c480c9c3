"""Workloads of real steps for the benchmarks: one DAG, five spellings (bench/_spellings.py).

Every step is a small python script in its own code folder (``steps/sNNNN/step.py``, the
step's snapshot) that reads every ``*.bin`` in its input folders, maps each byte through a
table built from its parameter and its own index, and writes the result (as many bytes as
it read) to ``data.bin`` in its output folder. The seed input is one random file of
``data_kib`` KiB (1 MiB by default), so every step reads and writes 1 MiB. The byte map is a
bijection: a changed parameter changes the step's output and every output downstream, which
is what the edit scenario checks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

SEED_DIR = "data"  # the seed input folder (relative to a tool's folder)
SEED_FILE = "seed.bin"
OUT = "out"  # where the baselines keep step outputs: out/<step>/data.bin
DATA = "data.bin"  # the one file each step writes into its output folder
FINAL = "final"  # amlrun's pipeline output: the last step's output
PARAM = 3  # every step's parameter unless edited

SCRIPT = '''"""Benchmark step {index}: a byte map of its inputs, shaped by a parameter."""

import sys
from pathlib import Path

STEP = {index}


def main() -> None:
    *inputs, out, param = sys.argv[1:]
    data = b"".join(
        f.read_bytes() for d in inputs for f in sorted(Path(d).glob("*.bin"))
    )
    shift = (int(param) * 7 + STEP) % 255 + 1
    table = bytes((b + shift) % 256 for b in range(256))
    Path(out).mkdir(parents=True, exist_ok=True)
    Path(out, "{data}").write_bytes(data.translate(table))


main()
'''


def command(python: str, script: str, inputs: list[str], out: str, param: str) -> str:
    """A step's command line: the same program and arguments in every tool."""
    return " ".join([python, script, *inputs, out, param])


@dataclass(frozen=True)
class Step:
    name: str
    index: int
    deps: tuple[str, ...]  # upstream step names; none: the step reads the seed
    param: int = PARAM
    python: str = "python"  # "python -S" for the cheap bootstrap variant (no site import)

    @property
    def code(self) -> str:
        """The step's code folder (its snapshot), relative to a tool's folder."""
        return f"steps/{self.name}"

    def shell(self) -> str:
        """The command as the baselines run it from the tool's folder (amlrun runs the same
        argv from the staged snapshot: ``python step.py IN.. OUT PARAM``)."""
        ins = [f"{OUT}/{d}" for d in self.deps] or [SEED_DIR]
        return command(
            self.python, f"{self.code}/step.py", ins, f"{OUT}/{self.name}", str(self.param)
        )


@dataclass(frozen=True)
class Workload:
    shape: str  # chain | wide
    steps: tuple[Step, ...]  # topological order
    data_kib: int = 1024

    @property
    def name(self) -> str:
        size = "" if self.data_kib == 1024 else f"-{self.data_kib}k"
        return f"{self.shape}-{len(self.steps)}{size}"

    @property
    def final(self) -> Step:
        return self.steps[-1]

    @property
    def middle(self) -> Step:
        return self.steps[len(self.steps) // 2]

    def edited(self, param: int) -> Workload:
        """The same workload with the middle step's parameter set to ``param``."""
        mid = self.middle.name
        steps = tuple(replace(s, param=param) if s.name == mid else s for s in self.steps)
        return replace(self, steps=steps)

    def dependants_of_middle(self) -> list[str]:
        """The middle step and every step downstream of it, in order: what an edit reruns."""
        changed = {self.middle.name}
        for s in self.steps:
            if changed.intersection(s.deps):
                changed.add(s.name)
        return [s.name for s in self.steps if s.name in changed]


def make_workload(shape: str, n: int, data_kib: int = 1024, python: str = "python") -> Workload:
    """``chain``: s0 -> s1 -> ... ; ``wide``: s0 fans out to s1 .. s(n-1)."""
    if shape not in ("chain", "wide"):
        raise ValueError(f"unknown shape {shape!r} (chain or wide)")
    if n < 2:
        raise ValueError("a workload needs at least 2 steps")
    width = len(str(n - 1))
    names = [f"s{i:0{width}d}" for i in range(n)]
    steps = [Step(names[0], 0, (), python=python)]
    for i in range(1, n):
        up = names[i - 1] if shape == "chain" else names[0]
        steps.append(Step(names[i], i, (up,), python=python))
    return Workload(shape, tuple(steps), data_kib)


def write_sources(w: Workload, folder: Path) -> None:
    """The seed input and every step's code folder: what each tool's definition points at."""
    (folder / SEED_DIR).mkdir(parents=True, exist_ok=True)
    rng = random.Random(len(w.steps))  # the same bytes in every tool's folder
    (folder / SEED_DIR / SEED_FILE).write_bytes(rng.randbytes(w.data_kib * 1024))
    for s in w.steps:
        code = folder / s.code
        code.mkdir(parents=True, exist_ok=True)
        (code / "step.py").write_text(SCRIPT.format(index=s.index, data=DATA))


def user_files(folder: Path) -> list[Path]:
    """Every file a user owns in a tool's folder: not the tools' own state folders."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") for p in rel):
            found.append(path)
    return found
