"""Today's and tomorrow's work: routes of 6–8 visits per technician, special jobs, unassigned jobs.

Windows are 2-hour windows between 09:00 and 17:00 local time, inside the 08:30–17:30 shift. Each
technician's day is ordered by window, then by nearest next stop from the service centre.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field

from server.customers.models import CustomerCategory, Meter
from server.demo.context import Demo, Household
from server.demo.households import inspection_description
from server.jobs.models import Appointment, AppointmentStatus, Job, JobSource, JobType, Priority
from server.people.models import Technician
from server.people.service import qualified
from sync.domain.jobs import JobStatus

TRAVEL_MINUTES = 15  # between neighbouring stops in the city centre
FIRST_WINDOW, LAST_WINDOW = 9, 15  # start hours of the 2-hour windows agreed with customers
RESERVE_SHARE = 0.2  # of the overdue households left unplanned for the inspection planner


@dataclass
class Visit:
    """A job being planned (not yet a row): who, where, what, and whether it goes first."""

    household: Household
    job_type: JobType
    description: str
    source: JobSource = JobSource.INSPECTION_PLAN
    priority: int = int(Priority.NORMAL)
    certifications: list[str] = field(default_factory=lambda: ["gas_safety"])
    skills: list[str] = field(default_factory=lambda: ["inspection"])
    duration: int = 40
    chargeable: bool = False
    first: bool = False  # urgent: the first window of the day
    extra: dict = field(default_factory=dict)  # other Job columns (fault kind, clocks, links)
    created_at: dt.datetime | None = None
    job: Job | None = None


class Planner:
    """Hands out households to visits without giving one household two open jobs while others are free."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.busy: set[uuid.UUID] = set()
        self.days: dict[tuple[uuid.UUID, dt.date], list[Visit]] = {}
        self.unassigned: list[tuple[dt.date, int | None, Visit]] = []
        self.rectifications: list[tuple[object, Visit]] = []  # (hazard, its rectification visit)
        overdue = [h for h in demo.households if h.inspection_due and h.inspection_due < demo.today]
        overdue.sort(key=lambda h: (h.inspection_due, h.customer.account_no))
        # Every fifth overdue household stays unplanned so the inspection planner has work to find.
        self.reserved = {h.customer.id for h in overdue[:: int(1 / RESERVE_SHARE)]}

    def take(self, centre: int, want=lambda h: True, near: tuple[float, float] | None = None) -> Household:
        """A free household of the centre that ``want``s, the most overdue (or nearest) first."""
        demo = self.demo
        tiers = (
            lambda h: h.centre == centre and want(h) and h.customer.id not in self.busy | self.reserved,
            lambda h: h.centre == centre and h.customer.id not in self.busy | self.reserved,
            lambda h: h.customer.id not in self.busy,
            lambda h: True,  # a tiny demo: reuse households rather than leave a technician idle
        )
        for tier in tiers:
            pool = [h for h in demo.households if tier(h)]
            if pool:
                break
        if near is not None:
            choice = min(pool, key=lambda h: (_due_rank(demo, h), _km(near, h)))
        else:
            choice = min(pool, key=lambda h: (h.inspection_due or demo.today, h.customer.account_no))
        self.busy.add(choice.customer.id)
        return choice

    def technician(self, day: dt.date, centre: int, skill: str, certifications: list[str]) -> Technician:
        """The least-loaded technician of the centre with the skill and valid certifications on ``day`` (R14)."""
        demo = self.demo
        able = [t for t in demo.technicians
                if t.service_centre_id == demo.centres[centre].id and skill in t.skills
                and not qualified(t, certifications, day)]
        able = able or [t for t in demo.technicians if skill in t.skills and not qualified(t, certifications, day)]
        return min(able, key=lambda t: (len(self.days.get((t.id, day), [])), t.staff_no))

    def assign(self, tech: Technician, day: dt.date, visit: Visit) -> None:
        """Put a visit on a technician's day."""
        self.days.setdefault((tech.id, day), []).append(visit)


