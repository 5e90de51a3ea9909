"""The console's KPI page (R1, R2, R3, R6, R7, R8, R10, R16): figures and inline SVG charts from known
October 2025 data, the technician and centre filters (inspection coverage honours them too), CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from server.auth.models import Role
from server.extensions import db
from server.followups.models import FollowUpStatus, FollowUpTask
from server.jobs.models import Complaint, Job, JobType
from server.org.models import ServiceCentre
from server.people.models import Technician
from server.reports import kpis
from sync.domain.jobs import JobStatus
from tests.factories import make_household, make_technician

SH = ZoneInfo("Asia/Shanghai")
OCTOBER = "from=2025-10-01&to=2025-10-31"


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A Shanghai time in October 2025."""
    return dt.datetime(2025, 10, day, hour, minute, tzinfo=SH)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def tile(page: str, key: str) -> str:
    """The big figure of one headline tile."""
    return re.search(rf'data-kpi="{key}">.*?<b class="tfig">([^<]+)</b>', page, re.S).group(1)


@dataclass
class October:
    """Technician A (centre jobs) and B, their visits and the households they served."""

    a: Technician
    b: Technician
    centre: ServiceCentre


def _job(company, customer, tech, window_day: int | None, arrived: dt.datetime | None, *, centre=None,
         job_type=JobType.SAFETY_INSPECTION, status=JobStatus.COMPLETED) -> Job:
    window = at(window_day, 9 if window_day != 8 else 13) if window_day else None
    job = Job(company_id=company.id, ref=f"KC-{uuid.uuid4().hex[:8]}", job_type=job_type, customer_id=customer.id,
              premises_id=customer.premises[0].id, technician_id=tech.id, window_start=window,
              window_end=window + dt.timedelta(hours=2) if window else None, arrived_at=arrived, status=status,
              completed_at=arrived + dt.timedelta(minutes=40) if arrived and status == JobStatus.COMPLETED else None,
              service_centre_id=centre.id if centre else None, created_at=at(1, 8))
    db.session.add(job)
    db.session.flush()
    return job


@pytest.fixture
def october(console) -> October:
    """A: on time on the 6th, 90 min late on the 7th, a repair for a never-inspected household; B: on time on
    the 8th. Scores 5 (A) and 3 (B); one complaint answered in time."""
    company = console.company
    centre = db.session.query(ServiceCentre).filter_by(company_id=company.id).one()
    a, b = make_technician(company, name="甲师傅"), make_technician(company, name="乙师傅")
    x, w, y, z = (make_household(company) for _ in range(4))
    a1 = _job(company, x, a, 6, at(6, 10), centre=centre)
    _job(company, w, a, 7, at(7, 11, 30), centre=centre)
    b1 = _job(company, y, b, 8, at(8, 14))
    _job(company, z, a, None, None, centre=centre, job_type=JobType.REPAIR, status=JobStatus.NEW)
    for job, score in ((a1, 5), (b1, 3)):
        db.session.add(FollowUpTask(company_id=company.id, job_id=job.id, customer_id=job.customer_id,
                                    kind="visit_quality", due_at=at(20), status=FollowUpStatus.DONE,
                                    satisfaction=score, done_at=at(20, 10)))
    db.session.add(Complaint(company_id=company.id, received_at=at(1, 9), complainant_name="投诉人", summary="服务",
                             answer_by=at(8, 17, 30), answered_at=at(3, 10)))
    db.session.commit()
    return October(a, b, centre)


def test_kpi_page_shows_the_figures_and_the_charts(console, october):
    resp = console.get(f"/console/kpis?{OCTOBER}")
    page = text(resp)
    assert resp.status_code == 200
    # R1: A on time once of twice, B once of once: 2 of 3.
    assert tile(page, "on_time") == "66.7%" and "2 / 3" in page
    # R7: four households, three inspected in October, one never: 75 %.
    assert tile(page, "coverage") == "75.0%"
    assert tile(page, "complaints") == "100.0%" and tile(page, "satisfaction") == "4.00"
    assert tile(page, "approval") == "—"  # no chargeable work started: nothing measured, not 0 %
    # One inline SVG per rule, drawn by the reports package (no script, nothing fetched from elsewhere).
    charts = re.findall(r'<figure class="card chart" data-chart="(\w+)"><svg', page)
    assert charts == ["on_time", "notice", "repair_sla", "complaints", "coverage", "hazards", "approval", "satisfaction"]
    on_time = re.search(r'data-chart="on_time">(<svg.*?</svg>)', page, re.S).group(1)
    assert "50.0% (1/2)" in on_time and "100.0% (1/1)" in on_time and "66.7% (2/3)" in on_time and "甲师傅" in on_time
    assert "<script" not in page.replace('<script src="/console/static/htmx.min.js" defer></script>', "")
    assert 'src="http' not in page and "href=\"http" not in page
    # The per-technician table, and the CSV link carrying the same filters.
    table = re.search(r'id="kpi-technicians">(.*?)</section>', page, re.S).group(1)
    assert "甲师傅" in table and "乙师傅" in table and "合计" in table
    assert 'href="/console/kpis.csv?from=2025-10-01&amp;to=2025-10-31"' in page


