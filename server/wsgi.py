"""The production server: the app with JSON request logs, and gunicorn running it.

``fieldsync serve --production`` calls :func:`run_production`; ``gunicorn server.wsgi:app`` also
works (then pass ``--access-logfile`` nothing: the app writes its own request lines, and
gunicorn's access log would repeat query values, which may be a customer's name or phone).
"""

from __future__ import annotations

from typing import IO

from flask import Flask
from gunicorn.app.base import BaseApplication

from server import create_app
from server.config import Config, ProductionConfig, ServerSettings
from server.logging import configure_logging, gunicorn_logconfig
from server.logging import init_app as init_request_log


def create_production_app(config: Config | None = None, *, log_stream: IO[str] | None = None) -> Flask:
    """The app as production runs it: configured from the environment, JSON logs (to stderr or
    ``log_stream``), a line per request."""
    config = config or ProductionConfig()
    configure_logging(getattr(config, "LOG_FORMAT", "json"), getattr(config, "LOG_LEVEL", "INFO"), log_stream)
    app = create_app(config)
    init_request_log(app)
    return app


class ProductionServer(BaseApplication):
    """gunicorn with fieldsync's settings; each worker builds its own app (no fork-shared connections)."""

    def __init__(self, settings: ServerSettings, config: ProductionConfig) -> None:
        self.settings = settings
        self.config_object = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings, self.config_object).items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_production_app(ProductionConfig())


def gunicorn_options(settings: ServerSettings, config: ProductionConfig) -> dict:
    """gunicorn's settings: threaded workers, because each online tablet holds one SSE stream open."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        # gthread: a /sync/events stream occupies a thread, not a whole worker process. The thread
        # waits on a queue fed by the worker's one change poller (server/sync/events.py), so it costs
        # memory, not CPU or queries: size threads per worker for the online tablets it serves plus
        # sync headroom (default 128; docs/deploy.md). A stream beyond a worker's threads would wait
        # in its queue, and every request of that worker behind it.
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": settings.timeout,
        # Tablets sync every few seconds to minutes over one kept-alive connection: with gunicorn's 2 s
        # default the server closes it between syncs, and a request sent as it closes fails (the load
        # bench saw ~1 ConnectionError a run). 75 s, as nginx; idle connections hold no gthread thread.
        "keepalive": 75,
        "graceful_timeout": settings.graceful_timeout,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "accesslog": None,
        "logconfig_dict": gunicorn_logconfig(config.LOG_FORMAT, config.LOG_LEVEL),
        "proc_name": "fieldsync",
        # One control socket per user home would clash between instances on one host; signals suffice.
        "control_socket_disable": True,
        # No preload: an engine created before fork would share connections between workers.
        "preload_app": False,
    }


def run_production(settings: ServerSettings | None = None) -> None:
    """Check the environment once in the master (fail fast with a message), then run gunicorn."""
    config = ProductionConfig()
    ProductionServer(settings or ServerSettings.from_env(), config).run()


def __getattr__(name: str) -> Flask:
    # ``gunicorn server.wsgi:app`` reads ``app``; build it only then, so importing this module
    # (the CLI, the tests) needs no production environment.
    if name == "app":
        app = create_production_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
