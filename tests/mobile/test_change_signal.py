"""The change signal: the tablet listens to the server's event stream in the background and syncs when
told, so a dispatcher's urgent job reaches the device within 5 s (R8); it reconnects with back-off."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import requests

from mobile import change_signal, headless
from mobile.change_signal import ChangeListener, Credentials, SyncOnSignal, parse_events
from server.auth.models import Role
from server.extensions import db
from server.jobs.models import Job
from server.org.models import Company
from sync.engine import Backoff
from tests.conftest import PASSWORD


def test_events_are_parsed_from_the_stream_lines():
    lines = ["retry: 2000", "id: 812", "event: hello", 'data: {"version": 812}', "", ": keep-alive", "",
             "id: 815", "event: change", 'data: {"version": 815,', 'data: "urgent": true}', ""]
    events = list(parse_events(lines))
    assert [(e.event, e.id) for e in events] == [("hello", "812"), ("change", "815")]
    assert events[1].json() == {"version": 815, "urgent": True}


def test_backoff_grows_is_capped_and_jittered():
    assert [change_signal.BACKOFF.delay(n, lambda: 1.0) for n in (1, 2, 3, 4, 6, 7, 50)] == [1, 2, 4, 8, 32, 60, 60]
    assert change_signal.BACKOFF.delay(3, lambda: 0.5) == 2  # jittered: tablets spread out


class FakeResponse:
    def __init__(self, status: int, lines: list[str] | None = None, error: Exception | None = None) -> None:
        self.status_code, self.lines, self.error, self.closed = status, lines or [], error, False

    def iter_lines(self, decode_unicode: bool = True):
        yield from self.lines
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True


class FakeHttp:
    """Answers each GET with the next scripted response (an exception is raised) and records headers."""

    def __init__(self, script: list) -> None:
        self.script, self.calls = list(script), []
        self.done = threading.Event()

    def get(self, url: str, headers: dict, stream: bool, timeout: tuple) -> FakeResponse:
        self.calls.append((url, dict(headers), time.monotonic()))
        if not self.script:
            self.done.set()
            raise requests.ConnectionError("no more")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def test_listener_reconnects_with_backoff_and_resumes_from_the_last_event(monkeypatch):
    monkeypatch.setattr(change_signal, "BACKOFF", Backoff(base=0.05, cap=0.2))
    changes: list[dict] = []
    http = FakeHttp([
        requests.ConnectionError("offline"),
        requests.ConnectionError("still offline"),
        FakeResponse(200, ["id: 7", "event: hello", 'data: {"version": 7}', "",
                           "id: 9", "event: change", 'data: {"version": 9, "urgent": true, "jobs": 1}', ""],
                     error=requests.exceptions.ChunkedEncodingError("server went away")),
        FakeResponse(200, ["id: 11", "event: change", 'data: {"version": 11, "urgent": false, "jobs": 2}', ""]),
    ])
    listener = ChangeListener(lambda: Credentials("http://server.test/", "tok", "tablet-1"), changes.append,
                              http=http, rng=lambda: 1.0)
    listener.start()
    assert http.done.wait(10)
    listener.stop()
    assert not listener.running
    assert changes == [{"version": 9, "urgent": True, "jobs": 1}, {"version": 11, "urgent": False, "jobs": 2}]
    urls = {c[0] for c in http.calls}
    assert urls == {"http://server.test/api/v1/sync/events"}
    headers = [c[1] for c in http.calls]
    assert all(h["Authorization"] == "Bearer tok" and h["X-Fieldsync-Protocol"] for h in headers)
    # Resumes after the last event it saw, so a change made while reconnecting is still reported.
    assert [h.get("Last-Event-ID") for h in headers] == [None, None, None, "9", "11"]
    gaps = [b[2] - a[2] for a, b in zip(http.calls, http.calls[1:], strict=False)]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.09  # backed off, growing


def test_a_refused_token_is_not_hammered_until_it_changes():
    tokens = ["old"]
    http = FakeHttp([FakeResponse(401)] + [FakeResponse(200, [])] * 50)
    listener = ChangeListener(lambda: Credentials("http://s", tokens[0], "d"), lambda _d: None, http=http)
    change_signal.SIGNED_OUT_WAIT, saved = 0.05, change_signal.SIGNED_OUT_WAIT
    try:
        listener.start()
        time.sleep(0.4)
        assert len(http.calls) == 1 and listener.state == "refused"
        tokens[0] = "new"  # signed in again
        deadline = time.monotonic() + 5
        while len(http.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert http.calls[1][1]["Authorization"] == "Bearer new"
    finally:
        listener.stop()
        change_signal.SIGNED_OUT_WAIT = saved


class FakeSync:
    def __init__(self) -> None:
        self.running, self.started, self.listeners = False, 0, []

    def bind(self, fn) -> None:
        self.listeners.append(fn)

    def start(self) -> bool:
        if self.running:
            return False
        self.running, self.started = True, self.started + 1
        return True

    def finish(self) -> None:
        self.running = False
        for fn in self.listeners:
            fn(type("S", (), {"running": False})())


def test_a_change_during_a_sync_runs_one_more_sync_after_it():
    sync = FakeSync()
    on_signal = SyncOnSignal(sync)
    on_signal({"urgent": True})
    assert sync.started == 1
    on_signal({"urgent": False})
    on_signal({"urgent": False})
    assert sync.started == 1 and on_signal.again
    sync.finish()
    assert sync.started == 2 and not on_signal.again
    sync.finish()
    assert sync.started == 2


def wait_until(condition, timeout: float) -> float:
    """Run the UI loop until ``condition()`` holds; returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        headless.settle(1)
        time.sleep(0.02)
    return time.monotonic() - start


