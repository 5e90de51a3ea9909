"""The server's PostgreSQL database becomes unreachable for a while: the API answers 503 with a
Retry-After, tablets back off with the engine's Backoff, and they finish by themselves once it is back."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sync import PROTOCOL_VERSION
from sync.engine import Backoff
from tests.e2e.checks import check_delivery
from tests.e2e.harness import Database, seed
from tests.e2e.tablet import Tablet

# PostgreSQL only: runs in the PostgreSQL leg of scripts/test.sh.
pytestmark = pytest.mark.postgres

OUTAGE_S = 4.0


def _cut(db: Database) -> None:
    db.admin(f'ALTER DATABASE "{db.name}" ALLOW_CONNECTIONS false',
             f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db.name}' "
             "AND pid <> pg_backend_pid()")


def _restore(db: Database) -> None:
    db.admin(f'ALTER DATABASE "{db.name}" ALLOW_CONNECTIONS true')


def test_database_outage_gives_503_and_tablets_recover_by_themselves(pg_db: Database, servers, tmp_path):
    seed(pg_db, 3, 2)
    server = servers(pg_db)
    backoff = Backoff(base=0.2, cap=2.0)
    tablets = [Tablet.open(tmp_path / f"t{i}.sqlite", server.url, f"tech{i}", f"tablet-{i}", seed=i, backoff=backoff)
               for i in range(3)]
    for t in tablets:
        assert t.sync_until_complete(timeout=30).complete
        for _ in range(3):
            t.work()
    _cut(pg_db)
    try:
        resp = requests.post(server.url + "/api/v1/sync/pull", timeout=10,
                             json={"protocol_version": PROTOCOL_VERSION, "cursor": None},
                             headers={"Authorization": tablets[0].transport.http.headers["Authorization"],
                                      "X-Fieldsync-Protocol": str(PROTOCOL_VERSION)})
        assert resp.status_code == 503, resp.text
        assert resp.json()["reason"] == "database_unavailable"
        assert int(resp.headers["Retry-After"]) > 0
        outage_ends = time.monotonic() + OUTAGE_S

        def restore_later() -> None:
            time.sleep(max(0.0, outage_ends - time.monotonic()))
            _restore(pg_db)

        with ThreadPoolExecutor(max_workers=4) as pool:
            restoring = pool.submit(restore_later)
            finished = list(pool.map(lambda t: t.sync_until_complete(timeout=60), tablets))
            restoring.result(timeout=30)
    finally:
        _restore(pg_db)
    assert all(r.complete for r in finished), [r.error for r in finished]
    for t in tablets:
        failed = [r for r in t.reports if not r.complete]
        assert failed, f"{t.name} never met the outage"
        assert all("503" in (r.error or "") for r in failed), [r.error for r in failed]
        # The engine backed off: waits within its bounds, and no hammering while the database was away.
        waits = [r.retry_after for r in failed]
        assert all(w is not None and 0 <= w <= backoff.cap for w in waits)
        assert len(failed) <= 20, f"{t.name} retried {len(failed)} times in a {OUTAGE_S} s outage"
        assert t.engine.failures == 0  # reset by the sync that completed
        print(f"{t.name}: {len(failed)} failed syncs (503), waits {[round(w or 0, 2) for w in waits]}")
    assert check_delivery(pg_db, tablets) == []
    for t in tablets:
        t.close()
