"""The HTTP transport and the sync worker against the real server: protocol mismatch, revoked device."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from mobile.keystore import KdfParams, Keystore
from mobile.session import Session
from mobile.store import DeviceStore, store_files
from mobile.sync_service import SyncService
from mobile.transport import HttpTransport, login
from server.auth.models import Role
from server.extensions import db
from sync.wire import PROTOCOL_VERSION_HEADER
from tests.conftest import PASSWORD


def _tablet(tmp_path, live_server, username):
    keys = Keystore(tmp_path / "d.sqlite", kdf=KdfParams(1, 1024))
    store = DeviceStore(tmp_path / "d.sqlite", key=keys.create("123456", PASSWORD))
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
    heard = []
    service.bind(heard.append)
    service.start()
    service.wait()
    assert service.state.outcome == "wiped" and heard[-1].outcome == "wiped"
    # Reported lost: the key is destroyed and the store (server copy, customers, outbox, blobs) deleted.
    assert not any(f.exists() for f in store_files(tmp_path / "d.sqlite"))
    assert not Keystore(tmp_path / "d.sqlite").exists() and list(tmp_path.iterdir()) == []
    assert service.erased and not service.start()
    # The dispatcher was told what the tablet last sent (nothing: the note never left it).
    assert resp.get_json()["device"]["mutations_received"] == 0


def test_an_expired_token_or_a_sign_out_keeps_everything(tmp_path, live_server, field_day):
    from server.auth.models import ApiToken

    store, _transport, service = _tablet(tmp_path, live_server, field_day["username"])
    store.create("note", {"job_id": field_day["job_id"], "author_name": "李建国", "text": "先留着",
                          "written_at": dt.datetime.now(dt.UTC).isoformat()})
    db.session.execute(sa.update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    db.session.commit()
    service.start()
    service.wait()
    assert service.state.outcome == "signed_out" and not Session(store).signed_in
    assert store.pending_count() == 1 and (tmp_path / "d.sqlite").exists()
    Session(store).sign_out()  # the technician signs out by hand as well
    assert store.pending_count() == 1 and Keystore(tmp_path / "d.sqlite").exists()
    store.close()
