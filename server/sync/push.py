"""A push batch on the server: sync-core's ServerCore over the SQL store, in the caller's transaction.

The core decides every mutation (ownership merge, scope, state machine, R3/R4 gates: G10) before
anything is written, then writes the batch at once: validate-then-apply, so a rejected mutation
never sinks the others. This adapter adds what only the server database can check (a value the
column cannot hold) and keeps the device's clock offset and what the device now holds.

Cost (issue #3/#7): every read happens before any write, each row is read once (the check of ids
taken by another company shares the core's load), the rows, audit entries, answers and the device
ledger are written in bulk, and the company's change counter is taken late and once
(server/db.py's ``write_synced_rows``): from the counter UPDATE to the commit only the rows, the
answers and the ledger are written, so pushes of one company wait on each other as little as G4 allows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.errors import ApiError
from server.sync.models import DeviceScope
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
    taken = _ids_taken_elsewhere(store, req.mutations)
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
    _owe_follow_ups(session, results, received)
    _follow_meter_readings(session, ctx, results)
    return PushResponse(results=results, server_time=now)


def _follow_meter_readings(session: Session, ctx: SyncContext, results: list[MutationResult]) -> None:
    """R12/R15: the household file follows the meter work recorded on site. The meter's last reading
    is the newest one taken; an ``install`` reading (a meter exchange) puts the new serial on the meter's
    place, installed that day, verification due after the same period as the meter it replaced. The
    meter row changes like any office change (new version, audited): the tablets pull it."""
    from server.customers.models import Meter, MeterStatus
    from server.jobs.calendar import local_date

    for r in results:
        row = r.row
        if r.status is ResultStatus.REJECTED or row is None or row.collection != "meter_reading" or row.deleted:
            continue
        data = row.data
        meter = session.get(Meter, as_uuid(data.get("meter_id")))
        try:
            read_at = dt.datetime.fromisoformat(str(data.get("read_at")))
            reading = float(data.get("reading"))
        except (TypeError, ValueError):
            continue
        if meter is None or meter.company_id != ctx.company.id or read_at.tzinfo is None:
            continue
        if meter.last_read_at is not None and read_at < meter.last_read_at:
            continue  # an older reading sent late: the file keeps the newest
        meter.last_reading, meter.last_read_at = reading, read_at
        if data.get("kind") == "fault":
            meter.status = MeterStatus.FAULTY
        new_serial = str(data.get("new_serial") or "").strip()
        if data.get("kind") == "install" and new_serial and new_serial != meter.serial:
            period = (meter.calibration_due_on - meter.installed_on) if meter.installed_on else None
            meter.serial, meter.status = new_serial, MeterStatus.ACTIVE
            meter.installed_on = local_date(ctx.company.id, read_at)
            if period is not None and period > dt.timedelta(0):
                meter.calibration_due_on = meter.installed_on + period
    session.flush()


def _owe_follow_ups(session: Session, results: list[MutationResult], at: dt.datetime) -> None:
    """What follows a completion follows one made on the tablet too: the office's own hook
    (jobs.service.after_status_change: the follow-up call R6 owes the customer). A replayed answer
    comes through here again, so what the hook does must be once per job (it is)."""
    from server.jobs.models import Job, JobStatus
    from server.jobs.service import after_status_change

    done = {as_uuid(r.row.id) for r in results
            if r.status is not ResultStatus.REJECTED and r.row is not None and r.row.collection == "job"
            and not r.row.deleted and r.row.data.get("status") == "completed"}
    for job_id in sorted(j for j in done if j is not None):
        job = session.get(Job, job_id)
        if job is not None:
            after_status_change(job, JobStatus.COMPLETED, at=at)


def _follow_meter_readings(session: Session, ctx: SyncContext, results: list[MutationResult]) -> None:
    """R12/R15: the household file follows the meter work recorded on site. The meter's last reading
    is the newest one taken; an ``install`` reading (a meter exchange) puts the new serial on the meter's
    place, installed that day, verification due after the same period as the meter it replaced. The
    meter row changes like any office change (new version, audited): the tablets pull it."""
    from server.customers.models import Meter, MeterStatus
    from server.jobs.calendar import local_date

    for r in results:
        row = r.row
        if r.status is ResultStatus.REJECTED or row is None or row.collection != "meter_reading" or row.deleted:
            continue
        data = row.data
        meter = session.get(Meter, as_uuid(data.get("meter_id")))
        try:
            read_at = dt.datetime.fromisoformat(str(data.get("read_at")))
            reading = float(data.get("reading"))
        except (TypeError, ValueError):
            continue
        if meter is None or meter.company_id != ctx.company.id or read_at.tzinfo is None:
            continue
        if meter.last_read_at is not None and read_at < meter.last_read_at:
            continue  # an older reading sent late: the file keeps the newest
        meter.last_reading, meter.last_read_at = reading, read_at
        if data.get("kind") == "fault":
            meter.status = MeterStatus.FAULTY
        new_serial = str(data.get("new_serial") or "").strip()
        if data.get("kind") == "install" and new_serial and new_serial != meter.serial:
            period = (meter.calibration_due_on - meter.installed_on) if meter.installed_on else None
            meter.serial, meter.status = new_serial, MeterStatus.ACTIVE
            meter.installed_on = local_date(ctx.company.id, read_at)
            if period is not None and period > dt.timedelta(0):
                meter.calibration_due_on = meter.installed_on + period
    session.flush()


def _owe_follow_ups(session: Session, results: list[MutationResult], at: dt.datetime) -> None:
    """R6: a visit completed on the tablet owes the customer a follow-up call, as a completion in the
    office does (jobs.service.after_status_change); made once per job, however often it is sent."""
    from server.followups.service import create_follow_up_for_job
    from server.jobs.models import Job

    done = {as_uuid(r.row.id) for r in results
            if r.status is not ResultStatus.REJECTED and r.row is not None and r.row.collection == "job"
            and not r.row.deleted and r.row.data.get("status") == "completed"}
    for job_id in sorted(j for j in done if j is not None):
        job = session.get(Job, job_id)
        if job is not None:
            create_follow_up_for_job(job, now=at)


def _ids_taken_elsewhere(store: SqlServerStore, mutations: list) -> set[tuple[str, str]]:
    """Ids a device wants to create that another company's row already has (ids are global keys).
    Read with the store's row cache, so the core's own load of these rows costs no second query."""
    wanted: dict[str, list[str]] = {}
    for m in mutations:
        if m.op is Op.CREATE and m.collection in MODELS and as_uuid(m.row_id) is not None:
            wanted.setdefault(m.collection, []).append(m.row_id)
    for collection, ids in wanted.items():
        store.load_rows(collection, ids)
    return {(c, i) for c, ids in wanted.items() for i in ids if (c, str(as_uuid(i))) in store.foreign}


def _note_held(session: Session, ctx: SyncContext, results: list[MutationResult]) -> None:
    """The device now holds the rows its accepted mutations returned, at their new versions.

    One upsert of ``device_scope`` (the pull's ledger, server/sync/pull.py), no read: a row the device
    did not hold is inserted; one it held is updated, and its state before this pull page (``prev_*``)
    is kept when this is the page's first change to it, as ``ScopeLedger`` does."""
    values: dict[tuple[str, uuid.UUID], dict] = {}
    for r in results:
        if r.status is ResultStatus.REJECTED or r.row is None:
            continue
        row_id = as_uuid(r.row.id)
        if row_id is not None:
            values[(r.row.collection, row_id)] = {
                "device_pk": ctx.device.id, "collection": r.row.collection, "row_id": row_id, "held": not r.row.deleted,
                "version_sent": r.row.version, "seq": ctx.device.pull_seq, "prev_held": False, "prev_version": 0}
    if not values:
        return
    ds = DeviceScope.__table__
    insert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(ds)
    new = insert.excluded
    first_change = ds.c.seq != new.seq
    stmt = insert.on_conflict_do_update(index_elements=[ds.c.device_pk, ds.c.collection, ds.c.row_id], set_={
        "held": new.held, "version_sent": new.version_sent, "seq": new.seq,
        "prev_held": sa.case((first_change, ds.c.held), else_=ds.c.prev_held),
        "prev_version": sa.case((first_change, ds.c.version_sent), else_=ds.c.prev_version),
    })
    session.execute(stmt, list(values.values()))
