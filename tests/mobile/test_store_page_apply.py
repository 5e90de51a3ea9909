"""A pulled page is applied in bulk (mobile/store.py ``_store_page_rows``) with exactly the effect of
storing its rows one by one: the same server copy, the same shown rows, pending changes kept on top,
older copies never winning, duplicates in a page resolved in page order."""

from __future__ import annotations

import json

from mobile.store import DeviceStore
from sync.records import Op, PullPage, Row


def _tables(store: DeviceStore) -> tuple[list, list]:
    db = store._db
    server = db.execute("SELECT collection, id, version, deleted, data FROM server_row ORDER BY 1, 2").fetchall()
    shown = db.execute("SELECT collection, id, version, deleted, job_id, data FROM row ORDER BY 1, 2").fetchall()
    return ([(c, i, v, d, json.loads(t)) for c, i, v, d, t in server],
            [(c, i, v, d, j, json.loads(t)) for c, i, v, d, j, t in shown])


def _prepare(store: DeviceStore) -> None:
    """Rows held before the page, and pending local changes to some of them."""
    store.load_server_rows([
        Row("job", "j1", 5, False, {"status": "dispatched", "route_order": 3, "customer_id": "c1"}),
        Row("job", "j2", 9, False, {"status": "dispatched", "route_order": 1}),
        Row("note", "n1", 4, False, {"job_id": "j1", "text": "旧"}),
    ])
    store.update("job", "j1", {"status": "en_route"})
    store.create("note", {"id": "n9", "job_id": "j1", "text": "本机"})


PAGE = [
    Row("job", "j1", 8, False, {"status": "dispatched", "route_order": 4, "customer_id": "c1"}),  # pending on top
    Row("job", "j2", 7, False, {"status": "cancelled"}),  # older than held: ignored
    Row("note", "n1", 6, True, {"job_id": "j1", "text": "旧"}),  # a tombstone
    Row("customer", "c1", 3, False, {"name": "王芳", "notes": "带\"引号\"\n"}),
    Row("premises", "p1", 2, False, {}),  # no fields at all
    Row("meter", "m1", 2, False, {"premises_id": "p1"}),
    Row("meter", "m1", 3, False, {"premises_id": "p1", "serial": "X"}),  # the later, newer copy wins
    Row("appliance", "a1", 5, False, {"kind": "b"}),
    Row("appliance", "a1", 4, False, {"kind": "older"}),  # the later but older copy loses
    Row("note", "n9", 11, False, {"job_id": "j1", "text": "服务器"}),  # the device's own create, still pending
    Row("household_history", "h1", 12, False, {"premises_id": "p1", "fee_collected_cents": 0}),
]


def test_a_page_in_bulk_equals_the_rows_one_by_one(tmp_path):
    bulk, single = DeviceStore(tmp_path / "bulk.sqlite"), DeviceStore(tmp_path / "single.sqlite")
    for store in (bulk, single):
        _prepare(store)
    bulk.apply_page(PullPage(rows=PAGE, revoked=[], cursor="c9", has_more=False))
    single.load_server_rows(PAGE)  # the row-by-row path
    assert _tables(bulk) == _tables(single)
    assert bulk.cursor() == "c9"
    assert bulk.get("job", "j1")["status"] == "en_route" and bulk.get("job", "j1")["route_order"] == 4
    assert bulk.get("job", "j2")["status"] == "dispatched"
    assert bulk.get("note", "n1") is None and bulk.get("meter", "m1")["serial"] == "X"
    assert bulk.get("appliance", "a1")["kind"] == "b" and bulk.get("premises", "p1") == {"id": "p1"}
    assert bulk.for_job("note", "j1") == [{"job_id": "j1", "text": "本机", "id": "n9"}]
    assert bulk.where("household_history", premises_id="p1") == [{"premises_id": "p1", "fee_collected_cents": 0,
                                                                  "id": "h1"}]
    assert [m.op for m in bulk.pending(10)] == [Op.UPDATE, Op.CREATE]
    bulk.close()
    single.close()
