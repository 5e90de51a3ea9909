"""POST /auth/login, /auth/logout, GET /auth/me, POST /auth/revoke-device."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask_smorest import Blueprint

from server.auth.models import ApiToken, Role, User
from server.auth.schemas import LoginSchema, RevokeDeviceSchema, RevokedSchema, TokenSchema, UserSchema
from server.auth.service import authenticate, company_id, issue_token, requires, revoke_tokens
from server.db import utcnow
from server.extensions import db
from server.sync.models import AppliedMutation, Device

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and tokens")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
def login(body: dict):
    """Exchange a username and password for a bearer token."""
    user = authenticate(body["username"], body["password"])
    raw, token = issue_token(user, body.get("device_id"))
    db.session.commit()
    return {"access_token": raw, "token_type": "Bearer", "expires_at": token.expires_at, "user": user}


@blp.route("/logout", methods=["POST"])
@requires()
@blp.response(204)
def logout():
    """Revoke the token this request carries."""
    g.token.revoked_at = utcnow()
    db.session.commit()


@blp.route("/me", methods=["GET"])
@requires()
@blp.response(200, UserSchema)
def me():
    """The signed-in user."""
    return g.user


@blp.route("/revoke-device", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(RevokeDeviceSchema)
@blp.response(200, RevokedSchema)
def revoke_device(body: dict):
    """Revoke every token of a tablet of this company. With ``wipe`` (the default: reported lost) the
    device row is marked revoked and to be wiped: its next contact is answered 401 ``device_revoked``
    with ``details.wipe`` true and the app erases its data, unsent changes included (its token is dead:
    they could not be sent anyway). The answer says what the server last received from it."""
    device_id = body["device_id"]
    tokens = db.session.execute(
        sa.select(ApiToken.id, ApiToken.user_id)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.device_id == device_id, User.company_id == company_id())
    ).all()
    count = 0
    if tokens:
        count = db.session.execute(
            sa.update(ApiToken).where(ApiToken.id.in_([t.id for t in tokens]), ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
    device = db.session.execute(
        sa.select(Device).where(Device.company_id == company_id(), Device.device_id == device_id)
    ).scalar_one_or_none()
    if device is None and tokens and body["wipe"]:
        device = Device(company_id=company_id(), device_id=device_id, user_id=tokens[0].user_id)
        db.session.add(device)
    if device is not None and body["wipe"]:
        device.revoked_at = device.revoked_at or utcnow()
        device.wipe = True  # the one source of truth for "erase yourself" (token errors and sync read it)
    db.session.flush()
    info = _last_contact(device_id, device)
    db.session.commit()
    if not info["known"]:
        unsent = "The server never heard from this tablet; whatever it held is lost with it."
    else:
        seen = info["last_seen_at"].isoformat() if info["last_seen_at"] else "never"
        unsent = (f"Changes made on this tablet after its last contact ({seen}) never reached the server"
                  + ("; it will erase them at its next contact." if body["wipe"] else "."))
    return {"revoked": count, "wipe": bool(body["wipe"]), "device": info, "unsent": unsent}


def _last_contact(device_id: str, device: Device | None) -> dict:
    """The device's last contact and the last change it pushed (the server cannot know what it holds unsent)."""
    received = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(AppliedMutation.applied_at))
        .where(AppliedMutation.company_id == company_id(), AppliedMutation.device_id == device_id)
    ).one()
    last = None
    if received[0]:
        row = db.session.execute(
            sa.select(AppliedMutation)
            .where(AppliedMutation.company_id == company_id(), AppliedMutation.device_id == device_id)
            .order_by(AppliedMutation.id.desc()).limit(1)
        ).scalar_one()
        last = {"collection": row.collection, "row_id": row.row_id, "status": row.status,
                "applied_at": row.applied_at}
    return {"device_id": device_id, "known": device is not None or bool(received[0]),
            "technician_id": device.technician_id if device else None,
            "last_seen_at": device.last_seen_at if device else None,
            "mutations_received": received[0], "last_mutation": last}


__all__ = ["blp", "revoke_tokens"]
