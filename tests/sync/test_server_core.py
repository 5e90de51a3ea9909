"""The server side of the protocol (sync/server_core.py) over the in-memory ServerStore."""

from __future__ import annotations

import pytest

from sync import PROTOCOL_VERSION
from sync import reasons as R
from sync.records import Mutation, Op, Principal, PullRequest, PushRequest, ResultStatus, RowRef
from sync.scope import BadCursor, decode_cursor
from sync.server_core import MAX_PUSH_BATCH, InvalidRequest, ProtocolVersionUnsupported, ServerCore
from sync.sim.server import MemoryServerStore
from sync.sim.world import build_world

T = "2026-11-27T09:30:00+08:00"


@pytest.fixture
def office():
    store = MemoryServerStore()
    world = build_world(store, technicians=2, jobs_per_technician=3, chargeable_every=0)
    return store, world, ServerCore(store, cursor_key=b"k", clock=lambda: "2026-11-27T01:30:00+00:00")


def me(world, t: int = 0) -> Principal:
    return Principal(world.technicians[t], f"dev-{t}", f"师傅{t}")


def push(core, store, principal, mutations):
    with store.transaction():
        return core.push(principal, PushRequest(PROTOCOL_VERSION, principal.device_id, T, mutations)).results


def pull_all(core, store, principal, cursor=None, limit=500):
    rows, revoked = [], []
    while True:
        with store.transaction():
            page = core.pull(principal, PullRequest(PROTOCOL_VERSION, cursor, limit))
        rows += page.rows
        revoked += page.revoked
        cursor = page.cursor
        if not page.has_more:
            return rows, revoked, cursor


def status(mid, job, new, old, version):
    return Mutation(mid, "job", job, Op.UPDATE, version, {"status": new}, T, {"status": old})


def test_a_replayed_push_takes_effect_once_and_gets_the_same_answer(office):
    store, world, core = office
    job = world.jobs[0]
    v = store.row("job", job).version
    note = Mutation("m-2", "note", "n-1", Op.CREATE, None, {"job_id": job, "text": "hi", "written_at": T}, T)
    first = push(core, store, me(world), [status("m-1", job, "en_route", "dispatched", v), note])
    versions = store.counter
    again = push(core, store, me(world), [status("m-1", job, "en_route", "dispatched", v), note])
    assert [r.status for r in again] == [r.status for r in first] == [ResultStatus.APPLIED] * 2
    assert store.counter == versions  # nothing written the second time
    assert len(store.results) == 2


def test_a_reused_mutation_id_with_other_content_is_rejected_and_the_original_stands(office):
    store, world, core = office
    job = world.jobs[0]
    v = store.row("job", job).version
    push(core, store, me(world), [status("m-1", job, "en_route", "dispatched", v)])
    [r] = push(core, store, me(world), [status("m-1", job, "on_site", "en_route", v)])
    assert r.status is ResultStatus.REJECTED and r.reason == R.MUTATION_ID_REUSED
    assert store.row("job", job).data["status"] == "en_route"


def test_one_rejected_mutation_does_not_sink_the_batch(office):
    store, world, core = office
    mine, theirs = world.jobs[0], world.jobs[3]
    results = push(core, store, me(world), [
        status("m-1", mine, "en_route", "dispatched", 1),
        status("m-2", theirs, "en_route", "dispatched", 1),  # another technician's job (G7)
        status("m-3", mine, "completed", "en_route", 1),  # illegal step
        status("m-4", mine, "on_site", "en_route", 1),
    ])
    assert [r.reason for r in results] == [None, R.OUT_OF_SCOPE, R.ILLEGAL_TRANSITION, None]
    assert results[1].row is None  # nothing about another technician's job leaks back
    assert store.row("job", mine).data["status"] == "on_site"
    assert store.row("job", theirs).data["status"] == "dispatched"


def test_a_batch_applies_in_order_so_later_steps_see_earlier_ones(office):
    store, world, core = office
    job = world.jobs[0]
    v = store.row("job", job).version
    results = push(core, store, me(world), [
        status("m-1", job, "en_route", "dispatched", v),
        status("m-2", job, "on_site", "en_route", v),
        status("m-3", job, "in_progress", "on_site", v),
        Mutation("m-4", "cleanup_confirmation", "cc-1", Op.CREATE, None,
                 {"job_id": job, "customer_confirmed": True, "confirmed_at": T}, T),
        status("m-5", job, "completed", "in_progress", v),
    ])
    assert all(r.status is ResultStatus.APPLIED for r in results)
    assert results[-1].row.data["status"] == "completed" and results[-1].version == store.row("job", job).version


