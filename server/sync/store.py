"""SqlServerStore: sync-core's ServerStore port on SQLAlchemy, for one company.

Rows travel as ``sync.records.Row`` with JSON values (the collection's data schema dumps and loads
them). Every method is one or a few bulk queries. The caller owns the transaction: open it, call
the core, commit (or roll back on an exception).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import AuditEntry, Base, current_version
from server.jobs.models import Job
from server.org.models import Company
from server.sync.fastdump import compile_dump
from server.sync.models import AppliedMutation, Device, DeviceScope, SyncConflict
from server.sync.schemas import MODELS, as_uuid, dump_rows, load_values, wire_columns
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


class SqlServerStore:
    """One company's synced rows, answers and conflicts in the server database."""

    def __init__(self, session: Session, company: Company, *, now: dt.datetime | None = None,
                 device_id: str | None = None, technician_id: uuid.UUID | None = None) -> None:
        self.session, self.company = session, company
        self.device_id, self.technician_id = device_id, technician_id
        self.now = now or dt.datetime.now(dt.UTC)
        # mutation id -> (collection, row id), told by the adapter: answers are filed under their row.
        self.targets: dict[str, tuple[str, str]] = {}

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
        found = [r for r in self.session.execute(sa.select(*wire_columns(collection)).where(*where))
                 if r.company_id == self.company.id]
        data = dump_rows(collection, found)
        return [Row(collection, str(r.id), r.version, r.deleted, d) for r, d in zip(found, data, strict=True)]

    def load_rows(self, collection: str, ids: Collection[str]) -> dict[str, Row]:
        """The rows with these ids (ids that are not UUIDs cannot exist)."""
        if collection not in MODELS:
            return {}
        table = MODELS[collection].__table__
        rows: dict[str, Row] = {}
        for chunk in _chunks(_uuids(ids)):
            if chunk:
                rows.update((r.id, r) for r in self._select(collection, table.c.id.in_(chunk)))
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
        m = AppliedMutation.__table__.c
        out: dict[str, StoredResult] = {}
        for row in self.session.execute(
            sa.select(m.mutation_id, m.device_id, m.payload_hash, m.result)
            .where(m.company_id == self.company.id, m.mutation_id.in_(list(mutation_ids)))
        ):
            result: MutationResult = _RESULT.load(row.result)
            out[row.mutation_id] = StoredResult(row.mutation_id, row.device_id, row.payload_hash, result)
        return out

    # --- writes -----------------------------------------------------------------------------

    def save_rows(self, writes: list[RowWrite]) -> dict[tuple[str, str], Row]:
        """Create or update rows through the ORM, so versions and the audit log follow server/db.py."""
        by_collection: dict[str, list[RowWrite]] = {}
        for w in writes:
            by_collection.setdefault(w.collection, []).append(w)
        touched: list[tuple[str, Any]] = []
        # Parents before children, one flush per table: with no relationship() between, say, a
        # cleanup confirmation and the signature it names, the ORM's flush order is not guaranteed to
        # follow the foreign key (PostgreSQL refused such a batch; SQLite does not check in time).
        order = {table.name: i for i, table in enumerate(Base.metadata.sorted_tables)}
        for collection in sorted(by_collection, key=lambda c: order[MODELS[c].__tablename__]):
            group = by_collection[collection]
            model = MODELS[collection]
            existing = {
                str(o.id): o for o in self.session.execute(
                    sa.select(model).where(model.id.in_([uuid.UUID(w.id) for w in group if not w.create]))
                ).scalars() if o.company_id == self.company.id
            } if any(not w.create for w in group) else {}
            for w in group:
                values = load_values(collection, w.fields)
                obj = existing.get(w.id)
                if obj is None:
                    obj = model(id=uuid.UUID(w.id), company_id=self.company.id, deleted=w.deleted, **values)
                    self.session.add(obj)
                else:
                    for name, value in values.items():
                        setattr(obj, name, value)
                    if w.deleted:
                        obj.deleted = True
                touched.append((collection, obj))
            self.session.flush()
        saved: dict[tuple[str, str], Row] = {}
        for collection in by_collection:
            # The flushed objects hold what was written (versions included): dump them, no re-read.
            objs = [o for c, o in touched if c == collection]
            for o, data in zip(objs, dump_rows(collection, objs), strict=True):
                saved[(collection, str(o.id))] = Row(collection, str(o.id), o.version, o.deleted, data)
        return saved

    def save_outcomes(self, results: list[StoredResult], conflicts: list[ConflictRecord]) -> None:
        """Keep the first answers (without rows) and the conflict records for people to review."""
        if results:
            self.session.execute(sa.insert(AppliedMutation), [
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

