"""The wire shape of every synced collection's row data, and the sync API's own request shapes.

The field list of each collection is sync-core's registry (``sync.collections``); the type of each
field comes from the model's column. One marshmallow schema per collection dumps rows for a pull
(``dump(many=True)`` once per page) and loads a device's values for a push.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from functools import cache
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate

from server.checklists.models import ChecklistAnswer, ChecklistTemplate
from server.customers.models import Appliance, Customer, CustomerContact, Meter, Premises
from server.db import UTCDateTime
from server.jobs.models import Appointment, Job
from server.notifications.models import OutageNotice
from server.pagination import PageArgsSchema
from server.people.models import Technician
from server.sync.models import ConflictResolution, ConflictStatus
from server.visits.models import (
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    MeterReading,
    Note,
    PriceItem,
    Quote,
    Signature,
    VisitEvent,
)
from sync.collections import ORDER, REGISTRY
from sync.wire import HouseholdHistorySchema

MODELS: dict[str, type] = {
    "job": Job,
    "appointment": Appointment,
    "customer": Customer,
    "customer_contact": CustomerContact,
    "premises": Premises,
    "meter": Meter,
    "appliance": Appliance,
    "technician": Technician,
    "checklist_template": ChecklistTemplate,
    "price_item": PriceItem,
    "outage_notice": OutageNotice,
    "checklist_answer": ChecklistAnswer,
    "hazard": Hazard,
    "quote": Quote,
    "signature": Signature,
    "cleanup_confirmation": CleanupConfirmation,
    "visit_event": VisitEvent,
    "fee_collection": FeeCollection,
    "meter_reading": MeterReading,
    "note": Note,
}
# Read-only collections the server derives from other tables (server/sync/history.py): no model.
DERIVED: dict[str, type[ma.Schema]] = {"household_history": HouseholdHistorySchema}
COLLECTIONS: tuple[str, ...] = tuple(name for name in ORDER if name in MODELS or name in DERIVED)


def _field_for(column: sa.Column) -> ma.fields.Field:
    kw: dict[str, Any] = {"allow_none": bool(column.nullable)}
    t = column.type
    if isinstance(t, sa.Enum):
        return ma.fields.String(validate=validate.OneOf(list(t.enums)), **kw)
    if isinstance(t, UTCDateTime):
        return ma.fields.AwareDateTime(default_timezone=dt.UTC, **kw)
    if isinstance(t, sa.Uuid):
        return ma.fields.UUID(**kw)
    if isinstance(t, sa.Boolean):
        return ma.fields.Boolean(**kw)
    if isinstance(t, sa.Integer):
        return ma.fields.Integer(strict=True, **kw)
    if isinstance(t, sa.Float):
        return ma.fields.Float(allow_nan=False, **kw)
    if isinstance(t, sa.Date) and not isinstance(t, sa.DateTime):
        return ma.fields.Date(**kw)
    if isinstance(t, sa.Time):
        return ma.fields.Time(**kw)
    if isinstance(t, sa.JSON):
        return ma.fields.Raw(**kw)
    if isinstance(t, sa.String):
        length = getattr(t, "length", None)
        return ma.fields.String(validate=validate.Length(max=length) if length else None, **kw)
    raise TypeError(f"no wire type for column {column}")


@cache
def data_schema_class(collection: str) -> type[ma.Schema]:
    """The schema of one collection's row data: the registry's fields, typed by the model's columns
    (a derived collection's schema is sync.wire's)."""
    if collection in DERIVED:
        return DERIVED[collection]
    model = MODELS[collection]
    columns = model.__table__.columns
    attrs = {name: _field_for(columns[name]) for name in REGISTRY[collection].fields}
    attrs["__doc__"] = f"The synced fields of a {collection} row."
    name = "".join(part.title() for part in collection.split("_")) + "RowDataSchema"
    return type(name, (ma.Schema,), attrs)


@cache
def data_schema(collection: str) -> ma.Schema:
    """A shared instance of the collection's data schema (schemas are stateless in marshmallow 4)."""
    return data_schema_class(collection)()


def wire_columns(collection: str) -> list[sa.Column]:
    """The columns a pull selects for a collection: id, version, deleted, company and the synced fields."""
    table = MODELS[collection].__table__
    # company_id is selected for the caller's own check; it is not part of the dumped data.
    return [table.c.id, table.c.version, table.c.deleted, table.c.company_id] + [
        table.c[n] for n in REGISTRY[collection].fields]


def dump_rows(collection: str, rows: list[Any]) -> list[dict[str, Any]]:
    """The wire data of many rows of one collection (selected with ``wire_columns``): the schema's
    dump, compiled once per collection (see fastdump)."""
    from server.sync.fastdump import compile_dump

    dump = compile_dump(data_schema(collection))
    return [dump(r) for r in rows]


def load_values(collection: str, values: dict[str, Any]) -> dict[str, Any]:
    """A device's wire values as Python values for the model; raises ma.ValidationError naming fields.

    Times are converted to UTC, as the database gives them back, so a row dumped from the written
    objects reads exactly like the same row pulled later."""
    loaded = data_schema(collection).load(values, partial=True)
    return {k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v for k, v in loaded.items()}


class PullArgsSchema(ma.Schema):
    """The body of POST /sync/pull."""

    protocol_version = ma.fields.Integer(required=True)
    cursor = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=400))
    limit = ma.fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


