"""A technician's day as a vehicle-routing problem, solved by VROOM (pyvroom), and a greedy baseline.

Plain values in, plain values out: no database here, so the solver, the benchmark and the tests
share one model. Times are seconds since local midnight of the planned day; travel times come from
great-circle distance × a detour factor at an urban driving speed (no routing server is reachable,
and none is needed for a custom duration matrix).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

URBAN_SPEED_KMH = 25.0  # average door-to-door speed in city traffic
DETOUR_FACTOR = 1.35  # road distance / straight-line distance in a dense city


@dataclass(frozen=True)
class PlanTechnician:
    """A technician as the router sees them: start point, shift and what they are qualified for."""

    id: str
    lat: float
    lon: float
    shift_start_s: int
    shift_end_s: int
    skills: frozenset[str]


@dataclass(frozen=True)
class PlanJob:
    """A visit to place: where, how long, within which window, needing which skills."""

    id: str
    lat: float
    lon: float
    service_s: int
    window: tuple[int, int] | None  # the agreed window; None = any time in a shift
    skills: frozenset[str] = frozenset()
    priority: int = 0  # 0–100; higher is placed first when not everything fits
    pinned_to: str | None = None  # a committed visit stays with its technician


@dataclass(frozen=True)
class Stop:
    """One visit in a route: arrival (ETA), start of service (after waiting) and departure."""

    job_id: str
    arrival_s: int
    start_s: int
    departure_s: int
    travel_s: int  # travel time from the previous stop


@dataclass(frozen=True)
class Plan:
    """Routes per technician, the jobs that could not be placed (with a reason), total travel."""

    routes: dict[str, list[Stop]]
    unassigned: dict[str, str]
    travel_s: int
    solve_ms: float = 0.0
    violations: list[str] = field(default_factory=list)


def travel_seconds(a: tuple[float, float], b: tuple[float, float]) -> int:
    """Driving time between two points (haversine × detour at urban speed), in whole seconds."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    km = 2 * 6371.0 * math.asin(math.sqrt(h)) * DETOUR_FACTOR
    return int(round(km / URBAN_SPEED_KMH * 3600))


def duration_matrix(points: Sequence[tuple[float, float]]) -> np.ndarray:
    """All-pairs travel seconds (vectorised haversine)."""
    arr = np.radians(np.asarray(points, dtype=float))
    lat, lon = arr[:, 0][:, None], arr[:, 1][:, None]
    h = np.sin((lat.T - lat) / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin((lon.T - lon) / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1))) * DETOUR_FACTOR
    return np.rint(km / URBAN_SPEED_KMH * 3600).astype(np.uint32)


def _points(techs: Sequence[PlanTechnician], jobs: Sequence[PlanJob]) -> list[tuple[float, float]]:
    return [(t.lat, t.lon) for t in techs] + [(j.lat, j.lon) for j in jobs]


def why_unplaceable(job: PlanJob, techs: Sequence[PlanTechnician]) -> str:
    """The most specific reason a job could not be placed."""
    able = [t for t in techs if job.skills <= t.skills and (job.pinned_to in (None, t.id))]
    if job.pinned_to and not able:
        return "committed_technician_unavailable"
    if not able:
        return "no_qualified_technician"
    if job.window:
        fits = [t for t in able if job.window[0] < t.shift_end_s and job.window[1] > t.shift_start_s]
        if not fits:
            return "window_outside_shifts"
    return "no_room_in_routes"


