"""Route optimisation through the API: windows, skills, shifts, pins, unplaceable jobs, commit, ETAs."""

import datetime as dt
from zoneinfo import ZoneInfo

from server.extensions import db
from server.jobs.models import Job, JobType
from server.planning.vrp import PlanJob, PlanTechnician, nearest_neighbour, solve
from tests.factories import make_household, make_job, make_technician

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date.today() + dt.timedelta(days=1)


def at(hour: float) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(0), SH) + dt.timedelta(hours=hour)


def _day(company, n_jobs=6, certs=("gas_safety",)):
    techs = [make_technician(company, name=f"师傅{i}", certifications=certs) for i in range(2)]
    jobs = []
    for i in range(n_jobs):
        customer = make_household(company, lat=31.20 + 0.01 * i, lon=121.45 + 0.01 * (i % 3))
        job = make_job(company, customer, window_start=at(9 + i % 6), hours=2)
        job.status = "scheduled"
        job.required_certifications = ["gas_safety"]
        jobs.append(job)
    db.session.commit()
    return techs, jobs


def test_optimise_places_every_job_within_its_window(client, dispatcher):
    company, _, headers = dispatcher
    techs, jobs = _day(company)
    resp = client.post("/api/v1/planning/optimise", json={"day": DAY.isoformat()}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    plan = resp.get_json()
    assert plan["unassigned"] == []
    stops = [s for r in plan["routes"] for s in r["stops"]]
    assert sorted(s["job_id"] for s in stops) == sorted(str(j.id) for j in jobs)
    for s in stops:
        start = dt.datetime.fromisoformat(s["start"])
        assert dt.datetime.fromisoformat(s["window_start"]) <= start <= dt.datetime.fromisoformat(s["window_end"])
        assert s["late"] is False
    # a preview writes nothing
    assert all(db.session.get(Job, j.id).technician_id is None for j in jobs)


def test_job_needing_a_certification_nobody_holds_is_reported_not_placed(client, dispatcher):
    company, _, headers = dispatcher
    techs, jobs = _day(company, n_jobs=2)
    jobs[0].required_certifications = ["pressure_work"]
    db.session.commit()
    plan = client.post("/api/v1/planning/optimise", json={"day": DAY.isoformat()}, headers=headers).get_json()
    assert plan["unassigned"] == [{"job_id": str(jobs[0].id), "ref": jobs[0].ref, "reason": "no_qualified_technician"}]


def test_expired_certification_does_not_count(client, dispatcher):
    company, _, headers = dispatcher
    make_technician(company, expires_on=DAY - dt.timedelta(days=1))
    customer = make_household(company)
    job = make_job(company, customer, window_start=at(10))
    job.status, job.required_certifications = "scheduled", ["gas_safety"]
    db.session.commit()
    plan = client.post("/api/v1/planning/optimise", json={"day": DAY.isoformat()}, headers=headers).get_json()
    assert plan["unassigned"][0]["reason"] == "no_qualified_technician"


def test_window_outside_every_shift_is_reported(client, dispatcher):
    company, _, headers = dispatcher
    make_technician(company)
    customer = make_household(company)
    job = make_job(company, customer, window_start=at(20), hours=2)  # shifts end 17:30
    job.status = "scheduled"
    db.session.commit()
    plan = client.post("/api/v1/planning/optimise", json={"day": DAY.isoformat()}, headers=headers).get_json()
    assert plan["unassigned"][0]["reason"] == "window_outside_shifts"


def test_committed_visits_stay_with_their_technician(client, dispatcher):
    company, _, headers = dispatcher
    techs, jobs = _day(company, n_jobs=4)
    jobs[0].technician_id, jobs[0].status = techs[1].id, "dispatched"
    db.session.commit()
    plan = client.post("/api/v1/planning/optimise", json={"day": DAY.isoformat()}, headers=headers).get_json()
    owner = {s["job_id"]: r["technician_id"] for r in plan["routes"] for s in r["stops"]}
    assert owner[str(jobs[0].id)] == str(techs[1].id)


def test_commit_assigns_orders_and_dispatches(client, dispatcher):
    company, _, headers = dispatcher
    techs, jobs = _day(company, n_jobs=4)
    plan = client.post("/api/v1/planning/optimise", json={"day": DAY.isoformat()}, headers=headers).get_json()
    routes = [
        {"technician_id": r["technician_id"], "job_ids": [s["job_id"] for s in r["stops"]],
         "etas": [s["eta"] for s in r["stops"]]}
        for r in plan["routes"] if r["stops"]
    ]
    resp = client.post("/api/v1/planning/commit", json={"day": DAY.isoformat(), "routes": routes}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"committed": 4}
    db.session.expire_all()
    for route in routes:
        for order, job_id in enumerate(route["job_ids"], start=1):
            job = db.session.get(Job, __import__("uuid").UUID(job_id))
            assert str(job.technician_id) == route["technician_id"]
            assert job.route_order == order and job.status == "dispatched" and job.planned_eta is not None


def test_commit_refuses_an_unqualified_technician_and_writes_nothing(client, dispatcher):
    company, _, headers = dispatcher
    techs, jobs = _day(company, n_jobs=2)
    rookie = make_technician(company, certifications=())
    routes = [{"technician_id": str(rookie.id), "job_ids": [str(jobs[0].id)]},
              {"technician_id": str(techs[0].id), "job_ids": [str(jobs[1].id)]}]
    resp = client.post("/api/v1/planning/commit", json={"day": DAY.isoformat(), "routes": routes}, headers=headers)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "not_qualified"
    db.session.expire_all()
    assert db.session.get(Job, jobs[1].id).technician_id is None


def test_etas_flag_a_late_visit_and_the_two_hour_notice(client, dispatcher):
    company, _, headers = dispatcher
    tech = make_technician(company)
    far = make_household(company, lat=31.40, lon=121.80)  # ~40 km away: cannot be there by 08:45
    job = make_job(company, far, technician=tech, window_start=at(8.5), hours=0.25, job_type=JobType.REPAIR)
    db.session.commit()
    resp = client.get(f"/api/v1/planning/etas?day={DAY.isoformat()}", headers=headers)
    stop = resp.get_json()["stops"][0]
    assert stop["job_id"] == str(job.id) and stop["late"] is True
    assert dt.datetime.fromisoformat(stop["notify_by"]) == job.window_start - dt.timedelta(hours=2)


def test_technician_cannot_plan(client, dispatcher, make_user, login):
    company, _, _ = dispatcher
    make_user(company, "technician", "t-plan")
    resp = client.post("/api/v1/planning/optimise", json={"day": DAY.isoformat()}, headers=login("t-plan"))
    assert resp.status_code == 403


def test_solver_beats_the_greedy_baseline_on_a_small_city():
    import random

    rng = random.Random(7)
    techs = [PlanTechnician(f"t{i}", 31.2 + rng.random() * 0.1, 121.4 + rng.random() * 0.1, 30600, 63000,
                            frozenset({"inspection"})) for i in range(4)]
    jobs = []
    for j in range(40):
        start = rng.choice(range(9, 15)) * 3600
        jobs.append(PlanJob(f"j{j}", 31.2 + rng.random() * 0.1, 121.4 + rng.random() * 0.1, 1200,
                            (start, start + 7200), frozenset({"inspection"})))
    plan, greedy = solve(techs, jobs), nearest_neighbour(techs, jobs)
    assert plan.violations == [] and greedy.violations == []
    assert len(plan.unassigned) <= len(greedy.unassigned)
    assert plan.travel_s < greedy.travel_s
