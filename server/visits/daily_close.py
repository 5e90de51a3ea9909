"""The daily close (日清日结, R17): money collected on site, per technician per company-local day,
reconciled with the approved quotes it pays.

A fee reconciles when it names a quote of its own job that the customer approved (a live signature
covers the quote's current content, R3) and the money collected against that quote, up to the end of
the day, equals the quote's total. Everything else is listed as a problem for the office to clear.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from server.extensions import db
from server.jobs.calendar import local_day_bounds
from server.jobs.models import Job
from server.people.models import Technician
from server.visits.models import FeeCollection, Quote
from server.visits.service import annotate_quotes


@dataclass
class TechnicianClose:
    """One technician's takings of the day."""

    technician_id: uuid.UUID | None
    technician_name: str
    collections: int = 0
    total_cents: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class DailyClose:
    """The company's close of one day."""

    day: dt.date
    total_cents: int
    reconciled: bool
    technicians: list[TechnicianClose]


def _yuan(cents: int) -> str:
    return f"¥{cents / 100:,.2f}"


def daily_close(company_id: uuid.UUID, day: dt.date) -> DailyClose:
    """Total the fees collected on ``day`` (company-local) per technician and reconcile them (R17)."""
    start, end = local_day_bounds(company_id, day, day)
    fees = db.session.execute(
        sa.select(FeeCollection)
        .where(
            FeeCollection.company_id == company_id, FeeCollection.deleted.is_(False),
            FeeCollection.collected_at >= start, FeeCollection.collected_at < end,
        )
        .order_by(FeeCollection.collected_at, FeeCollection.id)
    ).scalars().all()
    jobs = {j.id: j for j in db.session.execute(sa.select(Job).where(Job.id.in_({f.job_id for f in fees}))).scalars()}
    quote_ids = {f.quote_id for f in fees if f.quote_id is not None}
    quotes = {q.id: q for q in annotate_quotes(
        db.session.execute(sa.select(Quote).where(Quote.id.in_(quote_ids), Quote.deleted.is_(False))).scalars().all()
    )} if quote_ids else {}
    # Everything collected against each quote up to the end of the day (a quote may be paid in parts).
    paid = dict(db.session.execute(
        sa.select(FeeCollection.quote_id, sa.func.sum(FeeCollection.amount_cents))
        .where(FeeCollection.quote_id.in_(quote_ids), FeeCollection.deleted.is_(False),
               FeeCollection.collected_at < end)
        .group_by(FeeCollection.quote_id)
    ).all()) if quote_ids else {}
    names = dict(db.session.execute(
        sa.select(Technician.id, Technician.name).where(Technician.company_id == company_id)
    ).all())
    lines: dict[uuid.UUID | None, TechnicianClose] = {}
    checked_quotes: set[uuid.UUID] = set()
    for fee in fees:
        line = lines.setdefault(
            fee.technician_id,
            TechnicianClose(fee.technician_id, names.get(fee.technician_id, "（未记录技师 no technician recorded）")),
        )
        line.collections += 1
        line.total_cents += fee.amount_cents
        line.by_method[fee.method] = line.by_method.get(fee.method, 0) + fee.amount_cents
        job = jobs.get(fee.job_id)
        ref = job.ref if job else str(fee.job_id)
        what = f"{_yuan(fee.amount_cents)} ({fee.method}{', ' + fee.receipt_no if fee.receipt_no else ''}) on job {ref}"
        quote = quotes.get(fee.quote_id) if fee.quote_id else None
        if quote is None:
            line.problems.append(f"{what} names no quote")
            continue
        if quote.job_id != fee.job_id:
            line.problems.append(f"{what} names a quote of another job")
            continue
        if not quote.approval_valid:
            line.problems.append(f"{what} pays a quote the customer's signature does not cover (R3)")
            continue
        if quote.id in checked_quotes:
            continue
        checked_quotes.add(quote.id)
        collected = int(paid.get(quote.id, 0))
        if collected > quote.total_cents:
            line.problems.append(
                f"job {ref}: collected {_yuan(collected)}, more than the approved {_yuan(quote.total_cents)}"
            )
        elif collected < quote.total_cents:
            line.problems.append(
                f"job {ref}: collected {_yuan(collected)} of the approved {_yuan(quote.total_cents)}; "
                f"{_yuan(quote.total_cents - collected)} outstanding"
            )
    technicians = sorted(lines.values(), key=lambda t: (t.technician_name, str(t.technician_id)))
    return DailyClose(
        day=day, total_cents=sum(t.total_cents for t in technicians),
        reconciled=not any(t.problems for t in technicians), technicians=technicians,
    )
