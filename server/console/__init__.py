"""The dispatcher console at /console/: server-rendered pages (Jinja2) with htmx, zh-CN by default.

The console is HTML, not part of the OpenAPI document: it is a plain Flask blueprint registered by
``init_app`` (listed in ``server.EXTRA_SETUP``). Every change it makes goes through the same service
functions as the JSON API, so the API's rules refuse the dispatcher with the same reasons.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def init_app(app: Flask) -> None:
    """Register the console's pages, template helpers and error pages on the app."""
    from server.console import frame, views  # noqa: F401  (hooks and routes attach themselves to ``bp``)

    app.register_blueprint(bp)
    # The session cookie is the console's credential: not readable by scripts, not sent cross-site.
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
