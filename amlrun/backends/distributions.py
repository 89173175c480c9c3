"""The installed distributions of the current interpreter, as part of its step-key identity.

A command that imports scikit-learn observes which scikit-learn is installed, so upgrading a
package must rerun the steps that run on this interpreter. Listing distributions through
``importlib.metadata`` costs tens of milliseconds, which a null run must not pay: the digest
is cached on disk per (folder, mtime) of every ``sys.path`` folder. Installing or removing a
distribution adds or removes its ``*.dist-info`` folder, which changes the folder's mtime.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from amlrun.hashing import hash_json

_memo: dict[str, str] = {}


def search_folders() -> list[str]:
    """The folders ``importlib.metadata`` searches, without the working folder (``''``)."""
    cwd = os.getcwd()
    return [p for p in sys.path if p and p != cwd and os.path.isdir(p)]


def distributions_digest(cache_dir: Path) -> str:
    """Hash of ``name==version`` of every distribution visible on ``sys.path``."""
    folders = search_folders()
    stamp = hash_json([[p, os.stat(p).st_mtime_ns] for p in folders])
    if stamp in _memo:
        return _memo[stamp]
    entry = cache_dir / "distributions" / stamp
    try:
        digest = entry.read_text()
    except OSError:
        digest = hash_json(installed(folders))
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{stamp}.{os.getpid()}")
        tmp.write_text(digest)
        os.replace(tmp, entry)
    _memo[stamp] = digest
    return digest


def installed(folders: list[str]) -> list[str]:
    """Sorted ``name==version`` lines; the first folder holding a name wins, as for imports."""
    from importlib.metadata import distributions

    seen: dict[str, str] = {}
    for dist in distributions(path=folders):
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name and name not in seen:
            seen[name] = dist.version
    return sorted(f"{n}=={v}" for n, v in seen.items())
