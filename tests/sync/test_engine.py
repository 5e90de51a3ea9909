"""The client engine (sync/engine.py) against the in-memory server, with scripted failures."""

from __future__ import annotations

import hashlib
import random

import pytest

from sync import reasons as R
from sync.engine import Backoff, SyncEngine
from sync.ports import AuthRevoked, ProtocolMismatch, TransportError
from sync.records import BlobRef, Principal
from sync.sim.device import MemoryDeviceStore
from sync.sim.network import Faults, FaultyTransport, SimServer
from sync.sim.server import MemoryServerStore
from sync.sim.world import build_world

T = "2026-11-27T09:30:00+08:00"


class Scripted(FaultyTransport):
    """A transport whose next calls fail as scripted: {"push": [exc, ...], "pull": [...]}."""

    def __init__(self, *args, script=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.script = script or {}
        self.calls: list[str] = []

    def _maybe_fail(self, kind):
        self.calls.append(kind)
        queue = self.script.get(kind, [])
        if queue:
            exc = queue.pop(0)
            if exc is not None:
                raise exc

    def push(self, mutations):
        self._maybe_fail("push")
        return super().push(mutations)

    def pull(self, cursor, limit):
        self._maybe_fail("pull")
        return super().pull(cursor, limit)

    def put_blob(self, ref, data):
        self._maybe_fail("put_blob")
        return super().put_blob(ref, data)


@pytest.fixture
def rig():
    store = MemoryServerStore()
    world = build_world(store, technicians=1, jobs_per_technician=3, chargeable_every=0)
    server = SimServer(store)
    device = MemoryDeviceStore("dev-0")

    def engine(script=None, **kwargs):
        transport = Scripted(server, Principal(world.technicians[0], "dev-0"), random.Random(0), Faults.none(),
                             script=script)
        return SyncEngine(device, transport, rng=lambda: 0.5, clock=lambda: 1000.0, **kwargs), transport

    return store, world, device, engine


def test_a_first_sync_pulls_everything_in_pages_with_progress(rig):
    store, world, device, engine = rig
    seen = []
    report = engine(page_size=4)[0].sync(progress=lambda n, more: seen.append((n, more)))
    assert report.complete and report.pages == len(seen) >= 3
    assert seen[-1] == (len(device.rows), False)
    assert device.view("job", world.jobs[0])["status"] == "dispatched"


def test_a_rejected_change_is_parked_and_the_rest_of_the_outbox_flows(rig):
    store, world, device, engine = rig
    engine()[0].sync()
    job = world.jobs[0]
    device.update("job", job, {"status": "completed"})  # illegal from dispatched
    device.update("job", job, {"status": "en_route"})
    report = engine()[0].sync()
    assert [p.reason for p in report.parked] == [R.ILLEGAL_TRANSITION]
    assert device.outbox == [] and len(device.parked) == 1
    assert store.row("job", job).data["status"] == "en_route"


def test_blobs_go_up_before_the_change_that_references_them(rig):
    store, world, device, engine = rig
    engine()[0].sync()
    png = b"\x89PNG strokes"
    sha = hashlib.sha256(png).hexdigest()
    device.add_blob(BlobRef(sha, "image/png", len(png)), png)
    device.create("cleanup_confirmation", {"job_id": world.jobs[0], "customer_confirmed": True, "confirmed_at": T,
                                           "photo_sha256": sha})
    e, transport = engine()
    report = e.sync()
    assert report.count("applied") == 1 and sha in store.blobs
    assert transport.calls.index("put_blob") < transport.calls.index("push")


def test_a_blob_that_fails_for_now_holds_only_the_changes_from_it_onward(rig):
    store, world, device, engine = rig
    engine()[0].sync()
    device.update("job", world.jobs[0], {"status": "en_route"})
    png = b"photo"
    sha = hashlib.sha256(png).hexdigest()
    device.add_blob(BlobRef(sha, "image/png", len(png)), png)
    device.create("cleanup_confirmation", {"job_id": world.jobs[0], "confirmed_at": T, "photo_sha256": sha})
    report = engine(script={"put_blob": [TransportError("reset")]})[0].sync()
    assert store.row("job", world.jobs[0]).data["status"] == "en_route"  # the change before it went
    assert len(device.outbox) == 1 and report.error  # the one needing the photo waits, in order
    assert engine()[0].sync().complete and device.outbox == []


def test_a_protocol_mismatch_raises_and_keeps_the_outbox(rig):
    store, world, device, engine = rig
    device.update("job", world.jobs[0], {"status": "en_route"})
    e, transport = engine()
    transport.protocol_version = 99
    with pytest.raises(ProtocolMismatch):
        e.sync()
    assert len(device.outbox) == 1


def test_a_revoked_token_is_reported_with_the_wipe_flag_and_nothing_is_discarded(rig):
    store, world, device, engine = rig
    device.update("job", world.jobs[0], {"status": "en_route"})
    report = engine(script={"push": [AuthRevoked("device reported lost", wipe=True)]})[0].sync()
    assert report.auth_revoked and report.wipe and not report.complete
    assert len(device.outbox) == 1


def test_a_network_failure_backs_off_and_the_next_sync_resumes_the_pull(rig):
    store, world, device, engine = rig
    e, transport = engine(script={"pull": [None, None, TransportError("reset")]}, page_size=3)
    report = e.sync()
    assert report.error and report.pulled_rows == 6
    assert report.retry_after == 0.5 * 2.0 and report.retry_at == 1001.0  # first failure: up to 2 s, jittered
    again = e.sync()
    assert again.complete and e.failures == 0
    fresh = MemoryDeviceStore("fresh")
    SyncEngine(fresh, FaultyTransport(e.transport.server, e.transport.principal, random.Random(0),
                                      Faults.none())).sync()
    assert report.pulled_rows + again.pulled_rows == len(fresh.rows)  # resumed, not restarted
    assert device.rows == fresh.rows


def test_an_answer_lost_on_the_way_back_is_not_applied_twice(rig):
    store, world, device, engine = rig
    engine()[0].sync()
    device.create("note", {"job_id": world.jobs[0], "text": "dog", "written_at": T})
    e, transport = engine()
    transport.faults = Faults(drop_response=1.0)
    assert e.sync().error
    assert len(device.outbox) == 1 and len(store.rows["note"]) == 1  # the server took it; the device kept it
    transport.faults = Faults.none()
    report = e.sync()
    assert report.count("applied") == 1 and device.outbox == [] and len(store.rows["note"]) == 1


def test_backoff_is_exponential_with_full_jitter_and_capped():
    b = Backoff(base=2, cap=60)
    assert b.delay(0, lambda: 0.99) == 0
    assert [b.delay(n, lambda: 1.0) for n in (1, 2, 3, 4, 5, 6, 7)] == [2, 4, 8, 16, 32, 60, 60]
    rng = random.Random(4)
    draws = [b.delay(3, rng.random) for _ in range(200)]
    assert 0 <= min(draws) < 1 and 7 < max(draws) <= 8  # anywhere in [0, 8): full jitter
