"""Complaints (R10): answered within 5 working days unless an extension is agreed with a reason;
the complainant's details stay on the server; staff named in a complaint do not handle its visit.

Confidentiality: complaint rows are only served to admin, customer service and dispatch (the
routes' roles). A complaint visit's job, which goes to a tablet, carries a neutral description
and a link id, never the complainant's name, phone, summary or details when ``confidential`` is
set (the default).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from server.customers.models import Customer
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.jobs.calendar import CalendarNotEntered, WorkingCalendar, add_working_days
from server.jobs.models import Complaint, ComplaintStatus, Job, JobSource, JobType
from server.jobs.service import create_job, owned
from server.people.models import Technician

ANSWER_WORKING_DAYS = 5  # R10
CONFIDENTIAL_VISIT_NOTE = "投诉处理上门（投诉详情保密，如需了解请联系客服）"


def deadline(complaint: Complaint) -> dt.datetime:
    """The complaint's current answer deadline: the agreed extension, else the 5-working-day one."""
    return complaint.extended_until or complaint.answer_by


def open_complaint(
    company_id: uuid.UUID,
    *,
    complainant_name: str,
    summary: str,
    complainant_phone: str = "",
    details: str = "",
    confidential: bool = True,
    involved_technician_ids: Iterable[uuid.UUID] = (),
    customer_id: uuid.UUID | None = None,
    channel: str = "hotline",
    received_at: dt.datetime | None = None,
    handler_id: uuid.UUID | None = None,
) -> Complaint:
    """Record a complaint with its answer deadline, 5 working days after the day it came in.

    409 ``calendar_not_entered`` when the deadline falls in a year whose working calendar is
    unknown (nothing is written).
    """
    received_at = received_at or utcnow()
    if customer_id is not None:
        owned(Customer, company_id, customer_id, "customer")
    involved = list(dict.fromkeys(involved_technician_ids))
    for tech_id in involved:
        owned(Technician, company_id, tech_id, "technician")
    complaint = Complaint(
        company_id=company_id, customer_id=customer_id, received_at=received_at, channel=channel,
        complainant_name=complainant_name.strip(), complainant_phone=complainant_phone.strip(),
        summary=summary.strip(), details=details, confidential=confidential,
        involved_technician_ids=[str(t) for t in involved], handler_id=handler_id,
        answer_by=add_working_days(company_id, received_at, ANSWER_WORKING_DAYS),
    )
    db.session.add(complaint)
    db.session.flush()
    return complaint


def _require_open(complaint: Complaint) -> None:
    if complaint.status != ComplaintStatus.OPEN:
        raise ApiError(409, "complaint_not_open", f"the complaint is {complaint.status.value}")


def extend_complaint(complaint: Complaint, until: dt.datetime, reason: str) -> Complaint:
    """Record an extension agreed with the complainant: a later deadline and why (R10)."""
    _require_open(complaint)
    if not reason.strip():
        raise field_error("reason", "explain why the complaint cannot be solved in time")
    if until <= deadline(complaint):
        raise field_error("until", f"must be later than the current deadline {deadline(complaint).isoformat()}")
    complaint.extended_until = until
    complaint.extension_reason = reason.strip()[:255]
    db.session.flush()
    return complaint


def answer_complaint(complaint: Complaint, answer: str, *, now: dt.datetime | None = None) -> Complaint:
    """Record the answer given to the complainant."""
    _require_open(complaint)
    if not answer.strip():
        raise field_error("answer", "say what the complainant was told")
    complaint.answer = answer.strip()
    complaint.answered_at = now or utcnow()
    complaint.status = ComplaintStatus.ANSWERED
    db.session.flush()
    return complaint


def close_complaint(complaint: Complaint) -> Complaint:
    """Close an answered complaint."""
    if complaint.status != ComplaintStatus.ANSWERED:
        raise ApiError(409, "complaint_not_answered", f"only an answered complaint can be closed; it is {complaint.status.value}")
    complaint.status = ComplaintStatus.CLOSED
    db.session.flush()
    return complaint


def create_complaint_visit(
    complaint: Complaint,
    *,
    customer_id: uuid.UUID | None = None,
    premises_id: uuid.UUID | None = None,
    required_certifications: Iterable[str] = (),
    priority: int | None = None,
) -> Job:
    """A complaint-visit job linked to the complaint; its description reveals nothing confidential."""
    _require_open(complaint)
    customer_id = customer_id or complaint.customer_id
    if customer_id is None:
        raise field_error("customer_id", "name the customer whose premises to visit")
    description = CONFIDENTIAL_VISIT_NOTE if complaint.confidential else f"投诉处理上门：{complaint.summary}"
    return create_job(
        complaint.company_id, job_type=JobType.COMPLAINT_VISIT, customer_id=customer_id, premises_id=premises_id,
        description=description, required_certifications=required_certifications, priority=priority,
        source=JobSource.COMPLAINT, complaint_id=complaint.id,
    )


def complaints_query(company_id: uuid.UUID, status: list[ComplaintStatus] | None = None) -> sa.Select:
    """The company's complaints, the earliest deadline first."""
    stmt = sa.select(Complaint).where(Complaint.company_id == company_id)
    if status:
        stmt = stmt.where(Complaint.status.in_(status))
    return stmt.order_by(sa.func.coalesce(Complaint.extended_until, Complaint.answer_by), Complaint.received_at)


def working_days_left(calendar: WorkingCalendar, complaint: Complaint, now: dt.datetime) -> int | None:
    """Working days until the deadline (negative when late; None when answered or unknown calendar)."""
    if complaint.status != ComplaintStatus.OPEN:
        return None
    try:
        return calendar.working_days_left(now, deadline(complaint))
    except CalendarNotEntered:
        return None
