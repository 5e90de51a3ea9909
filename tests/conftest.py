"""Shared fixtures: the app on SQLite (default) or PostgreSQL (FIELDSYNC_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from server import create_app
from server.auth.models import Role, User
from server.config import TestingConfig, normalise_database_url
from server.extensions import db
from server.org.models import Company, ServiceCentre

PASSWORD = "correct horse battery"

# Each area keeps its fixtures in its own module.
pytest_plugins = [
    "tests.fixtures.households",
    "tests.fixtures.jobs",
    "tests.fixtures.visits",
    "tests.fixtures.sync",
    "tests.fixtures.console",
    "tests.fixtures.planning",
    "tests.fixtures.mobile",
    "tests.fixtures.hardening",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_url(base: str, worker: str) -> str:
    """A fresh database for this test process on the server named by ``base``."""
    url = sa.make_url(normalise_database_url(base))
    # Unique per process: several test runs may share one PostgreSQL server at once.
    name = f"{url.database}_t_{worker}_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """The test database: a temporary SQLite file, or a fresh PostgreSQL database per worker."""
    base = os.environ.get("FIELDSYNC_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    url = _postgres_url(base, worker_id)
    yield url
    _drop_postgres(url)


def _drop_postgres(url: str) -> None:
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app(database_url: str):
    """The Flask app with every table created once for the session."""
    app = create_app(TestingConfig(database_url))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def _wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())


@pytest.fixture
def ctx(app) -> Iterator[None]:
    """An app context with an empty database; the rows a test made are removed after it."""
    with app.app_context():
        yield
        db.session.remove()
    _wipe(app)


@pytest.fixture
def client(app, ctx):
    """A test client over an empty database."""
    return app.test_client()


@pytest.fixture
def make_company(ctx):
    """Make a company with one service centre: ``make_company(code)`` returns the Company."""

    def make(code: str | None = None, name: str = "测试燃气有限公司") -> Company:
        code = code or f"co-{uuid.uuid4().hex[:6]}"
        company = Company(code=code, name=name, timezone="Asia/Shanghai")
        db.session.add(company)
        db.session.flush()
        db.session.add(ServiceCentre(company_id=company.id, name=f"{name}服务中心", lat=31.23, lon=121.47))
        db.session.commit()
        return company

    return make


@pytest.fixture
def make_user(ctx):
    """Make a user: ``make_user(company, role, username)``; the password is ``PASSWORD``."""
    from server.auth.service import hash_password

    hashed = hash_password(PASSWORD)

    def make(company: Company, role: Role | str = Role.DISPATCHER, username: str | None = None) -> User:
        user = User(
            company_id=company.id,
            username=username or f"u-{uuid.uuid4().hex[:8]}",
            display_name=username or "用户",
            role=Role(role),
            password_hash=hashed,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign a user in through the API: ``login(username)`` returns the Authorization headers."""

    def do(username: str, device_id: str | None = None) -> dict[str, str]:
        body = {"username": username, "password": PASSWORD}
        if device_id:
            body["device_id"] = device_id
        resp = client.post("/api/v1/auth/login", json=body)
        assert resp.status_code == 200, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['access_token']}"}

    return do


@pytest.fixture
def dispatcher(make_company, make_user, login):
    """A company, its dispatcher and their auth headers: (company, user, headers)."""
    company = make_company("demo-a")
    user = make_user(company, Role.DISPATCHER, "disp-a")
    return company, user, login("disp-a")
