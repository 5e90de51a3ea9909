"""Appointments: the time window agreed with the customer (R1) and its changes (R2).

Agreeing a window creates an ACTIVE appointment and copies the window onto the job. Changing it
supersedes the active one, cancelling cancels it; either way the ended appointment records how
many minutes before its window the change was made (``notice_minutes``, negative once the window
has begun) and whether that was under the 2 hours R2 asks (``short_notice``), and a notification
to the customer is queued in the outbox (the sender is another module's business).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.customers.models import Customer
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.jobs import calendar
from server.jobs.assignment import check_assignable, unassign
from server.jobs.models import Appointment, AppointmentStatus, Job
from server.notifications.models import Notification, NotificationStatus
from server.people.models import Technician
from sync.domain.jobs import JobStatus

MIN_NOTICE = dt.timedelta(hours=2)  # R2
MAX_WINDOW = dt.timedelta(hours=12)
S = JobStatus
# Jobs whose window may be agreed or changed: nobody has started work on them yet.
REPLANNABLE = (S.NEW, S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.COULD_NOT_COMPLETE)


def active_appointment(job: Job) -> Appointment | None:
    """The job's active appointment, if any."""
    return db.session.execute(
        sa.select(Appointment).where(
            Appointment.job_id == job.id,
            Appointment.status == AppointmentStatus.ACTIVE,
            Appointment.deleted.is_(False),
        )
    ).scalar_one_or_none()


def _recipient(job: Job) -> str:
    customer = db.session.get(Customer, job.customer_id)
    if customer.phone:
        return customer.phone
    return next((c.phone for c in customer.contacts if c.phone and not c.deleted), "")


def _fmt(company_id: uuid.UUID, start: dt.datetime, end: dt.datetime) -> str:
    zone = calendar.company_zone(company_id)
    a, b = start.astimezone(zone), end.astimezone(zone)
    return f"{a:%m月%d日 %H:%M}–{b:%H:%M}"


def _notify(job: Job, kind: str, body: str, notice_minutes: int) -> Notification:
    recipient = _recipient(job)
    note = Notification(
        company_id=job.company_id, customer_id=job.customer_id, job_id=job.id, channel="sms", kind=kind,
        recipient=recipient, body=body, notice_minutes=notice_minutes,
        # Nobody to send it to: park it as failed so the office sees it and phones another way.
        status=NotificationStatus.QUEUED if recipient else NotificationStatus.FAILED,
        error="" if recipient else "the customer has no phone number on file",
    )
    db.session.add(note)
    return note


