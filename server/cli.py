"""The ``fieldsync`` command: init-db, demo-data, serve, create-user."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask

from server.notifications.cli import send_notifications


def _app() -> Flask:
    from server import create_app

    return create_app()


@click.group()
def main() -> None:
    """fieldsync: offline-first field service for a gas utility."""


@main.command("init-db")
def init_db() -> None:
    """Create the database or migrate it to the newest schema (Alembic)."""
    from server.migrate import upgrade

    app = _app()
    with app.app_context():
        upgrade()
        from server.extensions import db

        click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")


@main.command("demo-data")
@click.option("--households", default=300, show_default=True, help="how many households to create")
@click.option("--reset/--no-reset", default=False, help="remove an existing demo company first")
def demo_data(households: int, reset: bool) -> None:
    """Load the demo company (two centres, technicians, households, today's and tomorrow's jobs)."""
    from server.demo import load_demo

    app = _app()
    with app.app_context():
        summary = load_demo(households=households, reset=reset)
    for line in summary:
        click.echo(line)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--production", is_flag=True, help="run gunicorn workers (needs PostgreSQL)")
@click.option("--workers", default=None, type=int, help="gunicorn workers (default 2 x cores + 1)")
def serve(host: str, port: int, production: bool, workers: int | None) -> None:
    """Run the server."""
    if production:
        args = [
            sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
            "--workers", str(workers or (os.cpu_count() or 1) * 2 + 1),
            "--access-logfile", "-", "server.wsgi:app",
        ]
        os.execvp(args[0], args)
    app = _app()
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "dispatcher", "technician", "customer_service"]), required=True)
@click.option("--company", "company_code", required=True, help="company code")
@click.option("--display-name", default=None)
@click.password_option()
def create_user(username: str, role: str, company_code: str, display_name: str | None, password: str) -> None:
    """Add a user to a company."""
    import sqlalchemy as sa

    from server.auth.models import Role, User
    from server.auth.service import hash_password
    from server.extensions import db
    from server.org.models import Company

    app = _app()
    with app.app_context():
        company = db.session.execute(sa.select(Company).where(Company.code == company_code)).scalar_one_or_none()
        if company is None:
            raise click.ClickException(f"no company with code {company_code}")
        db.session.add(
            User(
                company_id=company.id, username=username, display_name=display_name or username,
                role=Role(role), password_hash=hash_password(password),
            )
        )
        db.session.commit()
        click.echo(f"user {username} ({role}) added to {company.name}")


main.add_command(send_notifications)


def register_cli(app: Flask) -> None:
    """Nothing extra on ``flask``: the ``fieldsync`` command is the entry point."""


if __name__ == "__main__":
    main()
