"""Follow-up calls after visits (R6): made once per completed visit, listed for customer service,
closed with the customer's satisfaction 1–5 or marked unreachable."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from server.auth.models import Role
from server.db import utcnow
from server.extensions import db
from server.followups.models import FollowUpStatus, FollowUpTask
from server.followups.service import create_follow_up_for_job
from server.jobs.models import JobType
from sync.domain.jobs import JobStatus
from tests.factories import in_hours, make_household, make_job, make_technician

CS, D = Role.CUSTOMER_SERVICE, Role.DISPATCHER


def _completed(company, job_type=JobType.SAFETY_INSPECTION):
    job = make_job(company, make_household(company), technician=make_technician(company), window_start=in_hours(-3),
                   job_type=job_type, status=JobStatus.COMPLETED)
    return job


def test_a_completed_visit_gets_one_follow_up_due_the_next_working_day(ctx, make_company):
    company = make_company()
    job = _completed(company)
    friday_noon = dt.datetime(2026, 11, 27, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Friday
    task = create_follow_up_for_job(job, now=friday_noon)
    again = create_follow_up_for_job(job, now=friday_noon)  # a completion synced twice
    db.session.commit()
    assert again.id == task.id and db.session.query(FollowUpTask).count() == 1
    assert task.kind == "visit_quality" and task.status == FollowUpStatus.OPEN and task.customer_id == job.customer_id
    due = task.due_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert due.date() == dt.date(2026, 11, 30)  # Monday: the weekend does not count
    repair = create_follow_up_for_job(_completed(company, JobType.REPAIR), now=friday_noon)
    assert repair.kind == "repair"


def test_the_due_time_falls_back_to_a_day_when_the_calendar_is_unknown(ctx, make_company):
    company = make_company()
    far = dt.datetime(2199, 3, 4, 10, 0, tzinfo=dt.UTC)  # a year nobody has entered
    task = create_follow_up_for_job(_completed(company), now=far)
    assert task.due_at == far + dt.timedelta(hours=24)


def test_customer_service_lists_open_calls_and_records_satisfaction(client, office):
    company, headers = office
    first, second = _completed(company), _completed(company, JobType.REPAIR)
    overdue = create_follow_up_for_job(first, now=utcnow() - dt.timedelta(days=5))
    upcoming = create_follow_up_for_job(second)
    db.session.commit()
    body = client.get("/api/v1/follow-ups", headers=headers[CS]).get_json()
    assert [t["id"] for t in body["items"]] == [str(overdue.id), str(upcoming.id)]
    assert body["items"][0]["overdue"] is True and body["items"][0]["customer_phone"]
    assert body["items"][0]["job_ref"] == first.ref
    assert client.get("/api/v1/follow-ups?overdue=true", headers=headers[D]).get_json()["total"] == 1
    assert client.get("/api/v1/follow-ups?kind=repair", headers=headers[CS]).get_json()["total"] == 1

    resp = client.post(f"/api/v1/follow-ups/{overdue.id}/outcome", headers=headers[CS],
                       json={"status": "done", "satisfaction": 4, "outcome": "师傅很专业"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "done" and resp.get_json()["satisfaction"] == 4
    db.session.refresh(first)
    assert first.satisfaction == 4  # the household file shows it
    assert [t["id"] for t in client.get("/api/v1/follow-ups", headers=headers[CS]).get_json()["items"]] == [
        str(upcoming.id)]
    again = client.post(f"/api/v1/follow-ups/{overdue.id}/outcome", headers=headers[CS],
                        json={"status": "done", "satisfaction": 1})
    assert again.status_code == 409 and again.get_json()["reason"] == "follow_up_done"


def test_an_unreachable_customer_can_be_called_again(client, office):
    company, headers = office
    task = create_follow_up_for_job(_completed(company))
    db.session.commit()
    url = f"/api/v1/follow-ups/{task.id}/outcome"
    resp = client.post(url, headers=headers[CS], json={"status": "unreachable", "outcome": "无人接听"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "unreachable"
    still = client.get("/api/v1/follow-ups", headers=headers[CS]).get_json()["items"]
    assert [t["id"] for t in still] == [str(task.id)]  # still a call to make
    resp = client.post(url, headers=headers[CS], json={"status": "done", "satisfaction": 5})
    assert resp.status_code == 200 and resp.get_json()["satisfaction"] == 5


def test_outcome_input_is_validated_and_nothing_is_half_written(client, office):
    company, headers = office
    task = create_follow_up_for_job(_completed(company))
    db.session.commit()
    url = f"/api/v1/follow-ups/{task.id}/outcome"
    bad = [
        {"status": "done"},  # satisfaction required
        {"status": "done", "satisfaction": 0},
        {"status": "done", "satisfaction": 6},
        {"status": "done", "satisfaction": "5"},
        {"status": "done", "satisfaction": 4.5},
        {"status": "unreachable", "satisfaction": 3},
        {"status": "open"},
        {"status": "done", "satisfaction": 3, "mood": "happy"},
    ]
    for body in bad:
        resp = client.post(url, headers=headers[CS], json=body)
        assert resp.status_code == 422, (body, resp.get_json())
        assert resp.get_json()["errors"]["json"], body
    db.session.refresh(task)
    assert task.status == FollowUpStatus.OPEN and task.satisfaction is None


def test_follow_ups_are_company_scoped_and_role_checked(client, office, make_company, make_user, login):
    company, headers = office
    task = create_follow_up_for_job(_completed(company))
    db.session.commit()
    other = make_company("other-co")
    make_user(other, CS, "other-cs")
    foreign = login("other-cs")
    assert client.get("/api/v1/follow-ups", headers=foreign).get_json()["total"] == 0
    assert client.get(f"/api/v1/follow-ups/{task.id}", headers=foreign).status_code == 404
    assert client.post(f"/api/v1/follow-ups/{task.id}/outcome", headers=foreign,
                       json={"status": "done", "satisfaction": 5}).status_code == 404
    assert client.get("/api/v1/follow-ups", headers=headers[Role.TECHNICIAN]).status_code == 403
    assert client.post(f"/api/v1/follow-ups/{task.id}/outcome", headers=headers[D],
                       json={"status": "done", "satisfaction": 5}).status_code == 403
