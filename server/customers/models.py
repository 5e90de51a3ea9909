"""Customers, contacts, premises, meters and appliances (R11, R12, R15)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, Synced, enum_type


class CustomerCategory(enum.StrEnum):
    """Customer category; it sets the inspection interval (R7)."""

    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"
    HEATING = "heating"


class MeterStatus(enum.StrEnum):
    """A meter's life."""

    ACTIVE = "active"
    FAULTY = "faulty"
    REMOVED = "removed"


class Customer(Synced, Base):
    """A household or business with its gas account (the household file, R12)."""

    __tablename__ = "customer"
    account_no: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(120))
    category: Mapped[CustomerCategory] = mapped_column(enum_type(CustomerCategory))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    id_number: Mapped[str] = mapped_column(sa.String(40), default="")  # personal data: never synced to tablets
    special_care: Mapped[bool] = mapped_column(default=False)  # R11
    special_care_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    premises: Mapped[list[Premises]] = relationship(back_populates="customer", order_by="Premises.address")
    contacts: Mapped[list[CustomerContact]] = relationship(back_populates="customer")

    __table_args__ = (
        sa.Index("ix_customer_company_version", "company_id", "version"),
        sa.UniqueConstraint("company_id", "account_no", name="uq_customer_company_account_no"),
    )


class CustomerContact(Synced, Base):
    """Another person to call about a customer (a relative of an elderly customer, a site manager)."""

    __tablename__ = "customer_contact"
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    phone: Mapped[str] = mapped_column(sa.String(40))
    relation: Mapped[str] = mapped_column(sa.String(40), default="")
    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Premises(Synced, Base):
    """A place gas is supplied to: address and coordinates for routing."""

    __tablename__ = "premises"
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(255))
    district: Mapped[str] = mapped_column(sa.String(60), default="")
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    access_notes: Mapped[str] = mapped_column(sa.String(255), default="")
    customer: Mapped[Customer] = relationship(back_populates="premises")
    meters: Mapped[list[Meter]] = relationship(back_populates="premises")
    appliances: Mapped[list[Appliance]] = relationship(back_populates="premises")


class Meter(Synced, Base):
    """A gas meter with its mandatory verification (检定) due date (R15)."""

    __tablename__ = "meter"
    premises_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    serial: Mapped[str] = mapped_column(sa.String(60))
    model: Mapped[str] = mapped_column(sa.String(60), default="")
    kind: Mapped[str] = mapped_column(sa.String(40), default="diaphragm")
    installed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    calibration_due_on: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    status: Mapped[MeterStatus] = mapped_column(
        enum_type(MeterStatus), default=MeterStatus.ACTIVE
    )
    last_reading: Mapped[float | None] = mapped_column(sa.Float)
    last_read_at: Mapped[dt.datetime | None] = mapped_column()
    premises: Mapped[Premises] = relationship(back_populates="meters")


class Appliance(Synced, Base):
    """A gas appliance at the premises (stove, water heater, wall boiler…)."""

    __tablename__ = "appliance"
    premises_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    brand: Mapped[str] = mapped_column(sa.String(60), default="")
    model: Mapped[str] = mapped_column(sa.String(60), default="")
    installed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    premises: Mapped[Premises] = relationship(back_populates="appliances")
