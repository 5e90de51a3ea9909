"""The inspection planner (R7) and the meter (R15) and hazard (R16) job generators, through the API."""

import datetime as dt

import sqlalchemy as sa

from server.customers.models import CustomerCategory
from server.db import utcnow
from server.extensions import db
from server.jobs.models import Job, JobSource, JobType
from server.planning.inspections import add_months
from server.visits.models import Hazard, HazardSeverity
from sync.domain.jobs import JobStatus
from tests.factories import make_household, make_job


def _inspected(company, customer, days_ago):
    job = make_job(company, customer, status=JobStatus.COMPLETED)
    job.completed_at = utcnow() - dt.timedelta(days=days_ago)
    db.session.commit()
    return job


def _inspection_jobs(customer):
    return db.session.execute(
        sa.select(Job).where(Job.customer_id == customer.id, Job.source == JobSource.INSPECTION_PLAN)
    ).scalars().all()


def test_add_months_clamps_to_month_end():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 8, 15), 6) == dt.date(2027, 2, 15)


def test_residential_yearly_and_commercial_half_yearly(client, dispatcher):
    company, _, headers = dispatcher
    home_recent = make_household(company)
    _inspected(company, home_recent, days_ago=200)  # due in ~165 days: not yet
    home_due = make_household(company)
    _inspected(company, home_due, days_ago=360)  # due within 30 days
    shop_due = make_household(company, category=CustomerCategory.COMMERCIAL)
    _inspected(company, shop_due, days_ago=200)  # half-yearly: overdue
    never = make_household(company, category=CustomerCategory.INDUSTRIAL)
    resp = client.post("/api/v1/planning/inspections", json={"horizon_days": 30}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["created"] == 3
    assert _inspection_jobs(home_recent) == []
    for customer in (home_due, shop_due, never):
        (job,) = _inspection_jobs(customer)
        assert job.job_type == JobType.SAFETY_INSPECTION and job.status == JobStatus.NEW
        assert job.required_certifications == ["gas_safety"]
    # running the planner again creates nothing new
    assert client.post("/api/v1/planning/inspections", json={}, headers=headers).get_json()["created"] == 0


def test_company_interval_is_respected(client, dispatcher, make_user, login):
    company, _, headers = dispatcher
    company.inspection_interval_months = {"residential": 6, "commercial": 6, "industrial": 6, "heating": 6}
    db.session.commit()
    home = make_household(company)
    _inspected(company, home, days_ago=200)
    assert client.post("/api/v1/planning/inspections", json={}, headers=headers).get_json()["created"] == 1


def test_coverage_by_category(client, dispatcher):
    company, _, headers = dispatcher
    _inspected(company, make_household(company), days_ago=100)
    _inspected(company, make_household(company), days_ago=400)
    make_household(company)
    rows = {r["category"]: r for r in client.get("/api/v1/planning/coverage", headers=headers).get_json()["categories"]}
    res = rows["residential"]
    assert (res["customers"], res["in_date"], res["overdue"], res["never_inspected"]) == (3, 1, 1, 1)
    assert res["coverage_pct"] == 33.3
    assert rows["heating"]["coverage_pct"] is None


def test_meters_due_for_verification_get_meter_jobs(client, dispatcher):
    company, _, headers = dispatcher
    make_household(company, calibration_due_on=dt.date.today() - dt.timedelta(days=3))
    make_household(company, calibration_due_on=dt.date.today() + dt.timedelta(days=200))
    body = client.post("/api/v1/planning/meters", json={"horizon_days": 30}, headers=headers).get_json()
    assert body["created"] == 1
    job = db.session.execute(sa.select(Job).where(Job.job_type == JobType.METER_WORK)).scalar_one()
    assert job.meter_id is not None and job.source == JobSource.METER_DUE
    assert client.post("/api/v1/planning/meters", json={}, headers=headers).get_json()["created"] == 0


def test_hazards_past_deadline_get_rectification_jobs(client, dispatcher):
    company, _, headers = dispatcher
    customer = make_household(company)
    found_on = make_job(company, customer, status=JobStatus.COMPLETED)
    common = dict(company_id=company.id, job_id=found_on.id, customer_id=customer.id,
                  premises_id=customer.premises[0].id, severity=HazardSeverity.MAJOR, description="软管老化",
                  found_at=utcnow() - dt.timedelta(days=10))
    overdue = Hazard(rectify_by=utcnow() - dt.timedelta(days=3), **common)
    in_time = Hazard(rectify_by=utcnow() + dt.timedelta(days=3), **common)
    db.session.add_all([overdue, in_time])
    db.session.commit()
    body = client.post("/api/v1/planning/hazards", headers=headers).get_json()
    assert body["created"] == 1
    db.session.refresh(overdue)
    assert overdue.rectification_job_id is not None and overdue.status == "rectification_scheduled"