def solve(
    techs: Sequence[PlanTechnician],
    jobs: Sequence[PlanJob],
    *,
    exploration_level: int = 0,
    threads: int = 2,
    timeout_s: float | None = 4.5,
) -> Plan:
    """Place jobs on technicians' routes with VROOM: windows, skills, shifts and pins respected."""
    import vroom

    started = time.perf_counter()
    if not techs or not jobs:
        return Plan(routes={t.id: [] for t in techs}, unassigned={j.id: why_unplaceable(j, techs) for j in jobs},
                    travel_s=0)
    matrix = duration_matrix(_points(techs, jobs))
    skill_ids: dict[str, int] = {}

    def ids(names: frozenset[str]) -> set[int]:
        return {skill_ids.setdefault(name, len(skill_ids) + 1) for name in names}

    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=matrix)
    for v, tech in enumerate(techs):
        problem.add_vehicle(
            vroom.Vehicle(
                v, start=v, end=v, skills=ids(tech.skills | {f"pin:{tech.id}"}),
                time_window=vroom.TimeWindow(tech.shift_start_s, tech.shift_end_s),
            )
        )
    vroom_jobs = []
    for j, job in enumerate(jobs):
        needs = job.skills | ({f"pin:{job.pinned_to}"} if job.pinned_to else frozenset())
        windows = [vroom.TimeWindow(*job.window)] if job.window else []
        vroom_jobs.append(
            vroom.Job(
                j, location=len(techs) + j, default_service=job.service_s, skills=ids(needs),
                priority=max(0, min(100, job.priority)), time_windows=windows,
            )
        )
    problem.add_job(vroom_jobs)
    # VROOM stops searching at the timeout and returns the best plan found so far.
    timeout = dt.timedelta(seconds=timeout_s) if timeout_s else None
    solution = problem.solve(exploration_level=exploration_level, nb_threads=threads, timeout=timeout)
    routes: dict[str, list[Stop]] = {t.id: [] for t in techs}
    travel = 0
    frame = solution.routes
    for vehicle_id, group in frame.groupby("vehicle_id", sort=False):
        tech = techs[int(vehicle_id)]
        prev_loc = int(vehicle_id)
        for row in group.itertuples():
            loc = int(row.location_index)
            leg = int(matrix[prev_loc, loc])
            travel += leg
            prev_loc = loc
            if row.type != "job":
                continue
            job = jobs[int(row.id)]
            arrival = int(row.arrival)
            start = arrival + int(row.waiting_time)
            routes[tech.id].append(Stop(job.id, arrival, start, start + job.service_s, leg))
    placed = {s.job_id for stops in routes.values() for s in stops}
    unassigned = {job.id: why_unplaceable(job, techs) for job in jobs if job.id not in placed}
    plan = Plan(routes=routes, unassigned=unassigned, travel_s=travel,
                solve_ms=(time.perf_counter() - started) * 1000)
    return Plan(plan.routes, plan.unassigned, plan.travel_s, plan.solve_ms, check(plan, techs, jobs))


def check(plan: Plan, techs: Sequence[PlanTechnician], jobs: Sequence[PlanJob]) -> list[str]:
    """Every window, skill, shift or pin a plan violates (empty for a valid plan)."""
    by_tech = {t.id: t for t in techs}
    by_job = {j.id: j for j in jobs}
    problems: list[str] = []
    for tech_id, stops in plan.routes.items():
        tech = by_tech[tech_id]
        for stop in stops:
            job = by_job[stop.job_id]
            if not job.skills <= tech.skills:
                problems.append(f"{job.id}: {tech_id} lacks {sorted(job.skills - tech.skills)}")
            if job.pinned_to and job.pinned_to != tech_id:
                problems.append(f"{job.id}: committed to {job.pinned_to}, planned on {tech_id}")
            if job.window and not (job.window[0] <= stop.start_s <= job.window[1]):
                problems.append(f"{job.id}: starts at {stop.start_s}s outside window {job.window}")
            if stop.start_s < tech.shift_start_s or stop.departure_s > tech.shift_end_s + 1:
                problems.append(f"{job.id}: outside {tech_id}'s shift")
    return problems


def nearest_neighbour(techs: Sequence[PlanTechnician], jobs: Sequence[PlanJob]) -> Plan:
    """The greedy baseline a dispatcher does by hand: take the jobs in window order and give each to
    the nearest qualified technician (from where their last visit ends) who still reaches it within
    its window and gets home by the end of the shift."""
    started = time.perf_counter()
    matrix = duration_matrix(_points(techs, jobs))
    n = len(techs)
    state = [(i, t.shift_start_s) for i, t in enumerate(techs)]  # (location index, free from)
    routes: dict[str, list[Stop]] = {t.id: [] for t in techs}
    unplaced: list[int] = []
    travel = 0
    order = sorted(range(len(jobs)), key=lambda j: ((jobs[j].window or (0, 0))[0], -jobs[j].priority))
    for j in order:
        job = jobs[j]
        best = None
        for v, tech in enumerate(techs):
            if not job.skills <= tech.skills or (job.pinned_to and job.pinned_to != tech.id):
                continue
            loc, free = state[v]
            leg = int(matrix[loc, n + j])
            start = free + leg
            if job.window:
                start = max(start, job.window[0])
                if start > job.window[1]:
                    continue
            end = start + job.service_s
            if end + int(matrix[n + j, v]) > tech.shift_end_s:
                continue
            if best is None or leg < best[0]:
                best = (leg, v, free + leg, start, end)
        if best is None:
            unplaced.append(j)
            continue
        leg, v, arrival, start, end = best
        travel += leg
        routes[techs[v].id].append(Stop(job.id, arrival, start, end, leg))
        state[v] = (n + j, end)
    for v, (loc, _) in enumerate(state):  # drive back to the start
        travel += int(matrix[loc, v])
    unassigned = {jobs[j].id: why_unplaceable(jobs[j], techs) for j in unplaced}
    plan = Plan(routes, unassigned, travel, (time.perf_counter() - started) * 1000)
    return Plan(plan.routes, plan.unassigned, plan.travel_s, plan.solve_ms, check(plan, techs, jobs))
