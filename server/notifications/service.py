"""The notification outbox (R2, R13): queue a message, send queued ones through an adapter, retry.

Queueing is part of the business transaction that causes it (a rescheduled window, an outage), so
the message exists exactly when the change does. Sending happens later, outside that transaction,
through a ``NotificationSender`` adapter (an SMS gateway in production; ``RecordingSender`` in the
demo and the tests). A failed send is retried on later runs with a growing pause, and given up
(``failed``, with the error) after ``max_attempts``: the office then phones the customer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.customers.models import Customer, Premises
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.notifications.models import Notification, NotificationStatus, OutageNotice
from server.org.models import Company

MAX_ATTEMPTS = 5
FIRST_RETRY_PAUSE = dt.timedelta(minutes=1)  # doubled after every failed attempt
MAX_BODY = 500
ERROR_LENGTH = 255


class SendError(Exception):
    """A sender could not deliver a message (the text is kept on the notification)."""


class NotificationSender(Protocol):
    """Delivers one notification (SMS, phone robot, WeChat). Raises SendError when it cannot."""

    def send(self, notification: Notification) -> None:
        """Deliver the message or raise SendError."""


@dataclass(frozen=True)
class SentMessage:
    """What the recording sender delivered."""

    notification_id: uuid.UUID
    channel: str
    recipient: str
    body: str


@dataclass
class RecordingSender:
    """The demo adapter: delivers nothing, records every message; ``failing`` recipients raise SendError."""

    failing: set[str] = field(default_factory=set)
    sent: list[SentMessage] = field(default_factory=list)

    def send(self, notification: Notification) -> None:
        """Record the message (or fail for a recipient listed in ``failing``)."""
        if notification.recipient in self.failing:
            raise SendError(f"gateway refused {notification.recipient}")
        self.sent.append(
            SentMessage(notification.id, notification.channel, notification.recipient, notification.body)
        )


@dataclass(frozen=True)
class DispatchSummary:
    """What one run of ``dispatch_notifications`` did."""

    sent: int
    retrying: int
    failed: int


def customer_recipient(customer: Customer) -> str:
    """The number to message: the customer's own phone, else a contact's."""
    if customer.phone:
        return customer.phone
    return next((c.phone for c in customer.contacts if c.phone and not c.deleted), "")


def queue_notification(
    company_id: uuid.UUID,
    *,
    kind: str,
    body: str,
    customer: Customer | None = None,
    job_id: uuid.UUID | None = None,
    recipient: str | None = None,
    channel: str = "sms",
    notice_minutes: int | None = None,
) -> Notification:
    """Put a message in the outbox (flushed, not committed: it commits with the change that caused it).

    The recipient defaults to the customer's phone (or a contact's). With nobody to send to, the
    notification is stored as ``failed`` straight away so the office sees it and calls another way.
    """
    body = body.strip()
    if not body:
        raise field_error("body", "a notification needs a text")
    if len(body) > MAX_BODY:
        raise field_error("body", f"at most {MAX_BODY} characters")
    if customer is not None and customer.company_id != company_id:
        raise ValueError("the customer belongs to another company")
    to = (recipient if recipient is not None else customer_recipient(customer) if customer else "").strip()
    note = Notification(
        id=uuid.uuid4(), company_id=company_id, customer_id=customer.id if customer else None, job_id=job_id,
        channel=channel, kind=kind, recipient=to, body=body, notice_minutes=notice_minutes,
        status=NotificationStatus.QUEUED if to else NotificationStatus.FAILED,
        error="" if to else "no phone number on file",
    )
    db.session.add(note)
    db.session.flush()
    return note


def _due_for_retry(note: Notification, now: dt.datetime) -> bool:
    if note.attempts == 0:
        return True
    pause = FIRST_RETRY_PAUSE * (2 ** (note.attempts - 1))
    return note.updated_at + pause <= now


def dispatch_notifications(
    sender: NotificationSender,
    *,
    company_id: uuid.UUID | None = None,
    limit: int = 200,
    max_attempts: int = MAX_ATTEMPTS,
    now: dt.datetime | None = None,
) -> DispatchSummary:
    """Send queued notifications (oldest first) and commit each result.

    Each message is committed on its own right after its send, so a crash mid-run resends at most the
    one message in flight. Rows are locked with SKIP LOCKED on PostgreSQL so two runs never send the
    same message twice.
    """
    now = now or utcnow()
    stmt = sa.select(Notification).where(Notification.status == NotificationStatus.QUEUED)
    if company_id is not None:
        stmt = stmt.where(Notification.company_id == company_id)
    stmt = stmt.order_by(Notification.created_at, Notification.id).limit(limit)
    sent = retrying = failed = 0
    ids = [n.id for n in db.session.execute(stmt).scalars() if _due_for_retry(n, now)]
    db.session.commit()
    for ident in ids:
        note = db.session.execute(
            sa.select(Notification).where(Notification.id == ident, Notification.status == NotificationStatus.QUEUED)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if note is None:  # another run took it meanwhile
            db.session.rollback()
            continue
        note.attempts += 1
        try:
            sender.send(note)
        except Exception as exc:  # any adapter failure is recorded, never fatal to the run
            note.error = f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
            if note.attempts >= max_attempts:
                note.status = NotificationStatus.FAILED
                failed += 1
            else:
                retrying += 1
        else:
            note.status = NotificationStatus.SENT
            note.sent_at = now
            note.error = ""
            sent += 1
        note.updated_at = now
        db.session.commit()
    return DispatchSummary(sent=sent, retrying=retrying, failed=failed)


def notifications_query(company_id: uuid.UUID, filters: dict) -> sa.Select:
    """The company's notifications, newest first; filters: status, kind, customer_id, job_id."""
    stmt = sa.select(Notification).where(Notification.company_id == company_id)
    if filters.get("status"):
        stmt = stmt.where(Notification.status.in_(filters["status"]))
    if filters.get("kind"):
        stmt = stmt.where(Notification.kind == filters["kind"])
    for key in ("customer_id", "job_id"):
        if filters.get(key):
            stmt = stmt.where(getattr(Notification, key) == filters[key])
    return stmt.order_by(Notification.created_at.desc(), Notification.id)


