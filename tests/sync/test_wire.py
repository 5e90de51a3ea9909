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


# --- the pull answer's fast path (wire.load_pull_page) accepts and yields exactly what the schema does ---

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_scalar = (st.none() | st.booleans() | st.integers(-3, 2**63) | st.floats(allow_nan=False) | st.text(max_size=8)
           | st.binary(max_size=3) | st.sampled_from(["true", "1", "no", "", "5", "5.0", T, "2026-11-27T09:30:00"]))
_any = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner)
                    | st.dictionaries(st.text(max_size=4) | st.integers(0, 3) | st.binary(max_size=2), inner, max_size=3),
                    max_leaves=6)


_text = st.text(min_size=1, max_size=60)
_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                      max_leaves=5)
_row = st.fixed_dictionaries({"collection": _text, "id": st.text(min_size=1, max_size=64),
                              "version": st.integers(0, 2**53)},
                             optional={"deleted": st.booleans(), "data": st.dictionaries(st.text(max_size=10), _value,
                                                                                         max_size=5)})
_ref = st.fixed_dictionaries({"collection": _text, "id": st.text(min_size=1, max_size=64)})
_page = st.fixed_dictionaries(
    {"rows": st.lists(_row, max_size=4), "revoked": st.lists(_ref, max_size=3), "cursor": st.text(max_size=5),
     "has_more": st.booleans()},
    optional={"server_time": st.sampled_from([T, "2026-11-27T01:30:00+00:00", None])})
# What a corruption may put in place of a value: wrong types, edge lengths and numbers, look-alike strings.
_EDGE = ["", "x" * 61, "a" * 65, -1, 5.0, 5.5, "5", True, False, 1, 0, "true", None, b"job", "2026-11-27T09:30:00",
         "yesterday", (), {}, [], {"a": 1}, {1: 2}, {b"k": 1}]
_odd = st.one_of(*[st.sampled_from(_EDGE)] * 4, _any)


@st.composite
def _pages(draw):
    """A well-formed page, then maybe a few corruptions: a value replaced, a key dropped or added."""
    page = draw(_page)
    targets = [page, *page["rows"], *page["revoked"], *(r["data"] for r in page["rows"] if "data" in r)]
    for _ in range(draw(st.integers(0, 2))):
        target = draw(st.sampled_from(targets))
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "add" or not target:
            target[draw(st.text(max_size=8) | st.sampled_from(["rows", "deleted", "data", "colour"]) | st.integers(0, 2)
                        | st.binary(max_size=2))] = draw(_odd)
        elif action == "drop":
            target.pop(draw(st.sampled_from(sorted(target, key=repr))))
        else:
            target[draw(st.sampled_from(sorted(target, key=repr)))] = draw(_odd)
    return page


def _outcome(load, data):
    try:
        return "ok", load(data)
    except ValidationError as err:
        return "refused", err.normalized_messages()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pages() | _any)
def test_the_fast_pull_decoder_accepts_and_yields_exactly_what_the_schema_does(data):
    assert _outcome(wire.load_pull_page, data) == _outcome(wire.PullResponseSchema().load, data)


def test_a_servers_page_takes_the_fast_path(monkeypatch):
    body = json.loads(json.dumps({
        "rows": [{"collection": "job", "id": "j-1", "version": 7, "deleted": False,
                  "data": {"status": "dispatched", "lat": 31.2, "skills": ["a"], "x": None}},
                 {"collection": "note", "id": "n-1", "version": 8, "deleted": True}],
        "revoked": [{"collection": "job", "id": "j-0"}], "cursor": "c1.x", "has_more": True,
        "server_time": "2026-11-27T01:30:00+00:00"}))
    expected = wire.PullResponseSchema().load(body)
    monkeypatch.setattr(wire._PULL_RESPONSE, "load", lambda *_a, **_k: pytest.fail("took the slow path"))
    assert wire.load_pull_page(body) == expected
    assert expected.rows[1].data == {} and expected.rows[1].deleted


def test_every_field_with_every_odd_value_is_judged_as_the_schema_judges():
    import copy

    base = {"rows": [{"collection": "job", "id": "j-1", "version": 7, "deleted": False, "data": {"a": [1], "b": None}},
                     {"collection": "note", "id": "n-1", "version": 0}],
            "revoked": [{"collection": "job", "id": "j-0"}], "cursor": "c1.x", "has_more": True,
            "server_time": "2026-11-27T01:30:00+00:00"}
    gone = object()
    places = [((), k) for k in [*base, "extra"]]
    places += [(("rows", i), k) for i in (0, 1) for k in ("collection", "id", "version", "deleted", "data", "extra")]
    places += [(("revoked", 0), k) for k in ("collection", "id", "extra")]
    places += [(("rows", 0, "data"), k) for k in ("a", 1, b"k")]
    checked = 0
    for path, key in places:
        for value in [*_EDGE, gone, 2**70, "ü" * 60, "ü" * 64, float("inf"), 0.0]:
            page = copy.deepcopy(base)
            target = page
            for step in path:
                target = target[step]
            if value is gone:
                target.pop(key, None)
            else:
                target[key] = value
            assert _outcome(wire.load_pull_page, page) == _outcome(wire.PullResponseSchema().load, page), (path, key, value)
            checked += 1
    assert checked > 600
