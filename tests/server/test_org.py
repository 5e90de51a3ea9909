"""Service centres and company settings through the API: roles, validation, company scoping."""

from __future__ import annotations

import datetime as dt
import uuid

from server.extensions import db
from server.org.models import Company
from server.org.service import company_today


def test_settings_are_read_by_every_role_and_changed_by_admin_only(client, household_roles):
    r = household_roles
    for headers in (r.admin, r.dispatcher, r.customer_service, r.technician):
        resp = client.get("/api/v1/company/settings", headers=headers)
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["timezone"] == "Asia/Shanghai" and body["code"] == "hh-a"
        assert body["inspection_interval_months"]["residential"] == 12
    for headers in (r.dispatcher, r.customer_service, r.technician):
        resp = client.patch("/api/v1/company/settings", json={"sync_days_ahead": 3}, headers=headers)
        assert resp.status_code == 403 and resp.get_json()["reason"] == "forbidden_role"
    resp = client.patch(
        "/api/v1/company/settings",
        json={"timezone": "Asia/Urumqi", "sync_days_ahead": 5, "inspection_interval_months": {"commercial": 3}},
        headers=r.admin,
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["timezone"] == "Asia/Urumqi" and body["sync_days_ahead"] == 5
    # A partial interval change keeps the other categories.
    assert body["inspection_interval_months"] == {"residential": 12, "commercial": 3, "industrial": 6, "heating": 6}
    # Company B is untouched.
    other = client.get("/api/v1/company/settings", headers=r.other_admin).get_json()
    assert other["timezone"] == "Asia/Shanghai" and other["sync_days_ahead"] == 2


def test_settings_reject_a_looser_interval_than_r7(client, household_roles):
    resp = client.patch(
        "/api/v1/company/settings", json={"inspection_interval_months": {"commercial": 12}},
        headers=household_roles.admin,
    )
    assert resp.status_code == 422
    assert "commercial" in resp.get_json()["errors"]["json"]["inspection_interval_months"]
    resp = client.patch(
        "/api/v1/company/settings", json={"inspection_interval_months": {"residential": 13}},
        headers=household_roles.admin,
    )
    assert resp.status_code == 422


def test_settings_bad_input_is_named_and_nothing_is_written(client, household_roles):
    admin = household_roles.admin
    cases = [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"sync_days_ahead": "3"}, "sync_days_ahead"),
        ({"sync_days_ahead": 99}, "sync_days_ahead"),
        ({"inspection_interval_months": {"garage": 6}}, "inspection_interval_months"),
        ({"inspection_interval_months": {"residential": 0}}, "inspection_interval_months"),
        ({"name": "renamed"}, "name"),
        ({"colour": "red"}, "colour"),
    ]
    for body, field in cases:
        resp = client.patch("/api/v1/company/settings", json={**body, "sync_days_ahead": 4}
                            if field != "sync_days_ahead" else body, headers=admin)
        assert resp.status_code == 422, (body, resp.get_json())
        assert field in resp.get_json()["errors"]["json"], (body, resp.get_json())
    settings = client.get("/api/v1/company/settings", headers=admin).get_json()
    assert settings["sync_days_ahead"] == 2 and settings["timezone"] == "Asia/Shanghai"


def test_service_centres_list_create_and_scope(client, household_roles):
    r = household_roles
    resp = client.post(
        "/api/v1/service-centres", json={"name": "浦东服务中心", "address": "浦东大道1号", "lat": 31.2, "lon": 121.5},
        headers=r.admin,
    )
    assert resp.status_code == 201, resp.get_json()
    centre = resp.get_json()
    assert client.post("/api/v1/service-centres", json={"name": "X"}, headers=r.dispatcher).status_code == 403
    page = client.get("/api/v1/service-centres?per_page=1", headers=r.dispatcher).get_json()
    assert page["total"] == 2 and len(page["items"]) == 1
    found = client.get("/api/v1/service-centres?q=浦东", headers=r.technician).get_json()
    assert [c["id"] for c in found["items"]] == [centre["id"]]
    # Company B sees neither its list nor the row.
    other = client.get("/api/v1/service-centres", headers=r.other_admin).get_json()
    assert centre["id"] not in {c["id"] for c in other["items"]} and other["total"] == 1
    resp = client.get(f"/api/v1/service-centres/{centre['id']}", headers=r.other_admin)
    assert resp.status_code == 404 and resp.get_json()["reason"] == "not_found"
    resp = client.patch(f"/api/v1/service-centres/{centre['id']}", json={"name": "Y"}, headers=r.other_admin)
    assert resp.status_code == 404
    resp = client.patch(f"/api/v1/service-centres/{centre['id']}", json={"name": "浦东新区服务中心"}, headers=r.admin)
    assert resp.status_code == 200 and resp.get_json()["name"] == "浦东新区服务中心"
    assert client.get(f"/api/v1/service-centres/{uuid.uuid4()}", headers=r.admin).status_code == 404


def test_service_centre_bad_input(client, household_roles):
    admin = household_roles.admin
    for body, field in [({}, "name"), ({"name": ""}, "name"), ({"name": "A", "lat": 91}, "lat"),
                        ({"name": "A", "lon": "east"}, "lon"), ({"name": "A", "boss": "me"}, "boss")]:
        resp = client.post("/api/v1/service-centres", json=body, headers=admin)
        assert resp.status_code == 422 and field in resp.get_json()["errors"]["json"], body
    assert client.get("/api/v1/service-centres", headers=admin).get_json()["total"] == 1


def test_search_metacharacters_are_literal(client, household_roles):
    admin = household_roles.admin
    client.post("/api/v1/service-centres", json={"name": "100% 中心"}, headers=admin)
    client.post("/api/v1/service-centres", json={"name": "1000 中心"}, headers=admin)
    names = [c["name"] for c in client.get("/api/v1/service-centres?q=0%25", headers=admin).get_json()["items"]]
    assert names == ["100% 中心"]


def test_company_today_follows_the_company_time_zone(household_roles):
    company = db.session.get(Company, household_roles.company.id)
    late_utc = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 on 2 March in Shanghai
    assert company_today(company, late_utc) == dt.date(2026, 3, 2)
    company.timezone = "UTC"
    assert company_today(company, late_utc) == dt.date(2026, 3, 1)
