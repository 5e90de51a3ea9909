"""The daily close and the month reconciliation (日清日结月对账, R17): money collected on site, per
technician per company-local day, reconciled with the approved quotes it pays.

A fee reconciles when it names a quote of its own job that the customer approved (a live signature
covers the quote's current content, R3) and the money collected against that quote, up to the end of
the period, equals the quote's total. A visit completed in the period with an approved quote and no
money collected at all is a discrepancy too. Everything else is listed for the office to clear.

The day's close judges each quote at the end of that day (a part payment shows as outstanding);
the month's judges it at the end of the month, on the day of its last payment, so a quote paid in
parts within the month reconciles there. Totals are SQL aggregates; the reconciliation reads the
period's fees, since the approval check recomputes each quote's content hash (``annotate_quotes``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.errors import field_error
from server.extensions import db
from server.jobs.calendar import company_zone, local_date, local_day_bounds
from server.jobs.models import Job
from server.people.models import Technician
from server.visits.models import FeeCollection, Quote, QuoteStatus
from server.visits.service import annotate_quotes
from sync.domain.jobs import JobStatus

NO_TECHNICIAN = "（未记录技师 no technician recorded）"
DONE = (JobStatus.COMPLETED, JobStatus.CLOSED)


@dataclass(frozen=True)
class Discrepancy:
    """Money that does not reconcile: ``no_quote``, ``other_job_quote``, ``not_approved``,
    ``amount_differs`` or ``not_collected``."""

    kind: str
    day: dt.date
    job_id: uuid.UUID
    job_ref: str
    technician_id: uuid.UUID | None
    collected_cents: int
    approved_cents: int | None
    message: str


@dataclass
class TechnicianClose:
    """One technician's takings of the day."""

    technician_id: uuid.UUID | None
    technician_name: str
    collections: int = 0
    total_cents: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)


@dataclass
class DailyClose:
    """The company's close of one day."""

    day: dt.date
    total_cents: int
    reconciled: bool
    technicians: list[TechnicianClose]


def _yuan(cents: int) -> str:
    return f"¥{cents / 100:,.2f}"


def _names(company_id: uuid.UUID) -> dict[uuid.UUID, tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Technician.id, Technician.name, Technician.staff_no).where(Technician.company_id == company_id)
    ).all()
    return {tid: (name, staff_no) for tid, name, staff_no in rows}


