"""GET /api/v1/conflicts and POST /api/v1/conflicts/<id>/resolve: the dispatcher's review of G6.

A resolution is made by a person and audited; the rules are in ``server.sync.conflict_service``,
which the dispatcher console calls too.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, get_owned, requires
from server.extensions import db
from server.pagination import page_of, paginate
from server.sync import conflict_service
from server.sync.models import SyncConflict
from server.sync.schemas import ConflictQuerySchema, ConflictSchema, ResolveConflictSchema

blp = Blueprint("conflicts", __name__, url_prefix="/api/v1/conflicts", description="Sync conflicts to review")

ACKNOWLEDGE_ONLY = conflict_service.ACKNOWLEDGE_ONLY  # kept importable from here


@blp.route("")
@requires(Role.DISPATCHER)
@blp.arguments(ConflictQuerySchema, location="query")
@blp.response(200, page_of(ConflictSchema))
def list_conflicts(args: dict[str, Any]):
    """Conflicts of the company, newest first; filter by status, collection, job, technician, reviewer."""
    stmt = sa.select(SyncConflict).where(SyncConflict.company_id == company_id())
    for name in ("status", "collection", "job_id", "technician_id", "assignee_role"):
        if args.get(name) is not None:
            stmt = stmt.where(getattr(SyncConflict, name) == args[name])
    return paginate(stmt.order_by(SyncConflict.created_at.desc(), SyncConflict.id), args)


@blp.route("/<uuid:conflict_id>")
@requires(Role.DISPATCHER)
@blp.response(200, ConflictSchema)
def get_conflict(conflict_id: uuid.UUID):
    """One conflict."""
    return get_owned(SyncConflict, conflict_id, "conflict")


@blp.route("/<uuid:conflict_id>/resolve", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(ResolveConflictSchema)
@blp.response(200, ConflictSchema)
def resolve_conflict(body: dict[str, Any], conflict_id: uuid.UUID):
    """Decide a conflict: keep the server's value, take the device's, or set a custom one."""
    conflict: SyncConflict = get_owned(SyncConflict, conflict_id, "conflict")
    conflict_service.resolve_conflict(conflict, body["resolution"], body.get("value", conflict_service.NO_VALUE),
                                      body.get("note", ""), current_user())
    db.session.commit()
    return conflict
