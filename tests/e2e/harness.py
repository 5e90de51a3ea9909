"""The real parts of the end-to-end fault tests: a database, the server as a process, seeded work.

Used by tests/e2e (pytest fixtures in conftest.py) and by bench/faults.py and bench/load.py.
Everything talks to 127.0.0.1 only; every wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

from server.config import TestingConfig, normalise_database_url

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "e2e-secret-key-not-for-production"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_base_url() -> str | None:
    """FIELDSYNC_TEST_DATABASE_URL, else PostgreSQL on 127.0.0.1:5432 when it answers (as scripts/test.sh
    probes it), else None."""
    url = os.environ.get("FIELDSYNC_TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    try:
        import psycopg

        psycopg.connect(DEFAULT_PG, connect_timeout=2).close()
    except Exception:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return None
    return DEFAULT_PG


# --- databases ----------------------------------------------------------------------------------------------


@dataclass
class Database:
    """A database of its own for one server process: an SQLite file or a fresh PostgreSQL database."""

    url: str  # the URL the server is given (plain postgresql:// or sqlite:///)
    kind: str  # "sqlite" or "postgresql"
    admin_url: str | None = None  # PostgreSQL: the maintenance database used to create/drop/lock it
    name: str = ""

    @classmethod
    def sqlite(cls, folder: Path) -> Database:
        """An empty SQLite file in ``folder``."""
        return cls(f"sqlite:///{folder / 'server.sqlite'}", "sqlite")

    @classmethod
    def postgres(cls, base: str) -> Database:
        """A fresh PostgreSQL database next to the one ``base`` names."""
        parsed = sa.make_url(normalise_database_url(base))
        name = f"{parsed.database}_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = parsed.set(database="postgres").render_as_string(hide_password=False)
        db = cls(parsed.set(database=name).render_as_string(hide_password=False).replace("+psycopg", ""),
                 "postgresql", admin, name)
        db.admin(f'CREATE DATABASE "{name}"')
        return db

    def admin(self, *statements: str) -> list[list[tuple]]:
        """Run statements on the maintenance database (PostgreSQL only), autocommit; their rows."""
        assert self.admin_url is not None
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                out = []
                for statement in statements:
                    result = conn.execute(sa.text(statement))
                    out.append(list(result) if result.returns_rows else [])
                return out
        finally:
            engine.dispose()

    def engine(self) -> sa.Engine:
        """A new engine on this database (the caller disposes it)."""
        return sa.create_engine(normalise_database_url(self.url))

    def drop(self) -> None:
        """Remove a PostgreSQL database (its connections are closed by force)."""
        if self.kind == "postgresql":
            self.admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true',
                       f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- the server process -------------------------------------------------------------------------------------


class ServerProcess:
    """``fieldsync serve`` (the development server, or gunicorn with ``production``) as a subprocess.

    It runs in a process group of its own, so ``kill9`` takes down gunicorn's master and workers at once.
    """

    def __init__(self, db: Database, data_dir: Path, *, production: bool = False, workers: int = 2,
                 threads: int = 8, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.db, self.data_dir, self.production = db, data_dir, production
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"
        self.starts = 0

    def start(self, timeout: float = 60) -> ServerProcess:
        """Start the server and wait (at most ``timeout`` s) until /api/v1/health answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FIELDSYNC_DATABASE_URL": self.db.url, "FIELDSYNC_DATA_DIR": str(self.data_dir),
               "FIELDSYNC_SECRET_KEY": SECRET, "FIELDSYNC_WORKERS": str(self.workers),
               "FIELDSYNC_THREADS": str(self.threads), "FIELDSYNC_LOG_LEVEL": "WARNING",
               "PYTHONUNBUFFERED": "1", **self.extra_env}
        env.pop("FIELDSYNC_TEST_DATABASE_URL", None)
        cmd = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.production:
            cmd += ["--production", "--workers", str(self.workers)]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/api/v1/health", timeout=2).status_code in (200, 503):
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for failure messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill9(self) -> None:
        """SIGKILL the whole server (master and workers) and reap it."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; a no-op when not running."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


# --- seeding ------------------------------------------------------------------------------------------------


@dataclass
class TechSeed:
    """A technician with a login and their jobs for today."""

    username: str
    user_id: str
    technician_id: str
    job_ids: list[str] = field(default_factory=list)


@dataclass
class World:
    """What was seeded: the company and its technicians."""

    company_id: str
    technicians: list[TechSeed]


@contextlib.contextmanager
def app_on(db: Database) -> Iterator[object]:
    """A Flask app over ``db`` inside its app context (for seeding and checks from the test process)."""
    from server import create_app
    from server.extensions import db as sqla

    app = create_app(TestingConfig(db.url))
    with app.app_context():
        try:
            yield app
        finally:
            sqla.session.remove()
            sqla.engine.dispose()


def migrate(db: Database) -> None:
    """Create the schema with the project's Alembic migrations (what ``fieldsync init-db`` does)."""
    from server.migrate import upgrade

    with app_on(db):
        upgrade()


