"""GET /api/v1/sync/events: a light change signal (server-sent events) for online tablets.

The stream carries no rows, only "something of yours changed, pull now": an event whenever one of
the technician's jobs gets a new version, flagged ``urgent`` when such a job is urgent or an
emergency, so an online tablet learns of an urgent job within a couple of seconds.

Every online tablet keeps one stream open, so a stream must cost next to nothing: it waits on its
own queue and never queries the database (besides authentication at connect). One poller thread
per worker process (:class:`ChangeHub`, started lazily with the first stream, stopped when the last
one ends) reads the committed counters of the subscribed companies once a second in one query, and
only when a company's counter moved runs one query for the changed jobs of all its subscribed
technicians (``version`` in (old, new], grouped by technician: count and min(priority)), then wakes
the streams concerned. The counter is read first, so only committed versions up to it are signalled
(G4). The poller holds no database connection between polls and survives database errors with a
backoff. Each stream sends a keep-alive comment every 15 s and ends after a few minutes so the tablet
reconnects with a fresh token check.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import requires
from server.db import ChangeCounter, current_version
from server.extensions import db
from server.jobs.models import Job, Priority
from server.sync.service import check_protocol_header, sync_context

blp = Blueprint("sync_events", __name__, url_prefix="/api/v1/sync", description="Change signal for online tablets")

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0
MAX_BACKOFF_SECONDS = 30.0


class ChangeSignalSchema(ma.Schema):
    """The data of a ``change`` event: the newest version seen and whether an urgent job is among it."""

    version = ma.fields.Integer(required=True)
    urgent = ma.fields.Boolean(required=True)
    jobs = ma.fields.Integer(required=True)


_SIGNAL = ChangeSignalSchema()


@dataclass(eq=False)
class Subscription:
    """One open stream: whose jobs it watches, the version it has been told of, and its inbox."""

    company_id: uuid.UUID
    technician_id: uuid.UUID
    after: int
    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)


class ChangeHub:
    """The streams of one app in this process and the one thread that polls for them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()
        self._thread: threading.Thread | None = None

    def subscribe(self, company_id: uuid.UUID, technician_id: uuid.UUID, after: int) -> Subscription:
        sub = Subscription(company_id, technician_id, after)
        with self._lock:
            self._subs.add(sub)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fieldsync-change-hub", daemon=True)
                self._thread.start()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def _run(self) -> None:
        backoff = POLL_SECONDS
        while True:
            started = time.monotonic()
            with self._lock:
                subs = list(self._subs)
                if not subs:
                    self._thread = None  # the next subscribe starts a new poller
                    return
            try:
                with self.app.app_context():
                    try:
                        self.poll(subs)
                    finally:
                        db.session.remove()  # no connection held between polls
                backoff = POLL_SECONDS
            except Exception:
                log.exception("change signal poll failed; retrying in %.0f s", backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - started)))

    def poll(self, subs: list[Subscription]) -> None:
        """One round (inside an app context): read the counters, signal the streams whose jobs changed."""
        by_company: dict[uuid.UUID, list[Subscription]] = defaultdict(list)
        for sub in subs:
            by_company[sub.company_id].append(sub)
        counters = dict(db.session.execute(
            sa.select(ChangeCounter.company_id, ChangeCounter.value)
            .where(ChangeCounter.company_id.in_(list(by_company)))
        ).all())
        j = Job.__table__.c
        for company_id, company_subs in by_company.items():
            upto = int(counters.get(company_id) or 0)
            # Streams are grouped by the version they were told of: after a round they all share the
            # counter's value, so a moved counter costs one query (a resuming stream may add one).
            behind: dict[int, list[Subscription]] = defaultdict(list)
            for sub in company_subs:
                if sub.after < upto:
                    behind[sub.after].append(sub)
            for old, group in behind.items():
                technicians = {sub.technician_id for sub in group}
                rows = db.session.execute(
                    sa.select(j.technician_id, sa.func.count(), sa.func.min(j.priority))
                    .where(j.company_id == company_id, j.technician_id.in_(list(technicians)),
                           j.version > old, j.version <= upto)
                    .group_by(j.technician_id)
                ).all()
                changed = {tech: (count, urgent) for tech, count, urgent in rows}
                for sub in group:
                    sub.after = upto
                    if sub.technician_id in changed:
                        count, urgent = changed[sub.technician_id]
                        sub.inbox.put({"version": upto, "jobs": count,
                                       "urgent": urgent is not None and urgent <= int(Priority.URGENT)})


_HUBS_LOCK = threading.Lock()


def change_hub(app: Flask) -> ChangeHub:
    """The app's hub in this process (one per worker process: gunicorn builds the app after fork)."""
    hub = app.extensions.get("fieldsync_change_hub")
    if hub is None:
        with _HUBS_LOCK:
            hub = app.extensions.setdefault("fieldsync_change_hub", ChangeHub(app))
    return hub


def _stream(app: Flask, company_id: uuid.UUID, technician_id: uuid.UUID, after: int) -> Iterator[str]:
    hello = _SIGNAL.dumps({"version": after, "urgent": False, "jobs": 0})
    yield f"retry: 2000\nid: {after}\nevent: hello\ndata: {hello}\n\n"
    lifetime = float(app.config.get("SYNC_EVENTS_STREAM_SECONDS", STREAM_SECONDS))
    hub = change_hub(app)
    sub = hub.subscribe(company_id, technician_id, after)
    try:
        started = beat = time.monotonic()
        while (left := lifetime - (time.monotonic() - started)) > 0:
            try:
                signal = sub.inbox.get(timeout=max(0.0, min(left, KEEPALIVE_SECONDS - (time.monotonic() - beat))))
            except queue.Empty:
                signal = None
            if signal is not None:
                beat = time.monotonic()
                yield f"id: {signal['version']}\nevent: change\ndata: {_SIGNAL.dumps(signal)}\n\n"
            elif time.monotonic() - beat >= KEEPALIVE_SECONDS:
                beat = time.monotonic()
                yield ": keep-alive\n\n"
    finally:
        hub.unsubscribe(sub)


@blp.route("/events", methods=["GET"])
@requires(Role.TECHNICIAN)
@blp.response(200, description="text/event-stream of `hello` then `change` events (data: ChangeSignal)")
def events():
    """Subscribe to the change signal of this tablet's technician (Last-Event-ID resumes)."""
    check_protocol_header()
    ctx = sync_context(lock=False)
    company_id, technician_id = ctx.company.id, ctx.technician.id
    try:
        after = int(request.headers.get("Last-Event-ID", ""))
    except ValueError:
        after = current_version(db.session, company_id)
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return Response(_stream(app, company_id, technician_id, after), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
