"""The centre's KPIs over a period of company-local days, for the total and each technician (R18).

Every figure is a SQL aggregate grouped by technician (``GROUP BY``), never rows loaded into Python,
so a year of 100 000 jobs costs a handful of indexed scans. Definitions (each names its rule):

- R1 on time: visits whose window starts in the period and that arrived; on time when the arrival,
  corrected by the device clock's offset (the ARRIVED visit event's ``corrected_at``, else the job's
  claimed ``arrived_at``), is no later than the window's end. ``not_arrived`` counts windows that
  are over with nobody there (cancelled jobs excluded).
- R2 notice: windows changed or cancelled in the period (``Appointment.ended_at``) with at least 2 h
  notice (not ``short_notice``), plus late visits (arrival after the window) whose customer got a
  "running late" message at least 2 h before the window started; rate = told in time / all.
- R8 repair clocks: jobs created in the period with ``respond_by`` (met by the corrected arrival) or
  ``fix_by`` (met by completion); an unmet clock counts as breached once past, else running.
- R3 approval before work: chargeable jobs whose work started in the period, compliant when an
  approval signature of an approved quote, signing the quote's stored content hash, was taken no
  later than ``work_started_at`` (the stored hash, not one recomputed from the lines: SQL cannot
  hash; the office quote view recomputes it, and so does the service report).
- R16 open hazards: found before the period's end and still open then (unfixed, or fixed after
  it); ages at the end of the period (or now), overdue past ``rectify_by``; by the finder.
- R6 satisfaction: follow-up calls done in the period with a 1–5 score, by the visit's technician.
- R10 complaint clock (company-wide: complaints have no technician): received in the period,
  answered by ``extended_until`` when agreed, else ``answer_by``.
- R7 inspection coverage: ``server.planning.inspections.coverage`` at the period's end; with a
  technician or centre filter, over the households that technician or centre serves
  (``server.reports.coverage``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.db import utcnow
from server.errors import field_error
from server.extensions import db
from server.followups.models import FollowUpStatus, FollowUpTask
from server.jobs import calendar
from server.jobs.appointments import MIN_NOTICE
from server.jobs.models import Appointment, AppointmentStatus, Complaint, Job
from server.people.models import Technician
from server.reports.coverage import filtered_coverage
from server.visits.models import (
    Hazard,
    HazardStatus,
    Quote,
    QuoteStatus,
    Signature,
    SignaturePurpose,
    VisitEvent,
    VisitEventKind,
)
from sync.domain.jobs import JobStatus

DONE = (JobStatus.COMPLETED, JobStatus.CLOSED)
OPEN_HAZARD = (HazardStatus.OPEN, HazardStatus.RECTIFICATION_SCHEDULED)
UNASSIGNED = "（未分配 unassigned）"
TOTAL = "total"


@dataclass(frozen=True)
class Period:
    """Company-local days ``first``..``last`` as UTC [start, end), the filters and the time "now"."""

    company_id: uuid.UUID
    first: dt.date
    last: dt.date
    start: dt.datetime
    end: dt.datetime
    timezone: str
    now: dt.datetime
    technician_id: uuid.UUID | None = None
    service_centre_id: uuid.UUID | None = None

    @property
    def as_at(self) -> dt.datetime:
        """The moment "open" and "overdue" are judged at: the period's end, or now if that is earlier."""
        return min(self.end, self.now)


def period_for(company_id: uuid.UUID, args: dict[str, Any], now: dt.datetime | None = None) -> Period:
    """The period asked for: ``to`` defaults to today, ``from`` to the first of ``to``'s month."""
    now = now or utcnow()
    today = calendar.local_date(company_id, now)
    last = args.get("date_to") or today
    first = args.get("date_from") or last.replace(day=1)
    if first > last:
        raise field_error("from", "must not be after 'to' (which defaults to today)")
    start, end = calendar.local_day_bounds(company_id, first, last)
    return Period(company_id, first, last, start, end, calendar.company_zone(company_id).key, now,
                  args.get("technician_id"), args.get("service_centre_id"))


