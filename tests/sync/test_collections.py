"""The collection registry (sync/collections.py) matches the server's tables and answers who may write what."""

from __future__ import annotations

import pytest

from sync.collections import REGISTRY, FieldClass, device_may_write

COMMON = {"id", "company_id", "version", "deleted", "created_at", "updated_at"}


def server_columns() -> dict[str, set[str]]:
    server_models = pytest.importorskip("server.models")
    from server.db import Base, Synced

    del server_models
    return {
        m.class_.__tablename__: {c.key for c in m.column_attrs} - COMMON
        for m in Base.registry.mappers
        if issubclass(m.class_, Synced)
    }


def test_every_synced_collection_has_exactly_the_server_tables_fields():
    columns = server_columns()
    for name, spec in REGISTRY.items():
        if spec.read_only:
            continue  # derived by the server from other tables (household_history): no table of its own
        assert name in columns, f"{name} is not a synced server table"
        assert set(spec.fields) | spec.excluded == columns[name], name


def test_every_device_created_fact_table_on_the_server_is_registered():
    columns = server_columns()
    for table in ("checklist_answer", "hazard", "quote", "signature", "cleanup_confirmation", "visit_event",
                  "fee_collection", "meter_reading", "note"):
        assert table in columns and REGISTRY[table].device_creates


def test_personal_data_never_travels():
    assert "id_number" not in REGISTRY["customer"].fields and "id_number" in REGISTRY["customer"].excluded


def test_the_server_adapter_can_ask_who_may_write_a_field():
    assert device_may_write("job", "status")
    assert device_may_write("job", "arrived_at")
    assert device_may_write("job", "route_order")  # the technician may reorder their day
    assert not device_may_write("job", "technician_id")
    assert not device_may_write("job", "window_start")
    assert not device_may_write("visit_event", "corrected_at", creating=True)  # the server computes it
    assert device_may_write("signature", "quote_id", creating=True)
    assert not device_may_write("signature", "quote_id")  # a key never changes after creation
    assert not device_may_write("nope", "x")


def test_signatures_and_captured_facts_are_immutable_facts():
    for name in ("signature", "checklist_answer", "meter_reading", "fee_collection"):
        classes = set(REGISTRY[name].fields.values())
        assert classes <= {FieldClass.FACT, FieldClass.KEY}, name


def test_household_history_is_read_only_and_server_owned():
    spec = REGISTRY["household_history"]
    assert spec.read_only and not spec.device_creates and not spec.device_deletes
    assert set(spec.fields.values()) == {FieldClass.SERVER}
    assert spec.scope.keyset == "premises" and spec.scope.field == "premises_id"
    for name in spec.fields:
        assert not device_may_write("household_history", name)
        assert not device_may_write("household_history", name, creating=True)


def test_household_history_wire_schema_has_the_registry_fields():
    from sync.wire import HouseholdHistorySchema

    assert set(HouseholdHistorySchema().fields) == set(REGISTRY["household_history"].fields)
