"""CI assertions on what a run reruns: ``--expect-reuse`` and ``--expect-run STEP,...``.

A pull request's job states what its change should rerun; a step that runs when it should
not (or the reverse) fails the job with exit 3, distinct from a failing step (1) or bad
input (2). What the plan already knows is checked before anything runs: a step the plan says
will run, against ``--expect-reuse`` or outside ``--expect-run``, fails the job at no cost. A
step downstream of one that runs may still be reused (same bytes, same key), so the set that
ran is checked again after the run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from amlrun.engine.state import StepOutcome
from amlrun.errors import AmlrunError, SpecError


class ExpectationFailed(AmlrunError):
    """The run did not reuse what the job said it would."""

    exit_code = 3


@dataclass(frozen=True)
class Expectation:
    #: steps allowed to run: empty with ``--expect-reuse``; None when nothing is expected
    may_run: frozenset[str] | None
    #: steps that must run (``--expect-run``): the same set, checked after the run
    must_run: frozenset[str] = frozenset()

    @classmethod
    def from_options(
        cls, steps: Iterable[str], expect_reuse: bool, expect_run: str | None
    ) -> Expectation:
        """Unknown step names and contradictory options are bad input (exit 2)."""
        if expect_reuse and expect_run is not None:
            raise SpecError(
                "--expect-reuse and --expect-run contradict each other",
                fix="use --expect-reuse alone, or list the steps that should run",
            )
        if expect_reuse:
            return cls(frozenset())
        if expect_run is None:
            return cls(None)
        names = frozenset(n.strip() for n in expect_run.split(",") if n.strip())
        _check_names(steps, names, "--expect-run")
        return cls(names, names)

    @classmethod
    def allowing(cls, steps: Iterable[str], names: Iterable[str], where: str) -> Expectation:
        """Only ``names`` may run (none has to): a test's declared reruns, which a warm
        cache may already hold."""
        allowed = frozenset(names)
        _check_names(steps, allowed, where)
        return cls(allowed)

    @property
    def active(self) -> bool:
        return self.may_run is not None

    def plan_violations(self, plan: Iterable[StepOutcome]) -> dict[str, str]:
        """Step -> why it breaks the expectation, from a plan (before anything runs).

        Only steps sure to run count: one waiting on an upstream that runs ("unknown") may
        still be reused when that upstream's outputs come out the same.
        """
        if self.may_run is None:
            return {}
        return {
            o.name: f"expected to be reused, but {o.status}: {o.reason}"
            for o in plan
            if o.status == "would-run" and o.name not in self.may_run
        }

    def run_violations(self, steps: Iterable[StepOutcome]) -> dict[str, str]:
        """Step -> why it breaks the expectation, from a finished run."""
        if self.may_run is None:
            return {}
        found: dict[str, str] = {}
        for o in steps:
            if o.status == "ran" and o.name not in self.may_run:
                found[o.name] = f"expected to be reused, but ran: {o.reason}"
            elif o.name in self.must_run and o.status != "ran":
                found[o.name] = f"expected to run, but {o.status}: {o.reason}"
        return found


def _check_names(steps: Iterable[str], names: frozenset[str], where: str) -> None:
    known = list(steps)
    for name in sorted(names - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        raise SpecError(
            f"{where} names step {name!r}, which the pipeline does not have",
            fix=f"did you mean {close[0]!r}?" if close else f"steps: {', '.join(known)}",
        )


def failure(violations: dict[str, str], when: str) -> ExpectationFailed:
    lines = "\n  ".join(f"{name}: {why}" for name, why in sorted(violations.items()))
    return ExpectationFailed(f"{when}, {len(violations)} step(s) broke the expectation:\n  {lines}")
