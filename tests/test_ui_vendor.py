"""The vendored layout library: what the lockfile pins is what ships, and a tarball that is not
the one the lockfile names is refused. A fake ``npm`` on PATH stands in for the registry, so
these run offline; CI re-vendors from the real registry and diffs (see .ci/run)."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import textwrap
from pathlib import Path

import pytest

from amlrun.server import vendor

DAGRE = b'"use strict";var dagre=(()=>{})();\n'


def _tarball(path: Path, files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _fake_npm(bin_dir: Path, tarball: Path) -> None:
    """An ``npm`` whose ``pack`` copies ``tarball`` to --pack-destination, as npm does."""
    script = bin_dir / "npm"
    script.write_text(
        textwrap.dedent(f"""\
            #!/bin/sh
            dest=$(echo "$@" | sed 's/.*--pack-destination //')
            cp {tarball} "$dest/dagrejs-dagre.tgz"
            echo '[{{"filename": "dagrejs-dagre.tgz"}}]'
            """)
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A vendor folder whose lockfile pins a fake dagre tarball that the fake npm serves."""
    tgz = tmp_path / "dagre.tgz"
    data = _tarball(tgz, {"package/dist/dagre.min.js": DAGRE, "package/LICENSE": b"MIT\n"})
    (tmp_path / "bin").mkdir()
    _fake_npm(tmp_path / "bin", tgz)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    out.mkdir()
    lock = out / "package-lock.json"
    entry = {"version": "3.1.3", "integrity": vendor.integrity_of(data, "sha512")}
    lock.write_text(json.dumps({"packages": {"node_modules/@dagrejs/dagre": entry}}))
    return out


def test_the_pinned_tarball_is_vendored_into_the_package(registry) -> None:
    out = registry
    written = vendor.vendor(out)
    assert [p.name for p in written] == ["dagre.min.js", "dagre.LICENSE"]
    assert (out / "dagre.min.js").read_bytes() == DAGRE


def test_a_tarball_that_is_not_the_locked_one_is_refused(registry) -> None:
    out = registry
    lock = out / "package-lock.json"
    data = json.loads(lock.read_text())
    data["packages"]["node_modules/@dagrejs/dagre"]["integrity"] = vendor.integrity_of(
        b"another tarball", "sha512"
    )
    lock.write_text(json.dumps(data))
    with pytest.raises(vendor.VendorError, match="is not the lockfile's"):
        vendor.vendor(out)
    assert not (out / "dagre.min.js").exists()


def test_the_shipped_layout_library_is_the_pinned_dagre() -> None:
    version, integrity = vendor.locked("@dagrejs/dagre")
    assert version == "3.1.3" and integrity.startswith("sha512-")
    shipped = (vendor.VENDOR / "dagre.min.js").read_text()
    assert shipped.startswith('"use strict";var dagre=') and "graphlib" in shipped
