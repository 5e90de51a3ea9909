"""kill -9 of the server in the middle of a push batch (PostgreSQL): nothing of the batch is applied, and
the tablet's retry applies it exactly once."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from tests.e2e.checks import check_delivery
from tests.e2e.harness import Database
from tests.e2e.tablet import Tablet

# PostgreSQL only: runs in the PostgreSQL leg of scripts/test.sh.
pytestmark = pytest.mark.postgres

BATCH = 500  # the protocol's largest push: the longest transaction to land a kill in


def _writing_notes(engine: sa.Engine) -> bool:
    """Whether another backend's open transaction has started inserting notes (it holds the table's
    RowExclusiveLock from its first INSERT until it commits or dies)."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'note' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid() "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")).first())


def _on_server(engine: sa.Engine, mutation_ids: list[str], note_ids: list[str]) -> tuple[int, int]:
    with engine.connect() as conn:
        answers = conn.execute(sa.text("SELECT count(*) FROM applied_mutation WHERE mutation_id = ANY(:ids)"),
                               {"ids": mutation_ids}).scalar_one()
        notes = conn.execute(sa.text("SELECT count(*) FROM note WHERE id = ANY(:ids)"),
                             {"ids": [uuid.UUID(i) for i in note_ids]}).scalar_one()
    return answers, notes


def _save_batch(tablet: Tablet, job_id: str, attempt: int) -> tuple[list[str], list[str]]:
    before = {m.mutation_id for m in tablet.made}
    with tablet.store.batch() as batch:
        for k in range(BATCH):
            batch.create("note", {"job_id": job_id, "author_name": tablet.name, "text": f"kill {attempt}.{k}",
                                  "written_at": tablet.clock().isoformat()})
    tablet.note_made()
    new = [m for m in tablet.made if m.mutation_id not in before]
    return [m.mutation_id for m in new], [m.row_id for m in new]


def test_kill_9_mid_push_batch_applies_nothing_and_the_retry_applies_it_once(pg_db: Database, servers, tmp_path):
    from tests.e2e.harness import seed

    seed(pg_db, 1, 1)
    server = servers(pg_db)
    tablet = Tablet.open(tmp_path / "tablet.sqlite", server.url, "tech0", "tablet-kill", batch_size=BATCH,
                         timeout=60)
    assert tablet.sync_until_complete(timeout=30).complete
    job_id = tablet.jobs()[0]["id"]
    monitor = pg_db.engine()
    landed_mid_batch = 0
    try:
        for attempt in range(12):
            mutation_ids, note_ids = _save_batch(tablet, job_id, attempt)
            pushing = threading.Thread(target=tablet.sync_once, daemon=True)
            pushing.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not _writing_notes(monitor) and pushing.is_alive():
                time.sleep(0.002)
            server.kill9()
            pushing.join(timeout=60)
            assert not pushing.is_alive()
            answers, notes = _on_server(monitor, mutation_ids, note_ids)
            # All or nothing: a batch and its answers commit together or not at all.
            assert (answers, notes) in ((0, 0), (BATCH, BATCH)), (answers, notes)
            if answers == 0:
                landed_mid_batch += 1
                assert tablet.store.pending_count() == BATCH  # the tablet keeps the whole batch
            server.start()
            report = tablet.sync_until_complete(timeout=60)
            assert report.complete, report.error
            assert _on_server(monitor, mutation_ids, note_ids) == (BATCH, BATCH)
            if landed_mid_batch >= 2:
                break
    finally:
        monitor.dispose()
    print(f"kills: {attempt + 1}, inside the push transaction: {landed_mid_batch}")
    assert landed_mid_batch >= 2, "no kill landed inside a push transaction in 12 tries"
    assert tablet.store.pending_count() == 0
    assert check_delivery(pg_db, [tablet]) == []
    tablet.close()
