"""sync.fastwire's push loaders accept exactly what sync.wire's schemas accept and yield the same values.

Generated bodies (well-formed, then corrupted: a value replaced by another type or an edge value, a
key dropped or added) go through both; for each, either both give equal results, or the schema
raises and the fast loader steps aside (returns None) so the schema's own error is what the client
sees.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from sync.fastwire import PushRequestSchema as FastPushRequestSchema
from sync.fastwire import PushResponseSchema as FastPushResponseSchema
from sync.fastwire import dump_push_request, load_push_request, load_push_response
from sync.wire import PushRequestSchema, PushResponseSchema

T = "2026-11-27T09:30:00+08:00"
_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                      max_leaves=5)
_fields = st.dictionaries(st.text(max_size=10), _value, max_size=4)
_mutation = st.fixed_dictionaries(
    {"mutation_id": st.text(min_size=1, max_size=64), "collection": st.text(min_size=1, max_size=60),
     "row_id": st.text(min_size=1, max_size=64), "op": st.sampled_from(["create", "update", "delete"]),
     "device_time": st.sampled_from([T, "2026-11-27T01:30:00+00:00", "2026-11-27T01:30:00.123456Z"])},
    optional={"base_version": st.none() | st.integers(0, 2**53), "fields": _fields, "base": _fields})
_request = st.fixed_dictionaries({"protocol_version": st.integers(0, 3), "device_id": st.text(min_size=1, max_size=80),
                                  "device_time": st.just(T), "mutations": st.lists(_mutation, max_size=4)})
_conflict = st.fixed_dictionaries(
    {"id": st.text(max_size=8), "mutation_id": st.text(max_size=8), "collection": st.text(max_size=8),
     "row_id": st.text(max_size=8), "field": st.text(max_size=8), "server_value": _value, "device_value": _value,
     "rule": st.text(max_size=8), "review_by": st.sampled_from(["dispatcher", "technician"])},
    optional={"message": st.text(max_size=8)})
_row = st.fixed_dictionaries({"collection": st.text(min_size=1, max_size=60), "id": st.text(min_size=1, max_size=64),
                              "version": st.integers(0, 2**53)},
                             optional={"deleted": st.booleans(), "data": _fields})
_result = st.fixed_dictionaries(
    {"mutation_id": st.text(max_size=8), "status": st.sampled_from(["applied", "merged", "conflict", "rejected"])},
    optional={"version": st.none() | st.integers(-2, 2**53), "reason": st.none() | st.text(max_size=6),
              "message": st.none() | st.text(max_size=6), "row": st.none() | _row,
              "conflicts": st.lists(_conflict, max_size=2)})
_response = st.fixed_dictionaries({"results": st.lists(_result, max_size=4), "server_time": st.just(T)})
# What a corruption may put in place of a value: wrong types, edge lengths and numbers, look-alike strings.
_odd = _value | st.sampled_from(["", "x" * 61, "a" * 65, "d" * 81, -1, 5.0, 5.5, "5", True, False, 1, 0, "true",
                                 None, b"job", "2026-11-27T09:30:00", "yesterday", "CREATE", "applied", "teacher",
                                 [], {}, [{}], {"a": 1}, {1: 2}])


def _dicts(value):
    """Every dict inside ``value`` (itself included), to corrupt one."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)


def _fresh(draw):
    """An odd value of its own: ``_odd`` samples shared lists and dicts, which a later corruption in
    the same example would otherwise change in place for every example after it (flaky data)."""
    return copy.deepcopy(draw(_odd))


def _corrupted(base):
    @st.composite
    def build(draw):
        body = draw(base)
        for _ in range(draw(st.integers(0, 2))):
            target = draw(st.sampled_from(list(_dicts(body))))
            action = draw(st.sampled_from(["replace", "drop", "add"]))
            if action == "add" or not target:
                target[draw(st.text(max_size=8) | st.sampled_from(["mutations", "fields", "base", "op", "row",
                                                                   "colour", "deleted", "message"]))] = _fresh(draw)
            elif action == "drop":
                target.pop(draw(st.sampled_from(sorted(target, key=repr))))
            else:
                target[draw(st.sampled_from(sorted(target, key=repr)))] = _fresh(draw)
        return body
    return build()


def _outcome(load, data):
    try:
        return ("ok", load(copy.deepcopy(data)))
    except ValidationError as err:
        return ("error", err.normalized_messages())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corrupted(_request))
