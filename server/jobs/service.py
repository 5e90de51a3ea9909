"""Jobs: create, list, update the plan, change status. The API, console, planner and sync adapter
all call these functions.

Conventions of every service function in ``server.jobs``: it works on ``db.session``, validates
before it writes, raises ``ApiError`` (a 4xx with a stable ``reason``) when a rule says no, flushes
but never commits: the caller commits once, so nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from server.customers.models import Customer, Premises
from server.db import allocate_versions, utcnow
from server.errors import ApiError, field_error, not_found
from server.extensions import db
from server.jobs import calendar, sla
from server.jobs.gates import check_visit_gate
from server.jobs.models import FaultKind, Job, JobSource, JobType, Priority
from server.org.models import ServiceCentre
from server.pagination import like_pattern
from sync.domain.jobs import TERMINAL, IllegalTransition, JobStatus, check_transition

REF_PREFIX = "GD"  # 工单

# Plan fields dispatch may change with update_plan (window: appointments; technician: assignment).
PLAN_FIELDS = frozenset(
    {
        "priority", "description", "required_certifications", "required_skills", "duration_minutes",
        "chargeable", "service_centre_id", "planned_eta",
    }
)


def owned(model: type, company_id: uuid.UUID, ident: uuid.UUID | None, label: str) -> Any:
    """A live row of the company by id, or 404 (other companies' rows do not exist for the caller)."""
    row = db.session.get(model, ident) if ident is not None else None
    if row is None or row.company_id != company_id or getattr(row, "deleted", False):
        raise not_found(label, ident)
    return row


def get_job(company_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """The company's job, or 404."""
    return owned(Job, company_id, job_id, "job")


def next_ref(company_id: uuid.UUID, when: dt.datetime) -> str:
    """The next human reference of the company's local day, e.g. ``GD-20261127-0042``.

    The company's change-counter row is locked first (an UPDATE held until commit), so two
    transactions of one company cannot hand out the same number.
    """
    allocate_versions(db.session, company_id, 0)
    day = calendar.local_date(company_id, when)
    prefix = f"{REF_PREFIX}-{day:%Y%m%d}-"
    # Longest first: past 9999 jobs a day the numbers grow a digit and still sort right.
    last = db.session.execute(
        sa.select(Job.ref)
        .where(Job.company_id == company_id, Job.ref.like(f"{prefix}%"))
        .order_by(sa.func.length(Job.ref).desc(), Job.ref.desc())
        .limit(1)
    ).scalar()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def create_job(
    company_id: uuid.UUID,
    *,
    job_type: JobType,
    customer_id: uuid.UUID,
    premises_id: uuid.UUID | None = None,
    priority: int | None = None,
    description: str = "",
    fault_kind: FaultKind | None = None,
    required_certifications: Iterable[str] = (),
    required_skills: Iterable[str] = (),
    duration_minutes: int = 45,
    chargeable: bool = False,
    source: JobSource = JobSource.OFFICE,
    service_centre_id: uuid.UUID | None = None,
    complaint_id: uuid.UUID | None = None,
    service_call_id: uuid.UUID | None = None,
    meter_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> Job:
    """A new job (status NEW) with its ref and, for repairs and emergencies, its R8 clocks.

    ``premises_id`` defaults to the customer's first premises; it must belong to the customer.
    A repair must say whose equipment failed (``fault_kind``): the clocks depend on it.
    """
    now = now or utcnow()
    customer = owned(Customer, company_id, customer_id, "customer")
    if premises_id is None:
        if not customer.premises:
            raise field_error("premises_id", "the customer has no premises; name one")
        premises_id = customer.premises[0].id
    premises = owned(Premises, company_id, premises_id, "premises")
    if premises.customer_id != customer.id:
        raise field_error("premises_id", "these premises belong to another customer")
    if service_centre_id is not None:
        owned(ServiceCentre, company_id, service_centre_id, "service centre")
    if JobType(job_type) == JobType.REPAIR and fault_kind is None:
        raise field_error("fault_kind", "a repair must say whose equipment failed: network or customer_equipment")
    job = Job(
        id=uuid.uuid4(), company_id=company_id, ref=next_ref(company_id, now), job_type=JobType(job_type),
        source=JobSource(source), priority=int(priority or Priority.NORMAL), status=JobStatus.NEW,
        customer_id=customer.id, premises_id=premises.id, service_centre_id=service_centre_id,
        description=description, fault_kind=FaultKind(fault_kind) if fault_kind else None,
        required_certifications=_unique(required_certifications), required_skills=_unique(required_skills),
        duration_minutes=duration_minutes, chargeable=chargeable, complaint_id=complaint_id,
        service_call_id=service_call_id, meter_id=meter_id, created_at=now,
    )
    sla.apply_clocks(job, now)
    db.session.add(job)
    db.session.flush()
    return job


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def update_plan(job: Job, changes: dict[str, Any]) -> Job:
    """Change plan fields (priority, description, needs, duration, chargeable, centre, planned ETA)."""
    unknown = set(changes) - PLAN_FIELDS
    if unknown:
        raise field_error(sorted(unknown)[0], "not a plan field that can be changed here")
    if job.status in TERMINAL:
        raise ApiError(409, "job_closed", f"job {job.ref} is {job.status.value}: its plan can no longer change")
    if changes.get("service_centre_id") is not None:
        owned(ServiceCentre, job.company_id, changes["service_centre_id"], "service centre")
    for key in ("required_certifications", "required_skills"):
        if key in changes:
            changes[key] = _unique(changes[key])
    for key, value in changes.items():
        setattr(job, key, value)
    db.session.flush()
    return job


# Facts a status change stamps when the office records it (the device sends its own times).
_STAMPS = {
    JobStatus.EN_ROUTE: "en_route_at",
    JobStatus.ON_SITE: "arrived_at",
    JobStatus.IN_PROGRESS: "work_started_at",
    JobStatus.COMPLETED: "completed_at",
}


def change_status(
    job: Job, new_status: JobStatus | str, *, reason: str = "", at: dt.datetime | None = None
) -> Job:
    """Move a job through the state machine (``sync.domain.jobs``) with the visit gates.

    Raises 409 ``illegal_transition`` (``details.allowed`` lists the legal next states),
    422 when a cancellation or could-not-complete has no reason, 409 ``approval_required`` when
    chargeable work would start without a covering signed quote (R3), 409 ``cleanup_required``
    when completing without the customer's cleanup confirmation (R4). Cancelling a job also
    cancels its active appointment, which notifies the customer (R2).
    """
    new_status = JobStatus(new_status)
    at = at or utcnow()
    if new_status == job.status:
        return job
    try:
        check_transition(job.status, new_status)
    except IllegalTransition as exc:
        raise ApiError(
            409, "illegal_transition", str(exc), details={"from": job.status.value, "allowed": exc.allowed}
        ) from None
    reason = (reason or "").strip()
    if new_status in (JobStatus.CANCELLED, JobStatus.COULD_NOT_COMPLETE) and not reason:
        raise field_error("reason", f"a reason is required to set {new_status.value}")
    if new_status == JobStatus.DISPATCHED and job.technician_id is None:
        raise ApiError(409, "no_technician", f"assign job {job.ref} to a technician to dispatch it")
    check_visit_gate(job, new_status)
    if new_status == JobStatus.CANCELLED:
        from server.jobs.appointments import active_appointment, end_appointment

        if active_appointment(job) is not None:
            end_appointment(job, cancelled=True, reason=reason, now=at)
        job.cancelled_reason = reason[:200]
    if new_status == JobStatus.COULD_NOT_COMPLETE:
        job.could_not_complete_reason = reason[:40]
    stamp = _STAMPS.get(new_status)
    if stamp and getattr(job, stamp) is None:
        setattr(job, stamp, at)
    job.status = new_status
    after_status_change(job, new_status, at=at)
    db.session.flush()
    return job


def after_status_change(job: Job, new_status: JobStatus, *, at: dt.datetime | None = None) -> None:
    """What follows a status change, whoever made it (office API, console, or a tablet via sync):
    a completed visit owes the customer a follow-up call (R6)."""
    if new_status == JobStatus.COMPLETED:
        from server.followups.service import create_follow_up_for_job

        create_follow_up_for_job(job, now=at)


def jobs_query(company_id: uuid.UUID, filters: dict[str, Any]) -> sa.Select:
    """The company's jobs matching the filters, ordered by window then ref.

    Filters: ``date_from``/``date_to`` (local dates of the window start, inclusive), ``status``
    (list), ``technician_id``, ``service_centre_id``, ``job_type`` (list), ``customer_id``,
    ``unassigned`` (bool), ``q`` (text in the ref or description, taken literally).
    """
    stmt = sa.select(Job).where(Job.company_id == company_id, Job.deleted.is_(False))
    first, last = filters.get("date_from"), filters.get("date_to")
    if first or last:
        start, end = calendar.local_day_bounds(company_id, first or last, last or first)
        if first:
            stmt = stmt.where(Job.window_start >= start)
        if last:
            stmt = stmt.where(Job.window_start < end)
    if filters.get("status"):
        stmt = stmt.where(Job.status.in_(filters["status"]))
    if filters.get("job_type"):
        stmt = stmt.where(Job.job_type.in_(filters["job_type"]))
    for key in ("technician_id", "service_centre_id", "customer_id"):
        if filters.get(key) is not None:
            stmt = stmt.where(getattr(Job, key) == filters[key])
    if filters.get("unassigned"):
        stmt = stmt.where(Job.technician_id.is_(None))
    if filters.get("q"):
        pattern = like_pattern(filters["q"])
        stmt = stmt.where(sa.or_(Job.ref.like(pattern, escape="\\"), Job.description.like(pattern, escape="\\")))
    return stmt.order_by(Job.window_start.is_(None), Job.window_start, Job.priority, Job.ref)