def end_appointment(
    job: Job, *, cancelled: bool, reason: str, now: dt.datetime, new_window: tuple[dt.datetime, dt.datetime] | None = None
) -> Appointment:
    """End the job's active appointment (superseded or cancelled) with its R2 notice, and queue the
    customer's notification. Does not touch the job's status or window."""
    old = active_appointment(job)
    if old is None:
        raise ApiError(409, "no_appointment", f"job {job.ref} has no agreed window")
    notice = int((old.window_start - now).total_seconds() // 60)
    old.status = AppointmentStatus.CANCELLED if cancelled else AppointmentStatus.SUPERSEDED
    old.ended_at = now
    old.end_reason = reason[:200]
    old.notice_minutes = notice
    old.short_notice = notice < MIN_NOTICE.total_seconds() // 60
    was = _fmt(job.company_id, old.window_start, old.window_end)
    if cancelled:
        body = f"您好，您预约的燃气上门服务（工单{job.ref}，{was}）已取消。原因：{reason}。如有疑问请致电客服热线。"
        _notify(job, "cancelled", body, notice)
    else:
        new = _fmt(job.company_id, *new_window)
        body = f"您好，您预约的燃气上门服务（工单{job.ref}）由{was}改约至{new}。原因：{reason}。"
        _notify(job, "rescheduled", body, notice)
    return old


def _check_window(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise field_error("window_start", "times need a UTC offset")
    if end <= start:
        raise field_error("window_end", "must be after window_start")
    if end - start > MAX_WINDOW:
        raise field_error("window_end", f"a window may be at most {MAX_WINDOW.seconds // 3600} hours long")
    if end <= now:
        raise field_error("window_end", "the window is already over")


def agree_window(
    job: Job,
    window_start: dt.datetime,
    window_end: dt.datetime,
    *,
    agreed_with: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Agree a window with the customer, or change the agreed one (a change needs a ``reason``).

    The first agreement takes a NEW job to SCHEDULED. A change supersedes the old appointment,
    records its notice (R2) and queues a "rescheduled" notification. When the job is assigned, its
    technician must still be qualified on the new day (409 ``not_qualified``).
    """
    now = now or utcnow()
    _check_window(window_start, window_end, now)
    if job.status not in REPLANNABLE:
        raise ApiError(
            409, "not_replannable", f"job {job.ref} is {job.status.value}: its window can no longer change",
            details={"status": job.status.value},
        )
    old = active_appointment(job)
    if old is not None and not reason.strip():
        raise field_error("reason", "changing an agreed window needs a reason (the customer is told it)")
    if job.technician_id is not None:
        day = calendar.local_date(job.company_id, window_start)
        check_assignable(job, db.session.get(Technician, job.technician_id), day)
    if old is not None:
        end_appointment(job, cancelled=False, reason=reason.strip(), now=now, new_window=(window_start, window_end))
        db.session.flush()  # one ACTIVE appointment per job at any moment
    appointment = Appointment(
        company_id=job.company_id, job_id=job.id, window_start=window_start, window_end=window_end,
        status=AppointmentStatus.ACTIVE, agreed_with=agreed_with[:80], agreed_at=now,
    )
    db.session.add(appointment)
    if old is None or calendar.local_date(job.company_id, old.window_start) != calendar.local_date(
        job.company_id, window_start
    ):
        job.route_order = None  # a new day: the planner places it again
    job.window_start, job.window_end = window_start, window_end
    if job.status in (S.NEW, S.COULD_NOT_COMPLETE):
        job.status = S.SCHEDULED
    db.session.flush()
    return appointment


def cancel_appointment(job: Job, *, reason: str, now: dt.datetime | None = None) -> Appointment:
    """Cancel the agreed window (the job stays open, to be agreed again): the appointment records
    its notice (R2), the customer is notified, the job loses its window and technician and goes
    back to NEW."""
    now = now or utcnow()
    if not reason.strip():
        raise field_error("reason", "cancelling an appointment needs a reason (the customer is told it)")
    if job.status not in REPLANNABLE:
        raise ApiError(
            409, "not_replannable", f"job {job.ref} is {job.status.value}: its window can no longer change",
            details={"status": job.status.value},
        )
    ended = end_appointment(job, cancelled=True, reason=reason.strip(), now=now)
    job.window_start = job.window_end = None
    if job.technician_id is not None and job.status != S.COULD_NOT_COMPLETE:
        unassign(job)
    elif job.status == S.SCHEDULED:
        job.status = S.NEW
    db.session.flush()
    return ended


def appointments_query(company_id: uuid.UUID, job_id: uuid.UUID) -> sa.Select:
    """A job's appointments, newest first."""
    return (
        sa.select(Appointment)
        .where(Appointment.company_id == company_id, Appointment.job_id == job_id, Appointment.deleted.is_(False))
        .order_by(Appointment.agreed_at.desc())
    )


def short_notice_query(
    company_id: uuid.UUID, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> sa.Select:
    """Appointments changed or cancelled less than 2 h before their window (R2 breaches), newest first."""
    stmt = sa.select(Appointment).where(
        Appointment.company_id == company_id, Appointment.short_notice.is_(True), Appointment.deleted.is_(False)
    )
    if since is not None:
        stmt = stmt.where(Appointment.ended_at >= since)
    if until is not None:
        stmt = stmt.where(Appointment.ended_at < until)
    return stmt.order_by(Appointment.ended_at.desc())
