"""The module registry through the CLI: register, labels, disable, references in pipelines."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    return tmp_path


def _use_registry(ws: Path, ref: str) -> Path:
    """pipeline.yml with prep taken from the registry as ``ref``; returns the new file."""
    text = (ws / "pipeline.yml").read_text().replace("./prep/prep.yml", ref)
    (ws / "reg.yml").write_text(text)
    return ws / "reg.yml"


def _new_prep_version(ws: Path, version: str, script_tail: str) -> None:
    spec = ws / "prep/prep.yml"
    spec.write_text(spec.read_text().replace("version: 1", f"version: {version}"))
    script = ws / "prep/src/prep.py"
    script.write_text(script.read_text() + script_tail)


def test_registering_identical_content_again_is_a_no_op(ws: Path) -> None:
    first = amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    again = amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    assert first.stdout.startswith("registered prep:1")
    assert again.stdout.startswith("unchanged prep:1")
    records = list((ws / ".amlrun/registry/modules/prep").glob("*.json"))
    assert [p.name for p in records] == ["1.json"]


def test_registering_changed_content_under_a_taken_version_names_both_digests(ws: Path) -> None:
    amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    old = json.loads((ws / ".amlrun/registry/modules/prep/1.json").read_text())["digest"]
    (ws / "prep/src/prep.py").write_text("print('changed')\n")
    proc = amlrun("module", "register", "prep/prep.yml", cwd=ws)
    assert proc.returncode == 2, proc.stderr
    assert old in proc.stderr and "different content" in proc.stderr
    assert "bump the version" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_moving_the_default_reruns_exactly_the_changed_step_and_its_dependants(ws: Path) -> None:
    amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    pipeline = _use_registry(ws, "azureml:prep@default")
    assert set(statuses(run_json(str(pipeline), cwd=ws)).values()) == {"ran"}
    _new_prep_version(ws, "2", "out.joinpath('clean.csv').open('a').write('d,1\\n')\n")
    amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    # a new version is not the default until set-default says so (as az ml module)
    assert set(statuses(run_json(str(pipeline), cwd=ws)).values()) == {"reused"}
    amlrun("module", "set-default", "prep", "2", cwd=ws, check=True)
    after = statuses(run_json(str(pipeline), cwd=ws))
    assert after == {"prep": "ran", "train": "ran", "report": "ran", "side": "reused"}


def test_a_registered_module_has_the_same_key_as_its_local_spec(ws: Path) -> None:
    amlrun("module", "register", "prep/prep.yml", "--label", "stable", cwd=ws, check=True)
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"ran"}
    for ref in ("azureml:prep:1", "azureml:prep@stable", "azureml:prep", "azureml:prep@latest"):
        result = statuses(run_json(str(_use_registry(ws, ref)), cwd=ws))
        assert set(result.values()) == {"reused"}, (ref, result)


def test_a_disabled_version_is_refused_at_plan_time_with_the_fix(ws: Path) -> None:
    amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    amlrun("module", "disable", "prep:1", cwd=ws, check=True)
    proc = amlrun("run", str(_use_registry(ws, "azureml:prep:1")), cwd=ws)
    assert proc.returncode == 2
    assert "disabled" in proc.stderr and "amlrun module enable 'prep:1'" in proc.stderr
    assert "reg.yml" in proc.stderr and "jobs.prep.component" in proc.stderr
    assert not (ws / ".amlrun/cache/steps").exists()
    listed = amlrun("module", "list", cwd=ws, check=True).stdout
    assert "prep" not in listed
    listed = amlrun("module", "list", "--all-versions", "--include-disabled", cwd=ws).stdout
    assert "prep:1" in listed and "disabled" in listed
    amlrun("module", "enable", "prep:1", cwd=ws, check=True)
    assert set(statuses(run_json(str(_use_registry(ws, "azureml:prep:1")), cwd=ws)).values()) == {
        "ran"
    }


def test_an_unregistered_reference_says_how_to_register(ws: Path) -> None:
    proc = amlrun("run", str(_use_registry(ws, "azureml:prep:7")), cwd=ws)
    assert proc.returncode == 2
    assert "module prep:7 is not registered" in proc.stderr
    assert "amlrun module register" in proc.stderr


def test_a_folder_registers_every_spec_with_a_summary(ws: Path) -> None:
    for name in ("train", "report", "side"):
        spec = ws / name / f"{name}.yml"
        spec.write_text(spec.read_text().replace(f"name: {name}\n", f"name: {name}\nversion: 3\n"))
    proc = amlrun("module", "register", ".", cwd=ws, check=True)
    assert proc.stdout.splitlines()[-1] == "4 registered, 0 unchanged, 0 failed"
    listed = amlrun("module", "list", cwd=ws, check=True).stdout
    assert [ln.split()[0] for ln in listed.splitlines()] == ["prep", "report", "side", "train"]


def test_show_and_download_a_registered_version(ws: Path, tmp_path_factory) -> None:
    amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    shown = amlrun("module", "show", "prep@default", cwd=ws, check=True).stdout
    assert "registered: prep:1" in shown and "labels: default, latest" in shown
    assert "python prep.py" in shown
    out = tmp_path_factory.mktemp("dl") / "prep"
    amlrun("module", "download", "prep:1", "-o", str(out), cwd=ws, check=True)
    assert (out / "spec/prep.yml").read_text() == (ws / "prep/prep.yml").read_text()
    assert (out / "snapshot/prep.py").read_text() == (ws / "prep/src/prep.py").read_text()
    assert not (out / "snapshot/notes.txt").exists()  # .amlignore'd at registration


def test_dsl_load_module_takes_a_registry_reference(ws: Path) -> None:
    amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    (ws / "dsl.py").write_text(
        "import amlrun\n"
        "prep = amlrun.load_module('azureml:prep:1')\n"
        "@amlrun.pipeline\n"
        "def p(raw: amlrun.Input = './data'):\n"
        "    prep(raw=raw, factor=2)\n"
    )
    first = statuses(run_json("pipeline.yml", cwd=ws))
    assert first["prep"] == "ran"
    assert statuses(run_json("dsl.py", cwd=ws)) == {"prep": "reused"}


def _register_variant(registry: str, root: str, text: str, barrier, results) -> None:
    from amlrun.errors import SpecError
    from amlrun.registry.publish import publish
    from amlrun.registry.registry import Registry
    from amlrun.spec.load import load_module

    folder = Path(root)
    folder.mkdir()
    (folder / "m.yml").write_text(
        "type: command\nname: m\nversion: 1\ncode: .\ncommand: python m.py\n"
    )
    (folder / "m.py").write_text(text)
    module = load_module(folder / "m.yml")
    barrier.wait()
    try:
        record, created = publish(Registry(registry, folder), module, root)
        results.put(("created" if created else "same", record.digest))
    except SpecError as exc:
        results.put(("refused", str(exc)))


def test_two_concurrent_registrations_of_one_version_leave_exactly_one(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    registry = str(tmp_path / "team")
    procs = [
        ctx.Process(
            target=_register_variant,
            args=(registry, str(tmp_path / f"src{i}"), f"print({i % 2})\n", barrier, results),
        )
        for i in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = [results.get(timeout=5) for _ in procs]
    created = [d for kind, d in outcomes if kind == "created"]
    assert len(created) == 1, outcomes
    stored = json.loads((tmp_path / "team/modules/m/1.json").read_text())["digest"]
    assert created == [stored]
    for kind, detail in outcomes:  # the others saw it: same content, or refused naming it
        assert kind in ("created", "same", "refused"), detail
        assert detail == stored if kind != "refused" else stored in detail


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_register_from_a_local_git_repository_at_a_ref_and_subfolder(ws: Path, tmp_path_factory):
    repo = tmp_path_factory.mktemp("repo")
    make_workspace(repo)
    (repo / ".git").rmdir()
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("-c", "user.email=a@b", "-c", "user.name=a", "add", ".", cwd=repo)
    _git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "v1", cwd=repo)
    _git("tag", "v1", cwd=repo)
    (repo / "prep/src/prep.py").write_text("uncommitted edit\n")
    proc = amlrun("module", "register", f"{repo}@v1#subdir=prep", cwd=ws, check=True)
    assert proc.stdout.startswith("registered prep:1")
    # the committed file was registered, not the working copy: same key as the local spec
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"ran"}
    assert statuses(run_json(str(_use_registry(ws, "azureml:prep:1")), cwd=ws))["prep"] == "reused"


def test_a_bad_git_ref_is_a_clear_error(ws: Path, tmp_path_factory) -> None:
    proc = amlrun("module", "register", "git+file:///nowhere/repo.git@v9", cwd=ws)
    assert proc.returncode == 2
    assert "git clone of file:///nowhere/repo.git" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_v1_module_is_referenced_by_namespace_name_and_version(tmp_path: Path) -> None:
    import shutil

    from tests.helpers import DATA

    for folder in ("v1mod", "shared_lib", "indir"):
        shutil.copytree(DATA / folder, tmp_path / folder)
    (tmp_path / ".git").mkdir()
    amlrun("module", "register", "v1mod/module_spec.yaml", cwd=tmp_path, check=True)
    listed = amlrun("module", "list", "--all-versions", cwd=tmp_path, check=True).stdout
    assert listed.startswith("amlrun.tests/Echo Args:01  [default, latest]")
    body = (
        "@amlrun.pipeline\n"
        "def p(data: amlrun.Input = './indir'):\n"
        "    m(**{'Input data': data, 'Mode': 'Slow'})\n"
    )
    (tmp_path / "local.py").write_text(
        f"import amlrun\nm = amlrun.load_module('v1mod/module_spec.yaml')\n{body}"
    )
    (tmp_path / "reg.py").write_text(
        "import amlrun\n"
        "m = amlrun.load_module(namespace='amlrun.tests', name='Echo Args', version='01')\n" + body
    )
    assert set(statuses(run_json("local.py", cwd=tmp_path)).values()) == {"ran"}
    assert set(statuses(run_json("reg.py", cwd=tmp_path)).values()) == {"reused"}


def test_a_hostile_record_cannot_write_outside_its_checkout(ws: Path) -> None:
    """Records may come from anyone's registry: a spec name with a path is refused."""
    from amlrun.hashing import hash_json

    amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    path = ws / ".amlrun/registry/modules/prep/1.json"
    doc = json.loads(path.read_text())
    del doc["v"], doc["digest"]
    doc["spec_name"] = "../../../escaped.yml"
    digest = hash_json({k: v for k, v in doc.items() if k != "source"})  # self-consistent
    path.chmod(0o644)
    path.write_text(json.dumps({**doc, "v": 1, "digest": digest}))
    proc = amlrun("run", str(_use_registry(ws, "azureml:prep:1")), cwd=ws)
    assert proc.returncode == 2
    assert "malformed registry record" in proc.stderr and "not a plain file name" in proc.stderr
    assert not list(ws.parent.rglob("escaped.yml"))


