"""Checklist templates: item validation, versions (one active per code), picking one for a job."""

from __future__ import annotations

import copy

from server.auth.models import Role
from server.checklists.models import ChecklistTemplate
from server.customers.models import CustomerCategory
from server.extensions import db
from tests.factories import make_household
from tests.fixtures.jobs import new_job

ITEMS = [
    {"key": "has_water_heater", "label": "是否有热水器", "type": "pass_fail_na"},
    {"key": "flue_ok", "label": "烟道完好", "type": "pass_fail_na", "hazard_on_fail": "major",
     "condition": {"key": "has_water_heater", "equals": "pass"}},
    {"key": "pressure", "label": "灶前压力", "type": "number", "unit": "kPa", "min": 1.8, "max": 2.5},
    {"key": "hose", "label": "胶管状况", "type": "choice",
     "options": [{"value": "ok", "label": "完好"}, {"value": "aged", "label": "老化"}]},
    {"key": "hose_photo", "label": "胶管照片", "type": "photo", "required": False,
     "condition": {"key": "hose", "equals": "aged"}},
    {"key": "remarks", "label": "备注", "type": "text", "required": False},
]


def template(code: str = "res_inspection", **fields) -> dict:
    return {"code": code, "name": "居民安检", "job_type": "safety_inspection", "items": copy.deepcopy(ITEMS)} | fields


def test_create_and_read_a_template(client, jobs_world):
    w = jobs_world
    resp = client.post("/api/v1/checklists/templates", json=template(), headers=w.admin)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["version_no"] == 1 and body["active"] is True and [i["key"] for i in body["items"]][:2] == [
        "has_water_heater", "flue_ok"]
    assert body["items"][2]["min"] == 1.8 and body["items"][0]["required"] is True
    # Technicians read templates (their tablets fill them in); other companies do not see them.
    assert client.get(f"/api/v1/checklists/templates/{body['id']}", headers=w.technician_login).status_code == 200
    assert client.get(f"/api/v1/checklists/templates/{body['id']}", headers=w.other_dispatcher).status_code == 404
    assert client.get("/api/v1/checklists/templates", headers=w.other_dispatcher).get_json()["total"] == 0
    # Only admins write.
    assert client.post("/api/v1/checklists/templates", json=template("x"), headers=w.dispatcher).status_code == 403
    resp = client.post("/api/v1/checklists/templates", json=template(), headers=w.admin)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "code_exists"


def _item_errors(client, w, items) -> dict:
    resp = client.post("/api/v1/checklists/templates", json=template(items=items), headers=w.admin)
    assert resp.status_code == 422, resp.get_json()
    return resp.get_json()["errors"]["json"]["items"]


def test_item_rules(client, jobs_world):
    w = jobs_world
    bad = copy.deepcopy(ITEMS)
    bad[1]["key"] = "has_water_heater"  # duplicate key
    assert "key" in _item_errors(client, w, bad)["1"]
    bad = copy.deepcopy(ITEMS)
    bad[0]["type"] = "slider"
    assert "type" in _item_errors(client, w, bad)["0"]
    bad = copy.deepcopy(ITEMS)
    del bad[2]["unit"]
    bad[2]["min"], bad[2]["max"] = 3, 2
    assert set(_item_errors(client, w, bad)["2"]) == {"unit", "max"}
    bad = copy.deepcopy(ITEMS)
    bad[3]["options"] = [{"value": "ok", "label": "a"}, {"value": "ok", "label": "b"}]
    bad[5]["options"] = bad[3]["options"]
    bad[0]["unit"] = "kPa"
    errors = _item_errors(client, w, bad)
    assert "options" in errors["3"] and "options" in errors["5"] and "unit" in errors["0"]
    bad = copy.deepcopy(ITEMS)
    del bad[3]["options"]
    assert "options" in _item_errors(client, w, bad)["3"]
    # A condition must refer to an earlier item, with an answer that item can have.
    bad = copy.deepcopy(ITEMS)
    bad[1]["condition"] = {"key": "remarks", "equals": "x"}
    assert "condition" in _item_errors(client, w, bad)["1"]
    bad = copy.deepcopy(ITEMS)
    bad[4]["condition"] = {"key": "hose", "equals": "burst"}
    assert "condition" in _item_errors(client, w, bad)["4"]
    bad = copy.deepcopy(ITEMS)
    bad[1]["condition"] = {"key": "has_water_heater", "equals": "yes"}
    assert "condition" in _item_errors(client, w, bad)["1"]
    bad = copy.deepcopy(ITEMS)
    bad[0]["key"] = "'; DROP TABLE job; --"
    assert "key" in _item_errors(client, w, bad)["0"]
    resp = client.post("/api/v1/checklists/templates", json=template(items=[]), headers=w.admin)
    assert resp.status_code == 422
    resp = client.post("/api/v1/checklists/templates", json=template(code="Bad Code%"), headers=w.admin)
    assert resp.status_code == 422 and "code" in resp.get_json()["errors"]["json"]
    assert db.session.query(ChecklistTemplate).count() == 0


