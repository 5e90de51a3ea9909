"""Resolving a sync conflict (G6): the one function the API and the console both call.

A resolution is made by a person and audited: keep the server's value, take the device's value, or
set another one. Taking a value writes the row through the ORM (new version, audit entry, synced to
the tablets) and never steps outside the job state machine. Like every service function it flushes
but never commits: the caller commits once, or rolls back on a refusal.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.sync.models import ConflictResolution, ConflictStatus, SyncConflict
from server.sync.schemas import MODELS, dump_rows, load_values, wire_columns
from sync import reasons as R
from sync.collections import REGISTRY
from sync.domain.jobs import IllegalTransition, check_transition

# Rules whose record is about a situation, not a field value to pick: they can only be acknowledged.
ACKNOWLEDGE_ONLY = frozenset({R.REASSIGNED_LATE_CHANGE, R.QUOTE_CHANGED_AFTER_SIGNING})


class _NoValue:
    """No custom value was given (``None`` is a value a field may be set to)."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()


def _current(conflict: SyncConflict) -> tuple[Any, Any]:
    """The conflict's row (locked until commit) and the field's current wire value."""
    model = MODELS[conflict.collection]
    obj = db.session.execute(
        sa.select(model)
        .where(model.company_id == conflict.company_id, model.id == uuid.UUID(conflict.row_id))
        .with_for_update()
    ).scalar_one_or_none()
    if obj is None:
        raise ApiError(409, "row_missing", f"{conflict.collection} {conflict.row_id} no longer exists")
    wire = db.session.execute(sa.select(*wire_columns(conflict.collection)).where(model.id == obj.id)).one()
    return obj, dump_rows(conflict.collection, [wire])[0].get(conflict.field)


def resolve_conflict(
    conflict: SyncConflict,
    resolution: ConflictResolution,
    value: Any = NO_VALUE,
    note: str = "",
    user: User | None = None,
) -> SyncConflict:
    """Decide ``conflict``: keep the server's value, take the device's, or set ``value`` (custom).

    409 ``already_resolved``, ``row_missing`` or ``illegal_transition``; 422 when a custom value is
    missing or invalid, or when the rule only allows acknowledging (keep_server).
    """
    if conflict.status is ConflictStatus.RESOLVED:
        raise ApiError(409, "already_resolved", "this conflict was already resolved",
                       details={"resolution": conflict.resolution.value if conflict.resolution else None})
    resolution = ConflictResolution(resolution)
    if resolution is ConflictResolution.CUSTOM and value is NO_VALUE:
        raise field_error("value", "a custom resolution names the value to set")
    chosen: Any = {ConflictResolution.KEEP_SERVER: conflict.server_value,
                   ConflictResolution.TAKE_DEVICE: conflict.device_value}.get(resolution, value)
    spec = REGISTRY.get(conflict.collection)
    if conflict.rule in ACKNOWLEDGE_ONLY or spec is None or spec.field_class(conflict.field) is None:
        if resolution is not ConflictResolution.KEEP_SERVER:
            raise ApiError(422, "resolution_not_applicable",
                           f"a {conflict.rule} conflict can only be acknowledged (keep_server)",
                           errors={"json": {"resolution": ["only keep_server applies"]}})
    else:
        obj, current = _current(conflict)
        if chosen != current:
            try:
                loaded = load_values(conflict.collection, {conflict.field: chosen})[conflict.field]
            except ma.ValidationError as err:
                raise ApiError(422, "validation_error", f"value: {err.messages}",
                               errors={"json": {"value": [str(err.messages)]}}) from None
            if conflict.collection == "job" and conflict.field == "status":
                try:
                    check_transition(current, loaded)
                except IllegalTransition as exc:
                    raise ApiError(409, "illegal_transition", str(exc), details={"allowed": exc.allowed}) from None
            setattr(obj, conflict.field, loaded)
    conflict.status = ConflictStatus.RESOLVED
    conflict.resolution = resolution
    conflict.resolved_value = chosen
    conflict.resolution_note = note or ""
    conflict.resolved_by_id = user.id if user is not None else None
    conflict.resolved_at = utcnow()
    db.session.flush()
    return conflict
