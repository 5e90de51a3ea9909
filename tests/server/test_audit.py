"""The audit trail (R19): every change through the API leaves an entry naming the user and the fields;
secrets never reach it; it is readable by entity and per household, by the right roles only."""

from __future__ import annotations

import json

import sqlalchemy as sa
from argon2 import PasswordHasher

from server.auth.models import Role, User
from server.db import AuditEntry
from server.extensions import db
from server.followups.service import create_follow_up_for_job
from sync.domain.jobs import JobStatus
from tests.conftest import PASSWORD
from tests.factories import in_hours, make_household, make_job, make_technician

D, CS, A = Role.DISPATCHER, Role.CUSTOMER_SERVICE, Role.ADMIN


def test_a_change_through_the_api_names_the_user_and_the_fields(client, office):
    company, headers = office
    job = make_job(company, make_household(company))
    resp = client.patch(f"/api/v1/jobs/{job.id}", headers=headers[D],
                        json={"priority": 1, "description": "燃气泄漏报警"})
    assert resp.status_code == 200, resp.get_json()
    body = client.get(f"/api/v1/audit?entity=job&entity_id={job.id}", headers=headers[CS]).get_json()
    newest = body["items"][0]
    assert newest["action"] == "update" and newest["actor_name"] == "v-dispatcher"
    assert newest["actor_id"] == str(db.session.execute(
        sa.select(User.id).where(User.username == "v-dispatcher")).scalar())
    assert newest["changes"]["priority"] == [3, 1]
    assert newest["changes"]["description"] == ["", "燃气泄漏报警"]
    assert body["items"][-1]["action"] == "create"  # the history goes back to the row's creation


def test_a_password_hash_never_appears_in_the_audit_log(client, office, make_user):
    company, headers = office
    # A user whose hash was made with other Argon2 costs: the next sign-in rehashes the password.
    old_hash = PasswordHasher(time_cost=2, memory_cost=128).hash(PASSWORD)
    user = User(company_id=company.id, username="rehash-me", display_name="R", role=Role.DISPATCHER,
                password_hash=old_hash)
    db.session.add(user)
    db.session.commit()
    assert client.post("/api/v1/auth/login", json={"username": "rehash-me", "password": "wrong"}).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "rehash-me", "password": PASSWORD}).status_code == 200
    db.session.refresh(user)
    assert user.password_hash != old_hash  # the rehash really happened and was audited
    everything = json.dumps([[e.entity, e.changes] for e in db.session.query(AuditEntry).all()], ensure_ascii=False)
    assert old_hash not in everything and user.password_hash not in everything and "$argon2" not in everything
    body = client.get(f"/api/v1/audit?entity=app_user&entity_id={user.id}", headers=headers[A]).get_json()
    changed = [e["changes"] for e in body["items"] if "password_hash" in e["changes"]]
    assert changed == [{"password_hash": ["***", "***"], "failed_logins": [1, 0]}]
    assert "$argon2" not in json.dumps(body)


def test_the_household_log_covers_the_customers_rows(client, office):
    company, headers = office
    customer = make_household(company)
    stranger = make_household(company, name="王芳")
    job = make_job(company, customer, technician=make_technician(company), window_start=in_hours(2),
                   status=JobStatus.COMPLETED)
    task = create_follow_up_for_job(job)
    db.session.commit()
    assert client.post(f"/api/v1/jobs/{job.id}/notes", json={"text": "客户家有狗"}, headers=headers[D]).status_code == 201
    assert client.post(f"/api/v1/follow-ups/{task.id}/outcome", json={"status": "done", "satisfaction": 5},
                       headers=headers[CS]).status_code == 200
    resp = client.patch(f"/api/v1/customers/{stranger.id}", json={"phone": "13900000000"}, headers=headers[D])
    assert resp.status_code == 200, resp.get_json()  # a change to another household: not in this one's log
    body = client.get(f"/api/v1/audit/households/{customer.id}", headers=headers[D]).get_json()
    entities = {e["entity"] for e in body["items"]}
    assert {"customer", "premises", "meter", "job", "note", "follow_up_task"} <= entities
    assert all(e["entity_id"] != str(stranger.id) for e in body["items"])
    outcome = next(e for e in body["items"] if e["entity"] == "follow_up_task" and e["action"] == "update")
    assert outcome["actor_name"] == "v-customer_service"
    assert outcome["changes"]["satisfaction"] == [None, 5] and outcome["changes"]["status"] == ["open", "done"]
    times = [e["at"] for e in body["items"]]
    assert times == sorted(times, reverse=True)  # newest first
    page = client.get(f"/api/v1/audit/households/{customer.id}?per_page=2&page=2", headers=headers[D]).get_json()
    assert page["total"] == body["total"] and [e["id"] for e in page["items"]] == [e["id"] for e in body["items"][2:4]]


def test_personal_ids_never_enter_the_log(client, office):
    """The log says an ID number changed, never what it is: an append-only log must hold no copy of it."""
    company, headers = office
    customer = make_household(company)
    customer.id_number = "310101199001011234"
    db.session.commit()
    url = f"/api/v1/audit?entity=customer&entity_id={customer.id}"
    for role in (D, A):
        entry = client.get(url, headers=headers[role]).get_json()["items"][0]
        assert "id_number" in entry["changes"]
        assert "1234" not in str(entry["changes"]["id_number"])
    stored = db.session.execute(sa.select(AuditEntry.changes).where(AuditEntry.entity == "customer")).scalars().all()
    assert "310101199001011234" not in str(stored)


def test_the_audit_log_is_for_office_roles_and_one_company(client, office, make_company, make_user, login):
    company, headers = office
    job = make_job(company, make_household(company))
    assert client.get("/api/v1/audit", headers=headers[Role.TECHNICIAN]).status_code == 403
    other = make_company("other-co")
    make_user(other, A, "other-admin")
    foreign = login("other-admin")
    assert client.get(f"/api/v1/audit?entity=job&entity_id={job.id}", headers=foreign).get_json()["total"] == 0
    assert client.get(f"/api/v1/audit/households/{job.customer_id}", headers=foreign).status_code == 404
    resp = client.get(f"/api/v1/audit?entity_id={job.id}", headers=headers[D])
    assert resp.status_code == 422 and "entity" in resp.get_json()["errors"]["query"]
    assert client.get("/api/v1/audit?entity=Job;drop", headers=headers[D]).status_code == 422
