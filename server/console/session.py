"""Console sign-in over a session cookie, and CSRF protection of every form and htmx POST.

The cookie holds a console token issued by the API's own ``issue_token`` (same users, same
Argon2id hashing, same expiry and revocation): signing out revokes it server-side, so a copied
cookie is worthless afterwards. Every POST must carry the session's CSRF token, as the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends the header from ``<body hx-headers>``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g, redirect, request, session, url_for

from server.auth.models import ApiToken, Role, User
from server.db import Actor, current_actor, utcnow
from server.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

# Who may use the console; technicians use the tablet.
CONSOLE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.CUSTOMER_SERVICE})
SESSION_TOKEN = "console_token"
SESSION_CSRF = "csrf"


def csrf_token() -> str:
    """The CSRF token of this session (made on first use)."""
    token = session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_CSRF] = token
    return token


def check_csrf() -> None:
    """Refuse (400) a state-changing request without this session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get(SESSION_CSRF) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")


def start_session(user: User, raw_token: str) -> None:
    """Remember the signed-in user's console token; a fresh CSRF token guards the new session."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[SESSION_TOKEN] = raw_token
    session[SESSION_CSRF] = secrets.token_urlsafe(32)
    session.permanent = False


def _token_row(raw: str) -> ApiToken | None:
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return db.session.execute(sa.select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()


def end_session() -> None:
    """Revoke the console token and forget the session (the language choice stays)."""
    raw = session.get(SESSION_TOKEN)
    if raw:
        token = _token_row(raw)
        if token is not None and token.revoked_at is None:
            token.revoked_at = utcnow()
            db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def load_console_user() -> User | None:
    """The user of a live console token in the session (also set as ``g.user`` and audit actor)."""
    raw = session.get(SESSION_TOKEN)
    if not raw:
        return None
    token = _token_row(raw)
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow() or token.device_id:
        return None
    user = token.user
    if not user.active or user.role not in CONSOLE_ROLES:
        return None
    g.user = user
    g.token = token
    current_actor.set(Actor(user_id=user.id, name=user.username, device_id=None))
    return user


def console_login_required(view: F) -> F:
    """Decorate a console view: a signed-in console user is needed, else the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if load_console_user() is None:
            if request.headers.get("HX-Request"):
                # htmx swaps the answer into the page; tell it to load the sign-in page instead.
                return "", 401, {"HX-Redirect": url_for("console.login")}
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
