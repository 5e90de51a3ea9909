"""GET /api/v1/sync/events over a real HTTP server: an online tablet learns of an urgent job in seconds."""

from __future__ import annotations

import json
import queue
import threading
import time

import requests
import sqlalchemy as sa

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


def test_thirty_streams_cost_one_counter_read_a_second_and_only_the_right_tablet_hears(
        make_company, make_tablet, live_server, app, monkeypatch):
    """One poller per process: 30 open streams of 30 technicians read the counter once a second in all,
    not 30 times; an urgent job still reaches its technician's stream within ~2 s, and nobody else's."""
    monkeypatch.setitem(app.config, "SYNC_EVENTS_STREAM_SECONDS", 9)
    company = make_company("sync-many")
    tablets = [make_tablet(company, f"tech-{i:02d}") for i in range(30)]
    customer = make_household(company)
    quiet = make_job(company, customer, window_start=in_hours(3))  # nobody's yet
    db.session.commit()

    statements: list[tuple[float, str]] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append((time.monotonic(), statement))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    streams, inboxes = [], []
    try:
        for tablet in tablets:
            stream = requests.get(f"{live_server}/api/v1/sync/events", headers=tablet.headers, stream=True, timeout=30)
            assert stream.status_code == 200
            got: queue.Queue = queue.Queue()
            threading.Thread(target=_events, args=(stream, got), daemon=True).start()
            streams.append(stream)
            inboxes.append(got)
        for got in inboxes:
            assert got.get(timeout=5)[1]["event"] == "hello"

        time.sleep(1.2)  # every stream is subscribed: the hello went out first
        start = time.monotonic()
        time.sleep(4)
        end = time.monotonic()
        quiet_round = [s for at, s in statements if start <= at < end]
        counter_reads = [s for s in quiet_round if "change_counter" in s]
        # ~4 polls in 4 s for the whole process; 30 streams polling by themselves would be ~120.
        assert 3 <= len(counter_reads) <= 5, len(counter_reads)
        assert len(quiet_round) == len(counter_reads), quiet_round  # nothing else while nothing changes

        # A gas leak: the dispatcher assigns an emergency job to technician 7.
        target = tablets[7]
        job = db.session.get(Job, quiet.id)
        job.technician_id, job.priority, job.job_type = target.technician.id, int(Priority.EMERGENCY), JobType.EMERGENCY
        db.session.commit()
        assigned = time.monotonic()
        at, change = inboxes[7].get(timeout=5)
        assert at - assigned < 2.5, at - assigned
        data = json.loads(change["data"])
        assert change["event"] == "change" and data["urgent"] is True and data["jobs"] == 1
        time.sleep(1.5)
        assert all(got.empty() for i, got in enumerate(inboxes) if i != 7)
        # The moved counter cost one job query for all 30 streams, not one each.
        job_queries = [s for at, s in statements if at >= assigned and "change_counter" not in s and "job" in s]
        assert len(job_queries) == 1, job_queries
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
        for stream in streams:
            stream.close()


def test_the_poller_survives_a_database_error_and_still_signals(tablet, live_server, app, monkeypatch, caplog):
    from server.sync import events

    monkeypatch.setitem(app.config, "SYNC_EVENTS_STREAM_SECONDS", 8)
    real_poll, failures = events.ChangeHub.poll, []

    def flaky(self, subs):
        if not failures:
            failures.append(1)
            raise sa.exc.OperationalError("SELECT change_counter", {}, Exception("server closed the connection"))
        real_poll(self, subs)

    monkeypatch.setattr(events.ChangeHub, "poll", flaky)
    customer = make_household(tablet.company)
    quiet = make_job(tablet.company, customer, window_start=in_hours(3))
    db.session.commit()
    stream = requests.get(f"{live_server}/api/v1/sync/events", headers=tablet.headers, stream=True, timeout=30)
    got: queue.Queue = queue.Queue()
    threading.Thread(target=_events, args=(stream, got), daemon=True).start()
    assert got.get(timeout=5)[1]["event"] == "hello"
    job = db.session.get(Job, quiet.id)
    job.technician_id, job.priority = tablet.technician.id, int(Priority.URGENT)
    db.session.commit()
    _, change = got.get(timeout=6)
    assert failures and change["event"] == "change" and json.loads(change["data"])["urgent"] is True
    assert "change signal poll failed" in caplog.text
    stream.close()
