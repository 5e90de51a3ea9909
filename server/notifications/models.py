"""The notification outbox and outage notices."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, CompanyScoped, Synced, Timestamped, UUIDPrimaryKey, enum_type


class NotificationStatus(enum.StrEnum):
    """An outbox entry's delivery state."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class Notification(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A message to a customer (running late, rescheduled, cancelled, outage…), sent by an adapter."""

    __tablename__ = "notification"
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("job.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(20), default="sms")  # sms | phone | wechat
    kind: Mapped[str] = mapped_column(sa.String(30))  # running_late | rescheduled | cancelled | outage | …
    recipient: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_type(NotificationStatus), default=NotificationStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    error: Mapped[str] = mapped_column(sa.String(255), default="")
    # For R2: how long before the appointment window the customer was told (None when not about one).
    notice_minutes: Mapped[int | None] = mapped_column()


class OutageNotice(Synced, Base):
    """A planned outage for network work, announced to the customers of an area in advance (R13)."""

    __tablename__ = "outage_notice"
    district: Mapped[str] = mapped_column(sa.String(60), index=True)
    area_description: Mapped[str] = mapped_column(sa.String(255), default="")
    starts_at: Mapped[dt.datetime] = mapped_column()
    ends_at: Mapped[dt.datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    announced_at: Mapped[dt.datetime | None] = mapped_column()
