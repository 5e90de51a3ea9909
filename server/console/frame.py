"""What every console page shares: template helpers, the CSRF check, HTML error pages."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from server.console import bp
from server.console.i18n import LANGUAGES, label, language, reason_text, t
from server.console.session import check_csrf, csrf_token
from server.db import utcnow
from server.errors import ApiError
from server.extensions import db
from server.org.models import Company


def company() -> Company:
    """The signed-in user's company (loaded once per request)."""
    if "console_company" not in g:
        g.console_company = db.session.get(Company, g.user.company_id)
    return g.console_company


def zone() -> ZoneInfo:
    """The company's time zone: every time on the console is shown in it."""
    return ZoneInfo(company().timezone)


def local(value: dt.datetime | None) -> dt.datetime | None:
    """An aware time in the company's zone."""
    return value.astimezone(zone()) if value is not None else None


def fmt_time(value: dt.datetime | None, fmt: str = "%H:%M") -> str:
    """A time in the company's zone (HH:MM by default); an em dash for none."""
    return local(value).strftime(fmt) if value is not None else "—"


def fmt_datetime(value: dt.datetime | None) -> str:
    """Month-day and time in the company's zone, with the year when it is not this year."""
    if value is None:
        return "—"
    shown = local(value)
    fmt = "%m-%d %H:%M" if shown.year == dt.datetime.now(zone()).year else "%Y-%m-%d %H:%M"
    return shown.strftime(fmt)


def fmt_span(delta: dt.timedelta) -> str:
    """A length of time for people: '2 天 3 小时', '3 小时 12 分', '25 分' (and English)."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    zh = language() == "zh-CN"
    if days:
        return f"{days} 天 {hours} 小时" if zh else f"{days} d {hours} h"
    if hours:
        return f"{hours} 小时 {mins} 分" if zh else f"{hours} h {mins} min"
    return f"{mins} 分" if zh else f"{mins} min"


def refusal(error: ApiError) -> dict[str, Any]:
    """What the page shows for a service refusal: a localised headline and the service's message."""
    return {"status": error.status, "reason": error.reason, "headline": reason_text(error.reason) or t("refused"),
            "message": error.message}


# Hooks on the console blueprint, registered once at import (an app may be created many times).


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    """What every console template may use."""
    if request.blueprint != "console":
        return {}
    return {
        "t": t, "label": label, "lang": language(), "languages": LANGUAGES, "csrf_token": csrf_token,
        "fmt_time": fmt_time, "fmt_datetime": fmt_datetime, "fmt_span": fmt_span,
        "user": g.get("user"), "now": utcnow(),
        # Where the language switch returns to: this page, or the board after a POST.
        "here": request.full_path.rstrip("?") if request.method == "GET" else url_for("console.board"),
    }


@bp.app_template_filter("localdate")
def localdate(value: dt.datetime | None) -> dt.date | None:
    return local(value).date() if value is not None else None


@bp.app_template_filter("prevday")
def prevday(value: dt.date) -> str:
    return (value - dt.timedelta(days=1)).isoformat()


@bp.app_template_filter("nextday")
def nextday(value: dt.date) -> str:
    return (value + dt.timedelta(days=1)).isoformat()


@bp.before_request
def csrf_guard() -> None:
    """Refuse a console POST without this session's CSRF token."""
    check_csrf()


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    db.session.rollback()
    return render_template("console/error.html", error=refusal(error)), error.status


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    code = error.code or 500
    if code == 400 and error.description == "csrf":
        message = t("csrf refused")
    elif code == 404:
        message = t("page not found")
    elif code == 403:
        message = t("forbidden")
    else:
        message = error.description or error.name
    return render_template(
        "console/error.html", error={"status": code, "reason": error.name, "headline": t("refused"),
                                     "message": message},
    ), code
