"""What the day board and the route map show: read-only queries and layout, scoped to one company.

Reads only: every change goes through the jobs service (see ``server.console.actions``).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from server.extensions import db
from server.jobs.models import Job
from server.org.models import ServiceCentre
from server.people.models import Technician
from sync.domain.jobs import JobStatus

# Jobs that no longer need a place on the board.
HIDDEN = (JobStatus.CANCELLED,)
# Open jobs waiting for a technician.
WAITING = (JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.COULD_NOT_COMPLETE)
DEFAULT_HOURS = (7, 20)
UNASSIGNED_LIMIT = 60


def day_bounds(zone: ZoneInfo, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC start and end of the company's local ``day``."""
    start = dt.datetime.combine(day, dt.time(0), zone)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


@dataclass
class Block:
    """A job drawn on a technician's row: horizontal place in percent, and its lane."""

    job: Job
    left: float
    width: float
    lane: int = 0


@dataclass
class Row:
    """One technician's day."""

    technician: Technician
    jobs: list[Job]
    blocks: list[Block] = field(default_factory=list)
    lanes: int = 1


@dataclass
class Board:
    """Everything the day board draws."""

    day: dt.date
    hours: list[int]
    rows: list[Row]
    unassigned: list[Job]


def _jobs_stmt(company_id: uuid.UUID) -> sa.Select:
    return (
        sa.select(Job)
        .where(Job.company_id == company_id, Job.deleted.is_(False), Job.status.not_in(HIDDEN))
        .options(selectinload(Job.customer), selectinload(Job.premises))
    )


def route_key(job: Job) -> tuple:
    """A technician's day in route order: the dispatcher's order first, then the window."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return (job.route_order if job.route_order is not None else 10**6, job.window_start or far, job.ref)


def technicians(company_id: uuid.UUID) -> list[Technician]:
    """The company's active technicians, by name."""
    return list(
        db.session.execute(
            sa.select(Technician)
            .where(Technician.company_id == company_id, Technician.active.is_(True), Technician.deleted.is_(False))
            .options(selectinload(Technician.certifications))
            .order_by(Technician.name, Technician.staff_no)
        ).scalars()
    )


def day_jobs(company_id: uuid.UUID, zone: ZoneInfo, day: dt.date) -> list[Job]:
    """Assigned jobs whose window starts on the local ``day``."""
    start, end = day_bounds(zone, day)
    stmt = _jobs_stmt(company_id).where(
        Job.technician_id.is_not(None), Job.window_start >= start, Job.window_start < end
    )
    return list(db.session.execute(stmt).scalars())


def unassigned_jobs(company_id: uuid.UUID, zone: ZoneInfo, day: dt.date) -> list[Job]:
    """Jobs waiting for a technician: windowed on ``day`` or not windowed yet; most urgent first."""
    start, end = day_bounds(zone, day)
    stmt = (
        _jobs_stmt(company_id)
        .where(
            Job.technician_id.is_(None),
            Job.status.in_(WAITING),
            sa.or_(Job.window_start.is_(None), sa.and_(Job.window_start >= start, Job.window_start < end)),
        )
        .order_by(Job.priority, Job.window_start.is_(None), Job.window_start, Job.created_at)
        .limit(UNASSIGNED_LIMIT)
    )
    return list(db.session.execute(stmt).scalars())