def test_gc_of_a_store_sharing_the_registry_location_keeps_registered_snapshots(
    ws: Path, tmp_path_factory
) -> None:
    team = str(tmp_path_factory.mktemp("team"))
    amlrun("module", "register", "prep/prep.yml", "--registry", team, cwd=ws, check=True)
    proc = amlrun("cache", "gc", "--store", team, "--older-than-days", "0", cwd=ws, check=True)
    assert proc.stdout.strip() == "removed 0 entries and 0 blobs"
    out = tmp_path_factory.mktemp("dl") / "prep"
    amlrun("module", "download", "prep:1", "-o", str(out), "--registry", team, cwd=ws, check=True)
    assert (out / "snapshot/prep.py").read_text() == (ws / "prep/src/prep.py").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["module", "register", "prep/prep.yml", "--label", "a/b"],
            "label 'a/b' is not a valid label",
        ),
        (["module", "register", "prep/prep.yml", "--label", "latest"], "'latest' is computed"),
        (["module", "list", "--registry", "nope://x"], "registry nope://x cannot be opened"),
        (["module", "show", "prep:../x"], "version '../x' is not a valid version"),
        (["module", "set-default", "prep", "9"], "module prep has no version 9"),
    ],
)
def test_bad_registry_arguments_are_one_clear_line(ws: Path, args: list[str], message: str):
    if args[1] != "register":
        amlrun("module", "register", "prep/prep.yml", cwd=ws, check=True)
    proc = amlrun(*args, cwd=ws)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    if args[1] == "register":  # a refused label registers nothing
        assert not (ws / ".amlrun/registry/modules").exists()
