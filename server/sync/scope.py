"""What a technician's tablet may hold (G7, R5, R19), as SQL predicates per collection.

The scope is the technician's jobs from yesterday to ``Company.sync_days_ahead`` days ahead (in the
company's local time) and what a visit needs of them. sync-core's registry names the key set each
collection hangs off (``ScopeRule``); the server narrows a few: only *open* hazards of the premises
(plus those found on these jobs), only *active* checklist templates of the jobs' types (plus the
versions these jobs' answers used), outage notices only for the districts of the jobs' premises and
only until they end. Every predicate is index-backed: jobs by (technician_id, window_start), the
rest by their foreign key, all under ``company_id``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.checklists.models import ChecklistAnswer
from server.customers.models import Premises
from server.jobs.models import Job
from server.org.models import Company
from server.sync.schemas import MODELS
from server.visits.models import HazardStatus
from sync.collections import REGISTRY, Keyset


@dataclass(frozen=True)
class Scope:
    """One technician's scope at one moment: company, technician and the window of job start times."""

    company_id: uuid.UUID
    technician_id: uuid.UUID
    first_day: dt.date  # yesterday, in the company's time zone
    lo: dt.datetime  # UTC start of ``first_day``
    hi: dt.datetime  # UTC end of the last day ahead
    now: dt.datetime


def scope_for(company: Company, technician_id: uuid.UUID, now: dt.datetime) -> Scope:
    """The scope of a technician of ``company`` at ``now`` (local days from the company's time zone)."""
    tz = ZoneInfo(company.timezone)
    today = now.astimezone(tz).date()
    first = today - dt.timedelta(days=1)
    last = today + dt.timedelta(days=max(company.sync_days_ahead, 0))

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)

    return Scope(company.id, technician_id, first, midnight(first), midnight(last + dt.timedelta(days=1)), now)


def in_window(scope: Scope, technician_id: uuid.UUID | None, window_start: dt.datetime | None) -> bool:
    """Whether a job with this assignee and window start belongs to the scope (Python twin of the SQL)."""
    return technician_id == scope.technician_id and window_start is not None and scope.lo <= window_start < scope.hi


# A scope's values as bind parameters: ``predicate(ANY_SCOPE, …)`` builds a statement once for every
# technician and day (cached by the callers on the pull's hot path), executed with ``params(scope)``.
# Building the key-set subqueries anew for each page cost more CPU than running them.
ANY_SCOPE = None
COMPANY_PARAM = sa.bindparam("scope_company", type_=sa.Uuid())
_TECHNICIAN = sa.bindparam("scope_technician", type_=sa.Uuid())
_LO = sa.bindparam("scope_lo", type_=Job.__table__.c.window_start.type)
_HI = sa.bindparam("scope_hi", type_=Job.__table__.c.window_start.type)


def params(scope: Scope) -> dict[str, object]:
    """The values of a statement built for ``ANY_SCOPE``."""
    return {"scope_company": scope.company_id, "scope_technician": scope.technician_id, "scope_lo": scope.lo,
            "scope_hi": scope.hi}


def _values(scope: Scope | None) -> tuple[sa.ColumnElement, ...]:
    """The company, technician and window bounds: the scope's values, or the bind parameters."""
    if scope is None:
        return COMPANY_PARAM, _TECHNICIAN, _LO, _HI
    return (sa.literal(scope.company_id, sa.Uuid()), sa.literal(scope.technician_id, sa.Uuid()),
            sa.literal(scope.lo, _LO.type), sa.literal(scope.hi, _HI.type))


def _job_filter(scope: Scope | None) -> list[sa.ColumnElement[bool]]:
    j = Job.__table__.c
    company, technician, lo, hi = _values(scope)
    return [j.company_id == company, j.technician_id == technician, j.window_start >= lo, j.window_start < hi]


def keyset(scope: Scope | None, which: Keyset) -> sa.Select | None:
    """A SELECT of the ids making up one key set (None for COMPANY: every row of the company)."""
    j = Job.__table__.c
    live = [*_job_filter(scope), j.deleted.is_(False)]
    if which is Keyset.JOB:
        return sa.select(j.id).where(*live)
    if which is Keyset.CUSTOMER:
        return sa.select(j.customer_id).where(*live)
    if which is Keyset.PREMISES:
        return sa.select(j.premises_id).where(*live)
    if which is Keyset.SELF:
        return sa.select(_values(scope)[1])
    return None


def member(scope: Scope | None, which: Keyset, column: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Whether ``column`` is in a key set, tested row by row (EXISTS through the job's own indexes):
    for checking a few given rows, where materialising the whole key set would cost O(scope)."""
    j = Job.__table__.c
    live = [*_job_filter(scope), j.deleted.is_(False)]
    if which is Keyset.SELF:
        return column == _values(scope)[1]
    target = {Keyset.JOB: j.id, Keyset.CUSTOMER: j.customer_id, Keyset.PREMISES: j.premises_id}[which]
    return sa.exists().where(target == column, *live)


def predicate(scope: Scope | None, collection: str, *, correlated: bool = False) -> sa.ColumnElement[bool]:
    """The WHERE clause selecting the rows of ``collection`` in the scope (tombstones included).

    ``correlated`` tests each row against the key sets (for a handful of given rows); otherwise the
    key sets are subqueries (for scanning the whole scope). ``ANY_SCOPE``: with bind parameters
    (execute with ``params(scope)``)."""
    table = MODELS[collection].__table__
    c = table.c
    scope_company, _technician, scope_lo, _hi = _values(scope)
    company = c.company_id == scope_company

    def in_(which: Keyset, column: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return member(scope, which, column) if correlated else column.in_(keyset(scope, which))

    if collection == "job":
        # The job rows themselves: a deleted one still goes out once, as a tombstone.
        return sa.and_(*_job_filter(scope))
    if collection == "hazard":
        open_ = c.status != HazardStatus.FIXED
        return sa.or_(sa.and_(in_(Keyset.PREMISES, c.premises_id), open_), in_(Keyset.JOB, c.job_id))
    if collection == "checklist_template":
        j = Job.__table__.c
        types = sa.select(j.job_type).where(*_job_filter(scope), j.deleted.is_(False))
        a = ChecklistAnswer.__table__.c
        used = sa.select(a.template_id).where(a.company_id == scope_company,
                                              a.job_id.in_(keyset(scope, Keyset.JOB)))
        return sa.and_(company, sa.or_(sa.and_(c.active.is_(True), c.job_type.in_(types)), c.id.in_(used)))
    if collection == "outage_notice":
        p = Premises.__table__.c
        districts = sa.select(p.district).where(p.company_id == scope_company,
                                                p.id.in_(keyset(scope, Keyset.PREMISES)))
        # Until the end of the scope's first day: membership changes with the day, not the clock.
        return sa.and_(company, c.district.in_(districts), c.ends_at >= scope_lo)
    rule = REGISTRY[collection].scope
    if rule.keyset is Keyset.COMPANY:
        return company
    # The key sets come from the company's own jobs, so they scope the rows by themselves; a
    # company_id term here would tempt SQLite into scanning the company's index of the table
    # (a million notes) instead of following the key set. Callers check company_id on what they read.
    return in_(rule.keyset, c[rule.field])


# Collections whose membership can change without their own rows changing, other than through a
# job or the day: recomputed in full on every pull (they are small: a company's templates and
# outage notices), so an incremental pull stays exact.
RECHECKED = ("checklist_template", "outage_notice")

