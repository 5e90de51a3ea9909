"""Tablets whose clocks are hours wrong (and one whose clock jumps back mid-day): their changes still
take effect in the order they were made (G5, never by device time), and the visit times they record
are corrected by the server's estimate of each tablet's clock offset (R1)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

import mobile.store
from tests.e2e.checks import check_delivery
from tests.e2e.harness import app_on, seed
from tests.e2e.tablet import STAGES, Tablet, skewed_clock

HOUR = 3600.0
STAGE_OF = {"running_late": "running_late", "arrived": "check_in", "departed": "depart"}  # event kind -> step


def _set_clock(monkeypatch: pytest.MonkeyPatch, tablet: Tablet, skew_s: float) -> None:
    """The tablet's whole clock: its screens, its outbox's change times and its push's device_time."""
    clock = skewed_clock(skew_s)
    tablet.clock = clock
    monkeypatch.setattr(mobile.store, "now_iso", lambda: clock().isoformat())


def test_skewed_clocks_keep_order_and_visit_times_are_corrected(e2e_db, servers, tmp_path, monkeypatch):
    seed(e2e_db, 3, 1)
    server = servers(e2e_db)
    skews = {"tech0": -5 * HOUR, "tech1": 7 * HOUR, "tech2": 26 * HOUR}
    tablets = [Tablet.open(tmp_path / f"{name}.sqlite", server.url, name, f"tablet-{name}", seed=i)
               for i, name in enumerate(skews)]
    true_times: dict[str, dt.datetime] = {}
    for tablet in tablets:
        _set_clock(monkeypatch, tablet, skews[tablet.name])
        assert tablet.sync_until_complete(timeout=30).complete
        job_id = tablet.jobs()[0]["id"]
        for stage in STAGES:  # the whole visit offline, with a route-order proposal between steps
            tablet.work()
            true_times[f"{tablet.name}:{stage}"] = dt.datetime.now(dt.UTC)
            tablet.store.update("job", job_id, {"route_order": 500 + len(true_times)})
            tablet.route_orders[job_id] = 500 + len(true_times)
            tablet.note_made()
        if tablet.name == "tech1":
            # Mid-day the clock is "fixed" 12 hours back: later changes carry earlier device times.
            _set_clock(monkeypatch, tablet, -5 * HOUR)
            tablet.store.update("job", job_id, {"route_order": 999})
            tablet.route_orders[job_id] = 999
            tablet.note_made()
        assert tablet.sync_until_complete(timeout=30).complete
    assert check_delivery(e2e_db, tablets) == []

    from server.extensions import db as sqla
    from server.jobs.models import Job
    from server.sync.models import Device
    from server.visits.models import VisitEvent

    with app_on(e2e_db):
        for tablet in tablets:
            job = sqla.session.get(Job, uuid.UUID(tablet.jobs()[0]["id"]))
            # Order, not device time, decided: the visit ran its course and the last proposal stands.
            assert job.status.value == "completed" and job.departed_at is not None
            assert job.route_order == tablet.route_orders[str(job.id)]
            device = sqla.session.execute(sa.select(Device).where(Device.device_id == f"tablet-{tablet.name}")).scalar_one()
            final_skew = -5 * HOUR if tablet.name == "tech1" else skews[tablet.name]
            assert device.clock_offset_s == pytest.approx(-final_skew, abs=30)
            events = sqla.session.execute(sa.select(VisitEvent).where(VisitEvent.job_id == job.id)).scalars().all()
            assert {e.kind.value for e in events} == {"running_late", "arrived", "departed"}
            for event in events:
                claimed_error = abs((event.at - event.received_at).total_seconds())
                if tablet.name == "tech1":
                    # Recorded under one clock and sent under another: one offset per push cannot correct
                    # both. A known limit (docs/reliability.md); printed, not asserted.
                    truth = true_times[f"tech1:{STAGE_OF[event.kind.value]}"]
                    print(f"tech1 {event.kind.value}: corrected_at off by "
                          f"{(event.corrected_at - truth).total_seconds() / HOUR:+.1f} h after a clock jump")
                    continue
                assert claimed_error > 4 * HOUR  # the tablet's own time is hours off…
                truth = true_times[f"{tablet.name}:{STAGE_OF[event.kind.value]}"]
                # …and the corrected time is the true moment, within the time the test took.
                assert abs((event.corrected_at - truth).total_seconds()) < 60, (tablet.name, event.kind)
    for tablet in tablets:
        tablet.close()
