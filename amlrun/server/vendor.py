"""Vendor the web UI's graph layout library from npm: ``python -m amlrun.server.vendor``.

The UI must work offline and ``pip install`` must need no npm, so the built file is committed
under ``ui/vendor/``. This script is how it got there: ``npm pack`` the version pinned in
``ui/vendor/package-lock.json`` into a temporary folder, check the tarball against the
lockfile's integrity hash (a tampered or re-published tarball is refused), and copy the
dist file and its licence. Running it again must leave ``git diff`` empty (CI checks that).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).parent / "ui" / "vendor"


@dataclass(frozen=True)
class Vendored:
    """One file of an npm package copied into the UI: ``member`` of the tarball → ``target``."""

    package: str
    member: str
    target: str


FILES = (
    Vendored("@dagrejs/dagre", "package/dist/dagre.min.js", "dagre.min.js"),
    Vendored("@dagrejs/dagre", "package/LICENSE", "dagre.LICENSE"),
)


class VendorError(RuntimeError):
    """The pinned package could not be fetched or is not the one the lockfile names."""


def locked(package: str, lockfile: Path = VENDOR / "package-lock.json") -> tuple[str, str]:
    """(version, integrity) of ``package`` as pinned by the lockfile."""
    entry = json.loads(lockfile.read_text())["packages"].get(f"node_modules/{package}")
    if not entry or "integrity" not in entry:
        raise VendorError(f"{lockfile}: no pinned version with an integrity hash for {package}")
    return entry["version"], entry["integrity"]


def integrity_of(data: bytes, algorithm: str) -> str:
    """An npm/SRI integrity string (``sha512-<base64>``) of ``data``."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def fetch(package: str, version: str, integrity: str, folder: Path) -> Path:
    """``npm pack`` one pinned tarball into ``folder`` and check it against ``integrity``."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm is not on PATH (apt-get install npm)")
    proc = subprocess.run(
        [npm, "pack", f"{package}@{version}", "--json", "--pack-destination", str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise VendorError(f"npm pack {package}@{version} failed:\n{proc.stderr.strip()}")
    tarball = folder / json.loads(proc.stdout)[0]["filename"]
    got = integrity_of(tarball.read_bytes(), integrity.split("-", 1)[0])
    if got != integrity:
        raise VendorError(
            f"{package}@{version}: the tarball's integrity {got} is not the lockfile's {integrity}"
        )
    return tarball


def vendor(target: Path = VENDOR) -> list[Path]:
    """Fetch, check and copy every file of :data:`FILES` into ``target`` (which holds the
    lockfile); return the files written."""
    written = []
    with tempfile.TemporaryDirectory(prefix="amlrun-vendor-") as tmp:
        tarballs: dict[str, Path] = {}
        for item in FILES:
            if item.package not in tarballs:
                version, integrity = locked(item.package, target / "package-lock.json")
                tarballs[item.package] = fetch(item.package, version, integrity, Path(tmp))
            with tarfile.open(tarballs[item.package]) as tar:
                member = tar.extractfile(item.member)
                if member is None:
                    raise VendorError(f"{item.package} has no file {item.member}")
                (target / item.target).write_bytes(member.read())
            written.append(target / item.target)
    return written


def main() -> None:
    try:
        for path in vendor():
            print(f"vendored {path}")
    except VendorError as exc:
        sys.exit(f"amlrun.server.vendor: {exc}")


if __name__ == "__main__":
    main()