def seed(db: Database, technicians: int, jobs_each: int, *, prefix: str = "tech", households_extra: int = 0,
         sync_days_ahead: int = 2) -> World:
    """A company with ``technicians`` technicians (logins ``{prefix}{i}``, password PASSWORD), each with
    ``jobs_each`` dispatched jobs in today's and tomorrow's windows, in bulk (one commit)."""
    from server.auth.models import Role, User
    from server.auth.service import hash_password
    from server.extensions import db as sqla
    from server.org.models import Company, ServiceCentre
    from server.people.models import Certification, Technician

    with app_on(db):
        company = Company(code=f"e2e-{uuid.uuid4().hex[:6]}", name="申江燃气测试", timezone="Asia/Shanghai",
                          sync_days_ahead=sync_days_ahead)
        sqla.session.add(company)
        sqla.session.flush()
        sqla.session.add(ServiceCentre(company_id=company.id, name="浦东服务中心", lat=31.23, lon=121.47))
        hashed = hash_password(PASSWORD)
        today = dt.date.today()
        seeds: list[TechSeed] = []
        n = 0
        for t in range(technicians):
            user = User(company_id=company.id, username=f"{prefix}{t}", display_name=f"师傅{t}",
                        role=Role.TECHNICIAN, password_hash=hashed)
            sqla.session.add(user)
            sqla.session.flush()
            tech = Technician(company_id=company.id, user_id=user.id, staff_no=f"T{t:05d}", name=f"师傅{t}",
                              skills=["inspection", "repair", "meter"], start_lat=31.23, start_lon=121.47)
            sqla.session.add(tech)
            sqla.session.flush()
            sqla.session.add(Certification(company_id=company.id, technician_id=tech.id, kind="gas_safety",
                                           number=f"C{t:05d}", issued_on=today - dt.timedelta(days=365),
                                           expires_on=today + dt.timedelta(days=365)))
            seeded = TechSeed(user.username, str(user.id), str(tech.id))
            seeded.job_ids = _add_jobs(company, tech, jobs_each, households_extra, n)
            n += jobs_each + households_extra
            seeds.append(seeded)
        sqla.session.commit()
        return World(str(company.id), seeds)


def _add_jobs(company: object, tech: object, jobs: int, households_extra: int, n: int) -> list[str]:
    """Households (customer, premises, meter) and dispatched jobs in the next hours for ``tech``."""
    from server.customers.models import Customer, CustomerCategory, Meter, Premises
    from server.db import utcnow
    from server.extensions import db as sqla
    from server.jobs.models import Job, JobType
    from sync.domain.jobs import JobStatus

    now, today = utcnow(), dt.date.today()
    ids: list[str] = []
    for j in range(jobs + households_extra):
        n += 1
        customer = Customer(company_id=company.id, account_no=f"E{n:07d}-{uuid.uuid4().hex[:4]}",  # type: ignore[attr-defined]
                            name=f"客户{n}", category=CustomerCategory.RESIDENTIAL, phone=f"139{n:08d}")
        sqla.session.add(customer)
        sqla.session.flush()
        premises = Premises(company_id=company.id, customer_id=customer.id, address=f"测试路{n}号",  # type: ignore[attr-defined]
                            district="浦东新区", lat=31.2, lon=121.5, access_notes="")
        sqla.session.add(premises)
        sqla.session.flush()
        sqla.session.add(Meter(company_id=company.id, premises_id=premises.id, serial=f"M{n:08d}",  # type: ignore[attr-defined]
                               calibration_due_on=today + dt.timedelta(days=365)))
        if j >= jobs:
            continue
        start = now + dt.timedelta(hours=1, minutes=10 * j)
        job = Job(company_id=company.id, ref=f"E-{n:06d}-{uuid.uuid4().hex[:4]}", job_type=JobType.SAFETY_INSPECTION,  # type: ignore[attr-defined]
                  customer_id=customer.id, premises_id=premises.id, technician_id=tech.id,  # type: ignore[attr-defined]
                  window_start=start, window_end=start + dt.timedelta(hours=2),
                  status=JobStatus.DISPATCHED, chargeable=False, route_order=j + 1)
        sqla.session.add(job)
        sqla.session.flush()
        ids.append(str(job.id))
    return ids


def add_jobs(db: Database, username: str, jobs: int) -> list[str]:
    """More dispatched jobs (with their households) for a seeded technician; their ids."""
    from server.auth.models import User
    from server.extensions import db as sqla
    from server.org.models import Company
    from server.people.models import Technician

    with app_on(db):
        user = sqla.session.execute(sa.select(User).where(User.username == username)).scalar_one()
        tech = sqla.session.execute(sa.select(Technician).where(Technician.user_id == user.id)).scalar_one()
        ids = _add_jobs(sqla.session.get(Company, user.company_id), tech, jobs, 0, 10_000 + jobs)
        sqla.session.commit()
        return ids


def issue_device_tokens(db: Database, usernames: list[str], prefix: str = "dev") -> dict[str, tuple[str, str]]:
    """Device tokens for many technicians at once (a bench shortcut for 200 sign-ins): username ->
    (token, device_id)."""
    from server.auth.models import User
    from server.auth.service import issue_token
    from server.extensions import db as sqla

    out: dict[str, tuple[str, str]] = {}
    with app_on(db):
        users = sqla.session.execute(sa.select(User).where(User.username.in_(usernames))).scalars()
        for user in users:
            device_id = f"{prefix}-{user.username}"
            raw, _ = issue_token(user, device_id=device_id)
            out[user.username] = (raw, device_id)
        sqla.session.commit()
    return out


def wait_until(predicate: object, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until true or ``timeout`` seconds passed; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return bool(predicate())  # type: ignore[operator]
