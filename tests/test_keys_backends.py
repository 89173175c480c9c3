"""Environment variables and file names reach the command on every backend, not only local."""

from __future__ import annotations

import pytest

from tests.helpers import run_json, statuses
from tests.test_keys import edit, make_ws

pytestmark = pytest.mark.slow


def test_environment_variables_and_a_file_inputs_name_reach_the_command_on_dask(
    dask_scheduler: str, tmp_path
):
    ws = make_ws(tmp_path)
    dask = ["--backend", "dask", "--scheduler", dask_scheduler]
    result = run_json(str(ws / "pipeline.yml"), *dask, cwd=ws)
    assert statuses(result) == {"show": "ran"}, result
    assert (ws / "result/seen.txt").read_text() == "hello world a.csv"


def test_environment_variables_and_a_file_inputs_name_reach_the_command_on_docker(
    docker_host: str, tmp_path
):
    from tests.fixtures.docker_engine import TEST_IMAGE

    ws = make_ws(tmp_path)
    edit(ws / "show/show.yml", "code: ./src", f"code: ./src\nenvironment: {{image: {TEST_IMAGE}}}")
    docker = ["--backend", "docker"]
    result = run_json(str(ws / "pipeline.yml"), *docker, cwd=ws, env={"DOCKER_HOST": docker_host})
    assert statuses(result) == {"show": "ran"}, result
    assert (ws / "result/seen.txt").read_text() == "hello world a.csv"
