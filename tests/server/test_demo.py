"""``fieldsync demo-data``: the demo company loads, is idempotent, resets, and makes sense to a user."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.auth.models import User
from server.checklists.models import ChecklistTemplate
from server.checklists.schemas import TemplateCreateSchema
from server.customers.models import Customer, Meter, Premises
from server.db import AuditEntry, audit_enabled
from server.demo import load_demo
from server.demo.addresses import CENTRES, inside_city
from server.extensions import db
from server.jobs.models import Appointment, Complaint, ComplaintStatus, FaultKind, Job, JobType, ServiceCall
from server.notifications.models import OutageNotice
from server.org.models import Company, ServiceCentre
from server.people.models import Certification, Technician
from server.people.service import qualified
from server.sync.models import ConflictStatus, SyncConflict
from server.visits.models import FeeCollection, Hazard, HazardStatus, PriceItem, Quote, Signature
from sync.domain.quotes import approval_covers

SMALL = 40
FINISHED = ("completed", "closed", "cancelled")
TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "fieldsync-demo"
TABLES = (Company, User, Technician, Certification, Customer, Premises, Meter, Job, Appointment, Hazard,
          ServiceCall, Complaint, PriceItem, ChecklistTemplate, OutageNotice, SyncConflict)


def _counts() -> dict[str, int]:
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in TABLES}


def _today() -> dt.date:
    return dt.datetime.now(TZ).date()


@pytest.fixture
def demo(ctx) -> list[str]:
    """The small demo loaded on an empty database; returns the printed summary."""
    return load_demo(households=SMALL)


def test_loads_on_an_empty_database_and_prints_logins(demo):
    company = db.session.scalars(sa.select(Company).where(Company.code == "demo")).one()
    assert company.timezone == "Asia/Shanghai"
    assert company.inspection_interval_months["residential"] == 12
    assert company.inspection_interval_months["commercial"] == 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == SMALL
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceCentre)) == 2
    text = "\n".join(demo)
    assert "dispatcher1" in text and "tech1" in text and PASSWORD in text
    assert f"households: {SMALL}" in text
    assert "loaded demo company" in text
    # The load leaves the audit switch as it found it, and writes no audit rows of its own.
    assert audit_enabled.get() is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_second_run_changes_nothing_and_reset_reloads(demo):
    before = _counts()
    again = load_demo(households=SMALL)
    assert "already loaded" in again[0]
    assert _counts() == before
    old_company = db.session.scalars(sa.select(Company.id)).one()
    reloaded = load_demo(households=SMALL, reset=True)
    assert reloaded[0].startswith("reset: deleted")
    assert _counts() == before
    assert db.session.scalars(sa.select(Company.id)).one() != old_company


def test_reset_leaves_other_companies_alone(demo, make_company, make_user):
    other = make_company("other")
    make_user(other, username="someone")
    load_demo(households=SMALL, reset=True)
    assert db.session.get(Company, other.id) is not None
    assert db.session.scalars(sa.select(User).where(User.company_id == other.id)).one().username == "someone"


def test_demo_users_sign_in_through_the_api(demo, client):
    for username in ["dispatcher1", "service1", "admin"] + [f"tech{i}" for i in range(1, 9)]:
        resp = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, (username, resp.get_json())
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {resp.get_json()['access_token']}"})
    assert me.get_json()["role"] == "technician"
    bad = client.post("/api/v1/auth/login", json={"username": "tech1", "password": "wrong"})
    assert bad.status_code == 401


def test_exactly_one_certification_is_expired_and_it_blocks_its_work(demo):
    today = _today()
    expired = db.session.scalars(sa.select(Certification).where(Certification.expires_on < today)).all()
    assert len(expired) == 1
    holder = db.session.get(Technician, expired[0].technician_id)
    assert qualified(holder, [expired[0].kind], today) == [expired[0].kind]
    # Nobody was given a job their certifications do not cover on the job's day (R14).
    for job in db.session.scalars(sa.select(Job).where(Job.technician_id.is_not(None), Job.status != "closed")):
        day = job.window_start.astimezone(TZ).date()
        assert qualified(job.technician, job.required_certifications, day) == [], job.ref
    techs = db.session.scalars(sa.select(Technician)).all()
    assert sorted(t.staff_no for t in techs) == [f"SJ-{1001 + i}" for i in range(8)]
    assert all(t.shift_start == dt.time(8, 30) and t.shift_end == dt.time(17, 30) for t in techs)


def test_every_technician_has_jobs_today_in_windows_inside_the_shift(demo):
    today = _today()
    days: dict[str, list[Job]] = defaultdict(list)
    for job in db.session.scalars(sa.select(Job).where(Job.status.in_(["scheduled", "dispatched"]))):
        start, end = job.window_start.astimezone(TZ), job.window_end.astimezone(TZ)
        assert start.date() in (today, today + dt.timedelta(days=1))
        tech = job.technician
        assert tech.shift_start <= start.time() and end.time() <= tech.shift_end, job.ref
        assert dt.time(9) <= start.time() and end.time() <= dt.time(17) and end - start == dt.timedelta(hours=2)
        assert job.window_start <= job.planned_eta <= job.window_end, job.ref
        assert job.status == ("dispatched" if start.date() == today else "scheduled")
        appointment = db.session.scalars(sa.select(Appointment).where(Appointment.job_id == job.id)).one()
        assert (appointment.window_start, appointment.window_end) == (job.window_start, job.window_end)
        assert job.created_at < appointment.agreed_at < job.window_start, job.ref
        if start.date() == today:
            days[tech.staff_no].append(job)
    assert sorted(days) == [f"SJ-{1001 + i}" for i in range(8)]
    for jobs in days.values():
        assert sorted(j.route_order for j in jobs) == list(range(1, len(jobs) + 1))


def test_full_size_day_has_six_to_eight_visits_per_technician(ctx):
    lines = load_demo(households=300)
    assert any("loaded demo company" in line for line in lines)
    today = _today()
    per_tech: dict[str, int] = defaultdict(int)
    for job in db.session.scalars(sa.select(Job).where(Job.status == "dispatched")):
        assert job.window_start.astimezone(TZ).date() == today
        per_tech[job.technician_id] += 1
    assert len(per_tech) == 8 and all(6 <= n <= 8 for n in per_tech.values()), per_tech
    special = db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.special_care))
    assert 10 <= special <= 20  # about 5 %
    meters = db.session.scalars(sa.select(Meter)).all()
    overdue = sum(m.calibration_due_on < today for m in meters)
    assert 0.04 <= overdue / len(meters) <= 0.13  # about 8 %


def test_every_coordinate_is_inside_the_city(demo):
    points = db.session.execute(sa.select(Premises.lat, Premises.lon)).all()
    points += db.session.execute(sa.select(ServiceCentre.lat, ServiceCentre.lon)).all()
    points += db.session.execute(sa.select(Technician.start_lat, Technician.start_lon)).all()
    assert len(points) == SMALL + 2 + 8
    assert all(inside_city(lat, lon) for lat, lon in points)
    assert all(a.startswith("上海市") for a in db.session.scalars(sa.select(Premises.address)))
    assert {c.name for c in CENTRES} == set(db.session.scalars(sa.select(ServiceCentre.name)))


def test_special_care_households_are_registered(demo):
    care = db.session.scalars(sa.select(Customer).where(Customer.special_care)).all()
    assert care
    assert all(c.special_care_reason and c.category == "residential" for c in care)
    assert all(c.contacts for c in care)  # a relative or the neighbourhood committee to call


def test_the_days_hold_the_special_work(demo):
    now = dt.datetime.now(dt.UTC)
    repairs = db.session.scalars(sa.select(Job).where(Job.job_type == JobType.REPAIR, Job.status.not_in(FINISHED))).all()
    network = [j for j in repairs if j.fault_kind == FaultKind.NETWORK]
    assert len(network) == 1
    job = network[0]
    assert job.respond_by - job.created_at == dt.timedelta(hours=6)
    assert job.fix_by - job.created_at == dt.timedelta(hours=24)
    assert "pressure_work" in job.required_certifications and job.technician_id is not None
    assert any(j.fault_kind == FaultKind.CUSTOMER_EQUIPMENT and j.chargeable for j in repairs)
    complaint = db.session.scalars(sa.select(Complaint).where(Complaint.status == ComplaintStatus.OPEN)).one()
    visit = db.session.scalars(sa.select(Job).where(Job.complaint_id == complaint.id)).one()
    assert complaint.confidential and complaint.details not in visit.description
    assert str(visit.technician_id) not in complaint.involved_technician_ids
    hazards = db.session.scalars(sa.select(Hazard)).all()
    open_ = [h for h in hazards if h.status != HazardStatus.FIXED]
    assert sum(h.rectify_by < now for h in open_) == 1
    assert any(h.rectification_job_id for h in hazards)
    assert db.session.scalars(sa.select(Job).where(Job.technician_id.is_(None), Job.status == "new")).all()
    waiting = db.session.scalars(sa.select(ServiceCall).where(ServiceCall.answered_at.is_(None))).all()
    assert waiting and all(c.answer_by > c.received_at for c in waiting)
    assert db.session.scalars(sa.select(OutageNotice)).one().starts_at > now


def test_the_demo_history_takes_approval_before_work_but_once(demo):
    """R3 in the demo's past: every chargeable visit that started work was signed for, before it, except the
    one story of a signature taken twelve minutes after the work began."""
    started = db.session.scalars(sa.select(Job).where(Job.chargeable.is_(True), Job.work_started_at.is_not(None))).all()
    assert len(started) >= 5
    late = []
    for job in started:
        signed = db.session.scalars(sa.select(Signature.signed_at).where(Signature.job_id == job.id)).all()
        assert signed, job.ref
        if min(signed) > job.work_started_at:
            late.append(min(signed) - job.work_started_at)
    assert late == [dt.timedelta(minutes=12)]


def test_checklists_and_price_list_follow_the_rules(demo):
    templates = db.session.scalars(sa.select(ChecklistTemplate)).all()
    for template in templates:  # the same rules the checklist API applies to a new template
        body = {k: getattr(template, k) for k in ("code", "name", "name_en", "job_type", "customer_categories", "items")}
        assert TemplateCreateSchema().validate(body) == {}, template.code
    assert {t.code for t in templates} == {"safety-inspection-residential", "safety-inspection-non-residential"}
    for template in templates:
        keys = {item["key"] for item in template.items}
        types = {item["type"] for item in template.items}
        assert {"pass_fail_na", "number", "choice", "photo"} <= types
        assert all(item["label"] and item["label_en"] for item in template.items)
        assert all(item["condition"]["key"] in keys for item in template.items if "condition" in item)
        assert any("condition" in item for item in template.items)
        assert all(i["hazard_on_fail"] in {"critical", "major", "minor"} for i in template.items if "hazard_on_fail" in i)
    residential = next(t for t in templates if t.customer_categories == ["residential"])
    pressure = next(i for i in residential.items if i["key"] == "stove_pressure")
    assert pressure["unit"] == "kPa" and pressure["min"] < 2.0 < pressure["max"]
    heater = [i for i in residential.items if i.get("condition", {}).get("key") == "has_water_heater"]
    assert any(i["key"] == "water_heater_flue" for i in heater)
    # The paid work: each signed quote covers exactly what it lists, and was paid in full but once (R3, R17).
    quotes = db.session.scalars(sa.select(Quote)).all()
    short = []
    for quote in quotes:
        signature = db.session.scalars(sa.select(Signature).where(Signature.quote_id == quote.id)).one()
        assert approval_covers(quote, signature)
        assert quote.total_cents == sum(line["amount_cents"] for line in quote.lines)
        fee = db.session.scalars(sa.select(FeeCollection).where(FeeCollection.quote_id == quote.id)).one()
        if fee.amount_cents != quote.total_cents:
            short.append(quote.total_cents - fee.amount_cents)
    assert len(quotes) >= 5 and short == [2000]
    prices = {p.code: p for p in db.session.scalars(sa.select(PriceItem))}
    assert {"part", "labour", "fee"} == {p.kind for p in prices.values()}
    assert prices["F-CALLOUT"].unit_price_cents == 3000


def test_a_stale_demo_says_to_reset(demo):
    for job in db.session.scalars(sa.select(Job).where(Job.window_start.is_not(None))):
        job.window_start -= dt.timedelta(days=3)  # as if the demo had been loaded three days ago
    db.session.commit()
    lines = load_demo(households=SMALL)
    assert "already loaded" in lines[0] and "--reset" in lines[1]


def test_the_conflicts_inbox_has_a_stale_route_order_and_both_access_notes(demo, client):
    from tests.fixtures.console import Console

    conflicts = {c.field: c for c in db.session.scalars(
        sa.select(SyncConflict).where(SyncConflict.status == ConflictStatus.OPEN))}
    assert set(conflicts) == {"route_order", "access_notes"}
    order = conflicts["route_order"]
    job = db.session.get(Job, order.job_id)
    # Dispatch's order stands on the row; the tablet's losing value is kept in the record (G6).
    assert order.rule == "plan_dispatch_wins" and job.route_order == order.server_value != order.device_value
    assert job.status == "dispatched" and order.technician_id == job.technician_id
    assert order.created_at < dt.datetime.now(dt.UTC)
    notes = conflicts["access_notes"]
    premises = db.session.get(Premises, uuid.UUID(notes.row_id))
    assert notes.rule == "notes_both_kept"
    assert notes.server_value in premises.access_notes and notes.device_value in premises.access_notes
    # The dispatcher sees both in the console's inbox.
    session = Console(client, None, None)
    assert session.sign_in("dispatcher1", PASSWORD).status_code == 303
    page = client.get("/console/conflicts").get_data(as_text=True)
    assert "plan_dispatch_wins" in page and "notes_both_kept" in page and job.ref in page


# --- the last five weeks: what the KPI page, the daily close and the follow-up calls show -----------------


def _company_id() -> uuid.UUID:
    return db.session.scalars(sa.select(Company.id).where(Company.code == "demo")).one()


def _story_span_start(company_id: uuid.UUID) -> dt.date:
    """The first of the last STORY_SPAN working days on the company calendar: where the demo's misses begin."""
    from server.demo.recent import STORY_SPAN
    from server.jobs.calendar import is_working_day

    day, counted = _today(), 0
    while counted < STORY_SPAN:
        day -= dt.timedelta(days=1)
        counted += is_working_day(company_id, day)
    return day


