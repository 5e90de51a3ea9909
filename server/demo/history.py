"""Finished stories in the households' files: chargeable work with its paperwork (a quote signed before the
work, the site cleaned, the fee paid: R3, R4, R17), and hazards found on an inspection and confirmed fixed
by a later rectification visit (R12, R16).
"""

from __future__ import annotations

import datetime as dt
import uuid

from server.customers.models import CustomerCategory
from server.demo import catalog
from server.demo.context import Demo, Household
from server.demo.households import past_visit
from server.jobs.models import Job, JobSource, JobType
from server.visits.models import (
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    HazardSeverity,
    HazardStatus,
    Quote,
    QuoteStatus,
    Signature,
    SignaturePurpose,
)
from sync.domain.quotes import content_hash, make_line

QUOTE_LINES = (("P-HOSE-15", 1), ("P-CLAMP", 2), ("L-BASIC", 1), ("F-CALLOUT", 1))
HOSE_RISK = "更换软管时需短时关闭表前阀；施工在灶台下方进行，不会损坏橱柜台面。"
PAY_METHODS = ("wechat", "wechat", "alipay", "cash", "card")
PRICES = {code: (name, kind, unit, cents) for code, name, _en, kind, unit, cents in catalog.PRICE_LIST}


def paid_work(demo: Demo, job: Job, h: Household, tech, lines: tuple[tuple[str, int], ...], risk_note: str, *,
              signed_at: dt.datetime | None = None, short_by: int = 0) -> list:
    """The paperwork of chargeable work, rows in insert order: the itemised quote, the customer's signature
    approving exactly it (by default two minutes after arrival, before the work starts: R3), the cleanup
    the customer confirmed (R4) and the fee collected (R17: the quote's total, less ``short_by`` cents when the
    customer paid short). Marks the job chargeable."""
    job.chargeable = True
    items = [make_line(code, PRICES[code][0], PRICES[code][1], qty, PRICES[code][2], PRICES[code][3])
             for code, qty in lines]
    quote = Quote(
        id=uuid.uuid4(), company_id=demo.cid(), job_id=job.id, lines=[line.as_dict() for line in items],
        total_cents=sum(line.amount_cents for line in items), currency="CNY", risk_note=risk_note,
        technician_id=tech.id, technician_name=tech.name, staff_no=tech.staff_no, status=QuoteStatus.APPROVED,
        created_on_device_at=job.arrived_at + dt.timedelta(minutes=1), content_hash="",
    )
    quote.content_hash = content_hash(quote)
    signature = Signature(
        id=uuid.uuid4(), company_id=demo.cid(), job_id=job.id, purpose=SignaturePurpose.QUOTE_APPROVAL,
        quote_id=quote.id, content_hash=quote.content_hash, signer_name=h.customer.name,
        signed_at=signed_at or job.arrived_at + dt.timedelta(minutes=2),
    )
    cleanup = CleanupConfirmation(
        company_id=demo.cid(), job_id=job.id, checklist={"waste_removed": True, "area_wiped": True,
                                                         "valves_restored": True},
        customer_confirmed=True, method="tap", confirmed_at=job.completed_at - dt.timedelta(minutes=2),
    )
    day = job.completed_at.astimezone(demo.tz).date()
    fee = FeeCollection(
        company_id=demo.cid(), job_id=job.id, quote_id=quote.id, technician_id=tech.id,
        amount_cents=quote.total_cents - short_by, method=demo.rng.choice(PAY_METHODS),
        receipt_no=f"SK{day:%Y%m%d}{demo.rng.randrange(10**4):04d}", collected_at=job.completed_at,
    )
    return [quote, signature, cleanup, fee]


def rectification(demo: Demo, hazard: Hazard, h: Household, tech, day: dt.date, lines=QUOTE_LINES,
                  risk_note: str = HOSE_RISK) -> tuple[Job, list]:
    """A paid rectification visit on ``day`` that confirms ``hazard`` fixed; returns the job and the rows
    after it (its appointment, then its paperwork)."""
    job, appointment = past_visit(demo, h, day, tech, JobType.HAZARD_RECTIFICATION,
                                  f"隐患整改：{hazard.category}（用户同意付费整改）")
    job.source, job.required_skills = JobSource.HAZARD_FOLLOW_UP, ["repair"]
    hazard.status, hazard.rectification_job_id = HazardStatus.FIXED, job.id
    hazard.fixed_confirmed_job_id, hazard.fixed_confirmed_at = job.id, job.completed_at
    return job, [appointment, *paid_work(demo, job, h, tech, lines, risk_note)]


def _household(demo: Demo, taken: set[int]) -> Household | None:
    """A residential household inspected one to five months ago, not already part of another story."""
    pool = [h for h in demo.households
            if h.customer.category == CustomerCategory.RESIDENTIAL and h.last_job is not None
            and id(h) not in taken and 36 <= (demo.today - h.last_inspection).days <= 150]
    return pool[0] if pool else None


def make_fixed_hazard(demo: Demo, taken: set[int]) -> Hazard | None:
    """A hose hazard found at the last inspection and fixed three days later, with its paperwork."""
    h = _household(demo, taken)
    if h is None:
        return None
    inspection = h.last_job
    tech = next(t for t in demo.technicians if t.id == inspection.technician_id)
    found = inspection.completed_at - dt.timedelta(minutes=10)
    hazard = Hazard(
        company_id=demo.cid(), job_id=inspection.id, customer_id=h.customer.id, premises_id=h.premises.id,
        severity=HazardSeverity.MAJOR, category="软管超长", description="灶具连接软管长度约2.6米，超过2米限值",
        immediate_action="已告知用户隐患及整改要求", checklist_item_key="hose_length", found_at=found,
        rectify_by=found + dt.timedelta(days=7), owner="customer", technician_id=tech.id,
    )
    day = demo.working_day_on_or_before((found + dt.timedelta(days=3)).astimezone(demo.tz).date())
    job, rows = rectification(demo, hazard, h, tech, day)
    demo.flush([job])
    demo.flush([hazard, rows[0], rows[1]])
    demo.flush(rows[2:])
    taken.add(id(h))
    return hazard
