"""Work orders and what they are agreed and measured against (R1, R2, R8, R9, R10)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, CompanyScoped, Synced, Timestamped, UUIDPrimaryKey, enum_type
from sync.domain.jobs import JobStatus


class JobType(enum.StrEnum):
    """What kind of visit a job is."""

    SAFETY_INSPECTION = "safety_inspection"
    REPAIR = "repair"
    METER_WORK = "meter_work"
    INSTALLATION = "installation"
    COMPLAINT_VISIT = "complaint_visit"
    HAZARD_RECTIFICATION = "hazard_rectification"
    EMERGENCY = "emergency"  # gas smell, leak: a technician is sent at once (R8)


class JobSource(enum.StrEnum):
    """Where a job came from."""

    HOTLINE = "hotline"
    INSPECTION_PLAN = "inspection_plan"
    HAZARD_FOLLOW_UP = "hazard_follow_up"
    METER_DUE = "meter_due"
    COMPLAINT = "complaint"
    OFFICE = "office"


class Priority(enum.IntEnum):
    """Lower is more urgent."""

    EMERGENCY = 1
    URGENT = 2
    NORMAL = 3
    LOW = 4


class FaultKind(enum.StrEnum):
    """For repairs: whose equipment failed (R8 sets different clocks)."""

    NETWORK = "network"  # the company's pipes: respond within 6 h, repair within 24 h
    CUSTOMER_EQUIPMENT = "customer_equipment"  # send a technician at once


class Job(Synced, Base):
    """A work order: what to do, where, for whom, by whom, when, and where it stands."""

    __tablename__ = "job"
    ref: Mapped[str] = mapped_column(sa.String(40))  # human number, e.g. GD-20261127-0042
    job_type: Mapped[JobType] = mapped_column(enum_type(JobType))
    source: Mapped[JobSource] = mapped_column(enum_type(JobSource), default=JobSource.OFFICE)
    priority: Mapped[int] = mapped_column(default=int(Priority.NORMAL))
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.NEW, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    premises_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    service_centre_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("service_centre.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    fault_kind: Mapped[FaultKind | None] = mapped_column(enum_type(FaultKind))
    # Certifications the technician must hold on the day (R14), e.g. ["gas_safety"].
    required_certifications: Mapped[list] = mapped_column(default=list)
    required_skills: Mapped[list] = mapped_column(default=list)
    duration_minutes: Mapped[int] = mapped_column(default=45)
    chargeable: Mapped[bool] = mapped_column(default=False)
    # Plan (owned by dispatch): assignee, agreed window (copied from the active appointment), route.
    technician_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("technician.id"), index=True)
    window_start: Mapped[dt.datetime | None] = mapped_column(index=True)
    window_end: Mapped[dt.datetime | None] = mapped_column()
    route_order: Mapped[int | None] = mapped_column()
    planned_eta: Mapped[dt.datetime | None] = mapped_column()
    # SLA clocks (R8 repairs; R9 hotline answers; R10 complaints via the complaint row).
    respond_by: Mapped[dt.datetime | None] = mapped_column()
    fix_by: Mapped[dt.datetime | None] = mapped_column()
    # Facts captured on site (owned by the device; set once).
    eta: Mapped[dt.datetime | None] = mapped_column()  # latest "running late" ETA
    en_route_at: Mapped[dt.datetime | None] = mapped_column()
    arrived_at: Mapped[dt.datetime | None] = mapped_column()
    work_started_at: Mapped[dt.datetime | None] = mapped_column()
    completed_at: Mapped[dt.datetime | None] = mapped_column()
    departed_at: Mapped[dt.datetime | None] = mapped_column()
    could_not_complete_reason: Mapped[str | None] = mapped_column(sa.String(40))
    could_not_complete_note: Mapped[str] = mapped_column(sa.Text, default="")
    satisfaction: Mapped[int | None] = mapped_column()
    # Links.
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("complaint.id"))
    service_call_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("service_call.id"))
    meter_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("meter.id"))
    cancelled_reason: Mapped[str] = mapped_column(sa.String(200), default="")

    customer = relationship("Customer")
    premises = relationship("Premises")
    technician = relationship("Technician")

    __table_args__ = (
        sa.Index("ix_job_company_version", "company_id", "version"),
        sa.Index("ix_job_technician_window", "technician_id", "window_start"),
        sa.UniqueConstraint("company_id", "ref", name="uq_job_company_ref"),
    )


class AppointmentStatus(enum.StrEnum):
    """An agreed window is active until changed or cancelled."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class Appointment(Synced, Base):
    """A time window agreed with the customer (R1). A change less than 2 h before it breaches R2."""

    __tablename__ = "appointment"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    window_start: Mapped[dt.datetime] = mapped_column()
    window_end: Mapped[dt.datetime] = mapped_column()
    status: Mapped[AppointmentStatus] = mapped_column(enum_type(AppointmentStatus), default=AppointmentStatus.ACTIVE)
    agreed_with: Mapped[str] = mapped_column(sa.String(80), default="")
    agreed_at: Mapped[dt.datetime] = mapped_column()
    # When this appointment was changed or cancelled: how long before its window, and whether that
    # was less than the 2 hours R2 requires (a breach the console reports).
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    end_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    notice_minutes: Mapped[int | None] = mapped_column()
    short_notice: Mapped[bool] = mapped_column(default=False)

    job = relationship("Job")


