"""The ``fieldsync`` command: init-db, demo-data, serve, create-user."""

from __future__ import annotations

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
@click.option("--production", is_flag=True, help="run gunicorn workers against PostgreSQL (docs/deploy.md)")
@click.option("--workers", default=None, type=int, help="gunicorn workers (default FIELDSYNC_WORKERS or cores)")
def serve(host: str, port: int, production: bool, workers: int | None) -> None:
    """Run the server (development server; --production: gunicorn configured by the environment)."""
    if production:
        _serve_production(host, port, workers)
        return
    app = _app()
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _serve_production(host: str, port: int, workers: int | None) -> None:
    """gunicorn from FIELDSYNC_* variables; a flag given on the command line wins over its variable."""
    import dataclasses

    from server.config import ConfigError, ServerSettings
    from server.wsgi import run_production

    ctx = click.get_current_context()
    given = {
        name: value for name, value in (("host", host), ("port", port), ("workers", workers))
        if value is not None and ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    }
    try:
        run_production(dataclasses.replace(ServerSettings.from_env(), **given))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


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
