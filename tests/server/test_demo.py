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
from server.jobs.models import Appointment, Complaint, FaultKind, Job, JobType, ServiceCall
from server.notifications.models import OutageNotice
from server.org.models import Company, ServiceCentre
from server.people.models import Certification, Technician
from server.people.service import qualified
from server.sync.models import ConflictStatus, SyncConflict
from server.visits.models import FeeCollection, Hazard, HazardStatus, PriceItem, Quote, Signature
from sync.domain.quotes import approval_covers

SMALL = 40
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
    repairs = db.session.scalars(sa.select(Job).where(Job.job_type == JobType.REPAIR)).all()
    network = [j for j in repairs if j.fault_kind == FaultKind.NETWORK]
    assert len(network) == 1
    job = network[0]
    assert job.respond_by - job.created_at == dt.timedelta(hours=6)
    assert job.fix_by - job.created_at == dt.timedelta(hours=24)
    assert "pressure_work" in job.required_certifications and job.technician_id is not None
    assert any(j.fault_kind == FaultKind.CUSTOMER_EQUIPMENT and j.chargeable for j in repairs)
    complaint = db.session.scalars(sa.select(Complaint)).one()
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


def test_the_demo_history_takes_approval_before_work(demo):
    """R3 in the demo's past: every chargeable visit that started work was signed for before it."""
    started = db.session.scalars(sa.select(Job).where(Job.chargeable.is_(True), Job.work_started_at.is_not(None))).all()
    assert started
    for job in started:
        signed = db.session.scalars(sa.select(Signature.signed_at).where(Signature.job_id == job.id)).all()
        assert signed and min(signed) <= job.work_started_at, job.ref


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
    # A fixed hazard's story: the signed quote still covers exactly what was paid (R3, R17).
    quote = db.session.scalars(sa.select(Quote)).one()
    signature = db.session.scalars(sa.select(Signature).where(Signature.quote_id == quote.id)).one()
    assert approval_covers(quote, signature)
    fee = db.session.scalars(sa.select(FeeCollection).where(FeeCollection.quote_id == quote.id)).one()
    assert fee.amount_cents == quote.total_cents == sum(line["amount_cents"] for line in quote.lines)
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
