"""G4 on PostgreSQL: concurrent writers that sleep between taking their version and committing, and
concurrent pullers; no puller's completed pull ever misses a change at or below its cursor."""

from __future__ import annotations

import random
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import ChangeCounter, RowChange, utcnow, write_synced_rows
from server.extensions import db
from server.org.models import Company
from server.sync.models import Device
from server.sync.pull import Cursor, pull_page
from server.sync.scope import scope_for
from server.visits.models import Note
from tests.factories import in_hours, make_household, make_job
from tests.fixtures.sync import require_postgres

WRITERS, WRITES_EACH, PULLERS = 6, 12, 3


def _run(tablet, limit: int, bulk: bool = False) -> list[str]:
    """Writers and pullers race; returns the misses found (empty when G4 holds). With ``bulk`` the
    writers write as a sync push does (server.db.write_synced_rows: one range of numbers, taken late)."""
    company, tech = tablet.company, tablet.technician
    jobs = [make_job(company, make_household(company), technician=tech, window_start=in_hours(1)).id
            for _ in range(3)]
    devices = []
    for _ in range(PULLERS):
        d = Device(company_id=company.id, device_id=f"g4-{uuid.uuid4().hex[:8]}", user_id=tablet.user.id,
                   technician_id=tech.id)
        db.session.add(d)
        devices.append(d)
    db.session.commit()
    device_ids = [d.id for d in devices]
    engine = db.engine
    company_id, tech_id = company.id, tech.id
    committed: list[tuple[str, int]] = []  # (note id, version) of every committed write
    lock = threading.Lock()
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rnd = random.Random(seed)
        mine: list[uuid.UUID] = []
        try:
            for _ in range(WRITES_EACH):
                with Session(engine) as s:
                    if bulk:
                        edit = bool(mine) and rnd.random() < 0.4
                        note_id = rnd.choice(mine) if edit else uuid.uuid4()
                        change = RowChange(Note.__table__, note_id, {"text": f"edit {rnd.random()}"}, create=False,
                                           old={"text": "?"}) if edit else RowChange(
                            Note.__table__, note_id, {"job_id": rnd.choice(jobs), "author_name": "调度",
                                                      "source": "office", "text": "new", "written_at": utcnow()},
                            create=True)
                        s.execute(sa.select(Note.id).limit(1)).all()  # reads first, as a push does
                        (written,) = write_synced_rows(s, company_id, [change])
                        version = written.version  # the counter row lock is held from here
                        time.sleep(rnd.uniform(0.0, 0.03))
                        s.commit()
                        with lock:
                            committed.append((str(note_id), version))
                        if not edit:
                            mine.append(note_id)
                        continue
                    if mine and rnd.random() < 0.4:
                        note = s.get(Note, rnd.choice(mine))
                        note.text = f"edit {rnd.random()}"
                    else:
                        note = Note(company_id=company_id, job_id=rnd.choice(jobs), author_name="调度",
                                    source="office", text="new", written_at=utcnow())
                        s.add(note)
                    s.flush()  # takes the next version (the counter row lock is held from here)
                    version, note_id = note.version, note.id
                    time.sleep(rnd.uniform(0.0, 0.03))  # a slow transaction between numbering and commit
                    s.commit()
                with lock:
                    committed.append((str(note_id), version))
                mine.append(note_id)
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)

    snapshots: list[list[tuple[int, dict[str, int]]]] = [[] for _ in range(PULLERS)]

    def puller(index: int) -> None:
        received: dict[str, int] = {}
        cursor: str | None = None
        try:
            while True:
                finishing = writers_done.is_set()
                while True:
                    with Session(engine) as s:
                        device = s.execute(sa.select(Device).where(Device.id == device_ids[index])
                                           .with_for_update()).scalar_one()
                        scope = scope_for(s.get(Company, company_id), tech_id, utcnow())
                        page = pull_page(s, device, scope, cursor, limit=limit)
                        s.commit()
                    for row in page.rows:
                        if row.collection == "note":
                            received[row.id] = max(received.get(row.id, 0), row.version)
                    cursor = page.cursor
                    if not page.has_more:
                        break
                snapshots[index].append((Cursor.decode(cursor).base, dict(received)))
                if finishing:
                    return
                time.sleep(random.uniform(0.0, 0.01))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    pullers = [threading.Thread(target=puller, args=(i,)) for i in range(PULLERS)]
    for t in pullers + threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    writers_done.set()
    for t in pullers:
        t.join(timeout=120)
    assert not errors, errors
    assert len(committed) == WRITERS * WRITES_EACH
    final = {}
    for note_id, version in committed:
        final[note_id] = max(final.get(note_id, 0), version)
    problems: list[str] = []
    for index in range(PULLERS):
        assert len(snapshots[index]) >= 2, "each puller completed several pulls while writers ran"
        for base, received in snapshots[index]:
            # A change at or below the cursor must be on the device, unless a later change of the same
            # row (above the cursor) replaced it: that one arrives with the next pull.
            superseded = {n for n, v in committed if v > base}
            missed = [(n, v) for n, v in committed
                      if v <= base and received.get(n, 0) < v and n not in superseded]
            if missed:
                problems.append(f"puller {index} at cursor {base} missed {missed[:3]}")
        last = snapshots[index][-1][1]
        if {n: last.get(n) for n in final} != final:  # at the end it must hold every note at its last version
            problems.append(f"puller {index} did not converge")
    return problems


@pytest.mark.postgres
def test_no_puller_skips_a_change_committed_out_of_sequence(tablet):
    require_postgres()
    assert _run(tablet, limit=7) == []  # small pages: pulls that span many commits
    assert _run(tablet, limit=500) == []  # one-page pulls


@pytest.mark.postgres
def test_the_race_finds_the_hole_of_numbers_handed_out_before_commit(tablet, monkeypatch):
    """The same race against the classic trap (a counter committed at once, like a sequence) must fail."""
    require_postgres()
    # A connection of its own per allocation, outside the app's pool, as a sequence would behave.
    engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)

    def sequence_like(session, company_id, count):
        with engine.begin() as conn:  # its own transaction: committed before the row is
            return int(conn.execute(sa.update(ChangeCounter.__table__)
                                    .where(ChangeCounter.company_id == company_id)
                                    .values(value=ChangeCounter.value + count)
                                    .returning(ChangeCounter.value)).scalar())

    monkeypatch.setattr("server.db.allocate_versions", sequence_like)
    assert _run(tablet, limit=500) != []
    assert _run(tablet, limit=500, bulk=True) != []  # the race reaches the push's bulk writer too


@pytest.mark.postgres
def test_a_push_s_bulk_writes_are_never_skipped_either(tablet):
    """The push path numbers its rows in one late UPDATE of the counter (server.db.write_synced_rows)."""
    require_postgres()
    assert _run(tablet, limit=7, bulk=True) == []
    assert _run(tablet, limit=500, bulk=True) == []
