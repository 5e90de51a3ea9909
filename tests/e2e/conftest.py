"""End-to-end fixtures: the real server as a process on a free loopback port, over SQLite or PostgreSQL.

A test gets a database of its own (``e2e_db``: PostgreSQL when FIELDSYNC_TEST_DATABASE_URL is set,
else an SQLite file; ``pg_db``: always PostgreSQL) and starts servers with ``servers``; every process
started is stopped and every database dropped afterwards. A test that needs PostgreSQL and finds none
is skipped locally and FAILS in CI (``CI=true``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Database, ServerProcess, migrate, postgres_base_url

IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_or_stop() -> str:
    base = postgres_base_url()
    if base is None:
        if IN_CI:
            pytest.fail("this end-to-end test needs PostgreSQL (FIELDSYNC_TEST_DATABASE_URL or 127.0.0.1:5432); "
                        "CI must not skip it")
        pytest.skip("needs PostgreSQL: set FIELDSYNC_TEST_DATABASE_URL or run PostgreSQL on 127.0.0.1:5432")
    return base


@pytest.fixture
def e2e_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database for one test: PostgreSQL when FIELDSYNC_TEST_DATABASE_URL is set, else SQLite."""
    base = os.environ.get("FIELDSYNC_TEST_DATABASE_URL", "")
    db = Database.postgres(base) if base.startswith("postgres") else Database.sqlite(tmp_path)
    try:
        migrate(db)
        yield db
    finally:
        db.drop()


@pytest.fixture
def pg_db() -> Iterator[Database]:
    """A migrated PostgreSQL database for one test (tests of PostgreSQL-only faults)."""
    db = Database.postgres(_postgres_or_stop())
    try:
        migrate(db)
        yield db
    finally:
        db.drop()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``servers(db, production=False, **kw)`` starts a server process; all are stopped at the end."""
    started: list[ServerProcess] = []

    def start(db: Database, **kwargs: object) -> ServerProcess:
        server = ServerProcess(db, tmp_path / f"server{len(started)}", **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
        tail = server.log_tail(80)
        if "Traceback" in tail:  # shown by pytest when the test failed
            print(f"--- server log {server.log_path} (tail) ---\n{tail}")
