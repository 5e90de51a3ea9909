"""Who is syncing (device, technician), the protocol version check, clock offsets and push checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import marshmallow as ma
import sqlalchemy as sa
from flask import g, request

from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError
from server.extensions import db
from server.org.models import Company
from server.people.models import Technician
from server.sync.fastload import fast_load_values
from server.sync.models import Device
from server.sync.schemas import MODELS
from sync import PROTOCOL_VERSION
from sync import reasons as R
from sync.collections import REGISTRY
from sync.merge import Decision, reject
from sync.records import Mutation, Op
from sync.wire import PROTOCOL_VERSION_HEADER

SUPPORTED_VERSIONS = (PROTOCOL_VERSION,)
# How fresh ``device.last_seen_at`` is kept (written at most once per this interval).
LAST_SEEN_RESOLUTION = dt.timedelta(minutes=1)
# Columns every synced row has, filled by the server.
_SERVER_COLUMNS = {"id", "company_id", "version", "deleted", "created_at", "updated_at"}


@dataclass
class SyncContext:
    """The signed-in technician, their company and the device row (locked for this request)."""

    user: User
    company: Company
    technician: Technician
    device: Device


def protocol_unsupported(version: object) -> ApiError:
    """HTTP 426: the app must be updated; it keeps its outbox meanwhile."""
    return ApiError(
        426, "protocol_unsupported",
        f"this app speaks sync protocol {version}; the server speaks {', '.join(map(str, SUPPORTED_VERSIONS))}. "
        "Update the app: your unsent changes are kept on the tablet.",
        details={"client_version": version, "supported_versions": list(SUPPORTED_VERSIONS)},
        headers={"X-Fieldsync-Supported-Protocols": ",".join(map(str, SUPPORTED_VERSIONS))},
    )


def check_protocol_header() -> None:
    """Refuse a request whose declared protocol (header, else body) this server does not speak."""
    declared: object = request.headers.get(PROTOCOL_VERSION_HEADER)
    if declared is None:
        body = request.get_json(silent=True)
        declared = body.get("protocol_version") if isinstance(body, dict) else None
    if declared is None:
        return  # the body schema will name the missing field
    try:
        version = int(str(declared))
    except ValueError:
        raise protocol_unsupported(declared) from None
    if version not in SUPPORTED_VERSIONS:
        raise protocol_unsupported(version)


def sync_context(lock: bool = True) -> SyncContext:
    """The technician and device behind the current token; the device row is created on first sight
    and locked until the transaction ends (one sync at a time per device keeps its order, G5)."""
    user: User = g.user
    device_key = g.token.device_id
    if not device_key:
        raise ApiError(403, "device_token_required", "sync needs a device token: sign in with a device_id")
    # The usual case in one query: the technician, the company and the (locked) device row.
    both = (sa.select(Technician, Company, Device)
            .join(Company, Company.id == Technician.company_id)
            .join(Device, sa.and_(Device.company_id == Technician.company_id, Device.device_id == device_key))
            .where(Technician.user_id == user.id, Technician.company_id == user.company_id))
    found = db.session.execute(both.with_for_update(of=Device) if lock else both).one_or_none()
    if found is not None:
        technician, company, device = found
        return _seen(user, company, technician, device)
    technician = db.session.execute(
        sa.select(Technician).where(Technician.user_id == user.id, Technician.company_id == user.company_id)
    ).scalar_one_or_none()
    if technician is None:
        raise ApiError(403, "not_a_technician", "only a technician's tablet syncs a day's work")
    company = db.session.get(Company, user.company_id)
    stmt = sa.select(Device).where(Device.company_id == user.company_id, Device.device_id == device_key)
    device = db.session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if device is None:
        try:
            with db.session.begin_nested():  # two first requests at once: one inserts, both go on
                db.session.add(Device(company_id=user.company_id, device_id=device_key, user_id=user.id,
                                      technician_id=technician.id))
        except sa.exc.IntegrityError:
            pass
        device = db.session.execute(stmt.with_for_update() if lock else stmt).scalar_one()
    return _seen(user, company, technician, device)


def _seen(user: User, company: Company, technician: Technician, device: Device) -> SyncContext:
    if device.revoked_at is not None:
        raise ApiError(401, "device_revoked", "this tablet was revoked; sign in again",
                       details={"wipe": bool(device.wipe)})
    if device.user_id != user.id or device.technician_id != technician.id:
        device.user_id, device.technician_id = user.id, technician.id
    now = utcnow()
    # Last contact to the minute: not a row UPDATE on every request (the pull writes the row anyway).
    if device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_RESOLUTION:
        device.last_seen_at = now
    return SyncContext(user, company, technician, device)


def record_clock(device: Device, device_time: str, received: dt.datetime) -> float | None:
    """Estimate the device clock's offset (server − device, seconds) at this sync and keep it."""
    try:
        claimed = dt.datetime.fromisoformat(device_time)
    except ValueError:
        return None
    if claimed.tzinfo is None:
        return None
    offset = (received - claimed).total_seconds()
    # Kept when it moved by a second or more: the network's jitter is not a change of the device's clock.
    if device.clock_offset_s is None or abs(device.clock_offset_s - offset) >= 1.0:
        device.clock_offset_s = offset
    return offset


def precheck(m: Mutation) -> Decision | None:
    """A rejection for values the database could not store (wrong type, too long, missing), else None.

    The core decides ownership and rules; this keeps a malformed value from failing the whole
    batch's write later (a rejected mutation never sinks the others).
    """
    spec = REGISTRY.get(m.collection)
    if spec is None or m.collection not in MODELS or m.op is Op.DELETE:
        return None
    known = {k: v for k, v in m.fields.items() if spec.field_class(k) is not None}
    try:
        fast_load_values(m.collection, known)
    except ma.ValidationError as err:
        field, problems = next(iter(err.normalized_messages().items()))
        detail = problems[0] if isinstance(problems, list) else str(problems)
        return reject(R.INVALID_VALUE, collection=m.collection, field=field, detail=detail)
    if m.op is Op.CREATE:
        table = MODELS[m.collection].__table__
        filled = set(spec.server_sets) | ({spec.stamp_technician} if spec.stamp_technician else set())
        for column in table.columns:
            if (column.name in _SERVER_COLUMNS or column.name in filled or column.nullable
                    or column.default is not None or column.server_default is not None):
                continue
            if known.get(column.name) is None:
                return reject(R.INVALID_VALUE, collection=m.collection, field=column.name, detail="required")
    return None
