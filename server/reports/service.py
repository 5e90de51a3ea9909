"""Making a visit's service report and telling whether the one made earlier is still current (R18).

Conventions as in ``server.jobs.service``: functions work on ``db.session``, raise ``ApiError`` for a
refusal, flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.blobstore import blob_store
from server.db import utcnow
from server.errors import ApiError
from server.extensions import db
from server.jobs.models import Job
from server.reports.models import ServiceReport
from server.reports.pdf import GENERATOR_VERSION, render_service_report
from server.reports.visit_data import data_fingerprint, visit_report_data


@dataclass(frozen=True)
class GeneratedReport:
    """A rendered report and the row that records it."""

    pdf: bytes
    record: ServiceReport


def _images(company_id: uuid.UUID, data: dict[str, Any]) -> dict[str, bytes]:
    """The signature images the report shows, checked against their content address."""
    images: dict[str, bytes] = {}
    store = blob_store()
    for quote in data["quotes"]:
        signature = quote["signature"]
        if not signature or not signature["image_present"]:
            continue
        sha = signature["image_sha256"]
        raw = store.get(str(company_id), sha)
        if raw is not None and hashlib.sha256(raw).hexdigest() == sha:
            images[sha] = raw
    return images


def latest_report(job: Job) -> ServiceReport | None:
    """The job's most recently generated report, if any."""
    return db.session.execute(
        sa.select(ServiceReport)
        .where(ServiceReport.company_id == job.company_id, ServiceReport.job_id == job.id)
        .order_by(ServiceReport.generated_at.desc(), ServiceReport.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def generate_service_report(
    job: Job, *, user_id: uuid.UUID | None = None, now: dt.datetime | None = None
) -> GeneratedReport:
    """Render the report from the visit's data as it stands and record its SHA-256.

    409 ``visit_not_completed`` before completion. A new ``service_report`` row is written only when
    the bytes differ from the latest one's (asking twice for an unchanged visit records nothing new).
    """
    data = visit_report_data(job)
    pdf = render_service_report(data, _images(job.company_id, data))
    sha = hashlib.sha256(pdf).hexdigest()
    latest = latest_report(job)
    if latest is not None and latest.sha256 == sha:
        return GeneratedReport(pdf, latest)
    record = ServiceReport(
        id=uuid.uuid4(), company_id=job.company_id, job_id=job.id, sha256=sha, data_sha256=data_fingerprint(data),
        size=len(pdf), generator_version=GENERATOR_VERSION, generated_at=now or utcnow(), generated_by_id=user_id,
    )
    db.session.add(record)
    db.session.flush()
    return GeneratedReport(pdf, record)


def report_status(job: Job) -> dict[str, Any]:
    """The latest report's record and whether it is stale (the visit's data changed since).

    404 ``no_report`` when none was generated yet; 409 ``visit_not_completed`` before completion.
    """
    data = visit_report_data(job)
    latest = latest_report(job)
    if latest is None:
        raise ApiError(404, "no_report",
                       f"no service report was generated for job {job.ref} yet: GET its report.pdf to make one")
    versions = db.session.execute(
        sa.select(sa.func.count()).where(ServiceReport.company_id == job.company_id, ServiceReport.job_id == job.id)
    ).scalar_one()
    current = data_fingerprint(data)
    return {
        "job_id": job.id, "job_ref": job.ref, "sha256": latest.sha256, "size": latest.size,
        "generated_at": latest.generated_at, "generator_version": latest.generator_version,
        "data_sha256": latest.data_sha256, "current_data_sha256": current, "stale": current != latest.data_sha256,
        "generator_outdated": latest.generator_version != GENERATOR_VERSION, "versions": versions,
    }
