"""POST /auth/login, /auth/logout, GET /auth/me, POST /auth/revoke-device."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.revocation import revoke_device as revoke_device_service
from server.auth.schemas import LoginSchema, RevokeDeviceSchema, RevokedSchema, TokenSchema, UserSchema
from server.auth.service import authenticate, company_id, issue_token, requires, revoke_tokens
from server.db import utcnow
from server.extensions import db

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
    result = revoke_device_service(company_id(), body["device_id"], wipe=body["wipe"])
    db.session.commit()
    return result


__all__ = ["blp", "revoke_tokens"]
