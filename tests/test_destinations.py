"""Output destinations never harm the user's files: what amlrun may replace, and what not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

REPORT = "# report\nsum=12\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    return tmp_path


def nothing_ran(ws: Path) -> bool:
    steps = ws / ".amlrun" / "cache" / "steps"
    return not steps.exists() or not any(steps.iterdir())


def test_output_to_the_workspace_root_keeps_workspace_pipeline_and_store(ws: Path) -> None:
    run_json("pipeline.yml", cwd=ws)  # a store worth keeping
    for flags in ((), ("--force-output",)):
        proc = amlrun("run", "pipeline.yml", "--output", "final=.", *flags, cwd=ws)
        assert proc.returncode == 2, proc.stderr
        assert str(ws) in proc.stderr and "Traceback" not in proc.stderr
        assert (ws / "pipeline.yml").is_file() and (ws / "prep" / "src" / "prep.py").is_file()
        assert any((ws / ".amlrun" / "cache" / "steps").iterdir())
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"reused"}


def test_a_folder_holding_user_files_is_refused_before_any_step_runs(ws: Path) -> None:
    mine = ws / "out" / "mine.txt"
    mine.parent.mkdir()
    mine.write_text("precious\n")
    proc = amlrun("run", "pipeline.yml", "--output", "final=out", cwd=ws)
    assert proc.returncode == 2
    assert str(ws / "out") in proc.stderr and "--force-output" in proc.stderr
    assert mine.read_text() == "precious\n"
    assert nothing_ran(ws)
    dry = amlrun("run", "pipeline.yml", "--output", "final=out", "--dry-run", cwd=ws)
    assert dry.returncode == 2 and "--force-output" in dry.stderr


def test_force_output_replaces_a_folder_of_user_files(ws: Path) -> None:
    (ws / "out").mkdir()
    (ws / "out" / "mine.txt").write_text("not wanted\n")
    run_json("pipeline.yml", "--output", "final=out", "--force-output", cwd=ws)
    assert sorted(p.name for p in (ws / "out").iterdir()) == ["report.md"]


def test_a_folder_amlrun_wrote_is_replaced_without_asking(ws: Path) -> None:
    (ws / "out").mkdir()  # empty: fine
    run_json("pipeline.yml", "--output", "final=out", cwd=ws)
    assert (ws / "out" / "report.md").read_text() == REPORT
    result = run_json("pipeline.yml", "--output", "final=out", "--set", "epochs=2", cwd=ws)
    assert statuses(result)["report"] == "ran"
    assert (ws / "out" / "report.md").read_text() == "# report\nsum=24\n"


def test_a_null_run_leaves_an_output_it_wrote_untouched(ws: Path) -> None:
    run_json("pipeline.yml", "--output", "final=out", cwd=ws)
    report = ws / "out" / "report.md"
    before = (report.stat().st_ino, report.stat().st_mtime_ns, (ws / "out").stat().st_ino)

    assert set(statuses(run_json("pipeline.yml", "--output", "final=out", cwd=ws)).values()) == {
        "reused"
    }
    assert (report.stat().st_ino, report.stat().st_mtime_ns, (ws / "out").stat().st_ino) == before
    with_force = run_json("pipeline.yml", "--output", "final=out", "--force-output", cwd=ws)
    assert set(statuses(with_force).values()) == {"reused"} and report.stat().st_ino == before[0]


def test_an_output_folder_changed_since_amlrun_wrote_it_is_refused(ws: Path) -> None:
    run_json("pipeline.yml", "--output", "final=out", cwd=ws)
    report = ws / "out" / "report.md"
    report.unlink()
    report.write_text("# report\nsum=99\n")  # a new file, same size, where amlrun's was
    proc = amlrun("run", "pipeline.yml", "--output", "final=out", cwd=ws)
    assert proc.returncode == 2 and "report.md" in proc.stderr and "--force-output" in proc.stderr
    assert report.read_text() == "# report\nsum=99\n"


def test_a_file_amlrun_wrote_whose_mtime_alone_moved_is_still_replaced(ws: Path) -> None:
    run_json("pipeline.yml", "--output", "final=out", cwd=ws)
    os.utime(ws / "out" / "report.md", (1_000_000, 1_000_000))  # e.g. a store's gc refresh
    assert run_json("pipeline.yml", "--output", "final=out", "--set", "epochs=2", cwd=ws)
    assert (ws / "out" / "report.md").read_text() == "# report\nsum=24\n"


def test_a_symlinked_output_folder_is_never_followed(ws: Path) -> None:
    target = ws / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("keep\n")
    (ws / "out").symlink_to(target, target_is_directory=True)
    proc = amlrun("run", "pipeline.yml", "--output", "final=out", cwd=ws)
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    assert nothing_ran(ws)
    run_json("pipeline.yml", "--output", "final=out", "--force-output", cwd=ws)
    assert not (ws / "out").is_symlink() and (ws / "out" / "report.md").read_text() == REPORT
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]


def test_path_destinations_in_the_pipeline_follow_the_same_rules(ws: Path) -> None:
    pipeline = ws / "pipeline.yml"
    text = pipeline.read_text()
    text = text.replace(
        "  final: {type: uri_folder}", "  final: {type: uri_folder, path: ./final}"
    ).replace(
        "    component: ./side/side.yml",
        "    component: ./side/side.yml\n    outputs:\n      o: {type: uri_file, path: ./side.txt}",
    )
    pipeline.write_text(text)
    (ws / "side.txt").write_text("user notes\n")
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2 and "jobs.side.outputs.o.path" in proc.stderr
    assert (ws / "side.txt").read_text() == "user notes\n" and nothing_ran(ws)
    (ws / "side.txt").unlink()
    run_json("pipeline.yml", cwd=ws)
    assert (ws / "side.txt").read_text() == "hihihi"
    assert (ws / "final" / "report.md").read_text() == REPORT


def test_a_code_folder_reached_through_a_symlinked_parent_is_never_a_destination(
    ws: Path,
) -> None:
    (ws / "prep").rename(ws / "real_prep")
    (ws / "prep").symlink_to("real_prep")  # the spec still says ./prep/src
    for dest in ("real_prep/src", "real_prep"):
        proc = amlrun("run", "pipeline.yml", "--output", f"final={dest}", "--force-output", cwd=ws)
        assert proc.returncode == 2 and "which the run reads" in proc.stderr, proc.stderr
        assert (ws / "real_prep" / "src" / "prep.py").is_file() and nothing_ran(ws)


def test_two_outputs_in_one_folder_are_refused(ws: Path) -> None:
    pipeline = ws / "pipeline.yml"
    pipeline.write_text(
        pipeline.read_text().replace(
            "    component: ./side/side.yml",
            "    component: ./side/side.yml\n    outputs:\n"
            "      o: {type: uri_file, path: ./out/side.txt}",
        )
    )
    proc = amlrun("run", "pipeline.yml", "--output", "final=out", cwd=ws)
    assert proc.returncode == 2 and "overlap" in proc.stderr and nothing_ran(ws)


# ---------------------------------------------------------------- amlrun module run

MODULE = (
    "type: command\nname: w\noutputs: {o: {type: uri_folder}}\n"
    "code: .\ncommand: echo made > ${{outputs.o}}/made.txt\n"
)


def module_run(ws: Path, *args: str):
    spec = ws / "mod" / "c.yml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(MODULE)
    return amlrun("module", "run", str(spec), *args, cwd=ws)


def test_module_run_refuses_a_folder_of_user_files_before_running(tmp_path: Path) -> None:
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "mine.txt").write_text("precious\n")
    proc = module_run(tmp_path, "-o", "o=o")
    assert proc.returncode == 2 and "--force-output" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["mine.txt"]
    assert not (tmp_path / ".amlrun" / "runs").exists()  # the command never started
    assert module_run(tmp_path, "-o", "o=o", "--force-output").returncode == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["made.txt"]
    assert module_run(tmp_path, "-o", "o=o").returncode == 0  # amlrun's own: replaced


def test_module_run_output_to_its_own_folder_is_refused_even_when_forced(tmp_path: Path) -> None:
    proc = module_run(tmp_path, "-o", "o=mod", "--force-output")
    assert proc.returncode == 2 and "c.yml" in proc.stderr
    assert (tmp_path / "mod" / "c.yml").is_file()


def test_module_run_never_writes_through_a_symlinked_output(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "o").symlink_to(target, target_is_directory=True)
    assert module_run(tmp_path, "-o", "o=o").returncode == 2
    assert module_run(tmp_path, "-o", "o=o", "--force-output").returncode == 0
    assert not (tmp_path / "o").is_symlink() and (tmp_path / "o" / "made.txt").is_file()
    assert list(target.iterdir()) == []
