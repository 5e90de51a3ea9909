"""Users and their API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, CompanyScoped, Timestamped, UUIDPrimaryKey, enum_type


class Role(enum.StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    CUSTOMER_SERVICE = "customer_service"


class User(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A person who signs in: admin, dispatcher, technician or customer-service staff."""

    __tablename__ = "app_user"
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    service_centre_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("service_centre.id"))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()


class ApiToken(UUIDPrimaryKey, Timestamped, Base):
    """A bearer token; only its SHA-256 is stored. Expires, and can be revoked (a lost tablet)."""

    __tablename__ = "api_token"
    __audited__ = False
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    device_id: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    user: Mapped[User] = relationship()
