"""/api/v1/follow-ups: the calls customer service makes after visits, and their outcome (R6)."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, get_owned, requires
from server.extensions import db
from server.followups import service
from server.followups.models import FollowUpTask
from server.followups.schemas import FollowUpArgsSchema, FollowUpOutcomeSchema, FollowUpSchema
from server.pagination import page_of, paginate

blp = Blueprint("followups", __name__, url_prefix="/api/v1/follow-ups", description="Follow-up calls after visits")


@blp.route("", methods=["GET"])
@requires(Role.CUSTOMER_SERVICE, Role.DISPATCHER)
@blp.arguments(FollowUpArgsSchema, location="query")
@blp.response(200, page_of(FollowUpSchema))
def list_follow_ups(args: dict):
    """The calls still to make (or the ones filtered by status), earliest due first."""
    return paginate(service.follow_ups_query(company_id(), args), args)


@blp.route("/<uuid:task_id>", methods=["GET"])
@requires(Role.CUSTOMER_SERVICE, Role.DISPATCHER)
@blp.response(200, FollowUpSchema)
def get_follow_up(task_id: uuid.UUID):
    """One follow-up task."""
    return get_owned(FollowUpTask, task_id, "follow-up")


@blp.route("/<uuid:task_id>/outcome", methods=["POST"])
@requires(Role.CUSTOMER_SERVICE)
@blp.arguments(FollowUpOutcomeSchema)
@blp.response(200, FollowUpSchema)
def record_outcome(body: dict, task_id: uuid.UUID):
    """Record the call: done with satisfaction 1–5, or unreachable (a done task is final: 409)."""
    task = get_owned(FollowUpTask, task_id, "follow-up")
    service.record_outcome(task, current_user(), **body)
    db.session.commit()
    return task
