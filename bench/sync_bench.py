"""Sync end to end over loopback HTTP into the tablet's on-disk store; prints figures, last line JSON.

    .venv/bin/python bench/sync_bench.py --rows 10000 [--background 1000000] [--database-url URL]

1. Seeds a server database (SQLite file by default): a technician with ``--rows`` jobs in today's
   scope (plus their households), and ``--background`` more rows of the same company outside the
   scope (another technician's jobs and notes, bulk-inserted with SQL, not the ORM).
2. Serves the real app from a separate process on 127.0.0.1 (gunicorn, one gthread worker, keep-alive).
3. Measures with the real client (mobile/store.py on an SQLite file, mobile/transport.py,
   sync-core's engine): the first full pull, a push of ``--rows`` mutations (half job status steps,
   half new notes) through validation and merge, and an incremental pull of 10 office changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.config import TestingConfig  # noqa: E402

PASSWORD = "bench password 1"
JOB_FIELDS = dict(job_type="safety_inspection", source="office", priority=3, status="dispatched",
                  description="年度安检", required_certifications=["gas_safety"], required_skills=["inspection"],
                  duration_minutes=45, chargeable=False, could_not_complete_note="", cancelled_reason="",
                  deleted=False)


def _app(url: str):
    from server import create_app

    return create_app(TestingConfig(url))


def seed(url: str, rows: int, background: int) -> dict:
    """Create the schema and the data; returns the technician's username."""
    from server.auth.models import Role, User
    from server.auth.service import hash_password
    from server.customers.models import Customer, Meter, Premises
    from server.db import ChangeCounter, utcnow
    from server.extensions import db
    from server.jobs.models import Job
    from server.org.models import Company
    from server.people.models import Technician
    from server.visits.models import Note

    app = _app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        now = utcnow()
        company = Company(code="bench", name="基准燃气", timezone="Asia/Shanghai")
        db.session.add(company)
        db.session.flush()
        users, techs = [], []
        for name in ("bench-tech", "bench-other"):
            u = User(company_id=company.id, username=name, display_name=name, role=Role.TECHNICIAN,
                     password_hash=hash_password(PASSWORD))
            db.session.add(u)
            db.session.flush()
            t = Technician(company_id=company.id, user_id=u.id, staff_no=name, name=name, skills=["inspection"])
            db.session.add(t)
            users.append(u)
            techs.append(t)
        db.session.commit()
        company_id, tech_id, other_id = company.id, techs[0].id, techs[1].id
        version = 10
        stamp = {"company_id": company_id, "created_at": now, "updated_at": now, "deleted": False}

        def households(n: int) -> tuple[list, list]:
            nonlocal version
            cust, prem, meters = [], [], []
            for _ in range(n):
                c, p = uuid.uuid4(), uuid.uuid4()
                version += 3
                cust.append({**stamp, "id": c, "version": version - 2, "account_no": c.hex[:12], "name": "张伟",
                             "category": "residential", "phone": "13800000000", "id_number": "", "special_care": False,
                             "special_care_reason": "", "notes": ""})
                prem.append({**stamp, "id": p, "version": version - 1, "customer_id": c, "address": "上海市浦东新区",
                             "district": "浦东新区", "lat": 31.2, "lon": 121.5, "access_notes": ""})
                meters.append({**stamp, "id": uuid.uuid4(), "version": version, "premises_id": p, "serial": c.hex[:10],
                               "model": "G2.5", "kind": "diaphragm", "calibration_due_on": dt.date(2030, 1, 1),
                               "status": "active"})
            db.session.execute(sa.insert(Customer), cust)
            db.session.execute(sa.insert(Premises), prem)
            db.session.execute(sa.insert(Meter), meters)
            return cust, prem

        def jobs(n: int, technician: uuid.UUID, start: dt.datetime, cust: list, prem: list, prefix: str) -> list:
            nonlocal version
            out = []
            for i in range(n):
                version += 1
                k = i % len(cust)
                out.append({**stamp, **JOB_FIELDS, "id": uuid.uuid4(), "version": version, "ref": f"{prefix}-{i:07d}",
                            "customer_id": cust[k]["id"], "premises_id": prem[k]["id"], "technician_id": technician,
                            "window_start": start + dt.timedelta(minutes=i % 480),
                            "window_end": start + dt.timedelta(minutes=i % 480 + 60), "route_order": i})
            for chunk in range(0, len(out), 5000):
                db.session.execute(sa.insert(Job), out[chunk:chunk + 5000])
            return out

        # Out of scope: another technician's past jobs and a million-row history of notes on them.
        bc, bp = households(100)
        old = jobs(1000, other_id, now - dt.timedelta(days=60), bc, bp, "OLD")
        notes_needed = max(background - 1000 - 300, 0)
        nt = Note.__table__
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text(
                "INSERT INTO note (id, company_id, version, deleted, created_at, updated_at, job_id, author_name,"
                " source, text, written_at) SELECT gen_random_uuid(), :c, :v + g, false, now(), now(),"
                " (ARRAY[:j1, :j2])[1 + g % 2]::uuid, '调度', 'office', '历史记录 ' || g, now()"
                " FROM generate_series(1, :n) g"), {"c": company_id, "v": version, "j1": str(old[0]["id"]),
                                                      "j2": str(old[1]["id"]), "n": notes_needed})
        else:
            db.session.execute(sa.text(
                "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n) "
                f"INSERT INTO {nt.name} (id, company_id, version, deleted, created_at, updated_at, job_id, author_name,"
                " source, text, written_at) SELECT lower(hex(randomblob(16))), :c, :v + i, 0, :t, :t,"
                " CASE i % 2 WHEN 0 THEN :j1 ELSE :j2 END, '调度', 'office', '历史记录 ' || i, :t FROM g"),
                {"c": company_id.hex, "v": version, "j1": old[0]["id"].hex, "j2": old[1]["id"].hex,
                 "n": notes_needed, "t": now.replace(tzinfo=None).isoformat(sep=" ")})
        version += notes_needed
        # In scope: today's jobs of the bench technician, on 100 households.
        hc, hp = households(100)
        mine = jobs(rows, tech_id, now + dt.timedelta(hours=1), hc, hp, "JOB")
        db.session.execute(sa.update(ChangeCounter).where(ChangeCounter.company_id == company_id).values(value=version))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # As autovacuum would after a bulk load: without statistics the planner takes a million
            # rows for one and picks plans no production database would.
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        total = sum(db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in
                    (Job.__table__, Note.__table__, Customer.__table__, Premises.__table__, Meter.__table__))
        db.engine.dispose()
    return {"username": "bench-tech", "job_ids": [str(j["id"]) for j in mine], "server_rows": total}


