"""Follow-up tasks with the call outcome and the customer's satisfaction."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, CompanyScoped, Timestamped, UUIDPrimaryKey, enum_type


class FollowUpStatus(enum.StrEnum):
    """Whether the call was made."""

    OPEN = "open"
    DONE = "done"
    UNREACHABLE = "unreachable"


class FollowUpTask(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A call customer service owes a customer after a visit or a complaint (R6)."""

    __tablename__ = "follow_up_task"
    job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("job.id"), index=True)
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # visit_quality | repair | complaint
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
    status: Mapped[FollowUpStatus] = mapped_column(enum_type(FollowUpStatus), default=FollowUpStatus.OPEN)
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id"))
    outcome: Mapped[str] = mapped_column(sa.Text, default="")
    satisfaction: Mapped[int | None] = mapped_column()  # 1–5
    done_at: Mapped[dt.datetime | None] = mapped_column()

    customer = relationship("Customer")
    job = relationship("Job")
