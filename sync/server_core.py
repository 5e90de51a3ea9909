"""The server side of the protocol as pure logic over a ServerStore: push a batch, pull a page.

The Flask endpoints are thin: authenticate the device, load the request with sync.wire, open a
transaction, call ``ServerCore.push`` / ``ServerCore.pull``, commit, dump the answer with sync.wire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sync import PROTOCOL_VERSION
from sync import reasons as R
from sync.collections import ORDER, REGISTRY, CollectionSpec, Keyset
from sync.domain import hazards
from sync.merge import DISPATCHER, Decision, conflict_record, decide, reject
from sync.ports import ServerStore
from sync.records import (
    ConflictRecord,
    Mutation,
    MutationResult,
    Op,
    Principal,
    PullPage,
    PullRequest,
    PushRequest,
    PushResponse,
    ResultStatus,
    Row,
    RowRef,
    RowWrite,
    StoredResult,
)
from sync.scope import Cursor, Scope, compute_scope, decode_cursor, encode_cursor, key_of

MAX_PUSH_BATCH = 500
MAX_PULL_LIMIT = 2000
DEFAULT_PULL_LIMIT = 500
# Rows whose status changes are gated (R3, R4) need these of their job loaded up front.
GATE_COLLECTIONS = ("quote", "signature", "cleanup_confirmation")
GATED_STATUSES = ("in_progress", "completed")


class ProtocolVersionUnsupported(Exception):
    """The client speaks another protocol version: answer HTTP 426 (the client keeps its outbox)."""

    def __init__(self, client_version: int) -> None:
        super().__init__(f"protocol version {client_version} is not supported; this server speaks {PROTOCOL_VERSION}")
        self.client_version = client_version


class InvalidRequest(ValueError):
    """A request the protocol forbids as a whole (batch too large, wrong device): answer HTTP 400."""


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def fingerprint(mutation: Mutation) -> str:
    """The SHA-256 of a mutation's canonical content (everything but its id)."""
    body = [mutation.collection, mutation.row_id, str(mutation.op), mutation.base_version, mutation.fields,
            mutation.base, mutation.device_time]
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


class _Batch:
    """The rows a push reads and writes, loaded in bulk; implements sync.merge.MergeContext."""

    def __init__(self, store: ServerStore, rows: dict[tuple[str, str], Row | None], blobs: set[str]) -> None:
        self.store, self.rows, self.blobs = store, rows, blobs
        self.by_job: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
        self.writes: dict[tuple[str, str], RowWrite] = {}

    def index(self, row: Row) -> None:
        job_id = row.id if row.collection == "job" else row.data.get("job_id")
        if job_id is not None:
            self.by_job[(row.collection, str(job_id))][row.id] = row

    def row(self, collection: str, row_id: str) -> Row | None:
        return self.rows.get((collection, row_id))

    def job_rows(self, collection: str, job_id: str) -> list[Row]:
        return list(self.by_job.get((collection, job_id), {}).values())

    def has_blob(self, sha256: str) -> bool:
        return sha256 in self.blobs

    def apply(self, collection: str, row_id: str, decision: Decision) -> None:
        """Put a Decision's writes into the working rows and the pending writes."""
        if not (decision.writes or decision.create or decision.delete):
            return
        key = (collection, row_id)
        old = self.rows.get(key)
        data = {**(old.data if old else {}), **decision.writes}
        row = Row(collection, row_id, old.version if old else 0, decision.delete or bool(old and old.deleted), data)
        self.rows[key] = row
        self.index(row)
        prev = self.writes.get(key)
        fields = {**(prev.fields if prev else {}), **decision.writes}
        self.writes[key] = RowWrite(collection, row_id, fields, create=(prev.create if prev else decision.create),
                                    deleted=row.deleted)


