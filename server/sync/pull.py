"""One pull page: the changed rows of a device's scope since its cursor, and the rows that left it.

Cost is bounded by the changes (G9): an incremental pull reads the company's changes since the
cursor through the (company_id, version) indexes and checks them against the scope. It falls back
to comparing the whole scope with what the device holds (``device_scope``) only when membership
moved without the rows themselves changing: a first pull, a new day, a new technician on the
tablet, or a job (re)assigned to or away from the technician — and then it costs O(scope), never
O(database).

G4: the pull reads the company's committed change counter *first* and serves only rows with
``version <=`` it. Versions are allocated under the counter's row lock (server/db.py), so every row
at or below that number is committed; a row committed later carries a higher number and arrives
with the next pull.

A page the device never applied is undone: every cursor names the page that produced it (``seq``),
and ``device_scope`` keeps the state before the last served page.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db import current_version
from server.sync import history
from server.sync import incremental as inc
from server.sync.models import Device, DeviceScope
from server.sync.schemas import COLLECTIONS, DERIVED, MODELS, pull_columns, pull_dump
from server.sync.scope import ANY_SCOPE, RECHECKED, Scope, predicate
from sync.records import PullPage, Row, RowRef

CURSOR_PREFIX = "c1"
# FRESH: a full pull of a device that holds nothing (a first pull, or one starting over): every row's
# state is "not held", so what it holds is not looked up, and the ledger upserts.
FULL, FRESH, INCREMENTAL, DONE = "f", "n", "i", "d"
DS = DeviceScope.__table__


class BadCursor(ValueError):
    """A cursor this server did not make (or made for another device)."""


@dataclass(frozen=True)
class Cursor:
    """Where a device stands: all in-scope changes up to ``base`` are on it, as of page ``seq``.

    While a pull is in progress (``mode`` FULL or INCREMENTAL) it also carries the pull's target
    version and the position reached: collection index, then (version, id) within it.
    """

    base: int
    seq: int
    day: int  # ordinal of the scope's first day
    tech: str  # short hash of the technician and device the scope was computed for
    mode: str = DONE
    target: int = 0
    coll: int = 0
    version: int = 0
    row_id: str = ""

    def encode(self) -> str:
        """The opaque string the device stores."""
        parts = [CURSOR_PREFIX, self.mode, self.base, self.seq, self.day, self.tech, self.target, self.coll,
                 self.version, self.row_id]
        return ".".join(str(p) for p in parts)

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse a cursor string; BadCursor when it is not one of ours."""
        parts = text.split(".")
        if len(parts) != 10 or parts[0] != CURSOR_PREFIX or parts[1] not in (FULL, FRESH, INCREMENTAL, DONE):
            raise BadCursor(text)
        try:
            return cls(mode=parts[1], base=int(parts[2]), seq=int(parts[3]), day=int(parts[4]), tech=parts[5],
                       target=int(parts[6]), coll=int(parts[7]), version=int(parts[8]), row_id=parts[9])
        except ValueError:
            raise BadCursor(text) from None


def tech_tag(technician_id: uuid.UUID, device_pk: uuid.UUID) -> str:
    """A short tag of the technician and the device a cursor was made for (another's cursor starts over)."""
    return hashlib.sha256(technician_id.bytes + device_pk.bytes).hexdigest()[:10]


@dataclass
class _Held:
    held: bool
    version_sent: int
    seq: int
    prev_held: bool
    prev_version: int


class ScopeLedger:
    """This page's changes to ``device_scope``, written in two bulk statements at the end."""

    def __init__(self, device: Device, seq: int, upsert: bool = False) -> None:
        self.device, self.seq, self.upsert = device, seq, upsert
        self.updates: dict[tuple[str, uuid.UUID], dict[str, Any]] = {}
        self.inserts: dict[tuple[str, uuid.UUID], dict[str, Any]] = {}

    def set(self, collection: str, row_id: uuid.UUID, old: _Held | None, held: bool, version: int) -> None:
        key = (collection, row_id)
        values = {"held": held, "version_sent": version, "seq": self.seq}
        if old is None:
            self.inserts[key] = {"device_pk": self.device.id, "collection": collection, "row_id": row_id,
                                 "prev_held": False, "prev_version": 0, **values}
            return
        if old.seq != self.seq:  # the first change in this page: remember the state to undo to
            values.update(prev_held=old.held, prev_version=old.version_sent)
        self.updates[key] = {"device_pk": self.device.id, "collection": collection, "row_id": row_id, **values}

    def flush(self, session: Session) -> None:
        if self.updates:
            session.execute(sa.update(DeviceScope), list(self.updates.values()))
        if self.inserts:  # Core executemany on the table: the ORM's bulk path costs more per row
            session.execute(_upsert(session) if self.upsert else DS.insert(), list(self.inserts.values()))


