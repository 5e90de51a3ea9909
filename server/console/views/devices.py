"""Tablets: the company's devices with their technician, last contact, clock offset, open conflicts and
whether they are signed in, revoked or ordered to erase themselves; a dispatcher reports a lost tablet
(revoke and erase) or revokes one without erasing it, through the API's own ``revoke_device``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for

from server.auth.models import ApiToken, Role, User
from server.auth.revocation import REVOKE_ACTION, device_tokens, find_device, last_contact, revoke_device
from server.auth.schemas import RevokeDeviceSchema
from server.console import bp
from server.console.actions import load, require_role, run
from server.console.i18n import language, t
from server.console.session import console_login_required
from server.db import AuditEntry, utcnow
from server.errors import ApiError, not_found
from server.extensions import db
from server.people.models import Technician
from server.sync.models import ConflictStatus, Device, SyncConflict

LIMIT = 200
# The API's roles for POST /auth/revoke-device (admins always may): the console asks no less, no more.
REVOKERS = (Role.DISPATCHER,)
# A tablet clock this far off is worth a look (times it claims are corrected by it, R1).
CLOCK_WARN_S = 300


@dataclass
class Tablet:
    """One row of the tablets page."""

    device_id: str
    device: Device | None
    technician: str
    status: str  # active | revoked | wipe_ordered | signed_out
    live_tokens: int
    revoked_at: Any  # when a revocation was recorded (audit entry or the device row), if any
    open_conflicts: int


def can_revoke() -> bool:
    """Whether the signed-in user may revoke tablets (the API's rule)."""
    return g.user.role in (*REVOKERS, Role.ADMIN)


def clock_offset(seconds: float | None) -> tuple[str, str]:
    """The tablet clock against the server's, for people, and a CSS class ('' when unknown or fine)."""
    if seconds is None:
        return "—", ""
    size = abs(seconds)
    if size < 1:
        return t("devices.clock ok"), "good"
    mins, secs = divmod(int(round(size)), 60)
    hours, mins = divmod(mins, 60)
    zh = language() == "zh-CN"
    if hours:
        amount = f"{hours} 小时 {mins} 分" if zh else f"{hours} h {mins} min"
    elif mins:
        amount = f"{mins} 分 {secs} 秒" if zh else f"{mins} min {secs} s"
    else:
        amount = f"{secs} 秒" if zh else f"{secs} s"
    # clock_offset_s is server − device: positive means the tablet's clock is behind.
    text = t("devices.clock behind" if seconds > 0 else "devices.clock ahead", amount=amount)
    return text, "warn" if size >= CLOCK_WARN_S else "run"


def _technician_names(devices: list[Device], user_ids: set[uuid.UUID]) -> tuple[dict, dict]:
    tech_ids = {d.technician_id for d in devices if d.technician_id}
    by_id: dict[uuid.UUID, Technician] = {}
    by_user: dict[uuid.UUID, Technician] = {}
    if tech_ids or user_ids:
        for tech in db.session.execute(sa.select(Technician).where(
                Technician.company_id == g.user.company_id,
                sa.or_(Technician.id.in_(tech_ids), Technician.user_id.in_(user_ids)))).scalars():
            by_id[tech.id] = tech
            if tech.user_id:
                by_user[tech.user_id] = tech
    return by_id, by_user


def tablets(company_id: uuid.UUID) -> list[Tablet]:
    """The company's tablets: every device row, and every device id a user signed in with but never synced."""
    now = utcnow()
    devices = list(db.session.execute(
        sa.select(Device).where(Device.company_id == company_id)
        .order_by(Device.last_seen_at.desc().nulls_last(), Device.registered_at.desc()).limit(LIMIT)
    ).scalars())
    live = sa.and_(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    token_rows = db.session.execute(
        sa.select(ApiToken.device_id, sa.func.count().filter(live), sa.func.max(ApiToken.created_at),
                  sa.func.max(ApiToken.user_id.cast(sa.String)))
        .join(User, User.id == ApiToken.user_id)
        .where(User.company_id == company_id, ApiToken.device_id.is_not(None))
        .group_by(ApiToken.device_id)
    ).all()
    tokens = {row[0]: row for row in token_rows}
    known = {d.device_id for d in devices}
    unsynced = [row[0] for row in token_rows if row[0] not in known][: max(0, LIMIT - len(devices))]
    token_users = {uuid.UUID(tokens[d][3]) for d in unsynced if tokens[d][3]}
    users = {u.id: u for u in db.session.execute(
        sa.select(User).where(User.id.in_(token_users | {d.user_id for d in devices if d.user_id}))).scalars()}
    by_id, by_user = _technician_names(devices, set(users))
    revoked = dict(db.session.execute(
        sa.select(AuditEntry.entity_id, sa.func.max(AuditEntry.at))
        .where(AuditEntry.company_id == company_id, AuditEntry.entity == Device.__tablename__,
               AuditEntry.action == REVOKE_ACTION, AuditEntry.entity_id.in_([str(d.id) for d in devices]))
        .group_by(AuditEntry.entity_id)
    ).all()) if devices else {}
    ids = [d.device_id for d in devices] + unsynced
    conflicts = dict(db.session.execute(
        sa.select(SyncConflict.device_id, sa.func.count())
        .where(SyncConflict.company_id == company_id, SyncConflict.status == ConflictStatus.OPEN,
               SyncConflict.device_id.in_(ids))
        .group_by(SyncConflict.device_id)
    ).all()) if ids else {}

    def who(device: Device | None, user_id: uuid.UUID | None) -> str:
        tech = by_id.get(device.technician_id) if device and device.technician_id else None
        tech = tech or (by_user.get(user_id) if user_id else None)
        if tech is not None:
            return f"{tech.name} ({tech.staff_no})" if tech.staff_no else tech.name
        user = users.get(user_id) if user_id else None
        return user.display_name if user else "—"

    rows = []
    for device_id, device in [(d.device_id, d) for d in devices] + [(d, None) for d in unsynced]:
        token = tokens.get(device_id)
        live_count, newest = (int(token[1] or 0), token[2]) if token else (0, None)
        revoked_at = revoked.get(str(device.id)) if device else None
        if device is not None and device.wipe:
            status, revoked_at = "wipe_ordered", device.revoked_at or revoked_at
        elif live_count:
            status = "active"
        elif revoked_at is not None and (newest is None or revoked_at >= newest):
            status = "revoked"
        else:
            status = "signed_out"
        user_id = device.user_id if device else (uuid.UUID(token[3]) if token and token[3] else None)
        rows.append(Tablet(device_id, device, who(device, user_id), status, live_count, revoked_at,
                           int(conflicts.get(device_id, 0))))
    return rows


def _known(device_id: str) -> Device | None:
    """The company's device row for ``device_id``; 404 when the company has neither row nor sign-in for it."""
    device = find_device(g.user.company_id, device_id)
    if device is None and not device_tokens(g.user.company_id, device_id):
        raise not_found("device", device_id)
    return device


def _received(device_id: str) -> dict[str, Any] | None:
    """What the server last received from one of the company's tablets (None when it has no such tablet)."""
    try:
        device = _known(device_id)
    except ApiError:
        return None
    info = last_contact(g.user.company_id, device_id, device)
    info["wipe"] = bool(device and device.wipe)
    return info


@bp.route("/devices")
@console_login_required
def devices():
    """Every tablet of the company; ``?shown=<device id>`` adds what the server last received from one."""
    shown = request.args.get("shown", "").strip()
    return render_template(
        "console/devices.html", rows=tablets(g.user.company_id), can_revoke=can_revoke(),
        clock_offset=clock_offset, received=_received(shown) if shown else None,
    )


@bp.route("/devices/confirm")
@console_login_required
@require_role(*REVOKERS)
def device_confirm():
    """The confirmation step: what revoking (and erasing) this tablet loses, before anything is done."""
    device_id = request.args.get("device", "").strip()
    erase = request.args.get("erase", "1") != "0"
    device = _known(device_id)
    tablet = next((r for r in tablets(g.user.company_id) if r.device_id == device_id), None)
    return render_template(
        "console/device_confirm.html", device_id=device_id, device=device, erase=erase, tablet=tablet,
        received=last_contact(g.user.company_id, device_id, device), active_nav="console.devices",
    )


@bp.route("/devices/revoke", methods=["POST"])
@console_login_required
@require_role(*REVOKERS)
def device_revoke():
    """Revoke a tablet (``erase=1``: reported lost, it erases itself at its next contact; ``erase=0``: only
    its sign-ins) through the API's service function; then the page shows what the server last received."""
    body = load(RevokeDeviceSchema(), {"device_id": request.form.get("device_id", "").strip(),
                                       "wipe": request.form.get("erase", "1") != "0"})
    _known(body["device_id"])
    result, error = run(lambda: revoke_device(g.user.company_id, body["device_id"], wipe=body["wipe"]))
    if error:
        raise error
    key = "devices.done erase" if result["wipe"] else "devices.done revoke"
    flash(t(key, device=body["device_id"], n=result["revoked"]), "ok")
    return redirect(url_for("console.devices", shown=body["device_id"]), code=303)