def _between(rate) -> bool:
    return rate is not None and 0 < rate < 1


@pytest.mark.parametrize("period", ["month", "30 days"])
def test_every_kpi_has_data_and_the_months_misses(demo, period):
    """The KPI page's figures (server.reports.kpis): each has a denominator and, where the demo planted a
    miss, a rate strictly between 0 and 100 %. The month is the page's default period; in its first days it
    cannot hold the misses yet, so then the period starts where they do (a user would widen it so)."""
    from server.reports import kpis

    company_id = _company_id()
    today = _today()
    if period == "month":
        first = min(today.replace(day=1), _story_span_start(company_id))
    else:
        first = today - dt.timedelta(days=29)
    report = kpis.kpi_report(company_id, kpis.period_for(company_id, {"date_from": first}))
    total = report["total"]
    on_time, notice, approval = total["on_time"], total["notice"], total["approval_before_work"]
    for name, figure in (("R1 on time", on_time), ("R2 notice", notice), ("R3 approval", approval)):
        assert figure["denominator"] > 0 and _between(figure["rate"]), (name, figure)
    assert notice["changes"] > notice["changes_with_notice"] > 0  # a window moved at short notice
    assert notice["late_visits"] > notice["late_visits_with_notice"] > 0
    for clock in ("respond", "fix"):
        sla = total["repair_sla"][clock]
        assert sla["met"] > 0 and sla["breached"] > 0 and _between(sla["rate"]), (clock, sla)
    complaints = report["complaint_sla"]
    assert complaints["met"] > 0 and complaints["breached"] > 0 and _between(complaints["rate"])
    scores = total["satisfaction"]
    assert scores["responses"] >= 5 and 1 < scores["mean"] < 5
    assert sum(1 for n in scores["distribution"].values() if n) >= 3  # not one score for everybody
    hazards = total["open_hazards"]
    assert hazards["open"] > hazards["overdue"] > 0
    residential = next(c for c in report["inspection_coverage"] if c["category"] == "residential")
    assert 0 < residential["coverage_pct"] < 100
    if period == "30 days":  # every technician worked in it, and none was late on every visit
        worked = {t["staff_no"]: t for t in report["technicians"] if t["staff_no"]}
        assert sorted(worked) == [f"SJ-{1001 + i}" for i in range(8)]
        assert all(t["visits_completed"] >= 3 and t["on_time"]["numerator"] > 0 for t in worked.values()), worked