def _count_if(condition: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _seconds(later: sa.ColumnElement, earlier: sa.ColumnElement) -> sa.ColumnElement:
    """SQL: seconds from ``earlier`` to ``later`` (dialect-specific date arithmetic)."""
    if db.engine.dialect.name == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    return sa.extract("epoch", later - earlier)


def arrivals(company_id: uuid.UUID) -> sa.Subquery:
    """SQL: each job's first ARRIVED event, corrected by the device clock's offset when the server knows it.

    An aggregate subquery joined once (one pass over the events), not a correlated lookup that the
    database would repeat for every place the arrival is named.
    """
    return (
        sa.select(VisitEvent.job_id, sa.func.min(sa.func.coalesce(VisitEvent.corrected_at, VisitEvent.at)).label("at"))
        .where(VisitEvent.company_id == company_id, VisitEvent.kind == VisitEventKind.ARRIVED,
               VisitEvent.deleted.is_(False))
        .group_by(VisitEvent.job_id)
        .subquery()
    )


def _jobs(p: Period, *conditions: sa.ColumnElement) -> list[sa.ColumnElement]:
    where = [Job.company_id == p.company_id, Job.deleted.is_(False), *conditions]
    if p.technician_id is not None:
        where.append(Job.technician_id == p.technician_id)
    if p.service_centre_id is not None:
        where.append(Job.service_centre_id == p.service_centre_id)
    return where


def _grouped(stmt: sa.Select) -> dict[Any, sa.Row]:
    return {row[0]: row for row in db.session.execute(stmt)}


def _rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator,
            "rate": round(numerator / denominator, 4) if denominator else None}


def _sla(met: int, breached: int, running: int) -> dict[str, Any]:
    judged = met + breached
    return {"met": met, "breached": breached, "running": running, "rate": round(met / judged, 4) if judged else None}


# --- the queries, each grouped by technician -------------------------------------------------------


def _visit_figures(p: Period) -> dict[Any, sa.Row]:
    """R1, and the late half of R2, from the visits whose window starts in the period."""
    arrived = arrivals(p.company_id)
    inner = (
        sa.select(Job.id, Job.technician_id.label("tech"),
                  sa.func.coalesce(arrived.c.at, Job.arrived_at).label("arrived"), Job.window_start,
                  Job.window_end, Job.status)
        .outerjoin(arrived, arrived.c.job_id == Job.id)
        .where(*_jobs(p, Job.window_start >= p.start, Job.window_start < p.end))
        .subquery()
    )
    told = sa.func.coalesce(VisitEvent.corrected_at, VisitEvent.at)
    running_late = sa.select(VisitEvent.id).where(
        VisitEvent.job_id == inner.c.id, VisitEvent.kind == VisitEventKind.RUNNING_LATE, VisitEvent.deleted.is_(False))
    told_ahead = sa.exists(running_late.where(_seconds(inner.c.window_start, told) >= MIN_NOTICE.total_seconds()))
    told_before = sa.exists(running_late.where(told < inner.c.arrived))
    late = inner.c.arrived > inner.c.window_end
    stmt = sa.select(
        inner.c.tech,
        _count_if(inner.c.arrived.is_not(None)),
        _count_if(inner.c.arrived <= inner.c.window_end),
        _count_if(sa.and_(inner.c.arrived.is_(None), inner.c.window_end < p.now,
                          inner.c.status != JobStatus.CANCELLED)),
        _count_if(late),
        _count_if(sa.and_(late, told_ahead)),
        _count_if(sa.and_(late, told_before)),
    ).group_by(inner.c.tech)
    return _grouped(stmt)