def _km(point: tuple[float, float], h: Household) -> float:
    lat, lon = point
    dy = (h.premises.lat - lat) * 111.0
    dx = (h.premises.lon - lon) * 111.0 * math.cos(math.radians(lat))
    return math.hypot(dx, dy)


def _due_rank(demo: Demo, h: Household) -> int:
    """0 overdue, 1 due within 35 days, 2 not yet due: route the most pressing first."""
    if h.inspection_due is None or h.inspection_due <= demo.today:
        return 0
    return 1 if h.inspection_due <= demo.today + dt.timedelta(days=35) else 2


def inspection(h: Household) -> Visit:
    """A periodic safety inspection (R7); special-care households get a note and priority (R11)."""
    residential = h.customer.category == CustomerCategory.RESIDENTIAL
    return Visit(
        h, JobType.SAFETY_INSPECTION, inspection_description(h), duration=40 if residential else 60,
        priority=int(Priority.URGENT if h.customer.special_care else Priority.NORMAL),
    )


def meter_visit(h: Household, meter: Meter) -> Visit:
    """Replace a meter whose mandatory verification is overdue (R15)."""
    return Visit(
        h, JobType.METER_WORK, f"燃气表（表号 {meter.serial}）强制检定已于{meter.calibration_due_on:%Y-%m-%d}到期，"
        "更换表具并记录新旧表读数", source=JobSource.METER_DUE, certifications=["meter_work"], skills=["meter"],
        duration=50, extra={"meter_id": meter.id},
    )


def overdue_meter(demo: Demo, h: Household) -> Meter | None:
    """The household's first meter past its verification date, if any."""
    return next((m for m in h.meters if m.calibration_due_on < demo.today), None)


def fill_days(demo: Demo, planner: Planner, per_day: int) -> None:
    """Meter work for overdue meters, then inspections, until every technician has their day."""
    rng = demo.rng
    for day in (demo.today, demo.today + dt.timedelta(days=1)):
        for tech in demo.technicians:
            centre = next(i for i, c in enumerate(demo.centres) if c.id == tech.service_centre_id)
            visits = planner.days.setdefault((tech.id, day), [])
            target = max(1, min(per_day, rng.randint(6, 8)))
            if "meter" in tech.skills and not qualified(tech, ["meter_work"], day) and len(visits) < target:
                free = {h.customer.id for h in demo.households if h.centre == centre and overdue_meter(demo, h)
                        and h.customer.id not in planner.busy | planner.reserved}
                if free:
                    h = planner.take(centre, lambda x, free=free: x.customer.id in free)
                    visits.append(meter_visit(h, overdue_meter(demo, h)))
            here = (tech.start_lat, tech.start_lon)
            while len(visits) < target:
                h = planner.take(centre, lambda x: _due_rank(demo, x) < 2, near=here)
                visits.append(inspection(h))
                here = (h.premises.lat, h.premises.lon)


def window_start(demo: Demo, eta: dt.datetime) -> int:
    """The start hour of a 2-hour window (09:00–17:00 local) that contains the planned arrival."""
    local = eta.astimezone(demo.tz)
    hour = local.hour - (1 if demo.rng.random() < 0.4 and local.minute < 50 else 0)
    return max(FIRST_WINDOW, min(LAST_WINDOW, hour))


def route(demo: Demo, tech: Technician, visits: list[Visit]) -> list[Visit]:
    """Urgent visits first, then nearest next stop from the technician's start."""
    ordered = [v for v in visits if v.first]
    rest = [v for v in visits if not v.first]
    here = (tech.start_lat, tech.start_lon)
    while rest:
        nxt = min(rest, key=lambda v: _km(here, v.household))
        rest.remove(nxt)
        ordered.append(nxt)
        here = (nxt.household.premises.lat, nxt.household.premises.lon)
    return ordered


