"""The fieldsync server: a Flask app factory that only wires extensions, blueprints and the CLI."""

from __future__ import annotations

import logging as std_logging  # not `logging`: the submodule server.logging would rebind that name

from flask import Flask

from server import extensions
from server.config import Config, DevelopmentConfig
from server.db import Actor, current_actor
from server.errors import refuse_nul_characters

# Blueprints in the order they appear in the OpenAPI document.
BLUEPRINTS = [
    "server.health",
    "server.auth.routes",
    "server.org.routes",
    "server.people.routes",
    "server.customers.routes",
    "server.jobs.routes",
    "server.jobs.call_routes",
    "server.jobs.complaint_routes",
    "server.jobs.calendar_routes",
    "server.checklists.routes",
    "server.visits.routes",
    "server.notifications.routes",
    "server.followups.routes",
    "server.sync.routes", "server.sync.events", "server.sync.blobs", "server.sync.conflicts",
    "server.audit.routes",
    "server.planning.routes",
    "server.reports.routes",
]


def create_app(config: Config | None = None) -> Flask:
    """Build the app for a config object (development config from the environment by default)."""
    app = Flask(__name__)
    app.config.from_object(config or DevelopmentConfig())
    app.json.sort_keys = False
    std_logging.basicConfig(level=std_logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    import server.models  # noqa: F401  (every table on the metadata)

    extensions.db.init_app(app)
    extensions.api.init_app(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    import importlib

    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        extensions.api.register_blueprint(module.blp)
    @app.before_request
    def _forget_previous_actor() -> None:
        # Server threads serve many requests: the audit actor must never carry over between them.
        current_actor.set(Actor())

    app.before_request(refuse_nul_characters)

    for hook in EXTRA_SETUP:
        hook(app)

    from server.cli import register_cli

    register_cli(app)
    return app


# Packages that need more than a blueprint (the console's pages, the sync change signal) add here.
EXTRA_SETUP: list = []

from server.console import init_app as _console_init_app  # noqa: E402  (the dispatcher console at /console/)

EXTRA_SETUP.append(_console_init_app)

from server.sync.sqlite import init_app as _sqlite_init_app  # noqa: E402  (WAL for the SQLite server database)

EXTRA_SETUP.append(_sqlite_init_app)
