"""The route-optimisation preview the dispatcher adjusts before committing: its state, the
adjustments (move a job to another route, leave it out, reorder), its timings and its map.

Nothing here writes. The state travels in the preview form itself (one hidden field per route, one
for the jobs left out), so an adjustment is a pure function of (the day's problem, the form): no
server-side draft to go stale or leak between dispatchers. Ids in the form are checked against the
day's problem, which is built for the signed-in user's company only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from server.errors import field_error
from server.jobs import assignment
from server.jobs.models import Job
from server.people.models import Technician
from server.people.service import qualified
from server.planning.service import DayProblem
from server.planning.vrp import Plan, PlanJob, PlanTechnician, travel_seconds

DROPPED = "dropped"  # left out of the plan by the dispatcher (the solver's reasons are in vrp.why_unplaceable)
# One colour per route on the map and in the list (cycled past eight technicians).
COLOURS = ("#1570ef", "#e04f16", "#0e9384", "#7a5af8", "#c11574", "#b54708", "#026aa2", "#4e5ba6")


@dataclass
class State:
    """Routes (technician id → job ids in order) and the jobs left out (job id → reason)."""

    routes: dict[str, list[str]]
    unplaced: dict[str, str]


def state_from_plan(plan: Plan) -> State:
    """The solver's plan as a preview state."""
    return State({tech: [s.job_id for s in stops] for tech, stops in plan.routes.items()}, dict(plan.unassigned))


def state_from_form(problem: DayProblem, form: Mapping[str, str]) -> State:
    """The state the preview form carries: ``route-<technician id>`` = job ids, ``unplaced`` = id:reason.

    Every id must belong to the day's problem (422 naming the field otherwise), each job once.
    """
    jobs = {str(j.id) for j in problem.jobs}
    seen: set[str] = set()

    def known(job_id: str, name: str) -> str:
        if job_id not in jobs:
            raise field_error(name, f"job {job_id} is not among the day's jobs to plan")
        if job_id in seen:
            raise field_error(name, f"job {job_id} appears twice in the plan")
        seen.add(job_id)
        return job_id

    routes = {}
    for tech in problem.plan_techs:
        name = f"route-{tech.id}"
        routes[tech.id] = [known(j, name) for j in form.get(name, "").split(",") if j]
    unplaced = {}
    for item in form.get("unplaced", "").split(","):
        if item:
            job_id, _, reason = item.partition(":")
            unplaced[known(job_id, "unplaced")] = reason or DROPPED
    # A job the form forgot (an older page) is not lost: it is shown as left out.
    for job_id in jobs - seen:
        unplaced[job_id] = DROPPED
    return State(routes, unplaced)


def _locate(state: State, job_id: str) -> tuple[str | None, int]:
    for tech, ids in state.routes.items():
        if job_id in ids:
            return tech, ids.index(job_id)
    return None, -1


def apply_adjustment(state: State, form: Mapping[str, str]) -> State:
    """Apply the one adjustment the form asks for: ``op`` = up:/down:/drop:<job id>, or a
    ``move-<job id>`` select naming a technician's route (the job goes to the end of that route)."""
    op, _, job_id = form.get("op", "").partition(":")
    moves = {k[5:]: v for k, v in form.items() if k.startswith("move-") and v}
    if not op and moves:
        op, (job_id, target) = "move", next(iter(moves.items()))
    if not op:
        return state
    tech, at = _locate(state, job_id)
    if job_id not in state.unplaced and tech is None:
        raise field_error("op", f"job {job_id} is not in the plan")
    if op in ("up", "down") and tech is not None:
        ids = state.routes[tech]
        there = min(max(at + (-1 if op == "up" else 1), 0), len(ids) - 1)
        ids[at], ids[there] = ids[there], ids[at]
    elif op == "drop" and tech is not None:
        state.routes[tech].remove(job_id)
        state.unplaced[job_id] = DROPPED
    elif op == "move":
        if target not in state.routes:
            raise field_error(f"move-{job_id}", "not a technician of this plan")
        if tech is not None:
            state.routes[tech].remove(job_id)
        state.unplaced.pop(job_id, None)
        state.routes[target].append(job_id)
    elif op not in ("up", "down", "drop"):
        raise field_error("op", f"unknown adjustment {op}")
    return state


@dataclass
class PreviewStop:
    """One visit of a previewed route with its timings (company-local display is the template's)."""

    number: int
    job: Job
    arrival: dt.datetime  # the ETA: when the technician gets there (stored as the job's planned_eta)
    start: dt.datetime  # when the work starts: the arrival, or the window's start after waiting
    travel_minutes: int
    late: bool
    x: float = 0.0
    y: float = 0.0


@dataclass
class PreviewRoute:
    """A technician's previewed route."""

    technician: Technician
    stops: list[PreviewStop]
    travel_minutes: int  # including the drive back to the start point
    colour: str
    start_xy: tuple[float, float] | None = None
    path: str = ""


@dataclass
class Preview:
    """Everything the preview shows, and the state it was made from (for the form)."""

    state: State
    routes: list[PreviewRoute]
    unplaced: list[tuple[Job, str]]
    travel_minutes: int
    solve_ms: float
    no_start_point: list[Technician]
    warnings: dict[tuple[str, str], str] = field(default_factory=dict)  # (job, technician) → R14/R10 hint
    width: int = 760
    height: int = 460

    @property
    def late_count(self) -> int:
        return sum(s.late for r in self.routes for s in r.stops)


