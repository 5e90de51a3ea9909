"""Technicians, certifications and the qualification gate (R5, R14) through the API and the service."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from server.extensions import db
from server.people.models import Certification
from server.people.service import qualified
from tests.factories import make_technician

# The companies the fixtures make keep Asia/Shanghai time: "today" is their local date.
TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_qualified_names_missing_and_expired_certifications(make_company):
    company = make_company()
    tech = make_technician(company, certifications=("gas_safety",), expires_on=TODAY + dt.timedelta(days=3))
    assert qualified(tech, ["gas_safety"], TODAY) == []
    assert qualified(tech, ["gas_safety", "meter_work", "meter_work"], TODAY) == ["meter_work"]
    # Expired on the day of the job: the gate names it although the technician holds it today.
    assert qualified(tech, ["gas_safety"], TODAY + dt.timedelta(days=4)) == ["gas_safety"]
    # Not yet issued on the day.
    assert qualified(tech, ["gas_safety"], TODAY - dt.timedelta(days=400)) == ["gas_safety"]


def test_qualified_counts_a_renewal(make_company):
    company = make_company()
    tech = make_technician(company, certifications=("gas_safety",), expires_on=TODAY - dt.timedelta(days=1))
    assert qualified(tech, ["gas_safety"], TODAY) == ["gas_safety"]
    db.session.add(
        Certification(
            company_id=company.id, technician_id=tech.id, kind="gas_safety", issued_on=TODAY,
            expires_on=TODAY + dt.timedelta(days=365),
        )
    )
    db.session.commit()
    db.session.refresh(tech)
    assert qualified(tech, ["gas_safety"], TODAY) == []


def _new_tech(client, headers, **extra):
    body = {"staff_no": "S-100", "name": "赵师傅", "phone": "13900000001", "skills": ["inspection", "repair"],
            "start_lat": 31.2, "start_lon": 121.5, "shift_start": "08:00:00", "shift_end": "17:00:00", **extra}
    return client.post("/api/v1/technicians", json=body, headers=headers)


def test_create_technician_with_certifications_and_valid_today(client, household_roles):
    r = household_roles
    expired = {"kind": "pressure_work", "issued_on": "2020-01-01", "expires_on": "2021-01-01"}
    current = {"kind": "gas_safety", "number": "GS-1", "issued_on": str(TODAY - dt.timedelta(days=10)),
               "expires_on": str(TODAY + dt.timedelta(days=300))}
    resp = _new_tech(client, r.dispatcher, certifications=[expired, current])
    assert resp.status_code == 201, resp.get_json()
    tech = resp.get_json()
    assert tech["staff_no"] == "S-100" and tech["shift_start"] == "08:00:00" and tech["active"] is True
    validity = {c["kind"]: c["valid_today"] for c in tech["certifications"]}
    assert validity == {"pressure_work": False, "gas_safety": True}
    got = client.get(f"/api/v1/technicians/{tech['id']}", headers=r.customer_service).get_json()
    assert got["name"] == "赵师傅" and len(got["certifications"]) == 2


def test_technician_roles(client, household_roles):
    r = household_roles
    assert _new_tech(client, r.customer_service).status_code == 403
    assert _new_tech(client, r.technician).status_code == 403
    assert client.get("/api/v1/technicians", headers=r.technician).status_code == 403
    own = r.technician_row.id
    me = client.get("/api/v1/technicians/me", headers=r.technician)
    assert me.status_code == 200 and me.get_json()["id"] == str(own)
    assert client.get(f"/api/v1/technicians/{own}", headers=r.technician).status_code == 200
    assert client.get(f"/api/v1/technicians/{own}/certifications", headers=r.technician).status_code == 200
    other = _new_tech(client, r.admin).get_json()
    resp = client.get(f"/api/v1/technicians/{other['id']}", headers=r.technician)
    assert resp.status_code == 403 and resp.get_json()["reason"] == "forbidden_role"
    assert client.patch(f"/api/v1/technicians/{own}", json={"name": "x"}, headers=r.technician).status_code == 403
    assert client.get("/api/v1/technicians/me", headers=r.dispatcher).status_code == 403


def test_technician_bad_input_is_named_and_nothing_written(client, household_roles):
    r = household_roles
    cases = [
        ({"staff_no": None}, "staff_no", 422),
        ({"name": ""}, "name", 422),
        ({"skills": "repair"}, "skills", 422),
        ({"skills": ["Repair!"]}, "skills", 422),
        ({"start_lat": 100}, "start_lat", 422),
        ({"start_lon": None}, "start_lon", 422),
        ({"shift_start": "18:00:00"}, "shift_end", 422),
        ({"shift_start": "8 o'clock"}, "shift_start", 422),
        ({"service_centre_id": str(uuid.uuid4())}, "service_centre_id", 422),
        ({"user_id": "not-a-uuid"}, "user_id", 422),
        ({"user_id": str(uuid.uuid4())}, "user_id", 422),
        ({"hobby": "fishing"}, "hobby", 422),
        ({"certifications": [{"kind": "gas_safety", "issued_on": "2026-01-01", "expires_on": "2025-01-01"}]},
         "certifications", 422),
        ({"certifications": [{"kind": "gas_safety"}]}, "certifications", 422),
    ]
    for extra, field, status in cases:
        resp = _new_tech(client, r.dispatcher, **extra)
        assert resp.status_code == status, (extra, resp.get_json())
        assert field in resp.get_json()["errors"]["json"], (extra, resp.get_json())
    resp = client.post("/api/v1/technicians", json={"name": "无工号"}, headers=r.dispatcher)
    assert resp.status_code == 422 and "staff_no" in resp.get_json()["errors"]["json"]
    # Only the fixture's technician exists: no refused request left a row behind.
    assert client.get("/api/v1/technicians", headers=r.dispatcher).get_json()["total"] == 1


def test_staff_no_and_linked_login_are_unique(client, household_roles, make_user):
    r = household_roles
    assert _new_tech(client, r.dispatcher).status_code == 201
    resp = _new_tech(client, r.dispatcher, name="另一个")
    assert resp.status_code == 409 and resp.get_json()["reason"] == "duplicate"
    assert "staff_no" in resp.get_json()["errors"]["json"]
    # The same staff number in another company is fine.
    assert _new_tech(client, r.other_admin).status_code == 201
    resp = _new_tech(client, r.dispatcher, staff_no="S-200", user_id=str(r.technician_user.id))
    assert resp.status_code == 409 and "user_id" in resp.get_json()["errors"]["json"]
    dispatcher_user = make_user(r.company, "dispatcher", "hh-disp-2")
    resp = _new_tech(client, r.dispatcher, staff_no="S-201", user_id=str(dispatcher_user.id))
    assert resp.status_code == 422 and "user_id" in resp.get_json()["errors"]["json"]
    login_b = make_user(r.other_company, "technician", "hh-tech-b")
    resp = _new_tech(client, r.dispatcher, staff_no="S-202", user_id=str(login_b.id))
    assert resp.status_code == 422, "another company's login cannot be linked"
    login_a = make_user(r.company, "technician", "hh-tech-a2")
    resp = _new_tech(client, r.dispatcher, staff_no="S-203", user_id=str(login_a.id))
    assert resp.status_code == 201 and resp.get_json()["user_id"] == str(login_a.id)


def test_update_technician(client, household_roles):
    r = household_roles
    tech = _new_tech(client, r.dispatcher).get_json()
    centres = client.get("/api/v1/service-centres", headers=r.dispatcher).get_json()["items"]
    url = f"/api/v1/technicians/{tech['id']}"
    resp = client.patch(url, json={"skills": ["meter", "meter", "repair"], "shift_end": "20:00:00",
                                   "service_centre_id": centres[0]["id"], "active": False}, headers=r.dispatcher)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["skills"] == ["meter", "repair"] and body["shift_end"] == "20:00:00" and body["active"] is False
    assert body["version"] > tech["version"]
    # The merged shift is checked: an end before the stored start is refused.
    resp = client.patch(url, json={"shift_end": "07:00:00"}, headers=r.dispatcher)
    assert resp.status_code == 422 and "shift_end" in resp.get_json()["errors"]["json"]
    resp = client.patch(url, json={"start_lat": None}, headers=r.dispatcher)
    assert resp.status_code == 422
    resp = client.patch(url, json={"staff_no": r.technician_row.staff_no}, headers=r.dispatcher)
    assert resp.status_code == 409
    resp = client.patch(url, json={"certifications": []}, headers=r.dispatcher)
    assert resp.status_code == 422 and "certifications" in resp.get_json()["errors"]["json"]
    other_centre = client.get("/api/v1/service-centres", headers=r.other_admin).get_json()["items"][0]
    resp = client.patch(url, json={"service_centre_id": other_centre["id"]}, headers=r.dispatcher)
    assert resp.status_code == 422
    assert client.get(url, headers=r.dispatcher).get_json()["shift_end"] == "20:00:00"
    # Other company and unknown ids: 404 with the error shape.
    for u, h in ((url, r.other_admin), (f"/api/v1/technicians/{uuid.uuid4()}", r.dispatcher)):
        resp = client.patch(u, json={"name": "x"}, headers=h)
        assert resp.status_code == 404 and resp.get_json()["reason"] == "not_found"
        assert client.get(u, headers=h).status_code == 404


def test_list_filters_and_search(client, household_roles):
    r = household_roles
    _new_tech(client, r.dispatcher, staff_no="S_1", name="100%师傅", skills=["meter"])
    _new_tech(client, r.dispatcher, staff_no="S11", name="1000师傅", skills=["repair"], active=False,
              certifications=[{"kind": "meter_work", "issued_on": str(TODAY), "expires_on": str(TODAY)}])
    _new_tech(client, r.other_admin, staff_no="S_1", name="100%师傅")

    def names(query: str) -> list[str]:
        resp = client.get(f"/api/v1/technicians?{query}", headers=r.dispatcher)
        assert resp.status_code == 200, resp.get_json()
        return sorted(t["name"] for t in resp.get_json()["items"])

    assert names("q=0%25") == ["100%师傅"]
    assert names("q=S_") == ["100%师傅"]  # _ is literal: S11 does not match
    assert names("skill=meter") == ["100%师傅", "王师傅"]
    assert names("active=false") == ["1000师傅"]
    assert names("certified=meter_work") == ["1000师傅"]
    assert names("certified=gas_safety") == ["王师傅"]
    assert names("") == sorted(["1000师傅", "100%师傅", "王师傅"])
    resp = client.get("/api/v1/technicians?active=maybe", headers=r.dispatcher)
    assert resp.status_code == 422 and "active" in resp.get_json()["errors"]["query"]
    resp = client.get("/api/v1/technicians?per_page=0", headers=r.dispatcher)
    assert resp.status_code == 422


def test_add_list_and_renew_certifications(client, household_roles):
    r = household_roles
    tech = _new_tech(client, r.dispatcher).get_json()
    url = f"/api/v1/technicians/{tech['id']}/certifications"
    resp = client.post(url, json={"kind": "gas_safety", "number": "GS-9", "issued_on": "2023-01-01",
                                  "expires_on": str(TODAY - dt.timedelta(days=1))}, headers=r.dispatcher)
    assert resp.status_code == 201 and resp.get_json()["valid_today"] is False
    old = resp.get_json()
    assert client.post(url, json={"kind": "x", "issued_on": "2023-01-01", "expires_on": "2024-01-01"},
                       headers=r.technician).status_code == 403
    renew = f"/api/v1/certifications/{old['id']}/renew"
    resp = client.post(renew, json={"expires_on": "2023-06-01"}, headers=r.dispatcher)
    assert resp.status_code == 422 and "expires_on" in resp.get_json()["errors"]["json"]
    assert client.post(renew, json={}, headers=r.dispatcher).status_code == 422
    assert client.post(renew, json={"expires_on": "soon"}, headers=r.dispatcher).status_code == 422
    assert client.post(renew, json={"expires_on": str(TODAY + dt.timedelta(days=700))},
                       headers=r.other_admin).status_code == 404
    resp = client.post(renew, json={"expires_on": str(TODAY + dt.timedelta(days=700))}, headers=r.dispatcher)
    assert resp.status_code == 201, resp.get_json()
    new = resp.get_json()
    assert new["valid_today"] is True and new["number"] == "GS-9" and new["issued_on"] == str(TODAY)
    listed = client.get(url, headers=r.dispatcher).get_json()
    assert [c["id"] for c in listed["items"]] == [new["id"], old["id"]]  # the latest expiry first
    assert [c["id"] for c in client.get(f"{url}?valid_today=false", headers=r.dispatcher).get_json()["items"]] \
        == [old["id"]]
    assert client.get(f"{url}?kind=meter_work", headers=r.dispatcher).get_json()["total"] == 0
    # The gate sees the renewal.
    from server.people.models import Technician

    assert qualified(db.session.get(Technician, uuid.UUID(tech["id"])), ["gas_safety"], TODAY) == []
    assert client.get(f"/api/v1/technicians/{uuid.uuid4()}/certifications", headers=r.dispatcher).status_code == 404
    assert client.get(url, headers=r.other_admin).status_code == 404
