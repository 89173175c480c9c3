"""Mutated real spec and pipeline files never get a traceback or a hang (see tests/fuzz.py).

The default run is a fixed seed and 1,000 cases (~8 s); ``doit fuzz`` runs 3,000 more.
"""

from __future__ import annotations

from tests.fuzz import campaign, summary

CASES = 1000
SEED = 8


def test_mutated_corpus_and_example_files_get_no_traceback_and_no_hang(tmp_path, corpus):
    outcomes = campaign(CASES, SEED, tmp_path, limit_s=10.0)
    bad = [o for o in outcomes if o.kind in ("traceback", "hang")]
    report = "\n".join(
        f"case {o.case} ({o.seed_file}, {o.command}): {o.kind}\n{o.detail}" for o in bad[:5]
    )
    assert not bad, summary(outcomes) + "\n" + report
    assert len({o.case for o in outcomes}) == CASES
    # the campaign must reach past the parser: many cases load, many fail as designed
    kinds = {k: sum(o.kind == k for o in outcomes) for k in ("ok", "error")}
    assert kinds["ok"] > CASES // 4 and kinds["error"] > CASES // 4, summary(outcomes)
    print(summary(outcomes))
