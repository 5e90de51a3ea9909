"""The device store as the sync engine sees it (sync.ports.DeviceStore): overlay, results, pages, G8."""

from __future__ import annotations

import pytest

from mobile.store import DeviceStore
from sync.records import ConflictRecord, MutationResult, Op, PullPage, ResultStatus, Row, RowRef


@pytest.fixture
def store(tmp_path):
    """An empty device store holding one job pulled at version 5."""
    s = DeviceStore(tmp_path / "d.sqlite")
    s.apply_page(PullPage(rows=[Row("job", "j1", 5, False, {"status": "dispatched", "eta": None, "route_order": 3})],
                          revoked=[], cursor="c1", has_more=False))
    yield s
    s.close()


def test_local_change_overlays_server_copy_and_is_queued_with_its_base(store):
    store.update("job", "j1", {"status": "on_site"})
    [m] = store.pending(10)
    assert (m.op, m.base_version, m.fields, m.base) == (Op.UPDATE, 5, {"status": "on_site"}, {"status": "dispatched"})
    assert store.get("job", "j1")["status"] == "on_site"
    # A newer server copy arrives: the pending change stays on top of it.
    store.apply_page(PullPage(rows=[Row("job", "j1", 9, False, {"status": "dispatched", "eta": None, "route_order": 1})],
                              revoked=[], cursor="c2", has_more=False))
    row = store.get("job", "j1")
    assert (row["status"], row["route_order"]) == ("on_site", 1)
    assert store.cursor() == "c2"


def test_acknowledged_changes_leave_the_outbox_and_rebase(store):
    store.update("job", "j1", {"eta": "2026-11-27T09:00:00+00:00"})
    [m] = store.pending(10)
    server_row = Row("job", "j1", 12, False, {"status": "dispatched", "eta": "2026-11-27T09:00:00+00:00",
                                               "route_order": 3})
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.APPLIED, version=12, row=server_row)])
    assert store.pending(10) == [] and store.pending_count() == 0
    assert store.get("job", "j1")["eta"] == "2026-11-27T09:00:00+00:00"
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.APPLIED, version=12)])  # a replayed answer
    assert store.pending_count() == 0


def test_a_rejected_change_is_parked_explained_and_does_not_block_the_rest(store):
    store.update("job", "j1", {"status": "completed"})
    store.create("note", {"job_id": "j1", "text": "x", "written_at": "2026-11-27T09:00:00+00:00"})
    first, second = store.pending(10)
    store.apply_results([MutationResult(first.mutation_id, ResultStatus.REJECTED, reason="cleanup_required",
                                        message="Job j1 cannot be completed before the cleanup is confirmed (R4).")])
    assert [m.mutation_id for m in store.pending(10)] == [second.mutation_id]
    assert store.get("job", "j1")["status"] == "dispatched"  # the refused change no longer shows as done
    [parked] = store.parked()
    assert parked["reason"] == "cleanup_required" and parked["fields"] == {"status": "completed"}
    [notice] = store.notices()
    assert notice["kind"] == "rejected" and "cleanup" in notice["message"]
    assert store.pending_by_job()["j1"] == {"pending": 1, "parked": 1}


def test_conflicts_become_notices_for_the_technician(store):
    store.update("job", "j1", {"route_order": 1})
    [m] = store.pending(10)
    record = ConflictRecord("c-1", m.mutation_id, "job", "j1", "route_order", 7, 1, "plan_dispatch_wins", "technician",
                            "Dispatch changed job.route_order to 7 meanwhile.")
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.CONFLICT, version=13,
                                        row=Row("job", "j1", 13, False, {"status": "dispatched", "route_order": 7}),
                                        conflicts=(record,))])
    assert store.get("job", "j1")["route_order"] == 7
    [notice] = store.notices()
    assert (notice["kind"], notice["reason"], notice["field"]) == ("conflict", "plan_dispatch_wins", "route_order")


def test_revoked_job_stays_until_its_pending_changes_are_answered(store):
    store.create("checklist_answer", {"job_id": "j1", "item_key": "leak_test", "value": {"value": "pass"}})
    deferred = store.apply_page(PullPage(rows=[], revoked=[RowRef("job", "j1")], cursor="c3", has_more=False))
    assert deferred == [RowRef("job", "j1")] and store.get("job", "j1") is not None
    [m] = store.pending(10)
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.APPLIED, version=14)])
    assert store.apply_page(PullPage(rows=[], revoked=[RowRef("job", "j1")], cursor="c4", has_more=False)) == []
    assert store.get("job", "j1") is None


def test_tombstones_hide_rows_and_older_copies_never_win(store):
    store.apply_page(PullPage(rows=[Row("job", "j1", 20, True, {"status": "cancelled"})], revoked=[], cursor="c5",
                              has_more=False))
    assert store.get("job", "j1") is None
    store.load_server_rows([Row("job", "j1", 6, False, {"status": "dispatched"})])
    assert store.get("job", "j1") is None


def test_blobs_travel_with_the_mutations_that_name_them(store):
    photo = b"\x89PNG\r\n\x1a\nphoto"
    row = store.create("hazard", {"job_id": "j1", "photo_sha256": __import__("hashlib").sha256(photo).hexdigest()},
                       blobs=[(photo, "image/png")])
    [(ref, data)] = store.blobs_for(store.pending(10))
    assert (ref.sha256, ref.content_type, ref.size, data) == (row["photo_sha256"], "image/png", len(photo), photo)


def test_cache_rebuild_keeps_the_outbox_and_local_rows(store):
    store.create("note", {"job_id": "j1", "text": "kept", "written_at": "2026-11-27T09:00:00+00:00"})
    store.rebuild_cache()
    assert store.cursor() is None and store.pending_count() == 1
    assert [n["text"] for n in store.all("note")] == ["kept"]
