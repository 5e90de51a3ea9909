"""Without Kivy: the technician's decisions on parked changes (retry, send to the office, discard with a
confirmation for facts, each audited), the PIN view-model, and base_version 0 for updates to the
tablet's own unacknowledged creates (docs/protocol.md §3) checked against the real merge core."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from mobile import keystore as ks
from mobile.demo import demo_rows
from mobile.store import DeviceStore
from mobile.viewmodels.sync_status import SyncViewModel
from mobile.viewmodels.unlock import UnlockViewModel
from sync.engine import SyncEngine
from sync.records import MutationResult, Op, Principal, ResultStatus
from sync.sim.network import Faults, FaultyTransport, SimServer
from sync.sim.server import MemoryServerStore
from sync.sim.world import build_world

CHEAP = ks.KdfParams(1, 1024)
NOW = "2026-11-27T09:30:00+00:00"


@pytest.fixture
def store(tmp_path):
    s = DeviceStore(tmp_path / "d.sqlite", key=ks.Keystore(tmp_path / "d.sqlite", kdf=CHEAP).create("123456"))
    s.load_server_rows(demo_rows(jobs=2, day=dt.date(2026, 11, 27)))
    s.set_meta(user_id="demo-user", timezone="Asia/Shanghai")
    yield s
    s.close()


def _job(store):
    return sorted((j for j in store.all("job") if j.get("route_order")), key=lambda j: j["route_order"])[0]


def _park(store, reason="cleanup_required", message="Job cannot be completed before the cleanup (R4)."):
    [m] = [m for m in store.pending(50)][-1:]
    store.apply_results([MutationResult(m.mutation_id, ResultStatus.REJECTED, reason=reason, message=message)])
    return m


def test_parked_changes_are_explained_in_plain_words(store):
    job = _job(store)
    store.update("job", job["id"], {"status": "completed"})
    m = _park(store)
    [change] = SyncViewModel(store).parked_changes()
    assert (change.mutation_id, change.what, change.job_ref, change.reason) == (m.mutation_id, "visit", job["ref"],
                                                                                 "cleanup_required")
    assert change.changes == [("status", "completed")] and change.when.startswith("20")
    assert change.is_fact and change.can_retry and change.can_send
    assert SyncViewModel(store).inbox() == []  # listed once: with its actions, not again as a notice


def test_retry_queues_a_new_mutation_against_the_current_row(store):
    job = _job(store)
    store.update("job", job["id"], {"status": "completed"})
    old = _park(store)
    assert store.pending_count() == 0
    vm = SyncViewModel(store)
    assert vm.retry(old.mutation_id) == "parked.retried"
    [new] = store.pending(10)
    assert new.mutation_id != old.mutation_id and new.fields == {"status": "completed"}
    assert (new.base_version, new.base) == (store._db.execute(
        "SELECT version FROM server_row WHERE id=?", (job["id"],)).fetchone()[0], {"status": "dispatched"})
    assert store.parked() == [] and store.get("job", job["id"])["status"] == "completed"
    [note] = store.audit_log()
    assert note["action"] == "retried" and note["detail"]["new_mutation_id"] == new.mutation_id
    assert [n for n in store.notices() if n["kind"] == "rejected"] == []  # no longer an open question


def test_discarding_a_captured_fact_needs_a_confirmation_and_leaves_an_audit_note(store):
    job = _job(store)
    store.create("meter_reading", {"job_id": job["id"], "meter_id": "m-1", "kind": "routine", "reading": 1240.5,
                                   "read_at": NOW})
    m = _park(store, "unknown_row", "meter m-1 does not exist")
    vm = SyncViewModel(store)
    assert vm.discard(m.mutation_id) == "parked.confirm_needed"
    assert len(store.parked()) == 1  # nothing dropped without the confirmation
    assert vm.discard(m.mutation_id, confirmed=True) == "parked.discarded"
    assert store.parked() == [] and store.pending_count() == 0
    [note] = store.audit_log()
    assert note["action"] == "discarded" and note["detail"]["fields"]["reading"] == 1240.5
    assert note["detail"]["reason"] == "unknown_row"


def test_a_route_order_proposal_is_discarded_without_ceremony(store):
    job = _job(store)
    store.update("job", job["id"], {"route_order": 9})
    m = _park(store, "field_not_writable", "no")
    assert SyncViewModel(store).discard(m.mutation_id) == "parked.discarded"


def test_sending_a_parked_fact_to_the_office_turns_it_into_a_visit_note(store):
    job = _job(store)
    store.create("checklist_answer", {"job_id": job["id"], "item_key": "leak_test", "value": {"value": "fail"},
                                      "answered_at": NOW})
    m = _park(store, "invalid_value", "checklist_answer.template_id: required")
    vm = SyncViewModel(store)
    assert vm.send_to_office(m.mutation_id, "en") == "parked.sent"
    [queued] = store.pending(10)
    assert queued.op is Op.CREATE and queued.collection == "note" and queued.fields["job_id"] == job["id"]
    text = queued.fields["text"]
    assert "Checklist answer" in text and "leak_test" in text and "fail" in text and "invalid_value" in text
    assert store.parked() == []
    assert [a["action"] for a in store.audit_log()] == ["sent_to_office"]
    with pytest.raises(KeyError):  # the parked entry is gone: nothing is sent twice
        vm.send_to_office(m.mutation_id)


def test_a_change_to_a_row_no_longer_on_the_tablet_cannot_be_retried(store):
    job = _job(store)
    store.update("job", job["id"], {"status": "completed"})
    m = _park(store, "out_of_scope", "not yours")
    store._db.execute("DELETE FROM server_row WHERE id=?", (job["id"],))
    store._db.execute("DELETE FROM row WHERE id=?", (job["id"],))
    vm = SyncViewModel(store)
    [change] = vm.parked_changes()
    assert not change.can_retry
    assert vm.retry(m.mutation_id) == "parked.gone" and len(store.parked()) == 1


# -- the PIN -------------------------------------------------------------------------------------------
def test_the_pin_flow_first_sign_in_cold_start_lock_password_new_pin(tmp_path):
    vm = UnlockViewModel(tmp_path / "device.sqlite", kdf=CHEAP)
    assert vm.mode() == "setup"
    assert vm.setup("1234", "1234").message == "unlock.pin_rule"
    assert vm.setup("123456", "654321").message == "unlock.pin_mismatch"
    first = vm.setup("135790", "135790", password="pw of the sign-in")
    assert first.ok and first.store is not None
    first.store.create("note", {"job_id": "j", "author_name": "t", "text": "kept", "written_at": NOW})
    first.store.close()
    assert vm.mode() == "pin"
    wrong = vm.unlock("000000")
    assert not wrong.ok and wrong.message == "unlock.wrong_pin" and wrong.values == {"left": 4}
    for _ in range(4):
        last = vm.unlock("000000")
    assert last.message == "unlock.pin_locked" and last.mode == "password" and vm.mode() == "password"
    assert vm.unlock("135790").message == "unlock.pin_locked"  # the right PIN no longer opens it
    opened = vm.unlock_with_password("pw of the sign-in")
    assert opened.ok and opened.mode == "new_pin" and opened.store.pending_count() == 1
    assert vm.new_pin(opened.key, "24680", "24680").message == "unlock.pin_rule"
    assert vm.new_pin(opened.key, "246801", "246801").ok
    opened.store.close()
    again = vm.unlock("246801")
    assert again.ok and again.store.pending_count() == 1
    again.store.close()


def test_changing_the_pin_asks_for_the_current_one_first(tmp_path):
    """A tablet left unlocked cannot be re-keyed by someone who does not know its PIN."""
    vm = UnlockViewModel(tmp_path / "device.sqlite", kdf=CHEAP)
    first = vm.setup("135790", "135790", password="pw")
    key = first.key
    wrong = vm.verify_pin(key, "000000")
    assert not wrong.ok and wrong.message == "unlock.wrong_pin" and wrong.values == {"left": 4}
    assert wrong.mode == "change_pin"
    right = vm.verify_pin(key, "135790")
    assert right.ok and right.mode == "new_pin"
    assert vm.new_pin(key, "246801", "246801").ok
    first.store.close()
    assert not vm.unlock("135790").ok and vm.unlock("246801").ok
    for _ in range(ks.MAX_PIN_ATTEMPTS):
        vm.verify_pin(key, "000000")
    locked = vm.verify_pin(key, "246801")
    assert not locked.ok and locked.message == "unlock.change_locked"  # the lock holds here too
    assert vm.mode() == "password"


def test_password_failures_lock_fully_and_erase_nothing(tmp_path):
    vm = UnlockViewModel(tmp_path / "device.sqlite", kdf=CHEAP)
    vm.setup("135790", "135790", password="secret").store.close()
    size = (tmp_path / "device.sqlite").stat().st_size
    for _ in range(ks.MAX_PIN_ATTEMPTS):
        vm.unlock("000000")
    for _ in range(ks.MAX_PASSWORD_ATTEMPTS):
        vm.unlock_with_password("nope")
    assert vm.mode() == "locked" and vm.unlock_with_password("secret").message == "unlock.locked"
    assert (tmp_path / "device.sqlite").stat().st_size == size and vm.keys.exists()
    vm.keys.reset_attempts()  # support's documented way out
    assert vm.unlock("135790").ok


# -- base_version 0 -------------------------------------------------------------------------------------
class _OfficeBetweenBatches(FaultyTransport):
    """After the first push, the office changes a row (as a dispatcher would between two batches)."""

    def __init__(self, *args, after_first_push=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.after_first_push, self.pushes = after_first_push, 0

    def push(self, mutations):
        results = super().push(mutations)
        self.pushes += 1
        if self.pushes == 1 and self.after_first_push:
            self.after_first_push()
        return results


def _rig(tmp_path, after_first_push=None):
    server_store = MemoryServerStore()
    world = build_world(server_store, technicians=1, jobs_per_technician=1, chargeable_every=0)
    device = DeviceStore(tmp_path / "t.sqlite", key=ks.Keystore(tmp_path / "t.sqlite", kdf=CHEAP).create("123456"))
    transport = _OfficeBetweenBatches(SimServer(server_store), Principal(world.technicians[0], "dev-0"),
                                      random.Random(0), Faults.none(), after_first_push=after_first_push)
    engine = SyncEngine(device, transport, batch_size=1, rng=lambda: 0.5)
    assert engine.sync().complete
    return server_store, world, device, engine


def _hazard(device, job_id):
    job = device.get("job", job_id)
    return device.create("hazard", {"job_id": job_id, "customer_id": job["customer_id"],
                                    "premises_id": job["premises_id"], "severity": "minor", "category": "hose",
                                    "description": "软管老化", "found_at": NOW, "rectify_by": NOW, "owner": "customer",
                                    "status": "open"})


def test_an_update_to_an_unacknowledged_own_create_carries_base_version_0_and_applies(tmp_path):
    server_store, world, device, engine = _rig(tmp_path)
    hazard = _hazard(device, world.jobs[0])
    device.update("hazard", hazard["id"], {"status": "fixed"})
    create, update = device.pending(10)
    assert create.base_version is None and (update.base_version, update.base) == (0, {"status": "open"})
    report = engine.sync()
    assert report.complete and not report.parked and not report.conflicts
    # Taken (as "merged": the server cannot tell "never saw a version" from "saw an older one").
    assert report.count(ResultStatus.APPLIED) == 1 and report.count(ResultStatus.MERGED) == 1
    assert server_store.rows["hazard"][hazard["id"]].data["status"] == "fixed"
    assert device.get("hazard", hazard["id"])["status"] == "fixed" and device.pending_count() == 0
    device.close()


def test_base_version_0_never_overwrites_an_office_change_made_after_the_create(tmp_path):
    box = {}
    server_store, world, device, engine = _rig(
        tmp_path, after_first_push=lambda: server_store.office_put("hazard", box["id"],
                                                                   {"status": "rectification_scheduled"}))
    hazard = _hazard(device, world.jobs[0])
    box["id"] = hazard["id"]
    device.update("hazard", hazard["id"], {"status": "fixed"})
    report = engine.sync()
    assert report.complete
    [conflict] = report.conflicts  # the office's newer value stands and the tablet's is on record (G6)
    assert (conflict.rule, conflict.server_value, conflict.device_value) == (
        "plan_dispatch_wins", "rectification_scheduled", "fixed")
    assert server_store.rows["hazard"][hazard["id"]].data["status"] == "rectification_scheduled"
    assert device.get("hazard", hazard["id"])["status"] == "rectification_scheduled"
    assert json.loads(device.notices()[0]["device_value"]) == "fixed"
    device.close()


def test_an_older_apps_plaintext_store_asks_for_a_pin_and_is_encrypted_with_its_outbox(tmp_path):
    path = tmp_path / "device.sqlite"
    old = DeviceStore(path)  # what the app wrote before encryption
    old.create("note", {"job_id": "j", "author_name": "t", "text": "queued before the update", "written_at": NOW})
    old.close()
    vm = UnlockViewModel(path, kdf=CHEAP)
    assert vm.legacy() and vm.mode() == "setup"
    opened = vm.setup("135790", "135790")
    assert opened.ok and opened.store.encrypted and opened.store.pending_count() == 1
    opened.store.close()
    assert not vm.legacy() and b"queued before the update" not in path.read_bytes()