def test_a_dispatchers_urgent_job_reaches_the_online_tablet_within_5_seconds(
        live_server, field_day, make_kivy_app, make_user, app, monkeypatch):
    # Short streams: the tablet has to reconnect (and resume) at least once during the test.
    monkeypatch.setitem(app.config, "SYNC_EVENTS_STREAM_SECONDS", 2)
    from mobile.transport import login

    tablet = make_kivy_app(demo_jobs=0, server_url=live_server)
    answer = login(live_server, field_day["username"], PASSWORD, tablet.session.device_id)
    tablet.session.remember_login(live_server, answer["access_token"], answer["user"])
    assert tablet.sync.start()
    wait_until(lambda: not tablet.sync.running and tablet.sync.state.outcome == "ok", 30)
    assert tablet.store.get("job", field_day["job_id"]) is not None
    tablet.signal.start()
    wait_until(lambda: tablet.signal.state == "listening", 10)
    time.sleep(2.5)  # past the first stream's end
    wait_until(lambda: tablet.signal.connections >= 2 and tablet.signal.state == "listening", 10)

    # The dispatcher, through the API: a gas smell reported on the hotline, assigned to this technician.
    company = db.session.get(Company, field_day["company_id"])
    make_user(company, Role.DISPATCHER, "disp-m")
    office = requests.Session()
    token = office.post(f"{live_server}/api/v1/auth/login", json={"username": "disp-m", "password": PASSWORD},
                        timeout=10).json()["access_token"]
    office.headers["Authorization"] = f"Bearer {token}"
    customer_id = str(db.session.get(Job, uuid.UUID(field_day["job_id"])).customer_id)
    created = office.post(f"{live_server}/api/v1/jobs", json={
        "job_type": "emergency", "customer_id": customer_id, "priority": 1, "description": "燃气泄漏报警",
        "source": "hotline"}, timeout=10)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    window = office.post(f"{live_server}/api/v1/jobs/{job_id}/appointment", json={
        "window_start": now.isoformat(), "window_end": (now + dt.timedelta(hours=1)).isoformat(),
        "agreed_with": "王芳"}, timeout=10)
    assert window.status_code == 200, window.text
    assigned = office.post(f"{live_server}/api/v1/jobs/{job_id}/assign",
                           json={"technician_id": field_day["technician_id"]}, timeout=10)
    assert assigned.status_code == 200, assigned.text
    took = wait_until(lambda: tablet.store.get("job", job_id) is not None, 5)
    print(f"urgent job on the tablet {took:.2f} s after the dispatcher assigned it")
    job = tablet.store.get("job", job_id)
    assert job["job_type"] == "emergency" and job["priority"] == 1
    assert tablet.on_signal.signals >= 1
    tablet.signal.stop()
    assert not tablet.signal.running
