"""The guarantees checked on the real server database after tablets synced to quiescence.

Each check reads what a person would see: the server's rows and stored answers, and each tablet's
rows and outbox. Every value the tablets write is unique (note texts, access-note tokens, route
orders), so "lost" and "applied twice" have precise answers.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tests.e2e.harness import Database, app_on

if TYPE_CHECKING:
    from tests.e2e.tablet import Tablet


def check_delivery(db: Database, tablets: list[Tablet]) -> list[str]:
    """G1, G2 and G5 for every mutation every tablet made: answered and applied exactly once, in order."""
    from server.extensions import db as sqla
    from server.jobs.models import Job
    from server.sync.models import AppliedMutation
    from server.sync.schemas import MODELS
    from server.visits.models import Note

    out: list[str] = []
    with app_on(db):
        for tablet in tablets:
            if tablet.store.pending_count():
                out.append(f"G1: {tablet.name} still has {tablet.store.pending_count()} unsent changes")
            for parked in tablet.store.parked():
                out.append(f"G10?: {tablet.name}'s {parked['collection']} change was rejected: "
                           f"{parked['reason']} {parked['message']}")
            ids = [m.mutation_id for m in tablet.made]
            stored: dict[str, list[AppliedMutation]] = {}
            for chunk in range(0, len(ids), 500):
                for row in sqla.session.execute(sa.select(AppliedMutation).where(
                        AppliedMutation.mutation_id.in_(ids[chunk:chunk + 500]))).scalars():
                    stored.setdefault(row.mutation_id, []).append(row)
            positions: list[tuple[int, int]] = []  # (made seq, answer insert id)
            per_row: dict[tuple[str, str], list[tuple[int, int]]] = {}  # row -> [(made seq, version)]
            for m in tablet.made:
                answers = stored.get(m.mutation_id, [])
                if len(answers) != 1:
                    out.append(f"G1/G2: {tablet.name}'s {m.collection} {m.op} {m.mutation_id[:8]} has "
                               f"{len(answers)} stored answers")
                    continue
                answer = answers[0]
                if answer.status == "rejected":
                    continue  # reported above as parked
                positions.append((m.seq, answer.id))
                per_row.setdefault((m.collection, m.row_id), []).append((m.seq, int(answer.result.get("version") or 0)))
                if m.op == "create":
                    model = MODELS[m.collection]
                    if sqla.session.get(model, uuid.UUID(m.row_id)) is None:
                        out.append(f"G1: {tablet.name}'s {m.collection} {m.row_id[:8]} is not on the server")
            positions.sort()
            answer_order = [p[1] for p in positions]
            if answer_order != sorted(answer_order):
                out.append(f"G5: {tablet.name}'s changes were answered out of the order they were made")
            # A batch is written at once (its rows' versions follow the write, not the mutation order), so
            # order is checked where it is visible: the versions one row went through.
            for (collection, row_id), seen in per_row.items():
                versions = [v for _, v in sorted(seen)]
                if versions != sorted(versions):
                    out.append(f"G5: {tablet.name}'s changes to {collection} {row_id[:8]} took effect out of "
                               f"order (versions {versions})")
            # Exactly-once effect of creates: each note text once.
            texts = [m.fields["text"] for m in tablet.made if m.collection == "note" and m.op == "create"]
            if texts:
                counts = Counter(sqla.session.execute(sa.select(Note.text).where(Note.text.in_(texts))).scalars())
                for text in texts:
                    if counts[text] != 1:
                        out.append(f"G2: note {text!r} is on the server {counts[text]} times")
            # Exactly-once effect of appends to a free-text field: each token once.
            from server.customers.models import Premises

            for premises_id, tokens in tablet.access_tokens.items():
                notes = sqla.session.get(Premises, uuid.UUID(premises_id)).access_notes.split()
                for token in tokens:
                    if notes.count(token) != 1:
                        out.append(f"G1/G2: access-note token {token} appears {notes.count(token)} times "
                                   f"on premises {premises_id[:8]}")
            # Order of effect on one field: the last route order a tablet proposed is the one that stands.
            for job_id, value in tablet.route_orders.items():
                now = sqla.session.get(Job, uuid.UUID(job_id)).route_order
                if now != value:
                    out.append(f"G5: job {job_id[:8]} has route_order {now}, the tablet's last was {value}")
    return out


def check_convergence(tablets: list[Tablet], fresh: dict[str, Tablet]) -> list[str]:
    """G3: every tablet holds what a freshly signed-in tablet of the same technician pulls now."""
    from sync.collections import REGISTRY

    out: list[str] = []
    for tablet in tablets:
        other = fresh[tablet.name]
        for collection in REGISTRY:
            mine = {r["id"]: r for r in tablet.store.all(collection)}
            theirs = {r["id"]: r for r in other.store.all(collection)}
            for key in theirs.keys() - mine.keys():
                out.append(f"G3: {tablet.name} is missing {collection} {key[:8]}")
            for key in mine.keys() - theirs.keys():
                out.append(f"G3: {tablet.name} holds {collection} {key[:8]} the server no longer sends")
            for key in mine.keys() & theirs.keys():
                if json.dumps(mine[key], sort_keys=True) != json.dumps(theirs[key], sort_keys=True):
                    out.append(f"G3: {tablet.name}'s {collection} {key[:8]} differs from the server's")
    return out


def fresh_copies(tablets: list[Tablet], server_url: str, folder: Path) -> dict[str, Tablet]:
    """A new tablet per technician, signed in and pulled to the end straight from the server."""
    from tests.e2e.tablet import Tablet

    out: dict[str, Tablet] = {}
    for tablet in tablets:
        copy = Tablet.open(folder / f"fresh-{tablet.name}.sqlite", server_url, tablet.name,
                           f"fresh-{tablet.name}-{uuid.uuid4().hex[:6]}")
        report = copy.sync_until_complete(timeout=60)
        assert report.complete, report.error
        out[tablet.name] = copy
    return out