def _layout(row: Row, zone: ZoneInfo, day: dt.date, first_hour: int, last_hour: int) -> None:
    """Place each windowed job by its window; overlapping windows go to separate lanes."""
    span = (last_hour - first_hour) * 60
    origin = dt.datetime.combine(day, dt.time(0), zone)
    lane_ends: list[float] = []
    for job in sorted((j for j in row.jobs if j.window_start), key=lambda j: (j.window_start, j.ref)):
        begin = (job.window_start.astimezone(zone) - origin).total_seconds() / 60 - first_hour * 60
        end_at = job.window_end or job.window_start + dt.timedelta(minutes=job.duration_minutes or 45)
        finish = (end_at.astimezone(zone) - origin).total_seconds() / 60 - first_hour * 60
        left = max(0.0, min(begin, span)) / span * 100
        right = max(0.0, min(finish, span)) / span * 100
        lane = next((i for i, e in enumerate(lane_ends) if e <= left + 0.01), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(right)
        else:
            lane_ends[lane] = right
        row.blocks.append(Block(job=job, left=left, width=max(right - left, 1.5), lane=lane))
    row.lanes = max(1, len(lane_ends))


def build_board(company_id: uuid.UUID, zone: ZoneInfo, day: dt.date) -> Board:
    """Technicians × hours of the local day, their jobs placed by window, and the unassigned jobs."""
    techs = technicians(company_id)
    jobs = day_jobs(company_id, zone, day)
    first, last = DEFAULT_HOURS
    for job in jobs:
        first = min(first, job.window_start.astimezone(zone).hour)
        if job.window_end:
            end_local = job.window_end.astimezone(zone)
            if end_local.date() > day:
                last = 24
            else:
                last = max(last, end_local.hour + (1 if end_local.minute else 0))
    by_tech: dict[uuid.UUID, list[Job]] = {}
    for job in jobs:
        by_tech.setdefault(job.technician_id, []).append(job)
    rows = []
    for tech in techs:
        row = Row(technician=tech, jobs=sorted(by_tech.get(tech.id, []), key=route_key))
        _layout(row, zone, day, first, last)
        rows.append(row)
    return Board(day=day, hours=list(range(first, last)), rows=rows, unassigned=unassigned_jobs(company_id, zone, day))


def special_care_ids(jobs: list[Job]) -> set[uuid.UUID]:
    """Ids of the jobs whose customer is on the special-care register (R11)."""
    return {j.id for j in jobs if j.customer is not None and j.customer.special_care}


# --- Route map -------------------------------------------------------------------------------


@dataclass
class Stop:
    """A numbered stop of a route, placed in the SVG."""

    number: int
    job: Job
    x: float
    y: float


@dataclass
class RouteMap:
    """One technician's day drawn as an inline SVG."""

    technician: Technician
    start: tuple[float, float] | None
    stops: list[Stop]
    path: str
    width: int
    height: int


def _centre_start(company_id: uuid.UUID, tech: Technician) -> tuple[float, float] | None:
    if tech.start_lat is not None and tech.start_lon is not None:
        return tech.start_lat, tech.start_lon
    if tech.service_centre_id:
        centre = db.session.get(ServiceCentre, tech.service_centre_id)
        if centre is not None and centre.company_id == company_id and centre.lat is not None:
            return centre.lat, centre.lon
    return None


def route_map(company_id: uuid.UUID, tech: Technician, jobs: list[Job], width: int = 420, height: int = 300,
              pad: int = 28) -> RouteMap:
    """Project the start and the stops (route order) onto a ``width`` × ``height`` box.

    An equirectangular projection scaled by cos(latitude): right for a city-sized area, and it
    needs no tiles. One scale for both axes keeps distances honest.
    """
    ordered = [j for j in sorted(jobs, key=route_key) if j.premises is not None]
    start = _centre_start(company_id, tech)
    points = [(j.premises.lat, j.premises.lon) for j in ordered] + ([start] if start else [])
    if not points:
        return RouteMap(tech, None, [], "", width, height)
    mean_lat = sum(p[0] for p in points) / len(points)
    kx = math.cos(math.radians(mean_lat))
    xs = [p[1] * kx for p in points]
    ys = [p[0] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min((width - 2 * pad), (height - 2 * pad)) / span
    off_x = (width - (max(xs) - min(xs)) * scale) / 2
    off_y = (height - (max(ys) - min(ys)) * scale) / 2

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (round(off_x + (lon * kx - min(xs)) * scale, 1), round(height - off_y - (lat - min(ys)) * scale, 1))

    stops = [Stop(i + 1, j, *project(j.premises.lat, j.premises.lon)) for i, j in enumerate(ordered)]
    start_xy = project(*start) if start else None
    chain = ([start_xy] if start_xy else []) + [(s.x, s.y) for s in stops]
    path = " ".join(("M" if i == 0 else "L") + f"{x},{y}" for i, (x, y) in enumerate(chain)) if len(chain) > 1 else ""
    return RouteMap(tech, start_xy, stops, path, width, height)

