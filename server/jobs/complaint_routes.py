"""/api/v1/complaints (R10). Served to admin, customer service and dispatch only: a technician's
token gets 403 here, whatever the complaint (its details are confidential)."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, requires
from server.db import utcnow
from server.extensions import db
from server.jobs import complaints
from server.jobs.calendar import WorkingCalendar
from server.jobs.intake_schemas import (
    ComplaintAnswerSchema,
    ComplaintCreateSchema,
    ComplaintListArgsSchema,
    ComplaintRowSchema,
    ComplaintSchema,
    ComplaintVisitSchema,
    ExtensionSchema,
)
from server.jobs.models import Complaint
from server.jobs.schemas import JobSchema
from server.jobs.service import owned
from server.pagination import page_of, paginate

blp = Blueprint("complaints", __name__, url_prefix="/api/v1/complaints", description="Complaints and their deadlines")

STAFF = (Role.CUSTOMER_SERVICE, Role.DISPATCHER)


def _get(complaint_id: uuid.UUID) -> Complaint:
    return owned(Complaint, company_id(), complaint_id, "complaint")


@blp.route("", methods=["POST"])
@requires(*STAFF)
@blp.arguments(ComplaintCreateSchema)
@blp.response(201, ComplaintSchema)
def open_complaint(body: dict):
    """Record a complaint; it must be answered within 5 working days (409 when that year's calendar is unknown)."""
    complaint = complaints.open_complaint(company_id(), handler_id=current_user().id, **body)
    db.session.commit()
    return complaint


@blp.route("", methods=["GET"])
@requires(*STAFF)
@blp.arguments(ComplaintListArgsSchema, location="query")
@blp.response(200, page_of(ComplaintRowSchema))
def list_complaints(args: dict):
    """Complaints (open by default), the earliest deadline first, with working days left."""
    page = paginate(complaints.complaints_query(company_id(), args["status"]), args)
    calendar, now = WorkingCalendar(company_id()), utcnow()
    page["items"] = [
        {"complaint": c, "working_days_left": complaints.working_days_left(calendar, c, now)} for c in page["items"]
    ]
    return page


@blp.route("/<uuid:complaint_id>", methods=["GET"])
@requires(*STAFF)
@blp.response(200, ComplaintSchema)
def get_complaint(complaint_id: uuid.UUID):
    """One complaint with its confidential details."""
    return _get(complaint_id)


@blp.route("/<uuid:complaint_id>/extension", methods=["POST"])
@requires(*STAFF)
@blp.arguments(ExtensionSchema)
@blp.response(200, ComplaintSchema)
def extend(body: dict, complaint_id: uuid.UUID):
    """Record an extension agreed with the complainant (a later deadline and the reason)."""
    complaint = complaints.extend_complaint(_get(complaint_id), body["until"], body["reason"])
    db.session.commit()
    return complaint


@blp.route("/<uuid:complaint_id>/answer", methods=["POST"])
@requires(*STAFF)
@blp.arguments(ComplaintAnswerSchema)
@blp.response(200, ComplaintSchema)
def answer(body: dict, complaint_id: uuid.UUID):
    """Record the answer given to the complainant."""
    complaint = complaints.answer_complaint(_get(complaint_id), body["answer"])
    db.session.commit()
    return complaint


@blp.route("/<uuid:complaint_id>/close", methods=["POST"])
@requires(*STAFF)
@blp.response(200, ComplaintSchema)
def close(complaint_id: uuid.UUID):
    """Close an answered complaint."""
    complaint = complaints.close_complaint(_get(complaint_id))
    db.session.commit()
    return complaint


@blp.route("/<uuid:complaint_id>/visit", methods=["POST"])
@requires(*STAFF)
@blp.arguments(ComplaintVisitSchema)
@blp.response(201, JobSchema)
def create_visit(body: dict, complaint_id: uuid.UUID):
    """Create a complaint-visit job (no confidential detail goes into it)."""
    job = complaints.create_complaint_visit(_get(complaint_id), **body)
    db.session.commit()
    return job
