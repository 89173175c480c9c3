"""Who may call what: bearer tokens for programs, a session cookie for the web UI.

Every route depends on :func:`require` with the scope it needs: no credentials -> 401, a
token of a lower scope -> 403. A request authenticated by the session cookie that changes
state must also carry the session's CSRF token in the ``X-CSRF-Token`` header (or a
``csrf_token`` form field, for plain HTML forms): a cookie is sent by the browser whoever
made the page, a header only by our own pages. Secrets are never logged or echoed.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from amlrun.server import tokens
from amlrun.server.tokens import Principal

COOKIE = "amlrun_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer`` or the session cookie; 401 otherwise."""
    amlrun_dir = request.app.state.amlrun.amlrun_dir
    header = request.headers.get("authorization")
    if header is not None:
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            raise _unauthorized("use Authorization: Bearer TOKEN")
        who = tokens.verify_token(amlrun_dir, secret.strip())
        if who is None:
            raise _unauthorized("the token is unknown or revoked")
        return who
    sid = request.cookies.get(COOKIE)
    who = tokens.session_principal(amlrun_dir, sid) if sid else None
    if who is None:
        raise _unauthorized("log in at /login or send Authorization: Bearer TOKEN")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or ""
        if not (who.csrf and hmac.compare_digest(sent, who.csrf)):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header (see /api/v1/session)")
    return who


def require(scope: str) -> Callable[..., Principal]:
    """A dependency admitting callers whose token has ``scope`` (or a wider one)."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.allows(scope):
            raise HTTPException(
                403, f"this needs a token with scope '{scope}' (yours: {who.scope})"
            )
        return who

    return check


#: route parameter types: the caller, admitted with at least that scope
Reader = Annotated[Principal, Depends(require("read"))]
Submitter = Annotated[Principal, Depends(require("submit"))]
Admin = Annotated[Principal, Depends(require("admin"))]

router = APIRouter()

_LOGIN_PAGE = """<!doctype html><meta charset="utf-8"><title>amlrun: log in</title>
<form method="post" action="/login"><h1>amlrun</h1>{error}
<label>Token <input name="token" type="password" autocomplete="off" required></label>
<input type="hidden" name="next" value="{next}"><button>Log in</button></form>"""


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(next: str = "/", error: str = "") -> str:
    """A plain form; the web UI may serve its own page posting the same fields."""
    from html import escape

    shown = "<p role='alert'>That token is unknown or revoked.</p>" if error else ""
    return _LOGIN_PAGE.format(error=shown, next=escape(_local(next)))


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    """Form fields (token, next) -> a session cookie and a redirect to ``next``; a JSON body
    {"token": ...} -> the session as JSON (name, scope, csrf_token)."""
    body = await request.body()
    is_json = request.headers.get("content-type", "").startswith("application/json")
    try:
        fields = (
            json.loads(body) if is_json else {k: v[0] for k, v in parse_qs(body.decode()).items()}
        )
    except (ValueError, UnicodeDecodeError):
        fields = {}
    secret, target = str(fields.get("token") or ""), _local(str(fields.get("next") or "/"))
    amlrun_dir = request.app.state.amlrun.amlrun_dir
    who = tokens.verify_token(amlrun_dir, secret) if secret else None
    if who is None:
        if is_json:
            raise _unauthorized("the token is unknown or revoked")
        return RedirectResponse(f"/login?error=1&next={target}", status_code=303)
    sid, csrf = tokens.open_session(amlrun_dir, who)
    response: Response = (
        JSONResponse({"name": who.name, "scope": who.scope, "csrf_token": csrf})
        if is_json
        else RedirectResponse(target, status_code=303)
    )
    response.set_cookie(
        COOKIE,
        sid,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=tokens.SESSION_S,
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, _who: Annotated[Principal, Depends(principal)]) -> Response:
    sid = request.cookies.get(COOKIE)
    if sid:
        tokens.close_session(request.app.state.amlrun.amlrun_dir, sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/api/v1/session", tags=["auth"])
def session(who: Reader) -> dict:
    """Who is logged in, and the CSRF token pages send with state-changing requests."""
    return {"name": who.name, "scope": who.scope, "csrf_token": who.csrf}


def _local(target: str) -> str:
    """Only a path on this server is a redirect target (no open redirect to another site)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"
