"""Route optimisation for a company's day: build the problem from the database, preview, commit.

The dispatcher previews a plan (nothing is written), adjusts it, then commits it: every assignment
goes through ``server.jobs.assignment`` (certification gate R14, conflict of interest R10, state
machine), so a plan can never do what the dispatcher could not do by hand.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.customers.models import Customer, Premises
from server.db import utcnow
from server.errors import field_error
from server.extensions import db
from server.jobs import assignment, calendar
from server.jobs.models import Job, Priority
from server.jobs.service import owned
from server.people.models import Technician
from server.people.service import valid_kinds
from server.planning.vrp import Plan, PlanJob, PlanTechnician, Stop, solve, travel_seconds
from sync.domain.jobs import JobStatus

PLANNABLE = (JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.DISPATCHED)
# A dispatched job is on a tablet already: a re-plan keeps it with its technician.
COMMITTED = (JobStatus.DISPATCHED,)
NOTICE = dt.timedelta(hours=2)  # R2


@dataclass(frozen=True)
class DayProblem:
    """The routing problem of one local day, with the rows it came from."""

    day: dt.date
    zone: ZoneInfo
    midnight: dt.datetime
    technicians: list[Technician]
    jobs: list[Job]
    plan_techs: list[PlanTechnician]
    plan_jobs: list[PlanJob]


def _seconds(midnight: dt.datetime, when: dt.datetime) -> int:
    return int((when - midnight).total_seconds())


def priority_of(job: Job, customer: Customer, now: dt.datetime) -> int:
    """VROOM priority 0–100: urgency first (R8), then special care (R11), then SLA pressure."""
    score = {Priority.EMERGENCY: 80, Priority.URGENT: 50, Priority.NORMAL: 20, Priority.LOW: 0}.get(
        Priority(job.priority), 20
    )
    if customer.special_care:
        score += 15
    deadline = job.fix_by or job.respond_by
    if deadline is not None and deadline - now < dt.timedelta(hours=24):
        score += 5
    return min(score, 100)


def build_problem(
    company_id: uuid.UUID,
    day: dt.date,
    *,
    technician_ids: Sequence[uuid.UUID] | None = None,
    keep_committed: bool = True,
    now: dt.datetime | None = None,
) -> DayProblem:
    """The day's technicians (shift, start point, skills + certifications valid that day) and its
    open jobs with a window on that day (plus the job's skills and certifications as needs)."""
    now = now or utcnow()
    zone = calendar.company_zone(company_id)
    midnight = dt.datetime.combine(day, dt.time(0), zone)
    start, end = calendar.local_day_bounds(company_id, day, day)
    tq = sa.select(Technician).where(
        Technician.company_id == company_id, Technician.active.is_(True), Technician.deleted.is_(False)
    )
    if technician_ids:
        tq = tq.where(Technician.id.in_(list(technician_ids)))
    techs = list(db.session.execute(tq.order_by(Technician.staff_no)).scalars())
    rows = db.session.execute(
        sa.select(Job, Premises, Customer)
        .join(Premises, Premises.id == Job.premises_id)
        .join(Customer, Customer.id == Job.customer_id)
        .where(
            Job.company_id == company_id, Job.deleted.is_(False), Job.status.in_(PLANNABLE),
            Job.window_start >= start, Job.window_start < end,
        )
        .order_by(Job.window_start, Job.ref)
    ).all()
    tech_ids = {t.id for t in techs}
    plan_techs = []
    for tech in techs:
        lat, lon = tech.start_lat, tech.start_lon
        if lat is None or lon is None:
            continue  # a technician without a start point cannot be routed; the UI says so
        shift = (_seconds(midnight, dt.datetime.combine(day, tech.shift_start, zone)),
                 _seconds(midnight, dt.datetime.combine(day, tech.shift_end, zone)))
        skills = frozenset(tech.skills or []) | frozenset(valid_kinds(tech.certifications, day))
        plan_techs.append(PlanTechnician(str(tech.id), lat, lon, shift[0], shift[1], skills))
    jobs, plan_jobs = [], []
    for job, premises, customer in rows:
        if job.technician_id is not None and job.technician_id not in tech_ids:
            continue  # assigned to someone outside this plan: leave it alone
        pinned = str(job.technician_id) if keep_committed and job.status in COMMITTED and job.technician_id else None
        window = (_seconds(midnight, job.window_start), _seconds(midnight, job.window_end or job.window_start))
        needs = frozenset(job.required_skills or []) | frozenset(job.required_certifications or [])
        jobs.append(job)
        plan_jobs.append(
            PlanJob(str(job.id), premises.lat, premises.lon, job.duration_minutes * 60, window, needs,
                    priority_of(job, customer, now), pinned)
        )
    return DayProblem(day, zone, midnight, techs, jobs, plan_techs, plan_jobs)


def optimise(company_id: uuid.UUID, day: dt.date, **kwargs) -> tuple[DayProblem, Plan]:
    """Solve the day's routing problem; writes nothing."""
    problem = build_problem(company_id, day, **kwargs)
    return problem, solve(problem.plan_techs, problem.plan_jobs)


def _at(problem: DayProblem, seconds: int) -> dt.datetime:
    return (problem.midnight + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)


def describe(problem: DayProblem, plan: Plan, now: dt.datetime | None = None) -> dict:
    """The plan as the API and console show it: routes with ETAs and the unplaced jobs with reasons."""
    now = now or utcnow()
    jobs = {str(j.id): j for j in problem.jobs}
    techs = {str(t.id): t for t in problem.technicians}
    routes = []
    for tech_id, stops in plan.routes.items():
        routes.append({
            "technician_id": tech_id,
            "technician_name": techs[tech_id].name,
            "stops": [_stop(problem, jobs[s.job_id], s, now) for s in stops],
            "travel_minutes": round(sum(s.travel_s for s in stops) / 60),
        })
    return {
        "day": problem.day,
        "routes": routes,
        "unassigned": [
            {"job_id": job_id, "ref": jobs[job_id].ref, "reason": reason} for job_id, reason in plan.unassigned.items()
        ],
        "travel_minutes": round(plan.travel_s / 60),
        "solve_ms": round(plan.solve_ms, 1),
    }


def _stop(problem: DayProblem, job: Job, stop: Stop, now: dt.datetime) -> dict:
    eta = _at(problem, stop.arrival_s)
    start = _at(problem, stop.start_s)
    late = job.window_end is not None and start > job.window_end
    return {
        "job_id": str(job.id), "ref": job.ref, "eta": eta, "start": start,
        "window_start": job.window_start, "window_end": job.window_end, "late": late,
        # R2: a late arrival must be announced at least 2 h before the window.
        "notify_by": (job.window_start - NOTICE) if late and job.window_start else None,
        "notice_still_possible": bool(late and job.window_start and now <= job.window_start - NOTICE),
    }


def commit(company_id: uuid.UUID, day: dt.date, routes: Sequence[dict]) -> list[Job]:
    """Apply a (possibly adjusted) plan: ``routes`` = [{"technician_id", "job_ids": [...], "etas": [...]}].

    Every assignment goes through the assignment service; any refusal aborts the whole commit
    (the caller's transaction is rolled back), so a plan lands whole or not at all.
    """
    changed: list[Job] = []
    seen: set[uuid.UUID] = set()
    for route in routes:
        tech_id = route["technician_id"]
        job_ids = list(route["job_ids"])
        etas = list(route.get("etas") or [None] * len(job_ids))
        if len(etas) != len(job_ids):
            raise field_error("routes", "each route needs one ETA per job (or none)")
        for job_id, eta in zip(job_ids, etas, strict=True):
            if job_id in seen:
                raise field_error("routes", f"job {job_id} appears in two routes")
            seen.add(job_id)
            job = owned(Job, company_id, job_id, "job")
            if job.technician_id != tech_id:
                assignment.assign(job, tech_id)
            job.planned_eta = eta
            changed.append(job)
        if job_ids:
            assignment.reorder_route(company_id, tech_id, day, job_ids)
    db.session.flush()
    return changed


def current_etas(company_id: uuid.UUID, day: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """ETAs of the routes as they stand (route order, travel, service times) with late warnings:
    every visit whose ETA breaks its window, and whether the 2-hour notice (R2) can still be given."""
    now = now or utcnow()
    problem = build_problem(company_id, day, keep_committed=True, now=now)
    by_tech: dict[str, list[tuple[Job, PlanJob]]] = {}
    for job, pj in zip(problem.jobs, problem.plan_jobs, strict=True):
        if job.technician_id is not None:
            by_tech.setdefault(str(job.technician_id), []).append((job, pj))
    out = []
    for tech in problem.plan_techs:
        items = sorted(by_tech.get(tech.id, []), key=lambda x: (x[0].route_order is None, x[0].route_order or 0,
                                                                 x[0].window_start))
        where, clock = (tech.lat, tech.lon), tech.shift_start_s
        for job, pj in items:
            leg = travel_seconds(where, (pj.lat, pj.lon))
            arrival = clock + leg
            start = max(arrival, pj.window[0]) if pj.window else arrival
            clock = start + pj.service_s
            where = (pj.lat, pj.lon)
            out.append(_stop(problem, job, Stop(str(job.id), arrival, start, clock, leg), now)
                       | {"technician_id": tech.id})
    return out
