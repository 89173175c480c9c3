"""The example pipeline under test, through amlrun's pytest plugin.

    pytest examples/sklearn-pipeline                    # runs what changed, reuses the rest
    pytest examples/sklearn-pipeline --amlrun-expect-reuse \\
        --amlrun-store .amlrun/cache,s3://team/cache?ro  # CI: a pull request against the team cache
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PIPELINE = Path(__file__).parent / "pipeline.yml"


def _metrics(result) -> dict:
    return json.loads((result.output("evaluate", "metrics") / "metrics.json").read_text())


def test_the_model_is_accurate_on_held_out_data(amlrun_run) -> None:
    result = amlrun_run(PIPELINE)

    metrics = _metrics(result)
    assert metrics["n_test"] == 143
    assert metrics["accuracy"] > 0.9


@pytest.mark.amlrun_reruns("train", "score", "evaluate")
def test_a_small_forest_is_still_accurate(amlrun_run) -> None:
    result = amlrun_run(PIPELINE, set={"n_estimators": 5})

    assert _metrics(result)["accuracy"] > 0.8
