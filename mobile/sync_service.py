"""Runs the sync engine in a worker thread, never on the UI thread; results come back through
``dispatch`` (the app passes ``Clock.schedule_once``), so listeners always run on the UI thread.

After each sync the rows that left the technician's scope are purged (``DeviceStore.purge_departed``).
A 401 ``device_revoked`` with ``wipe`` erases the tablet (``mobile.wipe.erase_device``: key, store,
outbox, media); any other 401 only forgets the token and keeps everything for the next sign-in."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from mobile.session import Session
from mobile.store import DeviceStore, now_iso
from mobile.wipe import erase_device
from sync.engine import SyncEngine, SyncReport
from sync.ports import ProtocolMismatch, Transport

log = logging.getLogger("fieldsync.mobile.sync")

AUTO_INTERVAL = dt.timedelta(minutes=5)  # sync this often even with nothing to send


@dataclass(frozen=True)
class SyncState:
    """What the sync screen shows: running or not, rows pulled so far, the last outcome."""

    running: bool = False
    pulled_rows: int = 0
    outcome: str = "never"  # never | ok | offline | protocol_mismatch | signed_out | wiped | error
    detail: str = ""


class SyncService:
    """One engine per device; ``start`` spawns a worker unless one is running."""

    def __init__(
        self, store: DeviceStore, transport_factory: Callable[[], Transport | None],
        dispatch: Callable[[Callable[[], None]], None] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        erase: Callable[[DeviceStore], None] | None = None,
    ) -> None:
        self.store = store
        self._erase = erase or (lambda s: erase_device(s.path, s))
        self.erased = False  # after a wipe this service (and its store) is finished
        self.closed = False  # the app stopped: a late outcome must not touch the closed store
        self.session = Session(store)
        self._transport_factory = transport_factory
        self._dispatch = dispatch or (lambda fn: fn())
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._engine: SyncEngine | None = None
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[SyncState], None]] = []
        self.state = SyncState(outcome=store.get_meta("last_sync_outcome", "never") or "never")
        self.last_report: SyncReport | None = None
        self._not_before: dt.datetime | None = None
        self._busy = False

    def bind(self, listener: Callable[[SyncState], None]) -> None:
        """Hear every state change (on the UI thread)."""
        self._listeners.append(listener)

    def close(self) -> None:
        """The app is stopping (its store is closed next): outcomes still in flight are dropped."""
        self.closed = True
        self._listeners.clear()

    def _set(self, state: SyncState) -> None:
        self.state = state
        for listener in list(self._listeners):
            listener(state)

    @property
    def running(self) -> bool:
        """Whether a sync is under way."""
        # Until its outcome has been handed back (not merely until the thread ends).
        return self._busy

    def start(self) -> bool:
        """Start a sync in the background; False when one is already running or nobody is signed in."""
        if self.running or self.erased or self.closed:
            return False
        transport = self._transport_factory()
        if transport is None:
            self._set(SyncState(outcome="signed_out"))
            return False
        if self._engine is None or self._engine.transport is not transport:
            failures = self._engine.failures if self._engine else 0
            self._engine = SyncEngine(self.store, transport)
            self._engine.failures = failures
        self._busy = True
        self._set(SyncState(running=True, outcome=self.state.outcome))
        self._thread = threading.Thread(target=self._work, name="fieldsync-sync", daemon=True)
        self._thread.start()
        return True

    def auto_tick(self) -> bool:
        """Called now and then by the app: sync when there is work to send or the copy is getting old."""
        now = self._clock()
        if self.running or self.erased or self.closed or not self.session.signed_in or (
                self._not_before and now < self._not_before):
            return False
        last = self.store.get_meta("last_sync")
        stale = last is None or now - dt.datetime.fromisoformat(last) >= AUTO_INTERVAL
        return (self.store.pending_count() > 0 or stale) and self.start()

    def wait(self, timeout: float = 30) -> None:
        """Block until the worker thread ends (tests and the command line; with a UI-thread
        ``dispatch`` the outcome still arrives through it)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self) -> None:
        assert self._engine is not None
        try:
            report = self._engine.sync(progress=self._progress)
            if not report.auth_revoked:
                self.store.purge_departed()  # what left the scope and is needed by nothing kept goes now
        except ProtocolMismatch as exc:
            detail = str(exc)
            self._dispatch(lambda: self._finish(None, "protocol_mismatch", detail))
            return
        except Exception as exc:  # a bug must not kill the worker silently: show it, keep the outbox
            log.exception("sync failed")
            message = f"{type(exc).__name__}: {exc}"
            self._dispatch(lambda: self._finish(None, "error", message))
            return
        if report.auth_revoked:
            outcome = "wiped" if report.wipe else "signed_out"
        elif report.complete:
            outcome = "ok"
        else:
            outcome = "offline"
        self._dispatch(lambda: self._finish(report, outcome, report.error or ""))

    def _progress(self, rows: int, has_more: bool) -> None:
        def show() -> None:
            if self._busy and not self.closed:  # a late progress report must not undo the finished state
                self._set(SyncState(running=True, pulled_rows=rows, outcome=self.state.outcome))

        self._dispatch(show)

    def _finish(self, report: SyncReport | None, outcome: str, detail: str) -> None:
        self.last_report = report
        self._busy = False
        if self.closed:
            return
        if outcome == "wiped":
            # Reported lost: erase key, store (outbox included) and media, then tell the app.
            self.erased = True
            self._erase(self.store)
            self._set(SyncState(running=False, outcome=outcome, detail=detail))
            return
        meta: dict[str, str | None] = {"last_sync_outcome": outcome}
        if outcome == "ok":
            meta["last_sync"] = now_iso()
            self._not_before = None
        elif report is not None and report.retry_after is not None:
            self._not_before = self._clock() + dt.timedelta(seconds=report.retry_after)
        if outcome == "signed_out":
            meta["token"] = None  # sign in again; the outbox stays and goes after the next sign-in
        self.store.set_meta(**meta)
        self._set(SyncState(running=False, pulled_rows=report.pulled_rows if report else 0, outcome=outcome,
                            detail=detail))