def test_filters_narrow_every_figure_including_inspection_coverage(console, october):
    only_b = text(console.get(f"/console/kpis?{OCTOBER}&technician_id={october.b.id}"))
    assert tile(only_b, "on_time") == "100.0%" and tile(only_b, "satisfaction") == "3.00"
    assert tile(only_b, "coverage") == "100.0%"  # B served one household, inspected this month
    table = re.search(r'id="kpi-technicians">(.*?)</section>', only_b, re.S).group(1)
    assert "乙师傅" in table and "甲师傅" not in table
    only_a = text(console.get(f"/console/kpis?{OCTOBER}&technician_id={october.a.id}"))
    assert tile(only_a, "on_time") == "50.0%"
    assert tile(only_a, "coverage") == "66.7%"  # x and w in date, z (a repair, never inspected) not
    centre = text(console.get(f"/console/kpis?{OCTOBER}&service_centre_id={october.centre.id}"))
    assert tile(centre, "on_time") == "50.0%" and tile(centre, "coverage") == "66.7%"
    # The filter form keeps the choice.
    assert f'<option value="{october.a.id}" selected>' in only_a


def test_coverage_honours_the_filters_in_the_report_and_the_api(console, october, login):
    company_id = console.company.id
    period = kpis.period_for(company_id, {"date_from": dt.date(2025, 10, 1), "date_to": dt.date(2025, 10, 31),
                                          "technician_id": october.a.id})
    residential = {c["category"]: c for c in kpis.kpi_report(company_id, period)["inspection_coverage"]}["residential"]
    assert (residential["customers"], residential["in_date"], residential["never_inspected"]) == (3, 2, 1)
    everyone = kpis.period_for(company_id, {"date_from": dt.date(2025, 10, 1), "date_to": dt.date(2025, 10, 31)})
    residential = {c["category"]: c for c in kpis.kpi_report(company_id, everyone)["inspection_coverage"]}["residential"]
    assert (residential["customers"], residential["in_date"]) == (4, 3)
    headers = login("con-disp")
    body = console.client.get(f"/api/v1/kpis?{OCTOBER}&technician_id={october.b.id}", headers=headers).get_json()
    residential = {c["category"]: c for c in body["inspection_coverage"]}["residential"]
    assert (residential["customers"], residential["in_date"], residential["coverage_pct"]) == (1, 1, 100.0)


def test_bad_filters_are_refused_on_the_page(console, october, make_company):
    resp = console.get("/console/kpis?from=2025-10-31&to=2025-10-01")
    assert resp.status_code == 422 and 'refusal" role="alert"' in text(resp) and "to: must not be before" in text(resp)
    assert 'id="kpi-charts"' in text(resp)  # the page still shows (this month), with the refusal above
    stranger = make_technician(make_company("kpi-else"), name="外司师傅")
    resp = console.get(f"/console/kpis?technician_id={stranger.id}")
    assert resp.status_code == 404 and "外司师傅" not in text(resp)


def test_csv_export_and_english(console, console_service, october):
    resp = console_service.get(f"/console/kpis.csv?{OCTOBER}&technician_id={october.a.id}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="kpis-2025-10-01-2025-10-31.csv"' in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    table = {r[0]: dict(zip(rows[1], r, strict=False)) for r in rows[2:] if r and r[0] in ("甲师傅", "TOTAL")}
    assert table["甲师傅"]["on_time_rate"] == "0.5" and table["TOTAL"]["on_time"] == "1"
    assert ["residential", "3", "2", "0", "1", "0", "66.7"] in rows
    assert console.post("/console/lang", {"lang": "en", "next": "/console/kpis"}).status_code == 303
    page = text(console.get(f"/console/kpis?{OCTOBER}"))
    assert "On-time arrival (R1)" in page and "Complaints answered in time (R10)" in page and "2 of 3" in page
    assert console.get("/console/kpis.csv?from=bad").status_code == 422


def test_kpis_need_an_office_role(console, make_user):
    from tests.conftest import PASSWORD
    from tests.fixtures.console import Console

    admin = make_user(console.company, Role.ADMIN, "con-admin")
    session = Console(console.client.application.test_client(), console.company, admin)
    assert session.sign_in("con-admin", PASSWORD).status_code == 303
    assert session.get("/console/kpis").status_code == 200  # admins may do what the office may