def reconcile(company_id: uuid.UUID, start: dt.datetime, end: dt.datetime) -> list[Discrepancy]:
    """Every discrepancy of the fees collected and visits completed in UTC [start, end)."""
    zone = company_zone(company_id)
    fees = db.session.execute(
        sa.select(FeeCollection.job_id, FeeCollection.quote_id, FeeCollection.technician_id,
                  FeeCollection.amount_cents, FeeCollection.method, FeeCollection.receipt_no,
                  FeeCollection.collected_at)
        .where(FeeCollection.company_id == company_id, FeeCollection.deleted.is_(False),
               FeeCollection.collected_at >= start, FeeCollection.collected_at < end)
        .order_by(FeeCollection.collected_at, FeeCollection.id)
    ).all()
    quote_ids = {f.quote_id for f in fees if f.quote_id is not None}
    quotes = {q.id: q for q in annotate_quotes(db.session.execute(
        sa.select(Quote).where(Quote.id.in_(quote_ids), Quote.deleted.is_(False))).scalars().all()
    )} if quote_ids else {}
    # Everything collected against each quote up to the end of the period (a quote may be paid in parts).
    paid = dict(db.session.execute(
        sa.select(FeeCollection.quote_id, sa.func.sum(FeeCollection.amount_cents))
        .where(FeeCollection.quote_id.in_(quote_ids), FeeCollection.deleted.is_(False),
               FeeCollection.collected_at < end)
        .group_by(FeeCollection.quote_id)
    ).all()) if quote_ids else {}
    refs = dict(db.session.execute(
        sa.select(Job.id, Job.ref).where(Job.id.in_({f.job_id for f in fees}))).all()) if fees else {}
    last_payment: dict[uuid.UUID, tuple[dt.date, object]] = {}
    found: list[Discrepancy] = []
    for fee in fees:
        day = fee.collected_at.astimezone(zone).date()
        ref = refs.get(fee.job_id, str(fee.job_id))
        what = f"{_yuan(fee.amount_cents)} ({fee.method}{', ' + fee.receipt_no if fee.receipt_no else ''}) on job {ref}"
        quote = quotes.get(fee.quote_id) if fee.quote_id else None
        problem = None
        if quote is None:
            problem = ("no_quote", f"{what} names no quote")
        elif quote.job_id != fee.job_id:
            problem = ("other_job_quote", f"{what} names a quote of another job")
        elif not quote.approval_valid:
            problem = ("not_approved", f"{what} pays a quote the customer's signature does not cover (R3)")
        if problem is not None:
            found.append(Discrepancy(problem[0], day, fee.job_id, ref, fee.technician_id, fee.amount_cents,
                                     quote.total_cents if quote is not None else None, problem[1]))
        else:
            last_payment[quote.id] = (day, fee)
    for quote_id, (day, fee) in last_payment.items():
        quote, ref = quotes[quote_id], refs.get(fee.job_id, str(fee.job_id))
        collected = int(paid.get(quote_id, 0))
        if collected == quote.total_cents:
            continue
        if collected > quote.total_cents:
            message = f"job {ref}: collected {_yuan(collected)}, more than the approved {_yuan(quote.total_cents)}"
        else:
            message = (f"job {ref}: collected {_yuan(collected)} of the approved {_yuan(quote.total_cents)}; "
                       f"{_yuan(quote.total_cents - collected)} outstanding")
        found.append(Discrepancy("amount_differs", day, fee.job_id, ref, fee.technician_id, collected,
                                 quote.total_cents, message))
    found.extend(_not_collected(company_id, start, end, zone))
    return sorted(found, key=lambda d: (d.day, d.job_ref, d.kind))