def _upsert(session: Session) -> Any:
    """INSERT of ledger rows that may exist already (a fresh pull does not read them): an existing row
    keeps, as the state to undo to, what it had before this page (as ``ScopeLedger.set`` does)."""
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    stmt = insert(DS)
    new, same_page = stmt.excluded, DS.c.seq == stmt.excluded.seq
    return stmt.on_conflict_do_update(
        index_elements=[DS.c.device_pk, DS.c.collection, DS.c.row_id],
        set_={"held": new.held, "version_sent": new.version_sent, "seq": new.seq,
              "prev_held": sa.case((same_page, DS.c.prev_held), else_=DS.c.held),
              "prev_version": sa.case((same_page, DS.c.prev_version), else_=DS.c.version_sent)})


def held_rows(session: Session, device: Device, collection: str | tuple[str, ...] | None = None,
               ids: list[uuid.UUID] | None = None, only_held: bool = False,
               whole: tuple[str, ...] = ()) -> dict[tuple[str, uuid.UUID], _Held]:
    """What the device holds (or held) of these rows; ``whole``: also every row of these collections."""
    stmt = sa.select(DS.c.collection, DS.c.row_id, DS.c.held, DS.c.version_sent, DS.c.seq, DS.c.prev_held,
                     DS.c.prev_version).where(DS.c.device_pk == device.id)
    if isinstance(collection, tuple):
        stmt = stmt.where(DS.c.collection.in_(collection))
    elif collection is not None:
        stmt = stmt.where(DS.c.collection == collection)
    if ids is not None:
        if not ids and not whole:
            return {}
        if session.get_bind().dialect.name == "postgresql":
            # One array parameter, not thousands of IN placeholders to bind, send and parse.
            rows = DS.c.row_id == sa.any_(sa.bindparam("held_ids", list(ids), type_=postgresql.ARRAY(sa.Uuid())))
        else:
            rows = DS.c.row_id.in_(ids)
        if whole:
            # A UNION, not an OR: with "row_id IN … OR collection IN …" SQLite read every row the
            # device holds (thousands) instead of the two index lookups.
            if only_held:
                stmt = stmt.where(DS.c.held.is_(True))
            both = sa.union_all(stmt.where(rows), stmt.where(DS.c.collection.in_(whole)))
            return {(r[0], r[1]): _Held(*r[2:]) for r in session.execute(both)}
        stmt = stmt.where(rows)
    if only_held:
        stmt = stmt.where(DS.c.held.is_(True))
    return {(r[0], r[1]): _Held(*r[2:]) for r in session.execute(stmt)}


def _undo_page(session: Session, device: Device, seq: int) -> None:
    """Put ``device_scope`` back as it was before page ``seq`` (which the device never applied)."""
    session.execute(
        sa.update(DeviceScope)
        .where(DS.c.device_pk == device.id, DS.c.seq == seq)
        .values(held=DS.c.prev_held, version_sent=DS.c.prev_version, seq=seq - 1)
    )


def _source(collection: str, dialect: str) -> tuple[Any, list[Any], list[Any], Any]:
    """Where a pull reads a collection: its columns (``.c``), the wire columns to select, the
    scope's WHERE terms (a derived collection's select is already limited to the scope), and the
    FROM clause; for ANY_SCOPE (execute with ``_params(scope)``)."""
    if collection in DERIVED:
        sub = history.subquery(ANY_SCOPE)
        return sub.c, list(sub.c), [], sub
    table = MODELS[collection].__table__
    return table.c, list(pull_columns(collection, dialect)), [predicate(ANY_SCOPE, collection)], table


def _params(scope: Scope) -> dict[str, Any]:
    """The bind values of the statements ``_source`` and ``_page_statement`` build."""
    return history.params(scope)


_TARGET, _AFTER_V, _LIMIT = sa.bindparam("target"), sa.bindparam("after_v"), sa.bindparam("page_limit")


