"""A push batch on the server: sync-core's ServerCore over the SQL store, in the caller's transaction.

The core decides every mutation (ownership merge, scope, state machine, R3/R4 gates: G10) before
anything is written, then writes the batch at once: validate-then-apply, so a rejected mutation
never sinks the others. This adapter adds what only the server database can check (a value the
column cannot hold) and keeps the device's clock offset and what the device now holds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import ApiError
from server.sync.pull import ScopeLedger, held_rows
from server.sync.schemas import MODELS, as_uuid
from server.sync.service import SyncContext, precheck, record_clock
from server.sync.store import SqlServerStore
from sync import reasons as R
from sync.merge import reject
from sync.records import MutationResult, Op, Principal, PushRequest, PushResponse, ResultStatus, StoredResult
from sync.server_core import InvalidRequest, ProtocolVersionUnsupported, ServerCore, fingerprint


def push_batch(session: Session, ctx: SyncContext, req: PushRequest, received: dt.datetime) -> PushResponse:
    """Answer one push: one result per mutation, in order; the caller commits."""
    if req.device_id != ctx.device.device_id:
        raise ApiError(400, "device_mismatch", "device_id does not match the device this token was issued to",
                       errors={"json": {"device_id": ["not this token's device"]}})
    record_clock(ctx.device, req.device_time, received)
    now = received.isoformat()
    store = SqlServerStore(session, ctx.company, now=received, device_id=ctx.device.device_id,
                           technician_id=ctx.technician.id)
    store.targets = {m.mutation_id: (m.collection, m.row_id) for m in req.mutations}
    stored = store.load_results({m.mutation_id for m in req.mutations})
    # Values the database could not hold are refused here, one by one, and answered like any other.
    refused: dict[int, MutationResult] = {}
    seen: set[str] = set()
    taken = _ids_taken_elsewhere(session, ctx, req.mutations)
    for i, m in enumerate(req.mutations):
        if m.mutation_id in stored or m.mutation_id in seen:
            continue
        seen.add(m.mutation_id)
        decision = precheck(m)
        if decision is None and m.op is Op.CREATE and (m.collection, m.row_id) in taken:
            decision = reject(R.ROW_EXISTS, collection=m.collection, row_id=m.row_id)
        if decision is not None:
            refused[i] = MutationResult(m.mutation_id, decision.status, reason=decision.reason,
                                        message=decision.message)
    if refused:
        store.save_outcomes(
            [StoredResult(r.mutation_id, ctx.device.device_id, fingerprint(req.mutations[i]), r)
             for i, r in refused.items()], [])
    rest = [m for i, m in enumerate(req.mutations) if i not in refused]
    principal = Principal(str(ctx.technician.id), ctx.device.device_id, name=ctx.technician.name)
    core = ServerCore(store, clock=lambda: now)
    try:
        answered = core.push(principal, replace(req, mutations=rest)).results if rest else []
    except ProtocolVersionUnsupported:
        from server.sync.service import protocol_unsupported

        raise protocol_unsupported(req.protocol_version) from None
    except InvalidRequest as exc:
        raise ApiError(400, "invalid_batch", str(exc)) from None
    it = iter(answered)
    results = [refused[i] if i in refused else next(it) for i in range(len(req.mutations))]
    _note_held(session, ctx, results)
    return PushResponse(results=results, server_time=now)


def _ids_taken_elsewhere(session: Session, ctx: SyncContext, mutations: list) -> set[tuple[str, str]]:
    """Ids a device wants to create that another company's row already has (ids are global keys)."""
    wanted: dict[str, list[uuid.UUID]] = {}
    for m in mutations:
        row_id = as_uuid(m.row_id)
        if m.op is Op.CREATE and m.collection in MODELS and row_id is not None:
            wanted.setdefault(m.collection, []).append(row_id)
    taken: set[tuple[str, str]] = set()
    for collection, ids in wanted.items():
        t = MODELS[collection].__table__
        for row_id, company in session.execute(sa.select(t.c.id, t.c.company_id).where(t.c.id.in_(ids))):
            if company != ctx.company.id:
                taken.add((collection, str(row_id)))
    return taken


def _note_held(session: Session, ctx: SyncContext, results: list[MutationResult]) -> None:
    """The device now holds the rows its accepted mutations returned, at their new versions."""
    rows = [r.row for r in results if r.status is not ResultStatus.REJECTED and r.row is not None]
    if not rows:
        return
    ledger = ScopeLedger(ctx.device, ctx.device.pull_seq)
    for collection in {row.collection for row in rows}:
        mine = {as_uuid(row.id): row for row in rows if row.collection == collection}
        held = held_rows(session, ctx.device, collection, [k for k in mine if k is not None])
        for row_id, row in mine.items():
            if row_id is not None:
                ledger.set(collection, row_id, held.get((collection, row_id)), not row.deleted, row.version)
    ledger.flush(session)
