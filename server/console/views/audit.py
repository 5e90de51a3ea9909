"""The audit trail on the console (R19): who changed what, when, from which device — for one job (its
page, beside the board's panel) and for one household (on the household file).

Entries come from ``server.audit.service`` (company-scoped); what each role may see of a change is the
API's rule (``visible_changes``: secrets hidden, identifiers masked for everyone but admins).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import g, render_template

from server.audit.service import JOB_CHILDREN, household_audit_query, visible_changes
from server.console import bp
from server.console.frame import fmt_datetime
from server.console.session import console_login_required
from server.customers.models import Customer
from server.db import AuditEntry
from server.extensions import db
from server.followups.models import FollowUpTask
from server.jobs import service, sla
from server.jobs.models import Job
from server.people.models import Technician
from server.reports.service import latest_report
from server.visits.daily_close import DONE

LIMIT = 100


@dataclass(frozen=True)
class TrailEntry:
    """One audit entry as the console shows it."""

    entry: AuditEntry
    changes: dict[str, Any]


def _readable(value: Any, names: dict[str, str]) -> Any:
    """A stored value as people read it: times in the company's zone, a technician by name."""
    if isinstance(value, str):
        if value in names:
            return names[value]
        if len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
            try:
                when = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
            return fmt_datetime(when) if when.tzinfo else value
    return value


def _shown(stmt: sa.Select) -> tuple[list[TrailEntry], int]:
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    entries = list(db.session.execute(stmt.limit(LIMIT)).scalars())
    named = {v for e in entries for k, pair in (e.changes or {}).items() if k == "technician_id"
             for v in (pair if isinstance(pair, list) else []) if v}
    names = {str(tid): f"{name} {staff_no}" for tid, name, staff_no in db.session.execute(
        sa.select(Technician.id, Technician.name, Technician.staff_no)
        .where(Technician.company_id == g.user.company_id, Technician.id.in_([uuid.UUID(v) for v in named]))
    )} if named else {}
    trail = []
    for entry in entries:
        changes = visible_changes(entry.changes, g.user.role)
        trail.append(TrailEntry(entry, {k: [_readable(v, names) for v in pair] if isinstance(pair, list) else pair
                                        for k, pair in changes.items()}))
    return trail, total


def job_row_ids(job: Job) -> set[str]:
    """The job and every row its visit produced (window history, hazards, quotes, signatures, fees…)."""
    ids: set[uuid.UUID] = {job.id}
    for model in (*JOB_CHILDREN, FollowUpTask):
        ids.update(db.session.execute(sa.select(model.id).where(model.job_id == job.id)).scalars())
    return {str(i) for i in ids}


def job_trail(job: Job) -> tuple[list[TrailEntry], int]:
    """The job's audit trail, newest first (at most ``LIMIT`` entries, and how many there are)."""
    return _shown(
        sa.select(AuditEntry)
        .where(AuditEntry.company_id == job.company_id, AuditEntry.entity_id.in_(job_row_ids(job)))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )


def household_trail(customer: Customer) -> tuple[list[TrailEntry], int]:
    """Every change to one household's file, newest first (at most ``LIMIT``)."""
    return _shown(household_audit_query(customer))


@bp.route("/jobs/<uuid:job_id>")
@console_login_required
def job_page(job_id: uuid.UUID):
    """One job: its facts, its service report (once completed) and its audit trail."""
    job = service.get_job(g.user.company_id, job_id)
    trail, total = job_trail(job)
    return render_template(
        "console/job.html", job=job, clocks=sla.job_clocks(job), trail=trail, trail_total=total, limit=LIMIT,
        completed=job.status in DONE, report=latest_report(job) if job.status in DONE else None,
    )
