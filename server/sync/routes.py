"""POST /api/v1/sync/pull and /push: thin adapters over the pull planner and sync-core's ServerCore."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import requires
from server.db import utcnow
from server.errors import ApiError
from server.extensions import db
from server.sync.fastdump import json_response
from server.sync.pull import BadCursor, pull_page
from server.sync.push import push_batch
from server.sync.scope import scope_for
from server.sync.service import SUPPORTED_VERSIONS, check_protocol_header, protocol_unsupported, sync_context
from sync.fastwire import PushRequestSchema  # sync.wire's schema, loaded by a fast path for 500 mutations
from sync.records import PullRequest, PushRequest
from sync.wire import PullRequestSchema, PullResponseSchema, PushResponseSchema

# The response schemas dump through their compiled form (server/sync/fastdump.py): same output, less time.
_PULL, _PUSH = PullResponseSchema(), PushResponseSchema()
blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Tablet sync: pull, push, change signal")


@blp.before_request
def _protocol() -> None:
    check_protocol_header()


@blp.route("/pull", methods=["POST"])
@requires(Role.TECHNICIAN)
@blp.arguments(PullRequestSchema)
@blp.response(200, PullResponseSchema)
def pull(req: PullRequest) -> Response:
    """One page of the changes in this tablet's scope after its cursor, and the rows that left it."""
    if req.protocol_version not in SUPPORTED_VERSIONS:  # the body's declaration must agree too
        raise protocol_unsupported(req.protocol_version)
    ctx = sync_context()
    scope = scope_for(ctx.company, ctx.technician.id, utcnow())
    try:
        page = pull_page(db.session, ctx.device, scope, req.cursor, req.limit)
    except BadCursor:
        db.session.rollback()
        raise ApiError(400, "bad_cursor", "the cursor was not made by this server; pull again from the start",
                       errors={"json": {"cursor": ["not a cursor of this server"]}}) from None
    db.session.commit()
    return json_response(_PULL, page)


@blp.route("/push", methods=["POST"])
@requires(Role.TECHNICIAN)
@blp.arguments(PushRequestSchema)
@blp.response(200, PushResponseSchema)
def push(req: PushRequest) -> Response:
    """Apply a batch of outbox mutations in order, in one transaction; one result per mutation."""
    received = utcnow()
    ctx = sync_context()
    response = push_batch(db.session, ctx, req, received)
    db.session.commit()
    return json_response(_PUSH, response)
