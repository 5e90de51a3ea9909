"""Load: N tablets doing their day against gunicorn + PostgreSQL for a fixed time; prints figures.

    .venv/bin/python bench/load.py [--tablets 200] [--duration 60] [--jobs 6] [--think 15] [--ramp 10]
                                   [--workers CORES] [--threads 128] [--postgres URL] [--cleanup-signature]
                                   [--no-streams]

1. A fresh PostgreSQL database next to ``--postgres`` (default FIELDSYNC_TEST_DATABASE_URL, else
   127.0.0.1:5432): migrated, one company with ``--tablets`` technicians, each with ``--jobs``
   dispatched jobs today (households, premises, meters), and a device token per tablet.
2. ``fieldsync serve --production`` (gunicorn, gthread) on a free 127.0.0.1 port.
3. One thread per tablet with its own requests session: first a full pull, then until the time is up,
   cycles of a technician's day — the next step of the current visit (on the way, running late,
   check-in, a note, a hazard with a photo, start of work, cleanup, completion, departure) as the
   app's wire mutations, blobs uploaded first (HEAD, then PUT), a push, an incremental pull, then a
   think time (uniform 0 … 2 × ``--think`` s). With ``--streams`` (the default) each tablet also keeps
   its change signal open as the app does online (``GET /sync/events`` read by a thread of its own,
   reconnecting with Last-Event-ID when the server ends it), so every stream holds a gunicorn thread.
4. Prints requests/s, p50/p95/p99 latency per kind and overall, errors (non-2xx, timeouts), and the
   consistency check: every change the server acknowledged is on the server, exactly once. With
   streams: the change events received and the delay from a push that changed one of the tablet's
   jobs (the push's answer) to the change event that covers that job's version.

Traffic goes to 127.0.0.1 only; every loop ends with the time limit. The last line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import pathlib
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import requests
import sqlalchemy as sa

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sync import PROTOCOL_VERSION  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    Database,
    ServerProcess,
    issue_device_tokens,
    migrate,
    postgres_base_url,
    seed,
)

STEPS = ("en_route", "running_late", "check_in", "note", "hazard", "start", "cleanup", "complete", "depart")
HEADERS = {"X-Fieldsync-Protocol": str(PROTOCOL_VERSION)}


def now_iso() -> str:
    """The tablet's clock (the true time here)."""
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass
class Stats:
    """Latencies and outcomes of every request, shared by the tablet threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # mutation result statuses
    acknowledged: list[tuple[str, str, str, str]] = field(default_factory=list)  # (mutation, collection, row, op)
    rejected: list[str] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # SSE events by kind
    signal_delays: list[float] = field(default_factory=list)  # push answered -> change event, seconds
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (monotonic start, seconds) of each request

    def record(self, kind: str, seconds: float, ok: bool, detail: str = "") -> None:
        """One request's latency, and an error when it failed."""
        with self.lock:
            self.latencies[kind].append(seconds)
            if kind != "events_err":
                self.timeline.append((time.monotonic() - seconds, seconds))
            if not ok:
                self.errors[f"{kind} {detail}".strip()] += 1


