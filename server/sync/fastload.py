"""A device's wire values as the model's Python values, fast: ``load_values`` without marshmallow's
per-field machinery for the ordinary case.

``server.sync.schemas.load_values`` (the collection's marshmallow data schema) stays the definition.
The loader compiled here per collection reads that schema's own fields once and converts each
value with the same functions the fields use (``fromisoformat``, ``uuid.UUID``, length and choice
checks). Whatever it is not sure of — a value of another type, a string the field would refuse, a
name the schema does not know — goes to ``load_values`` whole, so a refusal carries the schema's own
message. tests/server/test_sync_fastload.py compares both on every synced collection.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import marshmallow as ma
from marshmallow import validate

from server.sync.schemas import data_schema, load_values


class _Refuse(Exception):
    """Not the ordinary case: the schema decides."""


Converter = Callable[[Any], Any]


def _string(field: ma.fields.String) -> Converter:
    longest, choices = None, None
    for v in field.validators:
        if isinstance(v, validate.Length) and v.min is None and v.equal is None:
            longest = v.max
        elif isinstance(v, validate.OneOf):
            choices = frozenset(v.choices)
        else:
            return _refuse_all
    def convert(value: Any) -> Any:
        if type(value) is not str or (longest is not None and len(value) > longest) or (
                choices is not None and value not in choices):
            raise _Refuse
        return value
    return convert


def _refuse_all(value: Any) -> Any:
    raise _Refuse


def _aware_datetime(value: Any) -> dt.datetime:
    if type(value) is not str:
        raise _Refuse
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Refuse from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _uuid(value: Any) -> uuid.UUID:
    if type(value) is not str:
        raise _Refuse
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Refuse from None


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise _Refuse
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise _Refuse
    return value


def _float(value: Any) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int and abs(value) < 2**53:
        return float(value)
    raise _Refuse


def _iso(parse: Callable[[str], Any]) -> Converter:
    def convert(value: Any) -> Any:
        if type(value) is not str:
            raise _Refuse
        try:
            return parse(value)
        except ValueError:
            raise _Refuse from None
    return convert


def _raw(value: Any) -> Any:
    return value


def _converter(field: ma.fields.Field) -> Converter:
    kind = type(field)
    if field.validators and kind is not ma.fields.String:
        return _refuse_all
    if kind is ma.fields.String:
        return _string(field)
    if kind is ma.fields.AwareDateTime and field.default_timezone is dt.UTC and field.format in (None, "iso"):
        return _aware_datetime
    if kind is ma.fields.UUID:
        return _uuid
    if kind is ma.fields.Boolean:
        return _boolean
    if kind is ma.fields.Integer and field.strict:
        return _integer
    if kind is ma.fields.Float and field.allow_nan is False and not field.as_string:
        return _float
    if kind is ma.fields.Date and field.format in (None, "iso"):
        return _iso(dt.date.fromisoformat)
    if kind is ma.fields.Time and field.format in (None, "iso"):
        return _iso(dt.time.fromisoformat)
    if kind is ma.fields.Raw:
        return _raw
    return _refuse_all


@cache
def _plan(collection: str) -> dict[str, tuple[Converter, bool]]:
    schema = data_schema(collection)
    plan = {}
    for name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else name
        if (field.attribute or name) != key:
            return {}  # not the plain shape compiled here: every value goes to the schema
        plan[key] = (_converter(field), bool(field.allow_none))
    return plan


def fast_load_values(collection: str, values: dict[str, Any]) -> dict[str, Any]:
    """``load_values(collection, values)``: the same result, the same ValidationError when refused."""
    plan = _plan(collection)
    out: dict[str, Any] = {}
    try:
        for key, value in values.items():
            convert, nullable = plan[key]
            if value is None:
                if not nullable:
                    raise _Refuse
                out[key] = None
            else:
                out[key] = convert(value)
    except (_Refuse, KeyError):
        return load_values(collection, values)
    return {k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v for k, v in out.items()}
