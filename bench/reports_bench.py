"""Reports at scale: seed a year of 100 000 jobs, then time the KPIs, the daily close, the month view
and every service report of one day; prints figures (not pass/fail).

    .venv/bin/python bench/reports_bench.py [--jobs 100000] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Without ``--database-url`` the database is a temporary SQLite file; with it, a fresh database is
created next to the one named (and dropped afterwards). Rows are written with SQL core bulk inserts
(``executemany``), not the ORM. The year is 2025 in Asia/Shanghai: 30 technicians, 20 000 customers,
jobs spread evenly over the days with windows, clock-corrected arrivals, repairs with SLA clocks,
chargeable visits with signed quotes and fees, hazards, window changes, follow-ups and complaints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import pathlib
import random
import sys
import tempfile
import time
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from server import create_app  # noqa: E402
from server.config import TestingConfig, normalise_database_url  # noqa: E402
from server.extensions import db  # noqa: E402
from sync.domain.quotes import content_hash  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2025
TECHS, CUSTOMERS, CHUNK = 30, 20_000, 5_000
LINES = [{"code": "P-101", "description": "燃气软管", "kind": "part", "qty": 1, "unit": "根",
          "unit_price_cents": 4500, "amount_cents": 4500},
         {"code": "L-01", "description": "更换人工", "kind": "labour", "qty": 1, "unit": "小时",
          "unit_price_cents": 5000, "amount_cents": 5000}]


def _png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("L", (240, 80), 255)
    ImageDraw.Draw(image).line([(10, 60), (80, 15), (150, 65), (230, 20)], fill=0, width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Seeder:
    """Bulk rows per table, flushed in chunks with executemany."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn, self.rows, self.counts = conn, {}, {}

    def add(self, table: str, **row) -> None:
        batch = self.rows.setdefault(table, [])
        batch.append(row)
        if len(batch) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write every waiting row, parents' tables first (a row never names one still in memory)."""
        order = [t.name for t in db.metadata.sorted_tables]
        for name in sorted(self.rows, key=order.index):
            batch = self.rows.get(name)
            if batch:
                self.conn.execute(db.metadata.tables[name].insert(), batch)
                self.counts[name] = self.counts.get(name, 0) + len(batch)
                self.rows[name] = []


