"""Checklist templates: create, publish a new version of a code, pick the one for a job.

Versions: each publication is a new row (``version_no`` + 1) and becomes the one active version of
its code; older versions stay (inactive) because answers recorded against them keep pointing at
them. The company's change-counter row is locked first, so two publications of one company
cannot take the same number or leave two versions active.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from server.checklists.models import ChecklistTemplate
from server.customers.models import Customer, CustomerCategory
from server.db import allocate_versions, utcnow
from server.errors import ApiError, not_found
from server.extensions import db
from server.jobs.models import Job, JobType


def _json_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(item) for item in items]


def _versions(company_id: uuid.UUID, code: str) -> list[ChecklistTemplate]:
    stmt = (
        sa.select(ChecklistTemplate)
        .where(ChecklistTemplate.company_id == company_id, ChecklistTemplate.code == code,
               ChecklistTemplate.deleted.is_(False))
        .order_by(ChecklistTemplate.version_no)
    )
    return list(db.session.execute(stmt).scalars())


def _new_version(company_id: uuid.UUID, code: str, version_no: int, body: dict[str, Any]) -> ChecklistTemplate:
    template = ChecklistTemplate(
        company_id=company_id, code=code, version_no=version_no, name=body["name"], name_en=body.get("name_en", ""),
        job_type=JobType(body["job_type"]).value,
        customer_categories=[CustomerCategory(c).value for c in body.get("customer_categories", [])],
        items=_json_items(body["items"]), active=True, published_at=utcnow(),
    )
    db.session.add(template)
    db.session.flush()
    return template


def create_template(company_id: uuid.UUID, code: str, body: dict[str, Any]) -> ChecklistTemplate:
    """Version 1 of a new checklist code (409 ``code_exists`` when the code has versions already)."""
    allocate_versions(db.session, company_id, 0)
    if _versions(company_id, code):
        raise ApiError(409, "code_exists", f"checklist {code} exists: publish a new version of it instead")
    return _new_version(company_id, code, 1, body)


def publish_version(company_id: uuid.UUID, code: str, body: dict[str, Any]) -> ChecklistTemplate:
    """Publish the next version of ``code``; it becomes the active one, the others stay for old answers."""
    allocate_versions(db.session, company_id, 0)
    versions = _versions(company_id, code)
    if not versions:
        raise not_found("checklist", code)
    for old in versions:
        if old.active:
            old.active = False
    db.session.flush()
    return _new_version(company_id, code, versions[-1].version_no + 1, body)


def templates_query(
    company_id: uuid.UUID, *, include_old: bool = False, code: str | None = None, job_type: JobType | None = None
) -> sa.Select:
    """The company's templates (active versions unless ``include_old``), by code then version."""
    stmt = sa.select(ChecklistTemplate).where(
        ChecklistTemplate.company_id == company_id, ChecklistTemplate.deleted.is_(False)
    )
    if not include_old:
        stmt = stmt.where(ChecklistTemplate.active.is_(True))
    if code:
        stmt = stmt.where(ChecklistTemplate.code == code)
    if job_type:
        stmt = stmt.where(ChecklistTemplate.job_type == JobType(job_type).value)
    return stmt.order_by(ChecklistTemplate.code, ChecklistTemplate.version_no.desc())


def pick_template(company_id: uuid.UUID, job_type: JobType | str, category: CustomerCategory | str) -> ChecklistTemplate:
    """The active template for a job type and customer category: one naming the category wins over a
    generic one (no categories); ties go to the lowest code. 404 ``no_template`` when none fits."""
    rows = db.session.execute(templates_query(company_id, job_type=JobType(job_type))).scalars().all()
    category = CustomerCategory(category).value
    specific = [t for t in rows if category in (t.customer_categories or [])]
    generic = [t for t in rows if not t.customer_categories]
    chosen = (specific or generic or [None])[0]
    if chosen is None:
        raise ApiError(404, "no_template", f"no active checklist for {JobType(job_type).value} / {category}")
    return chosen


def template_for_job(job: Job) -> ChecklistTemplate:
    """The checklist the technician fills in on this job."""
    customer = db.session.get(Customer, job.customer_id)
    return pick_template(job.company_id, job.job_type, customer.category)
