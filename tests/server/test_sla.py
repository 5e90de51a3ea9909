"""Repair clocks (R8), the clocks view and breaches, and the hotline with its answer deadlines (R9)."""

from __future__ import annotations

import datetime as dt
import uuid

from server.db import utcnow
from server.extensions import db
from server.jobs.models import Job, ServiceCall
from tests.fixtures.jobs import new_job


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_network_fault_gets_6h_and_24h_clocks(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer, job_type="repair", fault_kind="network")
    created = _at(job["created_at"])
    assert _at(job["respond_by"]) - created == dt.timedelta(hours=6)
    assert _at(job["fix_by"]) - created == dt.timedelta(hours=24)
    assert job["priority"] == 3


def test_customer_equipment_and_emergencies_are_sent_at_once(client, jobs_world):
    w = jobs_world
    fault = new_job(client, w.dispatcher, w.customer, job_type="repair", fault_kind="customer_equipment")
    smell = new_job(client, w.dispatcher, w.customer, job_type="emergency", priority=4)
    for job in (fault, smell):
        assert _at(job["respond_by"]) - _at(job["created_at"]) == dt.timedelta(hours=1)
        assert job["priority"] == 1 and job["fix_by"] is None
    inspection = new_job(client, w.dispatcher, w.customer)
    assert inspection["respond_by"] is None and inspection["fix_by"] is None


def test_clocks_view_sorts_by_urgency_and_shows_breaches(client, jobs_world):
    w = jobs_world
    network = new_job(client, w.dispatcher, w.customer, job_type="repair", fault_kind="network")
    urgent = new_job(client, w.dispatcher, w.customer, job_type="emergency")
    late = new_job(client, w.dispatcher, w.customer, job_type="repair", fault_kind="network")
    # Make the third one 7 hours old: its response clock has run out.
    row = db.session.get(Job, uuid.UUID(late["id"]))
    row.respond_by, row.fix_by = utcnow() - dt.timedelta(hours=1), utcnow() + dt.timedelta(hours=17)
    db.session.commit()
    new_job(client, w.dispatcher, w.customer)  # no clock: not listed
    resp = client.get("/api/v1/jobs/clocks", headers=w.dispatcher)
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [i["job"]["id"] for i in items] == [late["id"], urgent["id"], network["id"]]
    respond = items[0]["clocks"][0]
    assert respond["name"] == "respond" and respond["breached"] is True and respond["seconds_left"] < 0
    assert items[1]["clocks"][0]["breached"] is False and 3000 < items[1]["clocks"][0]["seconds_left"] <= 3600
    assert client.get("/api/v1/jobs/clocks", headers=w.other_dispatcher).get_json()["total"] == 0


def test_arrival_stops_the_response_clock_and_late_ones_are_reported(client, jobs_world):
    w = jobs_world
    on_time = new_job(client, w.dispatcher, w.customer, job_type="repair", fault_kind="network")
    late = new_job(client, w.dispatcher, w.customer, job_type="repair", fault_kind="network")
    for job, arrived in ((on_time, 1), (late, 7)):
        row = db.session.get(Job, uuid.UUID(job["id"]))
        row.arrived_at = row.created_at + dt.timedelta(hours=arrived)
        row.status = "on_site"
    db.session.commit()
    clocks = client.get("/api/v1/jobs/clocks", headers=w.dispatcher).get_json()["items"]
    # Both still have their fix clock running; the response clock is met (late for one).
    assert {i["job"]["id"] for i in clocks} == {on_time["id"], late["id"]}
    by_id = {i["job"]["id"]: {c["name"]: c for c in i["clocks"]} for i in clocks}
    assert by_id[late["id"]]["respond"]["met_at"] and by_id[late["id"]]["respond"]["breached"] is True
    assert by_id[on_time["id"]]["respond"]["breached"] is False
    breaches = client.get("/api/v1/jobs/sla-breaches", headers=w.dispatcher).get_json()
    assert [i["job"]["id"] for i in breaches["items"]] == [late["id"]]
    future = (utcnow() + dt.timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/jobs/sla-breaches", query_string={"since": future},
                      headers=w.dispatcher).get_json()["total"] == 0