class LoadTablet:
    """A tablet's day as wire requests (the shapes mobile/ sends), without the on-disk store."""

    def __init__(self, url: str, token: str, device_id: str, rng: random.Random, stats: Stats,
                 cleanup_signature: bool) -> None:
        self.url, self.device_id, self.rng, self.stats = url + "/api/v1", device_id, rng, stats
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", **HEADERS})
        self.cursor: str | None = None
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}  # (collection, id) -> wire row
        self.progress: dict[str, int] = {}
        self.cleanup_signature = cleanup_signature
        self.outbox: list[dict[str, Any]] = []
        self.blobs: dict[str, bytes] = {}
        self.signal_lock = threading.Lock()
        self.awaiting: list[tuple[int, float]] = []  # (job version a push answered, when) not yet signalled
        self.signalled = 0  # the highest version a change event announced
        self.stopped = threading.Event()

    def _call(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            resp = self.http.request(method, self.url + path, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.stats.record(kind, time.perf_counter() - started, False, type(exc).__name__)
            return None
        ok = resp.status_code < 300 or (kind == "blob_head" and resp.status_code == 404)
        self.stats.record(kind, time.perf_counter() - started, ok, str(resp.status_code))
        return resp if ok else None

    # --- sync ---------------------------------------------------------------------------------------------
    def pull(self) -> bool:
        """Pull to the end (pages of 500)."""
        for _ in range(100):
            resp = self._call("pull", "POST", "/sync/pull",
                              json={"protocol_version": PROTOCOL_VERSION, "cursor": self.cursor, "limit": 500})
            if resp is None:
                return False
            page = resp.json()
            for row in page["rows"]:
                self._keep(row)
            for ref in page["revoked"]:
                self.rows.pop((ref["collection"], ref["id"]), None)
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return True
        return False

    def _keep(self, row: dict[str, Any]) -> None:
        key = (row["collection"], row["id"])
        held = self.rows.get(key)
        if held is None or held["version"] <= row["version"]:
            self.rows[key] = row

    def push(self) -> bool:
        """Upload the blobs the outbox needs, then push it; keep the answers."""
        if not self.outbox:
            return True
        for sha, data in list(self.blobs.items()):
            head = self._call("blob_head", "HEAD", f"/blobs/{sha}")
            if head is None:
                return False
            if head.status_code == 404 and self._call("blob_put", "PUT", f"/blobs/{sha}", data=data,
                                                      headers={"Content-Type": "image/png"}) is None:
                return False
        body = {"protocol_version": PROTOCOL_VERSION, "device_id": self.device_id, "device_time": now_iso(),
                "mutations": self.outbox}
        resp = self._call("push", "POST", "/sync/push", json=body)
        if resp is None:
            return False  # the outbox is kept and sent again (idempotent)
        results = resp.json()["results"]
        with self.stats.lock:
            for m, r in zip(self.outbox, results, strict=True):
                self.stats.statuses[r["status"]] += 1
                if r["status"] == "rejected":
                    self.stats.rejected.append(f"{m['collection']} {m['op']}: {r['reason']}")
                else:
                    self.stats.acknowledged.append((m["mutation_id"], m["collection"], m["row_id"], m["op"]))
        answered = time.monotonic()
        for r in results:
            if r.get("row"):
                self._keep(r["row"])
                if r["row"]["collection"] == "job":
                    with self.signal_lock:
                        if r["row"]["version"] <= self.signalled:  # the signal beat the push's answer
                            self.stats.signal_delays.append(0.0)
                        else:
                            self.awaiting.append((r["row"]["version"], answered))
        self.outbox, self.blobs = [], {}
        return True

    # --- the day ------------------------------------------------------------------------------------------
    def _job(self) -> dict[str, Any] | None:
        jobs = [r for (c, _), r in self.rows.items() if c == "job" and self.progress.get(r["id"], 0) < len(STEPS)]
        jobs.sort(key=lambda r: (r["data"].get("route_order") or 0, r["id"]))
        return jobs[0] if jobs else None

    def _mutation(self, collection: str, row_id: str, op: str, fields: dict[str, Any]) -> None:
        row = self.rows.get((collection, row_id))
        self.outbox.append({
            "mutation_id": str(uuid.uuid4()), "collection": collection, "row_id": row_id, "op": op,
            "base_version": row["version"] if row and op != "create" else None, "fields": fields,
            "base": {k: row["data"].get(k) for k in fields} if row and op != "create" else {},
            "device_time": now_iso(),
        })
        if row and op == "update":  # the tablet shows its own change at once
            row["data"].update(fields)

    def _create(self, collection: str, fields: dict[str, Any]) -> str:
        row_id = str(uuid.uuid4())
        self._mutation(collection, row_id, "create", fields)
        return row_id

    def _photo(self, tag: str) -> str:
        data = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(tag.encode()).digest() * 64
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        return sha

    def step(self) -> str:
        """The next step of the current visit, as mutations in the outbox."""
        job = self._job()
        if job is None:
            return "idle"
        jid, n = job["id"], self.progress.get(job["id"], 0)
        step, now = STEPS[n], now_iso()
        tech = next((r["data"] for (c, _), r in self.rows.items() if c == "technician"), {})
        if step == "en_route":
            self._mutation("job", jid, "update", {"status": "en_route", "en_route_at": now})
            self._create("visit_event", {"job_id": jid, "kind": "en_route", "at": now})
        elif step == "running_late":
            eta = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)).isoformat()
            self._create("visit_event", {"job_id": jid, "kind": "running_late", "at": now, "eta": eta, "note": "堵车"})
            self._mutation("job", jid, "update", {"eta": eta})
        elif step == "check_in":
            self._create("visit_event", {"job_id": jid, "kind": "arrived", "at": now})
            self._mutation("job", jid, "update", {"status": "on_site", "arrived_at": now})
        elif step == "note":
            self._create("note", {"job_id": jid, "author_name": tech.get("name", ""), "text": f"检查完毕 {uuid.uuid4().hex[:8]}",
                                  "written_at": now})
        elif step == "hazard":
            found = dt.datetime.now(dt.UTC)
            self._create("hazard", {
                "job_id": jid, "customer_id": job["data"]["customer_id"], "premises_id": job["data"]["premises_id"],
                "severity": "minor", "category": "hose", "description": "软管老化", "immediate_action": "已告知用户",
                "checklist_item_key": None, "found_at": found.isoformat(),
                "rectify_by": (found + dt.timedelta(days=30)).isoformat(), "owner": "customer", "status": "open",
                "photo_sha256": self._photo(f"{jid}-hazard")})
        elif step == "start":
            self._mutation("job", jid, "update", {"status": "in_progress", "work_started_at": now})
        elif step == "cleanup":
            fields: dict[str, Any] = {"job_id": jid, "checklist": {"waste_removed": True, "area_wiped": True,
                                      "appliances_restored": True, "gas_restored_checked": True},
                                      "customer_confirmed": True, "method": "tap", "confirmed_at": now,
                                      "photo_sha256": self._photo(f"{jid}-cleanup")}
            if self.cleanup_signature:
                content = hashlib.sha256(json.dumps({"job_id": jid}).encode()).hexdigest()
                fields["method"] = "signature"
                fields["signature_id"] = self._create("signature", {
                    "job_id": jid, "purpose": "cleanup", "content_hash": content, "signer_name": "张先生",
                    "image_sha256": self._photo(f"{jid}-sig"), "signed_at": now})
            self._create("cleanup_confirmation", fields)
        elif step == "complete":
            self._mutation("job", jid, "update", {"status": "completed", "completed_at": now, "satisfaction": 5})
        elif step == "depart":
            self._create("visit_event", {"job_id": jid, "kind": "departed", "at": now})
            self._mutation("job", jid, "update", {"departed_at": now})
        self.progress[jid] = n + 1
        return step

    # --- the change signal ----------------------------------------------------------------------------------
    def listen(self, stop_at: float, start_after: float) -> None:
        """Keep GET /sync/events open until ``stop_at`` (as mobile/change_signal.py does), reconnecting
        with Last-Event-ID when the server ends the stream; count events and time the signals."""
        time.sleep(start_after)
        http = requests.Session()  # its own connection, as the app's change signal has
        http.headers.update(self.http.headers)
        last_id: str | None = None
        while time.monotonic() < stop_at and not self.stopped.is_set():
            headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})}
            try:
                resp = http.get(self.url + "/sync/events", headers=headers, stream=True, timeout=(10, 40))
            except requests.RequestException as exc:
                self.stats.record("events_err", 0.0, False, type(exc).__name__)
                time.sleep(2)
                continue
            if resp.status_code != 200:
                self.stats.record("events_err", 0.0, False, str(resp.status_code))
                resp.close()
                time.sleep(2)
                continue
            event: dict[str, str] = {}
            try:
                for line in resp.iter_lines(decode_unicode=True):
                    if self.stopped.is_set():
                        break  # a keep-alive comment comes every 15 s at the latest
                    if line:
                        if not line.startswith(":"):
                            key, _, value = line.partition(": ")
                            event[key] = value
                        continue
                    if event.get("id"):
                        last_id = event["id"]
                    if event.get("event"):
                        self._event(event)
                    event = {}
            except Exception as exc:  # noqa: BLE001 - the server going away mid-read raises several kinds
                if not self.stopped.is_set():
                    self.stats.record("events_err", 0.0, False, type(exc).__name__)
            finally:
                resp.close()
        http.close()

    def _event(self, event: dict[str, str]) -> None:
        arrived = time.monotonic()
        with self.stats.lock:
            self.stats.events[event["event"]] += 1
        version = json.loads(event["data"])["version"]
        with self.signal_lock:
            self.signalled = max(self.signalled, version)
            covered = [at for v, at in self.awaiting if v <= version]
            self.awaiting = [(v, at) for v, at in self.awaiting if v > version]
        if event["event"] != "change":
            return  # a hello: what it covers was answered before this stream was open, not signalled
        with self.stats.lock:
            self.stats.signal_delays += [max(0.0, arrived - at) for at in covered]

    def run(self, stop_at: float, think: float, start_after: float) -> None:
        """First sync, then cycles of work, push and pull with think time until ``stop_at``."""
        time.sleep(start_after)  # tablets are switched on over the ramp, not all in the same instant
        for _ in range(20):
            if self.pull() or time.monotonic() > stop_at:
                break
        while time.monotonic() < stop_at:
            if not self.outbox:  # a failed push keeps its outbox: it is sent again, unchanged
                for _ in range(self.rng.randint(1, 2)):
                    self.step()
            self.push()
            self.pull()
            time.sleep(min(max(0.0, stop_at - time.monotonic()), self.rng.uniform(0, 2 * think)))
        self.push()  # what is left, so the check sees every change the server acknowledged


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc; 0 when it is gone)."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu(server_group: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by the server's processes (its process group: gunicorn's master and
    workers) and by the PostgreSQL backends serving ``database`` (found by their process title)."""
    server = postgres = 0.0
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat[2]) == server_group:
            server += _cpu_seconds(int(entry.name))
        elif title.startswith("postgres:") and f" {database} " in f"{title} ":
            postgres += _cpu_seconds(int(entry.name))
    return {"server": server, "postgres": postgres}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) in milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def check_consistency(db: Database, acknowledged: list[tuple[str, str, str, str]]) -> dict[str, int]:
    """Every acknowledged mutation has one stored answer, and every acknowledged create its row."""
    engine = db.engine()
    ids = [a[0] for a in acknowledged]
    missing_answer = duplicated = missing_row = 0
    with engine.connect() as conn:
        counts: dict[str, int] = {}
        for i in range(0, len(ids), 5000):
            for mid, n in conn.execute(sa.text(
                    "SELECT mutation_id, count(*) FROM applied_mutation WHERE mutation_id = ANY(:ids) "
                    "GROUP BY mutation_id"), {"ids": ids[i:i + 5000]}):
                counts[mid] = n
        missing_answer = sum(1 for i in ids if i not in counts)
        duplicated = sum(1 for n in counts.values() if n > 1)
        creates: dict[str, list[str]] = defaultdict(list)
        for _, collection, row_id, op in acknowledged:
            if op == "create":
                creates[collection].append(row_id)
        for collection, row_ids in creates.items():
            found = conn.execute(sa.text(f'SELECT count(*) FROM "{collection}" WHERE id = ANY(:ids)'),
                                 {"ids": [uuid.UUID(r) for r in row_ids]}).scalar_one()
            missing_row += len(set(row_ids)) - found
    engine.dispose()
    return {"acknowledged": len(ids), "missing_answer": missing_answer, "duplicated": duplicated,
            "missing_row": missing_row}


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, load, check, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--jobs", type=int, default=6, help="jobs per technician")
    parser.add_argument("--think", type=float, default=15.0,
                        help="mean seconds between a tablet's syncs (a real day: minutes; 15 s is ~20x denser)")
    parser.add_argument("--ramp", type=float, default=10.0, help="tablets start uniformly within this many s")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (default: cores)")
    parser.add_argument("--threads", type=int, default=128, help="gunicorn threads per worker")
    parser.add_argument("--streams", action=argparse.BooleanOptionalAction, default=True,
                        help="each tablet keeps its /sync/events stream open (default; --no-streams: sync only)")
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--cleanup-signature", action="store_true",
                        help="cleanup confirmed by a signature (signature + cleanup_confirmation in one push)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-log", action="store_true",
                        help="the server logs a JSON line per request (its own duration_ms) to server-<port>.log")
    args = parser.parse_args(argv)
    base = args.postgres or postgres_base_url()
    if base is None:
        print("needs PostgreSQL: --postgres URL, FIELDSYNC_TEST_DATABASE_URL or 127.0.0.1:5432", file=sys.stderr)
        return 2
    folder = pathlib.Path(tempfile.mkdtemp(prefix="fieldsync-load-"))
    db = Database.postgres(base)
    server = ServerProcess(db, folder, production=True, workers=args.workers, threads=args.threads,
                           env={"FIELDSYNC_LOG_LEVEL": "INFO"} if args.server_log else None)
    try:
        t0 = time.perf_counter()
        migrate(db)
        world = seed(db, args.tablets, args.jobs)
        tokens = issue_device_tokens(db, [t.username for t in world.technicians])
        seeded = time.perf_counter() - t0
        print(f"seeded {args.tablets} technicians x {args.jobs} jobs in {seeded:.1f} s", flush=True)
        server.start()
        stats = Stats()
        rng = random.Random(args.seed)
        tablets = [LoadTablet(server.url, *tokens[t.username], random.Random(rng.random()), stats,
                              args.cleanup_signature) for t in world.technicians]
        cpu_before = process_cpu(server.proc.pid, db.name)
        client_before = time.process_time()
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        stop_at = started + args.duration
        threads, listeners = [], []
        for t in tablets:
            start_after = rng.uniform(0, args.ramp)
            threads.append(threading.Thread(target=t.run, args=(stop_at, args.think, start_after), daemon=True))
            if args.streams:
                listeners.append(threading.Thread(target=t.listen, args=(stop_at, start_after), daemon=True))
        for thread in threads + listeners:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.duration + 120)
        elapsed = time.monotonic() - started
        for t in tablets:  # not closed from here: closing waits for the reading thread's next line
            t.stopped.set()
        for thread in listeners:  # each sees the stop at its next line (a keep-alive at the latest: 15 s)
            thread.join(timeout=max(0.1, elapsed + 20 - (time.monotonic() - started)))
        for t in tablets:
            t.http.close()
        cpu_after = process_cpu(server.proc.pid, db.name)  # PostgreSQL backends of dropped pool connections are missed
        client_cpu = time.process_time() - client_before
        load_after = os.getloadavg()[0]
        consistency = check_consistency(db, stats.acknowledged)
    finally:
        server.stop()
        log_tail = server.log_tail(5)
        if args.server_log:
            print(f"server log: {server.log_path}")
        db.drop()
    stream_errors = stats.latencies.pop("events_err", [])
    every = [v for values in stats.latencies.values() for v in values]
    errors = sum(n for kind, n in stats.errors.items() if not kind.startswith("events_err"))
    print(f"{len(every)} requests in {elapsed:.1f} s: {len(every) / elapsed:.1f} requests/s, "
          f"{args.tablets} tablets (think {args.think} s, ramp {args.ramp} s), "
          f"gunicorn {args.workers} workers x {args.threads} threads, "
          f"{'an open change signal stream per tablet' if args.streams else 'no change signal streams'}")
    for kind, values in sorted(stats.latencies.items()):
        print(f"  {kind:10s} n={len(values):6d} p50={percentile(values, 50):7.1f} ms "
              f"p95={percentile(values, 95):7.1f} ms p99={percentile(values, 99):7.1f} ms "
              f"max={1000 * max(values):7.1f} ms")
    print(f"  {'all':10s} n={len(every):6d} p50={percentile(every, 50):7.1f} ms p95={percentile(every, 95):7.1f} ms "
          f"p99={percentile(every, 99):7.1f} ms mean={1000 * statistics.fmean(every) if every else 0:.1f} ms")
    windows: dict[int, list[float]] = defaultdict(list)
    for begun, seconds in stats.timeline:
        windows[int((begun - started) // 10)].append(seconds)
    print("  by 10 s window of the run (ramp first): " + ", ".join(
        f"{10 * w}-{10 * w + 10} s p95 {percentile(v, 95):.0f} ms (n={len(v)})" for w, v in sorted(windows.items())))
    server_cpu = cpu_after["server"] - cpu_before["server"]
    pg_cpu = cpu_after["postgres"] - cpu_before["postgres"]
    per_request = 1000 * server_cpu / max(len(every), 1)
    pg_per_request = 1000 * pg_cpu / max(len(every), 1)
    print(f"CPU: server (gunicorn) {server_cpu:.1f} s = {per_request:.1f} ms/request, PostgreSQL backends "
          f"{pg_cpu:.1f} s = {pg_per_request:.1f} ms/request; the tablets (this process) {client_cpu:.1f} s; "
          f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores")
    print(f"errors: {errors} {dict(stats.errors)}")
    delays = stats.signal_delays
    if args.streams:
        print(f"change signal: events {dict(stats.events)}, stream errors {len(stream_errors)}; push answered -> "
              f"change event n={len(delays)} p50={percentile(delays, 50):.0f} ms p95={percentile(delays, 95):.0f} ms "
              f"max={1000 * max(delays, default=0):.0f} ms")
    print(f"mutation results: {dict(stats.statuses)}; rejected reasons: "
          f"{dict(sorted((r, stats.rejected.count(r)) for r in set(stats.rejected)))}")
    print(f"consistency: {consistency}")
    if errors:
        print("server log (tail):\n" + log_tail)
    lost = consistency["missing_answer"] + consistency["missing_row"] + consistency["duplicated"]
    print(json.dumps({"tablets": args.tablets, "think_s": args.think, "seconds": round(elapsed, 1), "requests": len(every),
                      "rps": round(len(every) / elapsed, 1), "p50_ms": round(percentile(every, 50), 1),
                      "p95_ms": round(percentile(every, 95), 1), "p99_ms": round(percentile(every, 99), 1),
                      "errors": errors, "acknowledged": consistency["acknowledged"], "lost": lost,
                      "server_cpu_ms_per_request": round(per_request, 1),
                      "postgres_cpu_ms_per_request": round(pg_per_request, 1), "tablets_cpu_s": round(client_cpu, 1),
                      "workers": args.workers, "threads": args.threads, "load_average": round(load_after, 1),
                      "streams": args.streams, "events": dict(stats.events), "stream_errors": len(stream_errors),
                      "signal_p95_ms": round(percentile(delays, 95), 1) if delays else None}))
    return 1 if errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
