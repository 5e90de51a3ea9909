"""Property tests (hypothesis): cursors, paging and note merges hold for any input, not just examples."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sync import PROTOCOL_VERSION
from sync.collections import Keyset
from sync.merge import merge_notes
from sync.records import Principal, PullRequest
from sync.scope import Cursor, Scope, decode_cursor, encode_cursor
from sync.server_core import ServerCore
from sync.sim.server import MemoryServerStore
from sync.sim.world import build_world

ids = st.frozensets(st.uuids().map(str), max_size=30)


@given(seq=st.integers(min_value=0, max_value=2**53), jobs=ids, customers=ids, key=st.none() | st.binary(min_size=1))
def test_a_cursor_decodes_to_what_was_encoded(seq, jobs, customers, key):
    cursor = Cursor(seq, Scope({Keyset.JOB: jobs, Keyset.CUSTOMER: customers}))
    back = decode_cursor(encode_cursor(cursor, key), key)
    assert back.seq == seq and back.scope.ids(Keyset.JOB) == jobs and back.scope.ids(Keyset.CUSTOMER) == customers


edits = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["priority", "route_order", "tech"])), max_size=25)


@settings(max_examples=60, deadline=None)
@given(before=edits, after=edits, limit=st.integers(1, 9))
def test_paging_delivers_every_change_in_scope_once_at_its_latest_version(before, after, limit):
    store = MemoryServerStore()
    world = build_world(store, technicians=2, jobs_per_technician=3, chargeable_every=0)
    me = Principal(world.technicians[0], "dev-0")
    core = ServerCore(store)

    def office(changes):
        for n, (j, what) in enumerate(changes):
            job = world.jobs[j]
            value = {"priority": {"priority": n % 4 + 1}, "route_order": {"route_order": n},
                     "tech": {"technician_id": world.technicians[n % 2]}}[what]
            store.office_put("job", job, value)

    def pull_to_end(cursor, held):
        while True:
            page = core.pull(me, PullRequest(PROTOCOL_VERSION, cursor, limit))
            for ref in page.revoked:
                held.pop((ref.collection, ref.id), None)
            for row in page.rows:
                old = held.get((row.collection, row.id))
                assert old is None or row.version >= old.version or row.version == old.version
                held[(row.collection, row.id)] = row
            cursor = page.cursor
            if not page.has_more:
                return cursor

    office(before)
    held: dict = {}
    cursor = pull_to_end(None, held)
    office(after)
    pull_to_end(cursor, held)
    fresh: dict = {}
    pull_to_end(None, fresh)
    # An incremental pull after any edits ends where a first sync of the same scope ends.
    assert held == fresh


texts = st.text(alphabet="ab \n", max_size=8)


@given(base=texts, office_add=texts, device_add=texts)
def test_additions_from_both_sides_are_both_kept(base, office_add, device_add):
    merged, _ = merge_notes(base, base + office_add, base + device_add, Principal("t", "d", "李"), "2026-11-27T09:00:00+08:00")
    assert merged.startswith(base + office_add)
    assert device_add.strip() in merged


@given(base=texts, office=texts, device=texts)
def test_no_side_of_a_note_is_ever_lost(base, office, device):
    merged, _ = merge_notes(base, office, device, Principal("t", "d", "李"), "2026-11-27T09:00:00+08:00")
    if office != base:
        assert office in merged
    assert device[len(base):] in merged if device.startswith(base) else device in merged