def test_late_changes_from_a_tablet_whose_job_was_reassigned_are_kept_for_the_dispatcher(office):
    store, world, core = office
    job = world.jobs[0]
    store.office_put("job", job, {"technician_id": world.technicians[1]})
    results = push(core, store, me(world), [
        status("m-1", job, "en_route", "dispatched", 1),
        Mutation("m-2", "note", "n-1", Op.CREATE, None, {"job_id": job, "text": "gate locked", "written_at": T}, T),
    ])
    assert [r.status for r in results] == [ResultStatus.CONFLICT, ResultStatus.CONFLICT]
    assert {c.rule for r in results for c in r.conflicts} == {R.REASSIGNED_LATE_CHANGE}
    assert all(c.review_by == "dispatcher" for r in results for c in r.conflicts)
    assert store.row("note", "n-1").data["text"] == "gate locked"
    assert any(c.rule == R.REASSIGNED_LATE_CHANGE for c in store.conflicts.values())


def test_the_protocol_version_and_batch_size_are_enforced(office):
    store, world, core = office
    with pytest.raises(ProtocolVersionUnsupported):
        core.push(me(world), PushRequest(PROTOCOL_VERSION + 1, "dev-0", T, []))
    with pytest.raises(ProtocolVersionUnsupported):
        core.pull(me(world), PullRequest(PROTOCOL_VERSION + 1))
    with pytest.raises(InvalidRequest):
        core.push(me(world), PushRequest(PROTOCOL_VERSION, "dev-0", T, [status("m", "j", "x", "y", 1)] * (MAX_PUSH_BATCH + 1)))
    with pytest.raises(InvalidRequest):
        core.push(me(world), PushRequest(PROTOCOL_VERSION, "someone-elses-device", T, []))


def test_a_first_pull_pages_through_exactly_the_technicians_rows(office):
    store, world, core = office
    rows, revoked, cursor = pull_all(core, store, me(world), limit=4)
    got = {(r.collection, r.id) for r in rows}
    assert len(got) == len(rows)  # no row twice
    jobs = {i for c, i in got if c == "job"}
    assert jobs == set(world.jobs[:3])
    assert ("technician", world.technicians[0]) in got and ("technician", world.technicians[1]) not in got
    assert {c for c, _ in got} >= {"customer", "premises", "meter", "checklist_template", "price_item"}
    assert all("id_number" not in r.data for r in rows if r.collection == "customer")  # R19
    assert revoked == []
    assert decode_cursor(cursor, b"k").seq == store.counter


def test_a_pull_after_the_cursor_returns_only_the_changes(office):
    store, world, core = office
    _, _, cursor = pull_all(core, store, me(world))
    store.office_put("job", world.jobs[1], {"priority": 1})
    store.office_put("job", world.jobs[4], {"priority": 1})  # someone else's
    rows, revoked, _ = pull_all(core, store, me(world), cursor)
    assert [(r.collection, r.id, r.data["priority"]) for r in rows] == [("job", world.jobs[1], 1)]


def test_a_reassigned_job_is_revoked_from_one_tablet_and_sent_whole_to_the_other(office):
    store, world, core = office
    _, _, mine = pull_all(core, store, me(world, 0))
    _, _, theirs = pull_all(core, store, me(world, 1))
    store.office_put("job", world.jobs[0], {"technician_id": world.technicians[1]})
    rows, revoked, _ = pull_all(core, store, me(world, 0), mine)
    assert {(r.collection, r.id) for r in revoked} >= {("job", world.jobs[0])}
    assert {r.collection for r in revoked} == {"job", "customer", "premises", "meter"}
    rows, revoked, _ = pull_all(core, store, me(world, 1), theirs)
    assert {r.collection for r in rows} == {"job", "customer", "premises", "meter"}  # whole, old versions included
    assert revoked == []


