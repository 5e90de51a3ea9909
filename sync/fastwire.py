"""Fast loaders for the two big sync shapes: a push request (server) and a push answer (client).

``sync.wire``'s marshmallow schemas stay the one definition of the wire. A push of 500 mutations
costs marshmallow ~80 ms of field machinery, so these loaders check the same rules in plain
Python for the ordinary case and produce the same dataclasses. They accept only what the schema
accepts: anything unusual — an unknown or missing key, a value of another type, a string the
schema would coerce, a rule broken — makes them return None, and the caller loads with the schema,
which gives its own errors. So a valid body loads to exactly what the schema makes, and an invalid
one fails with exactly the schema's messages (tests/sync/test_fastwire.py compares both).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sync import wire
from sync.records import (
    ConflictRecord,
    Mutation,
    MutationResult,
    Op,
    PushRequest,
    PushResponse,
    ResultStatus,
    Row,
)
from sync.server_core import MAX_PUSH_BATCH

_MUTATION_KEYS = frozenset({"mutation_id", "collection", "row_id", "op", "base_version", "fields", "base",
                            "device_time"})
_MUTATION_REQUIRED = frozenset({"mutation_id", "collection", "row_id", "op", "device_time"})
_REQUEST_KEYS = frozenset({"protocol_version", "device_id", "device_time", "mutations"})
_RESULT_KEYS = frozenset({"mutation_id", "status", "version", "reason", "message", "row", "conflicts"})
_ROW_KEYS = frozenset({"collection", "id", "version", "deleted", "data"})
_CONFLICT_KEYS = frozenset({"id", "mutation_id", "collection", "row_id", "field", "server_value", "device_value",
                            "rule", "review_by", "message"})
_CONFLICT_REQUIRED = _CONFLICT_KEYS - {"message"}
_OPS = {op.value: op for op in Op}
_STATUSES = {s.value: s for s in ResultStatus}


class _Refuse(Exception):
    """Not the ordinary case: let the marshmallow schema decide (and word the error)."""


def _text(value: Any, lo: int = 0, hi: int | None = None) -> str:
    if type(value) is not str or len(value) < lo or (hi is not None and len(value) > hi):
        raise _Refuse
    return value


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _int(value: Any, lo: int | None = None) -> int:
    if type(value) is not int or (lo is not None and value < lo):
        raise _Refuse
    return value


def _opt_int(value: Any, lo: int | None = None) -> int | None:
    return None if value is None else _int(value, lo)


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Refuse
    for key in value:
        if type(key) is not str:
            raise _Refuse
    return dict(value)


def _aware_time(value: Any) -> str:
    if type(value) is not str:
        raise _Refuse
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Refuse from None
    if parsed.tzinfo is None:
        raise _Refuse
    return value


def _mutation(m: Any) -> Mutation:
    if type(m) is not dict or not _MUTATION_REQUIRED <= m.keys() <= _MUTATION_KEYS:
        raise _Refuse
    op = _OPS.get(m["op"]) if type(m["op"]) is str else None
    if op is None:
        raise _Refuse
    base_version = _opt_int(m.get("base_version"), 0)
    fields = _dict(m["fields"]) if "fields" in m else {}
    if (op is not Op.CREATE and base_version is None) or (op is Op.DELETE and fields):
        raise _Refuse  # the schema's own check words these
    return Mutation(
        mutation_id=_text(m["mutation_id"], 1, 64), collection=_text(m["collection"], 1, 60),
        row_id=_text(m["row_id"], 1, 64), op=op, base_version=base_version, fields=fields,
        device_time=_aware_time(m["device_time"]), base=_dict(m["base"]) if "base" in m else {},
    )


def load_push_request(data: Any) -> PushRequest | None:
    """The PushRequest ``PushRequestSchema().load(data)`` gives, or None to let the schema load it."""
    try:
        if type(data) is not dict or data.keys() != _REQUEST_KEYS:
            raise _Refuse
        mutations = data["mutations"]
        if type(mutations) is not list or len(mutations) > MAX_PUSH_BATCH:
            raise _Refuse
        return PushRequest(protocol_version=_int(data["protocol_version"]), device_id=_text(data["device_id"], 1, 80),
                           device_time=_aware_time(data["device_time"]), mutations=[_mutation(m) for m in mutations])
    except _Refuse:
        return None


def _row(r: Any) -> Row:
    if type(r) is not dict or not {"collection", "id", "version"} <= r.keys() <= _ROW_KEYS:
        raise _Refuse
    deleted = r.get("deleted", False)
    if type(deleted) is not bool:
        raise _Refuse
    return Row(collection=_text(r["collection"], 1, 60), id=_text(r["id"], 1, 64), version=_int(r["version"], 0),
               deleted=deleted, data=_dict(r["data"]) if "data" in r else {})


def _conflict(c: Any) -> ConflictRecord:
    if type(c) is not dict or not _CONFLICT_REQUIRED <= c.keys() <= _CONFLICT_KEYS:
        raise _Refuse
    if c["review_by"] not in ("dispatcher", "technician"):
        raise _Refuse
    return ConflictRecord(id=_text(c["id"]), mutation_id=_text(c["mutation_id"]), collection=_text(c["collection"]),
                          row_id=_text(c["row_id"]), field=_text(c["field"]), server_value=c["server_value"],
                          device_value=c["device_value"], rule=_text(c["rule"]), review_by=c["review_by"],
                          message=_text(c["message"]) if "message" in c else "")


def _result(r: Any) -> MutationResult:
    if type(r) is not dict or not {"mutation_id", "status"} <= r.keys() <= _RESULT_KEYS:
        raise _Refuse
    status = _STATUSES.get(r["status"]) if type(r["status"]) is str else None
    if status is None:
        raise _Refuse
    row = r.get("row")
    conflicts = r.get("conflicts", [])
    if type(conflicts) is not list:
        raise _Refuse
    return MutationResult(mutation_id=_text(r["mutation_id"]), status=status, version=_opt_int(r.get("version")),
                          reason=_opt_text(r.get("reason")), message=_opt_text(r.get("message")),
                          row=None if row is None else _row(row), conflicts=tuple(_conflict(c) for c in conflicts))


def load_push_response(data: Any) -> PushResponse | None:
    """The PushResponse ``PushResponseSchema().load(data)`` gives, or None to let the schema load it."""
    try:
        if type(data) is not dict or data.keys() != {"results", "server_time"} or type(data["results"]) is not list:
            raise _Refuse
        return PushResponse(results=[_result(r) for r in data["results"]], server_time=_aware_time(data["server_time"]))
    except _Refuse:
        return None


class PushRequestSchema(wire.PushRequestSchema):
    """``sync.wire.PushRequestSchema`` (same fields, same OpenAPI name) whose plain ``load`` takes the fast path."""

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: str | None = None) -> Any:
        if many is None and partial is None and unknown is None:
            fast = load_push_request(data)
            if fast is not None:
                return fast
        return super().load(data, many=many, partial=partial, unknown=unknown)


class PushResponseSchema(wire.PushResponseSchema):
    """``sync.wire.PushResponseSchema`` whose plain ``load`` takes the fast path."""

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: str | None = None) -> Any:
        if many is None and partial is None and unknown is None:
            fast = load_push_response(data)
            if fast is not None:
                return fast
        return super().load(data, many=many, partial=partial, unknown=unknown)


def dump_push_request(request: PushRequest) -> dict[str, Any]:
    """``PushRequestSchema().dump(request)`` for a request of plain values (what the client sends)."""
    return {
        "protocol_version": request.protocol_version, "device_id": request.device_id,
        "device_time": request.device_time,
        "mutations": [
            {"mutation_id": m.mutation_id, "collection": m.collection, "row_id": m.row_id, "op": m.op.value,
             "base_version": m.base_version, "fields": dict(m.fields), "base": dict(m.base),
             "device_time": m.device_time}
            for m in request.mutations
        ],
    }