def test_the_daily_close_of_the_short_day_lists_the_shortfall(demo):
    """R17: the last working day's takings hold one fee ¥20 short of the quote the customer signed."""
    from server.visits.daily_close import daily_close, month_close

    company_id = _company_id()
    fees = db.session.scalars(sa.select(FeeCollection).where(FeeCollection.collected_at < dt.datetime.now(dt.UTC)))
    days = sorted({f.collected_at.astimezone(TZ).date() for f in fees})
    closes = {day: daily_close(company_id, day) for day in days}
    short = [(day, d) for day, c in closes.items() for t in c.technicians for d in t.discrepancies]
    assert len(short) == 1, short
    day, problem = short[0]
    assert problem.kind == "amount_differs" and problem.approved_cents - problem.collected_cents == 2000
    assert f"{problem.job_ref}: collected ¥{problem.collected_cents / 100:,.2f}" in problem.message
    assert _story_span_start(company_id) <= day < _today()
    assert not closes[day].reconciled and closes[day].total_cents > 0
    assert sum(c.reconciled for c in closes.values()) == len(days) - 1 >= 5  # the other days reconcile
    month = month_close(company_id, day.replace(day=1))
    assert [d.job_ref for d in month["discrepancies"]] == [problem.job_ref]


def test_the_tablets_clock_offsets_correct_the_arrivals(demo):
    """R1 as the sync records it: each arrival keeps the tablet's claimed time, the clock offset and the
    corrected time. SJ-1007's tablet runs nine minutes slow: one arrival it claims inside the window was late."""
    from server.reports.kpis import kpi_report, period_for
    from server.sync.models import Device
    from server.visits.models import VisitEvent

    arrivals = db.session.execute(
        sa.select(VisitEvent, Job).join(Job, Job.id == VisitEvent.job_id).where(VisitEvent.kind == "arrived")).all()
    assert len(arrivals) >= 20
    for event, job in arrivals:
        assert event.at == job.arrived_at and event.received_at >= event.corrected_at
        assert event.corrected_at == event.at + dt.timedelta(seconds=event.clock_offset_s)
    hidden = [job for event, job in arrivals if event.at <= job.window_end < event.corrected_at]
    assert len(hidden) == 1 and hidden[0].technician.staff_no == "SJ-1007"
    tablet = db.session.scalars(sa.select(Device).where(Device.technician_id == hidden[0].technician_id)).one()
    assert tablet.clock_offset_s == 540.0
    day = hidden[0].window_start.astimezone(TZ).date()
    company_id = _company_id()
    report = kpi_report(company_id, period_for(company_id, {"date_from": day, "date_to": day,
                                                            "technician_id": hidden[0].technician_id}))
    assert report["total"]["on_time"]["numerator"] < report["total"]["on_time"]["denominator"]


