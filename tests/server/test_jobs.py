"""Jobs through the API: create, list, plan, status machine with gates, assignment (R10, R14), route."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.extensions import db
from server.jobs.models import Complaint, Job
from server.people.models import Certification
from server.visits.models import CleanupConfirmation, Quote, Signature
from sync.domain.quotes import content_hash
from tests.factories import in_hours
from tests.fixtures.jobs import new_job, window

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_create_job_gets_a_daily_ref_and_defaults(client, jobs_world):
    w = jobs_world
    first = new_job(client, w.dispatcher, w.customer, description="年度安检")
    second = new_job(client, w.customer_service, w.customer)
    today = dt.datetime.now(SHANGHAI).strftime("%Y%m%d")
    assert first["ref"] == f"GD-{today}-0001" and second["ref"] == f"GD-{today}-0002"
    assert first["status"] == "new" and first["premises_id"] == str(w.customer.premises[0].id)
    # Numbers are per company: the other company starts at 0001 too.
    other = new_job(client, w.other_dispatcher, w.other_customer)
    assert other["ref"] == f"GD-{today}-0001"


def test_create_job_bad_input_is_named_and_writes_nothing(client, jobs_world):
    w = jobs_world
    resp = client.post(
        "/api/v1/jobs",
        json={"job_type": "teleport", "customer_id": "nope", "duration_minutes": 0, "colour": "red"},
        headers=w.dispatcher,
    )
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]["json"]
    assert {"job_type", "customer_id", "duration_minutes", "colour"} <= set(errors)
    resp = client.post("/api/v1/jobs", json={"job_type": "repair", "customer_id": str(w.customer.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 422 and "fault_kind" in resp.get_json()["errors"]["json"]
    assert db.session.query(Job).count() == 0


def test_other_company_ids_are_404(client, jobs_world):
    w = jobs_world
    resp = client.post("/api/v1/jobs", json={"job_type": "repair", "fault_kind": "network",
                                             "customer_id": str(w.other_customer.id)}, headers=w.dispatcher)
    assert resp.status_code == 404
    theirs = new_job(client, w.other_dispatcher, w.other_customer)
    for method, path, body in [
        ("get", f"/api/v1/jobs/{theirs['id']}", None),
        ("patch", f"/api/v1/jobs/{theirs['id']}", {"priority": 1}),
        ("post", f"/api/v1/jobs/{theirs['id']}/status", {"status": "cancelled", "reason": "x"}),
        ("post", f"/api/v1/jobs/{theirs['id']}/assign", {"technician_id": str(w.tech.id)}),
        ("post", f"/api/v1/jobs/{theirs['id']}/appointment", window(in_hours(24))),
        ("get", f"/api/v1/jobs/{uuid.uuid4()}", None),
    ]:
        resp = getattr(client, method)(path, json=body, headers=w.dispatcher)
        assert resp.status_code == 404, (path, resp.get_json())
    # Our job, their technician: 404 too.
    ours = new_job(client, w.dispatcher, w.customer)
    resp = client.post(f"/api/v1/jobs/{ours['id']}/assign", json={"technician_id": str(w.other_tech.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 404
    assert client.get(f"/api/v1/jobs/{ours['id']}", headers=w.other_dispatcher).status_code == 404


def test_technicians_cannot_use_the_office_job_api(client, jobs_world):
    resp = client.get("/api/v1/jobs", headers=jobs_world.technician_login)
    assert resp.status_code == 403


def test_list_filters_by_local_window_date_status_and_text(client, jobs_world):
    w = jobs_world
    # 2026-12-01 07:30 Shanghai is 2026-11-30 23:30 UTC: it belongs to the 1st in local time.
    early = dt.datetime(2026, 12, 1, 7, 30, tzinfo=SHANGHAI)
    a = new_job(client, w.dispatcher, w.customer, description="50% 折扣_测试")
    b = new_job(client, w.dispatcher, w.customer, description="普通")
    for job, start in ((a, early), (b, early + dt.timedelta(days=1))):
        resp = client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(start), headers=w.dispatcher)
        assert resp.status_code == 200, resp.get_json()
    new_job(client, w.dispatcher, w.customer)  # no window

    def ids(query: str) -> list[str]:
        resp = client.get(f"/api/v1/jobs?{query}", headers=w.dispatcher)
        assert resp.status_code == 200, resp.get_json()
        return [j["id"] for j in resp.get_json()["items"]]

    assert ids("date_from=2026-12-01&date_to=2026-12-01") == [a["id"]]
    assert ids("date_from=2026-12-02") == [b["id"]]
    assert ids("status=scheduled") == [a["id"], b["id"]]
    assert len(ids("status=new")) == 1
    # LIKE metacharacters are literal, and SQL in a filter is just text.
    assert ids("q=50%25") == [a["id"]]
    assert ids("q=%25") == [a["id"]]
    assert ids("q=_") == [a["id"]]
    assert ids("q=' OR 1=1 --") == []
    page = client.get("/api/v1/jobs?per_page=2&page=2", headers=w.dispatcher).get_json()
    assert page["total"] == 3 and len(page["items"]) == 1
    resp = client.get("/api/v1/jobs?date_from=2026-12-05&date_to=2026-12-01", headers=w.dispatcher)
    assert resp.status_code == 422 and "date_to" in resp.get_json()["errors"]["query"]
    assert client.get("/api/v1/jobs?status=flying", headers=w.dispatcher).status_code == 422


def test_update_plan_fields(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    resp = client.patch(f"/api/v1/jobs/{job['id']}", json={"priority": 2, "required_certifications": ["pressure_work"]},
                        headers=w.dispatcher)
    assert resp.status_code == 200
    assert resp.get_json()["priority"] == 2 and resp.get_json()["required_certifications"] == ["pressure_work"]
    for bad in ({}, {"status": "closed"}, {"priority": 9}, {"required_certifications": ["DROP TABLE"]}):
        assert client.patch(f"/api/v1/jobs/{job['id']}", json=bad, headers=w.dispatcher).status_code == 422


def test_illegal_transition_names_the_allowed_states(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    resp = client.post(f"/api/v1/jobs/{job['id']}/status", json={"status": "completed"}, headers=w.dispatcher)
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["reason"] == "illegal_transition"
    assert body["details"]["allowed"] == ["cancelled", "scheduled"]


def test_dispatching_needs_a_technician(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(in_hours(30)), headers=w.dispatcher)
    resp = client.post(f"/api/v1/jobs/{job['id']}/status", json={"status": "dispatched"}, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "no_technician"


def test_ref_numbers_keep_counting_past_9999(client, jobs_world):
    w = jobs_world
    first = new_job(client, w.dispatcher, w.customer)
    row = db.session.get(Job, uuid.UUID(first["id"]))
    row.ref = row.ref[:-4] + "9999"
    db.session.commit()
    second = new_job(client, w.dispatcher, w.customer)
    third = new_job(client, w.dispatcher, w.customer)
    assert second["ref"].endswith("-10000") and third["ref"].endswith("-10001")


def test_cancellation_needs_a_reason(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer)
    resp = client.post(f"/api/v1/jobs/{job['id']}/status", json={"status": "cancelled"}, headers=w.dispatcher)
    assert resp.status_code == 422 and "reason" in resp.get_json()["errors"]["json"]
    resp = client.post(f"/api/v1/jobs/{job['id']}/status", json={"status": "cancelled", "reason": "客户已搬家"},
                       headers=w.dispatcher)
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "cancelled" and resp.get_json()["cancelled_reason"] == "客户已搬家"


def _on_site(client, w, **fields) -> dict:
    job = new_job(client, w.dispatcher, w.customer, **fields)
    client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(in_hours(1)), headers=w.dispatcher)
    assert client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech.id)},
                       headers=w.dispatcher).status_code == 200
    resp = client.post(f"/api/v1/jobs/{job['id']}/status", json={"status": "on_site"}, headers=w.dispatcher)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_chargeable_work_needs_a_signed_quote_covering_its_content(client, jobs_world):
    w = jobs_world
    job = _on_site(client, w, chargeable=True)
    status = f"/api/v1/jobs/{job['id']}/status"
    resp = client.post(status, json={"status": "in_progress"}, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "approval_required"
    line = {"code": "P1", "description": "更换胶管", "kind": "part", "qty": "1", "unit": "根",
            "unit_price_cents": 3500, "amount_cents": 3500}
    quote = Quote(company_id=w.company.id, job_id=uuid.UUID(job["id"]), lines=[line], total_cents=3500, currency="CNY",
                  risk_note="无", technician_name="王师傅", staff_no=w.tech.staff_no, content_hash="",
                  status="approved", created_on_device_at=in_hours(0))
    quote.content_hash = content_hash(quote)
    db.session.add(quote)
    db.session.flush()
    db.session.add(Signature(company_id=w.company.id, job_id=quote.job_id, purpose="quote_approval",
                             quote_id=quote.id, content_hash=quote.content_hash, signer_name="张伟",
                             signed_at=in_hours(0)))
    # The quote was edited after signing: the signature no longer covers it.
    quote.risk_note = "可能损坏墙面"
    db.session.commit()
    resp = client.post(status, json={"status": "in_progress"}, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "approval_required"
    quote.risk_note = "无"
    db.session.commit()
    resp = client.post(status, json={"status": "in_progress"}, headers=w.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["work_started_at"]


def test_completion_needs_the_customers_cleanup_confirmation(client, jobs_world):
    w = jobs_world
    job = _on_site(client, w)
    status = f"/api/v1/jobs/{job['id']}/status"
    assert client.post(status, json={"status": "in_progress"}, headers=w.dispatcher).status_code == 200
    resp = client.post(status, json={"status": "completed"}, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "cleanup_required"
    db.session.add(CleanupConfirmation(company_id=w.company.id, job_id=uuid.UUID(job["id"]),
                                       customer_confirmed=True, confirmed_at=in_hours(0)))
    db.session.commit()
    resp = client.post(status, json={"status": "completed"}, headers=w.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["completed_at"]
    # R6: the completed visit now owes the customer a follow-up call
    from server.followups.models import FollowUpTask

    task = db.session.execute(sa.select(FollowUpTask).where(FollowUpTask.job_id == uuid.UUID(job["id"]))).scalar_one()
    assert task.status == "open" and task.customer_id == w.customer.id


def test_assign_dispatches_and_reassign_and_unassign(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer, required_certifications=["gas_safety"])
    client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(in_hours(30)), headers=w.dispatcher)
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "dispatched" and resp.get_json()["technician_id"] == str(w.tech.id)
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech2.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["technician_id"] == str(w.tech2.id)
    resp = client.post(f"/api/v1/jobs/{job['id']}/unassign", headers=w.dispatcher)
    assert resp.get_json()["status"] == "scheduled" and resp.get_json()["technician_id"] is None
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": "not-a-uuid"},
                       headers=w.dispatcher)
    assert resp.status_code == 422


def test_assignment_needs_certifications_valid_on_the_jobs_day(client, jobs_world):
    w = jobs_world
    job = new_job(client, w.dispatcher, w.customer, required_certifications=["gas_safety", "pressure_work"])
    start = in_hours(24 * 10)
    client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(start), headers=w.dispatcher)
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "not_qualified"
    assert resp.get_json()["details"]["missing"] == ["pressure_work"]
    # tech2 holds it today, but it expires before the job's day.
    cert = db.session.query(Certification).filter_by(technician_id=w.tech2.id, kind="pressure_work").one()
    cert.expires_on = start.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    db.session.commit()
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech2.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["details"]["missing"] == ["pressure_work"]
    cert.expires_on = start.astimezone(SHANGHAI).date()
    db.session.commit()
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech2.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 200
    # Moving the window past the expiry is refused while this technician holds the job.
    later = window(start + dt.timedelta(days=2)) | {"reason": "客户改期"}
    resp = client.post(f"/api/v1/jobs/{job['id']}/appointment", json=later, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "not_qualified"


def test_a_technician_named_in_the_complaint_may_not_take_the_visit(client, jobs_world):
    w = jobs_world
    complaint = Complaint(company_id=w.company.id, customer_id=w.customer.id, received_at=in_hours(0),
                          complainant_name="张伟", summary="态度差", involved_technician_ids=[str(w.tech.id)],
                          answer_by=in_hours(100))
    db.session.add(complaint)
    db.session.commit()
    job = db.session.get(Job, uuid.UUID(new_job(client, w.dispatcher, w.customer, job_type="complaint_visit")["id"]))
    job.complaint_id = complaint.id
    db.session.commit()
    resp = client.post(f"/api/v1/jobs/{job.id}/assign", json={"technician_id": str(w.tech.id)}, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "conflict_of_interest"
    resp = client.post(f"/api/v1/jobs/{job.id}/assign", json={"technician_id": str(w.tech2.id)}, headers=w.dispatcher)
    assert resp.status_code == 200


def test_no_reassignment_once_work_started(client, jobs_world):
    w = jobs_world
    job = _on_site(client, w)
    resp = client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech2.id)},
                       headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "not_assignable"


def test_reorder_a_technicians_day(client, jobs_world):
    w = jobs_world
    day = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    ids = []
    for hour in range(3):
        job = new_job(client, w.dispatcher, w.customer)
        client.post(f"/api/v1/jobs/{job['id']}/appointment", json=window(day + dt.timedelta(hours=hour)),
                    headers=w.dispatcher)
        client.post(f"/api/v1/jobs/{job['id']}/assign", json={"technician_id": str(w.tech.id)},
                    headers=w.dispatcher)
        ids.append(job["id"])
    body = {"technician_id": str(w.tech.id), "day": day.date().isoformat(), "job_ids": [ids[2], ids[0]]}
    resp = client.put("/api/v1/jobs/route", json=body, headers=w.dispatcher)
    assert resp.status_code == 200
    route = resp.get_json()["jobs"]
    assert [j["id"] for j in route] == [ids[2], ids[0], ids[1]]
    assert [j["route_order"] for j in route] == [1, 2, 3]
    listed = client.get(f"/api/v1/jobs?technician_id={w.tech.id}", headers=w.dispatcher).get_json()["items"]
    assert {j["id"]: j["route_order"] for j in listed} == {ids[2]: 1, ids[0]: 2, ids[1]: 3}
    stranger = new_job(client, w.dispatcher, w.customer)
    resp = client.put("/api/v1/jobs/route", json=body | {"job_ids": [stranger["id"]]}, headers=w.dispatcher)
    assert resp.status_code == 422 and "job_ids" in resp.get_json()["errors"]["json"]
    resp = client.put("/api/v1/jobs/route", json=body | {"technician_id": str(w.other_tech.id)}, headers=w.dispatcher)
    assert resp.status_code == 404
