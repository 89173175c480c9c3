"""amlrun's pytest plugin, driven the way a user's suite drives it (pytester, own process)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.pipeline_ws import make_workspace

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sklearn-pipeline"

PIPELINE_TESTS = """
import pathlib
import pytest

PIPELINE = pathlib.Path(__file__).parent / "pipeline.yml"


def test_report_sums_the_doubled_rows(amlrun_run):
    result = amlrun_run(PIPELINE, set={"factor": 2})
    assert set(result.steps) == {"prep", "train", "report", "side"}
    assert all(s.key for s in result.steps.values())
    report = result.output("report", "out") / "report.md"
    assert report.read_text() == "# report\\nsum=12\\n"
    print("STATUS", sorted((n, s.status, s.reason) for n, s in result.steps.items()))


@pytest.mark.amlrun_reruns("train")
def test_train_may_rerun_here(amlrun_run):
    amlrun_run(PIPELINE)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Path:
    """A user's repository: the small pipeline and a test file using the fixture."""
    make_workspace(pytester.path)
    (pytester.path / "test_pipe.py").write_text(textwrap.dedent(PIPELINE_TESTS))
    return pytester.path


def _edit_train(root: Path) -> None:
    script = root / "train" / "src" / "train.py"
    script.write_text(script.read_text() + "# tuned\n")


def test_amlrun_run_returns_each_steps_status_reason_key_and_outputs(
    pytester: pytest.Pytester, suite: Path
) -> None:
    first = pytester.runpytest_subprocess("-s")
    second = pytester.runpytest_subprocess("-s")

    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*STATUS*('prep', 'ran', 'never run')*"])
    second.stdout.fnmatch_lines(["*STATUS*('prep', 'reused', 'key found in store')*"])


def test_expect_reuse_fails_a_test_whose_pipeline_reruns_an_undeclared_step(
    pytester: pytest.Pytester, suite: Path
) -> None:
    pytester.runpytest_subprocess().assert_outcomes(passed=2)
    _edit_train(suite)

    result = pytester.runpytest_subprocess("--amlrun-expect-reuse")

    result.assert_outcomes(failed=1, passed=1)  # the marked test may rerun train
    result.stdout.fnmatch_lines([
        "*test_report_sums_the_doubled_rows*",
        "*train: expected to be reused, but would-run: snapshot files changed: train.py*",
    ])  # fmt: skip
    assert "Traceback" not in result.stdout.str()


def test_the_marker_rejects_a_step_the_pipeline_does_not_have(
    pytester: pytest.Pytester, suite: Path
) -> None:
    test = suite / "test_pipe.py"
    test.write_text(test.read_text().replace('amlrun_reruns("train")', 'amlrun_reruns("trian")'))

    result = pytester.runpytest_subprocess("--amlrun-expect-reuse", "-k", "may_rerun")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*amlrun_reruns names step 'trian'*did you mean 'train'*"])


def test_amlrun_store_runs_every_pipeline_against_that_store(
    pytester: pytest.Pytester, suite: Path, tmp_path: Path
) -> None:
    team = tmp_path / "team-cache"

    pytester.runpytest_subprocess(f"--amlrun-store={team}").assert_outcomes(passed=2)

    assert len(list((team / "steps").glob("*.json"))) == 4
    assert not (suite / ".amlrun" / "cache").exists()


def test_the_example_pipelines_test_file_passes_and_then_reuses_everything(
    pytester: pytest.Pytester,
) -> None:
    shutil.copytree(EXAMPLE, pytester.path / "sklearn-pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (pytester.path / ".git").mkdir()  # the workspace, as in a clone

    pytester.runpytest_subprocess().assert_outcomes(passed=2)
    pytester.runpytest_subprocess("--amlrun-expect-reuse").assert_outcomes(passed=2)