def _changes(p: Period) -> dict[Any, sa.Row]:
    """R2: windows changed or cancelled in the period, and how many with 2 h notice or more."""
    stmt = (
        sa.select(Job.technician_id, sa.func.count(), _count_if(Appointment.short_notice.is_(False)))
        .join(Job, Job.id == Appointment.job_id)
        .where(Appointment.company_id == p.company_id, Appointment.deleted.is_(False),
               Appointment.status.in_((AppointmentStatus.SUPERSEDED, AppointmentStatus.CANCELLED)),
               Appointment.ended_at >= p.start, Appointment.ended_at < p.end, *_jobs(p))
        .group_by(Job.technician_id)
    )
    return _grouped(stmt)


def _repair_clocks(p: Period) -> dict[Any, sa.Row]:
    """R8: respond (by arrival) and fix (by completion) clocks of jobs created in the period."""
    events = arrivals(p.company_id)
    arrived = sa.func.coalesce(events.c.at, Job.arrived_at)
    live = Job.status != JobStatus.CANCELLED
    respond = Job.respond_by.is_not(None)
    fix = Job.fix_by.is_not(None)
    stmt = (
        sa.select(
            Job.technician_id,
            _count_if(sa.and_(respond, arrived <= Job.respond_by)),
            _count_if(sa.and_(respond, sa.or_(arrived > Job.respond_by,
                                              sa.and_(arrived.is_(None), live, Job.respond_by < p.now)))),
            _count_if(sa.and_(respond, arrived.is_(None), live, Job.respond_by >= p.now)),
            _count_if(sa.and_(fix, Job.completed_at <= Job.fix_by)),
            _count_if(sa.and_(fix, sa.or_(Job.completed_at > Job.fix_by,
                                          sa.and_(Job.completed_at.is_(None), live, Job.fix_by < p.now)))),
            _count_if(sa.and_(fix, Job.completed_at.is_(None), live, Job.fix_by >= p.now)),
        )
        .outerjoin(events, events.c.job_id == Job.id)
        .where(*_jobs(p, Job.created_at >= p.start, Job.created_at < p.end, sa.or_(respond, fix)))
        .group_by(Job.technician_id)
    )
    return _grouped(stmt)


def _approval_before_work(p: Period) -> dict[Any, sa.Row]:
    """R3: chargeable jobs whose work started in the period, and those a signature covered first."""
    covered = sa.exists(
        sa.select(Signature.id).join(Quote, Quote.id == Signature.quote_id).where(
            # Both sides by job: the indexed path (signature.quote_id has no index of its own).
            Signature.job_id == Job.id, Quote.job_id == Job.id, Quote.status == QuoteStatus.APPROVED, Quote.deleted.is_(False),
            Signature.deleted.is_(False), Signature.purpose == SignaturePurpose.QUOTE_APPROVAL,
            Signature.content_hash == Quote.content_hash, Signature.signed_at <= Job.work_started_at,
        )
    )
    stmt = (
        sa.select(Job.technician_id, sa.func.count(), _count_if(covered))
        .where(*_jobs(p, Job.chargeable.is_(True), Job.work_started_at >= p.start, Job.work_started_at < p.end))
        .group_by(Job.technician_id)
    )
    return _grouped(stmt)


def _completed(p: Period) -> dict[Any, sa.Row]:
    stmt = (
        sa.select(Job.technician_id, sa.func.count())
        .where(*_jobs(p, Job.status.in_(DONE), Job.completed_at >= p.start, Job.completed_at < p.end))
        .group_by(Job.technician_id)
    )
    return _grouped(stmt)


def _hazard_scope(p: Period) -> list[sa.ColumnElement]:
    at = p.as_at
    still_open = sa.or_(Hazard.status.in_(OPEN_HAZARD),
                        sa.and_(Hazard.status == HazardStatus.FIXED, Hazard.fixed_confirmed_at >= at))
    where = [Hazard.company_id == p.company_id, Hazard.deleted.is_(False), Hazard.found_at < at, still_open]
    if p.technician_id is not None:
        where.append(Hazard.technician_id == p.technician_id)
    if p.service_centre_id is not None:
        where.append(Hazard.job_id.in_(sa.select(Job.id).where(Job.service_centre_id == p.service_centre_id)))
    return where