def test_follow_up_calls_are_done_scored_or_still_to_make(demo):
    """R6: every visit finished in the five weeks has its call; the last working day's are still to make, the
    older ones done with a 1–5 score copied onto the job, or the customer not reached."""
    from server.followups.models import FollowUpStatus, FollowUpTask

    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=35)
    finished = db.session.scalars(sa.select(Job).where(Job.completed_at >= since, Job.completed_at < now)).all()
    tasks = {t.job_id: t for t in db.session.scalars(sa.select(FollowUpTask).where(FollowUpTask.job_id.is_not(None)))}
    assert finished and all(job.id in tasks for job in finished)
    by_status = defaultdict(list)
    for job in finished:
        task = tasks[job.id]
        by_status[task.status].append(task)
        if task.status == FollowUpStatus.DONE:
            assert task.satisfaction in range(1, 6) and job.satisfaction == task.satisfaction
            assert job.completed_at < task.done_at < now and job.status == "closed"
        else:
            assert task.satisfaction is None and task.done_at is None
    assert len(by_status[FollowUpStatus.DONE]) > len(by_status[FollowUpStatus.OPEN]) > 0
    assert max(j.completed_at for j in finished if tasks[j.id].status == FollowUpStatus.DONE) < max(
        j.completed_at for j in finished if tasks[j.id].status == FollowUpStatus.OPEN)


