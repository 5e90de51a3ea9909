"""GET /api/v1/sync/events over a real HTTP server: an online tablet learns of an urgent job in seconds."""

from __future__ import annotations

import json
import queue
import threading
import time

import requests

from server.extensions import db
from server.jobs.models import Job, JobType, Priority
from tests.factories import in_hours, make_household, make_job


def _events(response: requests.Response, out: queue.Queue) -> None:
    event: dict[str, str] = {}
    try:
        for line in response.iter_lines(decode_unicode=True):
            if line == "":
                if event:
                    out.put((time.monotonic(), event))
                event = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                event[key] = value
    except (requests.RequestException, AttributeError):
        pass  # the test closed the stream


def test_an_urgent_job_reaches_an_online_tablet_within_5_seconds(tablet, live_server, app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_EVENTS_STREAM_SECONDS", 6)  # the stream ends by itself soon
    customer = make_household(tablet.company)
    quiet = make_job(tablet.company, customer, window_start=in_hours(3))  # not theirs yet
    stream = requests.get(f"{live_server}/api/v1/sync/events", headers=tablet.headers, stream=True, timeout=30)
    assert stream.status_code == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    got: queue.Queue = queue.Queue()
    threading.Thread(target=_events, args=(stream, got), daemon=True).start()
    _, hello = got.get(timeout=5)
    assert hello["event"] == "hello"

    # Another technician's change wakes nobody here.
    other = make_job(tablet.company, customer, window_start=in_hours(4))
    other.description = "改了"
    db.session.commit()
    time.sleep(1.5)
    assert got.empty()

    # A gas leak: the dispatcher assigns an emergency job to this technician.
    job = db.session.get(Job, quiet.id)
    job.technician_id, job.priority, job.job_type = tablet.technician.id, int(Priority.EMERGENCY), JobType.EMERGENCY
    db.session.commit()
    assigned = time.monotonic()
    at, change = got.get(timeout=5)
    assert at - assigned < 5
    assert change["event"] == "change"
    data = json.loads(change["data"])
    assert data["urgent"] is True and data["jobs"] == 1 and int(change["id"]) == data["version"]
    stream.close()


def test_the_signal_needs_a_technicians_device_token(tablet, live_server, login):
    resp = requests.get(f"{live_server}/api/v1/sync/events", timeout=5)
    assert resp.status_code == 401 and resp.json()["reason"] == "missing_token"
    plain = login(tablet.user.username)
    resp = requests.get(f"{live_server}/api/v1/sync/events", headers=plain, timeout=5)
    assert resp.status_code == 403 and resp.json()["reason"] == "device_token_required"
