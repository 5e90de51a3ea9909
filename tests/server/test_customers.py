"""The household file (R11, R12, R15) and its personal data (R5, R19) through the API."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from server.customers.models import Customer, Meter
from server.db import utcnow
from server.extensions import db
from server.jobs.models import JobType
from server.visits.models import Hazard, HazardSeverity, HazardStatus, Signature, SignaturePurpose
from sync.domain.jobs import JobStatus
from tests.factories import make_household, make_job

# The fixtures' companies keep Asia/Shanghai time: "today" is their local date.
TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _day(offset: int) -> str:
    return str(TODAY + dt.timedelta(days=offset))


FULL_HOUSEHOLD = {
    "account_no": "SH-0001", "name": "陈阿婆", "category": "residential", "phone": "021-5555 1234",
    "id_number": "310101194901011234", "special_care": True, "special_care_reason": "独居老人，行动不便",
    "notes": "敲门后需等待",
    "premises": [{
        "address": "上海市黄浦区南京东路100号3楼", "district": "黄浦区", "lat": 31.235, "lon": 121.48,
        "access_notes": "后门进",
        "meters": [
            {"serial": "M-OK", "calibration_due_on": _day(200), "installed_on": "2020-05-01"},
            {"serial": "M-DUE", "calibration_due_on": _day(30), "model": "G2.5"},
            {"serial": "M-LATE", "calibration_due_on": _day(-1)},
        ],
        "appliances": [{"kind": "water_heater", "brand": "林内", "installed_on": "2019-01-01"},
                       {"kind": "stove", "brand": "方太"}],
    }],
    "contacts": [{"name": "陈小明", "phone": "13900001111", "relation": "儿子"}],
}


def test_open_a_household_and_read_the_whole_file(client, household_roles):
    r = household_roles
    resp = client.post("/api/v1/customers", json=FULL_HOUSEHOLD, headers=r.dispatcher)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    resp = client.get(f"/api/v1/customers/{created['id']}", headers=r.customer_service)
    assert resp.status_code == 200, resp.get_json()
    file = resp.get_json()
    customer = file["customer"]
    assert customer["account_no"] == "SH-0001" and customer["special_care"] is True
    assert customer["special_care_reason"] == "独居老人，行动不便"
    [premises] = customer["premises"]
    assert premises["access_notes"] == "后门进"
    meters = {m["serial"]: m for m in premises["meters"]}
    assert meters["M-OK"]["calibration_status"] == "ok" and meters["M-OK"]["days_to_calibration"] == 200
    assert meters["M-DUE"]["calibration_status"] == "due"  # the 30th day is still inside the window
    assert meters["M-LATE"]["calibration_status"] == "overdue" and meters["M-LATE"]["days_to_calibration"] == -1
    assert sorted(a["kind"] for a in premises["appliances"]) == ["stove", "water_heater"]
    assert customer["contacts"][0]["relation"] == "儿子"
    history = file["history"]
    assert history == {
        "jobs": [], "jobs_total": 0, "open_hazards": [], "signatures": [],
        "inspections": {"records": [], "last_completed_at": None, "next_due_on": None, "interval_months": 12},
    }


def test_id_number_is_full_for_admin_masked_for_office_and_never_sent_to_a_technician(
    client, household_roles, post_household
):
    r = household_roles
    created = post_household(r.dispatcher).get_json()
    assert created["id_number"] == "**************1234"
    url = f"/api/v1/customers/{created['id']}"
    assert client.get(url, headers=r.admin).get_json()["customer"]["id_number"] == "310101194901011234"
    assert client.get(url, headers=r.customer_service).get_json()["customer"]["id_number"] == "**************1234"
    listed = client.get("/api/v1/customers", headers=r.dispatcher).get_json()["items"][0]
    assert listed["id_number"] == "**************1234"
    assert client.get("/api/v1/customers", headers=r.admin).get_json()["items"][0]["id_number"].startswith("3101")
    # A technician with an open job at the household reads the file, without the id number anywhere.
    customer = db.session.get(Customer, uuid.UUID(created["id"]))
    make_job(r.company, customer, technician=r.technician_row, window_start=utcnow() + dt.timedelta(hours=3))
    resp = client.get(url, headers=r.technician)
    assert resp.status_code == 200, resp.get_json()
    assert "id_number" not in resp.get_json()["customer"]
    assert "310101194901011234" not in resp.get_data(as_text=True)


def test_technicians_get_no_general_listing(client, household_roles, post_household):
    r = household_roles
    created = post_household(r.dispatcher).get_json()
    for path in ("/api/v1/customers", "/api/v1/customers/special-care", "/api/v1/meters/due-for-calibration",
                 f"/api/v1/customers/{created['id']}/jobs"):
        resp = client.get(path, headers=r.technician)
        assert resp.status_code == 403 and resp.get_json()["reason"] == "forbidden_role", path
    # No open job of theirs at this household: the file is out of their scope.
    resp = client.get(f"/api/v1/customers/{created['id']}", headers=r.technician)
    assert resp.status_code == 403 and resp.get_json()["reason"] == "out_of_scope"
    # A finished job does not keep the household on the tablet either.
    customer = db.session.get(Customer, uuid.UUID(created["id"]))
    make_job(r.company, customer, technician=r.technician_row, status=JobStatus.CLOSED,
             window_start=utcnow() - dt.timedelta(days=2))
    assert client.get(f"/api/v1/customers/{created['id']}", headers=r.technician).status_code == 403


def test_only_dispatchers_and_admins_write(client, household_roles, post_household):
    r = household_roles
    assert post_household(r.customer_service).status_code == 403
    assert post_household(r.technician).status_code == 403
    created = post_household(r.admin).get_json()
    url = f"/api/v1/customers/{created['id']}"
    for headers in (r.customer_service, r.technician):
        assert client.patch(url, json={"name": "改名"}, headers=headers).status_code == 403
        assert client.post(f"{url}/contacts", json={"name": "a", "phone": "123"}, headers=headers).status_code == 403
    assert client.patch(url, json={"name": "改名"}, headers=r.dispatcher).status_code == 200
    assert client.get("/api/v1/customers", headers={}).status_code == 401


def test_search_by_name_account_phone_and_address(client, household_roles, post_household):
    r = household_roles
    post_household(r.dispatcher, name="王建国", account_no="ACC-1", phone="13811112222",
                   premises=[{"address": "浦东新区世纪大道8号", "district": "浦东新区", "lat": 31.2, "lon": 121.5}])
    post_household(r.dispatcher, name="李红", account_no="ACC-2", phone="13933334444")
    post_household(r.other_admin, name="王建国", account_no="ACC-1")

    def accounts(query: str) -> list[str]:
        resp = client.get("/api/v1/customers", query_string={"q": query}, headers=r.customer_service)
        assert resp.status_code == 200, resp.get_json()
        return [c["account_no"] for c in resp.get_json()["items"]]

    assert accounts("建国") == ["ACC-1"]
    assert accounts("acc-2") == ["ACC-2"]  # case-insensitive
    assert accounts("1111") == ["ACC-1"]
    assert accounts("世纪大道") == ["ACC-1"]
    assert accounts("ACC") == ["ACC-1", "ACC-2"]  # company B's ACC-1 is not there
    assert accounts("没有这个人") == []


def test_search_metacharacters_are_literal(client, household_roles, post_household):
    r = household_roles
    post_household(r.dispatcher, name="100% 纯燃气", account_no="P1")
    post_household(r.dispatcher, name="1000 燃气", account_no="P2")
    post_household(r.dispatcher, name="O'Brien", account_no="A_1")
    post_household(r.dispatcher, name="Obrien", account_no="AB1")
    post_household(r.dispatcher, name="back\\slash", account_no="B1")

    def accounts(query: str) -> list[str]:
        resp = client.get("/api/v1/customers", query_string={"q": query}, headers=r.dispatcher)
        assert resp.status_code == 200, resp.get_json()
        return [c["account_no"] for c in resp.get_json()["items"]]

    assert accounts("%") == ["P1"]
    assert accounts("0%") == ["P1"]
    assert accounts("_") == ["A_1"]
    assert accounts("A_") == ["A_1"]
    assert accounts("'") == ["A_1"]
    assert accounts("O'B") == ["A_1"]
    assert accounts("\\") == ["B1"]
    assert accounts("'; DROP TABLE customer; --") == []
    assert len(accounts("燃气")) == 2


def test_filters_and_paging(client, household_roles, post_household):
    r = household_roles
    post_household(r.dispatcher, account_no="F1", category="commercial")
    post_household(r.dispatcher, account_no="F2", special_care=True, special_care_reason="残疾")
    post_household(r.dispatcher, account_no="F3", premises=[
        {"address": "徐汇区漕溪北路1号", "district": "徐汇区", "lat": 31.19, "lon": 121.43},
        {"address": "徐汇区漕溪北路2号", "district": "徐汇区", "lat": 31.19, "lon": 121.43},
    ])

    def accounts(**query) -> list[str]:
        resp = client.get("/api/v1/customers", query_string=query, headers=r.dispatcher)
        assert resp.status_code == 200, resp.get_json()
        return [c["account_no"] for c in resp.get_json()["items"]]

    assert accounts(category="commercial") == ["F1"]
    assert accounts(special_care="true") == ["F2"]
    assert accounts(special_care="false") == ["F1", "F3"]
    assert accounts(district="徐汇区") == ["F3"]  # one row although two premises match
    assert accounts(district="黄浦区", category="residential") == ["F2"]
    page = client.get("/api/v1/customers?per_page=2&page=2", headers=r.dispatcher).get_json()
    assert page["total"] == 3 and [c["account_no"] for c in page["items"]] == ["F3"]
    assert len(page["items"][0]["premises"]) == 2
    for bad in ("category=garage", "special_care=perhaps", "per_page=500", "page=0"):
        resp = client.get(f"/api/v1/customers?{bad}", headers=r.dispatcher)
        assert resp.status_code == 422, bad
        assert resp.get_json()["errors"]["query"], bad


def test_bad_input_is_named_and_nothing_is_written(client, household_roles, post_household):
    r = household_roles
    cases = [
        ({"colour": "red"}, ["colour"]),
        ({"account_no": None}, ["account_no"]),
        ({"account_no": "has space"}, ["account_no"]),
        ({"name": 42}, ["name"]),
        ({"category": "spaceship"}, ["category"]),
        ({"special_care": "yes please"}, ["special_care"]),
        ({"phone": "call me"}, ["phone"]),
        ({"id_number": "31010-1"}, ["id_number"]),
        ({"special_care": True, "special_care_reason": " "}, ["special_care_reason"]),
        ({"premises": [{"address": "x", "lat": 31}]}, ["premises", "0", "lon"]),
        ({"premises": [{"address": "x", "lat": 31, "lon": 200}]}, ["premises", "0", "lon"]),
        ({"premises": [{"address": "x", "lat": 31, "lon": 121, "meters": [{"serial": "S"}]}]},
         ["premises", "0", "meters", "0", "calibration_due_on"]),
        ({"premises": [{"address": "x", "lat": 31, "lon": 121,
                        "meters": [{"serial": "S", "calibration_due_on": "2030-01-01", "status": "melted"}]}]},
         ["premises", "0", "meters", "0", "status"]),
        ({"contacts": [{"name": "没电话"}]}, ["contacts", "0", "phone"]),
        ({"premises": "somewhere"}, ["premises"]),
    ]
    for overrides, path in cases:
        resp = post_household(r.dispatcher, **overrides)
        assert resp.status_code == 422, (overrides, resp.get_json())
        node = resp.get_json()["errors"]["json"]
        for key in path:
            assert key in node, (overrides, resp.get_json())
            node = node[key]
    resp = client.post("/api/v1/customers", json={"name": "缺字段"}, headers=r.dispatcher)
    assert resp.status_code == 422
    assert {"account_no", "category"} <= set(resp.get_json()["errors"]["json"])
    resp = client.post("/api/v1/customers", data="[1,", content_type="application/json", headers=r.dispatcher)
    assert resp.status_code == 400 and resp.get_json()["reason"] == "malformed_json"
    assert client.get("/api/v1/customers", headers=r.dispatcher).get_json()["total"] == 0


def test_duplicates_are_409_and_leave_nothing_behind(client, household_roles, post_household):
    r = household_roles
    meter = {"serial": "DUP-1", "calibration_due_on": _day(100)}
    first = post_household(r.dispatcher, account_no="D1", premises=[
        {"address": "a", "lat": 31, "lon": 121, "meters": [meter]}])
    assert first.status_code == 201
    resp = post_household(r.dispatcher, account_no="D1")
    assert resp.status_code == 409 and resp.get_json()["reason"] == "duplicate"
    assert "account_no" in resp.get_json()["errors"]["json"]
    assert post_household(r.other_admin, account_no="D1").status_code == 201  # another company's numbering
    resp = post_household(r.dispatcher, account_no="D2", premises=[
        {"address": "b", "lat": 31, "lon": 121, "meters": [meter]}])
    assert resp.status_code == 409
    resp = post_household(r.dispatcher, account_no="D3", premises=[
        {"address": "c", "lat": 31, "lon": 121, "meters": [{**meter, "serial": "X"}, {**meter, "serial": "X"}]}])
    assert resp.status_code == 409
    premises_id = first.get_json()["premises"][0]["id"]
    resp = client.post(f"/api/v1/premises/{premises_id}/meters", json=meter, headers=r.dispatcher)
    assert resp.status_code == 409 and "serial" in resp.get_json()["errors"]["json"]
    second = post_household(r.dispatcher, account_no="D4").get_json()
    resp = client.patch(f"/api/v1/customers/{second['id']}", json={"account_no": "D1"}, headers=r.dispatcher)
    assert resp.status_code == 409
    accounts = [c["account_no"] for c in client.get("/api/v1/customers", headers=r.dispatcher).get_json()["items"]]
    assert accounts == ["D1", "D4"]
    assert db.session.query(Meter).filter_by(company_id=r.company.id).count() == 1


def test_unknown_and_other_company_ids_are_404_everywhere(client, household_roles, post_household):
    r = household_roles
    theirs = client.post("/api/v1/customers", json={**FULL_HOUSEHOLD, "account_no": "B-1"},
                         headers=r.other_admin).get_json()
    premises = theirs["premises"][0]
    ids = {
        "customer": theirs["id"], "premises": premises["id"], "meter": premises["meters"][0]["id"],
        "appliance": premises["appliances"][0]["id"], "contact": theirs["contacts"][0]["id"],
    }
    contact = {"name": "x", "phone": "123"}
    meter = {"serial": "NEW", "calibration_due_on": _day(10)}
    calls = [
        ("get", "/api/v1/customers/{customer}", None),
        ("patch", "/api/v1/customers/{customer}", {"name": "x"}),
        ("get", "/api/v1/customers/{customer}/jobs", None),
        ("post", "/api/v1/customers/{customer}/premises", {"address": "x", "lat": 1, "lon": 1}),
        ("post", "/api/v1/customers/{customer}/contacts", contact),
        ("patch", "/api/v1/premises/{premises}", {"district": "x"}),
        ("post", "/api/v1/premises/{premises}/meters", meter),
        ("post", "/api/v1/premises/{premises}/appliances", {"kind": "stove"}),
        ("patch", "/api/v1/meters/{meter}", {"model": "x"}),
        ("patch", "/api/v1/appliances/{appliance}", {"brand": "x"}),
        ("delete", "/api/v1/appliances/{appliance}", None),
        ("patch", "/api/v1/contacts/{contact}", {"relation": "x"}),
        ("delete", "/api/v1/contacts/{contact}", None),
    ]
    unknown = {k: str(uuid.uuid4()) for k in ids}
    for method, template, body in calls:
        for label, values in (("other company", ids), ("unknown", unknown)):
            url = template.format(**values)
            kwargs = {"json": body} if body is not None else {}
            resp = getattr(client, method)(url, headers=r.dispatcher, **kwargs)
            assert resp.status_code == 404, (label, method, url, resp.get_json())
            assert resp.get_json()["reason"] == "not_found"
    # Company B's household is untouched.
    again = client.get(f"/api/v1/customers/{theirs['id']}", headers=r.other_admin).get_json()["customer"]
    assert again["name"] == FULL_HOUSEHOLD["name"] and len(again["contacts"]) == 1
    assert client.get("/api/v1/customers/not-a-uuid", headers=r.dispatcher).status_code == 404


def _household(r) -> Customer:
    return make_household(r.company, name="周先生")


def test_history_jobs_hazards_signatures_and_inspections(client, household_roles):
    r = household_roles
    customer = _household(r)
    now = utcnow()
    old = make_job(r.company, customer, technician=r.technician_row, job_type=JobType.SAFETY_INSPECTION,
                   window_start=now - dt.timedelta(days=40), status=JobStatus.CLOSED)
    old.completed_at = now - dt.timedelta(days=40)
    failed = make_job(r.company, customer, technician=r.technician_row, job_type=JobType.REPAIR,
                      window_start=now - dt.timedelta(days=10), status=JobStatus.COULD_NOT_COMPLETE)
    failed.could_not_complete_reason = "no_access"
    cancelled = make_job(r.company, customer, job_type=JobType.METER_WORK, status=JobStatus.CANCELLED)
    cancelled.cancelled_reason = "客户取消"
    upcoming = make_job(r.company, customer, technician=r.technician_row, window_start=now + dt.timedelta(days=1))
    premises_id = customer.premises[0].id
    common = {"company_id": r.company.id, "customer_id": customer.id, "premises_id": premises_id, "job_id": old.id}
    db.session.add_all([
        Hazard(**common, severity=HazardSeverity.MAJOR, description="软管老化", found_at=now - dt.timedelta(days=40),
               rectify_by=now - dt.timedelta(days=33)),
        Hazard(**common, severity=HazardSeverity.MINOR, description="通风不足", found_at=now - dt.timedelta(days=40),
               rectify_by=now + dt.timedelta(days=5), status=HazardStatus.RECTIFICATION_SCHEDULED),
        Hazard(**common, severity=HazardSeverity.CRITICAL, description="已修复", found_at=now - dt.timedelta(days=40),
               rectify_by=now - dt.timedelta(days=39), status=HazardStatus.FIXED),
        Signature(company_id=r.company.id, job_id=old.id, purpose=SignaturePurpose.CLEANUP, content_hash="a" * 64,
                  signer_name="周先生", signed_at=now - dt.timedelta(days=40)),
    ])
    other = make_household(r.company, name="别人")
    make_job(r.company, other, window_start=now)
    db.session.commit()

    file = client.get(f"/api/v1/customers/{customer.id}", headers=r.dispatcher).get_json()
    history = file["history"]
    assert history["jobs_total"] == 4
    # Most recent first: tomorrow's visit, then the repair 10 days ago, the inspection 40 days ago;
    # the unscheduled cancelled job counts from its creation (just now), so it comes second.
    assert [j["id"] for j in history["jobs"]] == [str(upcoming.id), str(cancelled.id), str(failed.id), str(old.id)]
    jobs = {j["id"]: j for j in history["jobs"]}
    assert jobs[str(old.id)]["outcome"] == "completed"
    assert jobs[str(old.id)]["technician"] == {"id": str(r.technician_row.id), "name": "王师傅",
                                               "staff_no": r.technician_row.staff_no}
    assert jobs[str(failed.id)]["outcome"] == "could_not_complete"
    assert jobs[str(failed.id)]["outcome_note"] == "no_access"
    assert jobs[str(cancelled.id)]["outcome"] == "cancelled" and jobs[str(cancelled.id)]["technician"] is None
    assert jobs[str(upcoming.id)]["outcome"] == "open" and jobs[str(upcoming.id)]["window_start"]
    hazards = history["open_hazards"]
    assert [h["description"] for h in hazards] == ["软管老化", "通风不足"]  # the fixed one is not open
    assert [h["overdue"] for h in hazards] == [True, False]
    assert hazards[1]["status"] == "rectification_scheduled"
    assert [s["signer_name"] for s in history["signatures"]] == ["周先生"]
    inspections = history["inspections"]
    assert [i["job_id"] for i in inspections["records"]] == [str(old.id)]
    assert inspections["records"][0]["hazards_found"] == 3
    completed_local = (now - dt.timedelta(days=40)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    expected_due = completed_local.replace(year=completed_local.year + 1) if not (
        completed_local.month == 2 and completed_local.day == 29) else dt.date(completed_local.year + 1, 2, 28)
    assert inspections["next_due_on"] == str(expected_due) and inspections["interval_months"] == 12
    # The paginated job list has every job.
    page = client.get(f"/api/v1/customers/{customer.id}/jobs?per_page=3", headers=r.customer_service).get_json()
    assert page["total"] == 4 and len(page["items"]) == 3
    assert page["items"][0]["id"] == str(upcoming.id)


def test_special_care_register(client, household_roles, post_household):
    r = household_roles
    post_household(r.dispatcher, account_no="C1", special_care=True, special_care_reason="独居老人",
                   contacts=[{"name": "女儿", "phone": "13700000000", "relation": "女儿"}])
    post_household(r.dispatcher, account_no="C2", special_care=True, special_care_reason="轮椅", premises=[
        {"address": "静安区1号", "district": "静安区", "lat": 31.22, "lon": 121.44}])
    post_household(r.dispatcher, account_no="C3")
    post_household(r.other_admin, account_no="C4", special_care=True, special_care_reason="病人")
    resp = client.get("/api/v1/customers/special-care", headers=r.customer_service)
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [c["account_no"] for c in items] == ["C1", "C2"]
    assert items[0]["special_care_reason"] == "独居老人" and items[0]["contacts"][0]["phone"] == "13700000000"
    assert items[1]["premises"][0]["district"] == "静安区"
    static = client.get("/api/v1/customers/special-care?district=静安区", headers=r.dispatcher).get_json()
    assert [c["account_no"] for c in static["items"]] == ["C2"]
    # Taking a customer off the register clears the reason; putting one on needs a reason.
    c2 = items[1]["id"]
    resp = client.patch(f"/api/v1/customers/{c2}", json={"special_care": False}, headers=r.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["special_care_reason"] == ""
    resp = client.patch(f"/api/v1/customers/{c2}", json={"special_care": True}, headers=r.dispatcher)
    assert resp.status_code == 422 and "special_care_reason" in resp.get_json()["errors"]["json"]
    names = [c["account_no"] for c in client.get("/api/v1/customers/special-care", headers=r.admin).get_json()["items"]]
    assert names == ["C1"]


def test_meters_due_for_calibration(client, household_roles, post_household):
    r = household_roles

    def premises_with(*meters):
        return [{"address": "x路1号", "district": "虹口区", "lat": 31.26, "lon": 121.5,
                 "meters": [{"serial": s, "calibration_due_on": _day(d)} for s, d in meters]}]

    post_household(r.dispatcher, account_no="M1", premises=premises_with(("LATE-10", -10), ("SOON-5", 5)))
    post_household(r.dispatcher, account_no="M2", premises=premises_with(("AT-30", 30), ("LATER-31", 31),
                                                                          ("FAR-200", 200)))
    gone = post_household(r.dispatcher, account_no="M3", premises=premises_with(("GONE", -100))).get_json()
    post_household(r.other_admin, account_no="M9", premises=premises_with(("THEIRS", -5)))
    gone_id = gone["premises"][0]["meters"][0]["id"]
    assert client.patch(f"/api/v1/meters/{gone_id}", json={"status": "removed"}, headers=r.dispatcher).status_code == 200

    def serials(query: str = "") -> list[str]:
        resp = client.get(f"/api/v1/meters/due-for-calibration?{query}", headers=r.customer_service)
        assert resp.status_code == 200, resp.get_json()
        return [m["serial"] for m in resp.get_json()["items"]]

    assert serials() == ["LATE-10", "SOON-5", "AT-30"]
    assert serials("within_days=0") == ["LATE-10"]
    assert serials("within_days=60") == ["LATE-10", "SOON-5", "AT-30", "LATER-31"]
    assert serials("district=黄浦区") == []
    item = client.get("/api/v1/meters/due-for-calibration", headers=r.dispatcher).get_json()["items"][0]
    assert item["calibration_status"] == "overdue" and item["days_to_calibration"] == -10
    assert item["customer"]["account_no"] == "M1" and item["premises"]["district"] == "虹口区"
    for bad in ("within_days=-1", "within_days=1000", "within_days=soon"):
        resp = client.get(f"/api/v1/meters/due-for-calibration?{bad}", headers=r.dispatcher)
        assert resp.status_code == 422 and "within_days" in resp.get_json()["errors"]["query"], bad
    # Verification done: a new due date takes the meter off the list.
    late = client.get("/api/v1/meters/due-for-calibration", headers=r.dispatcher).get_json()["items"][0]
    resp = client.patch(f"/api/v1/meters/{late['id']}", json={"calibration_due_on": _day(5 * 365)},
                        headers=r.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["calibration_status"] == "ok"
    assert serials() == ["SOON-5", "AT-30"]


def test_nested_parts_create_update_and_remove(client, household_roles, post_household):
    r = household_roles
    created = post_household(r.dispatcher).get_json()
    cid = created["id"]
    resp = client.post(f"/api/v1/customers/{cid}/premises", json={
        "address": "新地址", "district": "长宁区", "lat": 31.2, "lon": 121.4,
        "meters": [{"serial": "N-1", "calibration_due_on": _day(400)}], "appliances": [{"kind": "boiler"}]},
        headers=r.dispatcher)
    assert resp.status_code == 201, resp.get_json()
    premises = resp.get_json()
    pid = premises["id"]
    assert premises["meters"][0]["serial"] == "N-1" and premises["appliances"][0]["kind"] == "boiler"
    resp = client.patch(f"/api/v1/premises/{pid}", json={"access_notes": "门禁 1234#"}, headers=r.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["access_notes"] == "门禁 1234#"
    resp = client.patch(f"/api/v1/premises/{pid}", json={"lat": 95}, headers=r.dispatcher)
    assert resp.status_code == 422 and "lat" in resp.get_json()["errors"]["json"]
    resp = client.patch(f"/api/v1/premises/{pid}", json={"meters": []}, headers=r.dispatcher)
    assert resp.status_code == 422 and "meters" in resp.get_json()["errors"]["json"]
    resp = client.post(f"/api/v1/premises/{pid}/meters", json={"serial": "N-2", "calibration_due_on": "tomorrow"},
                       headers=r.dispatcher)
    assert resp.status_code == 422 and "calibration_due_on" in resp.get_json()["errors"]["json"]
    resp = client.post(f"/api/v1/premises/{pid}/meters", json={"serial": "N-2", "calibration_due_on": _day(3)},
                       headers=r.dispatcher)
    assert resp.status_code == 201 and resp.get_json()["calibration_status"] == "due"
    meter = resp.get_json()
    resp = client.patch(f"/api/v1/meters/{meter['id']}", json={"status": "faulty", "serial": None},
                        headers=r.dispatcher)
    assert resp.status_code == 422 and "serial" in resp.get_json()["errors"]["json"]
    resp = client.patch(f"/api/v1/meters/{meter['id']}", json={"status": "faulty"}, headers=r.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["status"] == "faulty"
    appliance = premises["appliances"][0]
    resp = client.patch(f"/api/v1/appliances/{appliance['id']}", json={"brand": "威能"}, headers=r.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["brand"] == "威能"
    resp = client.post(f"/api/v1/premises/{pid}/appliances", json={"kind": ""}, headers=r.dispatcher)
    assert resp.status_code == 422
    resp = client.post(f"/api/v1/customers/{cid}/contacts", json={"name": "邻居", "phone": "13600000000"},
                       headers=r.dispatcher)
    assert resp.status_code == 201
    contact = resp.get_json()
    resp = client.patch(f"/api/v1/contacts/{contact['id']}", json={"phone": "电话"}, headers=r.dispatcher)
    assert resp.status_code == 422 and "phone" in resp.get_json()["errors"]["json"]
    assert client.patch(f"/api/v1/contacts/{contact['id']}", json={"relation": "邻居"},
                        headers=r.dispatcher).status_code == 200
    assert client.delete(f"/api/v1/contacts/{contact['id']}", headers=r.dispatcher).status_code == 204
    assert client.delete(f"/api/v1/appliances/{appliance['id']}", headers=r.dispatcher).status_code == 204
    # Removed rows leave the file but stay as tombstones (tablets learn of the removal).
    assert client.delete(f"/api/v1/contacts/{contact['id']}", headers=r.dispatcher).status_code == 404
    file = client.get(f"/api/v1/customers/{cid}", headers=r.dispatcher).get_json()["customer"]
    assert file["contacts"] == []
    new_premises = next(p for p in file["premises"] if p["id"] == pid)
    assert new_premises["appliances"] == []
    assert {m["serial"]: m["status"] for m in new_premises["meters"]} == {"N-1": "active", "N-2": "faulty"}
    from server.customers.models import CustomerContact

    assert db.session.get(CustomerContact, uuid.UUID(contact["id"])).deleted is True
    # Writes bump the customer's version (the sync change sequence).
    resp = client.patch(f"/api/v1/customers/{cid}", json={"phone": "13811110000", "category": "commercial"},
                        headers=r.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["version"] > created["version"]
    assert resp.get_json()["category"] == "commercial"
    for bad, field in (({"category": "x"}, "category"), ({"premises": []}, "premises"),
                       ({"name": None}, "name"), ({"id": str(uuid.uuid4())}, "id")):
        resp = client.patch(f"/api/v1/customers/{cid}", json=bad, headers=r.dispatcher)
        assert resp.status_code == 422 and field in resp.get_json()["errors"]["json"], bad
