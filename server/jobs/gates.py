"""The visit gates a status change must pass on the server (R3 approval, R4 cleanup; G10).

The rules themselves are the pure functions of ``sync.domain.visits`` (the tablet applies the same
ones); this module only loads the job's quotes, signatures and cleanup confirmations for them.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.errors import ApiError
from server.extensions import db
from server.jobs.models import Job
from server.visits.models import CleanupConfirmation, Quote, Signature
from sync.domain.jobs import JobStatus
from sync.domain.visits import gate_for_status


def _rows(model: type, job: Job) -> list:
    return list(
        db.session.execute(sa.select(model).where(model.job_id == job.id, model.deleted.is_(False))).scalars()
    )


def check_visit_gate(job: Job, new_status: JobStatus) -> None:
    """Raise 409 (``approval_required`` / ``cleanup_required``) unless the visit may take this step."""
    if new_status not in (JobStatus.IN_PROGRESS, JobStatus.COMPLETED):
        return
    gate = gate_for_status(
        job,
        new_status,
        quotes=_rows(Quote, job),
        signatures=_rows(Signature, job),
        cleanups=_rows(CleanupConfirmation, job) if new_status == JobStatus.COMPLETED else (),
    )
    if not gate:
        raise ApiError(409, gate.reason or "gate_closed", gate.message, details={"status": new_status.value})
