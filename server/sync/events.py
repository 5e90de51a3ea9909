"""GET /api/v1/sync/events: a light change signal (server-sent events) for online tablets.

The stream carries no rows, only "something of yours changed, pull now": an event whenever one of
the technician's jobs gets a new version, flagged ``urgent`` when such a job is urgent or an
emergency, so an online tablet learns of an urgent job within a couple of seconds. It polls the
company's committed counter once a second (one indexed read; the job query only runs when the
counter moved), holds no database connection between polls, sends a keep-alive comment every 15 s
and ends after a few minutes so the tablet reconnects with a fresh token check.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import requires
from server.db import current_version
from server.extensions import db
from server.jobs.models import Job, Priority
from server.sync.service import check_protocol_header, sync_context

blp = Blueprint("sync_events", __name__, url_prefix="/api/v1/sync", description="Change signal for online tablets")

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0


class ChangeSignalSchema(ma.Schema):
    """The data of a ``change`` event: the newest version seen and whether an urgent job is among it."""

    version = ma.fields.Integer(required=True)
    urgent = ma.fields.Boolean(required=True)
    jobs = ma.fields.Integer(required=True)


_SIGNAL = ChangeSignalSchema()


def _poll(company_id: uuid.UUID, technician_id: uuid.UUID, after: int) -> tuple[int, dict | None]:
    """The committed counter now, and the signal for the technician's jobs changed after ``after``."""
    upto = current_version(db.session, company_id)
    if upto <= after:
        return upto, None
    j = Job.__table__.c
    count, urgent = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(j.priority))
        .where(j.company_id == company_id, j.technician_id == technician_id, j.version > after, j.version <= upto)
    ).one()
    if not count:
        return upto, None
    return upto, {"version": upto, "urgent": urgent is not None and urgent <= int(Priority.URGENT), "jobs": count}


def _stream(app: Flask, company_id: uuid.UUID, technician_id: uuid.UUID, after: int) -> Iterator[str]:
    hello = _SIGNAL.dumps({"version": after, "urgent": False, "jobs": 0})
    yield f"retry: 2000\nid: {after}\nevent: hello\ndata: {hello}\n\n"
    lifetime = float(app.config.get("SYNC_EVENTS_STREAM_SECONDS", STREAM_SECONDS))
    started = beat = time.monotonic()
    while time.monotonic() - started < lifetime:
        time.sleep(POLL_SECONDS)
        with app.app_context():
            after, signal = _poll(company_id, technician_id, after)
        if signal is not None:
            beat = time.monotonic()
            yield f"id: {after}\nevent: change\ndata: {_SIGNAL.dumps(signal)}\n\n"
        elif time.monotonic() - beat >= KEEPALIVE_SECONDS:
            beat = time.monotonic()
            yield ": keep-alive\n\n"


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
