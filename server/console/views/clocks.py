"""Clocks: SLA countdowns and breaches (R8 repairs, R9 calls, R10 complaints on the working-day
calendar), late arrivals (R1), and windows changed with less than 2 hours' notice (R2)."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from flask import g, render_template
from sqlalchemy.orm import selectinload

from server.console import bp
from server.console.board_data import day_bounds
from server.console.frame import company, zone
from server.console.session import console_login_required
from server.db import utcnow
from server.extensions import db
from server.jobs import appointments, calls, complaints, sla
from server.jobs.calendar import WorkingCalendar
from server.jobs.models import Appointment, ComplaintStatus, Job
from server.notifications.models import Notification
from server.org.service import company_today
from sync.domain.jobs import JobStatus

LIMIT = 100
BREACH_DAYS = 7
# Jobs still on their way: an unarrived job past its window is late (R1).
NOT_ARRIVED = (JobStatus.SCHEDULED, JobStatus.DISPATCHED, JobStatus.EN_ROUTE)


def _rows(stmt: sa.Select) -> list:
    return list(db.session.execute(stmt.limit(LIMIT)).scalars())


def late_arrivals(company_id: uuid.UUID, day: dt.date, now: dt.datetime) -> list[Job]:
    """The day's jobs that arrived after their window ended, or are past it and not there yet (R1)."""
    start, end = day_bounds(zone(), day)
    stmt = (
        sa.select(Job)
        .where(
            Job.company_id == company_id, Job.deleted.is_(False), Job.window_start >= start, Job.window_start < end,
            sa.or_(
                Job.arrived_at > Job.window_end,
                sa.and_(Job.arrived_at.is_(None), Job.window_end < now, Job.status.in_(NOT_ARRIVED)),
            ),
        )
        .options(selectinload(Job.customer), selectinload(Job.technician))
        .order_by(Job.window_end, Job.ref)
    )
    return _rows(stmt)


def short_notice(company_id: uuid.UUID, since: dt.datetime) -> list[tuple[Appointment, Job, Notification | None]]:
    """R2 breaches since ``since`` with the job and the customer notification the change raised."""
    rows = []
    for appt in _rows(appointments.short_notice_query(company_id, since=since)):
        job = db.session.get(Job, appt.job_id)
        note = db.session.execute(
            sa.select(Notification)
            .where(Notification.company_id == company_id, Notification.job_id == appt.job_id,
                   Notification.kind.in_(("rescheduled", "cancelled")), Notification.notice_minutes == appt.notice_minutes)
            .order_by(Notification.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        rows.append((appt, job, note))
    return rows


@bp.route("/clocks")
@console_login_required
def clocks():
    """Every running deadline the dispatcher must watch, the breached ones first."""
    company_id = g.user.company_id
    now = utcnow()
    repairs = [(job, sla.job_clocks(job, now)) for job in _rows(
        sla.open_clocks_query(company_id).options(selectinload(Job.customer), selectinload(Job.technician)))]
    since = now - dt.timedelta(days=BREACH_DAYS)
    breached = [(job, sla.job_clocks(job, now)) for job in _rows(sla.breaches_query(company_id, since=since))]
    open_calls = _rows(calls.calls_query(company_id, open_only=True))
    calendar = WorkingCalendar(company_id)
    open_complaints = [
        (c, complaints.deadline(c), complaints.working_days_left(calendar, c, now))
        for c in _rows(complaints.complaints_query(company_id, [ComplaintStatus.OPEN]))
    ]
    today = company_today(company())
    return render_template(
        "console/clocks.html", now=now, repairs=repairs, breached=breached, calls=open_calls,
        complaints=open_complaints, late=late_arrivals(company_id, today, now), today=today,
        short_notice=short_notice(company_id, since), breach_days=BREACH_DAYS,
    )
