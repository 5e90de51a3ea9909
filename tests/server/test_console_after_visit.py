"""After the visit, on the console: the daily close and month reconciliation with their discrepancies and
the service report PDF (R17, R18), follow-up calls with their outcome (R6), complaints with deadlines,
extensions and confidentiality (R10), and the audit trail of a job and a household (R19)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.db import Actor, AuditEntry, current_actor, utcnow
from server.extensions import db
from server.followups.models import FollowUpStatus, FollowUpTask
from server.jobs.models import Complaint, Job
from server.visits.models import FeeCollection
from sync.domain.jobs import JobStatus
from tests.factories import make_household, make_job, make_technician
from tests.fixtures.visits import make_quote

SH = ZoneInfo("Asia/Shanghai")
HTMX = {"HX-Request": "true"}


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SH)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def section(page: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">(.*?)</section>', page, re.S).group(1)


# ---------------------------------------------------------------- daily close and month view (R17, R18)


def _fee(job, quote, cents: int, when: dt.datetime, method: str = "cash") -> None:
    db.session.add(FeeCollection(company_id=job.company_id, job_id=job.id, quote_id=quote.id if quote else None,
                                 technician_id=job.technician_id, amount_cents=cents, method=method,
                                 receipt_no=f"R{cents}", collected_at=when))


@pytest.fixture
def takings(console):
    """14 October: 钱师傅 paid in full (¥95), short by ¥5 (¥90 of ¥95), and ¥20 with no quote at all."""
    company = console.company
    tech = make_technician(company, name="钱师傅")
    jobs = {}
    for name, cents, quoted in (("paid", 9500, True), ("short", 9000, True), ("no_quote", 2000, False)):
        job = make_job(company, make_household(company), technician=tech, window_start=at(10, 14, 9), chargeable=quoted)
        quote = make_quote(job)[0] if quoted else None
        _fee(job, quote, cents, at(10, 14, 11), method="wechat" if name == "paid" else "cash")
        job.status, job.completed_at = JobStatus.COMPLETED, at(10, 14, 11, 30)
        jobs[name] = job
    db.session.commit()
    return jobs


def test_daily_close_lists_takings_and_every_discrepancy(console, takings):
    page = text(console.get("/console/daily-close?d=2025-10-14"))
    assert "2025-10-14 日结对账" in page and "有差异" in page
    technicians = section(page, "close-technicians")
    assert "钱师傅" in technicians and "¥205.00" in technicians and "微信 ¥95.00" in technicians
    rows = re.findall(r'<tr class="breach discrepancy" data-kind="(\w+)"><td><a class="ref" href="[^"]+">([^<]+)</a>',
                      section(page, "discrepancies"))
    assert sorted(rows) == sorted([("amount_differs", takings["short"].ref), ("no_quote", takings["no_quote"].ref)])
    assert "实收与确认报价金额不符" in page and "¥5.00 outstanding" in page and "收款未对应报价" in page
    visits = section(page, "close-visits")
    for job in takings.values():
        assert f'href="/console/jobs/{job.id}/report.pdf"' in visits
    # The next day took nothing and owes nothing.
    quiet = text(console.get("/console/daily-close?d=2025-10-15"))
    assert "已平账" in quiet and "data-kind=" not in quiet and "当天没有收款" in quiet


def test_service_report_pdf_downloads_from_the_console(console, console_service, takings):
    resp = console.get(f"/console/jobs/{takings['paid'].id}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    assert "attachment" in resp.headers["Content-Disposition"] and takings["paid"].ref in resp.headers["Content-Disposition"]
    assert console_service.get(f"/console/jobs/{takings['paid'].id}/report.pdf").status_code == 200
    unfinished = make_job(console.company, make_household(console.company))
    resp = console.get(f"/console/jobs/{unfinished.id}/report.pdf")
    assert resp.status_code == 409 and "上门尚未完成" in text(resp)


def test_month_view_totals_days_and_technicians(console, console_service, takings):
    quote = make_quote(takings["short"])[0]  # a second quote, paid on 3 October in full: that day reconciles
    _fee(takings["short"], quote, 9500, at(10, 3, 10))
    db.session.commit()
    page = text(console.get("/console/daily-close/month?month=2025-10"))
    assert "2025-10 月度对账" in page and "¥300.00" in page
    days = section(page, "month-days")
    assert "2025-10-03" in days and "2025-10-14" in days and "2025-10-15" not in days
    assert len(re.findall(r'data-kind="', section(page, "discrepancies"))) == 2
    assert "钱师傅" in section(page, "month-technicians")
    resp = console.get("/console/daily-close/month?month=2025-13")
    assert resp.status_code == 422 and "use YYYY-MM" in text(resp) and 'id="month-days"' in text(resp)
    # The close is the dispatcher's (as the API's): customer service is refused, and has no link to it.
    assert console_service.get("/console/daily-close").status_code == 403
    assert "/console/daily-close" not in text(console_service.get("/console/follow-ups"))
    assert 'href="/console/daily-close"' in text(console.get("/console/follow-ups"))


# ---------------------------------------------------------------- follow-ups (R6)


@pytest.fixture
def calls(console):
    """Three completed visits' follow-ups: one overdue, one due tomorrow, one done with a 5."""
    company = console.company
    tech = make_technician(company, name="赵师傅")
    tasks = []
    for due_hours, status, score in ((-5, FollowUpStatus.OPEN, None), (20, FollowUpStatus.OPEN, None),
                                     (-48, FollowUpStatus.DONE, 5)):
        customer = make_household(company, name=f"回访用户{len(tasks)}")
        job = make_job(company, customer, technician=tech, window_start=utcnow() - dt.timedelta(days=1),
                       status=JobStatus.COMPLETED)
        task = FollowUpTask(company_id=company.id, job_id=job.id, customer_id=customer.id, kind="visit_quality",
                            due_at=utcnow() + dt.timedelta(hours=due_hours), status=status, satisfaction=score,
                            done_at=utcnow() - dt.timedelta(days=2) if score else None)
        db.session.add(task)
        tasks.append(task)
    db.session.commit()
    return tasks


