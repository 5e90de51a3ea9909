"""Alembic, driven from code: the migrations live in server/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> AlembicConfig:
    """An Alembic config pointing at our migrations and the app's database."""
    from server.extensions import db

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(revision: str = "head") -> None:
    """Migrate the app's database to ``revision`` (inside an app context)."""
    from server.extensions import db

    cfg = alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def revision(message: str) -> None:
    """Autogenerate a new migration from the models (developers: ``python -m server.migrate MSG``)."""
    from server.extensions import db

    cfg = alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    import sys

    from server import create_app

    with create_app().app_context():
        revision(" ".join(sys.argv[1:]) or "change")