def _hazards(p: Period, *, by_technician: bool) -> dict[Any, dict[str, Any]]:
    """R16: open hazards, overdue ones, and the median and oldest age in days (by finder, or in total)."""
    key = Hazard.technician_id if by_technician else sa.literal(TOTAL)
    at = p.as_at
    rows = db.session.execute(
        sa.select(key, sa.func.count(), _count_if(Hazard.rectify_by < at), sa.func.min(Hazard.found_at))
        .where(*_hazard_scope(p)).group_by(key)
    ).all()
    # The median: the middle one or two rows of each group ordered by age (window functions).
    ranked = (
        sa.select(key.label("grp"), Hazard.found_at,
                  sa.func.row_number().over(partition_by=key, order_by=(Hazard.found_at, Hazard.id)).label("rn"),
                  sa.func.count().over(partition_by=key).label("n"))
        .where(*_hazard_scope(p)).subquery()
    )
    middle = db.session.execute(
        sa.select(ranked.c.grp, ranked.c.found_at)
        .where(ranked.c.rn.in_([(ranked.c.n + 1) / 2, (ranked.c.n + 2) / 2]))
    ).all()
    ages: dict[Any, list[float]] = defaultdict(list)
    for group, found_at in middle:
        ages[group].append(_days(at, found_at))
    out = {}
    for group, count, overdue, oldest in rows:
        out[group] = {"open": count, "overdue": int(overdue),
                      "median_age_days": round(sum(ages[group]) / len(ages[group]), 2) if ages[group] else None,
                      "max_age_days": round(_days(at, oldest), 2) if oldest is not None else None}
    return out


def _days(at: dt.datetime, then: dt.datetime) -> float:
    if then.tzinfo is None:  # a raw value from a window-function subquery on SQLite
        then = then.replace(tzinfo=dt.UTC)
    return (at - then).total_seconds() / 86400


def _satisfaction(p: Period) -> dict[Any, dict[int, int]]:
    """R6: scores of follow-up calls done in the period, per technician of the visit."""
    stmt = (
        sa.select(Job.technician_id, FollowUpTask.satisfaction, sa.func.count())
        .select_from(FollowUpTask).outerjoin(Job, Job.id == FollowUpTask.job_id)
        .where(FollowUpTask.company_id == p.company_id, FollowUpTask.status == FollowUpStatus.DONE,
               FollowUpTask.satisfaction.is_not(None), FollowUpTask.done_at >= p.start, FollowUpTask.done_at < p.end)
        .group_by(Job.technician_id, FollowUpTask.satisfaction)
    )
    if p.technician_id is not None:
        stmt = stmt.where(Job.technician_id == p.technician_id)
    if p.service_centre_id is not None:
        stmt = stmt.where(Job.service_centre_id == p.service_centre_id)
    out: dict[Any, dict[int, int]] = defaultdict(dict)
    for tech, score, count in db.session.execute(stmt):
        out[tech][int(score)] = count
    return out


def _complaints(p: Period) -> dict[str, Any]:
    """R10, company-wide: complaints received in the period against their (possibly extended) deadline."""
    deadline = sa.func.coalesce(Complaint.extended_until, Complaint.answer_by)
    met, breached, running = db.session.execute(
        sa.select(
            _count_if(Complaint.answered_at <= deadline),
            _count_if(sa.or_(Complaint.answered_at > deadline,
                             sa.and_(Complaint.answered_at.is_(None), deadline < p.now))),
            _count_if(sa.and_(Complaint.answered_at.is_(None), deadline >= p.now)),
        ).where(Complaint.company_id == p.company_id, Complaint.received_at >= p.start, Complaint.received_at < p.end)
    ).one()
    return _sla(int(met), int(breached), int(running))


# --- the report ----------------------------------------------------------------------------------