def test_the_recent_past_keeps_the_rules_the_server_checks(demo):
    """The five weeks' visits: a qualified technician with the skill on the day (R14), windows of 2 h inside
    the shift on working days, complaint visits by someone the complaint does not name (R10), a job's times
    in order, and windows changed only through appointments that told the customer (R2)."""
    from server.jobs.calendar import is_working_day
    from server.notifications.models import Notification

    company_id = _company_id()
    today = dt.datetime.combine(_today(), dt.time(0), TZ)
    jobs = db.session.scalars(sa.select(Job).where(Job.window_start >= today - dt.timedelta(days=35),
                                                   Job.window_start < today)).all()
    assert len(jobs) >= 20
    for job in jobs:
        day = job.window_start.astimezone(TZ).date()
        tech = job.technician
        assert is_working_day(company_id, day) and qualified(tech, job.required_certifications, day) == [], job.ref
        assert set(job.required_skills) <= set(tech.skills), job.ref
        start, end = job.window_start.astimezone(TZ).time(), job.window_end.astimezone(TZ).time()
        assert tech.shift_start <= start and end <= tech.shift_end and job.window_end - job.window_start == dt.timedelta(hours=2)
        assert job.created_at < job.window_start
        if job.status == "cancelled":
            assert job.arrived_at is None and job.completed_at is None
        else:
            assert job.en_route_at < job.arrived_at < job.work_started_at < job.completed_at < job.departed_at
        if job.complaint_id:
            complaint = db.session.get(Complaint, job.complaint_id)
            assert str(tech.id) not in complaint.involved_technician_ids
            assert complaint.details not in job.description
    ended = db.session.scalars(sa.select(Appointment).where(Appointment.ended_at.is_not(None))).all()
    assert {a.short_notice for a in ended} == {True, False}
    for appointment in ended:
        assert appointment.short_notice == (appointment.notice_minutes < 120)
        note = db.session.scalars(sa.select(Notification).where(Notification.job_id == appointment.job_id,
                                                                Notification.kind.in_(("rescheduled", "cancelled")))).one()
        assert note.notice_minutes == appointment.notice_minutes and note.status == "sent"


def test_the_recent_past_is_the_same_on_every_load(demo):
    """Seeded: a reset reload shows the same KPI figures (only the row ids differ)."""
    from server.reports import kpis

    def figures() -> dict:
        company_id = _company_id()
        report = kpis.kpi_report(company_id, kpis.period_for(company_id, {"date_from": _today() - dt.timedelta(days=34)}))
        return {"total": report["total"], "complaints": report["complaint_sla"],
                "technicians": [{k: v for k, v in t.items() if k != "technician_id"} for t in report["technicians"]]}

    before = figures()
    load_demo(households=SMALL, reset=True)
    assert figures() == before
