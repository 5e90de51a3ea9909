"""Organisation: group → region → company → service centre."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, CompanyScoped, Timestamped, UUIDPrimaryKey


class Group(UUIDPrimaryKey, Timestamped, Base):
    """The group of city gas companies (集团)."""

    __tablename__ = "company_group"
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)


class Region(UUIDPrimaryKey, Timestamped, Base):
    """A region of the group (大区)."""

    __tablename__ = "region"
    group_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("company_group.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))


class Company(UUIDPrimaryKey, Timestamped, Base):
    """A city gas company: the unit of data ownership, time zone and working calendar."""

    __tablename__ = "company"
    region_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    # R7: inspection intervals in months per customer category; a local authority may be stricter.
    inspection_interval_months: Mapped[dict] = mapped_column(
        default=lambda: {"residential": 12, "commercial": 6, "industrial": 6, "heating": 6}
    )
    # Days ahead of today that a technician's tablet holds (sync scope).
    sync_days_ahead: Mapped[int] = mapped_column(default=2)
    region: Mapped[Region | None] = relationship()


class ServiceCentre(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A service centre of a company (服务中心): dispatchers and technicians work from one."""

    __tablename__ = "service_centre"
    name: Mapped[str] = mapped_column(sa.String(120))
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