def make_job(demo: Demo, visit: Visit, day: dt.date, tech: Technician | None, start_hour: int | None,
             order: int | None, eta: dt.datetime | None) -> tuple[Job, Appointment | None]:
    """The job row (and its agreed appointment when a window was agreed)."""
    h, rng = visit.household, demo.rng
    created = visit.created_at or demo.at(day - dt.timedelta(days=rng.randint(5, 14)), rng.randint(9, 16))
    start = demo.at(day, start_hour) if start_hour is not None else None
    if tech is None:
        status = JobStatus.NEW
    else:
        status = JobStatus.DISPATCHED if day == demo.today else JobStatus.SCHEDULED
    job = Job(
        id=uuid.uuid4(), company_id=demo.cid(), ref=demo.ref(created.astimezone(demo.tz).date()),
        job_type=visit.job_type, source=visit.source, priority=visit.priority, status=status,
        customer_id=h.customer.id, premises_id=h.premises.id, service_centre_id=demo.centres[h.centre].id,
        description=visit.description, required_certifications=list(visit.certifications),
        required_skills=list(visit.skills), duration_minutes=visit.duration, chargeable=visit.chargeable,
        technician_id=tech.id if tech else None, window_start=start,
        window_end=start + dt.timedelta(hours=2) if start else None, route_order=order, planned_eta=eta,
        created_at=created, **visit.extra,
    )
    visit.job = job
    if start is None:
        return job, None
    agreed = created + dt.timedelta(hours=rng.randint(1, 30))
    agreed = min(agreed, demo.now, start - dt.timedelta(hours=3))
    agreed = max(agreed, created + dt.timedelta(minutes=5))  # a repair reported this morning: agreed on the call
    appointment = Appointment(
        company_id=demo.cid(), job_id=job.id, window_start=start, window_end=job.window_end,
        status=AppointmentStatus.ACTIVE, agreed_with=h.customer.name, agreed_at=agreed, created_at=agreed,
    )
    return job, appointment


def _timetable(demo: Demo, tech: Technician, day: dt.date,
               visits: list[Visit]) -> list[tuple[Visit, dt.datetime]] | None:
    """Planned arrivals along the route, or None when the visits do not fit the shift and windows."""
    cursor = demo.at(day, tech.shift_start.hour, tech.shift_start.minute)
    first, last = demo.at(day, FIRST_WINDOW), demo.at(day, LAST_WINDOW + 2)
    shift_end = demo.at(day, tech.shift_end.hour, tech.shift_end.minute)
    timed = []
    for visit in route(demo, tech, visits):
        eta = max(cursor + dt.timedelta(minutes=TRAVEL_MINUTES), first)
        cursor = eta + dt.timedelta(minutes=visit.duration)
        if eta > last - dt.timedelta(minutes=30) or cursor > shift_end:
            return None
        timed.append((visit, eta))
    return timed


def materialise(demo: Demo, planner: Planner) -> list[Job]:
    """Turn every planned day and the unassigned visits into job and appointment rows; returns the jobs."""
    jobs, appointments = [], []
    by_id = {t.id: t for t in demo.technicians}
    for (tech_id, day), visits in sorted(planner.days.items(), key=lambda kv: (kv[0][1], by_id[kv[0][0]].staff_no)):
        tech = by_id[tech_id]
        timed = _timetable(demo, tech, day, visits)
        while timed is None:  # too much for one shift: drop the inspection furthest down the list
            dropped = next(v for v in reversed(visits) if v.job_type == JobType.SAFETY_INSPECTION)
            visits.remove(dropped)
            planner.busy.discard(dropped.household.customer.id)
            timed = _timetable(demo, tech, day, visits)
        for order, (visit, eta) in enumerate(timed, start=1):
            job, appointment = make_job(demo, visit, day, tech, window_start(demo, eta), order, eta)
            jobs.append(job)
            appointments.append(appointment)
    for day, hour, visit in planner.unassigned:
        job, appointment = make_job(demo, visit, day, None, hour, None, None)
        jobs.append(job)
        if appointment is not None:
            appointments.append(appointment)
    demo.flush(jobs)
    demo.flush(appointments)
    return jobs
