"""A real tablet for end-to-end tests: the on-disk device store, the requests transport, the sync engine,
and a technician's day driven through the app's own view-models.

``Tablet`` runs in the test process (many at once, one thread each). ``python -m tests.e2e.tablet``
runs one tablet as a separate process, so a test can ``kill -9`` it in the middle of a save or a pull
(``--mode save|pull|work``), optionally with a wrong clock (``--skew-s``). It prints one line per
completed step, flushed, so the parent knows what the tablet had committed when it died.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mobile.demo import DEMO_PIN  # noqa: E402
from mobile.keystore import Keystore  # noqa: E402
from mobile.session import Session  # noqa: E402
from mobile.store import DeviceStore  # noqa: E402
from mobile.transport import HttpTransport, login  # noqa: E402
from mobile.viewmodels.cleanup import CLEANUP_ITEMS, CleanupViewModel  # noqa: E402
from mobile.viewmodels.hazard import HazardViewModel  # noqa: E402
from mobile.viewmodels.visit import VisitViewModel  # noqa: E402
from sync.engine import Backoff, SyncEngine, SyncReport  # noqa: E402

PASSWORD = "correct horse battery"
STAGES = ("running_late", "check_in", "note_and_hazard", "start_work", "cleanup", "complete", "depart")
MAX_ACCESS_TOKENS = 6  # premises.access_notes holds 255 characters


def png(tag: str) -> bytes:
    """A small, unique PNG-typed blob (the server types blobs by their magic bytes)."""
    return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(tag.encode()).digest() * 8


def skewed_clock(skew_s: float) -> Callable[[], dt.datetime]:
    """A device clock ``skew_s`` seconds off the true time."""
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=skew_s)


def skew_device_clock(skew_s: float) -> None:
    """Make the whole tablet process's clock wrong (the store's change times and the push's device_time)."""
    import mobile.store

    clock = skewed_clock(skew_s)
    mobile.store.now_iso = lambda: clock().isoformat()  # type: ignore[assignment]


@dataclass
class Made:
    """One mutation the tablet made, as it left the outbox's hands: for the guarantee checks."""

    mutation_id: str
    collection: str
    row_id: str
    op: str
    fields: dict[str, Any]
    seq: int


@dataclass
class Tablet:
    """One technician's tablet: store on disk, transport, engine, and the day's work."""

    name: str
    store: DeviceStore
    transport: HttpTransport
    engine: SyncEngine
    rng: random.Random
    clock: Callable[[], dt.datetime]
    made: list[Made] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    stage: dict[str, int] = field(default_factory=dict)  # job id -> next stage index
    access_tokens: dict[str, list[str]] = field(default_factory=dict)  # premises id -> tokens appended
    route_orders: dict[str, int] = field(default_factory=dict)  # job id -> last route_order proposed
    reports: list[SyncReport] = field(default_factory=list)
    steps: int = 0

    @classmethod
    def open(cls, path: Path, server_url: str, username: str, device_id: str, *, seed: int = 0,
             token: str | None = None, login_url: str | None = None, timeout: float = 5, batch_size: int = 20,
             page_size: int = 50, backoff: Backoff | None = None, skew_s: float = 0.0) -> Tablet:
        """Open (or create) the store at ``path``, encrypted as on a tablet (PIN ``DEMO_PIN``); sign in
        unless a token is given or stored."""
        keys = Keystore(path)
        store = DeviceStore(path, key=keys.unlock(DEMO_PIN) if keys.exists() else keys.create(DEMO_PIN, PASSWORD))
        store.set_meta(device_id=device_id)
        session = Session(store)
        if token is None:
            token = session.token
        if token is None:
            answer = login(login_url or server_url, username, PASSWORD, device_id)
            session.remember_login(server_url, answer["access_token"], answer["user"])
            token = answer["access_token"]
        transport = HttpTransport(server_url, token, device_id, timeout=timeout)
        rng = random.Random(seed)
        engine = SyncEngine(store, transport, batch_size=batch_size, page_size=page_size,
                            backoff=backoff or Backoff(base=0.05, cap=0.5), rng=rng.random)
        tablet = cls(username, store, transport, engine, rng, skewed_clock(skew_s))
        tablet.note_made()
        return tablet

    def close(self) -> None:
        """Close the store and the HTTP session."""
        self.transport.http.close()
        self.store.close()

    # --- what the technician does -------------------------------------------------------------------------
    def note_made(self) -> None:
        """Remember every outbox entry not seen before (called after each local change)."""
        for row in self.store.outbox_rows():
            if row["mutation_id"] not in self._seen:
                import json

                self._seen.add(row["mutation_id"])
                self.made.append(Made(row["mutation_id"], row["collection"], row["row_id"], row["op"],
                                      json.loads(row["fields"]), row["seq"]))

    def jobs(self) -> list[dict[str, Any]]:
        """The jobs on the tablet, by route order."""
        return sorted(self.store.all("job"), key=lambda j: (j.get("route_order") or 0, j["id"]))

    def work(self) -> str:
        """One step of a realistic visit on one of the tablet's jobs; returns what was done."""
        open_jobs = [j for j in self.jobs() if self.stage.get(j["id"], 0) < len(STAGES)]
        if not open_jobs:
            return "idle"
        job = open_jobs[0] if self.rng.random() < 0.7 else self.rng.choice(open_jobs)
        stage = STAGES[self.stage.get(job["id"], 0)]
        getattr(self, f"_do_{stage}")(job)
        self.stage[job["id"]] = self.stage.get(job["id"], 0) + 1
        done = [stage]
        if self.rng.random() < 0.3:
            done.append(self._append_access_note(job))
        if self.rng.random() < 0.3:
            done.append(self._propose_route_order(job))
        self.steps += 1
        self.note_made()
        return "+".join(d for d in done if d)

    def _visit(self, job: dict[str, Any]) -> VisitViewModel:
        return VisitViewModel(self.store, job["id"], clock=self.clock)

    def _do_running_late(self, job: dict[str, Any]) -> None:
        self._visit(job).running_late(self.clock() + dt.timedelta(minutes=self.rng.randint(10, 90)), note="堵车")

    def _do_check_in(self, job: dict[str, Any]) -> None:
        self._visit(job).check_in()

    def _do_note_and_hazard(self, job: dict[str, Any]) -> None:
        tag = f"{self.name}-{job['id'][:8]}-{self.steps}"
        self.store.create("note", {"job_id": job["id"], "author_name": self.name, "text": f"备注 {tag}",
                                   "written_at": self.clock().isoformat()})
        HazardViewModel(self.store, job["id"], clock=self.clock).record(
            "minor", f"软管老化 {tag}", immediate_action="已告知用户", photo=png(tag), category="hose")

    def _do_start_work(self, job: dict[str, Any]) -> None:
        gate = self._visit(job).start_work()
        assert gate, gate

    def _do_cleanup(self, job: dict[str, Any]) -> None:
        tag = f"{self.name}-{job['id'][:8]}-clean"
        CleanupViewModel(self.store, job["id"], clock=self.clock).confirm(
            dict.fromkeys(CLEANUP_ITEMS, True), method="signature", signer="张先生", png=png(tag + "-sig"),
            photo=png(tag + "-photo"))

    def _do_complete(self, job: dict[str, Any]) -> None:
        gate = self._visit(job).complete(satisfaction=5)
        assert gate, gate

    def _do_depart(self, job: dict[str, Any]) -> None:
        self._visit(job).depart()

    def _append_access_note(self, job: dict[str, Any]) -> str:
        premises = self.store.get("premises", job["premises_id"])
        tokens = self.access_tokens.setdefault(job["premises_id"], [])
        if premises is None or len(tokens) >= MAX_ACCESS_TOKENS:
            return ""
        token = f"k{self.rng.randrange(16**6):06x}"
        text = (premises.get("access_notes") or "").rstrip()
        self.store.update("premises", job["premises_id"], {"access_notes": f"{text} {token}".strip()})
        tokens.append(token)
        return "access_note"

    def _propose_route_order(self, job: dict[str, Any]) -> str:
        value = 100 + self.steps * 10 + self.rng.randrange(10)
        self.store.update("job", job["id"], {"route_order": value})
        self.route_orders[job["id"]] = value
        return "route_order"

    # --- sync ---------------------------------------------------------------------------------------------
    def sync_once(self) -> SyncReport:
        """One ``SyncEngine.sync()``."""
        report = self.engine.sync()
        self.reports.append(report)
        return report

    def sync_until_complete(self, timeout: float, max_attempts: int = 200) -> SyncReport:
        """Sync, waiting the engine's backoff between failures, until a sync completes (bounded)."""
        deadline = time.monotonic() + timeout
        report = SyncReport()
        for _ in range(max_attempts):
            report = self.sync_once()
            if report.complete and self.store.pending_count() == 0:
                return report
            if time.monotonic() >= deadline:
                break
            time.sleep(min(report.retry_after or 0.0, max(0.0, deadline - time.monotonic())))
        return report


