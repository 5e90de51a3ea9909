"""Follow-up calls after visits (R6): the calls to make (open first, by due date), and the outcome of a
call with the customer's satisfaction 1–5, recorded in place with htmx through the follow-ups service.

A refused outcome (no score for a done call, a score for an unreachable customer…) comes back as the
same row with the message beside the field and everything typed still in the form.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role, run
from server.console.frame import refusal
from server.console.i18n import t
from server.console.session import console_login_required
from server.errors import ApiError
from server.extensions import db
from server.followups import service
from server.followups.models import FollowUpStatus, FollowUpTask
from server.followups.schemas import FollowUpOutcomeSchema
from server.jobs.models import Job
from server.jobs.service import owned

READERS = (Role.CUSTOMER_SERVICE, Role.DISPATCHER)  # as GET /api/v1/follow-ups
CALLERS = (Role.CUSTOMER_SERVICE,)  # as POST /api/v1/follow-ups/<id>/outcome
LIMIT = 200
SHOWS = {
    "open": [FollowUpStatus.OPEN, FollowUpStatus.UNREACHABLE],
    "done": [FollowUpStatus.DONE],
    "all": list(FollowUpStatus),
}


def _tasks(show: str) -> list[FollowUpTask]:
    stmt = service.follow_ups_query(g.user.company_id, {"status": SHOWS[show]}).options(
        selectinload(FollowUpTask.job).selectinload(Job.technician))
    # The calls still to make before the ones made, then by due date (the service's order).
    stmt = stmt.order_by(None).order_by(
        sa.case((FollowUpTask.status == FollowUpStatus.DONE, 1), else_=0), FollowUpTask.due_at, FollowUpTask.id)
    return list(db.session.execute(stmt.limit(LIMIT)).scalars())


def _counts() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(FollowUpTask.status, sa.func.count()).where(FollowUpTask.company_id == g.user.company_id)
        .group_by(FollowUpTask.status)
    ).all()
    by = {status: count for status, count in rows}
    return {"open": by.get(FollowUpStatus.OPEN, 0) + by.get(FollowUpStatus.UNREACHABLE, 0),
            "done": by.get(FollowUpStatus.DONE, 0), "all": sum(by.values())}


def _row_context(task: FollowUpTask, *, errors: dict[str, str] | None = None, values: Any = None,
                 error: dict | None = None) -> dict[str, Any]:
    return {"task": task, "errors": errors or {}, "values": values or {}, "row_error": error,
            "can_call": g.user.role in (*CALLERS, Role.ADMIN)}


@bp.route("/follow-ups")
@console_login_required
@require_role(*READERS)
def follow_ups():
    """The follow-up calls: ``show`` = open (default: still to make), done, or all."""
    show = request.args.get("show", "open")
    show = show if show in SHOWS else "open"
    if request.args.get("part") == "tabs":  # htmx refreshes the counts after an outcome is saved
        return render_template("console/_followup_tabs.html", show=show, counts=_counts())
    return render_template("console/followups.html", tasks=_tasks(show), show=show, counts=_counts(),
                           row=_row_context)


def _field_errors(error: ApiError) -> dict[str, str]:
    """Each refused field's first message, from the schema's or the service's error."""
    out: dict[str, str] = {}
    for messages in (error.errors or {}).values():
        if isinstance(messages, dict):
            for field, problems in messages.items():
                out[field] = problems[0] if isinstance(problems, list) and problems else str(problems)
    return out


@bp.route("/follow-ups/<uuid:task_id>/outcome", methods=["POST"])
@console_login_required
@require_role(*CALLERS)
def follow_up_outcome(task_id: uuid.UUID):
    """Record the call's outcome; htmx gets the row back (refusals included), a plain form a redirect."""
    task = owned(FollowUpTask, g.user.company_id, task_id, "follow-up")
    form = request.form
    data = {"status": form.get("status") or None, "outcome": form.get("outcome", ""),
            "satisfaction": int(form["satisfaction"]) if form.get("satisfaction", "").isdigit() else None}
    if form.get("satisfaction") and data["satisfaction"] is None:
        data["satisfaction"] = form["satisfaction"]  # let the schema name the bad value

    def change() -> FollowUpTask:
        body = load(FollowUpOutcomeSchema(), data)
        return service.record_outcome(task, g.user, **body)

    _, error = run(change)
    htmx = bool(request.headers.get("HX-Request"))
    if error is not None:
        task = owned(FollowUpTask, g.user.company_id, task_id, "follow-up")  # as stored, after the rollback
        context = _row_context(task, errors=_field_errors(error), values=form, error=refusal(error))
        if htmx:
            return render_template("console/_followup_row.html", **context), error.status
        return render_template("console/followups.html", tasks=_tasks("open"), show="open", counts=_counts(),
                               row=_row_context, failed=context), error.status
    if htmx:
        row = render_template("console/_followup_row.html", **_row_context(task, error=None), saved=True)
        return row, 200, {"HX-Trigger": "followup-saved"}
    flash(t("followups.saved"), "ok")
    return redirect(url_for("console.follow_ups"), code=303)