@cache
def _page_statement(collection: str, dialect: str, after: bool) -> sa.Select:
    """A page of a collection's rows in scope: version <= :target, after (:after_v, :after_id) when
    ``after``, in (version, id) order, :page_limit rows. Built once per collection: constructing the
    scope's subqueries for every page cost more than running them."""
    c, columns, where, source = _source(collection, dialect)
    stmt = sa.select(*columns).select_from(source).where(*where, c.version <= _TARGET)
    if after:
        after_id = sa.bindparam("after_id", type_=c.id.type)
        # ``version >= :after_v`` is implied by the OR, and is what lets the (company_id, version) index
        # start at the position: without it SQLite walked the collection from its first row on every page.
        stmt = stmt.where(c.version >= _AFTER_V,
                          sa.or_(c.version > _AFTER_V, sa.and_(c.version == _AFTER_V, c.id > after_id)))
    return stmt.order_by(c.version, c.id).limit(_LIMIT)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _full_revocations(session: Session, device: Device, scope: Scope, ledger: ScopeLedger) -> list[RowRef]:
    """Every held row no longer in scope (O(scope))."""
    held = held_rows(session, device, only_held=True)
    revoked: list[RowRef] = []
    for collection in COLLECTIONS:
        mine = {k[1] for k in held if k[0] == collection}
        if not mine:
            continue
        c, _cols, where, source = _source(collection, _dialect(session))
        in_scope = set(session.execute(sa.select(c.id).select_from(source).where(*where), _params(scope)).scalars())
        for row_id in sorted(mine - in_scope):
            ledger.set(collection, row_id, held[(collection, row_id)], False, held[(collection, row_id)].version_sent)
            revoked.append(RowRef(collection, str(row_id)))
    return revoked


def _collect(session: Session, device: Device, scope: Scope, cur: Cursor, limit: int,
             ledger: ScopeLedger) -> tuple[list[Row], Cursor, bool]:
    """Up to ``limit`` rows to send after the cursor's position; the position reached; whether more remain."""
    out: list[tuple[str, Any]] = []
    pos = cur
    has_more = False
    at: tuple[int, int, Any] | None = None  # (collection index, version, id) of the last row looked at
    values = _params(scope) | {"target": cur.target}
    dialect = _dialect(session)
    fresh = cur.mode == FRESH
    for index in range(cur.coll, len(COLLECTIONS)):
        collection = COLLECTIONS[index]
        after_v, after_id = (pos.version, pos.row_id) if index == pos.coll else (0, "")
        while True:
            # (What the device holds is read in a second query by id: joined to device_scope here,
            # PostgreSQL's planner, with stale statistics, scanned device_scope once per row.)
            want = max(limit + 1 - len(out), 64)
            if after_id:
                rid = after_id if isinstance(after_id, uuid.UUID) else uuid.UUID(after_id)
                stmt, bound = _page_statement(collection, dialect, True), {"after_v": after_v, "after_id": rid}
            else:
                stmt, bound = _page_statement(collection, dialect, False), {}
            batch = session.execute(stmt, values | bound | {"page_limit": want}).all()
            if not batch:
                break
            held = {} if fresh else held_rows(session, device, collection, [r.id for r in batch])
            for r in batch:
                old = held.get((collection, r.id))
                if r.company_id != scope.company_id:
                    pass  # never another company's row (the key sets are the company's own)
                elif _sendable(old, r):
                    if len(out) == limit:
                        has_more = True
                        break
                    out.append((collection, r))
                    ledger.set(collection, r.id, old, not r.deleted, r.version)
                after_v, after_id = r.version, r.id
                at = (index, r.version, r.id)
            if has_more or len(batch) < want:
                break
        if has_more:
            break
    if at is not None:  # the position reached (built once: a dataclass copy per row was costly)
        # (Not the loop's after_v/after_id: those restart at the next collection, which a page
        # ending with a collection's last row may have begun to read.)
        pos = replace(pos, coll=at[0], version=at[1], row_id=str(at[2]))
    return _as_rows(session, out), pos, has_more


def _as_rows(session: Session, out: list[tuple[str, Any]]) -> list[Row]:
    """Wire rows in collection order, each collection dumped by its schema in one call."""
    dialect = _dialect(session)
    grouped: dict[str, list[Any]] = {}
    for c, r in out:
        grouped.setdefault(c, []).append(r)
    rows: list[Row] = []
    for collection in COLLECTIONS:
        mine = grouped.get(collection)
        if mine:
            rows += [Row(collection, str(r.id), r.version, r.deleted, data)
                     for r, data in zip(mine, map(pull_dump(collection, dialect), mine), strict=True)]
    return rows


def _sendable(old: _Held | None, r: Any) -> bool:
    """Whether the device lacks this version of the row (a tombstone only goes to a device holding the row)."""
    if old is not None and old.held and old.version_sent >= r.version:
        return False  # sent earlier in this pull, or pushed by the device itself
    return not (r.deleted and (old is None or not old.held))


