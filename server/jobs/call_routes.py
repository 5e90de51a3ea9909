"""/api/v1/calls: the 24-hour hotline (R9)."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, requires
from server.extensions import db
from server.jobs import calls
from server.jobs.intake_schemas import (
    CallAnswerSchema,
    CallCreatedSchema,
    CallCreateSchema,
    CallListArgsSchema,
    CallSchema,
)
from server.pagination import page_of, paginate

blp = Blueprint("calls", __name__, url_prefix="/api/v1/calls", description="Hotline calls and their answer deadlines")

DESK = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)


@blp.route("", methods=["POST"])
@requires(*DESK)
@blp.arguments(CallCreateSchema)
@blp.response(201, CallCreatedSchema)
def record_call(body: dict):
    """Record a call; a repair or emergency call creates its job with the R8 clocks at once."""
    call, job = calls.record_call(company_id(), taken_by_id=current_user().id, **body)
    db.session.commit()
    return {"call": call, "job": job}


@blp.route("", methods=["GET"])
@requires(*DESK)
@blp.arguments(CallListArgsSchema, location="query")
@blp.response(200, page_of(CallSchema))
def list_calls(args: dict):
    """Open calls, the earliest answer deadline first (``all=true`` for answered ones too)."""
    stmt = calls.calls_query(company_id(), open_only=not args["all"], category=args.get("category"))
    return paginate(stmt, args)


@blp.route("/<uuid:call_id>", methods=["GET"])
@requires(*DESK)
@blp.response(200, CallSchema)
def get_call(call_id: uuid.UUID):
    """One call."""
    return calls.get_call(company_id(), call_id)


@blp.route("/<uuid:call_id>/answer", methods=["POST"])
@requires(*DESK)
@blp.arguments(CallAnswerSchema)
@blp.response(200, CallSchema)
def answer_call(body: dict, call_id: uuid.UUID):
    """Record what the caller was told."""
    call = calls.answer_call(calls.get_call(company_id(), call_id), body["result"])
    db.session.commit()
    return call