def test_hotline_question_and_special_case_deadlines(client, jobs_world):
    w = jobs_world
    base = {"caller_name": "李女士", "caller_phone": "13800001111", "reason": "咨询燃气费"}
    q = client.post("/api/v1/calls", json=base | {"category": "question"}, headers=w.customer_service)
    s = client.post("/api/v1/calls", json=base | {"category": "special"}, headers=w.customer_service)
    assert q.status_code == 201 and s.status_code == 201
    q, s = q.get_json(), s.get_json()
    assert q["job"] is None
    assert _at(q["call"]["answer_by"]) - _at(q["call"]["received_at"]) == dt.timedelta(hours=4)
    assert _at(s["call"]["answer_by"]) - _at(s["call"]["received_at"]) == dt.timedelta(hours=24)
    listed = client.get("/api/v1/calls", headers=w.dispatcher).get_json()["items"]
    assert [c["id"] for c in listed] == [q["call"]["id"], s["call"]["id"]]
    assert 14000 < listed[0]["seconds_left"] <= 4 * 3600
    resp = client.post(f"/api/v1/calls/{q['call']['id']}/answer", json={"result": "已告知收费标准"},
                       headers=w.customer_service)
    assert resp.status_code == 200 and resp.get_json()["answered_late"] is False
    resp = client.post(f"/api/v1/calls/{q['call']['id']}/answer", json={"result": "again"},
                       headers=w.customer_service)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "already_answered"
    assert [c["id"] for c in client.get("/api/v1/calls", headers=w.dispatcher).get_json()["items"]] == [s["call"]["id"]]
    assert client.get("/api/v1/calls?all=true", headers=w.dispatcher).get_json()["total"] == 2
    assert client.get(f"/api/v1/calls/{q['call']['id']}", headers=w.other_dispatcher).status_code == 404


def test_a_repair_call_creates_its_job_with_clocks(client, jobs_world):
    w = jobs_world
    body = {"caller_name": "张伟", "caller_phone": "13800002222", "category": "repair", "reason": "表前阀漏气",
            "customer_id": str(w.customer.id), "fault_kind": "network"}
    resp = client.post("/api/v1/calls", json=body, headers=w.dispatcher)
    assert resp.status_code == 201
    call, job = resp.get_json()["call"], resp.get_json()["job"]
    assert job["source"] == "hotline" and job["service_call_id"] == call["id"] and job["description"] == "表前阀漏气"
    assert call["answer_by"] == job["respond_by"]
    assert _at(job["fix_by"]) - _at(call["received_at"]) == dt.timedelta(hours=24)
    emergency = body | {"category": "emergency", "fault_kind": None}
    job = client.post("/api/v1/calls", json=emergency, headers=w.dispatcher).get_json()["job"]
    assert job["job_type"] == "emergency" and job["priority"] == 1


def test_bad_calls_write_nothing(client, jobs_world):
    w = jobs_world
    base = {"caller_name": "张伟", "caller_phone": "13800002222", "reason": "漏气"}
    cases = [
        (base | {"category": "repair", "fault_kind": "network"}, 422, "customer_id"),
        (base | {"category": "repair", "customer_id": str(w.customer.id)}, 422, "fault_kind"),
        (base | {"category": "gossip"}, 422, "category"),
        (base | {"category": "question", "caller_phone": "'; DROP TABLE job; --"}, 422, "caller_phone"),
        (base | {"category": "repair", "fault_kind": "network", "customer_id": str(w.other_customer.id)}, 404, None),
    ]
    for body, status, field in cases:
        resp = client.post("/api/v1/calls", json=body, headers=w.dispatcher)
        assert resp.status_code == status, (body, resp.get_json())
        if field:
            assert field in resp.get_json()["errors"]["json"]
    assert db.session.query(ServiceCall).count() == 0 and db.session.query(Job).count() == 0
    assert client.post("/api/v1/calls", json=base | {"category": "question"},
                       headers=w.technician_login).status_code == 403