def serve(url: str, port_queue) -> None:
    """The app on a loopback port, in gunicorn as production runs it (run in a child process): one
    gthread worker, connections kept alive between a tablet's requests (the development server
    closes every connection after its answer)."""
    import logging
    import socket

    from gunicorn.app.base import BaseApplication

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class Bench(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "gthread", "threads": 4,
                               "keepalive": 75, "accesslog": None, "loglevel": "warning",
                               "control_socket_disable": True}.items():
                self.cfg.set(key, value)

        def load(self):
            return _app(url)

    logging.getLogger("gunicorn.error").setLevel(logging.WARNING)
    app = Bench()
    app.cfg.set("when_ready", lambda _arbiter: port_queue.put(port))
    app.run()


def office_edits(url: str, job_ids: list[str], n: int) -> None:
    """A dispatcher changes ``n`` jobs (through the ORM, so versions are allocated as in production)."""
    from server.extensions import db
    from server.jobs.models import Job

    app = _app(url)
    with app.app_context():
        for job_id in job_ids[:n]:
            db.session.get(Job, uuid.UUID(job_id)).description = f"改 {time.time()}"
        db.session.commit()
        db.engine.dispose()


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (gunicorn's worker)
    (Linux /proc)."""
    import os

    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Phase:
    """Wall time and the CPU time of the client (this process) and the server (the child) of one phase."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid

    def __enter__(self) -> Phase:
        self.t, self.c, self.s = time.perf_counter(), time.process_time(), _cpu(self.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t
        self.client_cpu = time.process_time() - self.c
        self.server_cpu = _cpu(self.pid) - self.s

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall, CPU client {self.client_cpu:.2f} s + server {self.server_cpu:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--background", type=int, default=1_000_000, help="server rows outside the scope")
    parser.add_argument("--database-url", default=None, help="server database (default: a temporary SQLite file)")
    parser.add_argument("--page", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    from mobile.store import DeviceStore
    from mobile.transport import HttpTransport, login
    from sync.engine import SyncEngine

    work = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    url = args.database_url or f"sqlite:///{work / 'server.sqlite'}"
    t0 = time.perf_counter()
    seeded = seed(url, args.rows, args.background)
    print(f"seeded {seeded['server_rows']} server rows in {time.perf_counter() - t0:.1f} s ({url.split(':')[0]})")
    ports: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    proc = multiprocessing.get_context("spawn").Process(target=serve, args=(url, ports), daemon=True)
    proc.start()
    base = f"http://127.0.0.1:{ports.get(timeout=60)}"
    try:
        token = login(base, seeded["username"], PASSWORD, "bench-tablet")["access_token"]
        http = requests.Session()
        received = {"bytes": 0}
        http.hooks["response"].append(lambda r, *a, **k: received.__setitem__("bytes", received["bytes"] + len(r.content)))
        store = DeviceStore(work / "tablet.sqlite")
        engine = SyncEngine(store, HttpTransport(base, token, "bench-tablet", session=http),
                            batch_size=args.batch, page_size=args.page)

        with Phase(proc.pid) as pull:
            report = engine.sync()
        pull_s = pull.wall
        assert report.complete, report.error
        pulled = report.pulled_rows
        bytes_per_row = received["bytes"] / max(pulled, 1)
        print(f"full pull: {pulled} rows, {report.pages} pages, {bytes_per_row:.0f} B/row: {pull}")

        half = args.rows // 2
        with store.batch() as b:
            for job_id in seeded["job_ids"][:half]:
                b.update("job", job_id, {"status": "en_route"})
            for i in range(args.rows - half):
                b.create("note", {"job_id": seeded["job_ids"][i], "text": f"现场记录 {i}", "author_name": "bench",
                                  "written_at": dt.datetime.now(dt.UTC).isoformat()})
        with Phase(proc.pid) as push:
            report = engine.sync()
        push_s = push.wall
        assert report.complete and not report.parked, (report.error, report.parked[:3])
        pushed = sum(report.pushed.values())
        print(f"push: {pushed} mutations ({report.pushed}), pulled back {report.pulled_rows}: {push}")

        times, cpu = [], []
        for _ in range(7):
            office_edits(url, seeded["job_ids"][half:], 10)
            with Phase(proc.pid) as one:
                report = engine.sync()
            times.append(one.wall * 1000)
            cpu.append((one.client_cpu + one.server_cpu) * 1000)
            assert report.complete and report.pulled_rows == 10, (report.error, report.pulled_rows)
        inc_ms = statistics.median(times)
        print(f"incremental pull of 10 changes: median {inc_ms:.1f} ms wall of {[round(x, 1) for x in times]}; "
              f"median CPU client+server {statistics.median(cpu):.1f} ms")
        store.close()
    finally:
        proc.terminate()
        proc.join(5)
    import os

    print(json.dumps({"pull_rows_per_s": round(pulled / pull_s), "push_mutations_per_s": round(pushed / push_s),
                      "incremental_pull_ms": round(inc_ms, 1), "bytes_per_row": round(bytes_per_row),
                      "rows": pulled, "server_rows": seeded["server_rows"], "database": url.split(":")[0],
                      "pull_server_cpu_s": round(pull.server_cpu, 2), "pull_client_cpu_s": round(pull.client_cpu, 2),
                      "push_server_cpu_s": round(push.server_cpu, 2), "push_client_cpu_s": round(push.client_cpu, 2),
                      "incremental_cpu_ms": round(statistics.median(cpu), 1),
                      "load_average": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
