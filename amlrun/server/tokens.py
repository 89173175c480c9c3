"""API tokens and browser sessions: secrets are shown once and stored only as hashes.

A token is 32 random bytes, so a plain SHA-256 is enough to store it (no password
stretching needed: nobody can guess the preimage). Scopes nest: ``admin`` can do what
``submit`` can, which can do what ``read`` can. A browser logs in with a token and gets a
session (a separate random secret in an HttpOnly cookie) with its own CSRF token; revoking
the token ends its sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from amlrun.errors import SpecError
from amlrun.server.db import connect

SCOPES = ("read", "submit", "admin")
PREFIX = "amlrun_"
SESSION_S = 12 * 3600
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name and scope (``csrf``: set for a browser session)."""

    name: str
    scope: str
    csrf: str | None = None

    def allows(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


@dataclass(frozen=True)
class TokenInfo:
    name: str
    scope: str
    created: float
    revoked: float | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(amlrun_dir: Path, name: str, scope: str) -> str:
    """A new token's secret (the only time it exists outside the caller's hands)."""
    if scope not in SCOPES:
        raise SpecError(f"scope '{scope}' is not one of {', '.join(SCOPES)}", field="--scope")
    if not _NAME.fullmatch(name):
        raise SpecError(
            f"token name '{name}' is not valid", fix="use letters, digits, '.', '_' and '-'"
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    with connect(amlrun_dir) as db:
        db.execute("DELETE FROM tokens WHERE name = ? AND revoked IS NOT NULL", (name,))
        if db.execute("SELECT 1 FROM tokens WHERE name = ?", (name,)).fetchone():
            raise SpecError(
                f"a token named '{name}' exists already",
                fix=f"pick another name, or revoke it first: amlrun token revoke {name}",
            )
        db.execute(
            "INSERT INTO tokens (name, scope, hash, created) VALUES (?, ?, ?, ?)",
            (name, scope, _hash(secret), time.time()),
        )
    return secret


def list_tokens(amlrun_dir: Path) -> list[TokenInfo]:
    with connect(amlrun_dir, write=False) as db:
        rows = db.execute("SELECT name, scope, created, revoked FROM tokens ORDER BY created")
        return [TokenInfo(*row) for row in rows.fetchall()]


def has_tokens(amlrun_dir: Path) -> bool:
    return any(t.revoked is None for t in list_tokens(amlrun_dir))


def revoke_token(amlrun_dir: Path, name: str) -> None:
    with connect(amlrun_dir) as db:
        done = db.execute(
            "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked IS NULL", (time.time(), name)
        ).rowcount
        db.execute("DELETE FROM sessions WHERE token = ?", (name,))
    if not done:
        raise SpecError(f"no active token named '{name}'", fix="see amlrun token list")


def verify_token(amlrun_dir: Path, secret: str) -> Principal | None:
    with connect(amlrun_dir, write=False) as db:
        row = db.execute(
            "SELECT name, scope FROM tokens WHERE hash = ? AND revoked IS NULL", (_hash(secret),)
        ).fetchone()
    return Principal(*row) if row else None


def open_session(amlrun_dir: Path, who: Principal) -> tuple[str, str]:
    """(session secret for the cookie, CSRF token for the pages)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with connect(amlrun_dir) as db:
        db.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
        db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?)",
            (_hash(sid), who.name, csrf, time.time() + SESSION_S),
        )
    return sid, csrf


def session_principal(amlrun_dir: Path, sid: str) -> Principal | None:
    with connect(amlrun_dir, write=False) as db:
        row = db.execute(
            "SELECT t.name, t.scope, s.csrf FROM sessions s JOIN tokens t ON t.name = s.token "
            "WHERE s.hash = ? AND s.expires > ? AND t.revoked IS NULL",
            (_hash(sid), time.time()),
        ).fetchone()
    return Principal(*row) if row else None


def close_session(amlrun_dir: Path, sid: str) -> None:
    with connect(amlrun_dir) as db:
        db.execute("DELETE FROM sessions WHERE hash = ?", (_hash(sid),))
