"""Merge by ownership (sync/merge.py): one test per rule, each as the person affected would see it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sync import reasons as R
from sync.collections import REGISTRY
from sync.domain.quotes import content_hash
from sync.merge import decide
from sync.records import Mutation, Op, Principal, ResultStatus, Row

TECH = Principal("tech-1", "dev-1", "李师傅")
T = "2026-11-27T09:30:00+08:00"


@dataclass
class Context:
    """A MergeContext over a handful of rows."""

    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)

    def add(self, row: Row) -> Row:
        self.rows[(row.collection, row.id)] = row
        return row

    def row(self, collection: str, row_id: str) -> Row | None:
        return self.rows.get((collection, row_id))

    def job_rows(self, collection: str, job_id: str) -> list[Row]:
        return [r for (c, _), r in self.rows.items() if c == collection and r.data.get("job_id") == job_id]

    def has_blob(self, sha256: str) -> bool:
        return sha256 in self.blobs


def job(version: int = 5, **data) -> Row:
    base = {"status": "dispatched", "technician_id": "tech-1", "route_order": 1, "priority": 3, "chargeable": False,
            "arrived_at": None, "eta": None, "could_not_complete_note": ""}
    return Row("job", "job-1", version, False, {**base, **data})


def update(fields: dict, base: dict | None = None, base_version: int = 5, collection: str = "job",
           row_id: str = "job-1", mid: str = "m-1") -> Mutation:
    return Mutation(mid, collection, row_id, Op.UPDATE, base_version, fields, T, base if base is not None else {})


def create(collection: str, fields: dict, row_id: str = "new-1") -> Mutation:
    return Mutation("m-c", collection, row_id, Op.CREATE, None, fields, T)


def run(current: Row | None, m: Mutation, ctx: Context | None = None):
    ctx = ctx or Context()
    if current is not None:
        ctx.add(current)
    return decide(current, m, REGISTRY[m.collection], TECH, ctx)


# --- plan fields: dispatch owns them ---------------------------------------------------------------


def test_technician_reorders_route_when_dispatch_has_not_touched_it():
    d = run(job(), update({"route_order": 4}, {"route_order": 1}))
    assert d.status is ResultStatus.APPLIED and d.writes == {"route_order": 4}


def test_stale_route_edit_loses_to_dispatch_and_both_values_are_recorded():
    d = run(job(version=9, route_order=7), update({"route_order": 4}, {"route_order": 1}))
    assert d.status is ResultStatus.CONFLICT and d.writes == {}
    [c] = d.conflicts
    assert (c.field, c.server_value, c.device_value, c.rule, c.review_by) == (
        "route_order", 7, 4, R.PLAN_DISPATCH_WINS, "technician")


def test_a_device_edit_merges_with_a_newer_dispatch_change_to_another_field():
    d = run(job(version=9, priority=1), update({"route_order": 4}, {"route_order": 1}))
    assert d.status is ResultStatus.MERGED and d.writes == {"route_order": 4}


def test_a_device_cannot_reassign_a_job():
    d = run(job(), update({"technician_id": "tech-2"}, {"technician_id": "tech-1"}))
    assert d.status is ResultStatus.REJECTED and d.reason == R.FIELD_NOT_WRITABLE
    assert "job.technician_id" in d.message


def test_unknown_field_is_rejected_by_name():
    d = run(job(), update({"colour": "red"}))
    assert d.reason == R.UNKNOWN_FIELD and "colour" in d.message


# --- facts: set once, never overwritten ------------------------------------------------------------


def test_a_fact_is_recorded_once():
    d = run(job(), update({"arrived_at": T}, {"arrived_at": None}))
    assert d.status is ResultStatus.APPLIED and d.writes == {"arrived_at": T}


def test_overwriting_a_fact_the_device_saw_is_rejected():
    d = run(job(arrived_at="2026-11-27T09:00:00+08:00"),
            update({"arrived_at": T}, {"arrived_at": "2026-11-27T09:00:00+08:00"}))
    assert d.status is ResultStatus.REJECTED and d.reason == R.IMMUTABLE_FACT
    assert "supersedes" in d.message


def test_a_fact_captured_twice_concurrently_keeps_the_first_and_records_the_second():
    d = run(job(version=9, arrived_at="2026-11-27T09:00:00+08:00"), update({"arrived_at": T}, {"arrived_at": None}))
    assert d.status is ResultStatus.CONFLICT and d.writes == {}
    [c] = d.conflicts
    assert c.device_value == T and c.rule == R.FACT_FIRST_KEPT and c.review_by == "dispatcher"


def test_a_fact_row_cannot_be_changed_after_creation():
    answer = Row("checklist_answer", "a-1", 3, False, {"job_id": "job-1", "value": {"value": "pass"}})
    d = run(answer, update({"value": {"value": "fail"}}, {"value": {"value": "pass"}}, 3, "checklist_answer", "a-1"))
    assert d.reason == R.IMMUTABLE_FACT


def test_a_correction_is_a_new_row_that_supersedes_the_old_one():
    ctx = Context()
    ctx.add(job())
    ctx.add(Row("checklist_template", "tpl", 1, False, {}))
    ctx.add(Row("checklist_answer", "a-1", 3, False, {"job_id": "job-1"}))
    fields = {"job_id": "job-1", "template_id": "tpl", "item_key": "leak", "value": {"value": "fail"},
              "answered_at": T, "supersedes_id": "a-1"}
    d = run(None, create("checklist_answer", fields), ctx)
    assert d.status is ResultStatus.APPLIED and d.create and d.writes["supersedes_id"] == "a-1"
    assert d.writes["technician_id"] == "tech-1"  # stamped by the server, not trusted from the device
    missing = run(None, create("checklist_answer", {**fields, "supersedes_id": "nope"}), ctx)
    assert missing.reason == R.UNKNOWN_ROW and "supersedes_id" in missing.message


def test_a_device_cannot_claim_another_technicians_work():
    ctx = Context()
    ctx.add(job())
    d = run(None, create("visit_event", {"job_id": "job-1", "kind": "arrived", "at": T, "technician_id": "tech-2"}), ctx)
    assert d.reason == R.INVALID_VALUE and "technician_id" in d.message


def test_a_create_needs_its_required_fields():
    ctx = Context()
    ctx.add(job())
    d = run(None, create("note", {"job_id": "job-1", "written_at": T}), ctx)
    assert d.reason == R.INVALID_VALUE and "text" in d.message


def test_a_device_may_not_create_office_rows_or_delete_facts():
    assert run(None, create("job", {"status": "new"})).reason == R.CREATE_NOT_ALLOWED
    note = Row("note", "n-1", 2, False, {"job_id": "job-1", "text": "x"})
    d = run(note, Mutation("m", "note", "n-1", Op.DELETE, 2, {}, T))
    assert d.reason == R.DELETE_NOT_ALLOWED


def test_a_photo_must_be_uploaded_before_the_row_that_references_it():
    ctx = Context()
    ctx.add(job())
    fields = {"job_id": "job-1", "confirmed_at": T, "customer_confirmed": True, "photo_sha256": "a" * 64}
    assert run(None, create("cleanup_confirmation", fields), ctx).reason == R.MISSING_BLOB
    ctx.blobs.add("a" * 64)
    assert run(None, create("cleanup_confirmation", fields), ctx).status is ResultStatus.APPLIED


# --- tombstones -------------------------------------------------------------------------------------


def test_a_tombstone_wins_over_an_older_update():
    d = run(Row("job", "job-1", 9, True, {"status": "dispatched"}), update({"route_order": 2}, {"route_order": 1}))
    assert d.status is ResultStatus.REJECTED and d.reason == R.ROW_DELETED


def test_an_update_of_a_row_the_server_never_had_is_rejected():
    assert run(None, update({"route_order": 2})).reason == R.UNKNOWN_ROW


# --- status: the state machine and the visit gates --------------------------------------------------


def test_a_legal_status_step_is_applied():
    d = run(job(), update({"status": "en_route"}, {"status": "dispatched"}))
    assert d.status is ResultStatus.APPLIED and d.writes == {"status": "en_route"}


def test_an_illegal_status_step_is_rejected_with_the_allowed_steps():
    d = run(job(), update({"status": "completed"}, {"status": "dispatched"}))
    assert d.reason == R.ILLEGAL_TRANSITION and "en_route" in d.message


def test_a_device_cannot_set_an_office_status():
    d = run(job(), update({"status": "cancelled"}, {"status": "dispatched"}))
    assert d.reason == R.ILLEGAL_TRANSITION


def test_completed_on_site_beats_cancelled_in_office_and_the_dispatcher_is_told():
    ctx = Context()
    ctx.add(Row("cleanup_confirmation", "cc", 3, False, {"job_id": "job-1", "customer_confirmed": True}))
    d = run(job(version=9, status="cancelled"), update({"status": "completed"}, {"status": "in_progress"}), ctx)
    assert d.status is ResultStatus.CONFLICT and d.writes == {"status": "completed"}
    [c] = d.conflicts
    assert (c.server_value, c.device_value, c.rule, c.review_by) == (
        "cancelled", "completed", R.WORK_DONE_BEATS_OFFICE, "dispatcher")


def test_a_cancellation_before_the_technician_arrived_stands():
    d = run(job(version=9, status="cancelled"), update({"status": "en_route"}, {"status": "dispatched"}))
    assert d.status is ResultStatus.CONFLICT and d.writes == {}
    assert d.conflicts[0].rule == R.STATUS_SERVER_KEPT and d.conflicts[0].review_by == "technician"


def test_a_closed_job_stays_closed():
    d = run(job(version=9, status="closed"), update({"status": "could_not_complete"}, {"status": "in_progress"}))
    assert d.writes == {} and d.conflicts[0].rule == R.STATUS_SERVER_KEPT


def test_a_concurrent_step_that_is_still_legal_is_merged():
    # The office re-dispatched a job the device thought was scheduled; en route follows either way.
    d = run(job(version=9, status="dispatched"), update({"status": "en_route"}, {"status": "scheduled"}))
    assert d.status is ResultStatus.MERGED and d.writes == {"status": "en_route"}


def test_chargeable_work_cannot_start_without_the_customers_signed_approval():
    current = job(status="on_site", chargeable=True)
    d = run(current, update({"status": "in_progress"}, {"status": "on_site"}))
    assert d.reason == R.APPROVAL_REQUIRED and "R3" in d.message
    ctx = Context()
    quote = {"job_id": "job-1", "status": "approved", "lines": [{"code": "P", "description": "d", "kind": "part",
             "qty": 1, "unit": "个", "unit_price_cents": 100, "amount_cents": 100}], "total_cents": 100,
             "currency": "CNY", "risk_note": "r", "technician_name": "李", "staff_no": "T1"}
    quote["content_hash"] = content_hash(quote)
    ctx.add(Row("quote", "q-1", 6, False, quote))
    ctx.add(Row("signature", "s-1", 7, False, {"job_id": "job-1", "quote_id": "q-1", "purpose": "quote_approval",
                                               "content_hash": quote["content_hash"]}))
    assert run(current, update({"status": "in_progress"}, {"status": "on_site"}), ctx).status is ResultStatus.APPLIED


def test_completion_needs_the_cleanup_confirmation():
    d = run(job(status="in_progress"), update({"status": "completed"}, {"status": "in_progress"}))
    assert d.reason == R.CLEANUP_REQUIRED


def test_without_base_values_an_unchanged_row_version_means_no_concurrent_edit():
    d = run(job(), update({"status": "en_route"}, base={}, base_version=5))
    assert d.status is ResultStatus.APPLIED
    stale = run(job(version=9, route_order=7), update({"route_order": 4}, base={}, base_version=5))
    assert stale.status is ResultStatus.CONFLICT  # unknown base and a newer row: never a silent overwrite


# --- device-owned changeable fields, notes ---------------------------------------------------------


def test_the_latest_eta_is_the_devices_and_a_concurrent_value_is_recorded():
    d = run(job(version=9, eta="2026-11-27T10:00:00+08:00"), update({"eta": T}, {"eta": None}))
    assert d.writes == {"eta": T} and d.conflicts[0].rule == R.DEVICE_OWNED_LATEST


def test_notes_appended_on_both_sides_keep_both_additions():
    premises = Row("premises", "p-1", 9, False, {"access_notes": "Gate code 12. Dog in yard."})
    m = update({"access_notes": "Gate code 12. Key under mat."}, {"access_notes": "Gate code 12."}, 5, "premises", "p-1")
    d = decide(premises, m, REGISTRY["premises"], TECH, Context())
    assert d.status is ResultStatus.MERGED
    assert d.writes == {"access_notes": "Gate code 12. Dog in yard. Key under mat."}


def test_notes_rewritten_on_both_sides_keep_both_texts_attributed():
    premises = Row("premises", "p-1", 9, False, {"access_notes": "Call before arriving."})
    m = update({"access_notes": "Side entrance."}, {"access_notes": "Gate code 12."}, 5, "premises", "p-1")
    d = decide(premises, m, REGISTRY["premises"], TECH, Context())
    text = d.writes["access_notes"]
    assert text.startswith("Call before arriving.") and "Side entrance." in text and "李师傅" in text
    assert d.status is ResultStatus.CONFLICT and d.conflicts[0].rule == R.NOTES_BOTH_KEPT


# --- signatures bind to the quote's content ---------------------------------------------------------


@pytest.fixture
def quoted() -> Context:
    ctx = Context()
    ctx.add(job(status="on_site", chargeable=True))
    ctx.add(Row("quote", "q-1", 6, False, {"job_id": "job-1", "content_hash": "b" * 64, "status": "draft"}))
    ctx.blobs.add("c" * 64)
    return ctx


def signature(hash_: str) -> Mutation:
    return create("signature", {"job_id": "job-1", "quote_id": "q-1", "purpose": "quote_approval",
                                "content_hash": hash_, "signer_name": "张伟", "signed_at": T, "image_sha256": "c" * 64})


def test_a_signature_of_the_current_quote_is_applied(quoted):
    assert run(None, signature("b" * 64), quoted).status is ResultStatus.APPLIED


def test_a_signature_of_an_older_quote_content_is_kept_but_does_not_cover_it(quoted):
    d = run(None, signature("d" * 64), quoted)
    assert d.create and d.status is ResultStatus.CONFLICT  # the signature is a fact: kept
    [c] = d.conflicts
    assert c.rule == R.QUOTE_CHANGED_AFTER_SIGNING and "no longer covers" in c.message


def test_a_quote_whose_declared_hash_differs_from_its_content_is_rejected(quoted):
    fields = {"job_id": "job-1", "lines": [{"code": "P", "description": "d", "kind": "part", "qty": 1, "unit": "个",
              "unit_price_cents": 100, "amount_cents": 100}], "total_cents": 100, "currency": "CNY",
              "risk_note": "may scratch", "technician_name": "李", "staff_no": "T1", "content_hash": "0" * 64,
              "created_on_device_at": T}
    assert run(None, create("quote", fields), quoted).reason == R.CONTENT_HASH_MISMATCH
    good = run(None, create("quote", {**fields, "content_hash": content_hash(fields)}), quoted)
    assert good.status is ResultStatus.APPLIED and good.writes["status"] == "draft"


def test_enumerated_values_are_checked_on_the_server():
    ctx = Context()
    ctx.add(job())
    d = run(None, create("visit_event", {"job_id": "job-1", "kind": "teleported", "at": T}), ctx)
    assert d.reason == R.INVALID_VALUE and "teleported" in d.message
    hazard = Row("hazard", "h-1", 4, False, {"premises_id": "p-1", "status": "open"})
    d = run(hazard, update({"status": "gone"}, {"status": "open"}, 4, "hazard", "h-1"))
    assert d.reason == R.INVALID_VALUE
    assert run(hazard, update({"status": "fixed"}, {"status": "open"}, 4, "hazard", "h-1")).status is ResultStatus.APPLIED
