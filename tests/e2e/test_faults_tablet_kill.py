"""kill -9 of the tablet process (the engine over the on-disk store) in the middle of a save and in the
middle of a pull: the store and its outbox are intact, and the next sync completes."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.checks import check_convergence, fresh_copies
from tests.e2e.harness import ROOT, Database, add_jobs, seed
from tests.e2e.tablet import Tablet

SAVE_BATCH = 50  # notes per save: one transaction


class TabletProcess:
    """``python -m tests.e2e.tablet`` with its output lines collected as they come."""

    started: list[TabletProcess] = []

    def __init__(self, *args: str) -> None:
        TabletProcess.started.append(self)
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.e2e.tablet", *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, prefix: str, count: int, timeout: float = 60) -> None:
        """Until ``count`` lines starting with ``prefix`` were printed (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for line in self.lines if line.startswith(prefix)) >= count:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"the tablet exited {self.proc.returncode}: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            time.sleep(0.001)
        raise AssertionError(f"no {count} {prefix!r} lines in {timeout} s: {self.lines[-5:]}")

    def kill9(self) -> None:
        """SIGKILL (the process is ours) and reap."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=5)

    def numbers(self, prefix: str) -> list[int]:
        """The first number of every line starting with ``prefix``."""
        return [int(line.split()[1]) for line in self.lines if line.startswith(prefix)]


@pytest.fixture(autouse=True)
def _no_tablet_left_running():
    """Whatever happens in a test, every tablet process it started is killed and reaped."""
    yield
    while TabletProcess.started:
        proc = TabletProcess.started.pop()
        if proc.proc.poll() is None:
            proc.kill9()


def _signed_in(path: Path, url: str) -> None:
    tablet = Tablet.open(path, url, "tech0", "tablet-proc")
    assert tablet.sync_until_complete(timeout=30).complete
    tablet.close()


def _notes_on_server(db: Database, prefix: str) -> dict[str, int]:
    engine = db.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT text, count(*) FROM note WHERE text LIKE :p GROUP BY text"),
                                {"p": prefix + "%"})
            return {text: n for text, n in rows}
    finally:
        engine.dispose()


def test_kill_9_mid_save_keeps_whole_saves_and_the_next_sync_sends_them(e2e_db, servers, tmp_path):
    seed(e2e_db, 1, 2)
    server = servers(e2e_db)
    path = tmp_path / "tablet.sqlite"
    _signed_in(path, server.url)
    rng = random.Random(5)
    committed = 0
    for kill in range(3):
        proc = TabletProcess("--store", str(path), "--server", server.url, "--user", "tech0", "--device",
                             "tablet-proc", "--mode", "save", "--steps", "100000", "--batch", str(SAVE_BATCH),
                             "--seed", str(kill))
        proc.wait_for("saved", rng.randint(2, 5))
        time.sleep(rng.uniform(0, 0.03))
        proc.kill9()
        reported = len(proc.numbers("saved"))
        store = Tablet.open(path, server.url, "tech0", "tablet-proc").store
        assert store.integrity_ok()
        outbox = store.outbox_rows()
        # Whole saves only: a save is all of its changes with their rows, or none of them.
        assert len(outbox) % SAVE_BATCH == 0
        saves = len(outbox) // SAVE_BATCH
        assert committed + reported <= saves <= committed + reported + 1, (kill, committed, reported, saves)
        assert all(store.get("note", row["row_id"]) is not None for row in outbox)
        committed = saves
        store.close()
    tablet = Tablet.open(path, server.url, "tech0", "tablet-proc")
    report = tablet.sync_until_complete(timeout=60)
    assert report.complete and tablet.store.pending_count() == 0, report.error
    texts = _notes_on_server(e2e_db, "save ")
    assert len(texts) == committed * SAVE_BATCH and set(texts.values()) == {1}
    tablet.close()


def test_kill_9_mid_pull_keeps_the_store_and_outbox_and_the_next_sync_converges(e2e_db, servers, tmp_path):
    seed(e2e_db, 1, 1)
    server = servers(e2e_db)
    path = tmp_path / "tablet.sqlite"
    _signed_in(path, server.url)
    add_jobs(e2e_db, "tech0", 40)  # ~200 new rows: 40 pages of 5
    proc = TabletProcess("--store", str(path), "--server", server.url, "--user", "tech0", "--device",
                         "tablet-proc", "--mode", "pull", "--page-size", "5", "--steps", "100000")
    proc.wait_for("pulled", 4)
    proc.wait_for("saved", 3)
    proc.kill9()
    assert not any(line.startswith("done") for line in proc.lines), "the pull ended before the kill"
    saved = proc.numbers("saved")
    tablet = Tablet.open(path, server.url, "tech0", "tablet-proc")
    store = tablet.store
    assert store.integrity_ok()
    assert store.cursor() is not None
    # Every note the technician saved is still queued (or was sent before the pull began).
    on_server = _notes_on_server(e2e_db, "during pull ")
    queued = {json_text(row) for row in store.outbox_rows()}
    for i in saved:
        assert f"during pull {i}" in queued or on_server.get(f"during pull {i}") == 1, i
    report = tablet.sync_until_complete(timeout=60)
    assert report.complete and store.pending_count() == 0, report.error
    on_server = _notes_on_server(e2e_db, "during pull ")
    assert all(on_server.get(f"during pull {i}") == 1 for i in saved)
    assert len(tablet.jobs()) == 41
    fresh = fresh_copies([tablet], server.url, tmp_path)
    assert check_convergence([tablet], fresh) == []
    for t in [tablet, *fresh.values()]:
        t.close()


def json_text(row: dict) -> str:
    """The text of a queued note create."""
    import json

    return json.loads(row["fields"]).get("text", "")
