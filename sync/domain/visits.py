"""The visit gates: approval before chargeable work (R3), cleanup before completion (R4).

Pure functions over plain values: a job, quote, signature or cleanup may be a mapping (the tablet's
rows) or an object with attributes (the server's ORM rows). The tablet calls them to guide the
technician; the server calls them again on every status change, from the console or a sync push
(G10: the server never trusts the device).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sync.domain.jobs import JobStatus
from sync.domain.quotes import APPROVED, QUOTE_REFUSAL, REFUSED, VOID, approval_covers, field_of

__all__ = [
    "APPROVAL_REQUIRED",
    "CLEANUP_REQUIRED",
    "Gate",
    "can_complete",
    "can_start_work",
    "gate_for_status",
]

APPROVAL_REQUIRED = "approval_required"
CLEANUP_REQUIRED = "cleanup_required"


@dataclass(frozen=True)
class Gate:
    """Whether a visit may take a step; when not, a stable ``reason`` code and a message for people."""

    allowed: bool
    reason: str | None = None
    message: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Gate(True)


def _live(rows: Iterable[Any], job: Any) -> list[Any]:
    """The rows of this job that are not tombstones."""
    job_id = str(field_of(job, "id"))
    return [r for r in rows if not field_of(r, "deleted", False) and str(field_of(r, "job_id")) == job_id]


def can_start_work(job: Any, quotes: Iterable[Any], signatures: Iterable[Any]) -> Gate:
    """Whether work may start on ``job`` (R3).

    A job that is not chargeable may always start. A chargeable one needs an approved quote (not
    void, not refused) and a customer's approval signature whose hash is the quote's current
    content hash. A refusal is a fact to record, not an approval: it never lets work start.
    """
    if not field_of(job, "chargeable", False):
        return ALLOWED
    quotes, signatures = _live(quotes, job), _live(signatures, job)
    approved = [q for q in quotes if str(field_of(q, "status", "")) == APPROVED]
    for quote in approved:
        if any(approval_covers(quote, s) for s in signatures):
            return ALLOWED
    if approved:
        message = (
            "the quote was changed after the customer signed it: the approval no longer covers it; "
            "ask the customer to sign the quote as it stands"
        )
    elif any(str(field_of(q, "status", "")) == REFUSED for q in quotes) or any(
        str(field_of(s, "purpose", "")) == QUOTE_REFUSAL for s in signatures
    ):
        message = "the customer refused the quote: chargeable work may not start"
    elif quotes and all(str(field_of(q, "status", "")) == VOID for q in quotes):
        message = "every quote of this job is void: make a new quote and have the customer sign it"
    else:
        message = "chargeable work needs a quote the customer has approved and signed before it starts"
    return Gate(False, APPROVAL_REQUIRED, message)


def can_complete(job: Any, cleanups: Iterable[Any]) -> Gate:
    """Whether ``job`` may be completed (R4): the customer has confirmed the site was cleaned up."""
    confirmed = [c for c in _live(cleanups, job) if field_of(c, "customer_confirmed", False)]
    if confirmed:
        return ALLOWED
    return Gate(
        False,
        CLEANUP_REQUIRED,
        "clean up the site and take the waste away, then have the customer confirm it before completing",
    )


def gate_for_status(
    job: Any,
    new_status: JobStatus | str,
    *,
    quotes: Iterable[Any] = (),
    signatures: Iterable[Any] = (),
    cleanups: Iterable[Any] = (),
) -> Gate:
    """The gate a status change must pass beyond the state machine: IN_PROGRESS needs R3, COMPLETED
    needs R3 and R4 (a visit cannot complete chargeable work that never had approval); others pass.
    """
    status = JobStatus(new_status)
    if status in (JobStatus.IN_PROGRESS, JobStatus.COMPLETED):
        gate = can_start_work(job, quotes, signatures)
        if not gate or status == JobStatus.IN_PROGRESS:
            return gate
    if status == JobStatus.COMPLETED:
        return can_complete(job, cleanups)
    return ALLOWED
