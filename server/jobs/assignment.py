"""Assigning jobs to technicians and ordering each technician's day (R10 conflict, R14 qualified).

Status follows the assignment along legal steps of the state machine: assigning walks the job to
DISPATCHED (NEW → SCHEDULED → DISPATCHED; a job travelling to the old technician goes back to
DISPATCHED for the new one), unassigning walks it back to SCHEDULED (or NEW without a window).
A job already on site, in progress or finished cannot change hands.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.jobs import calendar
from server.jobs.models import Complaint, Job
from server.jobs.service import owned
from server.people.models import Technician
from server.people.service import qualified
from sync.domain.jobs import JobStatus, check_transition

S = JobStatus
_TO_DISPATCHED = {
    S.NEW: (S.SCHEDULED, S.DISPATCHED),
    S.SCHEDULED: (S.DISPATCHED,),
    S.DISPATCHED: (),
    S.EN_ROUTE: (S.DISPATCHED,),
    S.COULD_NOT_COMPLETE: (S.SCHEDULED, S.DISPATCHED),
}
_TO_UNASSIGNED = {S.NEW: (), S.SCHEDULED: (), S.DISPATCHED: (S.SCHEDULED,), S.EN_ROUTE: (S.DISPATCHED, S.SCHEDULED)}
# Statuses from which a job may come back to the route of its day.
ROUTED = (S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS)


def _walk(job: Job, steps: tuple[JobStatus, ...]) -> None:
    for step in steps:
        check_transition(job.status, step)  # the tables above only hold legal steps
        job.status = step


def job_day(job: Job, now: dt.datetime | None = None) -> dt.date:
    """The local day a job is done on: its window's day, or today while it has no window."""
    return calendar.local_date(job.company_id, job.window_start or now or utcnow())


def conflict_of_interest(job: Job, technician_id: uuid.UUID) -> bool:
    """Whether the technician is named in the complaint this job handles (R10)."""
    if job.complaint_id is None:
        return False
    complaint = db.session.get(Complaint, job.complaint_id)
    involved = {str(t) for t in (complaint.involved_technician_ids or [])} if complaint else set()
    return str(technician_id) in involved


def check_assignable(job: Job, technician: Technician, day: dt.date) -> None:
    """Raise unless ``technician`` may take ``job`` on ``day`` (active, qualified R14, no R10 conflict)."""
    if not technician.active:
        raise field_error("technician_id", "this technician is not active", reason="technician_inactive", status=409)
    missing = qualified(technician, job.required_certifications or [], day)
    if missing:
        raise ApiError(
            409, "not_qualified",
            f"{technician.name} lacks a certification valid on {day}: {', '.join(missing)} (R14)",
            details={"missing": missing, "day": day.isoformat()},
        )
    if conflict_of_interest(job, technician.id):
        raise ApiError(
            409, "conflict_of_interest",
            f"{technician.name} is named in the complaint this visit handles and may not handle it (R10)",
        )


def assign(job: Job, technician_id: uuid.UUID, *, now: dt.datetime | None = None) -> Job:
    """Assign (or reassign) the job to a technician of its company and dispatch it.

    404 for a technician of another company; 409 ``not_qualified`` (``details.missing``),
    ``conflict_of_interest`` or ``not_assignable`` (work already started or finished).
    """
    technician = owned(Technician, job.company_id, technician_id, "technician")
    if job.status not in _TO_DISPATCHED:
        raise ApiError(
            409, "not_assignable", f"job {job.ref} is {job.status.value}: it can no longer change hands",
            details={"status": job.status.value},
        )
    check_assignable(job, technician, job_day(job, now))
    if job.technician_id != technician.id:
        job.route_order = None
    job.technician_id = technician.id
    _walk(job, _TO_DISPATCHED[job.status])
    db.session.flush()
    return job


def unassign(job: Job) -> Job:
    """Take the job off its technician: back to SCHEDULED (NEW when it has no agreed window)."""
    if job.status not in _TO_UNASSIGNED:
        raise ApiError(
            409, "not_assignable", f"job {job.ref} is {job.status.value}: it can no longer change hands",
            details={"status": job.status.value},
        )
    job.technician_id = None
    job.route_order = None
    _walk(job, _TO_UNASSIGNED[job.status])
    if job.status == S.SCHEDULED and job.window_start is None:
        _walk(job, (S.NEW,))
    db.session.flush()
    return job


def technician_day(company_id: uuid.UUID, technician_id: uuid.UUID, day: dt.date) -> list[Job]:
    """The technician's jobs with a window on the local ``day``, in route order (then window)."""
    start, end = calendar.local_day_bounds(company_id, day, day)
    stmt = (
        sa.select(Job)
        .where(
            Job.company_id == company_id, Job.technician_id == technician_id, Job.deleted.is_(False),
            Job.window_start >= start, Job.window_start < end, Job.status.in_(ROUTED),
        )
        .order_by(Job.route_order.is_(None), Job.route_order, Job.window_start, Job.ref)
    )
    return list(db.session.execute(stmt).scalars())


def reorder_route(
    company_id: uuid.UUID, technician_id: uuid.UUID, day: dt.date, job_ids: list[uuid.UUID]
) -> list[Job]:
    """Set the route of a technician's day: ``job_ids`` get route_order 1..n in that order, the
    technician's other jobs of the day follow in their previous order. Returns the whole route.

    Every id must be one of the technician's jobs of that day (422 naming the others).
    """
    owned(Technician, company_id, technician_id, "technician")
    if len(set(job_ids)) != len(job_ids):
        raise field_error("job_ids", "a job appears twice")
    route = technician_day(company_id, technician_id, day)
    by_id = {job.id: job for job in route}
    strangers = [str(i) for i in job_ids if i not in by_id]
    if strangers:
        raise ApiError(
            422, "validation_error", f"job_ids: not this technician's jobs on {day}: {', '.join(strangers)}",
            errors={"json": {"job_ids": [f"not this technician's jobs on {day}: {', '.join(strangers)}"]}},
        )
    ordered = [by_id[i] for i in job_ids] + [job for job in route if job.id not in set(job_ids)]
    for position, job in enumerate(ordered, start=1):
        job.route_order = position
    db.session.flush()
    return ordered
