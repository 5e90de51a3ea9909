"""GET /api/v1/conflicts and POST /api/v1/conflicts/<id>/resolve: a person reviews every conflict (G6)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.auth.models import Role
from server.db import AuditEntry
from server.extensions import db
from server.jobs.models import Job
from tests.factories import in_hours, make_household, make_job
from tests.fixtures.sync import mutation


def _conflict(tablet, order: int = 2) -> Job:
    job = make_job(tablet.company, make_household(tablet.company), technician=tablet.technician,
                   window_start=in_hours(1))
    seen = job.version
    db.session.get(Job, job.id).route_order = 7
    db.session.commit()
    r = tablet.push([mutation("job", job.id, base_version=seen, route_order=order)]).get_json()["results"][0]
    assert r["status"] == "conflict"
    return job


def test_dispatchers_list_filter_and_page_conflicts(tablet, make_user, login, make_company):
    jobs = [_conflict(tablet, order=i) for i in (1, 2, 3)]
    make_user(tablet.company, Role.DISPATCHER, "disp-c")
    headers = login("disp-c")
    page = tablet.client.get("/api/v1/conflicts?per_page=2", headers=headers).get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    item = page["items"][0]
    assert item["rule"] == "plan_dispatch_wins" and item["field"] == "route_order" and item["status"] == "open"
    assert item["server_value"] == 7 and item["device_value"] in (1, 2, 3) and item["message"]
    one = tablet.client.get(f"/api/v1/conflicts?job_id={jobs[0].id}", headers=headers).get_json()
    assert one["total"] == 1 and one["items"][0]["device_value"] == 1
    assert tablet.client.get("/api/v1/conflicts?status=resolved", headers=headers).get_json()["total"] == 0
    bad = tablet.client.get("/api/v1/conflicts?status=maybe", headers=headers)
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]["query"]
    # A technician may not read them; another company sees none of them.
    assert tablet.client.get("/api/v1/conflicts", headers=tablet.headers).status_code == 403
    make_user(make_company("sync-y"), Role.DISPATCHER, "disp-y")
    other = login("disp-y")
    assert tablet.client.get("/api/v1/conflicts", headers=other).get_json()["total"] == 0
    cid = item["id"]
    assert tablet.client.get(f"/api/v1/conflicts/{cid}", headers=other).status_code == 404
    assert tablet.client.post(f"/api/v1/conflicts/{cid}/resolve", json={"resolution": "keep_server"},
                              headers=other).status_code == 404


def test_taking_the_device_value_writes_the_row_and_is_audited(tablet, make_user, login):
    job = _conflict(tablet, order=2)
    user = make_user(tablet.company, Role.DISPATCHER, "disp-r")
    headers = login("disp-r")
    cid = tablet.client.get("/api/v1/conflicts", headers=headers).get_json()["items"][0]["id"]
    before = db.session.get(Job, job.id).version
    resp = tablet.client.post(f"/api/v1/conflicts/{cid}/resolve", headers=headers,
                              json={"resolution": "take_device", "note": "技师的顺序更合理"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "resolved" and body["resolution"] == "take_device"
    assert body["resolved_by_id"] == str(user.id) and body["resolved_at"]
    db.session.expire_all()
    changed = db.session.get(Job, job.id)
    assert changed.route_order == 2 and changed.version > before  # travels to the tablet with the next pull
    audit = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.entity == "job", AuditEntry.entity_id == str(job.id),
                                    AuditEntry.actor_id == user.id)).scalars().all()
    assert any("route_order" in a.changes for a in audit)
    again = tablet.client.post(f"/api/v1/conflicts/{cid}/resolve", headers=headers, json={"resolution": "keep_server"})
    assert again.status_code == 409 and again.get_json()["reason"] == "already_resolved"


def test_custom_values_are_validated_and_keep_server_changes_nothing(tablet, make_user, login):
    job = _conflict(tablet)
    _conflict(tablet)
    make_user(tablet.company, Role.DISPATCHER, "disp-k")
    headers = login("disp-k")
    items = tablet.client.get(f"/api/v1/conflicts?job_id={job.id}", headers=headers).get_json()["items"]
    cid = items[0]["id"]
    bad = tablet.client.post(f"/api/v1/conflicts/{cid}/resolve", headers=headers,
                             json={"resolution": "custom", "value": "first"})
    assert bad.status_code == 422 and "value" in bad.get_json()["errors"]["json"]
    missing = tablet.client.post(f"/api/v1/conflicts/{cid}/resolve", headers=headers, json={"resolution": "custom"})
    assert missing.status_code == 422
    ok = tablet.client.post(f"/api/v1/conflicts/{cid}/resolve", headers=headers,
                            json={"resolution": "custom", "value": 4})
    assert ok.status_code == 200 and ok.get_json()["resolved_value"] == 4
    db.session.expire_all()
    assert db.session.get(Job, job.id).route_order == 4
    other = tablet.client.get("/api/v1/conflicts?status=open", headers=headers).get_json()["items"][0]
    other_job = uuid.UUID(other["job_id"])
    version = db.session.scalar(sa.select(Job.version).where(Job.id == other_job))
    kept = tablet.client.post(f"/api/v1/conflicts/{other['id']}/resolve", headers=headers,
                              json={"resolution": "keep_server"})
    assert kept.status_code == 200
    assert db.session.scalar(sa.select(Job.version).where(Job.id == other_job)) == version
