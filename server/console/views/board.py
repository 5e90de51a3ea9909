"""The day board (technicians × the company's local day), the job panel, and the plan changes:
assign, reassign, unassign, change window, reorder — each through the jobs service, like the API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role, run
from server.console.board_data import build_board, route_map, special_care_ids, technicians
from server.console.forms import form_uuid, form_window, parse_day
from server.console.frame import company, fmt_time, refusal, zone
from server.console.i18n import t
from server.console.session import console_login_required
from server.errors import ApiError
from server.jobs import appointments, assignment, service, sla
from server.jobs.models import Job
from server.jobs.schemas import WindowSchema
from server.org.service import company_today
from server.people.service import qualified

PLANNERS = (Role.DISPATCHER,)  # the API's assign/unassign/route endpoints need a dispatcher
WINDOW_ROLES = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)  # as POST /jobs/<id>/appointment


def _day() -> dt.date:
    return parse_day(request.values.get("d"), company_today(company()))


def technician_choices(job: Job, day: dt.date) -> list[dict[str, Any]]:
    """Every active technician with what the service's own checks would say about them for this job."""
    choices = []
    for tech in technicians(g.user.company_id):
        missing = qualified(tech, job.required_certifications or [], day)
        choices.append({
            "technician": tech, "missing": missing,
            "conflict": assignment.conflict_of_interest(job, tech.id),
        })
    return choices


def job_panel_context(job: Job, day: dt.date) -> dict[str, Any]:
    """What the job panel shows: the job, its clocks, the choices for assignment, its route place."""
    job_day = assignment.job_day(job)
    route: list[Job] = []
    if job.technician_id and job.window_start:
        route = assignment.technician_day(job.company_id, job.technician_id, job_day)
    return {
        "job": job, "day": day, "job_day": job_day, "clocks": sla.job_clocks(job),
        "choices": technician_choices(job, job_day), "route": route,
        "position": next((i for i, j in enumerate(route) if j.id == job.id), None),
    }


def render_board(day: dt.date, *, job_id: uuid.UUID | None = None, error: ApiError | None = None,
                 status: int = 200):
    """The board page, with a job's panel open and a refusal shown when given."""
    board = build_board(g.user.company_id, zone(), day)
    panel = None
    if job_id is not None:
        panel = job_panel_context(service.get_job(g.user.company_id, job_id), day)
    all_jobs = [j for row in board.rows for j in row.jobs] + board.unassigned
    return render_template(
        "console/board.html", board=board, day=day, today=company_today(company()),
        care=special_care_ids(all_jobs), panel=panel, error=refusal(error) if error else None,
        can_plan=g.user.role in (*PLANNERS, Role.ADMIN), page_endpoint="console.board",
    ), status


@bp.route("/board")
@console_login_required
def board():
    """Technicians (rows) × the local day, jobs placed by window; unassigned jobs beside it."""
    job_id = request.args.get("job")
    try:
        chosen = uuid.UUID(job_id) if job_id else None
    except ValueError:
        chosen = None
    return render_board(_day(), job_id=chosen)


@bp.route("/jobs/<uuid:job_id>/panel")
@console_login_required
def job_panel(job_id: uuid.UUID):
    """The job panel alone (htmx swaps it beside the board)."""
    job = service.get_job(g.user.company_id, job_id)
    return render_template("console/_job_panel.html", panel=job_panel_context(job, _day()),
                           can_plan=g.user.role in (*PLANNERS, Role.ADMIN))


def _after(job: Job, message: str, day: dt.date):
    flash(message, "ok")
    return redirect(url_for("console.board", d=day.isoformat(), job=str(job.id)), code=303)


def _refused(job_id: uuid.UUID, day: dt.date, error: ApiError):
    return render_board(day, job_id=job_id, error=error, status=error.status)


@bp.route("/jobs/<uuid:job_id>/assign", methods=["POST"])
@console_login_required
@require_role(*PLANNERS)
def assign(job_id: uuid.UUID):
    """Assign or reassign; a window given with it is agreed first, in the same transaction."""
    day = _day()

    def change() -> Job:
        job = service.get_job(g.user.company_id, job_id)
        technician_id = form_uuid("technician_id")
        window = form_window(zone(), required=False)
        if window is not None and (job.window_start, job.window_end) != window:
            body = load(WindowSchema(), {
                "window_start": window[0].isoformat(), "window_end": window[1].isoformat(),
                "agreed_with": request.form.get("agreed_with", ""), "reason": request.form.get("reason", ""),
            })
            appointments.agree_window(job, body["window_start"], body["window_end"],
                                      agreed_with=body["agreed_with"], reason=body["reason"])
        return assignment.assign(job, technician_id)

    job, error = run(change)
    if error:
        return _refused(job_id, day, error)
    return _after(job, t("assigned", name=job.technician.name), day)


