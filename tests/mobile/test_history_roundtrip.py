"""Earlier visits at a household travel from the server (read-only household_history) to the job screen's
view-model; a household without any shows none."""

from __future__ import annotations

import datetime as dt
import uuid

from mobile.session import Session
from mobile.store import DeviceStore
from mobile.sync_service import SyncService
from mobile.transport import HttpTransport, login
from mobile.viewmodels.job import JobDetailViewModel
from server.extensions import db
from server.jobs.models import Job, JobStatus, JobType
from tests.conftest import PASSWORD


def test_an_earlier_completed_visit_shows_on_the_tablets_job(live_server, field_day, tmp_path):
    job = db.session.get(Job, uuid.UUID(field_day["job_id"]))
    earlier = Job(company_id=job.company_id, ref="T-EARLIER-1", job_type=JobType.SAFETY_INSPECTION,
                  customer_id=job.customer_id, premises_id=job.premises_id, technician_id=job.technician_id,
                  window_start=job.window_start - dt.timedelta(days=90),
                  window_end=job.window_start - dt.timedelta(days=90, hours=-2), status=JobStatus.COMPLETED)
    earlier.completed_at = earlier.window_start + dt.timedelta(minutes=50)
    db.session.add(earlier)
    db.session.commit()

    store = DeviceStore(tmp_path / "device.sqlite")
    session = Session(store)
    answer = login(live_server, field_day["username"], PASSWORD, session.device_id)
    session.remember_login(live_server, answer["access_token"], answer["user"])
    sync = SyncService(store, lambda: HttpTransport(live_server, session.token, session.device_id))
    assert sync.start()
    sync.wait(30)
    assert sync.state.outcome == "ok", sync.state.detail

    file = JobDetailViewModel(store).load(field_day["job_id"])
    [line] = [h for h in file.history if h.job_id == str(earlier.id)]
    assert (line.job_type, line.outcome, line.technician_name) == ("safety_inspection", "completed", "李建国")
    done = earlier.completed_at if earlier.completed_at.tzinfo else earlier.completed_at.replace(tzinfo=dt.UTC)
    assert line.finished is not None and abs((line.finished - done).total_seconds()) < 1
    assert str(earlier.id) not in {j["id"] for j in file.earlier_visits}  # not listed twice
    store.close()
