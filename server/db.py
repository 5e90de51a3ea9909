"""The declarative base, column types and mixins every model uses, and the change sequence.

Every row that syncs to tablets carries a UUID ``id``, a ``version`` and a ``deleted`` tombstone.
``version`` is the company's change sequence number at the row's last change. Numbers are handed out
by an UPDATE of the company's ``change_counter`` row inside the writing transaction, so the row lock
is held until commit: transactions of one company that write synced rows commit in the order of
their numbers, and a pull that reads ``version <= counter`` never skips a change committed later
with a smaller number (guarantee G4).

Two writers use it. The ORM (the console, the API, the planners) gets its numbers in a
``before_flush`` hook, at its first flush. A sync push writes through :func:`write_synced_rows`:
everything is decided and converted before, the audit entries are inserted *before* the counter is
touched, then one UPDATE takes the whole batch's range of numbers and the rows follow in a few bulk
statements. The lock is still held until commit (that is what G4 needs), but it is taken late and
once, so pushes of one company wait on each other only for their final writes and commit, not for
their reads, merge decisions and audit rows.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; fieldsync stores aware UTC times only")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_type(e: type, length: int = 30) -> sa.Enum:
    """A portable enum column storing the members' values (VARCHAR + CHECK, no native type)."""
    return sa.Enum(e, native_enum=False, length=length, values_callable=lambda x: [m.value for m in x])


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic migrations are stable."""

    registry = sa.orm.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime(), uuid.UUID: sa.Uuid(), dict: sa.JSON(), list: sa.JSON()},
    )


class Timestamped:
    """created_at / updated_at, set by the server in UTC."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UUIDPrimaryKey:
    """A UUID primary key, made by whoever creates the row (device or server)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class CompanyScoped:
    """A row owned by one gas company; every query of a user is filtered by it."""

    @declared_attr
    def company_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(sa.ForeignKey("company.id"), index=True)


class Synced(UUIDPrimaryKey, CompanyScoped, Timestamped):
    """A row that syncs to tablets: id, version (change sequence number), deleted tombstone."""

    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    deleted: Mapped[bool] = mapped_column(default=False)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # noqa: N805
        return (sa.Index(f"ix_{cls.__tablename__}_company_version", "company_id", "version"),)


class ChangeCounter(Base):
    """The last change sequence number handed out for a company (one row per company)."""

    __tablename__ = "change_counter"
    company_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("company.id"), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class AuditEntry(Base):
    """Who changed what, when and from which device (R19)."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    company_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("company.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(80), default="system")
    device_id: Mapped[str | None] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(20))
    entity: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[str] = mapped_column(sa.String(40))
    changes: Mapped[dict] = mapped_column(default=dict)

    __table_args__ = (sa.Index("ix_audit_entry_entity", "entity", "entity_id"),)


@dataclass(frozen=True)
class Actor:
    """Who is making the current changes, for the audit log."""

    user_id: uuid.UUID | None = None
    name: str = "system"
    device_id: str | None = None


current_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("current_actor", default=Actor())  # noqa: B039 (frozen)
audit_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_enabled", default=True)


def allocate_versions(session: Session, company_id: uuid.UUID, count: int) -> int:
    """Reserve ``count`` sequence numbers for a company; return the last one.

    The UPDATE locks the company's counter row until the transaction ends (see module docstring).
    """
    table = ChangeCounter.__table__
    stmt = (
        sa.update(table)
        .where(table.c.company_id == company_id)
        .values(value=table.c.value + count)
        .returning(table.c.value)
    )
    last = session.execute(stmt).scalar()
    if last is None:
        session.execute(sa.insert(table).values(company_id=company_id, value=count))
        last = count
    return int(last)


def current_version(session: Session, company_id: uuid.UUID) -> int:
    """The highest committed change sequence number of a company (0 before any change)."""
    value = session.execute(
        sa.select(ChangeCounter.value).where(ChangeCounter.company_id == company_id)
    ).scalar()
    return int(value or 0)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time | uuid.UUID):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):  # enums
        return value.value
    return value


def _changed_columns(obj: Any) -> Iterator[tuple[str, Any, Any]]:
    state = sa.inspect(obj)
    for attr in state.mapper.column_attrs:
        if attr.key in ("version", "updated_at", "created_at"):
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            yield attr.key, old, new


# Fields whose values never go into the audit log (secrets, personal data held elsewhere).
AUDIT_REDACTED = {"password_hash", "token_hash", "data", "id_number"}


@dataclass
class RowChange:
    """One synced row a bulk writer creates or updates (``values`` are the model's Python values).

    For a create ``values`` holds every column but the bookkeeping ones (id, company_id, version,
    deleted, created_at, updated_at); for an update only the columns written, and ``old`` their
    current values (the audit log's "before")."""

    table: sa.Table
    id: uuid.UUID
    values: dict[str, Any]
    create: bool
    deleted: bool = False
    old: dict[str, Any] | None = None
    version: int = 0  # set by write_synced_rows


@functools.cache
def _audited_tables() -> frozenset[str]:
    return frozenset(m.class_.__tablename__ for m in Base.registry.mappers if getattr(m.class_, "__audited__", True))


@functools.cache
def table_order() -> dict[str, int]:
    """Each table's place in parent-first (foreign key) order."""
    return {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}


