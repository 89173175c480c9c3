"""Backends through the CLI: compute names to backends, ``--backend``, ``amlrun backends``,
a third-party plugin, one key on every backend, and cached virtualenvs.

Real engines come from tests/fixtures (``docker_host``, ``dask_scheduler``); tests using
them, or PyPI, are marked slow.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import tomllib

from tests.fixtures.docker_engine import TEST_IMAGE
from tests.helpers import amlrun, statuses
from tests.pipeline_ws import make_workspace

REPO = Path(__file__).resolve().parents[1]
PLUGIN = Path(__file__).parent / "plugin_example"
ALL = {"prep", "train", "report", "side"}
NOTE = (
    "note: compute 'cpu-cluster' runs on the local backend "
    "(map compute names in [tool.amlrun.compute])"
)
NO_ENGINES = {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "AMLRUN_DASK_SCHEDULER": ""}


# ---------------------------------------------------------------- helpers


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


def _run(
    pipeline: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    """``amlrun run --json``: the process (for exit code and stderr) and the parsed result."""
    proc = amlrun("run", str(pipeline), *args, "--json", cwd=cwd, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no JSON printed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(lines[-1])


def _ran(pipeline: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> dict:
    """Run; every step must succeed (ran or reused)."""
    proc, result = _run(pipeline, *args, cwd=cwd, env=env)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    return result


def _keys(result: dict) -> dict[str, str]:
    return {s["name"]: s["key"] for s in result["steps"]}


def _manifests(ws: Path, result: dict) -> dict[str, dict]:
    """Each step's manifest in the workspace's default store."""
    steps = ws / ".amlrun" / "cache" / "steps"
    return {n: json.loads((steps / f"{k}.json").read_text()) for n, k in _keys(result).items()}


def _notes(proc: subprocess.CompletedProcess) -> list[str]:
    """The notes about compute names (the workspace's cloud environment has its own note)."""
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("note: compute")]