# --- outage notices (R13) ------------------------------------------------------------------------


def _outage_text(company: Company, notice: OutageNotice) -> str:
    zone = ZoneInfo(company.timezone)
    start, end = notice.starts_at.astimezone(zone), notice.ends_at.astimezone(zone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%m月%d日 %H:%M}"
    area = f"（{notice.area_description}）" if notice.area_description else ""
    reason = f"原因：{notice.reason}。" if notice.reason else ""
    return (
        f"【{company.name}】计划停气通知：{notice.district}{area}将于{start:%m月%d日 %H:%M}至{until}停止供气。"
        f"{reason}请提前做好准备，恢复供气前请关闭燃气阀门。"
    )


def create_outage_notice(
    company_id: uuid.UUID,
    *,
    district: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    area_description: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> tuple[OutageNotice, int]:
    """Announce a planned outage of a district (R13) and queue a message to every customer there.

    Returns the notice and how many notifications were queued. The outage must lie in the future
    (it is announced in advance) and end after it starts. Technicians see the notice through sync:
    it is a synced row of the company, and the sync scope includes notices of their districts.
    """
    now = now or utcnow()
    district = district.strip()
    if not district:
        raise field_error("district", "name the district")
    if starts_at <= now:
        raise field_error("starts_at", "a planned outage is announced in advance: the start must be in the future")
    if ends_at <= starts_at:
        raise field_error("ends_at", "must be after starts_at")
    company = db.session.get(Company, company_id)
    if company is None:
        raise ApiError(404, "not_found", f"company {company_id} not found")
    notice = OutageNotice(
        id=uuid.uuid4(), company_id=company_id, district=district, area_description=area_description.strip(),
        starts_at=starts_at, ends_at=ends_at, reason=reason.strip(), announced_at=now,
    )
    db.session.add(notice)
    customers = db.session.execute(
        sa.select(Customer)
        .where(
            Customer.company_id == company_id,
            Customer.deleted.is_(False),
            sa.select(Premises.id)
            .where(Premises.customer_id == Customer.id, Premises.district == district, Premises.deleted.is_(False))
            .exists(),
        )
        .order_by(Customer.account_no)
    ).scalars().all()
    body = _outage_text(company, notice)
    for customer in customers:
        queue_notification(company_id, kind="outage", body=body, customer=customer)
    db.session.flush()
    return notice, len(customers)


def outages_query(company_id: uuid.UUID, filters: dict, now: dt.datetime | None = None) -> sa.Select:
    """The company's outage notices, soonest first; ``district``, ``current`` (not yet ended) filters."""
    now = now or utcnow()
    stmt = sa.select(OutageNotice).where(OutageNotice.company_id == company_id, OutageNotice.deleted.is_(False))
    if filters.get("district"):
        stmt = stmt.where(OutageNotice.district == filters["district"])
    if "current" in filters:
        stmt = stmt.where(OutageNotice.ends_at > now if filters["current"] else OutageNotice.ends_at <= now)
    return stmt.order_by(OutageNotice.starts_at, OutageNotice.id)


def outages_for_districts(
    company_id: uuid.UUID, districts: set[str], now: dt.datetime | None = None
) -> list[OutageNotice]:
    """Outages not yet over in any of ``districts``: what a technician working there should see."""
    if not districts:
        return []
    now = now or utcnow()
    return list(
        db.session.execute(
            sa.select(OutageNotice)
            .where(
                OutageNotice.company_id == company_id, OutageNotice.deleted.is_(False),
                OutageNotice.district.in_(districts), OutageNotice.ends_at > now,
            )
            .order_by(OutageNotice.starts_at)
        ).scalars()
    )
