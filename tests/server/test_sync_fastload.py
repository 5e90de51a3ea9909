"""server.sync.fastload converts a device's values exactly as the collection's marshmallow schema does.

For every synced collection and every field: ordinary values, edge values and values of the wrong
type go through both ``load_values`` (the schema) and ``fast_load_values``; both give the same
Python values, or both raise the same ValidationError.
"""

from __future__ import annotations

import marshmallow as ma
import pytest

from server.sync.fastload import fast_load_values
from server.sync.schemas import MODELS, data_schema, load_values

SAMPLES = [
    None, True, False, 0, 1, -1, 7, 2**60, 1.5, -0.25, float("inf"), float("nan"), "", "x", "x" * 300,
    "2026-11-27T09:30:00+08:00", "2026-11-27T09:30:00", "2026-11-27T01:30:00.123456Z", "2026-11-27",
    "2026-13-45", "09:30", "09:30:15", "25:00", "2026-11-27 09:30+00:00", "yesterday",
    "6f1c2b4e-8d3a-4c55-9e0f-2a7b9c1d3e4f", "6F1C2B4E8D3A4C559E0F2A7B9C1D3E4F", "{6f1c2b4e-8d3a-4c55-9e0f-2a7b9c1d3e4f}",
    "not-a-uuid", "en_route", "completed", "dispatched", "open", "fixed", "minor", "tap", "signature",
    "quote_approval", "cleanup", "device", "routine", [], {}, ["a"], {"k": 1}, b"bytes", "true", "1",
]


def _outcome(load, collection, values):
    try:
        return "ok", load(collection, dict(values))
    except ma.ValidationError as err:
        return "error", err.normalized_messages()


def _same(a, b):
    # NaN never equals itself; every other value must be equal (and of the same type).
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return a[1] == b[1]
    return a[1].keys() == b[1].keys() and all(
        type(a[1][k]) is type(b[1][k]) and (a[1][k] == b[1][k] or a[1][k] != a[1][k]) for k in a[1])


@pytest.mark.parametrize("collection", sorted(MODELS))
def test_every_field_of_every_collection_loads_as_the_schema_loads_it(collection):
    fields = list(data_schema(collection).load_fields)
    checked = 0
    for name in fields:
        for value in SAMPLES:
            expected = _outcome(load_values, collection, {name: value})
            got = _outcome(fast_load_values, collection, {name: value})
            assert _same(expected, got), (collection, name, value, expected, got)
            checked += 1
    # Several fields at once, and a name the schema does not know.
    every = {name: None for name in fields}
    assert _same(_outcome(load_values, collection, every), _outcome(fast_load_values, collection, every))
    unknown = {"no_such_field": 1}
    assert _outcome(fast_load_values, collection, unknown)[0] == "error"
    assert _same(_outcome(load_values, collection, unknown), _outcome(fast_load_values, collection, unknown))
    assert checked == len(fields) * len(SAMPLES)


def test_a_times_offset_becomes_utc_as_the_database_gives_it_back():
    got = fast_load_values("visit_event", {"at": "2026-11-27T09:30:00+08:00"})
    assert got["at"].isoformat() == "2026-11-27T01:30:00+00:00"
    assert got == load_values("visit_event", {"at": "2026-11-27T09:30:00+08:00"})
