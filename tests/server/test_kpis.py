"""KPIs for the centre and each technician (R1, R2, R3, R6, R7, R8, R10, R16), computed from hand-built
October 2025 data where each right answer can be counted on fingers; CSV and SVG charts of them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from server.auth.models import Role
from server.customers.models import CustomerCategory
from server.extensions import db
from server.followups.models import FollowUpStatus, FollowUpTask
from server.jobs.models import Appointment, AppointmentStatus, Complaint, Job, JobType
from server.org.models import ServiceCentre
from server.people.models import Technician
from server.visits.models import (
    Hazard,
    HazardSeverity,
    HazardStatus,
    Quote,
    QuoteStatus,
    Signature,
    SignaturePurpose,
    VisitEvent,
    VisitEventKind,
)
from sync.domain.jobs import JobStatus
from sync.domain.quotes import content_hash
from tests.factories import make_household, make_technician
from tests.fixtures.visits import quote_lines

SH = ZoneInfo("Asia/Shanghai")
D = Role.DISPATCHER
OCTOBER = "from=2025-10-01&to=2025-10-31"


def at(day: int, hour: int = 0, minute: int = 0, month: int = 10) -> dt.datetime:
    """A Shanghai time in 2025."""
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SH)


@dataclass
class KpiWorld:
    """Technicians A and B of company ``company`` with October's visits, and the centre of A's jobs."""

    company: object
    a: Technician
    b: Technician
    centre: ServiceCentre


def _job(company, customer, tech, *, window: dt.datetime | None = None, arrived: dt.datetime | None = None,
         status: JobStatus = JobStatus.COMPLETED, centre=None, **fields) -> Job:
    job = Job(company_id=company.id, ref=f"K-{uuid.uuid4().hex[:8]}", job_type=fields.pop("job_type", JobType.SAFETY_INSPECTION),
              customer_id=customer.id, premises_id=customer.premises[0].id, technician_id=tech.id if tech else None,
              window_start=window, window_end=window + dt.timedelta(hours=2) if window else None,
              arrived_at=arrived, status=status, service_centre_id=centre.id if centre else None,
              created_at=fields.pop("created_at", at(1)), **fields)
    db.session.add(job)
    db.session.flush()
    return job


def _event(job, kind, claimed, corrected=None):
    db.session.add(VisitEvent(company_id=job.company_id, job_id=job.id, technician_id=job.technician_id, kind=kind,
                              at=claimed, corrected_at=corrected,
                              clock_offset_s=(corrected - claimed).total_seconds() if corrected else None))


def _signed_quote(job, signed_at: dt.datetime | None):
    quote = Quote(id=uuid.uuid4(), company_id=job.company_id, job_id=job.id, lines=quote_lines(), total_cents=9500,
                  risk_note="无", technician_name="甲", staff_no="T1", status=QuoteStatus.APPROVED, content_hash="",
                  created_on_device_at=at(2))
    quote.content_hash = content_hash(quote)
    db.session.add(quote)
    if signed_at is not None:
        db.session.add(Signature(company_id=job.company_id, job_id=job.id, purpose=SignaturePurpose.QUOTE_APPROVAL,
                                 quote_id=quote.id, content_hash=quote.content_hash, signer_name="客户",
                                 signed_at=signed_at))


def _visits(company, x, a, b, centre):
    """R1/R2: A has 4 windows (3 on time by the corrected clock), B one late with notice and one no-show."""
    v1 = _job(company, x, a, window=at(6, 9), arrived=at(6, 10), completed_at=at(6, 11), centre=centre)
    v2 = _job(company, x, a, window=at(7, 9), arrived=at(7, 10, 50), completed_at=at(7, 12), centre=centre)
    _event(v2, VisitEventKind.ARRIVED, at(7, 10, 50), corrected=at(7, 11, 20))  # the tablet was 30 min slow: late
    _event(v2, VisitEventKind.RUNNING_LATE, at(7, 8))  # told, but only 1 h ahead (R2 asks 2 h)
    v3 = _job(company, x, a, window=at(8, 13), arrived=at(8, 14, 30), completed_at=at(8, 16), centre=centre)
    _event(v3, VisitEventKind.ARRIVED, at(8, 14, 30), corrected=at(8, 14, 50))  # 20 min slow: still on time
    v4 = _job(company, x, a, window=at(9, 13), arrived=at(9, 14), completed_at=at(9, 15), centre=centre)
    v5 = _job(company, x, b, window=at(10, 13), arrived=at(10, 16), completed_at=at(10, 17))
    _event(v5, VisitEventKind.RUNNING_LATE, at(10, 10))  # 3 h ahead of the window
    _job(company, x, b, window=at(11, 13), status=JobStatus.DISPATCHED)  # nobody came
    _job(company, x, b, window=at(12, 13), status=JobStatus.CANCELLED, cancelled_reason="客户取消")  # not counted
    _job(company, x, a, window=at(1, 9, month=11), arrived=at(1, 10, month=11), centre=centre)  # November: outside
    for job, status, minutes, ended in ((v1, AppointmentStatus.SUPERSEDED, 1440, at(5, 9)),
                                        (v4, AppointmentStatus.CANCELLED, 30, at(9, 12, 30))):
        db.session.add(Appointment(company_id=company.id, job_id=job.id, window_start=ended + dt.timedelta(minutes=minutes),
                                   window_end=ended + dt.timedelta(minutes=minutes + 120), status=status,
                                   agreed_at=at(1), ended_at=ended, notice_minutes=minutes, short_notice=minutes < 120))
    return v1, v4, v5


def _repairs_and_approval(company, x, a, centre):
    """R8: one repair met both clocks, two breached them; R3: 1 of 3 chargeable jobs signed before work."""
    made = at(3, 8)
    rules = dict(job_type=JobType.REPAIR, created_at=made, respond_by=made + dt.timedelta(hours=6),
                 fix_by=made + dt.timedelta(hours=24), centre=centre)
    _job(company, x, a, arrived=made + dt.timedelta(hours=2), completed_at=made + dt.timedelta(hours=5), **rules)
    late = _job(company, x, a, arrived=made + dt.timedelta(hours=5, minutes=50),
                completed_at=made + dt.timedelta(hours=30), **rules)
    _event(late, VisitEventKind.ARRIVED, made + dt.timedelta(hours=5, minutes=50), made + dt.timedelta(hours=6, minutes=20))
    _job(company, x, a, status=JobStatus.DISPATCHED, **rules)
    started = at(20, 10)
    for signed in (started - dt.timedelta(minutes=5), started + dt.timedelta(minutes=5), None):
        job = _job(company, x, a, status=JobStatus.IN_PROGRESS, chargeable=True, work_started_at=started, centre=centre)
        _signed_quote(job, signed)


def _hazards(company, x, job):
    """R16: open at the end of October: found 1, 5 (fixed in November) and 21 October; two overdue."""
    for found, rectify, status, fixed in ((at(1), at(30, month=11), HazardStatus.OPEN, None),
                                          (at(21), at(28), HazardStatus.RECTIFICATION_SCHEDULED, None),
                                          (at(11), at(18), HazardStatus.FIXED, at(15)),
                                          (at(5), at(12), HazardStatus.FIXED, at(10, month=11))):
        db.session.add(Hazard(company_id=company.id, job_id=job.id, customer_id=x.id, premises_id=x.premises[0].id,
                              severity=HazardSeverity.MAJOR, description="隐患", found_at=found, rectify_by=rectify,
                              status=status, fixed_confirmed_at=fixed, technician_id=job.technician_id))


def _follow_ups_and_complaints(company, x, a_job, b_job):
    """R6: scores 5 and 4 for A, 2 for B, 5 on a complaint call; R10: 2 of 4 complaints answered in time."""
    for job, score in ((a_job, 5), (a_job, 4), (b_job, 2), (None, 5)):
        db.session.add(FollowUpTask(company_id=company.id, job_id=job.id if job else None, customer_id=x.id,
                                    kind="visit_quality", due_at=at(20), status=FollowUpStatus.DONE,
                                    satisfaction=score, done_at=at(20)))
    db.session.add(FollowUpTask(company_id=company.id, job_id=a_job.id, customer_id=x.id, kind="visit_quality",
                                due_at=at(20), status=FollowUpStatus.UNREACHABLE))
    for answered, extended in ((at(4), None), (at(10), at(12)), (at(10), None), (None, None)):
        db.session.add(Complaint(company_id=company.id, received_at=at(1), complainant_name="投诉人", summary="服务",
                                 answer_by=at(8, 23, 59), extended_until=extended, answered_at=answered))


@pytest.fixture
def world(office) -> KpiWorld:
    """October 2025 of a company with technicians A and B (see the helpers for every row)."""
    company, _ = office
    centre = db.session.query(ServiceCentre).filter_by(company_id=company.id).one()
    a, b = make_technician(company, name="甲师傅"), make_technician(company, name="乙师傅")
    x = make_household(company)
    never = make_household(company)  # residential, never inspected
    shop = make_household(company, category=CustomerCategory.COMMERCIAL)
    v1, _, v5 = _visits(company, x, a, b, centre)
    _job(company, shop, a, completed_at=at(1, 10, month=3), created_at=at(1, month=3))  # due again in September
    _repairs_and_approval(company, x, a, centre)
    _hazards(company, x, v1)
    _follow_ups_and_complaints(company, x, v1, v5)
    db.session.commit()
    assert never.id
    return KpiWorld(company, a, b, centre)


def _kpis(client, headers, query: str = OCTOBER) -> dict:
    resp = client.get(f"/api/v1/kpis?{query}", headers=headers[D])
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_every_kpi_from_known_data(client, office, world):
    _, headers = office
    body = _kpis(client, headers)
    total = body["total"]
    by = {t["technician_name"]: t for t in body["technicians"]}
    a, b = by["甲师傅"], by["乙师傅"]
    # R1: A 3 of 4 on time by the corrected clock; B 0 of 1 and one no-show; together 3 of 5.
    assert (a["on_time"]["numerator"], a["on_time"]["denominator"], a["on_time"]["rate"]) == (3, 4, 0.75)
    assert (b["on_time"]["rate"], b["on_time"]["not_arrived"]) == (0.0, 1)
    assert (total["on_time"]["numerator"], total["on_time"]["denominator"], total["on_time"]["rate"]) == (3, 5, 0.6)
    # R2: A's two window changes (one with a day's notice, one 30 min) and late visit told too late; B told 3 h ahead.
    assert (a["notice"]["numerator"], a["notice"]["denominator"]) == (1, 3)
    assert a["notice"]["late_visits_told_before_arrival"] == 1 and a["notice"]["late_visits_with_notice"] == 0
    assert (b["notice"]["numerator"], b["notice"]["denominator"]) == (1, 1)
    assert (total["notice"]["rate"], total["notice"]["changes"], total["notice"]["late_visits"]) == (0.5, 2, 2)
    # R8: respond met once (the corrected arrival of the second misses by 20 min), breached twice; same for fix.
    assert a["repair_sla"]["respond"] == {"met": 1, "breached": 2, "running": 0, "rate": 0.3333}
    assert a["repair_sla"]["fix"] == {"met": 1, "breached": 2, "running": 0, "rate": 0.3333}
    # R3: signed 5 minutes before work: compliant; 5 minutes after, or never: not.
    assert total["approval_before_work"] == {"numerator": 1, "denominator": 3, "rate": 0.3333}
    # R16: open at the end of October, aged at 1 November 00:00: 31, 27 and 11 days; two past their deadline.
    assert a["open_hazards"] == {"open": 3, "overdue": 2, "median_age_days": 27.0, "max_age_days": 31.0}
    assert total["open_hazards"] == a["open_hazards"] and b["open_hazards"]["open"] == 0
    # R6: 5, 4 (A), 2 (B), 5 (a complaint call, no technician).
    assert total["satisfaction"]["mean"] == 4.0 and total["satisfaction"]["responses"] == 4
    assert total["satisfaction"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2}
    assert a["satisfaction"]["mean"] == 4.5 and b["satisfaction"]["mean"] == 2.0
    # Visits completed in October: A's four windows and two repairs; B's one.
    assert (a["visits_completed"], b["visits_completed"], total["visits_completed"]) == (6, 1, 8 - 1)
    # R10 (company-wide): answered in time, in time by the agreed extension; late; never answered.
    assert body["complaint_sla"] == {"met": 2, "breached": 2, "running": 0, "rate": 0.5}
    # R7 (company-wide): residential 1 of 2 in date; the commercial customer is overdue since September.
    coverage = {c["category"]: c for c in body["inspection_coverage"]}
    assert (coverage["residential"]["customers"], coverage["residential"]["in_date"]) == (2, 1)
    assert coverage["residential"]["coverage_pct"] == 50.0 and coverage["commercial"]["overdue"] == 1
    assert body["timezone"] == "Asia/Shanghai" and body["from"] == "2025-10-01"


def test_filters_by_technician_and_centre(client, office, world):
    _, headers = office
    only_b = _kpis(client, headers, f"{OCTOBER}&technician_id={world.b.id}")
    assert [t["technician_name"] for t in only_b["technicians"]] == ["乙师傅"]
    assert only_b["total"]["on_time"]["denominator"] == 1 and only_b["total"]["open_hazards"]["open"] == 0
    centre = _kpis(client, headers, f"{OCTOBER}&service_centre_id={world.centre.id}")
    assert (centre["total"]["on_time"]["numerator"], centre["total"]["on_time"]["denominator"]) == (3, 4)
    assert centre["total"]["repair_sla"]["respond"]["breached"] == 2
    first_week = _kpis(client, headers, "from=2025-10-01&to=2025-10-07")
    assert first_week["total"]["on_time"]["denominator"] == 2  # the 6th and the 7th


def test_bad_periods_and_other_companies(client, office, world, make_company, make_user, login):
    _, headers = office
    resp = client.get("/api/v1/kpis?from=2025-10-31&to=2025-10-01", headers=headers[D])
    assert resp.status_code == 422 and "to" in resp.get_json()["errors"]["query"]
    assert client.get("/api/v1/kpis?from=31-10-2025", headers=headers[D]).status_code == 422
    assert client.get("/api/v1/kpis?from=2024-01-01&to=2025-10-01", headers=headers[D]).status_code == 422
    assert client.get(f"/api/v1/kpis?{OCTOBER}", headers=headers[Role.TECHNICIAN]).status_code == 403
    other = make_company("kpi-other")
    make_user(other, D, "kpi-other-disp")
    foreign = login("kpi-other-disp")
    assert client.get(f"/api/v1/kpis?technician_id={world.a.id}", headers=foreign).status_code == 404
    theirs = client.get(f"/api/v1/kpis?{OCTOBER}", headers=foreign).get_json()
    assert theirs["technicians"] == [] and theirs["total"]["on_time"]["denominator"] == 0


def test_csv_export_has_a_row_per_technician_and_the_total(client, office, world):
    _, headers = office
    resp = client.get(f"/api/v1/kpis.csv?{OCTOBER}", headers=headers[Role.CUSTOMER_SERVICE])
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheet programs read the Chinese names
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[1]
    table = {r[0]: dict(zip(header, r, strict=False)) for r in rows[2:] if r and r[0] in ("甲师傅", "乙师傅", "TOTAL")}
    assert table["甲师傅"]["on_time_rate"] == "0.75" and table["TOTAL"]["on_time_rate"] == "0.6"
    assert table["TOTAL"]["satisfaction_mean"] == "4.0" and table["乙师傅"]["not_arrived"] == "1"
    assert ["company", "2", "2", "0", "0.5"] in rows


def test_svg_charts_are_plain_markup_with_the_figures(client, office, world):
    _, headers = office
    resp = client.get(f"/api/v1/kpis/charts/on_time.svg?{OCTOBER}", headers=headers[D])
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    svg = resp.get_data(as_text=True)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "准时到达率" in svg and "75.0% (3/4)" in svg and "60.0% (3/5)" in svg and "甲师傅" in svg
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    for name in ("notice", "repair_sla", "approval", "hazards", "satisfaction", "coverage"):
        chart = client.get(f"/api/v1/kpis/charts/{name}.svg?{OCTOBER}&lang=en", headers=headers[D])
        assert chart.status_code == 200
        ET.fromstring(chart.get_data(as_text=True))
    assert "50.0% (1/2)" in client.get(f"/api/v1/kpis/charts/coverage.svg?{OCTOBER}",
                                       headers=headers[D]).get_data(as_text=True)
    assert client.get(f"/api/v1/kpis/charts/pie.svg?{OCTOBER}", headers=headers[D]).status_code == 404
