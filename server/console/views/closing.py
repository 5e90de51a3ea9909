"""The daily close and the month reconciliation (日清日结月对账, R17) on the console, and each visit's
service report PDF (R18) downloaded from it.

The figures come from ``server.visits.daily_close`` (the API's own functions); this module adds the
day's visit list, so every fee can be traced to its job, quote and report.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Response, g, render_template, request
from sqlalchemy.orm import selectinload

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role
from server.console.forms import parse_day
from server.console.frame import company, refusal
from server.console.session import console_login_required
from server.errors import ApiError
from server.extensions import db
from server.jobs.calendar import local_day_bounds
from server.jobs.models import Job
from server.jobs.service import owned
from server.org.service import company_today
from server.reports import service as reports
from server.reports.schemas import MonthArgsSchema
from server.visits.daily_close import DONE, daily_close, month_close, parse_month
from server.visits.models import FeeCollection, Quote, QuoteStatus

CLOSERS = (Role.DISPATCHER,)  # as GET /api/v1/daily-close and /daily-close/month
REPORT_READERS = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)  # as GET /api/v1/jobs/<id>/report.pdf
VISIT_LIMIT = 300


@dataclass
class DayVisit:
    """A job with money collected on the day or completed on it: what was taken, against what quote."""

    job: Job
    collected_cents: int = 0
    methods: list[str] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    approved_cents: int | None = None
    discrepancies: list[str] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.job.status in DONE


def day_visits(company_id: uuid.UUID, day: dt.date, problems: dict[uuid.UUID, list[str]]) -> list[DayVisit]:
    """The day's visits with fees or a completion, by technician and reference."""
    start, end = local_day_bounds(company_id, day, day)
    fees = db.session.execute(
        sa.select(FeeCollection).where(FeeCollection.company_id == company_id, FeeCollection.deleted.is_(False),
                                       FeeCollection.collected_at >= start, FeeCollection.collected_at < end)
        .order_by(FeeCollection.collected_at).limit(VISIT_LIMIT)
    ).scalars().all()
    job_ids = {f.job_id for f in fees} | set(db.session.execute(
        sa.select(Job.id).where(Job.company_id == company_id, Job.deleted.is_(False), Job.status.in_(DONE),
                                Job.completed_at >= start, Job.completed_at < end).limit(VISIT_LIMIT)
    ).scalars()) | set(problems)
    if not job_ids:
        return []
    jobs = db.session.execute(
        sa.select(Job).where(Job.id.in_(job_ids)).options(selectinload(Job.customer), selectinload(Job.technician))
    ).scalars().all()
    visits = {job.id: DayVisit(job, discrepancies=problems.get(job.id, [])) for job in jobs}
    for fee in fees:
        visit = visits[fee.job_id]
        visit.collected_cents += fee.amount_cents
        visit.methods.append(fee.method)
        if fee.receipt_no:
            visit.receipts.append(fee.receipt_no)
    for job_id, total in db.session.execute(
        sa.select(Quote.job_id, sa.func.sum(Quote.total_cents))
        .where(Quote.job_id.in_(job_ids), Quote.status == QuoteStatus.APPROVED, Quote.deleted.is_(False))
        .group_by(Quote.job_id)
    ):
        visits[job_id].approved_cents = int(total)
    return sorted(visits.values(), key=lambda v: (bool(not v.discrepancies),
                                                  v.job.technician.name if v.job.technician else "", v.job.ref))


@bp.route("/daily-close")
@console_login_required
@require_role(*CLOSERS)
def daily_close_page():
    """One local day: takings per technician, reconciled with approved quotes; every discrepancy."""
    today = company_today(company())
    day = parse_day(request.args.get("d"), today)
    close = daily_close(g.user.company_id, day)
    problems: dict[uuid.UUID, list[str]] = {}
    for line in close.technicians:
        for d in line.discrepancies:
            problems.setdefault(d.job_id, []).append(d.kind)
    return render_template(
        "console/daily_close.html", close=close, day=day, today=today,
        visits=day_visits(g.user.company_id, day, problems), month=day.strftime("%Y-%m"),
    )


@bp.route("/daily-close/month")
@console_login_required
@require_role(*CLOSERS)
def month_close_page():
    """The month reconciliation: per-day totals, per-technician totals, every discrepancy."""
    error = None
    try:
        raw = load(MonthArgsSchema(), {"month": request.args.get("month") or None}).get("month")
        first = parse_month(g.user.company_id, raw)
    except ApiError as refused:
        error = refusal(refused)
        first = parse_month(g.user.company_id, None)
    month = month_close(g.user.company_id, first)
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    return render_template(
        "console/month_close.html", month=month, first=first, prev_month=prev_month, next_month=next_month,
        error=error, today=company_today(company()),
    ), (error["status"] if error else 200)


@bp.route("/jobs/<uuid:job_id>/report.pdf")
@console_login_required
@require_role(*REPORT_READERS)
def report_pdf(job_id: uuid.UUID):
    """The visit's service report (R18), made from the synced data as it stands (409 before completion)."""
    job = owned(Job, g.user.company_id, job_id, "job")
    made = reports.generate_service_report(job, user_id=g.user.id)
    sha = made.record.sha256
    db.session.commit()
    return Response(made.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="service-report-{job.ref}.pdf"',
        "ETag": f'"{sha}"', "X-Report-SHA256": sha, "Cache-Control": "no-store",
    })
