"""Alembic environment: runs against the connection handed in by server.migrate."""

from alembic import context

from server.extensions import db

config = context.config
target_metadata = db.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
