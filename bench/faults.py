"""Many tablets, many rounds, through the fault-injecting proxy against the real server; prints figures.

    .venv/bin/python bench/faults.py --tablets 20 --rounds 30 [--seed 1] [--rate 0.35] [--postgres URL]

Each tablet is the real client (the SQLite device store on disk, the requests transport, the sync
engine) doing a technician's visits through the app's view-models; the proxy drops requests and
answers, delays, truncates, resets and duplicates them (seeded). Then the network heals, every tablet
syncs to the end, and G1, G2, G3 and G5 are checked on the server's database. The database is a
fresh PostgreSQL database next to ``--postgres`` (default FIELDSYNC_TEST_DATABASE_URL, else
127.0.0.1:5432 when it answers), else an SQLite file; ``--sqlite`` forces SQLite. Everything runs on
127.0.0.1 and stops by itself. The last line is ``violations: N``; exit status 1 when N > 0.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tests.e2e.harness import Database, ServerProcess, migrate, postgres_base_url  # noqa: E402
from tests.e2e.scenario import run_faults  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the scenario once and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.35, help="chance that a sync request meets a fault")
    parser.add_argument("--jobs", type=int, default=4, help="jobs per technician")
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--sqlite", action="store_true", help="use an SQLite file even if PostgreSQL answers")
    parser.add_argument("--production", action="store_true", help="gunicorn (needs PostgreSQL)")
    parser.add_argument("--time-limit", type=float, default=900, help="stop starting rounds after this many s")
    parser.add_argument("--keep", action="store_true", help="keep the folder (server log, tablet stores)")
    args = parser.parse_args(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="fieldsync-faults-"))
    base = None if args.sqlite else (args.postgres or postgres_base_url())
    db = Database.postgres(base) if base else Database.sqlite(folder)
    server = ServerProcess(db, folder / "server", production=args.production)
    try:
        migrate(db)
        server.start()
        print(f"database: {db.kind}; server: {'gunicorn' if args.production else 'development'} "
              f"at {server.url}; folder {folder}", flush=True)
        run = run_faults(db, server, folder, tablets=args.tablets, rounds=args.rounds, seed_=args.seed,
                         fault_rate=args.rate, jobs_each=args.jobs, time_limit=args.time_limit)
    finally:
        server.stop()
        db.drop()
    print(run.summary())
    for line in run.violations[:50]:
        print("  " + line)
    if run.violations:
        print("server log (tail):\n" + server.log_tail(30))
    if not args.keep and not run.violations:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    print(f"violations: {len(run.violations)}")
    return 1 if run.violations else 0


if __name__ == "__main__":
    sys.exit(main())
