"""The HTTP transport and the sync worker against the real server: protocol mismatch, revoked device."""

from __future__ import annotations

import datetime as dt

from mobile.session import Session
from mobile.store import DeviceStore
from mobile.sync_service import SyncService
from mobile.transport import HttpTransport, login
from server.auth.models import Role
from sync.wire import PROTOCOL_VERSION_HEADER
from tests.conftest import PASSWORD


def _tablet(tmp_path, live_server, username):
    store = DeviceStore(tmp_path / "d.sqlite")
    session = Session(store)
    answer = login(live_server, username, PASSWORD, session.device_id)
    session.remember_login(live_server, answer["access_token"], answer["user"])
    transport = HttpTransport(live_server, session.token, session.device_id)
    service = SyncService(store, lambda: transport)
    return store, transport, service


def test_sync_worker_pulls_the_day_and_pushes_a_change(tmp_path, live_server, field_day):
    store, _transport, service = _tablet(tmp_path, live_server, field_day["username"])
    heard = []
    service.bind(heard.append)
    assert service.start()
    service.wait()
    assert service.state.outcome == "ok" and store.get("job", field_day["job_id"])["status"] == "dispatched"
    assert any(s.running for s in heard) and not heard[-1].running
    assert service.last_report.pulled_rows >= 5 and store.get_meta("last_sync")
    store.update("job", field_day["job_id"], {"eta": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()})
    assert service.auto_tick()  # something to send: the automatic sync goes
    service.wait()
    assert service.state.outcome == "ok" and store.pending_count() == 0
    store.close()


def test_protocol_mismatch_is_explicit_and_keeps_the_outbox(tmp_path, live_server, field_day):
    store, transport, service = _tablet(tmp_path, live_server, field_day["username"])
    store.create("note", {"job_id": field_day["job_id"], "author_name": "李建国", "text": "先留着",
                          "written_at": dt.datetime.now(dt.UTC).isoformat()})
    transport.http.headers[PROTOCOL_VERSION_HEADER] = "99"  # a client from the future
    service.start()
    service.wait()
    assert service.state.outcome == "protocol_mismatch"
    assert store.pending_count() == 1
    store.close()


def test_revoked_device_stops_syncing_but_keeps_its_work(tmp_path, live_server, field_day, make_user, login):
    from server.extensions import db
    from server.org.models import Company

    store, _transport, service = _tablet(tmp_path, live_server, field_day["username"])
    store.create("note", {"job_id": field_day["job_id"], "author_name": "李建国", "text": "先留着",
                          "written_at": dt.datetime.now(dt.UTC).isoformat()})
    company = db.session.get(Company, field_day["company_id"])
    make_user(company, Role.DISPATCHER, "disp-m")
    from flask import current_app

    client = current_app.test_client()
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": Session(store).device_id},
                       headers=login("disp-m"))
    assert resp.status_code == 200 and resp.get_json()["revoked"] == 1
    service.start()
    service.wait()
    assert service.state.outcome == "wiped"
    assert store.pending_count() == 1 and not Session(store).signed_in
    store.close()