class ServerCore:
    """Push and pull for one company's store. Stateless between calls."""

    def __init__(
        self, store: ServerStore, *, cursor_key: bytes | None = None, clock: Callable[[], str] = _utc_now
    ) -> None:
        self.store, self.cursor_key, self.clock = store, cursor_key, clock

    # --- push -----------------------------------------------------------------------------------

    def push(self, principal: Principal, request: PushRequest) -> PushResponse:
        """Apply a batch in order; one result per mutation. A rejection never sinks the batch (G5, G7)."""
        _check_version(request.protocol_version)
        if len(request.mutations) > MAX_PUSH_BATCH:
            raise InvalidRequest(f"at most {MAX_PUSH_BATCH} mutations per push")
        if request.device_id != principal.device_id:
            raise InvalidRequest("device_id does not match the device this token was issued to")
        now = self.clock()
        mutations = request.mutations
        stored = self.store.load_results({m.mutation_id for m in mutations})
        batch = self._load(mutations, stored)
        scope = self._push_scope(principal, mutations, batch)
        reassigned = self._reassigned(principal, scope, mutations, batch)
        # Each position: ("answer", mutation_id) answered by its first answer (made now or stored
        # before: a replay gets it with the row as it is now), or ("reused", result).
        slots: list[tuple[str, Any]] = []
        fresh: dict[str, tuple[Mutation, Decision, str]] = {}
        conflicts: list[ConflictRecord] = []
        for m in mutations:
            fp = fingerprint(m)
            earlier = fresh.get(m.mutation_id)
            first_fp, first_device = (earlier[2], principal.device_id) if earlier else (None, None)
            if earlier is None and m.mutation_id in stored:
                first_fp, first_device = stored[m.mutation_id].fingerprint, stored[m.mutation_id].device_id
            if first_fp is not None:
                if first_fp == fp and first_device == principal.device_id:
                    slots.append(("answer", m.mutation_id))
                else:
                    slots.append(("reused", _result(m, reject(R.MUTATION_ID_REUSED, mutation_id=m.mutation_id))))
                continue
            decision = self._decide(principal, scope, batch, reassigned, m, request.device_time, now)
            if decision.status is not ResultStatus.REJECTED:
                batch.apply(m.collection, m.row_id, decision)
            conflicts.extend(decision.conflicts)
            fresh[m.mutation_id] = (m, decision, fp)
            slots.append(("answer", m.mutation_id))
        if batch.writes:
            batch.rows.update(self.store.save_rows(list(batch.writes.values())))
        answers: dict[str, MutationResult] = {}
        for mutation_id, (m, decision, _fp) in fresh.items():
            row = batch.row(m.collection, m.row_id)
            version = row.version if row is not None and decision.status is not ResultStatus.REJECTED else None
            answers[mutation_id] = _result(m, decision, version)
        if fresh or conflicts:
            self.store.save_outcomes(
                [StoredResult(mid, principal.device_id, fp, answers[mid]) for mid, (_m, _d, fp) in fresh.items()],
                conflicts,
            )
        results = []
        for (kind, value), m in zip(slots, mutations, strict=True):
            if kind == "reused":
                results.append(value)
            else:
                first = answers.get(value) or stored[value].result
                results.append(self._with_row(first, m, scope, batch))
        return PushResponse(results=results, server_time=now)

    def _load(self, mutations: list[Mutation], stored: dict[str, StoredResult]) -> _Batch:
        ids: dict[str, set[str]] = defaultdict(set)
        gated_jobs: set[str] = set()
        shas: set[str] = set()
        for m in mutations:
            spec = REGISTRY.get(m.collection)
            if spec is None or spec.read_only:
                continue
            ids[m.collection].add(m.row_id)
            for name, target in spec.refs.items():
                if m.fields.get(name) is not None:
                    ids[target].add(str(m.fields[name]))
            if m.collection == "job" and m.fields.get("status") in GATED_STATUSES:
                gated_jobs.add(m.row_id)  # R3/R4 are checked on these steps only (sync.merge._gate)
            shas.update(str(m.fields[b]) for b in spec.blobs if m.fields.get(b))
        rows: dict[tuple[str, str], Row | None] = {}
        for collection, wanted in ids.items():
            found = self.store.load_rows(collection, wanted)
            for row_id in wanted:
                rows[(collection, row_id)] = found.get(row_id)
        # Rows pointing at a job (hazards, answers) are scoped by it: load the jobs they name.
        job_refs = {str(r.data["job_id"]) for r in rows.values() if r is not None and r.data.get("job_id")}
        missing = job_refs - {i for (c, i) in rows if c == "job"}
        if missing:
            found = self.store.load_rows("job", missing)
            rows.update({("job", i): found.get(i) for i in missing})
        batch = _Batch(self.store, rows, self.store.has_blobs(shas) if shas else set())
        if gated_jobs:
            for collection in GATE_COLLECTIONS:
                for row in self.store.rows_where(collection, "job_id", gated_jobs):
                    rows.setdefault((collection, row.id), row)
        for row in rows.values():
            if row is not None:
                batch.index(row)
        return batch

    def _push_scope(self, principal: Principal, mutations: list[Mutation], batch: _Batch) -> Scope:
        """The technician's scope as far as this batch can tell: membership of the keys its mutations
        and their rows name (what ``admits`` is asked in a push), when the store can answer for a few
        keys (``scope_keys_among``); else the whole scope. A push costs O(batch), not O(scope)."""
        among = getattr(self.store, "scope_keys_among", None)
        if among is None:
            return compute_scope(self.store, principal)
        wanted: dict[Keyset, set[str]] = {Keyset.JOB: set(), Keyset.CUSTOMER: set(), Keyset.PREMISES: set()}
        for m in mutations:
            spec = REGISTRY.get(m.collection)
            if spec is None:
                continue
            current = batch.row(m.collection, m.row_id)
            for rule in (spec.scope, spec.create_scope or spec.scope):
                if rule.keyset not in wanted:
                    continue
                for data in (m.fields, current.data if current is not None else None):
                    if data is not None:
                        key = key_of(rule, m.row_id, data)
                        if key is not None:
                            wanted[rule.keyset].add(str(key))
        jobs, customers, premises = among(principal.technician_id, wanted[Keyset.JOB], wanted[Keyset.CUSTOMER],
                                          wanted[Keyset.PREMISES])
        return Scope({Keyset.JOB: frozenset(jobs), Keyset.CUSTOMER: frozenset(customers),
                      Keyset.PREMISES: frozenset(premises), Keyset.SELF: frozenset({principal.technician_id})})

    def _scope_job(self, spec: CollectionSpec, m: Mutation, batch: _Batch) -> tuple[Any, Any]:
        """The scope rule's key of the row a mutation targets, and the job it belongs to."""
        current = batch.row(m.collection, m.row_id)
        if m.op is Op.CREATE or current is None:
            rule = spec.create_scope or spec.scope
            key = key_of(rule, m.row_id, m.fields)
        else:
            rule = spec.scope
            key = key_of(rule, m.row_id, current.data)
        data = m.fields if current is None else current.data
        job = m.row_id if m.collection == "job" else data.get("job_id")
        return (rule, key), job

    def _reassigned(self, principal: Principal, scope: Scope, mutations: list[Mutation], batch: _Batch) -> set[str]:
        """Out-of-scope rows this batch touches whose job was once the technician's (G8), as
        "collection:id" of the mutation targets: late changes to them are kept, not rejected."""
        candidates: dict[str, set[str]] = {}
        by_key: dict[str, set[str]] = defaultdict(set)  # customer/premises ids to find their jobs by
        keyed: dict[str, tuple[str, str]] = {}  # target -> (job field, customer/premises id)
        for m in mutations:
            spec = REGISTRY.get(m.collection)
            if spec is None:
                continue
            (rule, key), job = self._scope_job(spec, m, batch)
            if scope.admits(rule, key):
                continue
            target = f"{m.collection}:{m.row_id}"
            if job is not None:
                candidates[target] = {str(job)}
            elif rule.keyset in (Keyset.CUSTOMER, Keyset.PREMISES) and key is not None:
                by_key[f"{rule.keyset}_id"].add(str(key))
                keyed[target] = (f"{rule.keyset}_id", str(key))
                candidates[target] = set()
        for field_name, keys in by_key.items():
            for j in self.store.rows_where("job", field_name, keys):
                for target, (f, k) in keyed.items():
                    if f == field_name and str(j.data.get(field_name)) == k:
                        candidates[target].add(j.id)
        wanted = set().union(*candidates.values()) if candidates else set()
        if not wanted:
            return set()
        once_mine = self.store.previously_assigned(principal.technician_id, wanted)
        return {t for t, jobs in candidates.items() if jobs & once_mine}

    def _decide(
        self, principal: Principal, scope: Scope, batch: _Batch, reassigned: set[str], m: Mutation,
        device_now: str, now: str,
    ) -> Decision:
        spec = REGISTRY.get(m.collection)
        if spec is None:
            return reject(R.UNKNOWN_COLLECTION, collection=m.collection)
        if spec.read_only:  # derived by the server (household_history): the same answer in scope or not
            return _read_only(spec, m)
        (rule, key), job = self._scope_job(spec, m, batch)
        late = False
        if not scope.admits(rule, key):
            if f"{m.collection}:{m.row_id}" not in reassigned:
                return reject(R.OUT_OF_SCOPE, collection=m.collection, row_id=m.row_id)
            late = True  # G8: kept, and the dispatcher is told
        decision = decide(batch.row(m.collection, m.row_id), m, spec, principal, batch)
        if m.collection == "visit_event" and decision.create:
            decision = replace(decision, writes={**decision.writes, **_clock_fields(m.fields, device_now, now)})
        if m.collection == "hazard" and decision.status is not ResultStatus.REJECTED:
            decision = _hazard_deadline(decision, batch.row(m.collection, m.row_id))
        if late and decision.status is not ResultStatus.REJECTED:
            job_row = batch.row("job", str(job)) if job is not None else None
            holder = job_row.data.get("technician_id") if job_row else None
            record = conflict_record(m, "technician_id", holder, principal.technician_id, R.REASSIGNED_LATE_CHANGE,
                                     DISPATCHER, job_id=job if job is not None else f"of {m.collection} {m.row_id}")
            decision = replace(decision, status=ResultStatus.CONFLICT, conflicts=(*decision.conflicts, record),
                               reason=decision.reason or record.rule, message=decision.message or record.message)
        return decision

    def _with_row(self, result: MutationResult, m: Mutation, scope: Scope, batch: _Batch) -> MutationResult:
        """The answer with the row as it stands now, unless the row is outside the device's scope (G7)."""
        spec = REGISTRY.get(m.collection)
        row = batch.row(m.collection, m.row_id)
        if spec is None or row is None or not scope.admits(spec.scope, key_of(spec.scope, row.id, row.data)):
            return result
        version = None if result.status is ResultStatus.REJECTED else row.version
        return MutationResult(result.mutation_id, result.status, version, result.reason, result.message,
                              visible_row(spec, row), result.conflicts)

    # --- pull -----------------------------------------------------------------------------------

    def pull(self, principal: Principal, request: PullRequest) -> PullPage:
        """One page of changes in the device's scope after its cursor, plus what left the scope."""
        _check_version(request.protocol_version)
        limit = max(1, min(request.limit or DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT))
        cursor = decode_cursor(request.cursor, self.cursor_key)
        watermark = self.store.watermark()
        scope = compute_scope(self.store, principal)
        found: dict[tuple[str, str], Row] = {}
        revoked: list[RowRef] = []
        if not cursor.initial:
            self._scope_changes(cursor, scope, found, revoked)
        feed, seq, has_more = self._feed(scope, cursor.seq, watermark, limit)
        for row in feed:
            key = (row.collection, row.id)
            if key not in found or found[key].version < row.version:
                found[key] = row
        rows = sorted(found.values(), key=lambda r: (r.version, ORDER.index(r.collection)))
        rows = [visible_row(REGISTRY[r.collection], r) for r in rows]
        return PullPage(rows=rows, revoked=revoked, cursor=encode_cursor(Cursor(seq, scope), self.cursor_key),
                        has_more=has_more, server_time=self.clock())

    def _scope_changes(self, cursor: Cursor, scope: Scope, found: dict[tuple[str, str], Row], revoked: list[RowRef]
                       ) -> None:
        """Rows of ids that left the scope are revoked; rows of ids that entered it are sent whole."""
        for name in ORDER:
            rule = REGISTRY[name].scope
            if rule.keyset is Keyset.COMPANY:
                continue
            left = cursor.scope.ids(rule.keyset) - scope.ids(rule.keyset)
            entered = scope.ids(rule.keyset) - cursor.scope.ids(rule.keyset)
            if left:
                revoked.extend(RowRef(name, r.id) for r in self.store.rows_where(name, rule.field, left))
            if entered:
                found.update(((name, r.id), r) for r in self.store.rows_where(name, rule.field, entered)
                             if not r.deleted)

    def _feed(self, scope: Scope, after: int, watermark: int, limit: int) -> tuple[list[Row], int, bool]:
        """Rows changed in (after, watermark] within scope, oldest first, at most ``limit``."""
        upto, rows, truncated = watermark, [], False
        for name in ORDER:
            rule = REGISTRY[name].scope
            values = None if rule.keyset is Keyset.COMPANY else scope.ids(rule.keyset)
            if values is not None and not values:
                continue
            field = None if values is None else rule.field
            rows.extend(self.store.changed_rows(name, field, values, after, upto, limit + 1))
            if len(rows) > limit:
                # Keep the oldest ``limit``; later collections need nothing newer than the cut.
                rows.sort(key=lambda r: r.version)
                rows, truncated = rows[:limit], True
                upto = rows[-1].version
        rows.sort(key=lambda r: r.version)
        if truncated:
            return rows, upto, True
        return rows, max(watermark, after), False


