"""Checklist templates (versioned, typed items with conditions) and answers."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Synced


class ChecklistTemplate(Synced, Base):
    """One published version of a checklist. A new version is a new row; answers keep the one they used.

    ``items`` is a list of item definitions (validated by the checklist schemas), each::

        {"key": "leak_test", "label": "燃气泄漏检测", "label_en": "Gas leak test",
         "type": "pass_fail_na" | "number" | "text" | "choice" | "photo",
         "required": true, "unit": "kPa", "min": 1.8, "max": 2.5,        # numbers
         "options": [{"value": "ok", "label": "…"}],                      # choices
         "condition": {"key": "has_water_heater", "equals": "pass"},    # shown only when…
         "hazard_on_fail": "major"}                                      # a failed/out-of-limit answer suggests a hazard
    """

    __tablename__ = "checklist_template"
    code: Mapped[str] = mapped_column(sa.String(60))
    version_no: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120), default="")
    job_type: Mapped[str] = mapped_column(sa.String(30))
    customer_categories: Mapped[list] = mapped_column(default=list)  # empty = every category
    items: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)  # the version new jobs use
    published_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (
        sa.Index("ix_checklist_template_company_version", "company_id", "version"),
        sa.UniqueConstraint("company_id", "code", "version_no", name="uq_checklist_template_code_version"),
    )


class ChecklistAnswer(Synced, Base):
    """One answer to one checklist item on one visit; a correction is a new row that supersedes it."""

    __tablename__ = "checklist_answer"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    template_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("checklist_template.id"))
    item_key: Mapped[str] = mapped_column(sa.String(60))
    value: Mapped[dict] = mapped_column(default=dict)  # {"value": ...}: bool/str/number per item type
    note: Mapped[str] = mapped_column(sa.Text, default="")
    photo_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    answered_at: Mapped[dt.datetime] = mapped_column()  # the device's clock (claimed time)
    technician_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("technician.id"))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("checklist_answer.id"))
