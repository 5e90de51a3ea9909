"""Everything a visit's service report shows (R18), read from the synced rows as plain values.

``visit_report_data`` returns JSON-able values only (times already in the company's local time as
text), so the PDF is a pure function of them and ``data_fingerprint`` detects any later change to
the visit's data, including a signature image that reached the server after the report was made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.blobstore import blob_store
from server.checklists.models import ChecklistAnswer, ChecklistTemplate
from server.customers.models import Customer, Premises
from server.errors import ApiError
from server.extensions import db
from server.jobs.models import Job
from server.org.models import Company, ServiceCentre
from server.people.models import Technician
from server.visits.models import (
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    Quote,
    QuoteStatus,
    Signature,
    VisitEvent,
    VisitEventKind,
)
from server.visits.service import annotate_quotes, job_rows_query
from sync.domain.jobs import JobStatus

REPORTABLE = (JobStatus.COMPLETED, JobStatus.CLOSED)


def _local(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _rows(model: type, job: Job) -> list:
    return list(db.session.execute(job_rows_query(model, job)).scalars())


def check_reportable(job: Job) -> None:
    """409 ``visit_not_completed`` unless the visit was completed (a report of half a visit misleads)."""
    if job.status not in REPORTABLE:
        raise ApiError(
            409, "visit_not_completed",
            f"job {job.ref} is {job.status.value}: a service report is made once the visit is completed",
            details={"status": job.status.value},
        )


def _arrival(job: Job, zone: ZoneInfo) -> dict[str, Any]:
    """The claimed arrival, and the arrival corrected by the device clock's offset when the server knows it."""
    event = db.session.execute(
        sa.select(VisitEvent)
        .where(VisitEvent.job_id == job.id, VisitEvent.kind == VisitEventKind.ARRIVED, VisitEvent.deleted.is_(False))
        .order_by(VisitEvent.at, VisitEvent.id).limit(1)
    ).scalar_one_or_none()
    claimed = event.at if event is not None else job.arrived_at
    corrected = event.corrected_at if event is not None and event.corrected_at is not None else None
    arrival = corrected or claimed
    on_time = None
    if arrival is not None and job.window_end is not None:
        on_time = arrival <= job.window_end
    return {
        "claimed": _local(claimed, zone), "corrected": _local(corrected, zone),
        "offset_s": round(event.clock_offset_s) if event is not None and event.clock_offset_s is not None else None,
        "on_time": on_time,
    }


def _checklist(job: Job) -> list[dict[str, Any]]:
    """The standing answers (corrections replace what they supersede), labelled by the template version used."""
    answers = db.session.execute(
        sa.select(ChecklistAnswer)
        .where(ChecklistAnswer.job_id == job.id, ChecklistAnswer.company_id == job.company_id,
               ChecklistAnswer.deleted.is_(False))
        .order_by(ChecklistAnswer.answered_at, ChecklistAnswer.id)
    ).scalars().all()
    superseded = {a.supersedes_id for a in answers if a.supersedes_id is not None}
    standing = {a.item_key: a for a in answers if a.id not in superseded}
    templates = {t.id: t for t in db.session.execute(
        sa.select(ChecklistTemplate).where(ChecklistTemplate.id.in_({a.template_id for a in standing.values()}))
    ).scalars()} if standing else {}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for template in sorted(templates.values(), key=lambda t: (t.code, t.version_no)):
        for item in template.items:
            answer = standing.get(item.get("key"))
            if answer is None or answer.template_id != template.id:
                continue
            seen.add(answer.item_key)
            out.append(_answer_row(answer, item, template))
    for key in sorted(set(standing) - seen):  # an answer to a key its template no longer has
        out.append(_answer_row(standing[key], {"key": key}, templates.get(standing[key].template_id)))
    return out


def _answer_row(answer: ChecklistAnswer, item: dict, template: ChecklistTemplate | None) -> dict[str, Any]:
    value = answer.value.get("value") if isinstance(answer.value, dict) else answer.value
    if isinstance(value, bool):
        value = "pass" if value else "fail"
    if item.get("options") and value is not None:
        value = next((o.get("label", value) for o in item["options"] if o.get("value") == value), value)
    return {
        "key": answer.item_key, "label": item.get("label", answer.item_key), "label_en": item.get("label_en", ""),
        "value": "" if value is None else str(value), "unit": item.get("unit", ""), "note": answer.note,
        "template": f"{template.code} v{template.version_no}" if template else "",
    }


