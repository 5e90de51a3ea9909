"""Against the real server on loopback: a job reassigned away takes its household's file off the
tablet at the next sync — after the tablet's own late note on it was answered (G8) — and the note
reaches the office."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from mobile.keystore import KdfParams, Keystore
from mobile.session import Session
from mobile.store import DeviceStore
from mobile.sync_service import SyncService
from mobile.transport import HttpTransport, login
from server.extensions import db
from server.jobs.models import Job
from server.org.models import Company
from server.visits.models import Note
from tests.conftest import PASSWORD
from tests.factories import make_technician_user


def _tables(store: DeviceStore) -> str:
    return "\n".join(repr(r) for t in ("row", "server_row", "notice", "departed")
                     for r in store._db.execute(f"SELECT * FROM {t}"))  # noqa: S608 (fixed names)


def test_a_reassigned_job_leaves_with_its_household_after_the_late_note_is_answered(tmp_path, live_server,
                                                                                    field_day):
    keys = Keystore(tmp_path / "d.sqlite", kdf=KdfParams(1, 1024))
    store = DeviceStore(tmp_path / "d.sqlite", key=keys.create("123456", PASSWORD))
    session = Session(store)
    answer = login(live_server, field_day["username"], PASSWORD, session.device_id)
    session.remember_login(live_server, answer["access_token"], answer["user"])
    transport = HttpTransport(live_server, session.token, session.device_id)
    service = SyncService(store, lambda: transport)
    service.start()
    service.wait()
    assert service.state.outcome == "ok"
    job = store.get("job", field_day["job_id"])
    customer = store.get("customer", job["customer_id"])
    address = store.get("premises", job["premises_id"])["address"]
    assert customer["name"] == "王芳" and customer["name"] in _tables(store)

    # Offline at the door, the technician writes a note; meanwhile the office gives the job to someone else.
    store.create("note", {"job_id": job["id"], "author_name": "李建国", "text": "客户不在家，已留条",
                          "written_at": dt.datetime.now(dt.UTC).isoformat()})
    company = db.session.get(Company, field_day["company_id"])
    _, other = make_technician_user(company, "tech-other")
    db.session.get(Job, uuid.UUID(job["id"])).technician_id = other.id
    db.session.commit()

    service.start()
    service.wait()
    assert service.state.outcome == "ok" and store.pending_count() == 0
    assert service.last_report.count("conflict") == 1  # the late note: kept, for dispatch to review (G8)
    text = _tables(store)
    for secret in (customer["name"], customer["phone"], address, customer["account_no"]):
        assert secret not in text
    assert store.get("job", job["id"]) is None  # (the conflict notice naming it stays for the technician)
    assert store.departed() == [] and store.count_rows("customer") == 0
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note).where(
        Note.text == "客户不在家，已留条")) == 1
    store.close()
