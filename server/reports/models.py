"""What the server remembers of each service report it generated (R18)."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, CompanyScoped, Timestamped, UUIDPrimaryKey, utcnow


class ServiceReport(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """One generated version of a visit's service report: the PDF's SHA-256 and the data it was made from.

    A new row is written only when the bytes differ from the job's latest report, so the rows are
    the history of what the customer could have been given. ``data_sha256`` fingerprints the visit
    data the PDF was rendered from: when the data now hashes differently, the report is stale.
    """

    __tablename__ = "service_report"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data_sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column()
    generator_version: Mapped[str] = mapped_column(sa.String(20))
    generated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    generated_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("app_user.id"))
