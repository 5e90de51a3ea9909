"""The compiled dumps equal the schemas' own dump, for every synced collection and the sync envelopes."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.extensions import db
from server.sync.fastdump import compile_dump
from server.sync.schemas import COLLECTIONS, MODELS, data_schema, wire_columns
from sync.records import ConflictRecord, MutationResult, PullPage, PushResponse, ResultStatus, Row, RowRef
from sync.wire import PullResponseSchema, PushResponseSchema
from tests.factories import in_hours, make_household, make_job
from tests.fixtures.visits import make_cleanup, make_hazard, make_quote


def test_every_collection_dumps_the_same_as_its_schema(tablet):
    customer = make_household(tablet.company, special_care=True)
    job = make_job(tablet.company, customer, technician=tablet.technician, window_start=in_hours(1), chargeable=True)
    make_quote(job)
    make_cleanup(job)
    make_hazard(job)
    checked = 0
    for collection in COLLECTIONS:
        if collection not in MODELS:
            continue  # derived (household_history): tests/server/test_sync_pull.py compares its dump
        table = MODELS[collection].__table__
        rows = db.session.execute(sa.select(*wire_columns(collection))
                                  .where(table.c.company_id == tablet.company.id)).all()
        schema = data_schema(collection)
        fast = compile_dump(schema)
        for r in rows:
            assert fast(r) == schema.dump(r), collection
            checked += 1
    assert checked >= 8


def test_the_envelopes_dump_the_same_as_their_schemas():
    row = Row("job", str(uuid.uuid4()), 7, False, {"status": "dispatched", "route_order": None,
                                                   "window_start": dt.datetime.now(dt.UTC).isoformat()})
    page = PullPage(rows=[row], revoked=[RowRef("note", "n1")], cursor="c1.d", has_more=False,
                    server_time=dt.datetime.now(dt.UTC).isoformat())
    assert compile_dump(PullResponseSchema())(page) == PullResponseSchema().dump(page)
    # Rows of unusual values (not the plain ones a pull makes) leave the fast row path and still match.
    odd = PullPage(rows=[Row("job", "j", 3, 0, {1: "x"}), Row("note", "n", True, False, {}),  # type: ignore[arg-type]
                         Row("job", "k", 4, None, None)],  # type: ignore[arg-type]
                   revoked=[], cursor="c", has_more=False)
    assert compile_dump(PullResponseSchema())(odd) == PullResponseSchema().dump(odd)
    conflict = ConflictRecord("c", "m", "job", row.id, "route_order", 9, 5, "plan_dispatch_wins", "technician", "x")
    results = [MutationResult("m", ResultStatus.CONFLICT, 8, "plan_dispatch_wins", "msg", row, (conflict,)),
               MutationResult("m2", ResultStatus.REJECTED, None, "out_of_scope", "no")]
    response = PushResponse(results=results, server_time=dt.datetime.now(dt.UTC).isoformat())
    assert compile_dump(PushResponseSchema())(response) == PushResponseSchema().dump(response)


def test_the_pulls_own_selection_dumps_the_same_as_the_schema(tablet):
    """pull_columns + pull_dump (stored text turned into wire values) equal the schema's dump of the
    typed row, for every collection, on this test run's database."""
    from server.sync.schemas import pull_columns, pull_dump

    customer = make_household(tablet.company, special_care=True)
    job = make_job(tablet.company, customer, technician=tablet.technician, window_start=in_hours(1), chargeable=True)
    job.arrived_at = dt.datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=dt.UTC)  # with and without microseconds
    job.completed_at = dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=dt.UTC)
    job.required_skills = ["检修", "meter"]
    job.required_certifications = []
    db.session.commit()
    make_quote(job)
    make_cleanup(job)
    make_hazard(job)
    dialect = db.session.get_bind().dialect.name
    checked = 0
    for collection in COLLECTIONS:
        if collection not in MODELS:
            continue
        table = MODELS[collection].__table__
        where = table.c.company_id == tablet.company.id
        typed = {r.id: r for r in db.session.execute(sa.select(*wire_columns(collection)).where(where))}
        raw = {r.id: r for r in db.session.execute(sa.select(*pull_columns(collection, dialect)).where(where))}
        assert typed.keys() == raw.keys(), collection
        schema, fast = data_schema(collection), pull_dump(collection, dialect)
        for key, r in typed.items():
            assert fast(raw[key]) == schema.dump(r), collection
            checked += 1
    assert checked >= 8