def _not_collected(company_id: uuid.UUID, start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> list[Discrepancy]:
    """Visits completed in the period with a quote the customer approved, and no money collected at all."""
    any_fee = sa.exists(sa.select(FeeCollection.id).where(
        FeeCollection.job_id == Job.id, FeeCollection.deleted.is_(False), FeeCollection.collected_at < end))
    approved = sa.exists(sa.select(Quote.id).where(
        Quote.job_id == Job.id, Quote.status == QuoteStatus.APPROVED, Quote.deleted.is_(False)))
    jobs = {j.id: j for j in db.session.execute(
        sa.select(Job).where(Job.company_id == company_id, Job.deleted.is_(False), Job.status.in_(DONE),
                             Job.completed_at >= start, Job.completed_at < end, approved, sa.not_(any_fee))
    ).scalars()}
    if not jobs:
        return []
    quotes = annotate_quotes(db.session.execute(
        sa.select(Quote).where(Quote.job_id.in_(jobs), Quote.status == QuoteStatus.APPROVED,
                               Quote.deleted.is_(False))).scalars().all())
    owed: dict[uuid.UUID, int] = defaultdict(int)
    for quote in quotes:
        if quote.approval_valid:
            owed[quote.job_id] += quote.total_cents
    return [
        Discrepancy("not_collected", jobs[job_id].completed_at.astimezone(zone).date(), job_id, jobs[job_id].ref,
                    jobs[job_id].technician_id, 0, cents,
                    f"job {jobs[job_id].ref}: completed with an approved quote of {_yuan(cents)}; nothing collected")
        for job_id, cents in owed.items()
    ]


def daily_close(company_id: uuid.UUID, day: dt.date) -> DailyClose:
    """Total the fees collected on ``day`` (company-local) per technician and reconcile them (R17)."""
    start, end = local_day_bounds(company_id, day, day)
    totals = db.session.execute(
        sa.select(FeeCollection.technician_id, FeeCollection.method, sa.func.count(),
                  sa.func.sum(FeeCollection.amount_cents))
        .where(FeeCollection.company_id == company_id, FeeCollection.deleted.is_(False),
               FeeCollection.collected_at >= start, FeeCollection.collected_at < end)
        .group_by(FeeCollection.technician_id, FeeCollection.method)
    ).all()
    names = _names(company_id)
    lines: dict[uuid.UUID | None, TechnicianClose] = {}

    def line(tech: uuid.UUID | None) -> TechnicianClose:
        return lines.setdefault(tech, TechnicianClose(tech, names.get(tech, (NO_TECHNICIAN, ""))[0]))

    for tech, method, count, cents in totals:
        entry = line(tech)
        entry.collections += count
        entry.total_cents += int(cents)
        entry.by_method[method] = entry.by_method.get(method, 0) + int(cents)
    for problem in reconcile(company_id, start, end):
        entry = line(problem.technician_id)
        entry.problems.append(problem.message)
        entry.discrepancies.append(problem)
    technicians = sorted(lines.values(), key=lambda t: (t.technician_name, str(t.technician_id)))
    return DailyClose(
        day=day, total_cents=sum(t.total_cents for t in technicians),
        reconciled=not any(t.problems for t in technicians), technicians=technicians,
    )


def parse_month(company_id: uuid.UUID, text: str | None) -> dt.date:
    """The first day of a ``YYYY-MM`` month (the company's current month when omitted)."""
    if not text:
        return local_date(company_id, dt.datetime.now(dt.UTC)).replace(day=1)
    try:
        return dt.date(int(text[:4]), int(text[5:7]), 1)
    except ValueError:
        raise field_error("month", "use YYYY-MM", status=422) from None


def _month_days(first: dt.date) -> list[dt.date]:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [first + dt.timedelta(days=i) for i in range((nxt - first).days)]


def month_close(company_id: uuid.UUID, first: dt.date) -> dict:
    """The month reconciliation: per-day totals, per-technician totals by day, every discrepancy."""
    days = _month_days(first)
    start, end = local_day_bounds(company_id, days[0], days[-1])
    # The company-local day of each fee, in SQL: a CASE over the days' UTC bounds (right whatever the
    # zone's offset rules, and the same on SQLite and PostgreSQL).
    bounds = [local_day_bounds(company_id, d, d)[1] for d in days]
    day_index = sa.case(*((FeeCollection.collected_at < b, i) for i, b in enumerate(bounds)), else_=len(days) - 1)
    rows = db.session.execute(
        sa.select(day_index.label("d"), FeeCollection.technician_id, sa.func.count(),
                  sa.func.sum(FeeCollection.amount_cents))
        .where(FeeCollection.company_id == company_id, FeeCollection.deleted.is_(False),
               FeeCollection.collected_at >= start, FeeCollection.collected_at < end)
        .group_by(day_index, FeeCollection.technician_id)
    ).all()
    problems = reconcile(company_id, start, end)
    names = _names(company_id)
    per_day = {d: {"day": d, "collections": 0, "total_cents": 0, "discrepancies": 0} for d in days}
    techs: dict[uuid.UUID | None, dict] = {}

    def tech_row(tech: uuid.UUID | None) -> dict:
        name, staff_no = names.get(tech, (NO_TECHNICIAN, ""))
        return techs.setdefault(tech, {"technician_id": tech, "technician_name": name, "staff_no": staff_no,
                                       "collections": 0, "total_cents": 0, "by_day": {}, "discrepancies": 0})

    for index, tech, count, cents in rows:
        day = days[int(index)]
        per_day[day]["collections"] += count
        per_day[day]["total_cents"] += int(cents)
        entry = tech_row(tech)
        entry["collections"] += count
        entry["total_cents"] += int(cents)
        entry["by_day"][day.isoformat()] = entry["by_day"].get(day.isoformat(), 0) + int(cents)
    for problem in problems:
        per_day[problem.day]["discrepancies"] += 1
        tech_row(problem.technician_id)["discrepancies"] += 1
    return {
        "month": first.strftime("%Y-%m"), "total_cents": sum(d["total_cents"] for d in per_day.values()),
        "collections": sum(d["collections"] for d in per_day.values()), "reconciled": not problems,
        "days": list(per_day.values()),
        "technicians": sorted(techs.values(), key=lambda t: (t["technician_name"], str(t["technician_id"]))),
        "discrepancies": problems,
    }
