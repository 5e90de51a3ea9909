"""The dispatcher console's pages and actions through the Flask test client (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.auth.models import Role
from server.db import AuditEntry, utcnow
from server.extensions import db
from server.jobs import calls
from server.jobs.models import CallCategory, Complaint, FaultKind, Job, JobType
from server.notifications.models import Notification
from sync.domain.jobs import JobStatus
from tests.conftest import PASSWORD
from tests.factories import make_household, make_job, make_technician

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_at(days: int, hour: int) -> dt.datetime:
    """``hour``:00 Shanghai time ``days`` from today (Shanghai), in UTC."""
    day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI).astimezone(dt.UTC)


def text(resp) -> str:
    return resp.get_data(as_text=True)


# ---------------------------------------------------------------- sign-in, CSRF, language


def test_pages_need_a_console_sign_in(client):
    resp = client.get("/console/board")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
    resp = client.get("/console/clocks", headers={"HX-Request": "true"})
    assert resp.status_code == 401 and resp.headers["HX-Redirect"] == "/console/login"
    login = client.get("/console/login")
    assert login.status_code == 200 and "登录" in text(login) and 'lang="zh-CN"' in text(login)


def test_sign_in_with_the_api_users_and_refusals(client, make_company, make_user):
    company = make_company("con-s")
    make_user(company, Role.DISPATCHER, "d-sign")
    make_user(company, Role.TECHNICIAN, "t-sign")
    from tests.fixtures.console import Console

    session = Console(client, company, None)
    resp = session.sign_in("d-sign", "wrong password")
    assert resp.status_code == 401 and "用户名或密码错误" in text(resp)
    resp = session.sign_in("t-sign", PASSWORD)
    assert resp.status_code == 403 and "调度台仅限" in text(resp)
    resp = session.sign_in("d-sign", PASSWORD)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/board")
    assert client.get("/console/board").status_code == 200


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(console, make_company):
    customer = make_household(console.company)
    tech = make_technician(console.company)
    job = make_job(console.company, customer, window_start=local_at(1, 10))
    for data in ({}, {"csrf_token": "forged"}):
        resp = console.client.post(f"/console/jobs/{job.id}/assign", data={"technician_id": str(tech.id), **data})
        assert resp.status_code == 400 and "表单已过期" in text(resp)
    db.session.expire_all()
    assert db.session.get(Job, job.id).technician_id is None
    # The sign-in form and sign-out are guarded too.
    assert console.client.post("/console/logout").status_code == 400
    assert console.get("/console/board").status_code == 200


def test_sign_out_revokes_the_session(console):
    cookie = console.client.get_cookie("session")
    resp = console.post("/console/logout")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/login")
    console.client.set_cookie("session", cookie.value)  # a copy of the cookie taken before signing out
    assert console.get("/console/board").status_code == 302


def test_language_switch_to_english_and_back(console):
    resp = console.post("/console/lang", {"lang": "en", "next": "/console/clocks"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/clocks")
    assert "console_lang=en" in resp.headers["Set-Cookie"]
    page = text(console.get("/console/clocks"))
    assert "Repair SLA (R8" in page and 'lang="en"' in page
    console.post("/console/lang", {"lang": "zh-CN"})
    assert "抢修时限" in text(console.get("/console/clocks"))


# ---------------------------------------------------------------- day board and plan changes


def test_board_shows_technicians_jobs_by_window_and_unassigned_with_special_care(console):
    care = make_household(console.company, name="王奶奶", special_care=True)
    other = make_household(console.company, name="赵先生")
    tech = make_technician(console.company, name="周师傅")
    make_job(console.company, care, technician=tech, window_start=local_at(1, 10))
    waiting = make_job(console.company, other, window_start=local_at(1, 14))
    day = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)).isoformat()
    page = text(console.get(f"/console/board?d={day}"))
    assert "周师傅" in page and "王奶奶" in page and "特殊关怀" in page
    assert "left: 23.08%" in page  # 10:00 on the 07:00–20:00 track: 3 of 13 hours in
    assert waiting.ref in page and "待派工单" in page
    # Another day: the window is not on it.
    other_day = text(console.get("/console/board?d=2020-01-01"))
    assert "王奶奶" not in other_day


def test_assign_goes_through_the_service_and_is_audited(console):
    customer = make_household(console.company)
    tech = make_technician(console.company, name="钱师傅")
    job = make_job(console.company, customer, window_start=local_at(1, 10))
    resp = console.post(f"/console/jobs/{job.id}/assign", {"technician_id": str(tech.id)})
    assert resp.status_code == 303
    page = text(console.get(resp.headers["Location"]))
    assert "已派给 钱师傅" in page
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.technician_id == tech.id and job.status == JobStatus.DISPATCHED
    actors = db.session.execute(
        sa.select(AuditEntry.actor_name).where(AuditEntry.entity == "job", AuditEntry.entity_id == str(job.id))
    ).scalars().all()
    assert "con-disp" in actors


def test_assign_with_a_window_agrees_it_first(console):
    customer = make_household(console.company)
    tech = make_technician(console.company)
    job = make_job(console.company, customer)
    day = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=2)).isoformat()
    resp = console.post(f"/console/jobs/{job.id}/assign",
                        {"technician_id": str(tech.id), "day": day, "start": "13:00", "end": "15:00"})
    assert resp.status_code == 303
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.window_start.astimezone(SHANGHAI).strftime("%H:%M") == "13:00"
    assert job.status == JobStatus.DISPATCHED


def test_refused_assignment_shows_the_certification_reason(console):
    customer = make_household(console.company)
    tech = make_technician(console.company, name="孙师傅", certifications=("gas_safety",))
    job = make_job(console.company, customer, window_start=local_at(1, 10))
    job.required_certifications = ["pressure_work"]
    db.session.commit()
    resp = console.post(f"/console/jobs/{job.id}/assign", {"technician_id": str(tech.id)})
    assert resp.status_code == 409
    page = text(resp)
    assert 'data-reason="not_qualified"' in page
    assert "技术员没有该工单所需的有效资质（R14）" in page and "pressure_work" in page
    db.session.expire_all()
    assert db.session.get(Job, job.id).technician_id is None


def test_refused_assignment_of_a_complaint_to_an_involved_technician(console):
    customer = make_household(console.company)
    tech = make_technician(console.company, name="吴师傅")
    complaint = Complaint(
        company_id=console.company.id, customer_id=customer.id, received_at=utcnow(), complainant_name="投诉人",
        summary="态度差", involved_technician_ids=[str(tech.id)], answer_by=utcnow() + dt.timedelta(days=7),
    )
    db.session.add(complaint)
    db.session.flush()
    job = make_job(console.company, customer, job_type=JobType.COMPLAINT_VISIT, window_start=local_at(1, 10))
    job.complaint_id = complaint.id
    db.session.commit()
    resp = console.post(f"/console/jobs/{job.id}/assign", {"technician_id": str(tech.id)})
    assert resp.status_code == 409 and "R10" in text(resp) and 'data-reason="conflict_of_interest"' in text(resp)


def test_state_machine_refusal_and_unassign(console):
    customer = make_household(console.company)
    tech = make_technician(console.company)
    other = make_technician(console.company)
    busy = make_job(console.company, customer, technician=tech, window_start=local_at(1, 10), status=JobStatus.ON_SITE)
    resp = console.post(f"/console/jobs/{busy.id}/assign", {"technician_id": str(other.id)})
    assert resp.status_code == 409 and 'data-reason="not_assignable"' in text(resp)
    job = make_job(console.company, customer, technician=tech, window_start=local_at(1, 12))
    resp = console.post(f"/console/jobs/{job.id}/unassign")
    assert resp.status_code == 303
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.technician_id is None and job.status == JobStatus.SCHEDULED


def test_change_window_with_short_notice_is_an_r2_breach_with_its_notification(console):
    customer = make_household(console.company)
    job = make_job(console.company, customer)
    day = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=3)).isoformat()
    assert console.post(f"/console/jobs/{job.id}/window", {"day": day, "start": "09:00", "end": "11:00"}).status_code == 303
    # A change needs a reason (the service's rule), shown to the dispatcher.
    resp = console.post(f"/console/jobs/{job.id}/window", {"day": day, "start": "14:00", "end": "16:00"})
    assert resp.status_code == 422 and "reason" in text(resp)
    # Move the agreed window to start within the hour, then change it: under 2 h notice.
    soon = utcnow() + dt.timedelta(minutes=50)
    job = db.session.get(Job, job.id)
    from server.jobs.appointments import agree_window

    agree_window(job, soon, soon + dt.timedelta(hours=2), reason="客户要求提前")
    db.session.commit()
    resp = console.post(f"/console/jobs/{job.id}/window",
                        {"day": day, "start": "14:00", "end": "16:00", "reason": "技术员车辆故障"})
    assert resp.status_code == 303
    note = db.session.execute(sa.select(Notification).where(Notification.job_id == job.id,
                                                            Notification.kind == "rescheduled")).scalars().all()
    assert note
    page = text(console.get("/console/clocks"))
    assert "技术员车辆故障" in page and "已通知用户" in page


def test_bad_window_input_names_the_field(console):
    customer = make_household(console.company)
    job = make_job(console.company, customer)
    resp = console.post(f"/console/jobs/{job.id}/window", {"day": "not-a-day", "start": "09:00", "end": "11:00"})
    assert resp.status_code == 422 and "day" in text(resp)


def test_reorder_moves_a_job_in_the_route(console):
    customer = make_household(console.company)
    tech = make_technician(console.company)
    first = make_job(console.company, customer, technician=tech, window_start=local_at(1, 9))
    second = make_job(console.company, customer, technician=tech, window_start=local_at(1, 13))
    resp = console.post(f"/console/jobs/{second.id}/move", {"direction": "up"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Job, second.id).route_order == 1 and db.session.get(Job, first.id).route_order == 2
    day = (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)).isoformat()
    page = text(console.get(f"/console/map?d={day}&tech={tech.id}"))
    assert "<svg" in page and page.index("13:00–") < page.index("09:00–")


def test_another_companys_job_does_not_exist_for_the_console(console, make_company):
    other = make_company("con-b")
    customer = make_household(other)
    job = make_job(other, customer)
    tech = make_technician(console.company)
    assert console.get(f"/console/jobs/{job.id}/panel").status_code == 404
    resp = console.post(f"/console/jobs/{job.id}/assign", {"technician_id": str(tech.id)})
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(Job, job.id).technician_id is None


def test_customer_service_may_not_assign(app, make_company, make_user):
    from tests.fixtures.console import Console

    company = make_company("con-cs")
    make_user(company, Role.CUSTOMER_SERVICE, "cs-1")
    session = Console(app.test_client(), company, None)
    session.sign_in("cs-1", PASSWORD)
    session.refresh_csrf()
    job = make_job(company, make_household(company))
    tech = make_technician(company)
    resp = session.post(f"/console/jobs/{job.id}/assign", {"technician_id": str(tech.id)})
    assert resp.status_code == 403


# ---------------------------------------------------------------- intake, clocks


def test_intake_of_a_repair_call_shows_its_six_and_twenty_four_hour_clocks(console):
    customer = make_household(console.company, name="李阿姨")
    found = text(console.get("/console/customers/search?q=李阿"))
    assert str(customer.id) in found and "李阿姨" in found
    assert "未找到" in text(console.get("/console/customers/search?q=没有这个人"))
    resp = console.post("/console/intake", {
        "caller_name": "李阿姨", "caller_phone": "13800001111", "category": "repair", "reason": "楼道闻到燃气味",
        "customer_id": str(customer.id), "fault_kind": "network",
    })
    assert resp.status_code == 200
    page = text(resp)
    job = db.session.execute(sa.select(Job).where(Job.customer_id == customer.id)).scalar_one()
    assert job.ref in page and "6 小时响应期限" in page and "24 小时修复期限" in page
    assert "剩余 5 小时 59 分" in page or "剩余 6 小时 0 分" in page
    assert job.respond_by - job.created_at == dt.timedelta(hours=6)


def test_intake_refusals_name_the_field_and_write_nothing(console):
    customer = make_household(console.company)
    resp = console.post("/console/intake", {"caller_name": "张三", "caller_phone": "abc", "category": "question",
                                            "reason": "问价格"})
    assert resp.status_code == 422 and "caller_phone" in text(resp)
    resp = console.post("/console/intake", {"caller_name": "张三", "caller_phone": "13800001111", "category": "repair",
                                            "reason": "灶具坏了", "customer_id": str(customer.id)})
    assert resp.status_code == 422 and "fault_kind" in text(resp)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Job)).scalar() == 0


def test_a_question_call_records_its_four_hour_answer_clock(console):
    resp = console.post("/console/intake", {"caller_name": "王先生", "caller_phone": "13800002222",
                                            "category": "question", "reason": "燃气费怎么交"})
    assert resp.status_code == 200 and "来电已登记（无工单）" in text(resp)
    page = text(console.get("/console/clocks"))
    assert "王先生" in page and ("剩余 3 小时 59 分" in page or "剩余 4 小时 0 分" in page)


def test_clocks_show_breached_repairs_and_open_complaints(console):
    customer = make_household(console.company)
    call, job = calls.record_call(
        console.company.id, caller_name="赵", caller_phone="13800003333", category=CallCategory.REPAIR,
        reason="管道漏气", customer_id=customer.id, fault_kind=FaultKind.NETWORK,
        received_at=utcnow() - dt.timedelta(hours=7),
    )
    db.session.commit()
    page = text(console.get("/console/clocks"))
    assert job.ref in page and "已超时" in page


# ---------------------------------------------------------------- conflicts, households


def test_conflicts_inbox_shows_both_values_and_resolves(console):
    from server.sync.models import ConflictStatus, SyncConflict

    customer = make_household(console.company)
    tech = make_technician(console.company)
    job = make_job(console.company, customer, technician=tech, window_start=local_at(1, 10))
    conflict = SyncConflict(
        company_id=console.company.id, collection="job", row_id=str(job.id), field="priority", server_value=2,
        device_value=3, rule="plan_owned_by_dispatch", message="派工计划以调度为准", job_id=job.id,
        assignee_role="dispatcher",
    )
    db.session.add(conflict)
    db.session.commit()
    page = text(console.get("/console/conflicts"))
    assert "plan_owned_by_dispatch" in page and job.ref in page and "调度员" in page
    resp = console.post(f"/console/conflicts/{conflict.id}/resolve", {"resolution": "keep_server", "note": "已电话确认"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(SyncConflict, conflict.id).status == ConflictStatus.RESOLVED
    again = console.post(f"/console/conflicts/{conflict.id}/resolve", {"resolution": "keep_server"})
    assert again.status_code == 409 and 'data-reason="already_resolved"' in text(again)


def test_households_search_file_and_registers(console):
    today = dt.datetime.now(SHANGHAI).date()
    care = make_household(console.company, name="孙爷爷", special_care=True,
                          calibration_due_on=today - dt.timedelta(days=3))
    page = text(console.get("/console/households?q=孙爷"))
    assert "孙爷爷" in page and "已过期 3 天" in page and "独居老人" in page
    fragment = console.get("/console/households?q=孙爷", headers={"HX-Request": "true", "HX-Target": "household-results"})
    assert "孙爷爷" in text(fragment) and "<html" not in text(fragment)
    file = text(console.get(f"/console/households/{care.id}"))
    assert "一户一档" in file and care.account_no in file and "燃气表" in file
    assert console.get(f"/console/households/{uuid.uuid4()}").status_code == 404
