"""Dump functions compiled from marshmallow schemas, for the sync hot path (a pull page of thousands
of rows, a push answer of hundreds).

The schema stays the one definition of the wire: ``compile_dump(schema)`` reads the schema's own
fields (names, data keys, attributes, nesting) once and builds a function that produces exactly
what ``schema.dump(obj)`` produces, without marshmallow's per-field machinery on every value. A
field type it does not know is dumped by the field itself, so the output never differs;
tests/server/test_sync_fastdump.py compares both on every synced collection and the envelopes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import marshmallow as ma
from flask import Response

Dumper = Callable[[Any], Any]


def _value_dumper(field: ma.fields.Field) -> Dumper:
    """How one field turns a present, non-None value into its wire value."""
    if isinstance(field, ma.fields.Nested):
        inner = compile_dump(field.schema)
        if field.many:
            return lambda v: [inner(x) for x in v]
        return inner
    if isinstance(field, ma.fields.List):
        item = _none_safe(field.inner)
        return lambda v: [item(x) for x in v]
    if isinstance(field, ma.fields.Dict) and not isinstance(field, ma.fields.Nested):
        keys = _none_safe(field.key_field) if field.key_field is not None else None
        values = _none_safe(field.value_field) if field.value_field is not None else None
        if keys is None and values is None:
            return lambda v: dict(v)
        if (type(field.key_field) is ma.fields.String
                and (field.value_field is None or type(field.value_field) is ma.fields.Raw)):
            # Text keys and raw values (a row's ``data``): the dict itself, unless a key is not text.
            return lambda v: v if all(type(a) is str for a in v) else {str(a): b for a, b in v.items()}
        k = keys or (lambda x: x)
        w = values or (lambda x: x)
        return lambda v: {k(a): w(b) for a, b in v.items()}
    if isinstance(field, ma.fields.Enum):
        if field.by_value is True:
            return lambda v: v.value
        return lambda v: field._serialize(v, None, None)
    if type(field) in (ma.fields.UUID,):
        return lambda v: str(v) if isinstance(v, uuid.UUID) else str(uuid.UUID(str(v)))
    if type(field) in (ma.fields.AwareDateTime, ma.fields.NaiveDateTime, ma.fields.DateTime, ma.fields.Date,
                       ma.fields.Time) and field.format in (None, "iso"):
        return lambda v: v.isoformat() if isinstance(v, dt.date | dt.time) else field._serialize(v, None, None)
    if type(field) is ma.fields.String:
        return lambda v: v if type(v) is str else str(v)
    if type(field) is ma.fields.Integer and not field.as_string:
        return lambda v: v if type(v) is int else int(v)
    if type(field) is ma.fields.Float and not field.as_string:
        return lambda v: v if type(v) is float else float(v)
    if type(field) is ma.fields.Boolean:
        return lambda v: v if type(v) is bool else field._serialize(v, None, None)
    if type(field) is ma.fields.Raw:
        return lambda v: v
    return lambda v: field._serialize(v, None, None)


def value_dumper(field: ma.fields.Field) -> Dumper:
    """How one field of a schema turns a present, non-None value into its wire value."""
    return _value_dumper(field)


def _none_safe(field: ma.fields.Field) -> Dumper:
    dump = _value_dumper(field)
    return lambda v: None if v is None else dump(v)


def compile_dump(schema: ma.Schema) -> Dumper:
    """A function equal to ``schema.dump(obj)`` for one object (use a list comprehension for many)."""
    return _compile(type(schema), frozenset(schema.only or ()) or None, frozenset(schema.exclude or ()))


@cache
def _compile(schema_class: type[ma.Schema], only: frozenset | None, exclude: frozenset) -> Dumper:
    schema = schema_class(only=only, exclude=exclude)
    plan: list[tuple[str, str, Dumper]] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        plan.append((key, field.attribute or name, _value_dumper(field)))
    missing = ma.missing

    def dump(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # One type test per object, not per field; a None is None on the wire for every field type.
        if isinstance(obj, Mapping):
            for key, attr, conv in plan:
                value = obj.get(attr, missing)
                if value is not missing:
                    out[key] = None if value is None else conv(value)
        else:
            for key, attr, conv in plan:
                value = getattr(obj, attr, missing)
                if value is not missing:
                    out[key] = None if value is None else conv(value)
        return out

    from sync.wire import RowSchema  # noqa: PLC0415

    if schema_class is RowSchema and only is None and not exclude:
        return _fast_row(dump)
    return dump


def _fast_row(general: Dumper) -> Dumper:
    """RowSchema's dump for a sync.records.Row of plain values (a page holds thousands): the same
    dict the compiled dump makes, built at once; any other value takes the compiled dump."""

    def dump(row: Any) -> Any:
        try:
            collection, row_id, version, deleted, data = row.collection, row.id, row.version, row.deleted, row.data
        except AttributeError:
            return general(row)
        if (type(collection) is str and type(row_id) is str and type(version) is int and type(deleted) is bool
                and type(data) is dict and all(type(k) is str for k in data)):
            return {"collection": collection, "id": row_id, "version": version, "deleted": deleted, "data": data}
        return general(row)

    return dump


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(schema: ma.Schema, obj: Any, status: int = 200) -> Response:
    """The response for ``obj`` dumped by ``schema``'s compiled dump, as compact UTF-8 JSON."""
    body = json.dumps(compile_dump(schema)(obj), ensure_ascii=False, separators=(",", ":"), default=_default)
    return Response(body.encode(), status=status, mimetype="application/json")


__all__ = ["compile_dump", "json_response"]
