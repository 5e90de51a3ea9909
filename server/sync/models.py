"""The server's sync bookkeeping: devices, applied mutations, conflicts and what each device holds."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, CompanyScoped, Timestamped, UUIDPrimaryKey, enum_type, utcnow


class Device(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A tablet, known by the id it made for itself; where its last pull left its scope."""

    __tablename__ = "device"
    __audited__ = False
    device_id: Mapped[str] = mapped_column(sa.String(80))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    technician_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("technician.id"), index=True)
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column()
    # server time − device time (seconds) measured at the last sync; corrects claimed times (R1).
    clock_offset_s: Mapped[float | None] = mapped_column(sa.Float)
    # Set by POST /auth/revoke-device (a lost tablet): the one source of truth for "erase yourself",
    # read by every 401 of its tokens (auth.service) and by sync (sync.service.sync_context).
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    wipe: Mapped[bool] = mapped_column(default=False)
    # The pull page counter: a cursor names the page it came from, so an unapplied page can be undone.
    pull_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    __table_args__ = (sa.UniqueConstraint("company_id", "device_id", name="uq_device_company_device_id"),)


class AppliedMutation(Base):
    """A mutation the server answered: replaying its id returns the stored answer (G2)."""

    __tablename__ = "applied_mutation"
    __audited__ = False
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("company.id"))
    mutation_id: Mapped[str] = mapped_column(sa.String(64))
    device_id: Mapped[str] = mapped_column(sa.String(80))
    # SHA-256 of the canonical mutation: the same id with another payload is refused (mutation_id_reused).
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    collection: Mapped[str] = mapped_column(sa.String(60))
    row_id: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))
    result: Mapped[dict] = mapped_column(default=dict)
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("company_id", "mutation_id", name="uq_applied_mutation_company_mutation_id"),
    )


class ConflictStatus(enum.StrEnum):
    """Whether a person has looked at a conflict yet."""

    OPEN = "open"
    RESOLVED = "resolved"


class ConflictResolution(enum.StrEnum):
    """What the person decided."""

    KEEP_SERVER = "keep_server"
    TAKE_DEVICE = "take_device"
    CUSTOM = "custom"


class SyncConflict(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """Two parties changed the same thing; a rule decided and the losing value is kept here (G6)."""

    __tablename__ = "sync_conflict"
    collection: Mapped[str] = mapped_column(sa.String(60))
    row_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    field: Mapped[str] = mapped_column(sa.String(60))
    server_value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    device_value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    rule: Mapped[str] = mapped_column(sa.String(60))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    # Who must look at it: a role ("dispatcher") and, when known, the job it is about.
    assignee_role: Mapped[str] = mapped_column(sa.String(30), default="dispatcher")
    job_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    device_id: Mapped[str | None] = mapped_column(sa.String(80))
    technician_id: Mapped[uuid.UUID | None] = mapped_column()
    mutation_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[ConflictStatus] = mapped_column(enum_type(ConflictStatus), default=ConflictStatus.OPEN)
    resolution: Mapped[ConflictResolution | None] = mapped_column(enum_type(ConflictResolution))
    resolved_value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    resolution_note: Mapped[str] = mapped_column(sa.Text, default="")
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (sa.Index("ix_sync_conflict_company_status", "company_id", "status", "created_at"),)


class DeviceScope(Base):
    """One row a device holds (or held): the version it was sent, and the pull page that sent it.

    Rows the device was told to drop stay with ``held`` false, so a late change from that device to
    a job reassigned away is recognised as its own (G8) rather than a forged id (G7). ``prev_*`` keep
    the state before the last served page, which is undone when the device shows it never applied it.
    """

    __tablename__ = "device_scope"
    __audited__ = False
    device_pk: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("device.id"), primary_key=True)
    collection: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    held: Mapped[bool] = mapped_column(default=True)
    version_sent: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    prev_held: Mapped[bool] = mapped_column(default=False)
    prev_version: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    # The incremental pull looks rows up by id across collections.
    __table_args__ = (sa.Index("ix_device_scope_device_row", "device_pk", "row_id"),)
