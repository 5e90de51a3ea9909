"""The console's Planning page through the Flask test client (SQLite and PostgreSQL): optimise (a
preview that writes nothing), adjust, commit (assigns, or is refused whole), late ETAs (R2), the
planners (R7, R15, R16) and the inspection coverage (R7)."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.auth.models import Role
from server.db import current_version, utcnow
from server.extensions import db
from server.jobs.models import Complaint, Job, JobSource, JobType
from server.visits.models import HazardSeverity
from sync.domain.jobs import JobStatus
from tests.conftest import PASSWORD
from tests.factories import make_household, make_job, make_technician
from tests.fixtures.visits import make_hazard

SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime.now(SH).date()
DAY = TODAY + dt.timedelta(days=1)


def at(hour: float, day: dt.date = DAY) -> dt.datetime:
    return (dt.datetime.combine(day, dt.time(0), SH) + dt.timedelta(hours=hour)).astimezone(dt.UTC)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def plan_form(page: str) -> dict[str, str]:
    """The hidden fields of the preview form: the plan as the page carries it."""
    form = re.search(r'<form id="preview".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    return {k: html.unescape(v) for k, v in fields.items()}


def routes_of(form: dict[str, str]) -> dict[str, list[str]]:
    return {k[6:]: [j for j in v.split(",") if j] for k, v in form.items() if k.startswith("route-")}


def the_day(company, n_jobs: int = 4):
    """Two qualified technicians and ``n_jobs`` scheduled jobs with windows on DAY, spread over the city."""
    techs = [make_technician(company, name=name) for name in ("周师傅", "吴师傅")]
    jobs = []
    for i in range(n_jobs):
        customer = make_household(company, name=f"客户{i}", lat=31.20 + 0.01 * i, lon=121.45 + 0.01 * (i % 3))
        job = make_job(company, customer, window_start=at(9 + 2 * (i % 4)), hours=2)
        job.status, job.required_certifications = JobStatus.SCHEDULED, ["gas_safety"]
        jobs.append(job)
    db.session.commit()
    return techs, jobs


def assignments(jobs) -> dict:
    db.session.expire_all()
    return {j.id: (db.session.get(Job, j.id).technician_id, db.session.get(Job, j.id).route_order) for j in jobs}


def optimise(console, day: dt.date = DAY) -> str:
    resp = console.post("/console/planning/optimise", {"d": day.isoformat()})
    assert resp.status_code == 200, text(resp)
    return text(resp)


# ---------------------------------------------------------------- the page


def test_planning_page_defaults_to_today_with_coverage(console):
    make_household(console.company)
    page = text(console.get("/console/planning"))
    assert f"{TODAY.isoformat()} 排程优化" in page and "优化路线" in page
    assert 'data-category="residential"' in page and "安检覆盖率（R7）" in page
    assert 'href="/console/planning"' in page  # in the navigation


def test_optimise_previews_routes_and_unplaced_reasons_and_writes_nothing(console):
    techs, jobs = the_day(console.company)
    jobs[0].required_certifications = ["pressure_work"]  # nobody holds it
    db.session.commit()
    before, version = assignments(jobs), current_version(db.session, console.company.id)
    page = optimise(console)
    assert "路线预览（未提交）" in page and "行驶合计" in page and "求解耗时" in page
    placed = [j for ids in routes_of(plan_form(page)).values() for j in ids]
    assert sorted(placed) == sorted(str(j.id) for j in jobs[1:])
    unplaced = re.search(r'data-ref="([^"]+)" data-reason="([^"]+)"', page)
    assert unplaced.groups() == (jobs[0].ref, "no_qualified_technician")
    assert "没有具备所需技能和有效资质的技术员（R14）" in page
    assert page.count('<circle cx=') == 3  # the preview map draws every placed stop
    # A preview writes nothing: no assignment, no order, no new change number.
    assert assignments(jobs) == before and current_version(db.session, console.company.id) == version


def test_unplaced_reasons_in_english(console):
    make_technician(console.company)
    job = make_job(console.company, make_household(console.company), window_start=at(20), hours=2)
    job.status = JobStatus.SCHEDULED
    db.session.commit()
    console.post("/console/lang", {"lang": "en"})
    page = optimise(console)
    assert "The window lies outside every qualified technician&#39;s shift" in page and "Route preview" in page


def test_adjust_reorders_moves_and_drops_then_commit_assigns_in_that_order(console):
    techs, jobs = the_day(console.company)
    form = plan_form(optimise(console))
    a, b = (str(t.id) for t in techs)
    routes = routes_of(form)
    full, other = (a, b) if len(routes[a]) >= len(routes[b]) else (b, a)
    first, second = routes[full][:2]
    # Reorder: the first stop goes one down.
    form = plan_form(text(console.post("/console/planning/adjust", {**form, "op": f"down:{first}"})))
    assert routes_of(form)[full][:2] == [second, first]
    # Move it to the other technician's route (at its end), then leave another one out.
    form = plan_form(text(console.post("/console/planning/adjust", {**form, f"move-{first}": other})))
    assert routes_of(form)[other][-1] == first and first not in routes_of(form)[full]
    resp = console.post("/console/planning/adjust", {**form, "op": f"drop:{second}"})
    assert "调度员移出了本次计划" in text(resp)
    form = plan_form(text(resp))
    assert f"{second}:dropped" in form["unplaced"]
    final = routes_of(form)
    assert all(j.id and db.session.get(Job, j.id).technician_id is None for j in jobs)  # still nothing written
    # Commit: the adjusted plan lands, in its order, with ETAs; the dropped job stays as it was.
    resp = console.post("/console/planning/commit", form)
    assert resp.status_code == 303 and resp.headers["Location"].startswith(f"/console/board?d={DAY.isoformat()}")
    db.session.expire_all()
    for tech_id, ids in final.items():
        for order, job_id in enumerate(ids, start=1):
            job = db.session.get(Job, uuid.UUID(job_id))
            assert (str(job.technician_id), job.route_order, job.status) == (tech_id, order, JobStatus.DISPATCHED)
            assert job.planned_eta <= job.window_end
    assert db.session.get(Job, uuid.UUID(second)).technician_id is None
    board = text(console.get(resp.headers["Location"]))
    assert "排程已提交" in board
    moved = db.session.get(Job, uuid.UUID(first))
    row = re.search(rf'data-technician="{moved.technician.name}".*?</div>\s*</div>', board, re.S).group(0)
    assert moved.customer.name in row


def test_refused_commit_r14_shows_the_reason_and_writes_nothing(console):
    techs, jobs = the_day(console.company, n_jobs=2)
    rookie = make_technician(console.company, name="新手", certifications=())
    form = plan_form(optimise(console))
    assert form[f"route-{rookie.id}"] == ""  # the solver keeps gas work away from the uncertified
    victim = next(ids[0] for ids in routes_of(form).values() if ids)
    page = text(console.post("/console/planning/adjust", {**form, f"move-{victim}": str(rookie.id)}))
    assert "新手 ⚠ gas_safety" in page  # the move menu warned before the gate refuses
    resp = console.post("/console/planning/commit", plan_form(page))
    assert resp.status_code == 409
    page = text(resp)
    assert 'data-reason="not_qualified"' in page and "技术员没有该工单所需的有效资质（R14）" in page
    assert "路线预览（未提交）" in page  # the preview stays for the dispatcher to fix
    assert all(owner is None for owner, _ in assignments(jobs).values())  # the whole plan or nothing


def test_refused_commit_r10_conflict_of_interest(console):
    techs, jobs = the_day(console.company, n_jobs=1)
    job = jobs[0]
    complaint = Complaint(
        company_id=console.company.id, customer_id=job.customer_id, received_at=utcnow(), complainant_name="投诉人",
        summary="态度差", involved_technician_ids=[str(techs[0].id)], answer_by=utcnow() + dt.timedelta(days=7),
    )
    db.session.add(complaint)
    db.session.flush()
    job.job_type, job.complaint_id = JobType.COMPLAINT_VISIT, complaint.id
    db.session.commit()
    form = plan_form(optimise(console))
    form = {**form, f"route-{techs[0].id}": str(job.id), f"route-{techs[1].id}": "", "unplaced": ""}
    resp = console.post("/console/planning/commit", form)
    assert resp.status_code == 409 and 'data-reason="conflict_of_interest"' in text(resp) and "R10" in text(resp)
    assert assignments(jobs)[job.id] == (None, None)


def test_commit_refused_when_a_job_left_the_plannable_states_meanwhile(console):
    techs, jobs = the_day(console.company, n_jobs=2)
    form = plan_form(optimise(console))
    gone = jobs[0]
    gone.technician_id, gone.status = techs[0].id, JobStatus.ON_SITE  # the tablet checked in meanwhile
    db.session.commit()
    resp = console.post("/console/planning/commit", form)
    assert resp.status_code == 422 and "输入有误" in text(resp) and f"job {gone.id} is not among" in text(resp)
    db.session.expire_all()
    assert db.session.get(Job, jobs[1].id).technician_id is None


def test_another_companys_job_cannot_be_slipped_into_the_plan(console, make_company):
    techs, jobs = the_day(console.company, n_jobs=1)
    other = make_company("con-plan-b")
    foreign = make_job(other, make_household(other), window_start=at(10))
    form = plan_form(optimise(console))
    form[f"route-{techs[0].id}"] = f"{jobs[0].id},{foreign.id}"
    resp = console.post("/console/planning/commit", form)
    assert resp.status_code == 422
    db.session.expire_all()
    assert db.session.get(Job, foreign.id).technician_id is None and db.session.get(Job, jobs[0].id).technician_id is None


def test_csrf_is_enforced_on_every_planning_action(console):
    techs, jobs = the_day(console.company, n_jobs=1)
    form = plan_form(optimise(console))
    jobs_before = db.session.execute(sa.select(sa.func.count()).select_from(Job)).scalar()
    make_household(console.company)  # due for its first inspection
    for url, data in (("/console/planning/optimise", {"d": DAY.isoformat()}), ("/console/planning/adjust", form),
                      ("/console/planning/commit", form), ("/console/planning/generate/inspections", {})):
        for token in ({}, {"csrf_token": "forged"}):
            body = {k: v for k, v in data.items() if k != "csrf_token"} | token
            resp = console.client.post(url, data=body)
            assert resp.status_code == 400 and "表单已过期" in text(resp), url
    assert db.session.execute(sa.select(sa.func.count()).select_from(Job)).scalar() == jobs_before
    assert assignments(jobs)[jobs[0].id] == (None, None)


def test_customer_service_sees_coverage_but_may_not_plan(app, make_company, make_user):
    from tests.fixtures.console import Console

    company = make_company("con-plan-cs")
    make_user(company, Role.CUSTOMER_SERVICE, "cs-plan")
    session = Console(app.test_client(), company, None)
    session.sign_in("cs-plan", PASSWORD)
    session.refresh_csrf()
    page = text(session.get("/console/planning"))
    assert "安检覆盖率（R7）" in page and 'id="optimise"' not in page and 'id="late-etas"' not in page
    assert session.post("/console/planning/optimise", {"d": DAY.isoformat()}).status_code == 403
    assert session.post("/console/planning/generate/inspections", {}).status_code == 403


# ---------------------------------------------------------------- late ETAs (R2)


def test_late_etas_panel_shows_notify_by_and_whether_notice_is_still_possible(console):
    tech = make_technician(console.company, name="郑师傅")
    far = make_household(console.company, name="远郊客户", lat=31.40, lon=121.80)  # ~40 km: not there by 08:45
    late = make_job(console.company, far, technician=tech, window_start=at(8.5), hours=0.25, job_type=JobType.REPAIR)
    near = make_job(console.company, make_household(console.company, name="近处客户"), technician=tech,
                    window_start=at(15), hours=2)
    page = text(console.get(f"/console/planning?d={DAY.isoformat()}"))
    panel = re.search(r'<section class="card" id="late-etas">.*?</section>', page, re.S).group(0)
    assert late.ref in panel and near.ref not in panel and "郑师傅" in panel
    notify_by = (late.window_start - dt.timedelta(hours=2)).astimezone(SH)
    assert notify_by.strftime("%H:%M") in panel and "仍来得及" in panel
    # The same visit today at 08:30 is past its notice time: too late to give 2 hours' notice.
    if dt.datetime.now(SH).hour >= 7:
        late.window_start, late.window_end = at(8.5, TODAY), at(8.75, TODAY)
        db.session.commit()
        panel = re.search(r'id="late-etas">.*?</section>', text(console.get("/console/planning")), re.S).group(0)
        assert late.ref in panel and "已来不及" in panel


# ---------------------------------------------------------------- planners (R7, R15, R16) and coverage


def test_inspection_planner_creates_jobs_once_and_coverage_counts_them(console):
    care = make_household(console.company, name="孙奶奶", special_care=True)
    make_household(console.company, name="钱先生")
    resp = console.post("/console/planning/generate/inspections", {"horizon_days": "30"})
    assert resp.status_code == 200
    page = text(resp)
    created = db.session.execute(sa.select(Job).where(Job.source == JobSource.INSPECTION_PLAN)).scalars().all()
    assert len(created) == 2 and "已生成 2 个工单" in page
    assert all(job.ref in page for job in created) and "孙奶奶" in page and "特殊关怀" in page
    assert {j.customer_id for j in created if j.priority == 2} == {care.id}  # special care goes first (R11)
    row = re.search(r'<tr data-category="residential">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row)[1:6] == ["2", "0", "0", "2", "2"]
    again = text(console.post("/console/planning/generate/inspections", {"horizon_days": "30"}))
    assert "已生成 0 个工单" in again and "没有需要生成的工单" in again


def test_meter_and_hazard_planners(console):
    customer = make_household(console.company, calibration_due_on=TODAY + dt.timedelta(days=5))
    page = text(console.post("/console/planning/generate/meters", {"horizon_days": "3"}))
    assert "已生成 0 个工单" in page  # due in 5 days: outside a 3-day horizon
    page = text(console.post("/console/planning/generate/meters", {"horizon_days": "10"}))
    meter_job = db.session.execute(sa.select(Job).where(Job.source == JobSource.METER_DUE)).scalar_one()
    assert meter_job.customer_id == customer.id and meter_job.ref in page and "表具作业" in page
    tech = make_technician(console.company)
    visit = make_job(console.company, customer, technician=tech, window_start=at(10, TODAY - dt.timedelta(days=30)),
                     status=JobStatus.COMPLETED)
    make_hazard(visit, severity=HazardSeverity.MAJOR, found_at=utcnow() - dt.timedelta(days=30))
    page = text(console.post("/console/planning/generate/hazards", {}))
    fix = db.session.execute(sa.select(Job).where(Job.job_type == JobType.HAZARD_RECTIFICATION)).scalar_one()
    assert fix.ref in page and "已生成 1 个工单" in page
    bad = console.post("/console/planning/generate/meters", {"horizon_days": "999"})
    assert bad.status_code == 422 and "horizon_days" in text(bad)


def test_a_committed_plan_stores_the_arrival_as_planned_eta_as_the_api_does(console, login):
    techs, jobs = the_day(console.company)
    form = plan_form(optimise(console))
    assert console.post("/console/planning/commit", form).status_code == 303
    # The API's ETAs of the routes as committed: ``eta`` is the arrival, ``start`` after waiting.
    stops = console.client.get(f"/api/v1/planning/etas?day={DAY.isoformat()}", headers=login("con-disp")).get_json()
    by_job = {s["job_id"]: s for s in stops["stops"]}
    db.session.expire_all()
    waited = 0
    for job in jobs:
        stored = db.session.get(Job, job.id)
        stop = by_job[str(job.id)]
        assert stored.planned_eta == dt.datetime.fromisoformat(stop["eta"]), stored.ref
        waited += stop["eta"] != stop["start"]
    # At least one technician gets there before the window opens: there, arrival and start differ.
    assert waited >= 1