def seed(jobs: int, rnd: random.Random, blob_sha: str) -> tuple[uuid.UUID, dict[str, int]]:
    """Write the year's rows; returns the company id and the row counts."""
    now = dt.datetime.now(dt.UTC)
    base = {"created_at": now, "updated_at": now}
    synced = {**base, "version": 1, "deleted": False}
    cid, centre = uuid.uuid4(), uuid.uuid4()
    with db.engine.begin() as conn:
        s = Seeder(conn)
        s.add("company", id=cid, code="bench", name="基准燃气有限公司", timezone="Asia/Shanghai",
              inspection_interval_months={"residential": 12, "commercial": 6, "industrial": 6, "heating": 6},
              sync_days_ahead=2, **base)
        s.add("service_centre", id=centre, company_id=cid, name="浦东服务中心", address="", **base)
        techs = [uuid.uuid4() for _ in range(TECHS)]
        for i, tid in enumerate(techs):
            s.add("technician", id=tid, company_id=cid, service_centre_id=centre, staff_no=f"T{i:05d}",
                  name=f"技师{i:02d}", phone="", skills=["inspection", "repair"], shift_start=dt.time(8, 30),
                  shift_end=dt.time(17, 30), active=True, **synced)
        customers = []
        for i in range(CUSTOMERS):
            cust, prem = uuid.uuid4(), uuid.uuid4()
            customers.append((cust, prem))
            s.add("customer", id=cust, company_id=cid, account_no=f"B{i:07d}", name=f"客户{i}",
                  category="residential" if i % 10 else "commercial", phone="", id_number="", special_care=False,
                  special_care_reason="", notes="", **synced)
            s.add("premises", id=prem, company_id=cid, customer_id=cust, address=f"上海市浦东新区基准路{i}号",
                  district="浦东新区", lat=31.2, lon=121.5, access_notes="", **synced)
        s.flush()
        days = (dt.date(YEAR, 12, 31) - dt.date(YEAR, 1, 1)).days + 1
        for n in range(jobs):
            day = dt.date(YEAR, 1, 1) + dt.timedelta(days=n * days // jobs)
            tech = techs[n % TECHS]
            cust, prem = customers[rnd.randrange(CUSTOMERS)]
            start = dt.datetime.combine(day, dt.time(8 + (n // TECHS) % 8), SH).astimezone(dt.UTC)
            kind = rnd.choices(["safety_inspection", "repair", "installation"], [70, 20, 10])[0]
            status = rnd.choices(["completed", "cancelled", "dispatched"], [90, 3, 7])[0]
            arrived = start + dt.timedelta(minutes=rnd.randint(-20, 150)) if status == "completed" else None
            chargeable = kind != "safety_inspection" and rnd.random() < 0.5
            created = start - dt.timedelta(hours=rnd.randint(2, 72))
            jid = uuid.uuid4()
            s.add("job", id=jid, company_id=cid, ref=f"BJ-{n:07d}", job_type=kind, source="office", priority=3,
                  status=status, customer_id=cust, premises_id=prem, service_centre_id=centre, description="",
                  fault_kind="network" if kind == "repair" else None, required_certifications=[], required_skills=[],
                  duration_minutes=45, chargeable=chargeable, technician_id=tech, window_start=start,
                  window_end=start + dt.timedelta(hours=2), respond_by=created + dt.timedelta(hours=6) if kind == "repair" else None,
                  fix_by=created + dt.timedelta(hours=24) if kind == "repair" else None,
                  arrived_at=arrived, work_started_at=arrived + dt.timedelta(minutes=10) if arrived else None,
                  completed_at=arrived + dt.timedelta(minutes=70) if arrived else None, could_not_complete_note="",
                  cancelled_reason="", **{**synced, "created_at": created})
            if arrived is not None:
                offset = rnd.uniform(-300, 300)
                s.add("visit_event", id=uuid.uuid4(), company_id=cid, job_id=jid, technician_id=tech, kind="arrived",
                      at=arrived, note="", received_at=arrived + dt.timedelta(minutes=30), clock_offset_s=offset,
                      corrected_at=arrived + dt.timedelta(seconds=offset), **synced)
                if rnd.random() < 0.6:
                    s.add("follow_up_task", id=uuid.uuid4(), company_id=cid, job_id=jid, customer_id=cust,
                          kind="visit_quality", due_at=arrived + dt.timedelta(days=1), status="done", outcome="",
                          satisfaction=rnd.choices([1, 2, 3, 4, 5], [2, 3, 10, 35, 50])[0],
                          done_at=arrived + dt.timedelta(days=1), **base)
                if rnd.random() < 0.05:
                    s.add("hazard", id=uuid.uuid4(), company_id=cid, job_id=jid, customer_id=cust, premises_id=prem,
                          severity="major", category="hose", description="燃气软管老化", immediate_action="",
                          found_at=arrived, rectify_by=arrived + dt.timedelta(days=7), owner="customer",
                          status=rnd.choice(["open", "fixed"]), technician_id=tech, **synced)
                if chargeable:
                    quote = {"id": uuid.uuid4(), "job_id": jid, "lines": LINES, "total_cents": 9500, "currency": "CNY",
                             "risk_note": "无", "technician_name": f"技师{n % TECHS:02d}", "staff_no": f"T{n % TECHS:05d}"}
                    quote["content_hash"] = content_hash(quote)
                    s.add("quote", company_id=cid, technician_id=tech, status="approved", supersedes_id=None,
                          created_on_device_at=arrived, **quote, **synced)
                    s.add("signature", id=uuid.uuid4(), company_id=cid, job_id=jid, purpose="quote_approval",
                          quote_id=quote["id"], content_hash=quote["content_hash"], signer_name="客户",
                          image_sha256=blob_sha, signed_at=arrived + dt.timedelta(minutes=5), **synced)
                    if rnd.random() < 0.97:
                        s.add("fee_collection", id=uuid.uuid4(), company_id=cid, job_id=jid, quote_id=quote["id"],
                              technician_id=tech, amount_cents=9500 if rnd.random() < 0.95 else 9000, method="wechat",
                              receipt_no=f"R{n}", collected_at=arrived + dt.timedelta(minutes=75), **synced)
                    s.add("cleanup_confirmation", id=uuid.uuid4(), company_id=cid, job_id=jid,
                          checklist={"waste_removed": True}, customer_confirmed=True, method="tap",
                          confirmed_at=arrived + dt.timedelta(minutes=65), **synced)
            if rnd.random() < 0.1:
                notice = rnd.choice([30, 90, 600, 1440])
                s.add("appointment", id=uuid.uuid4(), company_id=cid, job_id=jid, window_start=start,
                      window_end=start + dt.timedelta(hours=2), status="superseded", agreed_with="", agreed_at=created,
                      ended_at=start - dt.timedelta(minutes=notice), end_reason="改约", notice_minutes=notice,
                      short_notice=notice < 120, **synced)
            if n % 50 == 0:
                received = start - dt.timedelta(days=1)
                s.add("complaint", id=uuid.uuid4(), company_id=cid, received_at=received, channel="hotline",
                      complainant_name="投诉人", complainant_phone="", summary="服务", details="", confidential=True,
                      involved_technician_ids=[], answer_by=received + dt.timedelta(days=7), extension_reason="",
                      status="answered", answered_at=received + dt.timedelta(days=rnd.randint(1, 9)), answer="", **base)
        s.flush()
    return cid, s.counts


def timed(label: str, fn, results: list) -> object:
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    results.append((label, seconds))
    print(f"  {label:<48} {seconds * 1000:10.1f} ms", flush=True)
    return value


def _fresh_postgres(url: str) -> tuple[str, str]:
    parsed = sa.make_url(normalise_database_url(url))
    name = f"fieldsync_reports_bench_{os.getpid()}"
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres(url: str, name: str) -> None:
    admin = sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(url: str, jobs: int, folder: pathlib.Path) -> None:
    """Seed and time every report on one database."""
    from server.blobstore import blob_store
    from server.jobs.models import Job
    from server.reports import kpis
    from server.reports.service import generate_service_report
    from server.visits.daily_close import daily_close, month_close

    config = TestingConfig(url)
    config.DATA_DIR = str(folder)
    app = create_app(config)
    results: list = []
    with app.app_context():
        db.create_all()
        png = _png()
        sha = hashlib.sha256(png).hexdigest()
        cid, counts = timed(f"seed {jobs} jobs (SQL core bulk insert)", lambda: seed(jobs, random.Random(7), sha), results)
        blob_store().put(str(cid), sha, png)
        if db.engine.dialect.name == "postgresql":
            # Fresh statistics, as autovacuum would gather soon after a bulk load: without them the
            # planner takes the empty tables' estimates and nests loops over 100 000 rows.
            timed("ANALYZE after the bulk load", lambda: db.session.execute(sa.text("ANALYZE")), results)
        print("  rows: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        year = kpis.period_for(cid, {"date_from": dt.date(YEAR, 1, 1), "date_to": dt.date(YEAR, 12, 31)})
        timed("KPIs over the year (all technicians)", lambda: kpis.kpi_report(cid, year), results)
        report = timed("KPIs over the year (again, warm)", lambda: kpis.kpi_report(cid, year), results)
        one = kpis.period_for(cid, {"date_from": dt.date(YEAR, 1, 1), "date_to": dt.date(YEAR, 12, 31),
                                    "technician_id": report["technicians"][0]["technician_id"]})
        timed("KPIs over the year (one technician)", lambda: kpis.kpi_report(cid, one), results)
        print(f"  on time {report['total']['on_time']['rate']}, notice {report['total']['notice']['rate']}, "
              f"respond {report['total']['repair_sla']['respond']['rate']}, "
              f"approval {report['total']['approval_before_work']['rate']}, "
              f"satisfaction {report['total']['satisfaction']['mean']}")
        day = dt.date(YEAR, 6, 18)
        close = timed(f"daily close {day}", lambda: daily_close(cid, day), results)
        month = timed(f"month view {day:%Y-%m}", lambda: month_close(cid, day.replace(day=1)), results)
        print(f"  daily close: {sum(t.collections for t in close.technicians)} fees, "
              f"{sum(len(t.problems) for t in close.technicians)} problems; month: {month['collections']} fees, "
              f"{len(month['discrepancies'])} discrepancies")
        start, end = kpis.calendar.local_day_bounds(cid, day, day)
        day_jobs = db.session.execute(
            sa.select(Job).where(Job.company_id == cid, Job.status == "completed", Job.completed_at >= start,
                                 Job.completed_at < end)
        ).scalars().all()

        def all_reports() -> int:
            size = 0
            for job in day_jobs:
                size += len(generate_service_report(job).pdf)
            db.session.commit()
            return size

        size = timed(f"service reports for {day} ({len(day_jobs)} visits)", all_reports, results)
        print(f"  {size / max(len(day_jobs), 1) / 1024:.1f} KiB per report, "
              f"{results[-1][1] / max(len(day_jobs), 1) * 1000:.0f} ms per report")
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark once and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (a fresh database is made)")
    args = parser.parse_args(argv)
    print("command: .venv/bin/python bench/reports_bench.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    with tempfile.TemporaryDirectory(prefix="fieldsync-reports-bench-") as tmp:
        folder = pathlib.Path(tmp)
        if args.database_url:
            url, name = _fresh_postgres(args.database_url)
            print(f"database: PostgreSQL ({name})")
            try:
                run(url, args.jobs, folder)
            finally:
                _drop_postgres(url, name)
        else:
            print(f"database: SQLite ({folder / 'bench.sqlite'})")
            run(f"sqlite:///{folder / 'bench.sqlite'}", args.jobs, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
