"""Revoking a tablet (a lost one, or one handed to someone else): the one function behind
``POST /api/v1/auth/revoke-device`` and the console's tablets page.

Kept apart from ``server.auth.service`` because it reads the sync package's device bookkeeping
(the sync package imports auth; this module is only imported by routes and the console).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from server.auth.models import ApiToken, User
from server.db import AuditEntry, current_actor, utcnow
from server.extensions import db
from server.sync.models import AppliedMutation, Device

# The audit entry a revocation leaves on the device row: who cut the tablet off, when, with or without erase.
REVOKE_ACTION = "revoke"


def device_tokens(company_id: uuid.UUID, device_id: str) -> list[Any]:
    """The (id, user_id, revoked_at) of every token a user of this company holds for this device id."""
    return list(db.session.execute(
        sa.select(ApiToken.id, ApiToken.user_id, ApiToken.revoked_at)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.device_id == device_id, User.company_id == company_id)
    ).all())


def find_device(company_id: uuid.UUID, device_id: str) -> Device | None:
    """The company's device row for this device id, if the tablet ever synced (or was revoked)."""
    return db.session.execute(
        sa.select(Device).where(Device.company_id == company_id, Device.device_id == device_id)
    ).scalar_one_or_none()


def revoke_device(company_id: uuid.UUID, device_id: str, *, wipe: bool = True) -> dict[str, Any]:
    """Revoke every token of a tablet of this company; flushes, never commits.

    With ``wipe`` (reported lost) the device row is marked revoked and to be wiped: its next contact is
    answered 401 ``device_revoked`` with ``details.wipe`` true and the app erases its data, unsent
    changes included. Without it only the tokens go: the tablet keeps its data and syncs after a new
    sign-in. An audit entry on the device row records who did it. Returns the API's ``RevokedSchema``
    shape: tokens revoked, ``wipe``, what the server last received (``device``) and ``unsent``.
    """
    tokens = device_tokens(company_id, device_id)
    count = 0
    if tokens:
        count = db.session.execute(
            sa.update(ApiToken).where(ApiToken.id.in_([t.id for t in tokens]), ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
    device = find_device(company_id, device_id)
    if device is None and tokens:
        # A tablet that signed in but never synced: the row holds the revocation (and its audit entry).
        device = Device(company_id=company_id, device_id=device_id, user_id=tokens[0].user_id)
        db.session.add(device)
    before = bool(device.wipe) if device is not None else False
    if device is not None and wipe:
        device.revoked_at = device.revoked_at or utcnow()
        device.wipe = True  # the one source of truth for "erase yourself" (token errors and sync read it)
    db.session.flush()
    if device is not None:
        actor = current_actor.get()
        db.session.add(AuditEntry(
            company_id=company_id, actor_id=actor.user_id, actor_name=actor.name, device_id=actor.device_id,
            action=REVOKE_ACTION, entity=Device.__tablename__, entity_id=str(device.id),
            changes={"wipe": [before, bool(device.wipe)], "tokens_revoked": [None, count]},
        ))
        db.session.flush()
    info = last_contact(company_id, device_id, device)
    if not info["known"]:
        unsent = "The server never heard from this tablet; whatever it held is lost with it."
    else:
        seen = info["last_seen_at"].isoformat() if info["last_seen_at"] else "never"
        unsent = (f"Changes made on this tablet after its last contact ({seen}) never reached the server"
                  + ("; it will erase them at its next contact." if wipe else "."))
    return {"revoked": count, "wipe": bool(wipe), "device": info, "unsent": unsent}


def last_contact(company_id: uuid.UUID, device_id: str, device: Device | None) -> dict[str, Any]:
    """The device's last contact and the last change it pushed (the server cannot know what it holds unsent)."""
    received = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(AppliedMutation.applied_at))
        .where(AppliedMutation.company_id == company_id, AppliedMutation.device_id == device_id)
    ).one()
    last = None
    if received[0]:
        row = db.session.execute(
            sa.select(AppliedMutation)
            .where(AppliedMutation.company_id == company_id, AppliedMutation.device_id == device_id)
            .order_by(AppliedMutation.id.desc()).limit(1)
        ).scalar_one()
        last = {"collection": row.collection, "row_id": row.row_id, "status": row.status,
                "applied_at": row.applied_at}
    return {"device_id": device_id, "known": device is not None or bool(received[0]),
            "technician_id": device.technician_id if device else None,
            "last_seen_at": device.last_seen_at if device else None,
            "mutations_received": received[0], "last_mutation": last}
