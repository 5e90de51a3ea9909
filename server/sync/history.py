"""``household_history`` rows in SQL: earlier finished visits at the premises of a technician's jobs.

The rows are derived, not stored: each is an earlier job (its id) at a premises of the scope, with
a summary of the facts recorded on it (sync.history is the reference, and the registry's spec in
sync.collections the field list). Its version is the highest version among the job, its hazards,
checklist answers and fee collections, and its technician's row, so a change to any of them is a
new version of the row (and two history rows never share a version).

Cost: the candidate jobs are found by ``job.premises_id`` (indexed) for the premises asked for;
each summary reads the job's facts through their ``job_id`` indexes. A full pull asks for every
premises of the scope (O(scope)); an incremental pull only for the premises whose history changed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from server.checklists.models import ChecklistAnswer
from server.jobs.models import Job
from server.people.models import Technician
from server.sync.scope import COMPANY_PARAM, Scope, keyset, member
from server.sync.scope import params as scope_params
from server.visits.models import FeeCollection, Hazard
from sync import history as ref
from sync.collections import HISTORY_PER_PREMISES, Keyset

COLLECTION = "household_history"
# The facts a history row summarises: a change to one of them is a change to the row.
FACT_TABLES = ("hazard", "checklist_answer", "fee_collection")


class greatest(FunctionElement):  # noqa: N801 (an SQL function reads like one)
    """GREATEST(a, b, …): ``max(a, b, …)`` on SQLite."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(greatest)
def _greatest(element: greatest, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"greatest({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"max({compiler.process(element.clauses, **kw)})"


def horizon(scope: Scope) -> dt.datetime:
    """The oldest finish time kept: HISTORY_YEARS before the scope's first day (moves once a day)."""
    return ref.horizon(scope.lo)


_HORIZON = sa.bindparam("scope_horizon", type_=Job.__table__.c.completed_at.type)


def params(scope: Scope) -> dict[str, object]:
    """The values of ``select(ANY_SCOPE)``: the scope's, and the history's horizon."""
    return {**scope_params(scope), "scope_horizon": horizon(scope)}


def select(scope: Scope | None, premises: Collection[uuid.UUID] | None = None) -> sa.Select:
    """The history rows of the scope (or of those of ``premises`` that are in it), with the columns a
    pull selects for a collection: id, version, deleted, company_id, then the registry's fields.
    ``ANY_SCOPE`` (None): with bind parameters, executed with ``params(scope)``."""
    # An alias: the scope's membership test reads the job table too, and must be correlated to these rows.
    j = Job.__table__.alias("earlier").c
    finished = sa.func.coalesce(*(j[f] for f in ref.FINISH_FIELDS))
    if premises is None:
        where_premises = j.premises_id.in_(keyset(scope, Keyset.PREMISES))
    else:
        where_premises = sa.and_(j.premises_id.in_(list(premises)), member(scope, Keyset.PREMISES, j.premises_id))
    done = [s for s in ref.HISTORY_STATUSES if s != "cancelled"]
    rank = sa.func.row_number().over(partition_by=j.premises_id, order_by=(finished.desc(), j.id.desc()))
    cand = (
        sa.select(j.id, j.company_id, j.version, j.premises_id, j.customer_id, j.ref, j.job_type, j.status,
                  j.completed_at, j.could_not_complete_reason, j.cancelled_reason, j.technician_id,
                  finished.label("finished_on"), rank.label("rank"))
        .where(j.company_id == (COMPANY_PARAM if scope is None else scope.company_id), j.deleted.is_(False),
               where_premises, sa.or_(j.status.in_(done), sa.and_(j.status == "cancelled", j.cancelled_reason != "")),
               finished >= (_HORIZON if scope is None else horizon(scope)))
        .subquery("cand")
    )
    h, a, f, t = Hazard.__table__.c, ChecklistAnswer.__table__.c, FeeCollection.__table__.c, Technician.__table__.c
    a2 = ChecklistAnswer.__table__.alias("later")

    def scalar(*cols: sa.ColumnElement, where: list) -> sa.ScalarSelect:
        return sa.select(*cols).where(*where).scalar_subquery()

    def hazards(severity: str) -> sa.ScalarSelect:
        return scalar(sa.func.count(), where=[h.job_id == cand.c.id, h.deleted.is_(False), h.severity == severity])

    current = [a.job_id == cand.c.id, a.deleted.is_(False),
               ~sa.exists().where(a2.c.job_id == a.job_id, a2.c.supersedes_id == a.id, a2.c.deleted.is_(False))]
    version = greatest(
        cand.c.version,
        sa.func.coalesce(scalar(sa.func.max(h.version), where=[h.job_id == cand.c.id]), 0),
        sa.func.coalesce(scalar(sa.func.max(a.version), where=[a.job_id == cand.c.id]), 0),
        sa.func.coalesce(scalar(sa.func.max(f.version), where=[f.job_id == cand.c.id]), 0),
        sa.func.coalesce(scalar(t.version, where=[t.id == cand.c.technician_id]), 0),
    )
    outcome = sa.case(
        (cand.c.status == "cancelled", "cancelled"),
        (sa.or_(cand.c.status == "could_not_complete",
                sa.and_(cand.c.completed_at.is_(None), cand.c.could_not_complete_reason.is_not(None),
                        cand.c.could_not_complete_reason != "")), "could_not_complete"),
        else_="completed",
    )
    return (
        sa.select(
            cand.c.id, version.label("version"), sa.false().label("deleted"), cand.c.company_id,
            cand.c.premises_id, cand.c.customer_id, cand.c.ref, cand.c.job_type, cand.c.status,
            outcome.label("outcome"), cand.c.finished_on,
            scalar(t.name, where=[t.id == cand.c.technician_id]).label("technician_name"),
            cand.c.could_not_complete_reason, cand.c.cancelled_reason,
            hazards("critical").label("hazards_critical"), hazards("major").label("hazards_major"),
            hazards("minor").label("hazards_minor"),
            scalar(sa.func.count(), where=current).label("checklist_answered"),
            scalar(sa.func.count(), where=[*current, a.value["value"].as_string() == "fail"]).label("checklist_failed"),
            sa.func.coalesce(scalar(sa.func.sum(f.amount_cents), where=[f.job_id == cand.c.id, f.deleted.is_(False)]),
                             0).label("fee_collected_cents"),
        )
        .where(cand.c.rank <= HISTORY_PER_PREMISES)
    )


def subquery(scope: Scope | None, premises: Collection[uuid.UUID] | None = None) -> sa.Subquery:
    """``select`` as a FROM clause, to filter and order by its columns (``version``, ``id``)."""
    return select(scope, premises).subquery(COLLECTION)
