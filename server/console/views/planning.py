"""Planning: optimise a day's routes (VROOM), adjust the preview, commit it; the day's late ETAs
(R2); the planners for inspections (R7), meter verification (R15) and overdue hazards (R16); the
inspection coverage by category (R7). Every change goes through ``server.planning`` like the API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role, run
from server.console.forms import parse_day
from server.console.frame import company, refusal
from server.console.i18n import t
from server.console.planning_preview import (
    Preview,
    apply_adjustment,
    build_preview,
    commit_routes,
    state_from_form,
    state_from_plan,
)
from server.console.session import console_login_required
from server.errors import ApiError, field_error
from server.extensions import db
from server.jobs.models import Job
from server.org.service import company_today
from server.planning import inspections, service
from server.planning.schemas import PLAN_DAY, CommitSchema, HorizonSchema

PLANNERS = (Role.DISPATCHER,)  # as /api/v1/planning/optimise, /commit, /etas and the planners
COVERAGE_READERS = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)  # as GET /api/v1/planning/coverage
GENERATORS = {
    "inspections": lambda cid, horizon: inspections.plan_inspections(cid, horizon_days=horizon),
    "meters": lambda cid, horizon: inspections.plan_meter_work(cid, horizon_days=horizon),
    "hazards": lambda cid, horizon: inspections.plan_overdue_hazards(cid),
}


def _day() -> dt.date:
    day = parse_day(request.values.get("d"), company_today(company()))
    try:
        PLAN_DAY(day)
    except Exception:  # a day the planner refuses (outside 2000–2100): plan today instead
        return company_today(company())
    return day


def _can(*roles: Role) -> bool:
    return g.user.role in (*roles, Role.ADMIN)


def late_visits(company_id: uuid.UUID, day: dt.date) -> list[tuple[dict, Job]]:
    """The day's visits whose current ETA breaks their window, with the R2 notice facts, by window."""
    stops = [s for s in service.current_etas(company_id, day) if s["late"]]
    if not stops:
        return []
    jobs = {str(j.id): j for j in db.session.execute(
        sa.select(Job).where(Job.company_id == company_id, Job.id.in_([uuid.UUID(s["job_id"]) for s in stops]))
        .options(selectinload(Job.customer), selectinload(Job.technician))).scalars()}
    return sorted(((s, jobs[s["job_id"]]) for s in stops), key=lambda sj: (sj[0]["window_start"], sj[1].ref))


def render_planning(day: dt.date, *, preview: Preview | None = None, error: ApiError | None = None,
                    generated: dict[str, Any] | None = None, status: int = 200):
    """The planning page: the preview when there is one, the late ETAs, planners and coverage."""
    can_plan = _can(*PLANNERS)
    return render_template(
        "console/planning.html", day=day, today=company_today(company()), page_endpoint="console.planning",
        preview=preview, error=refusal(error) if error else None, generated=generated,
        late=late_visits(g.user.company_id, day) if can_plan else [],
        can_plan=can_plan, coverage=inspections.coverage(g.user.company_id) if _can(*COVERAGE_READERS) else None,
        horizon=request.form.get("horizon_days", "30"),
    ), status


@bp.route("/planning")
@console_login_required
def planning():
    """The planning page for a local day (today in the company's zone by default)."""
    return render_planning(_day())


@bp.route("/planning/optimise", methods=["POST"])
@console_login_required
@require_role(*PLANNERS)
def planning_optimise():
    """Solve the day's routes and show the preview; nothing is written."""
    day = _day()
    problem, plan = service.optimise(g.user.company_id, day)
    return render_planning(day, preview=build_preview(problem, state_from_plan(plan), plan.solve_ms))


def _form_preview(day: dt.date, adjust: bool) -> Preview:
    """The preview the form carries (adjusted by the form's one adjustment when ``adjust``)."""
    problem = service.build_problem(g.user.company_id, day)
    state = state_from_form(problem, request.form)
    if adjust:
        state = apply_adjustment(state, request.form)
    try:
        solve_ms = float(request.form.get("solve_ms", "0"))
    except ValueError:
        solve_ms = 0.0
    return build_preview(problem, state, solve_ms)


@bp.route("/planning/adjust", methods=["POST"])
@console_login_required
@require_role(*PLANNERS)
def planning_adjust():
    """Move a job to another route, leave it out, or reorder a route; re-time the preview."""
    day = _day()
    try:
        preview = _form_preview(day, adjust=True)
    except ApiError as error:
        return render_planning(day, error=error, status=error.status)
    return render_planning(day, preview=preview)


@bp.route("/planning/commit", methods=["POST"])
@console_login_required
@require_role(*PLANNERS)
def planning_commit():
    """Commit the previewed routes through ``planning.service.commit``: whole or not at all."""
    day = _day()
    try:
        preview = _form_preview(day, adjust=False)
    except ApiError as error:
        return render_planning(day, error=error, status=error.status)

    def change():
        routes = commit_routes(preview.state, preview)
        if not routes:
            raise field_error("routes", "the plan has no visits to commit")
        body = load(CommitSchema(), {"day": day.isoformat(), "routes": routes})
        return service.commit(g.user.company_id, body["day"], body["routes"])

    jobs, error = run(change)
    if error:
        return render_planning(day, preview=preview, error=error, status=error.status)
    flash(t("plan.committed", n=len(jobs)), "ok")
    return redirect(url_for("console.board", d=day.isoformat()), code=303)


@bp.route("/planning/generate/<kind>", methods=["POST"])
@console_login_required
@require_role(*PLANNERS)
def planning_generate(kind: str):
    """Run one planner (inspections R7, meters R15, overdue hazards R16) and show what it created."""
    day = _day()
    if kind not in GENERATORS:
        return render_planning(day, error=field_error("kind", f"unknown planner {kind}"), status=404)

    def change():
        horizon = load(HorizonSchema(), {"horizon_days": request.form.get("horizon_days") or None})["horizon_days"]
        return GENERATORS[kind](g.user.company_id, horizon)

    jobs, error = run(change)
    if error:
        return render_planning(day, error=error, status=error.status)
    return render_planning(day, generated={"kind": kind, "jobs": jobs})
