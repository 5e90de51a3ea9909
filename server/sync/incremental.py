"""The incremental pull: the company's changes since the cursor, checked against the scope (G9).

One UNION over every synced table's (company_id, version) index lists what changed in
``(base, target]``; only the collections that changed are then read, by primary key and scope
predicate. Cost: O(changes since the cursor), whatever the size of the database or the scope.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.checklists.models import ChecklistTemplate
from server.jobs.models import Job
from server.sync import history
from server.sync.models import Device
from server.sync.schemas import COLLECTIONS, MODELS, pull_columns
from server.sync.scope import RECHECKED, Scope, in_window, member, predicate
from sync import history as ref
from sync.collections import Keyset
from sync.records import RowRef

Change = tuple[int, int, uuid.UUID]  # (collection index, version, id)


@cache
def _changes_statement() -> sa.CompoundSelect:
    """The UNION of every synced table's changes, built once (twenty SELECTs cost more to build per
    pull than to run); bound to the company and the version range at each execution."""
    company, base, target = sa.bindparam("company", type_=sa.Uuid()), sa.bindparam("base"), sa.bindparam("target")
    parts = []
    for index, collection in enumerate(COLLECTIONS):
        if collection not in MODELS:
            continue  # derived (household_history): follows the changes of its sources (history_changes)
        t = MODELS[collection].__table__
        parts.append(sa.select(sa.literal(index, sa.Integer), t.c.version, t.c.id)
                     .where(t.c.company_id == company, t.c.version > base, t.c.version <= target))
    return sa.union_all(*parts)


def changes(session: Session, scope: Scope, base: int, target: int) -> list[Change]:
    """Every row of the company changed in ``(base, target]``, ordered by collection, version, id."""
    rows = session.execute(_changes_statement(), {"company": scope.company_id, "base": base, "target": target})
    return sorted((int(i), int(v), rid) for i, v, rid in rows)


def changed_jobs(session: Session, job_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """What the scope and the household history need of changed jobs, by id (one query)."""
    j = Job.__table__.c
    return {r.id: r for r in session.execute(
        sa.select(j.id, j.company_id, j.technician_id, j.window_start, j.deleted, j.customer_id, j.premises_id,
                  j.status, j.cancelled_reason).where(j.id.in_(job_ids)))}


def membership_moved(session: Session, device: Device, scope: Scope, held: dict, jobs: dict[uuid.UUID, Any]) -> bool:
    """Whether one of these changed jobs (``changed_jobs``) entered or left the scope, or now points at
    a customer or premises the device does not hold: then rows move without changing themselves (a
    full pull)."""
    from server.sync.pull import held_rows  # noqa: PLC0415 (pull imports this module)

    rows = jobs.values()
    needed: list[tuple[str, uuid.UUID]] = []
    for r in rows:
        now_in = in_window(scope, r.technician_id, r.window_start) and not r.deleted
        was = held.get(("job", r.id))
        if now_in != bool(was and was.held):
            return True
        if now_in:
            needed += [("customer", r.customer_id), ("premises", r.premises_id)]
    if not needed:
        return False
    have = held_rows(session, device, None, list({i for _, i in needed}), only_held=True)
    return any(key not in have for key in needed)


def in_scope_rows(session: Session, scope: Scope, target: int, wanted: dict[str, list[uuid.UUID]]
                  ) -> dict[tuple[str, uuid.UUID], Any]:
    """Those of the wanted rows that are in scope now (at most version ``target``), with their wire columns.

    Rows are read by primary key and tested row by row (a job by its own assignee and window, the
    rest through EXISTS on the job's indexes), so the cost follows the rows, not the scope."""
    found: dict[tuple[str, uuid.UUID], Any] = {}
    for collection, ids in wanted.items():
        t = MODELS[collection].__table__
        # By primary key only: the company is checked on the rows (see scope.predicate).
        columns = pull_columns(collection, session.get_bind().dialect.name)
        stmt = sa.select(*columns).where(t.c.id.in_(ids), t.c.version <= target)
        if collection == "job":  # the assignee and window typed, to test them
            stmt = stmt.add_columns(t.c.technician_id.label("scope_technician"), t.c.window_start.label("scope_start"))
            rows = [r for r in session.execute(stmt) if in_window(scope, r.scope_technician, r.scope_start)]
        else:
            rows = list(session.execute(stmt.where(predicate(scope, collection, correlated=True))))
        for r in rows:
            if r.company_id == scope.company_id:
                found[(collection, r.id)] = r
    return found


def needs_recheck(session: Session, everything: list[Change], found: dict, held_small: dict) -> bool:
    """Whether the templates and outage notices must be compared in full: a premises changed (its
    district), or a changed job of the scope has a type no template on the device is for. (A type
    that went away leaves its template on the device until the next full comparison, the next day.)"""
    if any(COLLECTIONS[i] == "premises" for i, _, _ in everything):
        return True
    types = {r.job_type for (c, _), r in found.items() if c == "job"}
    if not types:
        return False
    ids = [i for (c, i), h in held_small.items() if c == "checklist_template" and h.held]
    t = ChecklistTemplate.__table__.c
    have = set(session.execute(sa.select(t.job_type).where(t.id.in_(ids), t.active.is_(True))).scalars()) if ids else set()
    missing = {str(x) for x in types} - {str(x) for x in have}
    if not missing:
        return False
    company = next(iter(found.values())).company_id
    return session.execute(sa.select(t.id).where(t.company_id == company, t.active.is_(True),
                                                 t.job_type.in_(missing)).limit(1)).first() is not None


def rechecked(session: Session, scope: Scope, target: int, held: dict
              ) -> tuple[list[tuple[str, uuid.UUID]], dict[tuple[str, uuid.UUID], Any]]:
    """For the small collections whose membership follows the jobs' types and districts: the held rows
    that left, and the in-scope rows the device lacks (with their wire columns)."""
    gone: list[tuple[str, uuid.UUID]] = []
    entering: dict[tuple[str, uuid.UUID], Any] = {}
    for collection in RECHECKED:
        t = MODELS[collection].__table__
        now = {r.id: r for r in session.execute(sa.select(*pull_columns(collection, session.get_bind().dialect.name))
                                                .where(predicate(scope, collection), t.c.version <= target))}
        mine = {k[1] for k, v in held.items() if k[0] == collection and v.held}
        gone += [(collection, i) for i in sorted(mine - set(now))]
        entering.update(((collection, i), now[i]) for i in now if i not in mine)
    return gone, entering


def revocations(all_changes: list[Change], found: dict, held: dict) -> list[tuple[str, uuid.UUID]]:
    """Changed rows the device holds that are no longer in scope."""
    out = []
    for index, _, rid in all_changes:
        key = (COLLECTIONS[index], rid)
        if key not in found and key in held and held[key].held and key not in out:
            out.append(key)
    return out


def refs(keys: list[tuple[str, uuid.UUID]]) -> list[RowRef]:
    """Row refs in collection order."""
    return [RowRef(c, str(i)) for c, i in sorted(keys, key=lambda k: (COLLECTIONS.index(k[0]), str(k[1])))]




def history_changes(session: Session, device: Device, scope: Scope, target: int, everything: list[Change],
                    held: dict, known: dict[uuid.UUID, Any]) -> tuple[list[tuple[str, uuid.UUID]],
                                                                    dict[tuple[str, uuid.UUID], Any]]:
    """household_history after these changes: the held rows that left, and the rows to (re)send.

    A history row is its job plus the job's facts and technician, so it can change only when one of
    those changed. Only the premises of a changed job that is (or was, on the device) history are
    read again, so a pull whose changes touch no finished visit costs one lookup by primary key.
    ``held`` gains the device's history rows of those premises."""
    from server.sync.pull import held_rows  # noqa: PLC0415 (pull imports this module)

    changed: dict[str, list[uuid.UUID]] = {}
    for i, _, rid in everything:
        changed.setdefault(COLLECTIONS[i], []).append(rid)
    jobs = set(changed.get("job", ()))
    for name in history.FACT_TABLES:
        if changed.get(name):
            t = MODELS[name].__table__.c
            jobs.update(session.execute(sa.select(t.job_id).where(t.id.in_(changed[name]))).scalars())
    j = Job.__table__.c
    premises: set[uuid.UUID] = set()
    if jobs:
        rows = dict(known)
        if jobs - rows.keys():  # the jobs of changed facts (the changed jobs themselves: ``known``)
            rows.update(changed_jobs(session, list(jobs - rows.keys())))
        for r in rows.values():
            was = held.get((history.COLLECTION, r.id))
            is_history = not r.deleted and ref.qualifies({"status": str(r.status),
                                                          "cancelled_reason": r.cancelled_reason})
            if r.company_id == scope.company_id and (is_history or (was is not None and was.held)):
                premises.add(r.premises_id)
    if changed.get("technician"):  # a renamed technician: the history rows naming them
        e = Job.__table__.alias("earlier").c  # aliased: ``member`` reads the job table, correlated to these rows
        premises.update(session.execute(
            sa.select(e.premises_id).where(e.technician_id.in_(changed["technician"]),
                                           e.status.in_(list(ref.HISTORY_STATUSES)), e.company_id == scope.company_id,
                                           member(scope, Keyset.PREMISES, e.premises_id))).scalars())
    if not premises:
        return [], {}
    sub = history.subquery(scope, premises)
    now = {r.id: r for r in session.execute(sa.select(*sub.c)) if r.company_id == scope.company_id}
    # Rows the device may hold for these premises: every job there, and the changed jobs (moved away).
    candidates = set(session.execute(sa.select(j.id).where(j.premises_id.in_(list(premises)))).scalars()) | jobs
    mine = held_rows(session, device, history.COLLECTION, list(candidates))
    held.update(mine)
    gone = [k for k, h in sorted(mine.items(), key=lambda kv: str(kv[0][1])) if h.held and k[1] not in now]
    return gone, {(history.COLLECTION, i): r for i, r in now.items() if r.version <= target}