class ConflictSchema(ma.Schema):
    """A conflict as a dispatcher sees it."""

    id = ma.fields.UUID(dump_only=True)
    collection = ma.fields.String()
    row_id = ma.fields.String()
    field = ma.fields.String()
    server_value = ma.fields.Raw(allow_none=True)
    device_value = ma.fields.Raw(allow_none=True)
    rule = ma.fields.String()
    message = ma.fields.String()
    assignee_role = ma.fields.String()
    job_id = ma.fields.UUID(allow_none=True)
    device_id = ma.fields.String(allow_none=True)
    technician_id = ma.fields.UUID(allow_none=True)
    mutation_id = ma.fields.String(allow_none=True)
    status = ma.fields.Enum(ConflictStatus, by_value=True)
    resolution = ma.fields.Enum(ConflictResolution, by_value=True, allow_none=True)
    resolved_value = ma.fields.Raw(allow_none=True)
    resolution_note = ma.fields.String()
    resolved_by_id = ma.fields.UUID(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class ConflictQuerySchema(PageArgsSchema):
    """Filters of GET /conflicts."""

    status = ma.fields.Enum(ConflictStatus, by_value=True, load_default=None)
    collection = ma.fields.String(load_default=None, validate=validate.OneOf(list(MODELS)))
    job_id = ma.fields.UUID(load_default=None)
    technician_id = ma.fields.UUID(load_default=None)
    assignee_role = ma.fields.String(load_default=None, validate=validate.OneOf(["dispatcher", "technician"]))


class ResolveConflictSchema(ma.Schema):
    """POST /conflicts/<id>/resolve: keep the server's value, take the device's, or set another."""

    resolution = ma.fields.Enum(ConflictResolution, by_value=True, required=True)
    value = ma.fields.Raw(allow_none=True)  # for ``custom``: the value to set, in wire form
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


def as_uuid(value: str) -> uuid.UUID | None:
    """The UUID a string names, or None when it is not one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- the pull's own selection: stored text in, wire values out --------------------------------------
# A first pull sends thousands of rows; building a uuid.UUID, a datetime or a parsed JSON value per
# column only to turn it back into text costs more than everything else. The pull selects those
# columns as the database's own text and ``pull_dump`` makes the wire values from it directly; the
# result equals ``data_schema(collection).dump`` of the typed row (tests/server/test_sync_fastdump.py
# compares both for every collection, on SQLite and PostgreSQL).


def _is_uuid(column: sa.Column) -> bool:
    return isinstance(column.type, sa.Uuid)


def _is_json(column: sa.Column) -> bool:
    return isinstance(column.type, sa.JSON)


def _is_time(column: sa.Column) -> bool:
    return isinstance(column.type, UTCDateTime)


def _is_enum(column: sa.Column) -> bool:
    return isinstance(column.type, sa.Enum)  # stored as VARCHAR + CHECK (server.db.enum_type): the text is the value


@cache
def pull_columns(collection: str, dialect: str) -> tuple[Any, ...]:
    """``wire_columns`` with UUID and JSON columns (and on SQLite the UTC times) as their stored text;
    id and company_id stay typed for the caller's checks."""
    table = MODELS[collection].__table__
    out: list[Any] = [table.c.id, table.c.version, table.c.deleted, table.c.company_id]
    for name in REGISTRY[collection].fields:
        column = table.c[name]
        if _is_uuid(column) or _is_json(column):
            # PostgreSQL: uuid::text is the canonical dashed form; json::text the stored JSON text.
            text = sa.type_coerce(column, sa.String) if dialect == "sqlite" else sa.cast(column, sa.Text)
            out.append(text.label(name))
        elif (_is_time(column) and dialect == "sqlite") or _is_enum(column):
            out.append(sa.type_coerce(column, sa.String).label(name))
        else:
            out.append(column)
    return tuple(out)


def _uuid_text(value: Any) -> str:
    if type(value) is str:
        if len(value) == 36:
            return value  # PostgreSQL's canonical text
        if len(value) == 32:  # SQLite stores uuid.hex
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _sqlite_time(value: Any) -> str:
    """SQLite's stored UTC text (``YYYY-MM-DD HH:MM:SS[.ffffff]``) as the wire's ISO 8601 with offset."""
    if type(value) is str and len(value) in (19, 26) and value[10] == " " and (len(value) == 19 or value[19] == "."):
        micro = value[20:]
        return f"{value[:10]}T{value[11:19]}{'' if micro in ('', '000000') else '.' + micro}+00:00"
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return (parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)).isoformat()


@cache
def pull_dump(collection: str, dialect: str) -> Any:
    """A function of a row selected with ``pull_columns`` giving its wire data (a fresh dict)."""
    from server.sync.fastdump import compile_dump, value_dumper

    if collection in DERIVED:
        return compile_dump(data_schema(collection))
    table = MODELS[collection].__table__
    schema = data_schema(collection)
    parsed: dict[str, Any] = {}

    def json_value(text: Any) -> Any:
        # Reference data repeats (skills, certifications): parse each text once. The values are only
        # serialised, never changed, so rows may share them.
        if type(text) is not str:
            return text
        if text not in parsed:
            if len(parsed) > 4096:
                parsed.clear()
            parsed[text] = json.loads(text)
        return parsed[text]

    plan: list[tuple[str, Any]] = []
    for name, field in schema.dump_fields.items():
        column = table.c[name]
        if _is_uuid(column):
            plan.append((name, _uuid_text))
        elif _is_json(column):
            plan.append((name, json_value))
        elif _is_time(column) and dialect == "sqlite":
            plan.append((name, _sqlite_time))
        else:
            plan.append((name, value_dumper(field)))

    # The fields follow pull_columns' order after id, version, deleted and company_id.
    assert [c.name for c in pull_columns(collection, dialect)[4:]] == [n for n, _ in plan], collection

    def dump(row: Any) -> dict[str, Any]:
        # strict=False: a caller may select more columns after the fields (the job's typed scope columns).
        return {name: None if value is None else conv(value)
                for (name, conv), value in zip(plan, row[4:], strict=False)}

    return dump
