"""Complaints (R10): 5-working-day deadline, agreed extensions, answer/close, confidentiality,
conflict of interest on the complaint visit."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from server.db import utcnow
from server.extensions import db
from server.jobs.calendar import package_years, set_year
from server.jobs.models import Complaint

SH = ZoneInfo("Asia/Shanghai")
FRIDAY = dt.datetime(2026, 11, 27, 10, 0, tzinfo=SH)


@pytest.fixture
def calendar_entered(jobs_world):
    """Whatever today's date, this year and next are known to company A (entered when the package
    does not know them), so deadlines counted from now can be computed."""
    year = utcnow().astimezone(SH).year
    for y in (year, year + 1):
        if y not in package_years():
            set_year(jobs_world.company.id, y, [(dt.date(y, 1, 1), False, "元旦")])
    db.session.commit()
    return jobs_world


def _complaint(client, w, headers=None, **fields) -> dict:
    body = {"complainant_name": "陈先生", "complainant_phone": "13900001234", "summary": "维修员迟到且态度差",
            "details": "住址：幸福路8号3楼；不希望被回访时提到邻居", "received_at": FRIDAY.isoformat(),
            "customer_id": str(w.customer.id)} | fields
    resp = client.post("/api/v1/complaints", json=body, headers=headers or w.customer_service)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_intake_sets_five_working_days_and_is_confidential_by_default(client, jobs_world):
    c = _complaint(client, jobs_world)
    # Friday 27 Nov 2026 → Mon 30 Nov, Tue 1, Wed 2, Thu 3, Fri 4 Dec, end of day local time.
    assert dt.datetime.fromisoformat(c["answer_by"]) == dt.datetime(2026, 12, 4, 23, 59, 59, tzinfo=SH)
    assert c["confidential"] is True and c["status"] == "open" and c["deadline"] == c["answer_by"]


def test_a_deadline_in_an_unentered_year_is_refused_not_guessed(client, jobs_world):
    w = jobs_world
    body = {"complainant_name": "陈先生", "summary": "燃气费", "received_at": "2026-12-28T10:00:00+08:00"}
    resp = client.post("/api/v1/complaints", json=body, headers=w.customer_service)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "calendar_not_entered"
    assert "2027" in resp.get_json()["message"]
    assert db.session.query(Complaint).count() == 0
    set_year(w.company.id, 2027, [(dt.date(2027, 1, 1), False, "元旦")])
    db.session.commit()
    resp = client.post("/api/v1/complaints", json=body, headers=w.customer_service)
    assert resp.status_code == 201
    assert dt.datetime.fromisoformat(resp.get_json()["answer_by"]) == dt.datetime(2027, 1, 5, 23, 59, 59, tzinfo=SH)


def test_bad_intake(client, jobs_world):
    w = jobs_world
    base = {"complainant_name": "陈先生", "summary": "x"}
    cases = [
        ({"summary": "x"}, 422),
        (base | {"involved_technician_ids": ["nope"]}, 422),
        (base | {"received_at": "2026-11-27T10:00:00"}, 422),
        (base | {"channel": "carrier pigeon"}, 422),
        (base | {"involved_technician_ids": [str(w.other_tech.id)]}, 404),
        (base | {"customer_id": str(w.other_customer.id)}, 404),
    ]
    for body, status in cases:
        assert client.post("/api/v1/complaints", json=body, headers=w.customer_service).status_code == status, body
    assert db.session.query(Complaint).count() == 0


def test_extension_answer_and_close(client, jobs_world):
    w = jobs_world
    c = _complaint(client, w)
    url = f"/api/v1/complaints/{c['id']}"
    earlier = {"until": "2026-12-03T18:00:00+08:00", "reason": "需协调物业"}
    resp = client.post(f"{url}/extension", json=earlier, headers=w.customer_service)
    assert resp.status_code == 422 and "until" in resp.get_json()["errors"]["json"]
    resp = client.post(f"{url}/extension", json={"until": "2026-12-11T18:00:00+08:00", "reason": ""},
                       headers=w.customer_service)
    assert resp.status_code == 422
    resp = client.post(f"{url}/extension", json={"until": "2026-12-11T18:00:00+08:00", "reason": "需协调物业"},
                       headers=w.customer_service)
    assert resp.status_code == 200
    assert resp.get_json()["deadline"] == resp.get_json()["extended_until"]
    assert resp.get_json()["extension_reason"] == "需协调物业"
    assert client.post(f"{url}/close", headers=w.customer_service).get_json()["reason"] == "complaint_not_answered"
    resp = client.post(f"{url}/answer", json={"answer": "已致歉并更换维修员"}, headers=w.customer_service)
    assert resp.status_code == 200 and resp.get_json()["status"] == "answered"
    resp = client.post(f"{url}/extension", json={"until": "2026-12-20T18:00:00+08:00", "reason": "x"},
                       headers=w.customer_service)
    assert resp.status_code == 409
    assert client.post(f"{url}/close", headers=w.customer_service).get_json()["status"] == "closed"


def test_list_shows_working_days_left_and_is_company_scoped(client, calendar_entered):
    w = calendar_entered
    now = utcnow()
    c = _complaint(client, w, received_at=now.isoformat(), summary="50%_' OR 1=1")
    listed = client.get("/api/v1/complaints", headers=w.dispatcher).get_json()
    assert listed["total"] == 1
    row = listed["items"][0]
    assert row["complaint"]["id"] == c["id"] and row["working_days_left"] == 5
    assert row["complaint"]["summary"] == "50%_' OR 1=1"
    assert client.get("/api/v1/complaints", headers=w.other_dispatcher).get_json()["total"] == 0
    assert client.get(f"/api/v1/complaints/{c['id']}", headers=w.other_dispatcher).status_code == 404
    assert client.get("/api/v1/complaints?status=closed", headers=w.dispatcher).get_json()["total"] == 0


def test_confidential_details_never_reach_a_technician(client, jobs_world):
    w = jobs_world
    c = _complaint(client, w, involved_technician_ids=[str(w.tech.id)])
    for path in ("/api/v1/complaints", f"/api/v1/complaints/{c['id']}"):
        assert client.get(path, headers=w.technician_login).status_code == 403
    resp = client.post(f"/api/v1/complaints/{c['id']}/visit", json={}, headers=w.dispatcher)
    assert resp.status_code == 201
    job = resp.get_json()
    assert job["job_type"] == "complaint_visit" and job["complaint_id"] == c["id"] and job["source"] == "complaint"
    text = json.dumps(job, ensure_ascii=False)
    for secret in ("陈先生", "13900001234", "幸福路", "态度差"):
        assert secret not in text
    # The technician the complaint is about may not handle it (R10); a colleague may.
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "conflict_of_interest"
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech2.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 200


def test_a_non_confidential_complaint_visit_carries_the_summary(client, jobs_world):
    w = jobs_world
    c = _complaint(client, w, confidential=False)
    job = client.post(f"/api/v1/complaints/{c['id']}/visit", json={}, headers=w.dispatcher).get_json()
    assert "维修员迟到" in job["description"] and "幸福路" not in job["description"]


def test_a_hotline_complaint_call_opens_a_complaint(client, calendar_entered):
    w = calendar_entered
    body = {"caller_name": "陈先生", "caller_phone": "13900001234", "category": "complaint", "reason": "收费不合理"}
    call = client.post("/api/v1/calls", json=body, headers=w.customer_service).get_json()["call"]
    complaint = client.get("/api/v1/complaints", headers=w.customer_service).get_json()["items"][0]["complaint"]
    assert complaint["summary"] == "收费不合理" and call["answer_by"] == complaint["answer_by"]
