"""What visits captured, through the office API: quotes and approval (R3), cleanup (R4), hazards (R16),
visit events, fees, readings and notes."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from server.auth.models import Role
from server.db import utcnow
from server.extensions import db
from server.jobs.models import Job, JobType
from server.visits.models import (
    FeeCollection,
    HazardSeverity,
    HazardStatus,
    MeterReading,
    Note,
    VisitEvent,
    VisitEventKind,
)
from sync.domain.jobs import JobStatus
from tests.factories import in_hours, make_household, make_job, make_technician
from tests.fixtures.visits import make_cleanup, make_hazard, make_quote

D, CS = Role.DISPATCHER, Role.CUSTOMER_SERVICE


def _job(company, **kwargs) -> Job:
    customer = make_household(company)
    tech = make_technician(company)
    return make_job(company, customer, technician=tech, window_start=in_hours(3), **kwargs)


def test_quote_approval_is_valid_until_the_quote_is_edited(client, office):
    company, headers = office
    job = _job(company, chargeable=True)
    quote, signature = make_quote(job)
    unsigned, _ = make_quote(job, signed=False)
    url = f"/api/v1/jobs/{job.id}/quotes"
    items = {q["id"]: q for q in client.get(url, headers=headers[D]).get_json()["items"]}
    assert items[str(quote.id)]["approval_valid"] is True
    assert items[str(quote.id)]["approved_by_signature_id"] == str(signature.id)
    assert items[str(quote.id)]["content_hash_valid"] is True
    assert items[str(unsigned.id)]["approval_valid"] is False  # marked approved, but nobody signed it
    # Someone edits the signed quote (a line's price): the approval no longer covers it.
    quote.lines = [dict(quote.lines[0], unit_price_cents=5000, amount_cents=5000), quote.lines[1]]
    quote.total_cents = 10000
    db.session.commit()
    edited = {q["id"]: q for q in client.get(url, headers=headers[CS]).get_json()["items"]}[str(quote.id)]
    assert edited["approval_valid"] is False and edited["approved_by_signature_id"] is None
    assert edited["content_hash_valid"] is False  # the stored hash is what was signed, not what is there


def test_signatures_show_purpose_hash_and_blob(client, office):
    company, headers = office
    job = _job(company, chargeable=True)
    quote, _ = make_quote(job)
    body = client.get(f"/api/v1/jobs/{job.id}/signatures", headers=headers[D]).get_json()
    assert body["total"] == 1
    sig = body["items"][0]
    assert sig["purpose"] == "quote_approval" and sig["content_hash"] == quote.content_hash
    assert sig["image_sha256"] == "ab" * 32 and sig["signer_name"] == "张伟"


def test_cleanup_fees_readings_and_visit_events_are_listed_in_order(client, office):
    company, headers = office
    job = _job(company)
    make_cleanup(job)
    now = utcnow()
    db.session.add_all([
        VisitEvent(company_id=company.id, job_id=job.id, kind=VisitEventKind.ARRIVED, at=now,
                   received_at=now + dt.timedelta(minutes=30), clock_offset_s=-120.0,
                   corrected_at=now - dt.timedelta(minutes=2)),
        VisitEvent(company_id=company.id, job_id=job.id, kind=VisitEventKind.EN_ROUTE, at=now - dt.timedelta(hours=1)),
        FeeCollection(company_id=company.id, job_id=job.id, amount_cents=9500, method="wechat", collected_at=now),
        MeterReading(company_id=company.id, job_id=job.id, meter_id=job.premises.meters[0].id, reading=1234.5,
                     read_at=now),
    ])
    db.session.commit()
    events = client.get(f"/api/v1/jobs/{job.id}/visit-events", headers=headers[D]).get_json()["items"]
    assert [e["kind"] for e in events] == ["en_route", "arrived"]
    assert events[1]["clock_offset_s"] == -120.0 and events[1]["received_at"] and events[1]["corrected_at"]
    assert client.get(f"/api/v1/jobs/{job.id}/cleanup", headers=headers[D]).get_json()["items"][0][
        "customer_confirmed"] is True
    assert client.get(f"/api/v1/jobs/{job.id}/fees", headers=headers[D]).get_json()["items"][0]["amount_cents"] == 9500
    reading = client.get(f"/api/v1/jobs/{job.id}/meter-readings", headers=headers[D]).get_json()["items"][0]
    assert reading["reading"] == 1234.5


def test_office_adds_a_note_attributed_to_its_author(client, office):
    company, headers = office
    job = _job(company)
    resp = client.post(f"/api/v1/jobs/{job.id}/notes", json={"text": "客户要求先电话联系"}, headers=headers[CS])
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["source"] == "office" and resp.get_json()["author_name"] == "v-customer_service"
    db.session.add(Note(company_id=company.id, job_id=job.id, author_name="李师傅", source="device",
                        text="门禁密码 1234", written_at=utcnow() + dt.timedelta(minutes=1)))
    db.session.commit()
    notes = client.get(f"/api/v1/jobs/{job.id}/notes", headers=headers[D]).get_json()["items"]
    assert [(n["source"], n["author_name"]) for n in notes] == [("office", "v-customer_service"), ("device", "李师傅")]


def test_note_input_is_validated(client, office):
    company, headers = office
    job = _job(company)
    for body in ({}, {"text": ""}, {"text": "x", "source": "device"}, {"text": "x" * 4001}):
        resp = client.post(f"/api/v1/jobs/{job.id}/notes", json=body, headers=headers[D])
        assert resp.status_code == 422, body
    resp = client.post(f"/api/v1/jobs/{job.id}/notes", json={"text": "   "}, headers=headers[D])
    assert resp.status_code == 422 and "text" in resp.get_json()["errors"]["json"]
    assert db.session.query(Note).count() == 0


def test_job_views_are_company_scoped_and_office_only(client, office, make_company, make_user, login):
    company, headers = office
    job = _job(company)
    other = make_company("other-co")
    make_user(other, Role.DISPATCHER, "other-disp")
    foreign = login("other-disp")
    for path in ("hazards", "quotes", "signatures", "cleanup", "visit-events", "fees", "meter-readings", "notes"):
        assert client.get(f"/api/v1/jobs/{job.id}/{path}", headers=foreign).status_code == 404, path
        assert client.get(f"/api/v1/jobs/{job.id}/{path}", headers=headers[Role.TECHNICIAN]).status_code == 403
        assert client.get(f"/api/v1/jobs/{job.id}/{path}", headers=headers[Role.ADMIN]).status_code == 200
    assert client.post(f"/api/v1/jobs/{job.id}/notes", json={"text": "x"}, headers=foreign).status_code == 404


# --- hazards across the company (R16) -----------------------------------------------------------


def test_hazards_filter_by_open_overdue_severity_and_district(client, office):
    company, headers = office
    job = _job(company)
    long_ago = utcnow() - dt.timedelta(days=10)
    overdue = make_hazard(job, severity=HazardSeverity.MAJOR, found_at=long_ago)  # due 3 days ago
    fresh = make_hazard(job, severity=HazardSeverity.CRITICAL)
    fixed = make_hazard(job, severity=HazardSeverity.MINOR, found_at=long_ago)
    fixed.status = HazardStatus.FIXED
    elsewhere_job = _job(company)
    elsewhere_job.premises.district = "徐汇区"
    elsewhere = make_hazard(elsewhere_job, severity=HazardSeverity.MINOR)

    def ids(query: str) -> list[str]:
        resp = client.get(f"/api/v1/hazards?{query}", headers=headers[D])
        assert resp.status_code == 200, resp.get_json()
        return [h["id"] for h in resp.get_json()["items"]]

    assert ids("open=true") == [str(overdue.id), str(fresh.id), str(elsewhere.id)]  # soonest deadline first
    assert ids("open=false") == [str(fixed.id)]
    assert ids("overdue=true") == [str(overdue.id)]  # the fixed one is late but not overdue: it is done
    assert ids("severity=critical&severity=minor&open=true") == [str(fresh.id), str(elsewhere.id)]
    assert ids("district=徐汇区") == [str(elsewhere.id)]
    first = client.get("/api/v1/hazards?overdue=true", headers=headers[CS]).get_json()["items"][0]
    assert first["overdue"] is True and first["district"] == "浦东新区" and first["customer_name"] == "张伟"
    assert client.get("/api/v1/hazards?severity=deadly", headers=headers[D]).status_code == 422


def test_a_hazard_becomes_a_rectification_job_then_a_later_visit_fixes_it(client, office):
    company, headers = office
    found_on = _job(company)
    hazard = make_hazard(found_on, severity=HazardSeverity.CRITICAL)
    resp = client.post(f"/api/v1/hazards/{hazard.id}/rectification-job", json={}, headers=headers[D])
    assert resp.status_code == 201, resp.get_json()
    job = resp.get_json()
    assert job["job_type"] == "hazard_rectification" and job["source"] == "hazard_follow_up"
    assert job["premises_id"] == str(found_on.premises_id) and job["priority"] == 2  # critical: urgent
    shown = client.get(f"/api/v1/hazards/{hazard.id}", headers=headers[D]).get_json()
    assert shown["status"] == "rectification_scheduled" and shown["rectification_job_id"] == job["id"]
    # A second one while the first is open is refused.
    again = client.post(f"/api/v1/hazards/{hazard.id}/rectification-job", json={}, headers=headers[D])
    assert again.status_code == 409 and again.get_json()["reason"] == "rectification_exists"
    # The visit that found it cannot confirm it; a rectification visit that has not reached the site neither.
    found_on.status = JobStatus.COMPLETED
    db.session.commit()
    url = f"/api/v1/hazards/{hazard.id}/confirm-fixed"
    assert client.post(url, json={"job_id": str(found_on.id)}, headers=headers[D]).status_code == 422
    assert client.post(url, json={"job_id": job["id"]}, headers=headers[D]).status_code == 422
    rectification = db.session.get(Job, uuid.UUID(job["id"]))
    rectification.status = JobStatus.COMPLETED
    db.session.commit()
    resp = client.post(url, json={"job_id": job["id"]}, headers=headers[D])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "fixed" and resp.get_json()["fixed_confirmed_job_id"] == job["id"]
    assert resp.get_json()["overdue"] is False
    done = client.post(f"/api/v1/hazards/{hazard.id}/rectification-job", json={}, headers=headers[D])
    assert done.status_code == 409 and done.get_json()["reason"] == "hazard_fixed"


def test_a_visit_at_other_premises_cannot_confirm_a_fix(client, office):
    company, headers = office
    hazard = make_hazard(_job(company))
    other = _job(company, job_type=JobType.REPAIR)
    other.status = JobStatus.COMPLETED
    db.session.commit()
    resp = client.post(f"/api/v1/hazards/{hazard.id}/confirm-fixed", json={"job_id": str(other.id)}, headers=headers[D])
    assert resp.status_code == 422 and "job_id" in resp.get_json()["errors"]["json"]
    db.session.refresh(hazard)
    assert hazard.status == HazardStatus.OPEN


def test_hazards_of_another_company_do_not_exist(client, office, make_company, make_user, login):
    company, headers = office
    hazard = make_hazard(_job(company))
    other = make_company("other-co")
    make_user(other, Role.DISPATCHER, "other-disp")
    foreign = login("other-disp")
    assert client.get("/api/v1/hazards", headers=foreign).get_json()["total"] == 0
    assert client.get(f"/api/v1/hazards/{hazard.id}", headers=foreign).status_code == 404
    resp = client.post(f"/api/v1/hazards/{hazard.id}/rectification-job", json={}, headers=foreign)
    assert resp.status_code == 404
    assert client.post(f"/api/v1/hazards/{hazard.id}/rectification-job", json={},
                       headers=headers[CS]).status_code == 403  # dispatch makes jobs


# --- the daily close (R17) ----------------------------------------------------------------------


def _fee(job, quote, cents, when, method="cash", receipt="R1"):
    db.session.add(FeeCollection(company_id=job.company_id, job_id=job.id, quote_id=quote.id if quote else None,
                                 technician_id=job.technician_id, amount_cents=cents, method=method,
                                 receipt_no=receipt, collected_at=when))
    db.session.commit()


def test_daily_close_totals_per_technician_and_reconciles_with_approved_quotes(client, office):
    company, headers = office
    shanghai = ZoneInfo("Asia/Shanghai")
    # 23:30 local on 26 Nov is 15:30 UTC: it belongs to the 26th, not to the UTC date.
    evening = dt.datetime(2026, 11, 26, 23, 30, tzinfo=shanghai)
    paid_in_full = _job(company, chargeable=True)
    quote, _ = make_quote(paid_in_full)
    _fee(paid_in_full, quote, 5000, evening - dt.timedelta(hours=2), method="wechat")
    _fee(paid_in_full, quote, 4500, evening)
    body = client.get("/api/v1/daily-close?day=2026-11-26", headers=headers[D]).get_json()
    assert body["total_cents"] == 9500 and body["reconciled"] is True
    (line,) = body["technicians"]
    assert line["collections"] == 2 and line["by_method"] == {"wechat": 5000, "cash": 4500} and line["problems"] == []
    assert client.get("/api/v1/daily-close?day=2026-11-27", headers=headers[D]).get_json()["total_cents"] == 0

    unsigned_job = _job(company, chargeable=True)
    unsigned, _ = make_quote(unsigned_job, signed=False)
    _fee(unsigned_job, unsigned, 9500, evening)
    short_job = _job(company, chargeable=True)
    short, _ = make_quote(short_job)
    _fee(short_job, short, 9000, evening)
    no_quote_job = _job(company)
    _fee(no_quote_job, None, 2000, evening)
    body = client.get("/api/v1/daily-close?day=2026-11-26", headers=headers[D]).get_json()
    assert body["reconciled"] is False and body["total_cents"] == 9500 + 9500 + 9000 + 2000
    problems = " | ".join(p for t in body["technicians"] for p in t["problems"])
    assert "signature does not cover" in problems and "¥5.00 outstanding" in problems and "names no quote" in problems
    assert paid_in_full.ref not in problems
    assert client.get("/api/v1/daily-close?day=26-11-2026", headers=headers[D]).status_code == 422
    assert client.get("/api/v1/daily-close", headers=headers[Role.TECHNICIAN]).status_code == 403
