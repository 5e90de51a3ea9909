"""Appointments (R1) and their changes with notice and customer notification (R2)."""

from __future__ import annotations

import datetime as dt
import uuid

from server.customers.models import Customer
from server.extensions import db
from server.jobs.appointments import agree_window, cancel_appointment
from server.jobs.models import Appointment, Job
from server.notifications.models import Notification
from tests.factories import in_hours
from tests.fixtures.jobs import new_job, window


def _appointments(job_id: str) -> list[Appointment]:
    return db.session.query(Appointment).filter_by(job_id=uuid.UUID(job_id)).order_by(Appointment.agreed_at).all()


def test_agreeing_a_window_schedules_the_job(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.customer_service, w.customer)
    start = in_hours(48)
    resp = client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(start) | {"agreed_with": "张伟本人"},
                       headers=w.customer_service)
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "active" and resp.get_json()["job_ref"] == job["ref"]
    got = client.get(f"/api/v1/jobs/{job['id']}", headers=w.dispatcher).get_json()
    assert got["status"] == "scheduled"
    assert dt.datetime.fromisoformat(got["window_start"]) == start
    # No notification for the first agreement: nothing changed for the customer.
    assert db.session.query(Notification).count() == 0


def test_bad_windows_are_refused(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    url = f"/api/v1/jobs/{job['id']}/appointment"
    start = in_hours(24)
    cases = [
        ({"window_start": start.isoformat(), "window_end": start.isoformat()}, "window_end"),
        (window(start, hours=13), "window_end"),
        (window(in_hours(-5)), "window_end"),
        ({"window_start": "2026-12-01T09:00:00", "window_end": "2026-12-01T11:00:00"}, "window_start"),
        ({"window_start": "tomorrow"}, "window_start"),
    ]
    for body, field in cases:
        resp = client.post(url, json=body, headers=w.dispatcher)
        assert resp.status_code == 422, body
        assert field in resp.get_json()["errors"]["json"], resp.get_json()
    assert _appointments(job["id"]) == []


def test_a_change_supersedes_with_notice_and_notifies_the_customer(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    url = f"/api/v1/jobs/{job['id']}/appointment"
    first = in_hours(5)
    client.post(url, json=window(first), headers=w.dispatcher)
    resp = client.post(url, json=window(in_hours(30)), headers=w.dispatcher)
    assert resp.status_code == 422 and "reason" in resp.get_json()["errors"]["json"]
    resp = client.post(url, json=window(in_hours(30)) | {"reason": "客户临时外出"}, headers=w.dispatcher)
    assert resp.status_code == 200
    old, new = _appointments(job["id"])
    assert old.status == "superseded" and new.status == "active"
    assert 295 <= old.notice_minutes <= 300 and old.short_notice is False
    note = db.session.query(Notification).one()
    assert note.kind == "rescheduled" and note.recipient == w.customer.phone
    assert job["ref"] in note.body and "客户临时外出" in note.body and note.status == "queued"
    assert note.notice_minutes == old.notice_minutes
    # Nothing short-notice yet.
    assert client.get("/api/v1/jobs/short-notice", headers=w.dispatcher).get_json()["total"] == 0


def test_a_change_less_than_two_hours_ahead_is_an_r2_breach(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    url = f"/api/v1/jobs/{job['id']}/appointment"
    client.post(url, json=window(in_hours(1.5)), headers=w.dispatcher)
    client.post(url, json=window(in_hours(26)) | {"reason": "技术员病假"}, headers=w.dispatcher)
    resp = client.get("/api/v1/jobs/short-notice", headers=w.dispatcher)
    items = resp.get_json()["items"]
    assert len(items) == 1 and items[0]["short_notice"] is True and items[0]["job_ref"] == job["ref"]
    assert 85 <= items[0]["notice_minutes"] <= 90
    assert client.get("/api/v1/jobs/short-notice", headers=w.other_dispatcher).get_json()["total"] == 0
    future = (in_hours(1)).isoformat().replace("+00:00", "Z")
    resp = client.get("/api/v1/jobs/short-notice", query_string={"since": future}, headers=w.dispatcher)
    assert resp.get_json()["total"] == 0


def test_cancelling_the_appointment_notifies_and_reopens_the_job(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(in_hours(1)), headers=w.dispatcher)
    client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech.id)}, headers=w.dispatcher)
    url = f"/api/v1/jobs/{job['id']}/appointment/cancel"
    assert client.post(url, json={"reason": ""}, headers=w.dispatcher).status_code == 422
    resp = client.post(url, json={"reason": "管网抢修"}, headers=w.dispatcher)
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "cancelled" and resp.get_json()["short_notice"] is True
    got = client.get(f"/api/v1/jobs/{job['id']}", headers=w.dispatcher).get_json()
    assert got["status"] == "new" and got["window_start"] is None and got["technician_id"] is None
    note = db.session.query(Notification).one()
    assert note.kind == "cancelled" and "管网抢修" in note.body
    # Nothing left to cancel.
    resp = client.post(url, json={"reason": "again"}, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "no_appointment"
    history = client.get(f"/api/v1/jobs/{job['id']}/appointments", headers=w.dispatcher).get_json()
    assert history["total"] == 1


def test_cancelling_the_job_cancels_its_appointment(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(in_hours(50)), headers=w.dispatcher)
    resp = client.post(f"/api/v1/jobs/{job['id']}/status", json={"status": "cancelled", "reason": "重复工单"},
                       headers=w.dispatcher)
    assert resp.status_code == 200
    (appointment,) = _appointments(job["id"])
    assert appointment.status == "cancelled" and appointment.short_notice is False
    assert db.session.query(Notification).one().kind == "cancelled"


def test_a_customer_without_a_phone_gets_a_failed_notification_the_office_can_see(client, jobs_world):
    w = jobs_world
    customer = db.session.get(Customer, w.customer.id)
    customer.phone = ""
    db.session.commit()
    job = db.session.get(Job, uuid.UUID(new_job(client, w.dispatcher, customer)["id"]))
    agree_window(job, in_hours(3), in_hours(5))
    cancel_appointment(job, reason="停气")
    db.session.commit()
    note = db.session.query(Notification).one()
    assert note.status == "failed" and "phone" in note.error


def test_window_of_a_job_on_site_cannot_change(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(in_hours(1)), headers=w.dispatcher)
    client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech.id)}, headers=w.dispatcher)
    client.post(f"/api/v1/jobs/{job['id']}/status", json={"status": "on_site"}, headers=w.dispatcher)
    resp = client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(in_hours(20)) | {"reason": "x"},
                       headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "not_replannable"
