"""S3 (moto's server) and Azure Blob (Azurite) as a team cache: the same promises as a folder.

Each test runs against both real endpoints, configured by the environment alone, as a user's
CI job would be. The stores' own shape checks are in test_store.py (memory:// and folders).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from amlrun.cache.base import BadBlob, blob_rel
from amlrun.cache.store import open_store
from amlrun.errors import AmlrunError
from tests.helpers import run_json, statuses
from tests.pipeline_ws import make_workspace
from tests.test_store import _files, _manifest, _tree

pytestmark = pytest.mark.slow


@pytest.fixture(params=["s3", "azure"])
def remote_url(request: pytest.FixtureRequest) -> str:
    """A fresh prefix in the bucket (moto) or container (Azurite) of this session."""
    server = request.getfixturevalue("s3_server" if request.param == "s3" else "azurite_server")
    return f"{server.url}/cache-{uuid.uuid4().hex[:8]}"


def test_a_tree_round_trips_through_a_real_remote_store(remote_url: str, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    store = open_store(remote_url, tmp_path)

    entries, _ = store.put_tree(src)
    store.put_manifest("k1", _manifest({"out": (entries, False)}, log=store.put_bytes(b"log")))

    code = (  # another process, configured by the environment alone
        "import sys; from pathlib import Path; from amlrun.cache.store import open_store; "
        f"s = open_store({remote_url!r}, Path('.')); m = s.get_manifest('k1'); "
        f"s.materialize(m['outputs']['out']['entries'], Path({str(tmp_path / 'dest')!r}), False); "
        "print(s.verify())"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert _files(tmp_path / "dest") == _files(src)
    assert store.gc(older_than_s=0) == (1, len({h for h, _, _ in entries.values()}) + 1)
    assert not store.has_manifest("k1")


def test_a_layered_store_reads_a_remote_hit_lazily_and_its_data_through_when_restored(
    remote_url: str, tmp_path: Path
) -> None:
    remote = open_store(remote_url, tmp_path)
    src = _tree(tmp_path / "src")
    entries, _ = remote.put_tree(src)
    remote.put_manifest("k1", _manifest({"out": (entries, False)}))

    layered = open_store(f"{tmp_path / 'local'},{remote_url}", tmp_path)

    assert layered.get_manifest("k1") == remote.get_manifest("k1")
    local = open_store(str(tmp_path / "local"), tmp_path)
    assert not any(local.has_blob(h) for h, _, _ in entries.values())  # nothing downloaded
    layered.materialize(entries, tmp_path / "dest", False)
    assert _files(tmp_path / "dest") == _files(src)
    assert all(local.has_blob(h) for h, _, _ in entries.values()) and local.verify() == []


def test_a_read_only_remote_layer_is_read_but_never_written(
    remote_url: str, tmp_path: Path
) -> None:
    remote = open_store(remote_url, tmp_path)
    remote.put_manifest("shared", _manifest({}))
    layered = open_store(f"{tmp_path / 'local'},{remote_url}?ro", tmp_path)

    assert layered.get_manifest("shared") is not None
    layered.put_manifest("mine", _manifest({}))
    assert not remote.has_manifest("mine")
    with pytest.raises(AmlrunError, match="read-only"):
        open_store(f"{remote_url}?ro", tmp_path).put_bytes(b"poison")


def test_a_corrupted_remote_blob_is_a_miss_not_a_wrong_restore(
    remote_url: str, tmp_path: Path
) -> None:
    remote = open_store(remote_url, tmp_path)
    entries, _ = remote.put_tree(_tree(tmp_path / "src"))
    remote.put_manifest("k1", _manifest({"out": (entries, False)}))
    h = entries["a.txt"][0]
    remote.fs.pipe_file(remote._path(blob_rel(h)), b"omega\n")

    layered = open_store(f"{tmp_path / 'local'},{remote_url}?ro", tmp_path)

    manifest = layered.get_manifest("k1")  # read lazily: the blob is checked when fetched
    assert manifest is not None
    with pytest.raises(BadBlob, match=h):  # a reused step's consumer reruns it (test_cache_lazy)
        layered.materialize(manifest["outputs"]["out"]["entries"], tmp_path / "dest", False)
    assert not (tmp_path / "dest").exists()
    assert not open_store(str(tmp_path / "local"), tmp_path).has_blob(h)
    assert any(h in p and "corrupt" in p for p in remote.verify())


def test_a_pipeline_reuses_a_team_cache_and_no_credential_is_written_anywhere(
    azurite_server, tmp_path: Path
) -> None:
    from tests.fixtures.azurite import ACCOUNT_KEY

    remote = f"{azurite_server.url}/team-{uuid.uuid4().hex[:8]}"
    main, pr = tmp_path / "main", tmp_path / "pr"
    outputs = []
    for ws in (main, pr):
        pipeline = make_workspace(ws)
        outputs.append(run_json(str(pipeline), "--store", f".amlrun/cache,{remote}", cwd=ws))
    assert set(statuses(outputs[0]).values()) == {"ran"}
    assert set(statuses(outputs[1]).values()) == {"reused"}

    secret = ACCOUNT_KEY.encode()
    written = [p for ws in (main, pr) for p in (ws / ".amlrun").rglob("*") if p.is_file()]
    assert written and not [p for p in written if secret in p.read_bytes()]
    store = open_store(remote, tmp_path)
    in_store = store.fs.find(store.root)
    assert in_store and not [p for p in in_store if secret in store.fs.cat_file(p)]
    assert ACCOUNT_KEY not in str(outputs)


def test_credentials_in_a_store_url_are_refused_without_echoing_them(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    pipeline = make_workspace(ws)
    from tests.helpers import amlrun

    proc = amlrun("run", str(pipeline), "--store", "s3://AKIA:hunter2@bucket/c", cwd=ws)

    assert proc.returncode == 2, proc.stderr
    assert "credentials" in proc.stderr and "hunter2" not in proc.stderr + proc.stdout


def test_an_s3_endpoint_can_come_from_pyproject(
    s3_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.amlrun.stores.s3]\nendpoint_url = "{s3_server.endpoint}"\n'
    )
    url = f"{s3_server.url}/cfg-{uuid.uuid4().hex[:8]}"

    h = open_store(url, tmp_path).put_bytes(b"configured")

    assert open_store(url, tmp_path).get_bytes(h) == b"configured"


def test_a_credential_in_pyproject_store_settings_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.amlrun.stores.azure]\naccount_key = "abc"\n')

    with pytest.raises(AmlrunError, match=r"stores\.azure\.account_key.*credential"):
        open_store("abfs://container/cache", tmp_path)
