"""Follow-up calls customer service owes customers after visits (R6).

``create_follow_up_for_job`` is called when a visit is completed (by the jobs service and by the
sync adapter); it is idempotent, so a completion that arrives twice makes one task. Customer
service lists the open tasks, calls, and records the outcome with the customer's satisfaction
(1–5) or that the customer could not be reached (a later call may still reach them).

Conventions as in ``server.jobs.service``: validate before writing, flush, never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.followups.models import FollowUpStatus, FollowUpTask
from server.jobs.models import Job, JobType

# Repairs get a repair follow-up (did it stay fixed?); the rest a visit-quality call.
REPAIR_KINDS = frozenset({JobType.REPAIR, JobType.EMERGENCY, JobType.HAZARD_RECTIFICATION})
COMPLAINT_KINDS = frozenset({JobType.COMPLAINT_VISIT})
FALLBACK_DELAY = dt.timedelta(hours=24)
SATISFACTION_RANGE = range(1, 6)


def follow_up_kind(job: Job) -> str:
    """``repair``, ``complaint`` or ``visit_quality``: what the call is about."""
    if job.job_type in REPAIR_KINDS:
        return "repair"
    if job.job_type in COMPLAINT_KINDS:
        return "complaint"
    return "visit_quality"


def _due(company_id: uuid.UUID, now: dt.datetime) -> dt.datetime:
    """The end of the next working day; a day later when the company's calendar cannot say."""
    from server.jobs.calendar import CalendarNotEntered, add_working_days

    try:
        return add_working_days(company_id, now, 1)
    except CalendarNotEntered:
        # A completed visit must never fail because next year's calendar was not entered yet.
        return now + FALLBACK_DELAY


def create_follow_up_for_job(job: Job, *, now: dt.datetime | None = None) -> FollowUpTask:
    """The follow-up task of a completed visit, due the next working day (made once per job)."""
    existing = db.session.execute(
        sa.select(FollowUpTask).where(FollowUpTask.job_id == job.id, FollowUpTask.company_id == job.company_id)
    ).scalars().first()
    if existing is not None:
        return existing
    now = now or utcnow()
    task = FollowUpTask(
        id=uuid.uuid4(), company_id=job.company_id, job_id=job.id, complaint_id=job.complaint_id,
        customer_id=job.customer_id, kind=follow_up_kind(job), due_at=_due(job.company_id, now),
        status=FollowUpStatus.OPEN, created_at=now,
    )
    db.session.add(task)
    db.session.flush()
    return task


def follow_ups_query(company_id: uuid.UUID, filters: dict[str, Any], now: dt.datetime | None = None) -> sa.Select:
    """The company's follow-up tasks, earliest due first.

    Filters: ``status`` (list; default the calls still to make: open and unreachable), ``kind``,
    ``overdue`` (still to make and past due), ``customer_id``, ``job_id``.
    """
    now = now or utcnow()
    statuses = filters.get("status") or [FollowUpStatus.OPEN, FollowUpStatus.UNREACHABLE]
    stmt = (
        sa.select(FollowUpTask)
        .where(FollowUpTask.company_id == company_id, FollowUpTask.status.in_(statuses))
        .options(selectinload(FollowUpTask.customer), selectinload(FollowUpTask.job))
    )
    if filters.get("kind"):
        stmt = stmt.where(FollowUpTask.kind == filters["kind"])
    if filters.get("overdue"):
        stmt = stmt.where(FollowUpTask.status != FollowUpStatus.DONE, FollowUpTask.due_at < now)
    for key in ("customer_id", "job_id"):
        if filters.get(key):
            stmt = stmt.where(getattr(FollowUpTask, key) == filters[key])
    return stmt.order_by(FollowUpTask.due_at, FollowUpTask.id)


def record_outcome(
    task: FollowUpTask,
    user: User,
    *,
    status: FollowUpStatus | str,
    outcome: str = "",
    satisfaction: int | None = None,
    now: dt.datetime | None = None,
) -> FollowUpTask:
    """Record the call: ``done`` with the customer's satisfaction 1–5, or ``unreachable``.

    A done task is final (409 ``follow_up_done``); an unreachable one may be called again. The
    satisfaction is copied onto the job too, so the household file shows it (R12).
    """
    status = FollowUpStatus(status)
    if task.status == FollowUpStatus.DONE:
        raise ApiError(409, "follow_up_done", "this follow-up was already done; its outcome stands")
    if status == FollowUpStatus.OPEN:
        raise field_error("status", "record done or unreachable")
    if status == FollowUpStatus.DONE:
        if satisfaction is None or isinstance(satisfaction, bool) or satisfaction not in SATISFACTION_RANGE:
            raise field_error("satisfaction", "the customer's satisfaction from 1 to 5 is required")
    elif satisfaction is not None:
        raise field_error("satisfaction", "an unreachable customer gave no satisfaction")
    now = now or utcnow()
    task.status = status
    task.outcome = outcome.strip()
    task.satisfaction = satisfaction
    task.assigned_to_id = user.id
    task.done_at = now if status == FollowUpStatus.DONE else None
    if status == FollowUpStatus.DONE and task.job_id is not None:
        job = db.session.get(Job, task.job_id)
        if job is not None:
            job.satisfaction = satisfaction
    db.session.flush()
    return task
