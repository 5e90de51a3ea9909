"""Listen to the server's change signal (GET /api/v1/sync/events, server-sent events) and sync when told.

docs/protocol.md §10: the stream carries no rows, only "something of yours changed up to version N"
(``urgent`` when one of the jobs is urgent or an emergency, R8). A background thread holds the
stream (``requests``, streamed), reconnects with a growing, jittered back-off when the network or
the server goes away, resumes with ``Last-Event-ID`` so a change made while it was reconnecting is
still reported, and never runs on the UI thread: it hands each change to ``on_change`` through
``dispatch`` (the app passes ``Clock.schedule_once``). A tablet without the stream loses nothing:
the timer sync still runs.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from sync import PROTOCOL_VERSION
from sync.engine import Backoff
from sync.wire import PROTOCOL_VERSION_HEADER

log = logging.getLogger("fieldsync.mobile.signal")

EVENTS_PATH = "/api/v1/sync/events"
# After failed attempts in a row: the sync engine's exponential back-off with full jitter, 1 s doubling
# to a 60 s cap, so a hundred tablets coming back online do not reconnect in one instant.
BACKOFF = Backoff(base=1.0, cap=60.0)
READ_TIMEOUT = 45.0  # the server sends a keep-alive every 15 s: silence this long is a dead connection
CONNECT_TIMEOUT = 10.0
SIGNED_OUT_WAIT = 5.0  # how often to look again for a token while nobody is signed in


@dataclass(frozen=True)
class Credentials:
    """Where to listen and as whom."""

    server_url: str
    token: str
    device_id: str


@dataclass(frozen=True)
class Event:
    """One server-sent event."""

    event: str
    data: str
    id: str | None = None

    def json(self) -> dict[str, Any]:
        """The data as JSON (an empty dict when it is not)."""
        try:
            value = json.loads(self.data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def parse_events(lines: Iterable[str]) -> Iterator[Event]:
    """Server-sent events from the stream's lines (comments skipped, multi-line data joined)."""
    name, data, ident = "message", [], None
    for line in lines:
        if line == "":
            if data:
                yield Event(name, "\n".join(data), ident)
            name, data, ident = "message", [], None
            continue
        if line.startswith(":"):
            continue  # a keep-alive comment
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            ident = value


class ChangeListener:
    """A background thread holding the change-signal stream; ``on_change(data)`` for every change.

    ``credentials()`` is asked before each connection (None: nobody signed in, look again later).
    A 401 stops listening with that token until the token changes (the sync itself handles the
    sign-out or the wipe); a 426 stops until the app is updated.
    """

    def __init__(
        self, credentials: Callable[[], Credentials | None], on_change: Callable[[dict[str, Any]], None],
        dispatch: Callable[[Callable[[], None]], None] | None = None, *,
        http: requests.Session | None = None, rng: Callable[[], float] = random.random,
    ) -> None:
        self._credentials = credentials
        self._on_change = on_change
        self._dispatch = dispatch or (lambda fn: fn())
        self._http = http or requests.Session()
        self._rng = rng
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: requests.Response | None = None
        self._lock = threading.Lock()
        self.last_event_id: str | None = None
        self.failures = 0  # failed attempts in a row
        self.connections = 0  # streams opened (tests and diagnostics)
        self.refused_token: str | None = None
        self.state = "stopped"  # stopped | waiting | connecting | listening | backing_off | refused

    @property
    def running(self) -> bool:
        """Whether the listening thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start listening in a daemon thread (once)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fieldsync-signal", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Stop listening: close the stream (unblocks the reader) and wait for the thread."""
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            response.close()
        if self._thread is not None:
            self._thread.join(timeout)
        self.state = "stopped"

    def _run(self) -> None:
        while not self._stop.is_set():
            creds = self._credentials()
            if creds is None or creds.token == self.refused_token:
                self.state = "waiting" if creds is None else "refused"
                self._stop.wait(SIGNED_OUT_WAIT)
                continue
            try:
                self._listen(creds)
            except (requests.RequestException, OSError, ValueError, AttributeError) as exc:
                # AttributeError: requests' reader after stop() closed the response under it.
                if self._stop.is_set():
                    break
                log.info("change signal: %s", exc.__class__.__name__)
                self.failures += 1
            if self._stop.is_set() or self.state == "refused":
                continue
            self.state = "backing_off"
            self._stop.wait(BACKOFF.delay(self.failures, self._rng) if self.failures else 0.2)

    def _listen(self, creds: Credentials) -> None:
        self.state = "connecting"
        headers = {"Authorization": f"Bearer {creds.token}", PROTOCOL_VERSION_HEADER: str(PROTOCOL_VERSION),
                   "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        response = self._http.get(creds.server_url.rstrip("/") + EVENTS_PATH, headers=headers, stream=True,
                                  timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        with self._lock:
            self._response = response
        try:
            if response.status_code in (401, 403, 426):
                log.warning("change signal refused: HTTP %s", response.status_code)
                self.refused_token, self.state = creds.token, "refused"
                return
            if response.status_code != 200:
                raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
            self.connections += 1
            self.state = "listening"
            for event in parse_events(response.iter_lines(decode_unicode=True)):
                if self._stop.is_set():
                    return
                self.failures = 0  # the server answered: the next reconnect is quick
                if event.id:
                    self.last_event_id = event.id
                if event.event == "change":
                    data = event.json()
                    self._dispatch(lambda data=data: self._on_change(data))
        finally:
            with self._lock:
                self._response = None
            response.close()


class SyncOnSignal:
    """Runs a sync when the signal says so: now, or straight after the sync under way (a change
    that arrives mid-sync may not be in the pages already pulled). Lives on the UI thread."""

    def __init__(self, sync: Any) -> None:
        self.sync = sync
        self.again = False
        self.signals = 0
        sync.bind(self._on_state)

    def __call__(self, data: dict[str, Any]) -> None:
        """A change was signalled."""
        self.signals += 1
        if not self.sync.start() and self.sync.running:
            self.again = True

    def _on_state(self, state: Any) -> None:
        if not state.running and self.again:
            self.again = False
            self.sync.start()
