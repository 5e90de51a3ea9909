"""Sign in, pull the day, do the visit by touch, sync: against the real server on loopback."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from mobile import headless
from server.extensions import db
from server.jobs.models import Job
from server.visits.models import (
    Blob,
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    Note,
    Quote,
    Signature,
    VisitEvent,
)
from sync.domain.quotes import content_hash
from tests.conftest import PASSWORD
from tests.mobile.test_visit_touches import drive_visit


def wait_until(condition, timeout: float = 20.0) -> None:
    """Run the UI loop until ``condition()`` holds (the sync worker hands results back through it)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        headless.settle(1)
        time.sleep(0.02)


def test_sign_in_pull_visit_and_push_to_the_real_server(live_server, field_day, make_kivy_app, finger):
    app = make_kivy_app(demo_jobs=0, server_url=live_server)
    assert app.manager.current == "login"
    screen = app.current_screen
    screen.ids.username.text = field_day["username"]
    screen.ids.password.text = PASSWORD
    assert screen.ids.server.text == live_server
    finger.tap("submit")
    wait_until(lambda: app.manager.current == "route" and app.session.signed_in)
    wait_until(lambda: not app.sync.running and app.sync.state.outcome == "ok")
    app.current_screen.refresh()
    headless.settle(3)
    job = app.store.get("job", field_day["job_id"])
    assert job is not None and job["status"] == "dispatched"
    assert app.store.get_meta("device_id", "").startswith("tablet-")

    drive_visit(app, finger, job)
    pending = app.store.pending_count()
    assert pending > 15

    finger.tap(app.root.ids.sync_button)
    assert app.manager.current == "sync"
    finger.tap("sync_now")
    wait_until(lambda: not app.sync.running and app.sync.state.outcome in ("ok", "error", "offline"))
    assert app.sync.state.outcome == "ok", app.sync.state.detail
    assert app.store.pending_count() == 0 and app.store.parked() == [], app.store.parked()
    assert app.pending == 0

    db.session.expire_all()
    server_job = db.session.get(Job, uuid.UUID(field_day["job_id"]))
    assert server_job.status == "completed" and server_job.arrived_at and server_job.departed_at
    assert server_job.satisfaction == 5
    quotes = db.session.execute(sa.select(Quote).where(Quote.job_id == server_job.id)).scalars().all()
    approved = [q for q in quotes if q.status == "approved"]
    assert len(approved) == 1 and {q.status for q in quotes} == {"approved", "void"}
    signatures = db.session.execute(sa.select(Signature).where(Signature.job_id == server_job.id)).scalars().all()
    approval = [s for s in signatures if s.purpose == "quote_approval" and s.quote_id == approved[0].id]
    assert approval and approval[0].content_hash == content_hash(approved[0]) == approved[0].content_hash
    assert db.session.execute(sa.select(CleanupConfirmation).where(
        CleanupConfirmation.job_id == server_job.id)).scalar_one().customer_confirmed
    fee = db.session.execute(sa.select(FeeCollection).where(FeeCollection.job_id == server_job.id)).scalar_one()
    assert fee.amount_cents == approved[0].total_cents
    hazard = db.session.execute(sa.select(Hazard).where(Hazard.job_id == server_job.id)).scalar_one()
    assert hazard.severity == "major" and hazard.photo_sha256
    kinds = sorted(e.kind for e in db.session.execute(
        sa.select(VisitEvent).where(VisitEvent.job_id == server_job.id)).scalars())
    assert kinds == ["arrived", "departed"]
    notes = db.session.execute(sa.select(Note).where(Note.job_id == server_job.id)).scalars().all()
    assert [(n.text, n.source) for n in notes] == [("表前阀锈蚀，已提醒客户", "device")]
    blobs = {b.sha256 for b in db.session.execute(sa.select(Blob)).scalars()}
    assert {s.image_sha256 for s in signatures} | {hazard.photo_sha256} <= blobs