def test_the_push_request_fast_path_agrees_with_the_schema(body):
    schema = _outcome(PushRequestSchema().load, body)
    fast = load_push_request(copy.deepcopy(body))
    if schema[0] == "error":
        assert fast is None, (schema, fast)
    elif fast is not None:
        assert fast == schema[1]
    # The route's schema (fast path, else the schema) answers exactly as the schema does, errors included.
    assert _outcome(FastPushRequestSchema().load, body) == schema


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corrupted(_response))
def test_the_push_answer_fast_path_agrees_with_the_schema(body):
    schema = _outcome(PushResponseSchema().load, body)
    fast = load_push_response(copy.deepcopy(body))
    if schema[0] == "error":
        assert fast is None, (schema, fast)
    elif fast is not None:
        assert fast == schema[1]
    assert _outcome(FastPushResponseSchema().load, body) == schema


def test_an_ordinary_push_takes_the_fast_path():
    body = {"protocol_version": 1, "device_id": "tab-1", "device_time": T, "mutations": [
        {"mutation_id": "m1", "collection": "job", "row_id": "j1", "op": "update", "base_version": 4,
         "fields": {"status": "en_route"}, "base": {"status": "dispatched"}, "device_time": T},
        {"mutation_id": "m2", "collection": "note", "row_id": "n1", "op": "create", "fields": {"text": "好"},
         "device_time": T}]}
    fast = load_push_request(body)
    assert fast is not None and fast == PushRequestSchema().load(body)
    # A batch over the limit is the schema's to refuse, with its message.
    body["mutations"] = body["mutations"][:1] * 501
    assert load_push_request(body) is None
    with pytest.raises(ValidationError) as err:
        FastPushRequestSchema().load(body)
    assert "mutations" in err.value.normalized_messages()


_ODD = ["", "x" * 61, "a" * 65, "d" * 81, -1, 5.0, 5.5, "5", True, False, 1, 0, "true", None, b"job",
        "2026-11-27T09:30:00", "yesterday", "CREATE", "applied", "teacher", "create", "delete", [], {}, [{}],
        {"a": 1}, {1: 2}, T]
_REQUEST = {"protocol_version": 1, "device_id": "tab-1", "device_time": T, "mutations": [
    {"mutation_id": "m1", "collection": "job", "row_id": "j1", "op": "update", "base_version": 4,
     "fields": {"status": "en_route"}, "base": {"status": "dispatched"}, "device_time": T},
    {"mutation_id": "m2", "collection": "note", "row_id": "n1", "op": "create", "base_version": None,
     "fields": {"text": "好"}, "base": {}, "device_time": T},
    {"mutation_id": "m3", "collection": "note", "row_id": "n1", "op": "delete", "base_version": 2, "fields": {},
     "base": {}, "device_time": T}]}
_RESPONSE = {"server_time": T, "results": [
    {"mutation_id": "m1", "status": "conflict", "version": 7, "reason": "plan_dispatch_wins", "message": "m",
     "row": {"collection": "job", "id": "j1", "version": 7, "deleted": False, "data": {"status": "en_route"}},
     "conflicts": [{"id": "c1", "mutation_id": "m1", "collection": "job", "row_id": "j1", "field": "priority",
                    "server_value": 1, "device_value": 2, "rule": "plan_dispatch_wins", "review_by": "technician",
                    "message": "m"}]},
    {"mutation_id": "m2", "status": "rejected", "version": None, "reason": "out_of_scope", "message": "m",
     "row": None, "conflicts": []}]}


def _variants(template):
    """The template with, in turn, each key of each of its objects dropped, or replaced by each odd value,
    and an unknown key added to each object."""
    paths = []

    def walk(value, path):
        if isinstance(value, dict):
            paths.append(path)
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))
    walk(template, ())
    for path in paths:
        def target(body, path=path):
            for step in path:
                body = body[step]
            return body
        body = copy.deepcopy(template)
        target(body)["colour"] = "red"
        yield body
        for key in list(target(template)):
            body = copy.deepcopy(template)
            del target(body)[key]
            yield body
            for odd in _ODD:
                body = copy.deepcopy(template)
                target(body)[key] = copy.deepcopy(odd)
                yield body


@pytest.mark.parametrize(("schema", "fast", "template"), [
    (PushRequestSchema, load_push_request, _REQUEST), (PushResponseSchema, load_push_response, _RESPONSE)])
def test_every_single_corruption_is_judged_as_the_schema_judges_it(schema, fast, template):
    checked = took_fast = 0
    for body in _variants(template):
        expected = _outcome(schema().load, body)
        got = fast(copy.deepcopy(body))
        if expected[0] == "error":
            assert got is None, (body, expected)
        elif got is not None:
            assert got == expected[1], body
            took_fast += 1
        checked += 1
    assert checked > 500 and took_fast > 20  # the variants reach both sides of the fast path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_request)
def test_the_client_dumps_a_push_exactly_as_the_schema_does(body):
    try:
        request = PushRequestSchema().load(body)
    except ValidationError:
        return
    assert dump_push_request(request) == PushRequestSchema().dump(request)
    assert list(dump_push_request(request)) == list(PushRequestSchema().dump(request))