def test_follow_up_list_open_first_with_filters(console_service, calls):
    overdue, later, done = calls
    page = text(console_service.get("/console/follow-ups"))
    order = re.findall(r'<tr id="fu-([0-9a-f-]+)"', page)
    assert order == [str(overdue.id), str(later.id)]
    assert "已超时" in page and 'name="satisfaction"' in page
    done_page = text(console_service.get("/console/follow-ups?show=done"))
    assert re.findall(r'<tr id="fu-([0-9a-f-]+)"', done_page) == [str(done.id)] and "5/5" in done_page
    every = re.findall(r'<tr id="fu-([0-9a-f-]+)"', text(console_service.get("/console/follow-ups?show=all")))
    assert every == [str(overdue.id), str(later.id), str(done.id)]


def test_recording_an_outcome_refuses_bad_input_and_keeps_what_was_typed(console, console_service, calls):
    task = calls[0]
    url = f"/console/follow-ups/{task.id}/outcome"
    said = "用户表示师傅很专业，但希望提前电话联系"
    resp = console_service.post(url, {"status": "done", "outcome": said}, headers=HTMX)
    row = text(resp)
    assert resp.status_code == 422 and row.lstrip().startswith(f'<tr id="fu-{task.id}"')
    assert 'data-field="satisfaction"' in row and "satisfaction from 1 to 5 is required" in row
    assert said in row and 'value="done" checked' in row  # nothing typed is lost
    resp = console_service.post(url, {"status": "done", "satisfaction": "7", "outcome": said}, headers=HTMX)
    assert resp.status_code == 422 and 'data-field="satisfaction"' in text(resp) and "less than or equal to 5" in text(resp)
    resp = console_service.post(url, {"status": "unreachable", "satisfaction": "3"}, headers=HTMX)
    assert resp.status_code == 422 and "unreachable customer gave no satisfaction" in text(resp)
    db.session.expire_all()
    assert db.session.get(FollowUpTask, task.id).status == FollowUpStatus.OPEN
    # The dispatcher may read the list but the call is customer service's (as the API's rule).
    assert console.post(url, {"status": "done", "satisfaction": "4"}, headers=HTMX).status_code == 403

    resp = console_service.post(url, {"status": "done", "satisfaction": "4", "outcome": said}, headers=HTMX)
    assert resp.status_code == 200 and "4/5" in text(resp) and "回访结果已保存" in text(resp)
    assert resp.headers["HX-Trigger"] == "followup-saved"  # the counts above the list refetch themselves
    tabs = text(console_service.get("/console/follow-ups?part=tabs"))
    assert re.search(r'已完成 <span class="count">2</span>', tabs) and "<tr" not in tabs
    db.session.expire_all()
    stored = db.session.get(FollowUpTask, task.id)
    assert (stored.status, stored.satisfaction, stored.outcome) == (FollowUpStatus.DONE, 4, said)
    assert db.session.get(Job, stored.job_id).satisfaction == 4
    again = console_service.post(url, {"status": "done", "satisfaction": "1"}, headers=HTMX)
    assert again.status_code == 409 and "该回访已完成" in text(again)
    # Without htmx the form posts and comes back to the list.
    resp = console_service.post(f"/console/follow-ups/{calls[1].id}/outcome", {"status": "unreachable"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/follow-ups")
    db.session.expire_all()
    assert db.session.get(FollowUpTask, calls[1].id).status == FollowUpStatus.UNREACHABLE


# ---------------------------------------------------------------- complaints (R10)


@pytest.fixture
def complaint(console):
    row = Complaint(company_id=console.company.id, received_at=utcnow() - dt.timedelta(days=1), complainant_name="王小明",
                    complainant_phone="13900001111", summary="对安检人员态度不满", details="要求保密：涉及邻居纠纷",
                    confidential=True, answer_by=utcnow() + dt.timedelta(days=5))
    db.session.add(row)
    db.session.commit()
    return row


def test_complaint_list_keeps_confidential_details_out(console_service, complaint):
    page = text(console_service.get("/console/complaints"))
    listed = section(page, "complaints")
    assert "王**" in listed and "王小明" not in listed and "涉及邻居纠纷" not in listed and "13900001111" not in listed
    assert "对安检人员态度不满" in listed and "保密" in listed
    clocks = section(text(console_service.get("/console/clocks")), "complaints")  # the clocks page too
    assert "王**" in clocks and "王小明" not in clocks and f'href="/console/complaints/{complaint.id}"' in clocks
    file = text(console_service.get(f"/console/complaints/{complaint.id}"))
    assert "王小明" in file and "涉及邻居纠纷" in file and "不得向技术员" in file


def test_an_extension_needs_a_reason_and_a_later_deadline(console_service, complaint):
    url = f"/console/complaints/{complaint.id}/extend"
    later = (complaint.answer_by.astimezone(SH) + dt.timedelta(days=3)).date().isoformat()
    resp = console_service.post(url, {"until_day": later, "until_time": "17:30", "reason": ""})
    assert resp.status_code == 422 and "reason" in text(resp) and f'value="{later}"' in text(resp)
    earlier = (complaint.answer_by.astimezone(SH) - dt.timedelta(days=3)).date().isoformat()
    resp = console_service.post(url, {"until_day": earlier, "reason": "需现场复核"})
    assert resp.status_code == 422 and "must be later than the current deadline" in text(resp)
    assert "需现场复核" in text(resp)  # the reason typed is kept
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).extended_until is None
    resp = console_service.post(url, {"until_day": later, "until_time": "17:30", "reason": "需燃气表检定结果，已与投诉人协商"})
    assert resp.status_code == 303
    db.session.expire_all()
    stored = db.session.get(Complaint, complaint.id)
    assert stored.extended_until == dt.datetime.combine(dt.date.fromisoformat(later), dt.time(17, 30), SH)
    assert stored.extension_reason == "需燃气表检定结果，已与投诉人协商"
    file = text(console_service.get(resp.headers["Location"]))
    assert "延期已记录" in file and "需燃气表检定结果" in file
    assert "已延期" in section(text(console_service.get("/console/complaints")), "complaints")


# ---------------------------------------------------------------- audit trail (R19)


def test_job_and_household_audit_trails_say_who_what_when_and_from_which_device(console, make_company):
    company = console.company
    customer = make_household(company, name="审计用户")
    tech = make_technician(company, name="孙师傅")
    job = make_job(company, customer, window_start=utcnow() + dt.timedelta(days=1))
    assert console.post(f"/console/jobs/{job.id}/assign", {"technician_id": str(tech.id)}).status_code == 303
    # A change the tablet made (the sync adapter sets the actor with its device id).
    token = current_actor.set(Actor(user_id=None, name="孙师傅", device_id="tablet-0042"))
    try:
        row = db.session.get(Job, job.id)
        row.status, row.eta = JobStatus.EN_ROUTE, utcnow() + dt.timedelta(hours=1)
        cust = db.session.get(type(customer), customer.id)
        cust.id_number = "310101199001011234"
        db.session.commit()
    finally:
        current_actor.reset(token)
    page = text(console.get(f"/console/jobs/{job.id}"))
    trail = section(page, "audit")
    assert "con-disp" in trail and "technician_id" in trail and "调度台/接口" in trail
    assert f"<b>孙师傅 {tech.staff_no}</b>" in trail and str(tech.id) not in trail  # people, not ids
    assert "+00:00" not in trail  # times in the company zone, as everywhere on the console
    assert "孙师傅" in trail and "平板 tablet-0042" in trail and "en_route" in trail
    stored = db.session.execute(sa.select(sa.func.count()).where(AuditEntry.entity_id == str(job.id))).scalar_one()
    assert f'<span class="count">{stored}</span>' in page
    # The board's panel links to it.
    assert f'href="/console/jobs/{job.id}#audit"' in text(console.get(f"/console/jobs/{job.id}/panel"))
    # The household file shows the job's changes and its own; the identity number never shows (redacted).
    household = section(text(console.get(f"/console/households/{customer.id}")), "audit")
    assert "tablet-0042" in household and "id_number" in household
    assert "310101199001011234" not in household and "*** → <b>***</b>" in household
    other = make_job(make_company("aud-else"), make_household(make_company("aud-else2")))
    assert console.get(f"/console/jobs/{other.id}").status_code == 404


def test_answering_a_complaint_closes_its_clock(console_service, complaint):
    url = f"/console/complaints/{complaint.id}/answer"
    resp = console_service.post(url, {"answer": "  "})
    assert resp.status_code == 422 and "answer" in text(resp)
    resp = console_service.post(url, {"answer": "已向投诉人说明检查流程，并安排其他师傅复检"})
    assert resp.status_code == 303
    file = text(console_service.get(resp.headers["Location"]))
    assert "答复已记录" in file and "已向投诉人说明检查流程" in file and 'id="extend"' not in file
    assert str(complaint.id) not in text(console_service.get("/console/complaints"))  # open ones only
    assert str(complaint.id) in text(console_service.get("/console/complaints?show=answered"))
    again = console_service.post(f"/console/complaints/{complaint.id}/extend", {"until_day": "2030-01-01", "reason": "x"})
    assert again.status_code == 409 and "该投诉已答复或关闭" in text(again)


def test_the_after_visit_pages_need_a_console_sign_in(client):
    for path in ("/console/kpis", "/console/kpis.csv", "/console/daily-close", "/console/daily-close/month",
                 "/console/follow-ups", "/console/complaints", f"/console/jobs/{uuid.uuid4()}",
                 f"/console/jobs/{uuid.uuid4()}/report.pdf"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/console/login" in resp.headers["Location"], path
    resp = client.post(f"/console/follow-ups/{uuid.uuid4()}/outcome", data={"status": "done"})
    assert resp.status_code == 400  # no CSRF token of a session: refused before anything else
