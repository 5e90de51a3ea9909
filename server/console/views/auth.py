"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, session, url_for

from server.auth.service import authenticate, issue_token
from server.console import bp
from server.console.i18n import COOKIE, LANGUAGES, t
from server.console.session import (
    CONSOLE_ROLES,
    console_login_required,
    end_session,
    load_console_user,
    start_session,
)
from server.errors import ApiError
from server.extensions import db


def _safe_next(target: str | None) -> str:
    # Only paths inside the console: an open redirect would make the sign-in page a phishing aid.
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.board")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; on success the console token goes into the session cookie."""
    if request.method == "GET":
        if load_console_user() is not None:
            return redirect(url_for("console.board"))
        return render_template("console/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    try:
        user = authenticate(username, password)
    except ApiError as error:
        db.session.rollback()
        message = t("login.throttled") if error.status == 429 else t("login.failed")
        return render_template("console/login.html", login_error=message, username=username, next=target), error.status
    if user.role not in CONSOLE_ROLES:
        db.session.rollback()
        return render_template("console/login.html", login_error=t("login.needs role"), username=username,
                               next=target), 403
    raw, _ = issue_token(user)
    db.session.commit()
    start_session(user, raw)
    return redirect(_safe_next(target), code=303)


@bp.route("/logout", methods=["POST"])
def logout():
    """Revoke the console token and return to the sign-in page."""
    end_session()
    return redirect(url_for("console.login"), code=303)


@bp.route("/lang", methods=["POST"])
def set_language():
    """Switch the console language (kept in the session and a year-long cookie)."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        lang = LANGUAGES[0]
    session["lang"] = lang
    target = request.form.get("next", "")
    response = make_response(redirect(_safe_next(target) if target != url_for("console.login")
                                      else target, code=303))
    response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/")
@console_login_required
def home():
    """The console starts at the day board."""
    return redirect(url_for("console.board"))