def _signature(signature: Signature | None, company: str, zone: ZoneInfo) -> dict[str, Any] | None:
    if signature is None:
        return None
    present = bool(signature.image_sha256) and blob_store().exists(company, signature.image_sha256)
    return {
        "signer_name": signature.signer_name, "signed_at": _local(signature.signed_at, zone),
        "content_hash": signature.content_hash, "image_sha256": signature.image_sha256 or "", "image_present": present,
    }


def _quotes(job: Job, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The approved quotes (R3) with the signature that covers each; one whose content changed after
    signing is shown too, marked, since the customer was charged against something."""
    quotes = [q for q in _rows(Quote, job) if q.status == QuoteStatus.APPROVED]
    annotate_quotes(quotes)
    signatures = {s.id: s for s in _rows(Signature, job)}
    out = []
    for quote in quotes:
        signature = signatures.get(quote.approved_by_signature_id) if quote.approval_valid else None
        out.append({
            "lines": [
                {"description": line.get("description", ""), "qty": str(line.get("qty", "")),
                 "unit": line.get("unit", ""), "unit_price_cents": line.get("unit_price_cents", 0),
                 "amount_cents": line.get("amount_cents", 0)}
                for line in quote.lines
            ],
            "total_cents": quote.total_cents, "currency": quote.currency, "risk_note": quote.risk_note,
            "content_hash": quote.content_hash, "approval_valid": quote.approval_valid,
            "signature": _signature(signature, str(job.company_id), zone),
        })
    return out


def visit_report_data(job: Job) -> dict[str, Any]:
    """The service report's content for a completed visit, as plain JSON-able values."""
    check_reportable(job)
    company = db.session.get(Company, job.company_id)
    zone = ZoneInfo(company.timezone)
    centre = db.session.get(ServiceCentre, job.service_centre_id) if job.service_centre_id else None
    customer = db.session.get(Customer, job.customer_id)
    premises = db.session.get(Premises, job.premises_id)
    technician = db.session.get(Technician, job.technician_id) if job.technician_id else None
    cleanup = next((c for c in reversed(_rows(CleanupConfirmation, job)) if c.customer_confirmed), None)
    return {
        "company": company.name,
        "centre": centre.name if centre else "",
        "job": {"ref": job.ref, "job_type": job.job_type.value, "description": job.description},
        "customer": {"name": customer.name, "account_no": customer.account_no,
                     "address": premises.address if premises else ""},
        "technician": {"name": technician.name if technician else "", "staff_no": technician.staff_no if technician else ""},
        "window": {"start": _local(job.window_start, zone), "end": _local(job.window_end, zone)},
        "arrival": _arrival(job, zone),
        "work_started_at": _local(job.work_started_at, zone),
        "completed_at": _local(job.completed_at, zone),
        "checklist": _checklist(job),
        "hazards": [
            {"severity": h.severity.value, "category": h.category, "description": h.description,
             "immediate_action": h.immediate_action, "rectify_by": _local(h.rectify_by, zone), "owner": h.owner,
             "status": h.status.value}
            for h in _rows(Hazard, job)
        ],
        "quotes": _quotes(job, zone),
        "cleanup": None if cleanup is None else {
            "checklist": {str(k): bool(v) for k, v in sorted((cleanup.checklist or {}).items())},
            "method": cleanup.method, "confirmed_at": _local(cleanup.confirmed_at, zone),
        },
        "fees": [
            {"amount_cents": f.amount_cents, "method": f.method, "receipt_no": f.receipt_no,
             "collected_at": _local(f.collected_at, zone)}
            for f in _rows(FeeCollection, job)
        ],
        # The creation date written into the PDF: the completion, so the same data gives the same bytes.
        "document_date": (job.completed_at or job.updated_at).astimezone(dt.UTC).isoformat(),
    }


def data_fingerprint(data: dict[str, Any]) -> str:
    """SHA-256 of the report data in a canonical JSON form."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