def test_publishing_a_version_keeps_the_old_one_inactive(client, jobs_world, make_user, login):
    w = jobs_world
    make_user(w.other, Role.ADMIN, "other-admin")
    v1 = client.post("/api/v1/checklists/templates", json=template(), headers=w.admin).get_json()
    body = template()
    del body["code"]
    body["items"].append({"key": "co_alarm", "label": "一氧化碳报警器", "type": "pass_fail_na"})
    resp = client.post("/api/v1/checklists/templates/res_inspection/versions", json=body, headers=w.admin)
    assert resp.status_code == 201
    v2 = resp.get_json()
    assert v2["version_no"] == 2 and v2["active"] is True
    old = client.get(f"/api/v1/checklists/templates/{v1['id']}", headers=w.dispatcher).get_json()
    assert old["active"] is False and len(old["items"]) == len(ITEMS)
    active = client.get("/api/v1/checklists/templates?code=res_inspection", headers=w.dispatcher).get_json()
    assert [t["id"] for t in active["items"]] == [v2["id"]]
    everything = client.get("/api/v1/checklists/templates?all=true&code=res_inspection", headers=w.dispatcher)
    assert [t["version_no"] for t in everything.get_json()["items"]] == [2, 1]
    resp = client.post("/api/v1/checklists/templates/no_such_code/versions", json=body, headers=w.admin)
    assert resp.status_code == 404
    # Another company's admin cannot publish onto our code: it does not exist for them.
    resp = client.post("/api/v1/checklists/templates/res_inspection/versions", json=body, headers=login("other-admin"))
    assert resp.status_code == 404
    assert client.get("/api/v1/checklists/templates?code=%25", headers=w.dispatcher).get_json()["total"] == 0


def test_pick_the_template_for_a_job(client, jobs_world):
    w = jobs_world
    generic = client.post("/api/v1/checklists/templates", json=template("any_inspection"), headers=w.admin).get_json()
    commercial = client.post(
        "/api/v1/checklists/templates", json=template("com_inspection", customer_categories=["commercial"]),
        headers=w.admin,
    ).get_json()
    shop = make_household(w.company, category=CustomerCategory.COMMERCIAL, name="小吃店")
    home_job = new_job(client, w.dispatcher, w.customer)
    shop_job = new_job(client, w.dispatcher, shop)
    assert client.get(f"/api/v1/checklists/for-job/{home_job['id']}", headers=w.dispatcher).get_json()["id"] == generic["id"]
    assert client.get(f"/api/v1/checklists/for-job/{shop_job['id']}", headers=w.dispatcher).get_json()["id"] == commercial["id"]
    repair = new_job(client, w.dispatcher, w.customer, job_type="repair", fault_kind="network")
    resp = client.get(f"/api/v1/checklists/for-job/{repair['id']}", headers=w.dispatcher)
    assert resp.status_code == 404 and resp.get_json()["reason"] == "no_template"
    theirs = new_job(client, w.other_dispatcher, w.other_customer)
    assert client.get(f"/api/v1/checklists/for-job/{theirs['id']}", headers=w.dispatcher).status_code == 404