@bp.route("/jobs/<uuid:job_id>/unassign", methods=["POST"])
@console_login_required
@require_role(*PLANNERS)
def unassign(job_id: uuid.UUID):
    """Take the job off its technician."""
    day = _day()
    job, error = run(lambda: assignment.unassign(service.get_job(g.user.company_id, job_id)))
    if error:
        return _refused(job_id, day, error)
    return _after(job, t("unassigned ok"), day)


@bp.route("/jobs/<uuid:job_id>/window", methods=["POST"])
@console_login_required
@require_role(*WINDOW_ROLES)
def change_window(job_id: uuid.UUID):
    """Agree or change the window (a change needs a reason; R2 notice recorded by the service)."""
    day = _day()

    def change() -> Job:
        job = service.get_job(g.user.company_id, job_id)
        start, end = form_window(zone(), required=True)
        body = load(WindowSchema(), {
            "window_start": start.isoformat(), "window_end": end.isoformat(),
            "agreed_with": request.form.get("agreed_with", ""), "reason": request.form.get("reason", ""),
        })
        appointments.agree_window(job, body["window_start"], body["window_end"],
                                  agreed_with=body["agreed_with"], reason=body["reason"])
        return job

    job, error = run(change)
    if error:
        return _refused(job_id, day, error)
    shown = f"{job.window_start.astimezone(zone()):%m-%d} {fmt_time(job.window_start)}–{fmt_time(job.window_end)}"
    return _after(job, t("window changed", window=shown), job.window_start.astimezone(zone()).date())


@bp.route("/jobs/<uuid:job_id>/move", methods=["POST"])
@console_login_required
@require_role(*PLANNERS)
def move(job_id: uuid.UUID):
    """Move the job one place earlier or later in its technician's route of the day."""
    day = _day()
    step = -1 if request.form.get("direction") == "up" else 1

    def change() -> Job:
        job = service.get_job(g.user.company_id, job_id)
        if job.technician_id is None or job.window_start is None:
            raise ApiError(409, "not_routed", f"job {job.ref} is not on a technician's route")
        job_day = assignment.job_day(job)
        route = assignment.technician_day(job.company_id, job.technician_id, job_day)
        ids = [j.id for j in route]
        here = ids.index(job.id)
        there = min(max(here + step, 0), len(ids) - 1)
        ids[here], ids[there] = ids[there], ids[here]
        assignment.reorder_route(job.company_id, job.technician_id, job_day, ids)
        return job

    job, error = run(change)
    if error:
        return _refused(job_id, day, error)
    if request.form.get("back") == "map":
        flash(t("reordered"), "ok")
        return redirect(url_for("console.route_map_page", d=day.isoformat(), tech=str(job.technician_id)), code=303)
    return _after(job, t("reordered"), day)


@bp.route("/map")
@console_login_required
def route_map_page():
    """Each technician's day as an inline SVG: numbered stops in route order, from the start point."""
    day = _day()
    company_id = g.user.company_id
    jobs = [job for row in build_board(company_id, zone(), day).rows for job in row.jobs]
    by_tech: dict[uuid.UUID, list[Job]] = {}
    for job in jobs:
        by_tech.setdefault(job.technician_id, []).append(job)
    chosen = request.args.get("tech")
    maps = []
    for tech in technicians(company_id):
        if chosen and str(tech.id) != chosen:
            continue
        if not chosen and tech.id not in by_tech:
            continue
        size = (760, 520) if chosen else (420, 300)
        maps.append(route_map(company_id, tech, by_tech.get(tech.id, []), *size))
    return render_template(
        "console/map.html", maps=maps, day=day, today=company_today(company()), chosen=chosen,
        technicians=technicians(company_id), care=special_care_ids(jobs), large=bool(chosen),
        can_plan=g.user.role in (*PLANNERS, Role.ADMIN),
    )

