"""Sign-in, tokens, roles and company scoping."""

import datetime as dt

import sqlalchemy as sa

from server.auth.models import ApiToken, Role
from server.extensions import db


def test_login_returns_token_that_opens_me(client, dispatcher):
    company, user, headers = dispatcher
    resp = client.get("/api/v1/auth/me", headers=headers)
    assert resp.status_code == 200
    assert resp.get_json()["username"] == "disp-a"
    assert "password_hash" not in resp.get_json()


def test_wrong_password_is_401_with_reason(client, dispatcher):
    resp = client.post("/api/v1/auth/login", json={"username": "disp-a", "password": "nope"})
    assert resp.status_code == 401
    assert resp.get_json()["reason"] == "invalid_credentials"


def test_password_is_stored_as_argon2id(ctx, dispatcher):
    _, user, _ = dispatcher
    assert user.password_hash.startswith("$argon2id$")


def test_repeated_failures_lock_the_account(client, dispatcher):
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "disp-a", "password": "nope"})
    resp = client.post("/api/v1/auth/login", json={"username": "disp-a", "password": "correct horse battery"})
    assert resp.status_code == 429
    assert resp.get_json()["reason"] == "login_throttled"
    assert int(resp.headers["Retry-After"]) > 0


def test_missing_and_bad_tokens_are_401(client, dispatcher):
    assert client.get("/api/v1/auth/me").get_json()["reason"] == "missing_token"
    resp = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 401 and resp.get_json()["reason"] == "invalid_token"


def test_logout_revokes_the_token(client, dispatcher):
    _, _, headers = dispatcher
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    resp = client.get("/api/v1/auth/me", headers=headers)
    assert resp.status_code == 401 and resp.get_json()["reason"] == "token_revoked"


def test_expired_token_is_refused(client, dispatcher):
    _, _, headers = dispatcher
    db.session.execute(
        sa.update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    db.session.commit()
    resp = client.get("/api/v1/auth/me", headers=headers)
    assert resp.status_code == 401 and resp.get_json()["reason"] == "token_expired"


def test_revoked_device_is_told_to_wipe(client, dispatcher, make_user, login):
    company, _, headers = dispatcher
    make_user(company, Role.TECHNICIAN, "tech-x")
    tablet = login("tech-x", device_id="tablet-7")
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": "tablet-7"}, headers=headers)
    assert resp.get_json()["revoked"] == 1 and resp.get_json()["wipe"] is True
    resp = client.get("/api/v1/auth/me", headers=tablet)
    assert resp.status_code == 401
    assert resp.get_json()["reason"] == "device_revoked"
    assert resp.get_json()["details"] == {"wipe": True}


def test_technician_cannot_revoke_devices(client, dispatcher, make_user, login):
    company, _, _ = dispatcher
    make_user(company, Role.TECHNICIAN, "tech-y")
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": "x"}, headers=login("tech-y"))
    assert resp.status_code == 403 and resp.get_json()["reason"] == "forbidden_role"


def test_dispatcher_cannot_revoke_another_companys_device(client, dispatcher, make_company, make_user, login):
    other = make_company("other")
    make_user(other, Role.TECHNICIAN, "tech-other")
    login("tech-other", device_id="tablet-other")
    _, _, headers = dispatcher
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": "tablet-other"}, headers=headers)
    assert resp.get_json()["revoked"] == 0 and resp.get_json()["device"]["known"] is False
