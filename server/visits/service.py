"""What a visit captured, read for the office, and the office's few legitimate writes.

Facts captured on site arrive by sync and are never edited here. The office may add notes, make
a rectification job from a hazard (R16), and the hazard is closed when a later visit confirms the
fix (``confirm_hazard_fixed``, called by the console and by the sync adapter).

Conventions as in ``server.jobs.service``: functions work on ``db.session``, validate before they
write, raise ``ApiError`` for a refusal, and flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from server.auth.models import User
from server.customers.models import Premises
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.jobs.models import Job, JobSource, JobType, Priority
from server.visits.models import (
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    HazardSeverity,
    HazardStatus,
    MeterReading,
    Note,
    Quote,
    QuoteStatus,
    Signature,
    VisitEvent,
)
from sync.domain.jobs import TERMINAL, JobStatus
from sync.domain.quotes import content_hash, covering_signature

# The time column each per-job list is ordered by (oldest first: the story of the visit).
JOB_ROW_ORDER: dict[type, Any] = {
    Hazard: Hazard.found_at,
    Quote: Quote.created_on_device_at,
    Signature: Signature.signed_at,
    CleanupConfirmation: CleanupConfirmation.confirmed_at,
    VisitEvent: VisitEvent.at,
    FeeCollection: FeeCollection.collected_at,
    MeterReading: MeterReading.read_at,
    Note: Note.written_at,
}
OPEN_HAZARD = (HazardStatus.OPEN, HazardStatus.RECTIFICATION_SCHEDULED)
# A rectification visit for a critical hazard is urgent; the others are ordinary work.
RECTIFICATION_PRIORITY = {
    HazardSeverity.CRITICAL: Priority.URGENT,
    HazardSeverity.MAJOR: Priority.NORMAL,
    HazardSeverity.MINOR: Priority.NORMAL,
}
# Job statuses in which a visit has been on site and can vouch for a fix.
VISITED = frozenset({JobStatus.ON_SITE, JobStatus.IN_PROGRESS, JobStatus.COMPLETED, JobStatus.CLOSED})


def job_rows_query(model: type, job: Job) -> sa.Select:
    """The live rows of ``model`` captured on ``job``, oldest first."""
    stmt = sa.select(model).where(model.job_id == job.id, model.company_id == job.company_id, model.deleted.is_(False))
    return stmt.order_by(JOB_ROW_ORDER[model], model.id)


def annotate_quotes(quotes: Sequence[Quote]) -> Sequence[Quote]:
    """Set ``approval_valid``, ``approved_by_signature_id`` and ``content_hash_valid`` on each quote.

    ``approval_valid``: the quote is APPROVED and a live approval signature covers its content as
    it stands now (R3). ``content_hash_valid``: the stored hash is the hash of the stored content
    (False means the device computed it differently: a client bug worth seeing).
    """
    job_ids = {q.job_id for q in quotes}
    signatures = (
        db.session.execute(
            sa.select(Signature).where(Signature.job_id.in_(job_ids), Signature.deleted.is_(False))
        ).scalars().all()
        if job_ids else []
    )
    for quote in quotes:
        try:
            current = content_hash(quote)
        except ValueError:
            current = None
        signature = covering_signature(quote, [s for s in signatures if s.job_id == quote.job_id])
        quote.approval_valid = quote.status == QuoteStatus.APPROVED and signature is not None
        quote.approved_by_signature_id = signature.id if signature is not None and quote.approval_valid else None
        quote.content_hash_valid = current == quote.content_hash
    return quotes


def add_office_note(job: Job, author: User, text: str, *, now: dt.datetime | None = None) -> Note:
    """A note written in the office, attributed to its author (device notes arrive by sync)."""
    text = text.strip()
    if not text:
        raise field_error("text", "a note needs some text")
    note = Note(
        id=uuid.uuid4(), company_id=job.company_id, job_id=job.id, author_name=author.display_name,
        source="office", text=text, written_at=now or utcnow(),
    )
    db.session.add(note)
    db.session.flush()
    return note


def hazards_query(company_id: uuid.UUID, filters: dict[str, Any], now: dt.datetime | None = None) -> sa.Select:
    """The company's hazards matching the filters, most urgent deadline first.

    Filters: ``open`` (not yet fixed / fixed), ``overdue`` (open and past its deadline, or not),
    ``severity`` and ``status`` (lists), ``district`` (of the premises, exact), ``customer_id``.
    """
    now = now or utcnow()
    stmt = (
        sa.select(Hazard)
        .join(Premises, Premises.id == Hazard.premises_id)
        .where(Hazard.company_id == company_id, Hazard.deleted.is_(False))
        .options(selectinload(Hazard.premises), selectinload(Hazard.customer))
    )
    is_open = Hazard.status.in_(OPEN_HAZARD)
    if "open" in filters:
        stmt = stmt.where(is_open if filters["open"] else sa.not_(is_open))
    if "overdue" in filters:
        late = sa.and_(is_open, Hazard.rectify_by < now)
        stmt = stmt.where(late if filters["overdue"] else sa.not_(late))
    if filters.get("severity"):
        stmt = stmt.where(Hazard.severity.in_(filters["severity"]))
    if filters.get("status"):
        stmt = stmt.where(Hazard.status.in_(filters["status"]))
    if filters.get("district"):
        stmt = stmt.where(Premises.district == filters["district"])
    if filters.get("customer_id"):
        stmt = stmt.where(Hazard.customer_id == filters["customer_id"])
    return stmt.order_by(Hazard.rectify_by, Hazard.id)


def _live_rectification_job(hazard: Hazard) -> Job | None:
    if hazard.rectification_job_id is None:
        return None
    job = db.session.get(Job, hazard.rectification_job_id)
    if job is None or job.deleted or job.status in TERMINAL:
        return None
    return job


def create_rectification_job(
    hazard: Hazard,
    *,
    description: str = "",
    chargeable: bool = False,
    required_certifications: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> Job:
    """A new hazard-rectification job at the hazard's premises, linked from the hazard (R16).

    The hazard becomes ``rectification_scheduled``. Refused (409) when the hazard is already fixed or
    already has a rectification job that is still open (a cancelled or closed one may be replaced).
    """
    from server.jobs.service import create_job  # the jobs package owns job numbering and clocks

    if hazard.status == HazardStatus.FIXED:
        raise ApiError(409, "hazard_fixed", "this hazard was confirmed fixed; it needs no rectification job")
    existing = _live_rectification_job(hazard)
    if existing is not None:
        raise ApiError(
            409, "rectification_exists", f"job {existing.ref} already rectifies this hazard",
            details={"job_id": str(existing.id)},
        )
    text = description.strip() or f"隐患整改 Hazard rectification: {hazard.description}"
    job = create_job(
        hazard.company_id, job_type=JobType.HAZARD_RECTIFICATION, customer_id=hazard.customer_id,
        premises_id=hazard.premises_id, priority=RECTIFICATION_PRIORITY[hazard.severity], description=text,
        chargeable=chargeable, required_certifications=required_certifications,
        source=JobSource.HAZARD_FOLLOW_UP, now=now,
    )
    hazard.rectification_job_id = job.id
    hazard.status = HazardStatus.RECTIFICATION_SCHEDULED
    db.session.flush()
    return job


def confirm_hazard_fixed(hazard: Hazard, job: Job, *, at: dt.datetime | None = None) -> Hazard:
    """Record that a later visit (``job``) confirmed the hazard fixed (R16): status ``fixed``.

    The visit must be another job of the same company at the same premises that has been on site.
    Confirming again from the same job changes nothing; from another job after a fix, 409.
    """
    if job.company_id != hazard.company_id or job.premises_id != hazard.premises_id:
        raise field_error("job_id", "the confirming visit must be at the premises where the hazard was found")
    if job.id == hazard.job_id:
        raise field_error("job_id", "the visit that found a hazard cannot confirm it fixed; a later visit must")
    if job.status not in VISITED:
        raise field_error("job_id", f"job {job.ref} is {job.status.value}: only a visit that reached the site can confirm a fix")
    if hazard.status == HazardStatus.FIXED:
        if hazard.fixed_confirmed_job_id == job.id:
            return hazard
        raise ApiError(409, "hazard_fixed", "this hazard was already confirmed fixed by another visit")
    hazard.status = HazardStatus.FIXED
    hazard.fixed_confirmed_job_id = job.id
    hazard.fixed_confirmed_at = at or utcnow()
    db.session.flush()
    return hazard