# --- the tablet as a process --------------------------------------------------------------------------------


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run one tablet (for kill -9 tests)")
    parser.add_argument("--store", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--mode", choices=("save", "pull", "work", "sync"), required=True)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=20, help="save mode: changes per saved batch")
    parser.add_argument("--page-size", type=int, default=5)
    parser.add_argument("--skew-s", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.skew_s:
        skew_device_clock(args.skew_s)
    tablet = Tablet.open(Path(args.store), args.server, args.user, args.device, seed=args.seed,
                         page_size=args.page_size, skew_s=args.skew_s, timeout=30)
    if args.mode == "save":
        # Big saves, one transaction each: a kill lands inside one of them.
        job = tablet.jobs()[0]
        for i in range(args.steps):
            with tablet.store.batch() as batch:
                for k in range(args.batch):
                    batch.create("note", {"job_id": job["id"], "author_name": args.user, "text": f"save {args.seed}-{i}.{k}",
                                          "written_at": tablet.clock().isoformat()})
            print(f"saved {i + 1}", flush=True)
    elif args.mode == "pull":
        # The technician keeps saving while the sync worker pulls (the app allows it): each saved
        # note is reported once its transaction committed.
        import threading

        job = tablet.jobs()[0]
        stop, pulling = threading.Event(), threading.Event()

        def keep_saving() -> None:
            pulling.wait(timeout=60)  # from the first page on: the push phase has sent what was queued
            for i in range(args.steps):
                if stop.is_set():
                    return
                tablet.store.create("note", {"job_id": job["id"], "author_name": args.user,
                                             "text": f"during pull {i}", "written_at": tablet.clock().isoformat()})
                print(f"saved {i}", flush=True)
                time.sleep(0.02)

        saver = threading.Thread(target=keep_saving, daemon=True)
        saver.start()

        def progress(rows: int, more: bool) -> None:
            print(f"pulled {rows} {int(more)}", flush=True)
            pulling.set()

        report = tablet.engine.sync(progress=progress)
        stop.set()
        saver.join(timeout=10)
        print(f"done {int(report.complete)}", flush=True)
    elif args.mode == "work":
        for i in range(args.steps):
            print(f"worked {i + 1} {tablet.work()}", flush=True)
        report = tablet.sync_until_complete(timeout=60)
        print(f"done {int(report.complete)}", flush=True)
    else:
        report = tablet.sync_until_complete(timeout=60)
        print(f"done {int(report.complete)}", flush=True)
    tablet.close()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
