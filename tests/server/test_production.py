"""The production shape: environment-only config, JSON request logs without PII, 503 on a dead
database, and a real ``fieldsync serve --production`` (gunicorn, 2 workers) against PostgreSQL."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import requests

from server import create_app
from server.auth.models import Role
from server.config import ConfigError, ProductionConfig, ServerSettings, TestingConfig
from server.extensions import db
from server.org.models import Company
from tests.conftest import PASSWORD
from tests.fixtures.hardening import free_port

SECRET = "s3cret-for-tests-only-0123456789"


def test_production_config_comes_from_the_environment_only():
    env = {
        "FIELDSYNC_DATABASE_URL": "postgresql://fs@db.internal/fieldsync", "FIELDSYNC_SECRET_KEY": SECRET,
        "FIELDSYNC_DB_POOL_SIZE": "7", "FIELDSYNC_BLOB_MAX_BYTES": "1000", "FIELDSYNC_LOG_LEVEL": "WARNING",
    }
    config = ProductionConfig(env)
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://fs@db.internal/fieldsync"
    assert config.SECRET_KEY == SECRET and config.BLOB_MAX_BYTES == 1000 and config.LOG_LEVEL == "WARNING"
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] == 7
    # SQL parameters (customers' data) never appear in an exception message or a log line.
    assert config.SQLALCHEMY_ENGINE_OPTIONS["hide_parameters"] is True
    assert config.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"FIELDSYNC_SECRET_KEY": SECRET}, "FIELDSYNC_DATABASE_URL"),
        ({"FIELDSYNC_DATABASE_URL": "sqlite:///x.sqlite", "FIELDSYNC_SECRET_KEY": SECRET}, "PostgreSQL"),
        ({"FIELDSYNC_DATABASE_URL": "postgresql://h/db"}, "FIELDSYNC_SECRET_KEY"),
        ({"FIELDSYNC_DATABASE_URL": "postgresql://h/db", "FIELDSYNC_SECRET_KEY": "dev-only-not-secret"},
         "FIELDSYNC_SECRET_KEY"),
        ({"FIELDSYNC_DATABASE_URL": "postgresql://h/db", "FIELDSYNC_SECRET_KEY": SECRET,
          "FIELDSYNC_DB_POOL_SIZE": "lots"}, "FIELDSYNC_DB_POOL_SIZE"),
    ],
)
def test_production_refuses_an_environment_it_cannot_run_on(env, complaint):
    with pytest.raises(ConfigError, match=complaint):
        ProductionConfig(env)


def test_server_settings_from_the_environment():
    settings = ServerSettings.from_env({"FIELDSYNC_PORT": "8443", "FIELDSYNC_WORKERS": "3", "FIELDSYNC_THREADS": "16"})
    assert (settings.port, settings.workers, settings.threads) == (8443, 3, 16)


def test_serve_production_without_environment_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--production"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "FIELDSYNC_DATABASE_URL" in proc.stderr


@pytest.mark.parametrize(
    "broken_url",
    ["sqlite:////nonexistent-dir/fieldsync.sqlite", "postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2"],
    ids=["sqlite-missing-dir", "postgresql-refused"],
)
def test_a_dead_database_is_503_with_retry_after_not_500(broken_url):
    app = create_app(TestingConfig(broken_url))
    client = app.test_client()
    resp = client.get("/api/v1/health")
    assert resp.status_code == 503
    assert resp.get_json()["reason"] == "database_unavailable"
    assert int(resp.headers["Retry-After"]) > 0
    # Any other endpoint too: a tablet retries later instead of treating it as a bug.
    resp = client.post("/api/v1/auth/login", json={"username": "disp", "password": PASSWORD})
    assert resp.status_code == 503 and "Retry-After" in resp.headers


def _requests(captured) -> list[dict]:
    lines = [json.loads(line) for line in captured.lines()]
    return [line for line in lines if line.get("event") == "request"]


def test_request_log_is_one_json_line_per_request_without_pii(production_app, make_company, make_user, ctx):
    company = make_company("log-co")
    user = make_user(company, Role.DISPATCHER, "disp-log")
    app = production_app.app
    secrets_ = {"password": PASSWORD, "name": "欧阳秀英", "phone": "13912345678", "id": "310101199001011234",
                "username": "disp-log", "display": user.display_name, "contact": "欧阳小明", "contact_phone": "13787654321"}

    @app.route("/api/v1/_test_boom")
    def boom():  # a bug whose exception message quotes a customer's data
        raise ValueError(f"cannot parse {secrets_['phone']} for {secrets_['name']}")

    client = app.test_client()
    resp = client.post("/api/v1/auth/login", json={"username": "disp-log", "password": PASSWORD, "device_id": "pc-1"})
    assert resp.status_code == 200
    token = resp.get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "lb-req-42"}
    resp = client.post("/api/v1/customers", headers=headers, json={
        "account_no": "LOG0001", "name": secrets_["name"], "phone": secrets_["phone"], "id_number": secrets_["id"],
        "category": "residential",
        "premises": [{"address": "上海市黄浦区保密路1号", "district": "黄浦区", "lat": 31.23, "lon": 121.48}],
        "contacts": [{"name": secrets_["contact"], "phone": secrets_["contact_phone"], "relation": "子女"}],
    })
    assert resp.status_code == 201, resp.get_json()
    assert resp.headers["X-Request-ID"] == "lb-req-42"
    assert client.get(f"/api/v1/customers?q={secrets_['name']}&per_page=5", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/login", json={"username": "disp-log", "password": "wrong-" + PASSWORD}).status_code == 401
    assert client.get("/api/v1/_test_boom", headers=headers).status_code == 500

    text = production_app.log.getvalue()
    for label, value in [*secrets_.items(), ("token", token)]:
        assert value not in text, f"the {label} reached the log"
    lines = _requests(production_app)
    assert [(r["method"], r["path"], r["status"]) for r in lines] == [
        ("POST", "/api/v1/auth/login", 200), ("POST", "/api/v1/customers", 201), ("GET", "/api/v1/customers", 200),
        ("POST", "/api/v1/auth/login", 401), ("GET", "/api/v1/_test_boom", 500),
    ]
    create = lines[1]
    assert create["user_id"] == str(user.id) and create["device_id"] == "pc-1" and create["request_id"] == "lb-req-42"
    assert isinstance(create["duration_ms"], float) and create["duration_ms"] >= 0
    assert lines[2]["query_keys"] == ["per_page", "q"]
    minted = [r["request_id"] for r in lines if r["request_id"] != "lb-req-42"]
    assert len(minted) == 2 and len(set(minted)) == 2 and all(len(i) == 32 for i in minted)
    # The 500 is logged with its exception type and frames, not its message.
    crash = [json.loads(line) for line in production_app.lines() if '"exc_type"' in line]
    assert crash and crash[0]["exc_type"] == "builtins.ValueError" and crash[0]["stack"]


def test_request_id_from_outside_is_kept_only_when_plain(production_app, ctx):
    client = production_app.app.test_client()
    assert client.get("/api/v1/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    forged = client.get("/api/v1/health", headers={"X-Request-ID": 'x" {"level": "ERROR"}'}).headers["X-Request-ID"]
    assert forged != 'x" {"level": "ERROR"}' and len(forged) == 32


def _fieldsync() -> list[str]:
    script = pathlib.Path(sys.executable).with_name("fieldsync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


@pytest.mark.slow
@pytest.mark.postgres
def test_serve_production_runs_gunicorn_with_two_workers_on_postgresql(production_database_url, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")} | {
        "FIELDSYNC_DATABASE_URL": production_database_url, "FIELDSYNC_SECRET_KEY": SECRET,
        "FIELDSYNC_DATA_DIR": str(tmp_path / "data"), "FIELDSYNC_PORT": str(port), "FIELDSYNC_WORKERS": "2",
    }
    run = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120}
    migrated = subprocess.run([*_fieldsync(), "init-db"], **run)
    assert migrated.returncode == 0, migrated.stderr
    # The company comes from the group's own set-up; here an operator adds it (create-user names it by code).
    setup = create_app(TestingConfig(production_database_url))
    with setup.app_context():
        db.session.add(Company(code="prod-co", name="生产燃气", timezone="Asia/Shanghai"))
        db.session.commit()
        db.engine.dispose()
    added = subprocess.run(
        [*_fieldsync(), "create-user", "ops-disp", "--role", "dispatcher", "--company", "prod-co"],
        input=f"{PASSWORD}\n{PASSWORD}\n", **run,
    )
    assert added.returncode == 0, added.stderr

    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([*_fieldsync(), "serve", "--production"], env=env, cwd=tmp_path,
                                  stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            assert server.poll() is None, log_path.read_text()
            try:
                health = requests.get(f"{base}/health", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                # The master listens before its workers have imported the app (slow on a busy machine).
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, log_path.read_text()
        assert health.json()["database"] == "postgresql"
        assert health.headers["Server"].startswith("gunicorn")
        assert len(_children(server.pid)) == 2, "gunicorn should run exactly two workers"

        resp = requests.post(f"{base}/auth/login", json={"username": "ops-disp", "password": PASSWORD}, timeout=10)
        assert resp.status_code == 200, resp.text
        token = resp.json()["access_token"]
        # Several requests: whichever worker answers, the token (in PostgreSQL) is good.
        for _ in range(6):
            me = requests.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert me.status_code == 200 and me.json()["username"] == "ops-disp"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    text = log_path.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "request" and e["path"] == "/api/v1/auth/login" and e["status"] == 200 for e in entries)
    assert PASSWORD not in text and token not in text
