"""The wire schemas (sync/wire.py): what a third-party client sends and gets back."""

from __future__ import annotations

import json

import pytest
from marshmallow import Schema, ValidationError

from sync import wire
from sync.records import ConflictRecord, Mutation, MutationResult, Op, PullPage, ResultStatus, Row, RowRef

T = "2026-11-27T09:30:00+08:00"
MUTATION = {"mutation_id": "m-1", "collection": "job", "row_id": "j-1", "op": "update", "base_version": 3,
            "fields": {"status": "en_route"}, "base": {"status": "dispatched"}, "device_time": T}


def test_a_push_request_loads_into_records():
    body = {"protocol_version": 1, "device_id": "dev-1", "device_time": T, "mutations": [MUTATION]}
    request = wire.PushRequestSchema().load(body)
    [m] = request.mutations
    assert isinstance(m, Mutation) and m.op is Op.UPDATE and m.fields == {"status": "en_route"}
    assert wire.PushRequestSchema().dump(request) == body


def test_unknown_fields_are_rejected_not_dropped():
    with pytest.raises(ValidationError) as err:
        wire.MutationSchema().load({**MUTATION, "colour": "red"})
    assert "colour" in err.value.messages


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"device_time": "2026-11-27T09:30:00"}, "device_time"),  # no offset: the clock's zone is unknown
        ({"op": "upsert"}, "op"),
        ({"base_version": None}, "base_version"),  # an update must say what it was based on
        ({"op": "delete"}, "fields"),  # a delete carries no fields
    ],
)
def test_malformed_mutations_name_the_field(change, field):
    with pytest.raises(ValidationError) as err:
        wire.MutationSchema().load({**MUTATION, **change})
    assert field in err.value.messages


def test_a_create_needs_no_base_version():
    m = wire.MutationSchema().load({**MUTATION, "op": "create", "base_version": None, "base": {}})
    assert m.base_version is None


def test_a_push_batch_is_bounded():
    body = {"protocol_version": 1, "device_id": "d", "device_time": T,
            "mutations": [{**MUTATION, "mutation_id": f"m-{i}"} for i in range(wire.MAX_PUSH_BATCH + 1)]}
    with pytest.raises(ValidationError):
        wire.PushRequestSchema().load(body)


def test_a_result_with_its_row_and_conflicts_round_trips_through_json():
    conflict = ConflictRecord("c-1", "m-1", "job", "j-1", "route_order", 7, 4, "plan_dispatch_wins", "technician", "x")
    result = MutationResult("m-1", ResultStatus.CONFLICT, 9, "plan_dispatch_wins", "x",
                            Row("job", "j-1", 9, False, {"route_order": 7}), (conflict,))
    response = wire.PushResponseSchema().load(json.loads(json.dumps(
        wire.PushResponseSchema().dump({"results": [result], "server_time": T}))))
    assert response.results == [result]


def test_a_pull_page_round_trips_and_defaults_are_filled():
    page = PullPage([Row("job", "j-1", 4, True, {})], [RowRef("quote", "q-1")], "c1.x", True, T)
    assert wire.PullResponseSchema().load(wire.PullResponseSchema().dump(page)) == page
    request = wire.PullRequestSchema().load({"protocol_version": 1})
    assert request.cursor is None and request.limit == wire.DEFAULT_PULL_LIMIT
    with pytest.raises(ValidationError):
        wire.PullRequestSchema().load({"protocol_version": 1, "limit": 0})


def test_blob_refs_are_checked():
    ref = wire.BlobRefSchema().load({"sha256": "a" * 64, "content_type": "image/png", "size": 10})
    assert ref.size == 10
    with pytest.raises(ValidationError):
        wire.BlobRefSchema().load({"sha256": "A" * 64, "content_type": "application/zip", "size": 0})


def test_every_schema_is_a_plain_marshmallow_schema_for_flask_smorest():
    schemas = [v for v in vars(wire).values() if isinstance(v, type) and issubclass(v, Schema) and v is not Schema]
    names = {s.__name__ for s in schemas}
    assert names >= {"RowSchema", "RowRefSchema", "MutationSchema", "MutationResultSchema", "ConflictRecordSchema",
                     "PullRequestSchema", "PullResponseSchema", "PushRequestSchema", "PushResponseSchema",
                     "BlobRefSchema"}
    for schema in schemas:
        assert not hasattr(schema, "context") or not callable(schema.context)
        schema()  # constructible without arguments
