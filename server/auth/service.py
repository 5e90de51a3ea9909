"""Password hashing (Argon2id), token issue and lookup, the current-user helpers."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import secrets
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request

from server.auth.models import ApiToken, Role, User
from server.db import Actor, current_actor, utcnow
from server.errors import ApiError, not_found
from server.extensions import db

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=5)

F = TypeVar("F", bound=Callable[..., Any])


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return _hasher().hash(password)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A fixed hash to verify against when the username is unknown, so timing does not reveal it.
_DUMMY_HASH: dict[str, str] = {}


def authenticate(username: str, password: str) -> User:
    """The active user with these credentials, or a 401 (or 429 while locked out)."""
    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    hasher = _hasher()
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        retry = int((user.locked_until - now).total_seconds()) + 1
        raise ApiError(
            429, "login_throttled", "too many failed logins; try again later", headers={"Retry-After": str(retry)}
        )
    if user is None or not user.active:
        key = f"{hasher.time_cost}:{hasher.memory_cost}"
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hasher.hash("not-a-password")
        with contextlib.suppress(VerificationError):
            hasher.verify(_DUMMY_HASH[key], password)
        raise ApiError(401, "invalid_credentials", "unknown username or wrong password")
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        db.session.commit()
        raise ApiError(401, "invalid_credentials", "unknown username or wrong password") from None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    return user


def issue_token(user: User, device_id: str | None = None) -> tuple[str, ApiToken]:
    """A new bearer token for the user (a device token lives longer than a console session)."""
    cfg = current_app.config
    ttl = (
        dt.timedelta(days=cfg["DEVICE_TOKEN_TTL_DAYS"]) if device_id else dt.timedelta(hours=cfg["TOKEN_TTL_HOURS"])
    )
    raw = secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=_token_digest(raw), device_id=device_id, expires_at=utcnow() + ttl)
    db.session.add(token)
    return raw, token


def revoke_tokens(user_id: uuid.UUID | None = None, device_id: str | None = None) -> int:
    """Revoke every live token of a user or of a device; returns how many."""
    stmt = sa.update(ApiToken).where(ApiToken.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    if device_id is not None:
        stmt = stmt.where(ApiToken.device_id == device_id)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount


def token_from_request() -> str | None:
    """The bearer token of the current request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _device_wipe(token: ApiToken) -> bool:
    """Whether the token's device was reported lost (``Device.wipe``, set by revoke-device)."""
    if not token.device_id:
        return False
    from server.sync.models import Device  # the sync package imports auth: look it up late

    return bool(db.session.execute(
        sa.select(Device.wipe).where(Device.company_id == token.user.company_id, Device.device_id == token.device_id)
    ).scalar_one_or_none())


def load_current_user() -> User:
    """Check the bearer token and remember the user in ``g``; 401 when missing, expired or revoked."""
    raw = token_from_request()
    if raw is None:
        raise ApiError(401, "missing_token", "sign in first: send Authorization: Bearer <token>")
    # One indexed query for the token and its user, every request: a revoked token fails at once.
    token = db.session.execute(
        sa.select(ApiToken).options(sa.orm.joinedload(ApiToken.user, innerjoin=True))
        .where(ApiToken.token_hash == _token_digest(raw))
    ).scalar_one_or_none()
    now = utcnow()
    if token is None:
        raise ApiError(401, "invalid_token", "the token is not valid; sign in again")
    if token.revoked_at is not None:
        reason = "device_revoked" if token.device_id else "token_revoked"
        raise ApiError(401, reason, "this token was revoked; sign in again", details={"wipe": _device_wipe(token)})
    if token.expires_at <= now:
        raise ApiError(401, "token_expired", "the token has expired; sign in again")
    user = token.user
    if not user.active:
        raise ApiError(401, "user_inactive", "this account is disabled")
    g.user = user
    g.token = token
    current_actor.set(Actor(user_id=user.id, name=user.username, device_id=token.device_id))
    return user


def requires(*roles: Role) -> Callable[[F], F]:
    """Decorate a view: a valid token is needed, and one of ``roles`` when given (403 otherwise).

    Place it directly under ``@blp.route`` (above ``@blp.arguments``/``@blp.response``): a caller is
    authenticated and authorised before its body is parsed, so nobody learns the API's validation
    rules without a token (tests/server/test_authz_matrix.py checks it).
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = load_current_user()
            if roles and user.role not in roles and user.role != Role.ADMIN:
                allowed = ", ".join(sorted(r.value for r in roles))
                raise ApiError(403, "forbidden_role", f"this needs one of the roles: {allowed}")
            return view(*args, **kwargs)

        apidoc = getattr(wrapper, "_apidoc", {})
        apidoc.setdefault("manual_doc", {}).setdefault("security", [{"bearerAuth": []}])
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def current_user() -> User:
    """The signed-in user of this request (after ``requires``)."""
    return g.user


def company_id() -> uuid.UUID:
    """The company of the signed-in user: every query is scoped to it."""
    return g.user.company_id


def get_owned(model: type, ident: uuid.UUID, label: str | None = None) -> Any:
    """A row of the caller's company by id, or 404 (another company's rows do not exist for them)."""
    row = db.session.get(model, ident)
    if row is None or getattr(row, "company_id", None) != company_id() or getattr(row, "deleted", False):
        raise not_found(label or model.__name__.lower(), ident)
    return row
