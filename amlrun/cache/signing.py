"""Optional HMAC signatures on manifests, so a shared cache cannot be poisoned by a writer
without the team's secret.

With ``AMLRUN_CACHE_SECRET`` (or ``AMLRUN_CACHE_SECRET_FILE`` naming a file holding it) set,
every manifest written carries ``sig``: HMAC-SHA256 of its canonical JSON (the step key
included, so a signed entry cannot be replayed under another key), and an entry read without
a valid signature is a miss, with one warning per store: the step reruns, nothing wrong is
restored. Blobs need no signature: they are named by their content hash and re-hashed when
fetched. Without a secret, manifests are neither signed nor checked.

The signature protects readers from entries they did not expect; it does not replace write
credentials: an untrusted job gets read-only credentials, and the secret only where a job may
write (docs/architecture.md, "Trust").
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from amlrun.cache.manifest import warn
from amlrun.errors import AmlrunError

SECRET_VAR = "AMLRUN_CACHE_SECRET"
SECRET_FILE_VAR = "AMLRUN_CACHE_SECRET_FILE"
SIG = "sig"


def secret() -> bytes | None:
    """The team's secret from the environment, or None when signing is off."""
    return _secret(os.environ.get(SECRET_VAR) or None, os.environ.get(SECRET_FILE_VAR) or None)


@functools.lru_cache(maxsize=4)
def _secret(value: str | None, file: str | None) -> bytes | None:
    if value:
        return value.encode()
    if not file:
        return None
    try:
        data = Path(file).read_bytes().strip()
    except OSError as exc:
        raise AmlrunError(
            f"{SECRET_FILE_VAR}={file}: cannot read the cache secret ({exc.strerror or exc}). "
            f"Fix: point {SECRET_FILE_VAR} at a readable file, or unset it"
        ) from None
    if not data:
        raise AmlrunError(f"{SECRET_FILE_VAR}={file} is empty. Fix: write the secret into it")
    return data


def _signature(doc: dict, key: bytes) -> str:
    import hashlib  # with hmac, only with a secret: 2.5 ms of every start-up otherwise
    import hmac

    body = {k: v for k, v in doc.items() if k != SIG}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def signed(doc: dict) -> dict:
    """``doc`` signed with the secret; as it is without one (a copied signature stays valid)."""
    key = secret()
    return doc if key is None else {**doc, SIG: _signature(doc, key)}


def signed_by_secret(manifest: dict) -> bool:
    """Whether a read manifest may be used: always without a secret; else if signed by it."""
    key = secret()
    if key is None:
        return True
    import hmac

    sig = manifest.get(SIG)
    return isinstance(sig, str) and hmac.compare_digest(sig, _signature(manifest, key))


def trusted(manifest: dict, store_url: str, rel: str) -> bool:
    """:func:`signed_by_secret`, with one warning per store when it is not."""
    if signed_by_secret(manifest):
        return True
    sig = manifest.get(SIG)
    problem = "is not signed" if sig is None else "has a bad signature"
    warn(
        f"store {store_url}: {rel} {problem} ({SECRET_VAR} is set), so it is a miss and the "
        "step reruns; entries like it in this store are misses too",
        f"signature@{store_url}",
    )
    return False