def _incremental(session: Session, device: Device, scope: Scope, cur: Cursor, limit: int, ledger: ScopeLedger,
                 first: bool) -> tuple[list[Row], list[RowRef], Cursor, bool] | None:
    """A page from the company's changes since the cursor; None when membership moved (pull in full)."""
    everything = inc.changes(session, scope, cur.base, cur.target)
    # On the first page, the small rechecked collections' holdings come in the same query.
    held = held_rows(session, device, None, [rid for _, _, rid in everything], whole=RECHECKED if first else ())
    known: dict = {}
    if first:
        jobs = [rid for i, _, rid in everything if COLLECTIONS[i] == "job"]
        known = inc.changed_jobs(session, jobs) if jobs else {}
        if jobs and inc.membership_moved(session, device, scope, held, known):
            return None
    mark = (cur.coll, cur.version, cur.row_id)
    todo = everything if first else [c for c in everything if (c[0], c[1], str(c[2])) > mark]
    wanted: dict[str, list[uuid.UUID]] = {}
    for i, _, rid in todo:
        wanted.setdefault(COLLECTIONS[i], []).append(rid)
    found = inc.in_scope_rows(session, scope, cur.target, wanted)
    gone: list[tuple[str, uuid.UUID]] = []
    entering: dict[tuple[str, uuid.UUID], Any] = {}
    if first:
        gone = inc.revocations(everything, found, held)
        small = {k: h for k, h in held.items() if k[0] in RECHECKED}
        if inc.needs_recheck(session, everything, found, small):
            left, entering = inc.rechecked(session, scope, cur.target, small)
            held.update(small)
            gone += [k for k in left if k not in gone]
        left, current = inc.history_changes(session, device, scope, cur.target, everything, held, known)
        gone += [k for k in left if k not in gone]
        entering.update(current)
        for key in gone:
            ledger.set(key[0], key[1], held[key], False, held[key].version_sent)
    out: list[tuple[str, Any]] = []
    pos, has_more = cur, False
    last: tuple[int, int, uuid.UUID] | None = None
    for i, v, rid in todo:
        key = (COLLECTIONS[i], rid)
        r = found.get(key)
        if r is not None and _sendable(held.get(key), r):
            if len(out) == limit:
                has_more = True
                break
            out.append((key[0], r))
            ledger.set(key[0], rid, held.get(key), not r.deleted, r.version)
        last = (i, v, rid)
    if last is not None:
        pos = replace(pos, coll=last[0], version=last[1], row_id=str(last[2]))
    for key, r in entering.items():
        if key not in found and _sendable(held.get(key), r):
            out.append((key[0], r))
            ledger.set(key[0], key[1], held.get(key), not r.deleted, r.version)
    return _as_rows(session, out), inc.refs(gone), pos, has_more


def pull_page(session: Session, device: Device, scope: Scope, cursor: str | None, limit: int) -> PullPage:
    """Serve one page to ``device`` (whose row the caller has locked) and record what it now holds."""
    cur = Cursor.decode(cursor) if cursor else None
    tag = tech_tag(scope.technician_id, device.id)
    if cur is not None and cur.seq == device.pull_seq - 1:
        _undo_page(session, device, device.pull_seq)  # the device never applied the last page
    elif cur is not None and cur.seq != device.pull_seq:
        cur = None  # a cursor from another life of this device: resend its whole scope
    seq = device.pull_seq + 1
    device.pull_seq = seq
    ledger = ScopeLedger(device, seq, upsert=cur is None or cur.mode == FRESH)
    revoked: list[RowRef] = []
    result = None
    if cur is None or cur.mode == DONE:
        target = current_version(session, scope.company_id)  # G4: read the committed counter first
        fresh = cur is None
        if fresh:
            # Whatever it held before, the device starts over; the rows stay as "was held" (G8).
            session.execute(sa.update(DeviceScope).where(DS.c.device_pk == device.id, DS.c.held.is_(True))
                            .values(prev_held=True, prev_version=DS.c.version_sent, held=False, version_sent=0,
                                    seq=seq))
        base = 0 if fresh else cur.base
        moved = fresh or cur.day != scope.first_day.toordinal() or cur.tech != tag
        cur = Cursor(base=base, seq=seq, day=scope.first_day.toordinal(), tech=tag, mode=INCREMENTAL, target=target)
        if not moved:
            result = _incremental(session, device, scope, cur, limit, ledger, first=True)
        if result is None:
            revoked = [] if fresh else _full_revocations(session, device, scope, ledger)
            cur = replace(cur, mode=FRESH if fresh else FULL)
    elif cur.mode == INCREMENTAL:
        result = _incremental(session, device, scope, cur, limit, ledger, first=False)
    if result is not None:
        rows, revoked, pos, has_more = result
    else:
        rows, pos, has_more = _collect(session, device, scope, cur, limit, ledger)
    ledger.flush(session)
    nxt = replace(pos, seq=seq) if has_more else Cursor(base=cur.target, seq=seq, day=cur.day, tech=cur.tech)
    return PullPage(rows=rows, revoked=revoked, cursor=nxt.encode(), has_more=has_more,
                    server_time=scope.now.isoformat())