def _figures(tech: Any, parts: dict[str, Any]) -> dict[str, Any]:
    visits = parts["visits"].get(tech)
    arrived, on_time, not_arrived, late, late_ahead, late_before = (int(x) for x in visits[1:]) if visits else (0,) * 6
    changes = parts["changes"].get(tech)
    changed, with_notice = (int(changes[1]), int(changes[2])) if changes else (0, 0)
    clocks = parts["clocks"].get(tech)
    c = [int(x) for x in clocks[1:]] if clocks else [0] * 6
    approval = parts["approval"].get(tech)
    done = parts["completed"].get(tech)
    scores = parts["satisfaction"].get(tech, {})
    responses = sum(scores.values())
    notice = _rate(with_notice + late_ahead, changed + late)
    notice.update(changes=changed, changes_with_notice=with_notice, late_visits=late,
                  late_visits_with_notice=late_ahead, late_visits_told_before_arrival=late_before)
    return {
        "visits_completed": int(done[1]) if done else 0,
        "on_time": {**_rate(on_time, arrived), "not_arrived": not_arrived},
        "notice": notice,
        "repair_sla": {"respond": _sla(*c[0:3]), "fix": _sla(*c[3:6])},
        "approval_before_work": _rate(int(approval[2]), int(approval[1])) if approval else _rate(0, 0),
        "open_hazards": parts["hazards"].get(tech) or {"open": 0, "overdue": 0, "median_age_days": None,
                                                       "max_age_days": None},
        "satisfaction": {
            "responses": responses,
            "mean": round(sum(k * v for k, v in scores.items()) / responses, 2) if responses else None,
            "distribution": {str(k): scores.get(k, 0) for k in range(1, 6)},
        },
    }


def _summed(parts: dict[str, Any]) -> dict[str, Any]:
    """The same parts with every technician's group folded into one ``TOTAL`` group."""
    out: dict[str, Any] = {}
    for name in ("visits", "changes", "clocks", "approval", "completed"):
        rows = list(parts[name].values())
        out[name] = {TOTAL: (TOTAL, *(sum(int(r[i]) for r in rows) for i in range(1, len(rows[0]))))} if rows else {}
    scores: dict[int, int] = defaultdict(int)
    for per_tech in parts["satisfaction"].values():
        for score, count in per_tech.items():
            scores[score] += count
    out["satisfaction"] = {TOTAL: dict(scores)}
    return out


def kpi_report(company_id: uuid.UUID, p: Period) -> dict[str, Any]:
    """Every KPI of the period: the total, one entry per technician, and the company-wide ones."""
    parts: dict[str, Any] = {
        "visits": _visit_figures(p), "changes": _changes(p), "clocks": _repair_clocks(p),
        "approval": _approval_before_work(p), "completed": _completed(p), "satisfaction": _satisfaction(p),
        "hazards": _hazards(p, by_technician=True),
    }
    techs = set().union(*(parts[k].keys() for k in parts))
    if p.technician_id is not None:
        techs = {p.technician_id}
    people = {t.id: t for t in db.session.execute(
        sa.select(Technician).where(Technician.company_id == company_id, Technician.id.in_(techs - {None}))
    ).scalars()} if techs - {None} else {}
    technicians = []
    for tech in techs:
        person = people.get(tech)
        technicians.append({
            "technician_id": tech, "technician_name": person.name if person else UNASSIGNED,
            "staff_no": person.staff_no if person else "", **_figures(tech, parts),
        })
    technicians.sort(key=lambda t: (t["technician_id"] is None, t["technician_name"], t["staff_no"]))
    totals = {**_summed(parts), "hazards": _hazards(p, by_technician=False)}
    return {
        "date_from": p.first, "date_to": p.last, "timezone": p.timezone, "technician_id": p.technician_id,
        "service_centre_id": p.service_centre_id, "total": _figures(TOTAL, totals), "technicians": technicians,
        "complaint_sla": _complaints(p),
        "inspection_coverage": filtered_coverage(company_id, now=p.as_at - dt.timedelta(seconds=1),
                                                 technician_id=p.technician_id, service_centre_id=p.service_centre_id),
    }
