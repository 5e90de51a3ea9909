"""Technicians with staff number (工号), skills and certifications with expiry (R5, R14)."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, CompanyScoped, Synced, Timestamped, UUIDPrimaryKey


class Technician(Synced, Base):
    """A field technician: shown to the customer by name and staff number on the tablet (R5)."""

    __tablename__ = "technician"
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id"), unique=True)
    service_centre_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("service_centre.id"), index=True)
    staff_no: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(80))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    # Skills the router matches against a job's needs, e.g. ["inspection", "repair", "meter"].
    skills: Mapped[list] = mapped_column(default=list)
    # Where the technician's day starts and ends, and the shift in the company's local time.
    start_lat: Mapped[float | None] = mapped_column(sa.Float)
    start_lon: Mapped[float | None] = mapped_column(sa.Float)
    shift_start: Mapped[dt.time] = mapped_column(sa.Time, default=dt.time(8, 30))
    shift_end: Mapped[dt.time] = mapped_column(sa.Time, default=dt.time(17, 30))
    active: Mapped[bool] = mapped_column(default=True)
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="technician", order_by="Certification.expires_on"
    )

    __table_args__ = (
        sa.Index("ix_technician_company_version", "company_id", "version"),
        sa.UniqueConstraint("company_id", "staff_no", name="uq_technician_company_staff_no"),
    )


class Certification(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A qualification a technician holds until it expires (R14): jobs needing it check it."""

    __tablename__ = "certification"
    technician_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("technician.id"), index=True)
    # A code such as "gas_safety", "pressure_work", "meter_work", "complaint_handling".
    kind: Mapped[str] = mapped_column(sa.String(40))
    number: Mapped[str] = mapped_column(sa.String(60), default="")
    issued_on: Mapped[dt.date] = mapped_column(sa.Date)
    expires_on: Mapped[dt.date] = mapped_column(sa.Date)
    technician: Mapped[Technician] = relationship(back_populates="certifications")

    def valid_on(self, day: dt.date) -> bool:
        """Whether the certification covers ``day``."""
        return self.issued_on <= day <= self.expires_on
