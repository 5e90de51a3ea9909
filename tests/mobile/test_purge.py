"""A household's file leaves the tablet with its last job (issue #4), but never before the tablet's own
pending changes to that job are answered (G8); the outbox itself is never purged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from mobile import keystore as ks
from mobile.demo import demo_rows
from mobile.store import DeviceStore
from sync.records import MutationResult, PullPage, ResultStatus, Row, RowRef

NOW = "2026-11-27T09:00:00+00:00"
PNG = b"\x89PNG\r\n\x1a\n" + b"meter photo" * 50


@pytest.fixture
def store(tmp_path):
    key = ks.Keystore(tmp_path / "d.sqlite", kdf=ks.KdfParams(1, 1024)).create("123456")
    s = DeviceStore(tmp_path / "d.sqlite", key=key)
    s.load_server_rows(demo_rows(jobs=4, day=dt.date(2026, 11, 27)))
    yield s
    s.close()


def _household(store: DeviceStore, n: int) -> tuple[dict, list[RowRef]]:
    """Job ``n`` of the demo day and every row the server revokes when it leaves the scope."""
    job = sorted(store.all("job"), key=lambda j: j.get("route_order") or 99)[n]
    customer, premises = job["customer_id"], job["premises_id"]
    refs = [RowRef("job", job["id"])]
    refs += [RowRef("note", r["id"]) for r in store.for_job("note", job["id"])]
    refs += [RowRef("customer", customer), RowRef("premises", premises)]
    refs += [RowRef("customer_contact", r["id"]) for r in store.where("customer_contact", customer_id=customer)]
    for collection in ("meter", "appliance", "hazard"):
        refs += [RowRef(collection, r["id"]) for r in store.where(collection, premises_id=premises)]
    return job, refs


def _everything(store: DeviceStore) -> str:
    """Every text the store's tables hold (rows, server copies, notices, meta), for a search."""
    out = []
    for table in ("row", "server_row", "notice", "departed"):
        out += [repr(r) for r in store._db.execute(f"SELECT * FROM {table}")]  # noqa: S608 (fixed names)
    return "\n".join(out)


def _revoke(store: DeviceStore, refs: list[RowRef], cursor: str = "c9") -> list[RowRef]:
    return store.apply_page(PullPage(rows=[], revoked=refs, cursor=cursor, has_more=False))


def test_a_reassigned_job_takes_its_households_file_with_it(store):
    job, refs = _household(store, 1)
    customer = store.get("customer", job["customer_id"])
    address = store.get("premises", job["premises_id"])["address"]
    assert customer["name"] in _everything(store)
    _revoke(store, list(reversed(refs)))  # the household before its job: kept for a moment, then purged
    store.purge_departed()
    text = _everything(store)
    for secret in (customer["name"], customer["phone"], address, customer["account_no"]):
        assert secret not in text
    assert store.get("job", job["id"]) is None and store.count_rows("job") == 5  # 3 today + 2 old visits left
    assert store.departed() == []


def test_pending_changes_keep_the_job_and_its_household_until_answered_then_both_go(store):
    job, refs = _household(store, 1)
    store.create("checklist_answer", {"job_id": job["id"], "item_key": "meter_photo", "value": {"value": "ok"},
                                      "photo_sha256": hashlib.sha256(PNG).hexdigest()}, blobs=[(PNG, "image/png")])
    deferred = _revoke(store, refs)
    assert RowRef("job", job["id"]) in deferred and RowRef("customer", job["customer_id"]) in deferred
    store.purge_departed()  # nothing answered yet: the visit and the customer it shows stay (G8)
    assert store.get("job", job["id"]) and store.get("customer", job["customer_id"])["name"]
    [m] = store.pending(10)
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.CONFLICT, version=99,
                                        reason="reassigned_late_change")])
    purged = store.purge_departed()
    assert ("customer", job["customer_id"]) in purged and ("job", job["id"]) in purged
    assert store.get("job", job["id"]) is None and store.get("customer", job["customer_id"]) is None
    assert job["customer_id"] not in _everything(store) and store.departed() == []
    assert store.blob(hashlib.sha256(PNG).hexdigest()) is None  # its photo went too
    assert store.purge_departed() == []  # idempotent


def test_a_customer_stays_while_any_job_of_theirs_is_kept_back(store):
    job, refs = _household(store, 0)
    # The demo's old visit of this household leaves too, but it has a change waiting for an answer.
    [old] = [j for j in store.all("job") if j["customer_id"] == job["customer_id"] and j["id"] != job["id"]]
    store.create("note", {"job_id": old["id"], "author_name": "t", "text": "late note", "written_at": NOW})
    deferred = _revoke(store, [RowRef("customer", job["customer_id"]), *refs, RowRef("job", old["id"])])
    assert RowRef("customer", job["customer_id"]) in deferred and store.get("job", job["id"]) is None
    assert store.get("customer", job["customer_id"])["name"]  # the kept-back visit still shows who it is for
    [m] = store.pending(10)
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.APPLIED, version=120)])
    # The next page (even an empty one) drops what waited only for that answer.
    store.apply_page(PullPage(rows=[], revoked=[], cursor="c11", has_more=False))
    assert store.get("customer", job["customer_id"]) is None and store.get("job", old["id"]) is None
    assert store.departed() == []


def test_a_row_the_server_revokes_while_its_job_stays_goes_at_once(store):
    job, _ = _household(store, 1)
    hazard = store.create("hazard", {"job_id": job["id"], "premises_id": job["premises_id"], "status": "open"})
    store.apply_results([MutationResult(store.pending(1)[0].mutation_id, ResultStatus.APPLIED, version=130,
                                        row=Row("hazard", hazard["id"], 130, False,
                                                {"job_id": job["id"], "premises_id": job["premises_id"],
                                                 "status": "fixed"}))])
    # Fixed: no longer an open hazard of these premises, the server revokes it; the job stays (G3).
    assert _revoke(store, [RowRef("hazard", hazard["id"])]) == []
    assert store.get("hazard", hazard["id"]) is None and store.get("job", job["id"]) is not None


def test_a_row_sent_again_is_in_scope_again_and_not_purged(store):
    job, refs = _household(store, 1)
    store.update("job", job["id"], {"eta": "2026-11-27T09:00:00+00:00"})
    _revoke(store, refs)
    customer_row = store._db.execute("SELECT version, deleted, data FROM server_row WHERE collection='customer' "
                                     "AND id=?", (job["customer_id"],)).fetchone()
    # Reassigned back before the change was answered: the server sends the job and household whole again.
    again = Row("customer", job["customer_id"], customer_row[0], bool(customer_row[1]), json.loads(customer_row[2]))
    store.apply_page(PullPage(rows=[again], revoked=[], cursor="c10", has_more=False))
    [m] = store.pending(10)
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.APPLIED, version=100)])
    store.purge_departed()
    assert store.get("customer", job["customer_id"]) is not None


def test_a_parked_change_survives_the_purge_of_its_row(store):
    job, refs = _household(store, 0)
    store.update("job", job["id"], {"status": "completed"})
    [m] = store.pending(10)
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.REJECTED, reason="cleanup_required",
                                        message="cleanup first")])
    _revoke(store, refs)
    store.purge_departed()
    assert store.get("job", job["id"]) is None
    assert [p["mutation_id"] for p in store.parked()] == [m.mutation_id]  # the technician still decides