def _clock_fields(fields: dict[str, Any], device_now: str, server_now: str) -> dict[str, Any]:
    """For a visit event: the server's receive time, the device clock's offset, and the corrected time."""
    try:
        offset = (dt.datetime.fromisoformat(server_now) - dt.datetime.fromisoformat(device_now)).total_seconds()
        corrected = (dt.datetime.fromisoformat(str(fields["at"])) + dt.timedelta(seconds=offset)).isoformat()
    except (KeyError, TypeError, ValueError):
        return {"received_at": server_now}
    return {"received_at": server_now, "clock_offset_s": offset, "corrected_at": corrected}


def _hazard_deadline(decision: Decision, row: Row | None) -> Decision:
    """R16 on the server (G10): a hazard's rectification deadline is never later than its severity
    allows, nor before it was found. Such a deadline is replaced by the rule's and the hazard is kept,
    answered ``merged`` with the reason: a safety fact is never refused over its deadline."""
    current = {**(row.data if row is not None else {}), **decision.writes}
    severity, found, due = current.get("severity"), current.get("found_at"), current.get("rectify_by")
    if severity is None or found is None:
        return decision
    try:
        found_at = dt.datetime.fromisoformat(found) if isinstance(found, str) else found
        latest = hazards.rectify_by(str(severity), found_at)
    except (TypeError, ValueError):
        return decision  # an unreadable time or severity is refused by the field checks, not here
    problem = hazards.deadline_problem(str(severity), found_at, due) if due is not None else "no deadline"
    if problem is None:
        return decision
    status = ResultStatus.MERGED if decision.status is ResultStatus.APPLIED else decision.status
    message = R.rejection_message(R.HAZARD_DEADLINE_SET, severity=severity, deadline=latest.isoformat(),
                                  detail=problem)
    return replace(decision, status=status, writes={**decision.writes, "rectify_by": latest.isoformat()},
                   reason=decision.reason or R.HAZARD_DEADLINE_SET, message=decision.message or message)


def _read_only(spec: CollectionSpec, m: Mutation) -> Decision:
    """The rejection of any change a device makes to a read-only collection."""
    if m.op is Op.CREATE:
        return reject(R.CREATE_NOT_ALLOWED, collection=spec.name)
    if m.op is Op.DELETE:
        return reject(R.DELETE_NOT_ALLOWED, collection=spec.name)
    return reject(R.FIELD_NOT_WRITABLE, collection=spec.name, field=next(iter(m.fields), "*"))


def _check_version(version: int) -> None:
    if version != PROTOCOL_VERSION:
        raise ProtocolVersionUnsupported(version)


def _result(m: Mutation, d: Decision, version: int | None = None) -> MutationResult:
    return MutationResult(m.mutation_id, d.status, version=version, reason=d.reason, message=d.message,
                          conflicts=d.conflicts)


def visible_row(spec: CollectionSpec, row: Row) -> Row:
    """The row without the columns that never leave the server (R19)."""
    if spec.excluded & row.data.keys():
        return replace(row, data={k: v for k, v in row.data.items() if k not in spec.excluded})
    return row

