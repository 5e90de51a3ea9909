"""The inspection planner (R7) and the jobs that other due dates generate (R15 meters, R16 hazards).

R7: non-residential customers (commercial, industrial, heating) are inspected at least twice a year,
residential at least once; the intervals are per company (``Company.inspection_interval_months``),
since a local authority may be stricter. A customer is due at its last completed safety inspection
plus its category's interval (at once when never inspected).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from server.customers.models import Customer, CustomerCategory, Meter, MeterStatus, Premises
from server.db import utcnow
from server.extensions import db
from server.jobs import calendar
from server.jobs.models import Job, JobSource, JobType, Priority
from server.jobs.service import create_job
from server.org.models import Company
from server.visits.models import Hazard, HazardStatus
from sync.domain.jobs import JobStatus

DONE = (JobStatus.COMPLETED, JobStatus.CLOSED)
STILL_OPEN = (JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.DISPATCHED, JobStatus.EN_ROUTE, JobStatus.ON_SITE,
              JobStatus.IN_PROGRESS, JobStatus.COULD_NOT_COMPLETE)
INSPECTION_MINUTES = {"residential": 30, "commercial": 60, "industrial": 90, "heating": 60}


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class DueCustomer:
    """A customer and when its next inspection is due."""

    customer_id: uuid.UUID
    category: str
    last_inspected: dt.date | None
    due_on: dt.date
    has_open_job: bool


def _last_inspections(company_id: uuid.UUID) -> sa.Subquery:
    return (
        sa.select(Job.customer_id, sa.func.max(Job.completed_at).label("last"))
        .where(Job.company_id == company_id, Job.job_type == JobType.SAFETY_INSPECTION,
               Job.status.in_(DONE), Job.deleted.is_(False))
        .group_by(Job.customer_id)
        .subquery()
    )


def _open_inspections(company_id: uuid.UUID) -> sa.Subquery:
    return (
        sa.select(Job.customer_id)
        .where(Job.company_id == company_id, Job.job_type == JobType.SAFETY_INSPECTION,
               Job.status.in_(STILL_OPEN), Job.deleted.is_(False))
        .distinct()
        .subquery()
    )


def inspection_status(company_id: uuid.UUID, today: dt.date) -> list[DueCustomer]:
    """Every customer with its last inspection and next due date (one query, not one per customer)."""
    company = db.session.get(Company, company_id)
    intervals = company.inspection_interval_months
    last, open_ = _last_inspections(company_id), _open_inspections(company_id)
    rows = db.session.execute(
        sa.select(Customer.id, Customer.category, last.c.last, open_.c.customer_id)
        .outerjoin(last, last.c.customer_id == Customer.id)
        .outerjoin(open_, open_.c.customer_id == Customer.id)
        .where(Customer.company_id == company_id, Customer.deleted.is_(False))
    ).all()
    out = []
    for cid, category, last_at, open_cid in rows:
        category = CustomerCategory(category).value
        last_day = calendar.local_date(company_id, last_at) if last_at else None
        due = add_months(last_day, int(intervals.get(category, 12))) if last_day else today
        out.append(DueCustomer(cid, category, last_day, due, open_cid is not None))
    return out


def plan_inspections(company_id: uuid.UUID, *, horizon_days: int = 30, now: dt.datetime | None = None) -> list[Job]:
    """Create an inspection job (source inspection_plan) for every customer due within the horizon
    that has no open inspection job yet. Running it again creates nothing new."""
    now = now or utcnow()
    today = calendar.local_date(company_id, now)
    limit = today + dt.timedelta(days=horizon_days)
    due = [d for d in inspection_status(company_id, today) if d.due_on <= limit and not d.has_open_job]
    customers = {
        c.id: c for c in db.session.execute(
            sa.select(Customer).where(Customer.id.in_([d.customer_id for d in due]))
        ).scalars()
    } if due else {}
    created = []
    for d in sorted(due, key=lambda d: d.due_on):
        customer = customers[d.customer_id]
        if not customer.premises:
            continue
        overdue = (today - d.due_on).days
        text = f"定期安检 Periodic safety inspection ({d.category}); due {d.due_on.isoformat()}"
        if overdue > 0:
            text += f", {overdue} days overdue"
        created.append(create_job(
            company_id, job_type=JobType.SAFETY_INSPECTION, customer_id=customer.id,
            priority=int(Priority.URGENT if customer.special_care or overdue > 30 else Priority.NORMAL),
            description=text, required_certifications=["gas_safety"], required_skills=["inspection"],
            duration_minutes=INSPECTION_MINUTES.get(d.category, 45), source=JobSource.INSPECTION_PLAN, now=now,
        ))
    return created


def coverage(company_id: uuid.UUID, now: dt.datetime | None = None,
             customers: Collection[uuid.UUID] | None = None) -> list[dict]:
    """Per category: customers, how many are within their inspection interval, overdue, never inspected
    (of every customer of the company, or only of ``customers`` when given)."""
    today = calendar.local_date(company_id, now or utcnow())
    table: dict[str, dict] = {
        c.value: {"category": c.value, "customers": 0, "in_date": 0, "overdue": 0, "never_inspected": 0,
                  "open_jobs": 0}
        for c in CustomerCategory
    }
    for d in inspection_status(company_id, today):
        if customers is not None and d.customer_id not in customers:
            continue
        row = table[d.category]
        row["customers"] += 1
        row["open_jobs"] += int(d.has_open_job)
        if d.last_inspected is None:
            row["never_inspected"] += 1
        elif d.due_on >= today:
            row["in_date"] += 1
        else:
            row["overdue"] += 1
    for row in table.values():
        row["coverage_pct"] = round(100 * row["in_date"] / row["customers"], 1) if row["customers"] else None
    return list(table.values())


def plan_meter_work(company_id: uuid.UUID, *, horizon_days: int = 30, now: dt.datetime | None = None) -> list[Job]:
    """A meter_work job for every active meter whose verification (检定) is due within the horizon
    and that has no open meter job (R15)."""
    now = now or utcnow()
    limit = calendar.local_date(company_id, now) + dt.timedelta(days=horizon_days)
    open_meter_jobs = sa.select(Job.meter_id).where(
        Job.company_id == company_id, Job.meter_id.is_not(None), Job.status.in_(STILL_OPEN), Job.deleted.is_(False)
    )
    rows = db.session.execute(
        sa.select(Meter, Premises)
        .join(Premises, Premises.id == Meter.premises_id)
        .where(Meter.company_id == company_id, Meter.deleted.is_(False), Meter.status == MeterStatus.ACTIVE,
               Meter.calibration_due_on <= limit, Meter.id.not_in(open_meter_jobs))
        .order_by(Meter.calibration_due_on)
    ).all()
    return [
        create_job(
            company_id, job_type=JobType.METER_WORK, customer_id=premises.customer_id, premises_id=premises.id,
            description=f"表具检定到期 Meter verification due {meter.calibration_due_on.isoformat()} ({meter.serial})",
            required_certifications=["meter_work"], required_skills=["meter"], duration_minutes=40,
            source=JobSource.METER_DUE, meter_id=meter.id, now=now,
        )
        for meter, premises in rows
    ]


def plan_overdue_hazards(company_id: uuid.UUID, *, now: dt.datetime | None = None) -> list[Job]:
    """A rectification job for every open hazard past its deadline that has none yet (R16)."""
    from server.visits.service import create_rectification_job

    now = now or utcnow()
    hazards = db.session.execute(
        sa.select(Hazard).where(Hazard.company_id == company_id, Hazard.deleted.is_(False),
                                Hazard.status == HazardStatus.OPEN, Hazard.rectify_by < now)
        .order_by(Hazard.rectify_by)
    ).scalars().all()
    return [create_rectification_job(h, required_certifications=["gas_safety"], now=now) for h in hazards]
