"""One finished story in a household's file: a hazard found, a quote signed, the work done, the site
cleaned, the fee paid and the hazard confirmed fixed (R3, R4, R12, R16, R17).
"""

from __future__ import annotations

import datetime as dt

from server.customers.models import CustomerCategory
from server.demo import catalog
from server.demo.context import Demo, Household
from server.demo.households import past_visit
from server.jobs.models import JobSource, JobType
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


def _household(demo: Demo, taken: set[int]) -> Household | None:
    """A residential household inspected one to five months ago, not already part of another story."""
    pool = [h for h in demo.households
            if h.customer.category == CustomerCategory.RESIDENTIAL and h.last_job is not None
            and id(h) not in taken and 30 <= (demo.today - h.last_inspection).days <= 150]
    return pool[0] if pool else None


def make_fixed_hazard(demo: Demo, taken: set[int]) -> Hazard | None:
    """A hose hazard found at the last inspection and fixed three days later, with its paperwork."""
    h = _household(demo, taken)
    if h is None:
        return None
    inspection = h.last_job
    tech = next(t for t in demo.technicians if t.id == inspection.technician_id)
    found = inspection.completed_at - dt.timedelta(minutes=10)
    day = (found + dt.timedelta(days=3)).astimezone(demo.tz).date()
    job, appointment = past_visit(demo, h, day, tech, JobType.HAZARD_RECTIFICATION,
                                  "隐患整改：更换超长软管（用户同意付费整改）")
    job.source, job.chargeable, job.required_skills = JobSource.HAZARD_FOLLOW_UP, True, ["repair"]
    demo.flush([job])
    demo.flush([appointment])
    hazard = Hazard(
        company_id=demo.cid(), job_id=inspection.id, customer_id=h.customer.id, premises_id=h.premises.id,
        severity=HazardSeverity.MAJOR, category="软管超长", description="灶具连接软管长度约2.6米，超过2米限值",
        immediate_action="已告知用户隐患及整改要求", checklist_item_key="hose_length", found_at=found,
        rectify_by=found + dt.timedelta(days=7), owner="customer", status=HazardStatus.FIXED,
        rectification_job_id=job.id, fixed_confirmed_job_id=job.id, fixed_confirmed_at=job.completed_at,
        technician_id=tech.id,
    )
    prices = {code: (name, kind, unit, cents) for code, name, _en, kind, unit, cents in catalog.PRICE_LIST}
    lines = [make_line(code, prices[code][0], prices[code][1], qty, prices[code][2], prices[code][3])
             for code, qty in QUOTE_LINES]
    quote = Quote(
        company_id=demo.cid(), job_id=job.id, lines=[line.as_dict() for line in lines],
        total_cents=sum(line.amount_cents for line in lines), currency="CNY",
        risk_note="更换软管时需短时关闭表前阀；施工在灶台下方进行，不会损坏橱柜台面。", technician_id=tech.id,
        technician_name=tech.name, staff_no=tech.staff_no, status=QuoteStatus.APPROVED,
        created_on_device_at=job.arrived_at + dt.timedelta(minutes=1), content_hash="",
    )
    quote.content_hash = content_hash(quote)
    demo.flush([hazard, quote])
    signature = Signature(
        company_id=demo.cid(), job_id=job.id, purpose=SignaturePurpose.QUOTE_APPROVAL, quote_id=quote.id,
        content_hash=quote.content_hash, signer_name=h.customer.name,
        signed_at=job.arrived_at + dt.timedelta(minutes=2),  # before work starts (R3)
    )
    cleanup = CleanupConfirmation(
        company_id=demo.cid(), job_id=job.id, checklist={"waste_removed": True, "area_wiped": True,
                                                         "valves_restored": True},
        customer_confirmed=True, method="tap", confirmed_at=job.completed_at - dt.timedelta(minutes=2),
    )
    fee = FeeCollection(
        company_id=demo.cid(), job_id=job.id, quote_id=quote.id, technician_id=tech.id,
        amount_cents=quote.total_cents, method="wechat", receipt_no=f"SK{day:%Y%m%d}{demo.rng.randrange(10**4):04d}",
        collected_at=job.completed_at,
    )
    demo.flush([signature, cleanup, fee])
    taken.add(id(h))
    return hazard
