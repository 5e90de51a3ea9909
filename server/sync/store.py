"""SqlServerStore: sync-core's ServerStore port on SQLAlchemy, for one company.

Rows travel as ``sync.records.Row`` with JSON values (the collection's data schema dumps and loads
them). Every method is one or a few bulk queries. The caller owns the transaction: open it, call
the core, commit (or roll back on an exception).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import AuditEntry, RowChange, current_version, table_order, write_synced_rows
from server.jobs.models import Job
from server.org.models import Company
from server.sync.fastdump import compile_dump
from server.sync.fastload import fast_load_values
from server.sync.models import AppliedMutation, Device, DeviceScope, SyncConflict
from server.sync.schemas import MODELS, as_uuid, dump_rows, wire_columns
from server.sync.scope import predicate, scope_for
from server.visits.models import Blob
from sync.records import ConflictRecord, MutationResult, Row, RowWrite, StoredResult
from sync.wire import MutationResultSchema

_RESULT = MutationResultSchema()
dump_result = compile_dump(_RESULT)
# IN lists are sent in chunks: SQLite allows 32766 bound parameters per statement.
CHUNK = 5000


def _uuids(values: Collection[str]) -> list[uuid.UUID]:
    return [u for u in (as_uuid(v) for v in values) if u is not None]


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)] or [[]]


_BOOKKEEPING = frozenset({"id", "company_id", "version", "deleted", "created_at", "updated_at"})


@functools.cache
def _default_makers(table: sa.Table) -> tuple[tuple[str, Any, bool], ...]:
    out = []
    for column in table.columns:
        if column.name in _BOOKKEEPING:
            continue
        default = column.default
        if default is None:
            out.append((column.name, None, False))
        elif default.is_callable:
            out.append((column.name, default.arg, True))
        else:
            out.append((column.name, default.arg, False))
    return tuple(out)


def _defaults(table: sa.Table) -> dict[str, Any]:
    """The values a new row of ``table`` gets for the columns not given (the columns' defaults)."""
    return {name: (arg(None) if call else arg) for name, arg, call in _default_makers(table)}


class SqlServerStore:
    """One company's synced rows, answers and conflicts in the server database."""

    def __init__(self, session: Session, company: Company, *, now: dt.datetime | None = None,
                 device_id: str | None = None, technician_id: uuid.UUID | None = None) -> None:
        self.session, self.company = session, company
        self.device_id, self.technician_id = device_id, technician_id
        self.now = now or dt.datetime.now(dt.UTC)
        # mutation id -> (collection, row id), told by the adapter: answers are filed under their row.
        self.targets: dict[str, tuple[str, str]] = {}
        # The database rows read in this transaction, by (collection, id): an update's "before".
        self._raw: dict[tuple[str, str], Any] = {}
        # load_rows' answers by (collection, id) (None: no such row of this company), and the ids seen
        # in another company's rows (ids are global keys: such an id cannot be created here).
        self._loaded: dict[tuple[str, str], Row | None] = {}
        self.foreign: set[tuple[str, str]] = set()
        # Jobs read by _select: whether each is in the technician's scope (for scope_keys_among).
        self._job_scope: dict[uuid.UUID, bool] = {}
        self._scope_now: Any = None
        # The stored answers read by load_results (ids asked, answers found): read once per push.
        self._results: tuple[frozenset[str], dict[str, StoredResult]] | None = None

    # --- reads ------------------------------------------------------------------------------

    def watermark(self) -> int:
        """The company's committed change counter (server/db.py holds its row lock until commit)."""
        return current_version(self.session, self.company.id)

    def scope_job_ids(self, technician_id: str) -> set[str]:
        """The technician's jobs inside the sync window (tombstones included: they still travel)."""
        tech = as_uuid(technician_id)
        if tech is None:
            return set()
        scope = scope_for(self.company, tech, self.now)
        j = Job.__table__.c
        return {str(i) for i in self.session.execute(sa.select(j.id).where(predicate(scope, "job"))).scalars()}

    def scope_keys(self, technician_id: str) -> tuple[set[str], set[str], set[str]]:
        """The scope's key sets in one query: job ids (tombstones included), and the customers and
        premises of the live ones (the optional fast path of sync.scope.compute_scope)."""
        tech = as_uuid(technician_id)
        if tech is None:
            return set(), set(), set()
        scope = scope_for(self.company, tech, self.now)
        j = Job.__table__.c
        jobs, customers, premises = set(), set(), set()
        for job_id, customer_id, premises_id, deleted in self.session.execute(
            sa.select(j.id, j.customer_id, j.premises_id, j.deleted).where(predicate(scope, "job"))
        ):
            jobs.add(str(job_id))
            if not deleted:
                customers.add(str(customer_id))
                premises.add(str(premises_id))
        return jobs, customers, premises

    def scope_keys_among(self, technician_id: str, jobs: Collection[str], customers: Collection[str],
                         premises: Collection[str]) -> tuple[set[str], set[str], set[str]]:
        """``scope_keys`` restricted to the given ids, in one query: those of ``jobs`` that are the
        technician's jobs (tombstones included), and those of ``customers`` / ``premises`` that a live
        one of them names. For a push, which asks about the handful of keys its mutations name."""
        tech = as_uuid(technician_id)
        job_ids, customer_ids, premises_ids = set(_uuids(jobs)), set(_uuids(customers)), set(_uuids(premises))
        if tech is None or not (job_ids or customer_ids or premises_ids):
            return set(), set(), set()
        if (not customer_ids and not premises_ids and tech == self.technician_id
                and all(i in self._job_scope for i in job_ids)):  # every job asked about was read already
            return {str(i) for i in job_ids if self._job_scope[i]}, set(), set()
        scope = self._scope() if tech == self.technician_id else scope_for(self.company, tech, self.now)
        j = Job.__table__.c
        wanted = [c.in_(list(ids)) for c, ids in ((j.id, job_ids), (j.customer_id, customer_ids),
                                                 (j.premises_id, premises_ids)) if ids]
        found_jobs, found_customers, found_premises = set(), set(), set()
        # The scope's test is a column, not a WHERE term: found through the named ids' own indexes
        # (with it in WHERE, SQLite walked every job of the technician: 23 ms for 250 ids of 10,000).
        in_scope = predicate(scope, "job").label("in_scope")
        for job_id, customer_id, premises_id, deleted, admitted in self.session.execute(
            sa.select(j.id, j.customer_id, j.premises_id, j.deleted, in_scope).where(sa.or_(*wanted))
        ):
            if not admitted:
                continue
            if job_id in job_ids:
                found_jobs.add(str(job_id))
            if not deleted:
                if customer_id in customer_ids:
                    found_customers.add(str(customer_id))
                if premises_id in premises_ids:
                    found_premises.add(str(premises_id))
        return found_jobs, found_customers, found_premises

    def _scope(self) -> Any:
        """The technician's scope window now (server/sync/scope.py), made once per push."""
        if self._scope_now is None:
            self._scope_now = scope_for(self.company, self.technician_id, self.now)
        return self._scope_now

    def previously_assigned(self, technician_id: str, job_ids: Collection[str]) -> set[str]:
        """Jobs that were this technician's: assigned now (outside the window), in the audit log's
        history of ``technician_id``, or once held by one of their devices."""
        ids = _uuids(job_ids)
        tech = as_uuid(technician_id)
        if not ids or tech is None:
            return set()
        j = Job.__table__.c
        found = {str(i) for i in self.session.execute(
            sa.select(j.id).where(j.company_id == self.company.id, j.id.in_(ids), j.technician_id == tech)
        ).scalars()}
        a = AuditEntry.__table__.c
        for entity_id, changes, company in self.session.execute(
            sa.select(a.entity_id, a.changes, a.company_id).where(a.entity == "job",
                                                                 a.entity_id.in_([str(i) for i in ids]))
        ):
            if company == self.company.id and technician_id in [
                    str(v) for v in (changes or {}).get("technician_id", [])]:
                found.add(entity_id)
        ds, d = DeviceScope.__table__.c, Device.__table__.c
        found.update(str(i) for i in self.session.execute(
            sa.select(ds.row_id).join(Device.__table__, d.id == ds.device_pk)
            .where(d.company_id == self.company.id, d.technician_id == tech, ds.collection == "job",
                   ds.row_id.in_(ids))
        ).scalars())
        return found

    def _select(self, collection: str, *where: Any) -> list[Row]:
        # Filtered by company on the rows read, not in SQL: with a company_id term SQLite prefers the
        # company's index (every row of the company) to the id / foreign-key index the caller names.
        columns = wire_columns(collection)
        judged = collection == "job" and self.technician_id is not None
        if judged:  # whether each job read is the technician's: a push's scope question, answered in passing
            columns = [*columns, predicate(self._scope(), "job").label("in_scope")]
        found = []
        for r in self.session.execute(sa.select(*columns).where(*where)):
            if r.company_id == self.company.id:
                found.append(r)
                self._raw[(collection, str(r.id))] = r
                if judged:
                    self._job_scope[r.id] = bool(r.in_scope)
            else:
                self.foreign.add((collection, str(r.id)))
        data = dump_rows(collection, found)
        return [Row(collection, str(r.id), r.version, r.deleted, d) for r, d in zip(found, data, strict=True)]

    def load_rows(self, collection: str, ids: Collection[str]) -> dict[str, Row]:
        """The rows with these ids (ids that are not UUIDs cannot exist)."""
        if collection not in MODELS:
            return {}
        table = MODELS[collection].__table__
        rows: dict[str, Row] = {}
        wanted = []
        for i in ids:
            if (collection, i) in self._loaded:
                row = self._loaded[(collection, i)]
                if row is not None:
                    rows[i] = row
            else:
                wanted.append(i)
        for chunk in _chunks(_uuids(wanted)):
            if chunk:
                rows.update((r.id, r) for r in self._select(collection, table.c.id.in_(chunk)))
        # Read once per push: the adapter's check of ids taken elsewhere and the core's load share it.
        self._loaded.update(((collection, i), rows.get(i)) for i in wanted)
        return rows

    def rows_where(self, collection: str, field: str, values: Collection[str]) -> list[Row]:
        """Every row whose ``field`` is one of ``values``."""
        table = MODELS[collection].__table__
        column = table.c[field]
        wanted = _uuids(values) if isinstance(column.type, sa.Uuid) else list(values)
        out: list[Row] = []
        for chunk in _chunks(wanted):
            if chunk:
                out += self._select(collection, column.in_(chunk))
        return out

    def changed_rows(self, collection: str, field: str | None, values: Collection[str] | None, after: int,
                     upto: int, limit: int) -> list[Row]:
        """Rows with ``after < version <= upto`` (and ``field`` in ``values``), oldest first."""
        table = MODELS[collection].__table__
        where: list[Any] = [table.c.version > after, table.c.version <= upto]
        if field is not None and values is not None:
            column = table.c[field]
            where.append(column.in_(_uuids(values) if isinstance(column.type, sa.Uuid) else list(values)))
        table_rows = self.session.execute(
            sa.select(*wire_columns(collection))
            .where(table.c.company_id == self.company.id, *where)
            .order_by(table.c.version).limit(limit)
        ).all()
        data = dump_rows(collection, table_rows)
        return [Row(collection, str(r.id), r.version, r.deleted, d) for r, d in zip(table_rows, data, strict=True)]

    def has_blobs(self, sha256s: Collection[str]) -> set[str]:
        """Those hashes this company uploaded (an upload is recorded only once verified)."""
        b = Blob.__table__.c
        return set(self.session.execute(
            sa.select(b.sha256).where(b.company_id == self.company.id, b.sha256.in_(list(sha256s)))
        ).scalars())

    def load_results(self, mutation_ids: Collection[str]) -> dict[str, StoredResult]:
        """The first answers of these mutation ids, for replays (G2)."""
        if not mutation_ids:
            return {}
        wanted = frozenset(mutation_ids)
        if self._results is not None and wanted <= self._results[0]:  # asked again in the same push
            return {k: v for k, v in self._results[1].items() if k in wanted}
        m = AppliedMutation.__table__.c
        out: dict[str, StoredResult] = {}
        self._results = (wanted, out)
        for row in self.session.execute(
            sa.select(m.mutation_id, m.device_id, m.payload_hash, m.result)
            .where(m.company_id == self.company.id, m.mutation_id.in_(list(mutation_ids)))
        ):
            result: MutationResult = _RESULT.load(row.result)
            out[row.mutation_id] = StoredResult(row.mutation_id, row.device_id, row.payload_hash, result)
        return out

    # --- writes -----------------------------------------------------------------------------

    def save_rows(self, writes: list[RowWrite]) -> dict[tuple[str, str], Row]:
        """Create or update rows in bulk (server/db.py's write_synced_rows: one range of versions for
        the batch, taken late; an audit entry per change); return them as stored, without a re-read."""
        order = table_order()
        writes = sorted(writes, key=lambda w: order[MODELS[w.collection].__tablename__])
        missing: dict[str, list[str]] = {}
        for w in writes:
            if not w.create and (w.collection, w.id) not in self._raw:
                missing.setdefault(w.collection, []).append(w.id)
        for collection, ids in missing.items():
            self.load_rows(collection, ids)
        changes: list[RowChange] = []
        bases: list[tuple[str, dict[str, Any]]] = []
        for w in writes:
            table = MODELS[w.collection].__table__
            values = fast_load_values(w.collection, w.fields)
            current = None if w.create else self._raw.get((w.collection, w.id))
            if current is None:  # a create (or a row gone meanwhile): every column, defaults filled in
                full = {**_defaults(table), **values}
                changes.append(RowChange(table, uuid.UUID(w.id), full, create=True, deleted=w.deleted))
                bases.append((w.collection, full))
            else:
                old = current._mapping
                changes.append(RowChange(table, uuid.UUID(w.id), dict(values), create=False, deleted=w.deleted,
                                         old={k: old[k] for k in (*values, "deleted") if k in old}))
                bases.append((w.collection, {**old, **values}))
        write_synced_rows(self.session, self.company.id, changes, self.now)
        for w in writes:  # what was read before is no longer the row
            self._loaded.pop((w.collection, w.id), None)
            self._raw.pop((w.collection, w.id), None)
        by_collection: dict[str, list[tuple[RowChange, dict[str, Any]]]] = {}
        for change, (collection, data) in zip(changes, bases, strict=True):
            by_collection.setdefault(collection, []).append((change, data))
        saved: dict[tuple[str, str], Row] = {}
        for collection, items in by_collection.items():
            dumped = dump_rows(collection, [data for _c, data in items])
            for (change, data), wire in zip(items, dumped, strict=True):
                row_id = str(change.id)
                if change.create or change.values:
                    version = change.version
                    deleted = change.deleted or bool(data.get("deleted"))
                else:  # nothing changed: the row stays at its version
                    version, deleted = data["version"], bool(data["deleted"])
                saved[(collection, row_id)] = Row(collection, row_id, version, deleted, wire)
        return saved

    def save_outcomes(self, results: list[StoredResult], conflicts: list[ConflictRecord]) -> None:
        """Keep the first answers (without rows) and the conflict records for people to review."""
        if self._results is not None:
            self._results[1].update((r.mutation_id, r) for r in results)
        if results:
            self.session.execute(sa.insert(AppliedMutation.__table__), [
                {"company_id": self.company.id, "mutation_id": r.mutation_id, "device_id": r.device_id,
                 "payload_hash": r.fingerprint, "collection": self.targets.get(r.mutation_id, ("", ""))[0][:60],
                 "row_id": self.targets.get(r.mutation_id, ("", ""))[1][:40],
                 "status": str(r.result.status), "result": dump_result(r.result), "applied_at": self.now}
                for r in results
            ])
        known = set(self.session.execute(sa.select(SyncConflict.id).where(
            SyncConflict.id.in_([uuid.UUID(c.id) for c in conflicts]))).scalars()) if conflicts else set()
        for c in conflicts:
            if uuid.UUID(c.id) in known:
                continue  # deterministic ids: a replay names the record already kept
            self.session.add(SyncConflict(
                id=uuid.UUID(c.id), company_id=self.company.id, collection=c.collection, row_id=c.row_id,
                field=c.field, server_value=c.server_value, device_value=c.device_value, rule=c.rule,
                message=c.message, assignee_role=c.review_by, job_id=self._job_of(c), device_id=self.device_id,
                technician_id=self.technician_id, mutation_id=c.mutation_id,
            ))

    def _job_of(self, c: ConflictRecord) -> uuid.UUID | None:
        if c.collection == "job":
            return as_uuid(c.row_id)
        model = MODELS.get(c.collection)
        if model is None or "job_id" not in model.__table__.c:
            return None
        row_id = as_uuid(c.row_id)
        return self.session.execute(sa.select(model.job_id).where(model.id == row_id)).scalar() if row_id else None

