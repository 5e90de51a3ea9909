"""Revoking a lost tablet (issue #7): ``Device.wipe`` is the one source of truth for "erase yourself",
the token error and sync both carry it, and the dispatcher learns what the tablet last sent."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.extensions import db
from server.sync.models import Device
from tests.factories import in_hours, make_household, make_job
from tests.fixtures.sync import mutation


def _note(job, text: str) -> dict:
    return mutation("note", uuid.uuid4(), "create", job_id=str(job.id), text=text, author_name="李师傅",
                    written_at=dt.datetime.now(dt.UTC).isoformat())


def test_revoking_a_lost_tablet_marks_it_to_wipe_and_says_what_it_last_sent(tablet, make_user, login, client):
    job = make_job(tablet.company, make_household(tablet.company), technician=tablet.technician,
                   window_start=in_hours(1))
    assert tablet.push([_note(job, "一"), _note(job, "二")]).status_code == 200
    make_user(tablet.company, "dispatcher", "disp-r")
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": tablet.device_id}, headers=login("disp-r"))
    body = resp.get_json()
    assert resp.status_code == 200 and body["revoked"] == 1 and body["wipe"] is True
    info = body["device"]
    assert info["known"] and info["mutations_received"] == 2 and info["last_seen_at"]
    assert info["last_mutation"]["collection"] == "note" and info["last_mutation"]["status"] == "applied"
    assert info["technician_id"] == str(tablet.technician.id)
    assert "after its last contact" in body["unsent"]
    device = db.session.execute(sa.select(Device).where(Device.device_id == tablet.device_id)).scalar_one()
    assert device.wipe and device.revoked_at is not None
    for resp in (tablet.push([_note(job, "三")]), client.get("/api/v1/auth/me", headers=tablet.headers)):
        assert resp.status_code == 401
        assert resp.get_json()["reason"] == "device_revoked" and resp.get_json()["details"]["wipe"] is True
    # Signing in again on the lost tablet gives a token, but it cannot sync: the device stays revoked.
    again = login(tablet.user.username, device_id=tablet.device_id)
    resp = tablet.client.post("/api/v1/sync/pull", json={"protocol_version": 1},
                              headers={**again, "X-Fieldsync-Protocol": "1"})
    assert resp.status_code == 401 and resp.get_json()["details"]["wipe"] is True


def test_a_revocation_without_wipe_signs_the_tablet_out_and_keeps_its_data(tablet, make_user, login, client):
    assert tablet.pull(cursor=None).status_code == 200
    make_user(tablet.company, "dispatcher", "disp-n")
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": tablet.device_id, "wipe": False},
                       headers=login("disp-n"))
    assert resp.get_json()["wipe"] is False and resp.get_json()["revoked"] == 1
    resp = tablet.pull(cursor=None)
    assert resp.status_code == 401 and resp.get_json()["details"]["wipe"] is False
    # A new sign-in on the same tablet syncs again (its outbox then goes).
    again = login(tablet.user.username, device_id=tablet.device_id)
    resp = tablet.client.post("/api/v1/sync/pull", json={"protocol_version": 1},
                              headers={**again, "X-Fieldsync-Protocol": "1"})
    assert resp.status_code == 200


def test_a_plain_sign_out_of_a_tablet_token_is_not_a_wipe(tablet, client):
    assert client.post("/api/v1/auth/logout", headers=tablet.headers).status_code == 204
    resp = tablet.pull(cursor=None)
    assert resp.status_code == 401 and resp.get_json()["details"]["wipe"] is False
