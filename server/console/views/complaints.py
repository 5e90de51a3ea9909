"""Complaints (R10) on the console: the list with each answer deadline (5 working days, or the agreed
extension) and working days left, one complaint's file, an extension agreed with a reason, the answer.

Confidentiality: the list never shows a confidential complaint's details, and shows its complainant
masked; the full file opens on its own page (served to the same roles as the API's complaint rows).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role, run
from server.console.frame import refusal, zone
from server.console.i18n import t
from server.console.session import console_login_required
from server.db import utcnow
from server.errors import ApiError, field_error
from server.extensions import db
from server.jobs import complaints
from server.jobs.calendar import WorkingCalendar
from server.jobs.intake_schemas import ComplaintAnswerSchema, ExtensionSchema
from server.jobs.models import Complaint, ComplaintStatus, Job
from server.jobs.service import owned
from server.people.models import Technician

STAFF = (Role.CUSTOMER_SERVICE, Role.DISPATCHER)  # as /api/v1/complaints
LIMIT = 200
SHOWS = {"open": [ComplaintStatus.OPEN], "answered": [ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED],
         "all": list(ComplaintStatus)}


@bp.app_template_filter("masked_name")
def masked_name(name: str) -> str:
    """A complainant's name as a list shows it when the complaint is confidential: 张** / J***."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "—"


def _rows(show: str) -> list[tuple[Complaint, dt.datetime, int | None]]:
    calendar, now = WorkingCalendar(g.user.company_id), utcnow()
    found = db.session.execute(complaints.complaints_query(g.user.company_id, SHOWS[show]).limit(LIMIT)).scalars()
    return [(c, complaints.deadline(c), complaints.working_days_left(calendar, c, now)) for c in found]


@bp.route("/complaints")
@console_login_required
@require_role(*STAFF)
def complaints_page():
    """Complaints, the earliest deadline first (open ones by default)."""
    show = request.args.get("show", "open")
    show = show if show in SHOWS else "open"
    return render_template("console/complaints.html", rows=_rows(show), show=show, now=utcnow())


def _file(complaint: Complaint, *, error: ApiError | None = None, status: int = 200):
    calendar = WorkingCalendar(g.user.company_id)
    involved = [uuid.UUID(i) for i in complaint.involved_technician_ids or []]
    people = list(db.session.execute(sa.select(Technician).where(Technician.id.in_(involved))).scalars()) if involved else []
    visits = list(db.session.execute(
        sa.select(Job).where(Job.company_id == g.user.company_id, Job.complaint_id == complaint.id).order_by(Job.ref)
    ).scalars())
    default_until = complaints.deadline(complaint).astimezone(zone()) + dt.timedelta(days=7)
    return render_template(
        "console/complaint.html", c=complaint, deadline=complaints.deadline(complaint),
        days_left=complaints.working_days_left(calendar, complaint, utcnow()), involved=people, visits=visits,
        now=utcnow(), error=refusal(error) if error else None, values=request.form,
        default_until=default_until, field=(error.errors or {}) if error else {},
    ), status


@bp.route("/complaints/<uuid:complaint_id>")
@console_login_required
@require_role(*STAFF)
def complaint_page(complaint_id: uuid.UUID):
    """One complaint with its confidential details, deadline, extension and answer."""
    return _file(owned(Complaint, g.user.company_id, complaint_id, "complaint"))


def _local_until() -> str:
    """The form's new deadline (local date and time) as an aware ISO time for the API's schema."""
    day, time = request.form.get("until_day", "").strip(), request.form.get("until_time", "").strip() or "17:30"
    try:
        when = dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time), zone())
    except ValueError:
        raise field_error("until", t("complaints.until format")) from None
    return when.isoformat()


def _act(complaint_id: uuid.UUID, change, done: str):
    def apply():
        return change(owned(Complaint, g.user.company_id, complaint_id, "complaint"))

    _, error = run(apply)
    if error is not None:
        return _file(owned(Complaint, g.user.company_id, complaint_id, "complaint"), error=error, status=error.status)
    flash(done, "ok")
    return redirect(url_for("console.complaint_page", complaint_id=complaint_id), code=303)


@bp.route("/complaints/<uuid:complaint_id>/extend", methods=["POST"])
@console_login_required
@require_role(*STAFF)
def complaint_extend(complaint_id: uuid.UUID):
    """Record an extension agreed with the complainant: a later deadline and why (R10)."""
    def change(complaint: Complaint) -> Complaint:
        body = load(ExtensionSchema(), {"until": _local_until(), "reason": request.form.get("reason", "").strip()})
        return complaints.extend_complaint(complaint, body["until"], body["reason"])

    return _act(complaint_id, change, t("complaints.extended ok"))


@bp.route("/complaints/<uuid:complaint_id>/answer", methods=["POST"])
@console_login_required
@require_role(*STAFF)
def complaint_answer(complaint_id: uuid.UUID):
    """Record the answer given to the complainant."""
    def change(complaint: Complaint) -> Complaint:
        body = load(ComplaintAnswerSchema(), {"answer": request.form.get("answer", "").strip()})
        return complaints.answer_complaint(complaint, body["answer"])

    return _act(complaint_id, change, t("complaints.answered ok"))
