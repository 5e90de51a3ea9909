"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server import create_app
from server.config import TestingConfig
from server.extensions import db
from server.migrate import upgrade


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no tables at all."""
    base = os.environ.get("FIELDSYNC_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrate.sqlite'}"
        return
    url = sa.make_url(TestingConfig(base).SQLALCHEMY_DATABASE_URI)
    name = f"{url.database}_migrate_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_head_matches_the_models(empty_database_url):
    app = create_app(TestingConfig(empty_database_url))
    with app.app_context():
        upgrade()
        upgrade()  # a second run is a no-op, as `fieldsync init-db` on an existing database
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ; run `python -m server.migrate MSG`: {diff}"
