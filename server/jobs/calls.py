"""The 24-hour hotline (R9): every call is recorded with its answer deadline; repair and emergency
calls become jobs with their R8 clocks in the same transaction; complaint calls open a complaint.

Answer deadlines: ordinary questions 4 h, special cases 24 h (R9). For a repair or emergency the
answer *is* the technician's response, so the call's ``answer_by`` is the job's ``respond_by``;
for a complaint it is the complaint's 5-working-day deadline (R10).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.customers.models import Customer
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.jobs import sla
from server.jobs.models import CallCategory, FaultKind, Job, JobSource, JobType, ServiceCall
from server.jobs.service import create_job, owned

JOB_CATEGORIES = (CallCategory.REPAIR, CallCategory.EMERGENCY)


def record_call(
    company_id: uuid.UUID,
    *,
    caller_name: str,
    caller_phone: str,
    category: CallCategory,
    reason: str,
    customer_id: uuid.UUID | None = None,
    premises_id: uuid.UUID | None = None,
    fault_kind: FaultKind | None = None,
    taken_by_id: uuid.UUID | None = None,
    received_at: dt.datetime | None = None,
) -> tuple[ServiceCall, Job | None]:
    """Record a hotline call; for repair/emergency calls create the job (its clocks start now).

    A repair or emergency call must name the customer (the job needs premises); a repair must
    say whose equipment failed (``fault_kind``); an emergency is urgent whatever failed (R8).
    """
    received_at = received_at or utcnow()
    category = CallCategory(category)
    if customer_id is not None:
        owned(Customer, company_id, customer_id, "customer")
    call = ServiceCall(
        id=uuid.uuid4(), company_id=company_id, received_at=received_at, caller_name=caller_name.strip(),
        caller_phone=caller_phone.strip(), customer_id=customer_id, category=category, reason=reason.strip(),
        taken_by_id=taken_by_id, answer_by=received_at,
    )
    job = None
    if category in JOB_CATEGORIES:
        if customer_id is None:
            raise field_error("customer_id", f"a {category.value} call must name the customer to send someone")
        if category == CallCategory.REPAIR and fault_kind is None:
            raise field_error("fault_kind", "say whose equipment failed: network or customer_equipment")
        db.session.add(call)
        db.session.flush()
        job = create_job(
            company_id, job_type=JobType.EMERGENCY if category == CallCategory.EMERGENCY else JobType.REPAIR,
            customer_id=customer_id, premises_id=premises_id, description=call.reason, fault_kind=fault_kind,
            source=JobSource.HOTLINE, service_call_id=call.id, now=received_at,
        )
        call.answer_by = job.respond_by
    elif category == CallCategory.COMPLAINT:
        from server.jobs.complaints import open_complaint

        complaint = open_complaint(
            company_id, complainant_name=call.caller_name, complainant_phone=call.caller_phone,
            summary=call.reason[:255], customer_id=customer_id, channel="hotline", received_at=received_at,
        )
        call.answer_by = complaint.answer_by
        db.session.add(call)
    else:
        call.answer_by = received_at + sla.ANSWER_WITHIN[category]
        db.session.add(call)
    db.session.flush()
    return call, job


def answer_call(call: ServiceCall, result: str, *, now: dt.datetime | None = None) -> ServiceCall:
    """Record the answer fed back to the caller (409 when the call was already answered)."""
    if call.answered_at is not None:
        raise ApiError(409, "already_answered", "this call was already answered")
    if not result.strip():
        raise field_error("result", "say what the caller was told")
    call.answered_at = now or utcnow()
    call.result = result.strip()
    db.session.flush()
    return call


def calls_query(company_id: uuid.UUID, *, open_only: bool = True, category: CallCategory | None = None) -> sa.Select:
    """The company's calls, the earliest answer deadline first (open ones only by default)."""
    stmt = sa.select(ServiceCall).where(ServiceCall.company_id == company_id)
    if open_only:
        stmt = stmt.where(ServiceCall.answered_at.is_(None))
    if category is not None:
        stmt = stmt.where(ServiceCall.category == category)
    return stmt.order_by(ServiceCall.answer_by, ServiceCall.received_at)


def get_call(company_id: uuid.UUID, call_id: uuid.UUID) -> ServiceCall:
    """The company's call, or 404."""
    return owned(ServiceCall, company_id, call_id, "call")


def job_of_call(call: ServiceCall) -> Job | None:
    """The job a call created, if any."""
    return db.session.execute(sa.select(Job).where(Job.service_call_id == call.id)).scalar_one_or_none()
