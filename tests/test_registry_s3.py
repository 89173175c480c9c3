"""A team registry on a real S3 endpoint (moto on loopback), shared by two workspaces."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace


def _workspaces(tmp_path: Path, url: str) -> tuple[Path, Path]:
    author, user = tmp_path / "author", tmp_path / "user"
    make_workspace(author)
    make_workspace(user)
    (user / "pyproject.toml").write_text(f'[tool.amlrun]\nregistry = "{url}"\n')
    text = (user / "pipeline.yml").read_text().replace("./prep/prep.yml", "azureml:prep@default")
    (user / "reg.yml").write_text(text)
    return author, user


def test_an_s3_team_registry_serves_another_workspace_and_moves_its_default(
    s3_server, tmp_path: Path
) -> None:
    url = f"{s3_server.url}/registry-{uuid.uuid4().hex[:8]}"
    author, user = _workspaces(tmp_path, url)
    amlrun("module", "register", "prep/prep.yml", "--registry", url, cwd=author, check=True)
    assert set(statuses(run_json("reg.yml", cwd=user)).values()) == {"ran"}
    listed = amlrun("module", "list", "--all-versions", cwd=user, check=True).stdout
    assert f"prep:1  [default, latest]  {url}" in listed

    spec = author / "prep/prep.yml"
    spec.write_text(spec.read_text().replace("version: 1", "version: 2"))
    (author / "prep/src/prep.py").write_text(
        (author / "prep/src/prep.py").read_text()
        + "out.joinpath('clean.csv').open('a').write('z,5\\n')\n"
    )
    amlrun("module", "register", "prep/prep.yml", "--registry", url, cwd=author, check=True)
    assert set(statuses(run_json("reg.yml", cwd=user)).values()) == {"reused"}
    amlrun("module", "set-default", "prep", "2", "--registry", url, cwd=author, check=True)
    after = statuses(run_json("reg.yml", cwd=user))
    assert after == {"prep": "ran", "train": "ran", "report": "ran", "side": "reused"}


def test_concurrent_registrations_on_s3_leave_exactly_one_version(
    s3_server, tmp_path: Path
) -> None:
    url = f"{s3_server.url}/registry-{uuid.uuid4().hex[:8]}"
    sources = []
    for i in range(3):
        folder = tmp_path / f"src{i}"
        folder.mkdir()
        (folder / "m.yml").write_text(
            "type: command\nname: m\nversion: 1\ncode: .\ncommand: python m.py\n"
        )
        (folder / "m.py").write_text(f"print({i})\n")
        sources.append(folder)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from amlrun.cli.main import main; main()",
                "module",
                "register",
                str(f / "m.yml"),
                "--registry",
                url,
            ],
            cwd=f,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in sources
    ]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    winners = [out for rc, out, _ in results if rc == 0]
    assert len(winners) == 1, results
    losers = [err for rc, _, err in results if rc != 0]
    assert all("different content" in err for err in losers), losers
    digest = winners[0].split()[2]
    import s3fs

    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_server.endpoint})
    record = fs.cat_file(f"{url.removeprefix('s3://')}/modules/m/1.json").decode()
    assert digest in record
