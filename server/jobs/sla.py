"""Repair clocks (R8) and the hotline answer clocks (R9), and the views the dispatcher watches.

R8 gives two figures for network faults: handled within 6 h (``respond_by``, met by the
technician's arrival on site) and repaired within 24 h (``fix_by``, met by completion). For a
customer's equipment fault, and for every emergency (gas smell, leak), it says "a technician is sent
at once": fieldsync makes that a clock too, ``respond_by`` = created + **1 hour** to arrival, and
priority EMERGENCY so it tops every list. The 1 hour is our figure, not the rule's (the rule gives
none); it is ``URGENT_RESPONSE`` below.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from server.db import utcnow
from server.extensions import db
from server.jobs.models import CallCategory, FaultKind, Job, JobType, Priority
from sync.domain.jobs import JobStatus

NETWORK_RESPONSE = dt.timedelta(hours=6)
NETWORK_FIX = dt.timedelta(hours=24)
URGENT_RESPONSE = dt.timedelta(hours=1)  # "sent at once" (R8): our figure, see the module doc
ANSWER_WITHIN = {CallCategory.QUESTION: dt.timedelta(hours=4), CallCategory.SPECIAL: dt.timedelta(hours=24)}

# Jobs whose clocks no longer run: nothing left to measure on them.
STOPPED = (JobStatus.CANCELLED, JobStatus.CLOSED, JobStatus.COMPLETED)


def is_urgent(job_type: JobType, fault_kind: FaultKind | None) -> bool:
    """An emergency or a customer's equipment fault: a technician is sent at once (R8)."""
    return job_type == JobType.EMERGENCY or fault_kind == FaultKind.CUSTOMER_EQUIPMENT


def apply_clocks(job: Job, created_at: dt.datetime) -> None:
    """Set ``respond_by``/``fix_by`` (and EMERGENCY priority for urgent jobs) on a new repair job."""
    fault = FaultKind(job.fault_kind) if job.fault_kind else None
    job_type = JobType(job.job_type)
    if is_urgent(job_type, fault):
        job.respond_by = created_at + URGENT_RESPONSE
        job.priority = int(Priority.EMERGENCY)
    elif job_type == JobType.REPAIR and fault == FaultKind.NETWORK:
        job.respond_by = created_at + NETWORK_RESPONSE
    if fault == FaultKind.NETWORK:
        job.fix_by = created_at + NETWORK_FIX


@dataclass(frozen=True)
class Clock:
    """One deadline of a job: when it falls, when it was met, time left (negative = breached)."""

    name: str  # respond | fix
    deadline: dt.datetime
    met_at: dt.datetime | None
    seconds_left: int | None  # while running
    breached: bool

    @classmethod
    def of(cls, name: str, deadline: dt.datetime, met_at: dt.datetime | None, now: dt.datetime) -> Clock:
        if met_at is not None:
            return cls(name, deadline, met_at, None, met_at > deadline)
        left = int((deadline - now).total_seconds())
        return cls(name, deadline, None, left, left < 0)


def job_clocks(job: Job, now: dt.datetime | None = None) -> list[Clock]:
    """The job's respond and fix clocks (those it has)."""
    now = now or utcnow()
    clocks = []
    if job.respond_by is not None:
        clocks.append(Clock.of("respond", job.respond_by, job.arrived_at, now))
    if job.fix_by is not None:
        clocks.append(Clock.of("fix", job.fix_by, job.completed_at, now))
    return clocks


def next_deadline() -> sa.ColumnElement:
    """SQL: the job's next running deadline (respond until arrival, then fix)."""
    return sa.case(
        (sa.and_(Job.respond_by.is_not(None), Job.arrived_at.is_(None)), Job.respond_by),
        else_=Job.fix_by,
    )


def open_clocks_query(company_id: uuid.UUID) -> sa.Select:
    """Open jobs with a running clock, most urgent (earliest next deadline) first."""
    running = sa.or_(
        sa.and_(Job.respond_by.is_not(None), Job.arrived_at.is_(None)),
        sa.and_(Job.fix_by.is_not(None), Job.completed_at.is_(None)),
    )
    return (
        sa.select(Job)
        .where(Job.company_id == company_id, Job.deleted.is_(False), Job.status.not_in(STOPPED), running)
        .order_by(next_deadline(), Job.priority, Job.ref)
    )


def breaches_query(
    company_id: uuid.UUID, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> sa.Select:
    """Jobs whose arrival or completion came after its deadline (created in [since, until))."""
    late = sa.or_(
        sa.and_(Job.respond_by.is_not(None), Job.arrived_at > Job.respond_by),
        sa.and_(Job.fix_by.is_not(None), Job.completed_at > Job.fix_by),
    )
    stmt = sa.select(Job).where(Job.company_id == company_id, Job.deleted.is_(False), late)
    if since is not None:
        stmt = stmt.where(Job.created_at >= since)
    if until is not None:
        stmt = stmt.where(Job.created_at < until)
    return stmt.order_by(Job.created_at.desc(), Job.ref)


def open_jobs_past_deadline(company_id: uuid.UUID, now: dt.datetime | None = None) -> list[Job]:
    """Open jobs whose running clock has already passed (for an alert; the clocks view shows them first)."""
    now = now or utcnow()
    stmt = open_clocks_query(company_id).where(next_deadline() < now)
    return list(db.session.execute(stmt).scalars())