def write_synced_rows(session: Session, company_id: uuid.UUID, changes: list[RowChange],
                      now: dt.datetime | None = None) -> list[RowChange]:
    """Write many synced rows of one company in bulk, as the ORM would: each changed row gets the next
    version, every change an audit entry (who, what, when, which device; secrets redacted).

    An update whose values equal the current ones is not a change (no version, no audit entry), as
    with the ORM. Returns the changes written, versions set; ``changes`` must be in parent-first
    table order (foreign keys are checked per statement on PostgreSQL).

    Order matters for G4 and for waiting: the audit entries (which need no version) are inserted
    first; then one UPDATE of the counter takes the range of numbers (and its row lock, held until
    commit); then one INSERT per table and one UPDATE per table and column set."""
    now = now or utcnow()
    written: list[RowChange] = []
    for change in changes:
        if not change.create:
            old = change.old or {}
            change.values = {k: v for k, v in change.values.items() if k not in old or old[k] != v}
            if change.deleted and not old.get("deleted", False):
                change.values["deleted"] = True
            if not change.values:
                continue
        written.append(change)
    if not written:
        return []
    actor = current_actor.get()
    if audit_enabled.get():
        audited = _audited_tables()
        entries = [
            {"company_id": company_id, "at": now, "actor_id": actor.user_id, "actor_name": actor.name,
             "device_id": actor.device_id, "action": "create" if c.create else "update", "entity": c.table.name,
             "entity_id": str(c.id),
             "changes": {} if c.create else {
                 k: ["***", "***"] if k in AUDIT_REDACTED else [_jsonable((c.old or {}).get(k)), _jsonable(v)]
                 for k, v in c.values.items()}}
            for c in written if c.table.name in audited
        ]
        if entries:
            session.execute(sa.insert(AuditEntry.__table__), entries)
    last = allocate_versions(session, company_id, len(written))
    for offset, change in enumerate(written):
        change.version = last - len(written) + 1 + offset
    inserts: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    updates: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    tables: dict[str, sa.Table] = {}
    for c in written:
        tables[c.table.name] = c.table
        if c.create:
            inserts[(c.table.name, tuple(sorted(c.values)))].append(
                {**c.values, "id": c.id, "company_id": company_id, "version": c.version, "deleted": c.deleted,
                 "created_at": now, "updated_at": now})
        else:
            names = tuple(sorted(c.values))
            updates[(c.table.name, names)].append({**{f"v_{k}": v for k, v in c.values.items()},
                                                   "k_id": c.id, "v_version": c.version, "v_updated_at": now})
    order = table_order()
    for (name, _names), rows in sorted(inserts.items(), key=lambda kv: order[kv[0][0]]):
        session.execute(sa.insert(tables[name]), rows)
    for (name, names), params in sorted(updates.items(), key=lambda kv: order[kv[0][0]]):
        t = tables[name]
        stmt = (sa.update(t).where(t.c.id == sa.bindparam("k_id"), t.c.company_id == company_id)
                .values({k: sa.bindparam(f"v_{k}") for k in (*names, "version", "updated_at")}))
        session.execute(stmt, params)
    return written


@event.listens_for(Session, "before_flush")
def _stamp_versions_and_audit(session: Session, flush_context: Any, instances: Any) -> None:
    """Give every new or changed synced row the next version; write the audit log; forbid deletes."""
    for obj in session.deleted:
        if isinstance(obj, Synced):
            raise RuntimeError(
                f"{type(obj).__name__} rows are never deleted: set deleted=True (a tombstone travels)"
            )
    changed: dict[uuid.UUID, list[Synced]] = defaultdict(list)
    audit_rows: list[AuditEntry] = []
    actor = current_actor.get()
    auditing = audit_enabled.get()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, AuditEntry | ChangeCounter):
            continue
        is_new = obj in session.new
        if not is_new and not session.is_modified(obj, include_collections=False):
            continue
        if isinstance(obj, Synced):
            changed[obj.company_id].append(obj)
        if auditing and getattr(obj, "__audited__", True):
            if is_new:
                changes = {}
            else:
                changes = {
                    k: [_jsonable(o), _jsonable(n)] if k not in AUDIT_REDACTED else ["***", "***"]
                    for k, o, n in _changed_columns(obj)
                }
                if not changes:
                    continue
            if obj.id is None:
                obj.id = uuid.uuid4()
            audit_rows.append(
                AuditEntry(
                    company_id=getattr(obj, "company_id", None),
                    actor_id=actor.user_id,
                    actor_name=actor.name,
                    device_id=actor.device_id,
                    action="create" if is_new else "update",
                    entity=obj.__tablename__,
                    entity_id=str(obj.id),
                    changes=changes,
                )
            )
    with session.no_autoflush:
        for company_id, objs in changed.items():
            if company_id is None:
                raise ValueError(f"{type(objs[0]).__name__} has no company_id")
            last = allocate_versions(session, company_id, len(objs))
            for offset, obj in enumerate(objs):
                obj.version = last - len(objs) + 1 + offset
    session.add_all(audit_rows)


@event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: enforce foreign keys (off by default, so SQLite would hide what PostgreSQL refuses) and
    wait for a busy writer instead of failing at once."""
    module = type(dbapi_connection).__module__
    if module.startswith(("sqlite3", "pysqlite")):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