def _timings(problem: DayProblem, tech: PlanTechnician, jobs: list[tuple[Job, PlanJob]]) -> tuple[list, int]:
    """Drive the route from the shift start as service.current_etas does (same travel model)."""
    where, clock, travel, stops = (tech.lat, tech.lon), tech.shift_start_s, 0, []
    for number, (job, pj) in enumerate(jobs, start=1):
        leg = travel_seconds(where, (pj.lat, pj.lon))
        arrival = clock + leg
        start = max(arrival, pj.window[0]) if pj.window else arrival
        clock, where, travel = start + pj.service_s, (pj.lat, pj.lon), travel + leg
        start_at = problem.midnight + dt.timedelta(seconds=start)
        stops.append(PreviewStop(
            number, job, (problem.midnight + dt.timedelta(seconds=arrival)).astimezone(dt.UTC),
            start_at.astimezone(dt.UTC), round(leg / 60),
            late=job.window_end is not None and start_at > job.window_end,
        ))
    if jobs:
        travel += travel_seconds(where, (tech.lat, tech.lon))
    return stops, round(travel / 60)


def build_preview(problem: DayProblem, state: State, solve_ms: float) -> Preview:
    """Timings, travel, hints and map of the state's routes."""
    jobs = {str(j.id): (j, pj) for j, pj in zip(problem.jobs, problem.plan_jobs, strict=True)}
    techs = {str(t.id): t for t in problem.technicians}
    routes = []
    for index, pt in enumerate(problem.plan_techs):
        stops, travel = _timings(problem, pt, [jobs[j] for j in state.routes.get(pt.id, [])])
        routes.append(PreviewRoute(techs[pt.id], stops, travel, COLOURS[index % len(COLOURS)]))
    preview = Preview(
        state=state, routes=routes, travel_minutes=sum(r.travel_minutes for r in routes), solve_ms=solve_ms,
        unplaced=[(jobs[j][0], reason) for j, reason in sorted(state.unplaced.items(), key=lambda kv: jobs[kv[0]][0].ref)],
        no_start_point=[t for t in problem.technicians if t.start_lat is None or t.start_lon is None],
    )
    preview.warnings = _warnings(problem, [t for t in problem.technicians if str(t.id) in state.routes])
    _project(preview, problem)
    return preview


def _warnings(problem: DayProblem, techs: list[Technician]) -> dict[tuple[str, str], str]:
    """What the assignment gates would say (R14 missing certifications, R10), shown in the move menu."""
    out = {}
    for job in problem.jobs:
        for tech in techs:
            missing = qualified(tech, job.required_certifications or [], problem.day)
            if missing:
                out[(str(job.id), str(tech.id))] = "⚠ " + ", ".join(missing)
            elif assignment.conflict_of_interest(job, tech.id):
                out[(str(job.id), str(tech.id))] = "⚠ R10"
    return out


def _project(preview: Preview, problem: DayProblem, pad: int = 28) -> None:
    """Place start points and stops in the SVG box, as the route map does (equirectangular, one
    scale for both axes so distances stay honest)."""
    by_id = {pt.id: pt for pt in problem.plan_techs}
    located = {str(j.id): pj for j, pj in zip(problem.jobs, problem.plan_jobs, strict=True)}
    points = [(by_id[str(r.technician.id)].lat, by_id[str(r.technician.id)].lon) for r in preview.routes if r.stops]
    points += [(located[str(s.job.id)].lat, located[str(s.job.id)].lon) for r in preview.routes for s in r.stops]
    if not points:
        return
    kx = math.cos(math.radians(sum(p[0] for p in points) / len(points)))
    xs, ys = [p[1] * kx for p in points], [p[0] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min(preview.width - 2 * pad, preview.height - 2 * pad) / span
    off_x = (preview.width - (max(xs) - min(xs)) * scale) / 2
    off_y = (preview.height - (max(ys) - min(ys)) * scale) / 2

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (round(off_x + (lon * kx - min(xs)) * scale, 1),
                round(preview.height - off_y - (lat - min(ys)) * scale, 1))

    for route in preview.routes:
        if not route.stops:
            continue
        pt = by_id[str(route.technician.id)]
        route.start_xy = project(pt.lat, pt.lon)
        chain = [route.start_xy]
        for stop in route.stops:
            stop.x, stop.y = project(located[str(stop.job.id)].lat, located[str(stop.job.id)].lon)
            chain.append((stop.x, stop.y))
        route.path = " ".join(("M" if i == 0 else "L") + f"{x},{y}" for i, (x, y) in enumerate(chain))


def commit_routes(state: State, preview: Preview) -> list[dict]:
    """The routes as ``planning.service.commit`` (through the API's CommitSchema) takes them.

    Each job's ETA is its arrival, as the API's plan gives it (a stop's ``eta``; ``start`` is after
    any wait for the window), so a plan committed here stores the same ``planned_eta`` as the API.
    """
    etas = {str(s.job.id): s.arrival for r in preview.routes for s in r.stops}
    return [
        {"technician_id": tech, "job_ids": ids, "etas": [etas[j].isoformat() for j in ids]}
        for tech, ids in state.routes.items() if ids
    ]