def _backends(cwd: Path, env: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """``amlrun backends`` as {name: (state, detail)}."""
    proc = amlrun("backends", cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = [ln.split(None, 2) for ln in proc.stdout.splitlines() if ln.strip()]
    return {r[0]: (r[1], r[2] if len(r) > 2 else "") for r in rows}


def _config(ws: Path, text: str) -> None:
    _write(ws, {".amlrun/config.yaml": text})


def _compute(ws: Path, mapping: dict[str, str]) -> None:
    """``[tool.amlrun.compute]`` in the workspace's pyproject.toml."""
    rows = "".join(f'"{k}" = "{v}"\n' for k, v in mapping.items())
    (ws / "pyproject.toml").write_text(f"[tool.amlrun.compute]\n{rows}")


def _with_echo_plugin(site: Path) -> dict[str, str]:
    """Install tests/plugin_example for a subprocess: a .dist-info declaring its entry point
    (as pip would, from the example's pyproject.toml) and its folder on PYTHONPATH."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    points = project["entry-points"]["amlrun"]
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    (dist / "entry_points.txt").write_text(
        "[amlrun]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
    )
    paths = [str(site), str(PLUGIN), str(REPO), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}


# ---------------------------------------------------------------- compute -> backend


def test_unmapped_compute_runs_on_local_with_one_note_per_run(tmp_path: Path) -> None:
    pipeline = make_workspace(tmp_path)

    for expected in ("ran", "reused"):  # a cold run, then a null run
        proc = amlrun("run", str(pipeline), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert _notes(proc) == [NOTE]
        assert proc.stderr.count(f"{expected:9} ") == len(ALL)

    _, result = _run(pipeline, "--force", "prep", cwd=tmp_path)
    assert {m["backend"] for m in _manifests(tmp_path, result).values()} == {"local"}


def test_mapped_compute_runs_and_an_unmapped_one_is_exit_2_listing_the_mapped(
    tmp_path: Path,
) -> None:
    pipeline = make_workspace(tmp_path)
    _compute(tmp_path, {"cpu-cluster": "local", "azureml:gpu-cluster": "local"})

    proc = amlrun("run", str(pipeline), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _notes(proc) == []  # mapped: nothing to point out
    assert proc.stderr.count("ran       ") == len(ALL)

    pipeline.write_text(pipeline.read_text().replace("azureml:cpu-cluster", "azureml:big-cluster"))
    proc = amlrun("run", str(pipeline), cwd=tmp_path)

    assert proc.returncode == 2, proc.stderr
    assert "compute 'big-cluster' of step 'prep' is not configured" in proc.stderr
    assert "[tool.amlrun.compute]; configured: cpu-cluster, gpu-cluster" in proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if not ln.startswith("error:")] == []


def test_config_yaml_maps_compute_too(tmp_path: Path) -> None:
    pipeline = make_workspace(tmp_path)
    _config(tmp_path, "compute: {cpu-cluster: local}\n")

    proc = amlrun("run", str(pipeline), cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert _notes(proc) == []


def test_backend_option_overrides_the_mapping(tmp_path: Path) -> None:
    pipeline = make_workspace(tmp_path)
    _compute(tmp_path, {"cpu-cluster": "docker"})  # no engine answers at NO_ENGINES' socket

    mapped = amlrun("run", str(pipeline), cwd=tmp_path, env=NO_ENGINES)
    assert mapped.returncode == 2
    assert "cannot reach a docker engine at unix:///nonexistent/docker.sock" in mapped.stderr

    result = _ran(pipeline, "--backend", "local", cwd=tmp_path, env=NO_ENGINES)
    assert statuses(result) == dict.fromkeys(ALL, "ran")
    assert {m["backend"] for m in _manifests(tmp_path, result).values()} == {"local"}


@pytest.mark.parametrize("where", ["--backend", "mapping"])
def test_unknown_backend_is_an_error_listing_installed_backends(tmp_path: Path, where: str) -> None:
    pipeline = make_workspace(tmp_path)
    if where == "mapping":
        _compute(tmp_path, {"cpu-cluster": "nope"})
        proc = amlrun("run", str(pipeline), cwd=tmp_path)
    else:
        proc = amlrun("run", str(pipeline), "--backend", "nope", cwd=tmp_path)

    assert proc.returncode == 2
    assert "no backend named 'nope'" in proc.stderr
    assert "use one of: dask, docker, local" in proc.stderr
    assert not (tmp_path / ".amlrun" / "cache" / "steps").exists()


# ---------------------------------------------------------------- amlrun backends


def test_backends_lists_each_with_its_state_and_why(tmp_path: Path) -> None:
    make_workspace(tmp_path)

    rows = _backends(tmp_path, NO_ENGINES)

    assert {"local", "docker", "dask"} <= set(rows)
    assert rows["local"][0] == "ready"
    assert rows["docker"][0] == "unreachable"  # installed, engine not reachable
    assert "cannot reach a docker engine at unix:///nonexistent/docker.sock" in rows["docker"][1]
    assert "'.ci/docker-engine.sh start'" in rows["docker"][1]
    assert rows["dask"][0] == "unreachable"
    assert rows["dask"][1].startswith("installed, engine not reachable: no dask scheduler")


@pytest.mark.slow
def test_backends_are_ready_with_a_real_engine_and_scheduler(
    docker_host: str, dask_scheduler: str, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    engines = f"docker: {{host: '{docker_host}'}}\n  dask: {{scheduler: '{dask_scheduler}'}}"
    _config(tmp_path, f"backends:\n  {engines}\n")

    rows = _backends(tmp_path, NO_ENGINES)  # the config wins over the environment

    assert rows["docker"][0] == "ready", rows["docker"]
    assert rows["docker"][1].startswith("docker ") and rows["docker"][1].endswith(docker_host)
    assert rows["dask"] == ("ready", f"2 worker(s) at {dask_scheduler}")


# ---------------------------------------------------------------- third-party plugin


def test_a_third_party_backend_plugin_is_listed_and_runs_a_pipeline(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    pipeline = make_workspace(ws)
    env = _with_echo_plugin(tmp_path / "site")
    record = tmp_path / "record.txt"
    _config(ws, f"backends:\n  echo: {{record: '{record}'}}\n")

    rows = _backends(ws, {**env, **NO_ENGINES})
    assert rows["echo"] == ("ready", f"records jobs in {record}")

    final = tmp_path / "final"
    result = _ran(pipeline, "--backend", "echo", "--output", f"final={final}", cwd=ws, env=env)

    assert statuses(result) == dict.fromkeys(ALL, "ran")
    assert {n: m["backend"] for n, m in _manifests(ws, result).items()} == dict.fromkeys(
        ALL, "echo"
    )
    lines = record.read_text().splitlines()
    assert sorted(lines) == sorted(f"{n} {k}" for n, k in _keys(result).items())
    assert (final / "report.md").read_text() == "# report\nsum=12\n"
    # the plugin shares the local backend's environment identity, so local reuses its work
    again = _ran(pipeline, cwd=ws, env=env)
    assert set(statuses(again).values()) == {"reused"}
    unknown = amlrun("run", str(pipeline), "--backend", "nope", cwd=ws, env=env)
    assert unknown.returncode == 2 and "use one of: dask, docker, echo, local" in unknown.stderr


# ---------------------------------------------------------------- one key, every backend


@pytest.mark.slow
def test_a_pipeline_run_on_local_is_reused_on_dask_and_dask_computes_the_same(
    dask_scheduler: str, tmp_path: Path
) -> None:
    dask = ("--backend", "dask", "--scheduler", dask_scheduler)
    first = tmp_path / "first"
    pipeline = make_workspace(first)
    local = _ran(pipeline, cwd=first)
    assert set(statuses(local).values()) == {"ran"}

    reused = _ran(pipeline, *dask, cwd=first)

    assert statuses(reused) == dict.fromkeys(ALL, "reused")
    assert _keys(reused) == _keys(local)
    # and a fresh workspace on dask computes the same keys and the same bytes
    second = tmp_path / "second"
    pipeline2 = make_workspace(second)
    cold = _ran(pipeline2, *dask, cwd=second)
    assert statuses(cold) == dict.fromkeys(ALL, "ran")
    assert _keys(cold) == _keys(local)
    on_dask, on_local = _manifests(second, cold), _manifests(first, local)
    assert {m["backend"] for m in on_dask.values()} == {"dask"}
    assert {n: m["outputs"] for n, m in on_dask.items()} == {
        n: m["outputs"] for n, m in on_local.items()
    }


@pytest.mark.slow
def test_a_deterministic_pipeline_yields_identical_outputs_on_local_and_docker(
    docker_host: str, tmp_path: Path
) -> None:
    pipeline = make_workspace(tmp_path)
    _config(
        tmp_path,
        f"backends:\n  docker: {{host: '{docker_host}', default_image: '{TEST_IMAGE}'}}\n",
    )
    local = _ran(pipeline, cwd=tmp_path)

    docker = _ran(pipeline, "--backend", "docker", cwd=tmp_path)

    # the environment resolves to an image ID on docker, so the keys differ: both run ...
    assert statuses(docker) == dict.fromkeys(ALL, "ran")
    assert set(_keys(docker).values()).isdisjoint(_keys(local).values())
    on_docker, on_local = _manifests(tmp_path, docker), _manifests(tmp_path, local)
    assert {m["backend"] for m in on_docker.values()} == {"docker"}
    # ... and produce the same content, entry for entry (hash, size, mode)
    assert {n: m["outputs"] for n, m in on_docker.items()} == {
        n: m["outputs"] for n, m in on_local.items()
    }


# ---------------------------------------------------------------- cached virtualenvs

CONDA_PIP = """
    name: jokes
    dependencies:
      - python=3.11
      - pip
      - pip:
        - pyjokes==0.6.0
"""
COMPONENT = """
    type: command
    name: {name}
    outputs:
      o: {{type: uri_file}}
    code: ./src
    environment:
      conda_file: ./env.yml
    command: >-
      python -c "import sys, pyjokes; open(sys.argv[1], 'w').write('{name} ' + pyjokes.__version__)"
      ${{{{outputs.o}}}}
"""
ONE_STEP = """
    type: pipeline
    outputs:
      o: {type: uri_file}
    jobs:
      j:
        component: ./jokes/jokes.yml
        outputs: {o: "${{parent.outputs.o}}"}
"""


def _jokes_workspace(ws: Path, name: str, conda: str) -> Path:
    _write(
        ws,
        {
            "jokes/env.yml": conda,
            "jokes/jokes.yml": COMPONENT.format(name=name),
            "jokes/src/.keep": "",
            "pipeline.yml": ONE_STEP,
        },
    )
    (ws / ".git").mkdir()
    return ws / "pipeline.yml"


@pytest.mark.slow
def test_a_pip_environment_is_built_once_and_reused_by_another_pipeline(tmp_path: Path) -> None:
    env = {"AMLRUN_CACHE_DIR": str(tmp_path / "cache")}
    venvs = tmp_path / "cache" / "amlrun" / "venvs"
    first = _jokes_workspace(tmp_path / "a", "first", CONDA_PIP)
    second = _jokes_workspace(tmp_path / "b", "second", CONDA_PIP)

    out1 = tmp_path / "o1.txt"
    _ran(first, "--output", f"o={out1}", cwd=first.parent, env=env)
    assert out1.read_text() == "first 0.6.0"
    [venv] = list(venvs.iterdir())
    built = (venv / ".amlrun-ready").stat().st_mtime_ns

    out2 = tmp_path / "o2.txt"
    result = _ran(second, "--output", f"o={out2}", cwd=second.parent, env=env)

    assert statuses(result) == {"j": "ran"}  # a different step, the same environment
    assert out2.read_text() == "second 0.6.0"
    assert list(venvs.iterdir()) == [venv]  # no second build, not even a temporary one
    assert (venv / ".amlrun-ready").stat().st_mtime_ns == built


def test_conda_only_packages_are_exit_2_naming_them(tmp_path: Path) -> None:
    conda = CONDA_PIP + "      - numpy=1.18\n      - cudatoolkit=11.0\n"
    pipeline = _jokes_workspace(tmp_path / "ws", "x", conda)
    cache = tmp_path / "cache"

    proc = amlrun("run", str(pipeline), cwd=pipeline.parent, env={"AMLRUN_CACHE_DIR": str(cache)})

    assert proc.returncode == 2, proc.stderr
    assert "env.yml: dependencies:" in proc.stderr and "conda-only packages" in proc.stderr
    assert "numpy=1.18, cudatoolkit=11.0" in proc.stderr
    assert "--backend docker" in proc.stderr  # the way out
    assert not (cache / "amlrun" / "venvs").exists()


def test_the_docs_show_the_example_plugin_as_it_is() -> None:
    doc = (REPO / "docs" / "backends.md").read_text()
    for rel in ("amlrun_echo_backend/__init__.py", "pyproject.toml"):
        assert (PLUGIN / rel).read_text() in doc, f"docs/backends.md: update the copy of {rel}"


def test_config_yaml_refines_pyproject_table_by_table(tmp_path):
    from amlrun.workspace import Workspace

    (tmp_path / "pyproject.toml").write_text(
        '[tool.amlrun.backends.dask]\nscheduler = "tcp://127.0.0.1:1"\n'
    )
    (tmp_path / ".amlrun").mkdir()
    (tmp_path / ".amlrun/config.yaml").write_text("backends:\n  docker:\n    default_image: x\n")
    assert Workspace(tmp_path).config["backends"] == {
        "dask": {"scheduler": "tcp://127.0.0.1:1"},
        "docker": {"default_image": "x"},
    }
