"""The marshmallow schemas of every shape on the sync wire: one definition for the endpoints,
the HTTP transport and the OpenAPI document.

Loading returns the dataclasses of sync.records; dumping accepts them. Unknown fields are rejected
(marshmallow's default ``RAISE``), so a misspelt field fails loudly instead of being dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from sync.records import (
    BlobRef,
    ConflictRecord,
    Mutation,
    MutationResult,
    Op,
    PullPage,
    PullRequest,
    PushRequest,
    PushResponse,
    ResultStatus,
    Row,
    RowRef,
)
from sync.server_core import DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_BATCH

PROTOCOL_VERSION_HEADER = "X-Fieldsync-Protocol"
SUPPORTED_VERSIONS_HEADER = "X-Fieldsync-Supported-Protocols"
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="must be a lower-case hex SHA-256")
ID = validate.Length(min=1, max=64)
NAME = validate.Length(min=1, max=60)


def _aware_iso(value: str) -> None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValidationError("must carry a UTC offset")


def Timestamp(**kwargs: Any) -> fields.String:  # noqa: N802 (a field factory reads like a field class)
    """An ISO 8601 date-time string with an offset, kept as text."""
    return fields.String(validate=_aware_iso, **kwargs)


class RowSchema(Schema):
    """A synced row: collection, id, version, tombstone, and the fields of its collection."""

    collection = fields.String(required=True, validate=NAME)
    id = fields.String(required=True, validate=ID)
    version = fields.Integer(required=True, validate=validate.Range(min=0))
    deleted = fields.Boolean(load_default=False)
    data = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Row:
        return Row(**data)


class RowRefSchema(Schema):
    """A row named by collection and id."""

    collection = fields.String(required=True, validate=NAME)
    id = fields.String(required=True, validate=ID)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> RowRef:
        return RowRef(**data)


class MutationSchema(Schema):
    """One change from a device's outbox."""

    mutation_id = fields.String(required=True, validate=ID)
    collection = fields.String(required=True, validate=NAME)
    row_id = fields.String(required=True, validate=ID)
    op = fields.Enum(Op, by_value=True, required=True)
    base_version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.Raw(allow_none=True),
                          load_default=dict, attribute="fields")
    base = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict)
    device_time = Timestamp(required=True)

    @validates_schema
    def check_op(self, data: dict[str, Any], **_: Any) -> None:
        if data["op"] is not Op.CREATE and data.get("base_version") is None:
            raise ValidationError("an update or delete carries the base_version the device last saw", "base_version")
        if data["op"] is Op.DELETE and data.get("fields"):
            raise ValidationError("a delete carries no fields", "fields")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Mutation:
        return Mutation(**data)


class ConflictRecordSchema(Schema):
    """A concurrent change a rule decided, with both values."""

    id = fields.String(required=True)
    mutation_id = fields.String(required=True)
    collection = fields.String(required=True)
    row_id = fields.String(required=True)
    field = fields.String(required=True)
    server_value = fields.Raw(allow_none=True, required=True)
    device_value = fields.Raw(allow_none=True, required=True)
    rule = fields.String(required=True)
    review_by = fields.String(required=True, validate=validate.OneOf(["dispatcher", "technician"]))
    message = fields.String(load_default="")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> ConflictRecord:
        return ConflictRecord(**data)


class MutationResultSchema(Schema):
    """The server's answer to one mutation."""

    mutation_id = fields.String(required=True)
    status = fields.Enum(ResultStatus, by_value=True, required=True)
    version = fields.Integer(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    message = fields.String(load_default=None, allow_none=True)
    row = fields.Nested(RowSchema, load_default=None, allow_none=True)
    conflicts = fields.List(fields.Nested(ConflictRecordSchema), load_default=list)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> MutationResult:
        return MutationResult(**{**data, "conflicts": tuple(data["conflicts"])})


class PullRequestSchema(Schema):
    """POST /api/v1/sync/pull body."""

    protocol_version = fields.Integer(required=True)
    cursor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=65536))
    limit = fields.Integer(load_default=DEFAULT_PULL_LIMIT, validate=validate.Range(min=1, max=MAX_PULL_LIMIT))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> PullRequest:
        return PullRequest(**data)


