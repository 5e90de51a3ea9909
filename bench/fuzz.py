"""Fuzz every operation of the API's own OpenAPI document with schemathesis, as several roles.

    .venv/bin/python bench/fuzz.py --examples 50 [--roles dispatcher,technician] [--only /customers]
                                   [--database-url postgresql://postgres@127.0.0.1:5432/test]

Builds the app over a fresh database (a temporary SQLite file unless --database-url names a
PostgreSQL server: then a new database on it, dropped afterwards), makes two companies with every
role signed in and a row behind every id in the API, then sends N generated requests per operation
and generation mode (schema-valid and schema-invalid) with each role's bearer token. Checks: no
5xx; status, content type, headers and body as documented. Prints each distinct finding with a curl
to replay it; the last line is ``operations: O, requests: R, findings: F``; exit status 1 on any
finding.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def _setup(database_url: str, data_dir: str):
    """The app over an empty database and two populated companies (tenant A, tenant B)."""
    from server import create_app
    from server.auth.models import Role, User
    from server.auth.service import hash_password
    from server.blobstore import FilesystemBlobStore
    from server.config import TestingConfig
    from server.extensions import db
    from server.org.models import Company, ServiceCentre
    from tests.conftest import PASSWORD
    from tests.fixtures.hardening import _populate

    app = create_app(TestingConfig(database_url))
    app.extensions["blobstore"] = FilesystemBlobStore(pathlib.Path(data_dir) / "blobs")
    ctx = app.app_context()
    ctx.push()
    db.create_all()
    client = app.test_client()

    def make_company(code: str) -> Company:
        company = Company(code=code, name=f"{code}燃气", timezone="Asia/Shanghai")
        db.session.add(company)
        db.session.flush()
        db.session.add(ServiceCentre(company_id=company.id, name="服务中心", lat=31.23, lon=121.47))
        db.session.commit()
        return company

    def make_user(company: Company, role: Role, username: str) -> User:
        user = User(company_id=company.id, username=username, display_name=username, role=role,
                    password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.commit()
        return user

    def login(username: str, device_id: str | None = None) -> dict[str, str]:
        body = {"username": username, "password": PASSWORD} | ({"device_id": device_id} if device_id else {})
        resp = client.post("/api/v1/auth/login", json=body)
        assert resp.status_code == 200, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['access_token']}"}

    a = _populate(client, make_company("fuzz-a"), make_user, login, "a")
    b = _populate(client, make_company("fuzz-b"), make_user, login, "b")
    return app, a, b


def _postgres(base: str) -> str:
    import sqlalchemy as sa

    from server.config import normalise_database_url

    url = sa.make_url(normalise_database_url(base))
    name = f"{url.database}_fuzz_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    with sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer; exit status 1 when it found something."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="requests per operation and mode (default 50)")
    parser.add_argument("--roles", default="dispatcher,technician",
                        help="comma-separated roles to fuzz as (admin, dispatcher, technician, customer_service)")
    parser.add_argument("--only", default=None, help="only operations whose path contains this text")
    parser.add_argument("--database-url", default=os.environ.get("FIELDSYNC_TEST_DATABASE_URL"),
                        help="a PostgreSQL server to make a scratch database on (default: SQLite)")
    args = parser.parse_args(argv)

    import logging

    logging.disable(logging.CRITICAL)  # each 500 is in the report below with a curl to replay it
    from tests.fixtures.hardening import FuzzReport, format_findings, fuzz_api

    with tempfile.TemporaryDirectory() as tmp:
        url = _postgres(args.database_url) if args.database_url else f"sqlite:///{tmp}/fuzz.sqlite"
        try:
            app, tenant, _ = _setup(url, tmp)
            report = FuzzReport()
            started = time.monotonic()
            for role in args.roles.split(","):
                before = report.requests
                fuzz_api(app, tenant.headers[role], role, tenant.ids, examples=args.examples, report=report,
                         only=args.only)
                print(f"{role}: {report.requests - before} requests, {time.monotonic() - started:.0f} s", flush=True)
            from server.extensions import db

            db.session.remove()
            db.engine.dispose()
        finally:
            if args.database_url:
                _drop_postgres(url)
    if report.findings:
        print(format_findings(report))
    print(f"operations: {report.operations}, requests: {report.requests}, findings: {len(report.findings)}")
    return 1 if report.findings else 0

if __name__ == "__main__":
    sys.exit(main())
