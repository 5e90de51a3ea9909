"""GET /api/v1/conflicts and POST /api/v1/conflicts/<id>/resolve: the dispatcher's review of G6.

A resolution is made by a person and audited: keep the server's value, take the device's value, or
set another one. Taking a value writes the row through the ORM (new version, audit entry, synced to
the tablets) and never steps outside the job state machine.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, get_owned, requires
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.pagination import page_of, paginate
from server.sync.models import ConflictResolution, ConflictStatus, SyncConflict
from server.sync.schemas import (
    MODELS,
    ConflictQuerySchema,
    ConflictSchema,
    ResolveConflictSchema,
    dump_rows,
    load_values,
    wire_columns,
)
from sync import reasons as R
from sync.collections import REGISTRY
from sync.domain.jobs import IllegalTransition, check_transition

blp = Blueprint("conflicts", __name__, url_prefix="/api/v1/conflicts", description="Sync conflicts to review")

# Rules whose record is about a situation, not a field value to pick: they can only be acknowledged.
ACKNOWLEDGE_ONLY = {R.REASSIGNED_LATE_CHANGE, R.QUOTE_CHANGED_AFTER_SIGNING}


@blp.route("")
@blp.arguments(ConflictQuerySchema, location="query")
@blp.response(200, page_of(ConflictSchema))
@requires(Role.DISPATCHER)
def list_conflicts(args: dict[str, Any]):
    """Conflicts of the company, newest first; filter by status, collection, job, technician, reviewer."""
    stmt = sa.select(SyncConflict).where(SyncConflict.company_id == company_id())
    for name in ("status", "collection", "job_id", "technician_id", "assignee_role"):
        if args.get(name) is not None:
            stmt = stmt.where(getattr(SyncConflict, name) == args[name])
    return paginate(stmt.order_by(SyncConflict.created_at.desc(), SyncConflict.id), args)


@blp.route("/<uuid:conflict_id>")
@blp.response(200, ConflictSchema)
@requires(Role.DISPATCHER)
def get_conflict(conflict_id: uuid.UUID):
    """One conflict."""
    return get_owned(SyncConflict, conflict_id, "conflict")


def _current(collection: str, row_id: str, field: str) -> tuple[Any, Any]:
    """The ORM row and the field's current wire value."""
    model = MODELS[collection]
    obj = db.session.execute(
        sa.select(model).where(model.company_id == company_id(), model.id == uuid.UUID(row_id)).with_for_update()
    ).scalar_one_or_none()
    if obj is None:
        raise ApiError(409, "row_missing", f"{collection} {row_id} no longer exists")
    wire = db.session.execute(sa.select(*wire_columns(collection)).where(model.id == obj.id)).one()
    return obj, dump_rows(collection, [wire])[0].get(field)


@blp.route("/<uuid:conflict_id>/resolve", methods=["POST"])
@blp.arguments(ResolveConflictSchema)
@blp.response(200, ConflictSchema)
@requires(Role.DISPATCHER)
def resolve_conflict(body: dict[str, Any], conflict_id: uuid.UUID):
    """Decide a conflict: keep the server's value, take the device's, or set a custom one."""
    conflict: SyncConflict = get_owned(SyncConflict, conflict_id, "conflict")
    if conflict.status is ConflictStatus.RESOLVED:
        raise ApiError(409, "already_resolved", "this conflict was already resolved",
                       details={"resolution": conflict.resolution.value if conflict.resolution else None})
    resolution: ConflictResolution = body["resolution"]
    if resolution is ConflictResolution.CUSTOM and "value" not in body:
        raise field_error("value", "a custom resolution names the value to set")
    chosen: Any = {ConflictResolution.KEEP_SERVER: conflict.server_value,
                   ConflictResolution.TAKE_DEVICE: conflict.device_value}.get(resolution, body.get("value"))
    spec = REGISTRY.get(conflict.collection)
    if conflict.rule in ACKNOWLEDGE_ONLY or spec is None or spec.field_class(conflict.field) is None:
        if resolution is not ConflictResolution.KEEP_SERVER:
            raise ApiError(422, "resolution_not_applicable",
                           f"a {conflict.rule} conflict can only be acknowledged (keep_server)",
                           errors={"json": {"resolution": ["only keep_server applies"]}})
    else:
        obj, current = _current(conflict.collection, conflict.row_id, conflict.field)
        if chosen != current:
            try:
                value = load_values(conflict.collection, {conflict.field: chosen})[conflict.field]
            except ma.ValidationError as err:
                raise ApiError(422, "validation_error", f"value: {err.messages}",
                               errors={"json": {"value": [str(err.messages)]}}) from None
            if conflict.collection == "job" and conflict.field == "status":
                try:
                    check_transition(current, value)
                except IllegalTransition as exc:
                    raise ApiError(409, "illegal_transition", str(exc), details={"allowed": exc.allowed}) from None
            setattr(obj, conflict.field, value)
    conflict.status = ConflictStatus.RESOLVED
    conflict.resolution = resolution
    conflict.resolved_value = chosen
    conflict.resolution_note = body.get("note", "")
    conflict.resolved_by_id = current_user().id
    conflict.resolved_at = utcnow()
    db.session.commit()
    return conflict