def test_a_tombstone_travels_to_the_tablet(office):
    store, world, core = office
    _, _, cursor = pull_all(core, store, me(world))
    meter = next(r for r in store.rows["meter"].values() if r.data["premises_id"] ==
                 store.row("job", world.jobs[0]).data["premises_id"])
    store.office_put("meter", meter.id, {}, deleted=True)
    rows, _, _ = pull_all(core, store, me(world), cursor)
    assert [r.deleted for r in rows] == [True]


def test_a_forged_or_altered_cursor_is_refused(office):
    store, world, core = office
    _, _, cursor = pull_all(core, store, me(world))
    with pytest.raises(BadCursor):
        core.pull(me(world), PullRequest(PROTOCOL_VERSION, cursor[:-2] + "AA"))
    with pytest.raises(BadCursor):
        core.pull(me(world), PullRequest(PROTOCOL_VERSION, "garbage"))


def test_a_visit_event_gets_the_servers_clock_correction(office):
    store, world, core = office
    [r] = push(core, store, me(world), [Mutation("m-1", "visit_event", "e-1", Op.CREATE, None,
                                                 {"job_id": world.jobs[0], "kind": "arrived", "at": T}, T)])
    data = store.row("visit_event", "e-1").data
    # The device clock said 09:30+08:00 (01:30Z) and the server's said 01:30Z: no offset.
    assert data["clock_offset_s"] == 0 and data["received_at"] == "2026-11-27T01:30:00+00:00"
    assert data["technician_id"] == world.technicians[0]


def test_household_history_follows_the_jobs_and_refuses_every_device_change(office):
    store, world, core = office
    mine = me(world)
    job = world.jobs[0]
    premises = store.row("job", job).data["premises_id"]
    _rows, _revoked, cursor = pull_all(core, store, mine)
    # An earlier visit at that household, by someone else, finished: it arrives summarised.
    outsider = store.row("job", world.outsider_job).data["technician_id"]
    store.office_put("job", "earlier-1", {**store.row("job", world.jobs[3]).data, "premises_id": premises,
                                          "technician_id": outsider,
                                          "status": "could_not_complete", "could_not_complete_reason": "no_access",
                                          "arrived_at": "2026-10-01T09:00:00+08:00"})
    store.office_put("fee_collection", "fee-1", {"job_id": "earlier-1", "amount_cents": 3000})
    rows, revoked, cursor = pull_all(core, store, mine, cursor)
    history = [r for r in rows if r.collection == "household_history"]
    assert [r.id for r in history] == ["earlier-1"] and revoked == []
    data = history[0].data
    assert data["outcome"] == "could_not_complete" and data["fee_collected_cents"] == 3000
    assert data["finished_on"] == "2026-10-01T09:00:00+08:00" and data["premises_id"] == premises
    assert data["technician_name"] == store.row("technician", outsider).data["name"]
    # The other technician does not hold this household: nothing for them.
    theirs, _r, _c = pull_all(core, store, me(world, 1))
    assert not [r for r in theirs if r.collection == "household_history" and r.id == "earlier-1"]
    # Every change a tablet makes to it is refused, alone.
    v = history[0].version
    results = push(core, store, mine, [
        Mutation("h-1", "household_history", "earlier-1", Op.UPDATE, v, {"fee_collected_cents": 0}, T),
        Mutation("h-2", "household_history", "new-1", Op.CREATE, None, {"premises_id": premises}, T),
        Mutation("h-3", "household_history", "earlier-1", Op.DELETE, v, {}, T),
        status("h-4", job, "en_route", "dispatched", store.row("job", job).version),
    ])
    assert [(r.status, r.reason) for r in results] == [
        (ResultStatus.REJECTED, R.FIELD_NOT_WRITABLE), (ResultStatus.REJECTED, R.CREATE_NOT_ALLOWED),
        (ResultStatus.REJECTED, R.DELETE_NOT_ALLOWED), (ResultStatus.APPLIED, None)]
    assert store.row("household_history", "earlier-1").data["fee_collected_cents"] == 3000
    # The job is reassigned away: the household's history leaves the tablet with it.
    store.office_put("job", job, {"technician_id": world.technicians[1]})
    rows, revoked, cursor = pull_all(core, store, mine, cursor)
    assert RowRef("household_history", "earlier-1") in revoked