class PullResponseSchema(Schema):
    """POST /api/v1/sync/pull answer: one page."""

    rows = fields.List(fields.Nested(RowSchema), required=True)
    revoked = fields.List(fields.Nested(RowRefSchema), required=True)
    cursor = fields.String(required=True)
    has_more = fields.Boolean(required=True)
    server_time = Timestamp(load_default=None, allow_none=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> PullPage:
        return PullPage(**data)


class PushRequestSchema(Schema):
    """POST /api/v1/sync/push body."""

    protocol_version = fields.Integer(required=True)
    device_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    device_time = Timestamp(required=True)
    mutations = fields.List(fields.Nested(MutationSchema), required=True,
                            validate=validate.Length(max=MAX_PUSH_BATCH))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> PushRequest:
        return PushRequest(**data)


class PushResponseSchema(Schema):
    """POST /api/v1/sync/push answer: one result per mutation, in order."""

    results = fields.List(fields.Nested(MutationResultSchema), required=True)
    server_time = Timestamp(required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> PushResponse:
        return PushResponse(**data)


class HouseholdHistorySchema(Schema):
    """The ``data`` of a ``household_history`` row (read only, derived by the server; sync.history):
    one earlier finished visit at a premises the technician has a job at. The row's ``id`` is the
    earlier job's id."""

    premises_id = fields.UUID(required=True)
    customer_id = fields.UUID(required=True)
    ref = fields.String(required=True)  # the office's job reference
    job_type = fields.String(required=True)
    status = fields.String(required=True)  # the job's status now: completed, could_not_complete, closed, cancelled
    outcome = fields.String(required=True, validate=validate.OneOf(["completed", "could_not_complete", "cancelled"]))
    finished_on = fields.AwareDateTime(required=True)  # completion, else departure, start of work, arrival, plan
    technician_name = fields.String(load_default=None, allow_none=True)  # who made the visit
    could_not_complete_reason = fields.String(load_default=None, allow_none=True)
    cancelled_reason = fields.String(load_default="")
    hazards_critical = fields.Integer(required=True, validate=validate.Range(min=0))  # hazards found on the visit
    hazards_major = fields.Integer(required=True, validate=validate.Range(min=0))
    hazards_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    checklist_answered = fields.Integer(required=True, validate=validate.Range(min=0))  # current answers
    checklist_failed = fields.Integer(required=True, validate=validate.Range(min=0))  # answered "fail"
    fee_collected_cents = fields.Integer(required=True, validate=validate.Range(min=0))  # 0: nothing collected


class BlobRefSchema(Schema):
    """A content-addressed blob: its hash, type and size."""

    sha256 = fields.String(required=True, validate=SHA256)
    content_type = fields.String(required=True, validate=validate.OneOf(["image/png", "image/jpeg", "image/webp"]))
    size = fields.Integer(required=True, validate=validate.Range(min=1, max=10 * 1024 * 1024))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> BlobRef:
        return BlobRef(**data)



# --- the pull answer's fast path -------------------------------------------------------------------
# A first sync decodes tens of thousands of rows; marshmallow's per-field machinery costs ~100 µs a
# row. ``load_pull_page`` accepts exactly what ``PullResponseSchema().load`` accepts and returns the
# same values (tests/sync/test_wire.py proves it with generated inputs): it checks the plain JSON
# shapes a server sends in one pass, and hands anything else to the schema, which then accepts it
# or raises its own ValidationError. The schema stays the one definition of the wire.

_PULL_RESPONSE = PullResponseSchema()
_PAGE_KEYS = frozenset({"rows", "revoked", "cursor", "has_more", "server_time"})
_ROW_KEYS = frozenset({"collection", "id", "version", "deleted", "data"})
_REF_KEYS = frozenset({"collection", "id"})


def _fast_row(r: Any) -> Row | None:
    if type(r) is not dict or not r.keys() <= _ROW_KEYS:
        return None
    collection, row_id, version = r.get("collection"), r.get("id"), r.get("version")
    deleted, data = r.get("deleted", False), r.get("data", _MISSING)
    if (type(collection) is not str or not 1 <= len(collection) <= 60 or type(row_id) is not str
            or not 1 <= len(row_id) <= 64 or type(version) is not int or version < 0 or type(deleted) is not bool):
        return None
    if data is _MISSING:
        data = {}
    elif type(data) is not dict or not all(type(k) is str for k in data):
        return None
    else:
        data = dict(data)
    return Row(collection, row_id, version, deleted, data)


def _fast_ref(r: Any) -> RowRef | None:
    if type(r) is not dict or r.keys() != _REF_KEYS:
        return None
    collection, row_id = r["collection"], r["id"]
    if type(collection) is not str or not 1 <= len(collection) <= 60 or type(row_id) is not str \
            or not 1 <= len(row_id) <= 64:
        return None
    return RowRef(collection, row_id)


_MISSING = object()


def load_pull_page(data: Any) -> PullPage:
    """``PullResponseSchema().load(data)``, fast for the plain JSON a server sends (same result,
    same ValidationError: anything unusual is left to the schema)."""
    page = _fast_page(data)
    return page if page is not None else _PULL_RESPONSE.load(data)


def _fast_page(data: Any) -> PullPage | None:
    if type(data) is not dict or not data.keys() <= _PAGE_KEYS:
        return None
    rows, revoked = data.get("rows"), data.get("revoked")
    cursor, has_more, server_time = data.get("cursor"), data.get("has_more"), data.get("server_time")
    if type(rows) is not list or type(revoked) is not list or type(cursor) is not str or type(has_more) is not bool:
        return None
    if server_time is not None:
        if type(server_time) is not str:
            return None
        try:
            _aware_iso(server_time)
        except ValidationError:
            return None
    fast_row, fast_ref = _fast_row, _fast_ref
    out = [fast_row(r) for r in rows]
    if None in out:
        return None
    refs = [fast_ref(r) for r in revoked]
    if None in refs:
        return None
    return PullPage(rows=out, revoked=refs, cursor=cursor, has_more=has_more, server_time=server_time)