class CallCategory(enum.StrEnum):
    """What a hotline call is about (R9)."""

    QUESTION = "question"  # answered within 4 h
    SPECIAL = "special"  # answered within 24 h
    REPAIR = "repair"
    EMERGENCY = "emergency"
    COMPLAINT = "complaint"


class ServiceCall(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A call to the 24-hour hotline; each becomes an accurate work order or an answered question (R9)."""

    __tablename__ = "service_call"
    received_at: Mapped[dt.datetime] = mapped_column()
    caller_name: Mapped[str] = mapped_column(sa.String(80))
    caller_phone: Mapped[str] = mapped_column(sa.String(40))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    category: Mapped[CallCategory] = mapped_column(enum_type(CallCategory))
    reason: Mapped[str] = mapped_column(sa.Text)
    answer_by: Mapped[dt.datetime] = mapped_column()
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    result: Mapped[str] = mapped_column(sa.Text, default="")
    taken_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id"))


class ComplaintStatus(enum.StrEnum):
    """A complaint's progress (R10)."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Complaint(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A complaint: answered within 5 working days unless an extension is agreed (R10).

    The complainant's details stay here, on the server: a complaint visit's job on a tablet carries
    none of them when ``confidential`` is set.
    """

    __tablename__ = "complaint"
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column()
    channel: Mapped[str] = mapped_column(sa.String(20), default="hotline")
    complainant_name: Mapped[str] = mapped_column(sa.String(80))
    complainant_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    summary: Mapped[str] = mapped_column(sa.String(255))
    details: Mapped[str] = mapped_column(sa.Text, default="")
    confidential: Mapped[bool] = mapped_column(default=True)
    # Staff with a direct interest in the complaint must not handle it (R10).
    involved_technician_ids: Mapped[list] = mapped_column(default=list)
    answer_by: Mapped[dt.datetime] = mapped_column()
    extended_until: Mapped[dt.datetime | None] = mapped_column()
    extension_reason: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[ComplaintStatus] = mapped_column(enum_type(ComplaintStatus), default=ComplaintStatus.OPEN)
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    handler_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id"))


class CalendarDay(UUIDPrimaryKey, CompanyScoped, Base):
    """A company's announced exception to the normal week: a holiday, or a weekend made a working day.

    Working days come from the ``holidays`` package (China) for known years; a company enters the
    State Council's announced calendar for a new year here, and these rows override the package.
    """

    __tablename__ = "calendar_day"
    day: Mapped[dt.date] = mapped_column(sa.Date)
    working: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(80), default="")

    __table_args__ = (sa.UniqueConstraint("company_id", "day", name="uq_calendar_day_company_day"),)
