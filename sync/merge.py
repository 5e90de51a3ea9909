"""Merge by ownership: what one device mutation does to the server's row. Pure functions.

``decide(current, mutation, spec, actor, context)`` returns a Decision: the fields to write, the
result status, the reason and message, and the conflict records a person must review. It never
touches storage; the server core loads what it needs and applies the Decision.

Concurrency is decided per field, three-way: the device's ``base`` value (what it saw before its
edit), its new value, and the server's current value. A field the server changed since the device's
base is a concurrent edit, and the field's class (sync.collections.FieldClass) decides.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync import reasons as R
from sync.collections import CollectionSpec, FieldClass, StateMachine
from sync.domain import quotes
from sync.domain.visits import gate_for_status
from sync.records import ConflictRecord, Mutation, Op, Principal, ResultStatus, Row

DISPATCHER, TECHNICIAN = "dispatcher", "technician"
_UNKNOWN = object()
_CONFLICT_NS = uuid.UUID("0b8f6a52-6c1e-4d7a-9a55-5f3b8e6d2c10")


class MergeContext(Protocol):
    """What a merge may look up beyond the row itself (the server core answers from one bulk load)."""

    def row(self, collection: str, row_id: str) -> Row | None:
        """Another row (a referenced job, quote, superseded fact), with this batch's changes."""

    def job_rows(self, collection: str, job_id: str) -> list[Row]:
        """The rows of a collection that belong to a job (quotes, signatures, cleanups)."""

    def has_blob(self, sha256: str) -> bool:
        """Whether the server holds this uploaded blob."""


@dataclass(frozen=True)
class Decision:
    """What to do with one mutation: the writes, the result status, and any conflicts."""

    status: ResultStatus
    writes: dict[str, Any] = field(default_factory=dict)
    create: bool = False
    delete: bool = False
    reason: str | None = None
    message: str | None = None
    conflicts: tuple[ConflictRecord, ...] = ()


def reject(code: str, **details: Any) -> Decision:
    """A rejected Decision with its reason and human message."""
    return Decision(ResultStatus.REJECTED, reason=code, message=R.rejection_message(code, **details))


class _Rejected(Exception):
    def __init__(self, decision: Decision) -> None:
        self.decision = decision


def conflict_record(
    mutation: Mutation, field_name: str, server_value: Any, device_value: Any, rule: str, review_by: str, **extra: Any
) -> ConflictRecord:
    """A conflict record with a deterministic id (a replay names the same record)."""
    return ConflictRecord(
        id=str(uuid.uuid5(_CONFLICT_NS, f"{mutation.mutation_id}:{field_name}:{rule}")),
        mutation_id=mutation.mutation_id,
        collection=mutation.collection,
        row_id=mutation.row_id,
        field=field_name,
        server_value=server_value,
        device_value=device_value,
        rule=rule,
        review_by=review_by,
        message=R.conflict_message(
            rule, collection=mutation.collection, field=field_name, server=server_value, device=device_value, **extra
        ),
    )


def _unset(value: Any) -> bool:
    # Facts with a column default ("" / {} / []) have not been captured yet.
    return value is None or value == "" or value == {} or value == []


def _base(current: Row, mutation: Mutation, name: str) -> Any:
    """The device's base value of a field: sent explicitly, or implied by an unchanged row version."""
    if name in mutation.base:
        return mutation.base[name]
    if mutation.base_version is not None and current.version <= mutation.base_version:
        return current.data.get(name)
    return _UNKNOWN


def decide(
    current: Row | None, mutation: Mutation, spec: CollectionSpec, actor: Principal, context: MergeContext
) -> Decision:
    """Decide one device mutation against the server's current row (None when it does not exist)."""
    try:
        if mutation.op is Op.CREATE:
            return _create(current, mutation, spec, actor, context)
        if current is None:
            raise _Rejected(reject(R.UNKNOWN_ROW, collection=mutation.collection, row_id=mutation.row_id, detail=""))
        if current.deleted:
            # A tombstone wins over every older update: the row does not come back.
            if mutation.op is Op.DELETE:
                return Decision(ResultStatus.APPLIED)
            raise _Rejected(reject(R.ROW_DELETED, collection=mutation.collection, row_id=mutation.row_id))
        if mutation.op is Op.DELETE:
            if not spec.device_deletes:
                raise _Rejected(reject(R.DELETE_NOT_ALLOWED, collection=mutation.collection))
            return Decision(ResultStatus.APPLIED, delete=True)
        return _update(current, mutation, spec, actor, context)
    except _Rejected as rejected:
        return rejected.decision


def _check_writable(mutation: Mutation, spec: CollectionSpec, *, creating: bool) -> None:
    for name, value in mutation.fields.items():
        if spec.field_class(name) is None:
            raise _Rejected(reject(R.UNKNOWN_FIELD, collection=spec.name, field=name))
        if not spec.device_may_write(name, creating=creating):
            raise _Rejected(reject(R.FIELD_NOT_WRITABLE, collection=spec.name, field=name))
        allowed = spec.choices.get(name)
        if allowed is not None and value is not None and value not in allowed:
            raise _Rejected(reject(R.INVALID_VALUE, collection=spec.name, field=name,
                                   detail=f"{value!r} is not one of {', '.join(sorted(allowed))}"))


def _check_blobs(values: dict[str, Any], spec: CollectionSpec, context: MergeContext) -> None:
    for name in spec.blobs:
        sha = values.get(name)
        if sha and not context.has_blob(str(sha)):
            raise _Rejected(reject(R.MISSING_BLOB, sha256=sha, collection=spec.name, field=name))


def _check_refs(values: dict[str, Any], spec: CollectionSpec, context: MergeContext) -> None:
    for name, target in spec.refs.items():
        ref = values.get(name)
        if ref is None:
            continue
        row = context.row(target, str(ref))
        if row is None or row.deleted:
            raise _Rejected(
                reject(R.UNKNOWN_ROW, collection=target, row_id=ref, detail=f" (referenced by {spec.name}.{name})")
            )


def _create(
    current: Row | None, mutation: Mutation, spec: CollectionSpec, actor: Principal, context: MergeContext
) -> Decision:
    if not spec.device_creates:
        raise _Rejected(reject(R.CREATE_NOT_ALLOWED, collection=spec.name))
    if current is not None:
        raise _Rejected(reject(R.ROW_EXISTS, collection=spec.name, row_id=mutation.row_id))
    _check_writable(mutation, spec, creating=True)
    values = dict(mutation.fields)
    missing = sorted(spec.required - {k for k, v in values.items() if v is not None})
    if missing:
        raise _Rejected(reject(R.INVALID_VALUE, collection=spec.name, field=missing[0], detail="required"))
    if spec.stamp_technician:
        claimed = values.get(spec.stamp_technician)
        if claimed is not None and str(claimed) != actor.technician_id:
            raise _Rejected(reject(R.INVALID_VALUE, collection=spec.name, field=spec.stamp_technician,
                                   detail="must be the pushing technician's own id"))
        values[spec.stamp_technician] = actor.technician_id
    values.update(spec.server_sets)
    if spec.machine is not None and spec.status_field:
        status = values.setdefault(spec.status_field, spec.machine.initial)
        if status not in spec.machine.transitions:
            raise _Rejected(reject(R.INVALID_VALUE, collection=spec.name, field=spec.status_field,
                                   detail=f"unknown status {status!r}"))
    _check_refs(values, spec, context)
    _check_blobs(values, spec, context)
    conflicts: tuple[ConflictRecord, ...] = ()
    if spec.name == "quote":
        _check_quote(mutation, values)
    elif spec.name == "signature":
        conflicts = _signature_binding(mutation, values, context)
    status = ResultStatus.CONFLICT if conflicts else ResultStatus.APPLIED
    reason = conflicts[0].rule if conflicts else None
    return Decision(status, writes=values, create=True, reason=reason,
                    message=conflicts[0].message if conflicts else None, conflicts=conflicts)


def _check_quote(mutation: Mutation, values: dict[str, Any]) -> None:
    problems = quotes.validate_quote(values)
    if problems:
        raise _Rejected(reject(R.INVALID_VALUE, collection="quote", field=problems[0].field, detail=problems[0].message))
    actual = quotes.content_hash(values)
    if values.get("content_hash") != actual:
        raise _Rejected(reject(R.CONTENT_HASH_MISMATCH, declared=values.get("content_hash"), actual=actual))


def _signature_binding(mutation: Mutation, values: dict[str, Any], context: MergeContext) -> tuple[ConflictRecord, ...]:
    """A signature is a fact and is always kept; if the quote it names has changed, say so."""
    if values.get("purpose") not in (quotes.QUOTE_APPROVAL, quotes.QUOTE_REFUSAL):
        return ()
    quote_id = values.get("quote_id")
    if quote_id is None:
        raise _Rejected(reject(R.INVALID_VALUE, collection="signature", field="quote_id",
                               detail="a quote approval or refusal names its quote"))
    quote = context.row("quote", str(quote_id))
    if quote is None:  # _check_refs already rejected a missing quote; this keeps type checkers calm
        return ()
    current_hash = quote.data.get("content_hash")
    if values.get("content_hash") == current_hash:
        return ()
    return (conflict_record(mutation, "content_hash", current_hash, values.get("content_hash"),
                            R.QUOTE_CHANGED_AFTER_SIGNING, TECHNICIAN),)


def _update(current: Row, mutation: Mutation, spec: CollectionSpec, actor: Principal, context: MergeContext) -> Decision:
    _check_writable(mutation, spec, creating=False)
    writes: dict[str, Any] = {}
    conflicts: list[ConflictRecord] = []
    concurrent_elsewhere = mutation.base_version is None or current.version > mutation.base_version
    for name, new in mutation.fields.items():
        cls = spec.field_class(name)
        old = current.data.get(name)
        if new == old:
            continue  # already so: nothing to do, nothing lost
        base = _base(current, mutation, name)
        concurrent = base is _UNKNOWN or base != old
        if cls is FieldClass.STATUS:
            _merge_status(current, mutation, spec, name, base, new, writes, conflicts, context)
        elif cls is FieldClass.FACT:
            if _unset(old):
                writes[name] = new
            elif not concurrent:
                # The device saw the recorded value and tried to overwrite it.
                raise _Rejected(reject(R.IMMUTABLE_FACT, collection=spec.name, field=name, old=old))
            else:  # captured twice concurrently: the first stays, the second is kept in the record
                conflicts.append(conflict_record(mutation, name, old, new, R.FACT_FIRST_KEPT, DISPATCHER))
        elif cls is FieldClass.PLAN:
            if concurrent:  # dispatch changed it since the device looked: dispatch wins
                conflicts.append(conflict_record(mutation, name, old, new, R.PLAN_DISPATCH_WINS, TECHNICIAN))
            else:
                writes[name] = new
        elif cls is FieldClass.DEVICE:
            writes[name] = new
            if concurrent:
                conflicts.append(conflict_record(mutation, name, old, new, R.DEVICE_OWNED_LATEST, DISPATCHER))
        elif cls is FieldClass.NOTES:
            merged, lost = merge_notes(base, old, new, actor, mutation.device_time)
            writes[name] = merged
            if lost:
                conflicts.append(conflict_record(mutation, name, old, new, R.NOTES_BOTH_KEPT, DISPATCHER))
    _check_blobs(writes, spec, context)
    if conflicts:
        status = ResultStatus.CONFLICT
    elif concurrent_elsewhere and mutation.base_version is not None:
        status = ResultStatus.MERGED  # taken alongside newer server changes to other fields
    else:
        status = ResultStatus.APPLIED
    first = conflicts[0] if conflicts else None
    return Decision(status, writes=writes, reason=first.rule if first else None,
                    message=first.message if first else None, conflicts=tuple(conflicts))


def merge_notes(base: Any, server: Any, device: Any, actor: Principal, device_time: str) -> tuple[str, bool]:
    """Merge free text from both sides: (text, whether both texts had to be kept side by side).

    When nobody else changed it since the device's base, the device's text stands. When the device
    only appended to its base, its addition is appended to the server's text (whatever the office
    did to it). Otherwise the server's text is kept and the device's whole text follows, attributed.
    """
    server_text, device_text = str(server or ""), str(device or "")
    if base is not _UNKNOWN and (base or "") == server_text:
        return device_text, False
    base_text = "" if base is _UNKNOWN else str(base or "")
    if base is not _UNKNOWN and device_text.startswith(base_text):
        addition = device_text[len(base_text):]
        if server_text and addition and not server_text[-1].isspace() and not addition[0].isspace():
            addition = "\n" + addition  # two sides' additions to one note: never glue their words together
        return server_text + addition, False
    who = actor.name or f"technician {actor.technician_id}"
    attributed = f"[{who}, {device_time}] {device_text}"
    return (f"{server_text}\n\n{attributed}" if server_text else attributed), True


def _merge_status(
    current: Row,
    mutation: Mutation,
    spec: CollectionSpec,
    name: str,
    base: Any,
    new: Any,
    writes: dict[str, Any],
    conflicts: list[ConflictRecord],
    context: MergeContext,
) -> None:
    machine: StateMachine = spec.machine  # type: ignore[assignment]  # a STATUS field always has one
    old = str(current.data.get(name))
    new = str(new)
    if new not in machine.transitions or new not in machine.device_states:
        raise _Rejected(_illegal(spec, mutation, old, new, machine))
    concurrent = base is _UNKNOWN or base != old
    if not concurrent or machine.can(old, new):
        if not machine.can(old, new):
            raise _Rejected(_illegal(spec, mutation, old, new, machine))
        _gate(current, spec, new, context)
        writes[name] = new
        return
    # The server's status moved since the device looked, and the device's step no longer follows it.
    from_base_ok = base is _UNKNOWN or machine.can(str(base), new)
    if new in machine.work_states and old in machine.yields_to_work:
        # The work happened on site: it beats the office's cancellation, reschedule or un-dispatch.
        if not from_base_ok:
            raise _Rejected(_illegal(spec, mutation, str(base), new, machine))
        _gate(current, spec, new, context)
        writes[name] = new
        conflicts.append(conflict_record(mutation, name, old, new, R.WORK_DONE_BEATS_OFFICE, DISPATCHER))
        return
    review = TECHNICIAN if old not in machine.work_states else DISPATCHER
    conflicts.append(conflict_record(mutation, name, old, new, R.STATUS_SERVER_KEPT, review))


def _illegal(spec: CollectionSpec, mutation: Mutation, old: str, new: str, machine: StateMachine) -> Decision:
    allowed = ", ".join(sorted(s for s in machine.transitions.get(old, ()) if s in machine.device_states)) or "none"
    return reject(R.ILLEGAL_TRANSITION, collection=spec.name, row_id=mutation.row_id, old=old, new=new, allowed=allowed)


def _gate(job: Row, spec: CollectionSpec, new: str, context: MergeContext) -> None:
    """R3 / R4, checked again on the server (G10): the same gates the tablet applies."""
    if spec.name != "job" or new not in ("in_progress", "completed"):
        return
    gate = gate_for_status(
        {"id": job.id, **job.data},
        new,
        quotes=[_plain(r) for r in context.job_rows("quote", job.id)],
        signatures=[_plain(r) for r in context.job_rows("signature", job.id)],
        cleanups=[_plain(r) for r in context.job_rows("cleanup_confirmation", job.id)],
    )
    if not gate:
        code = gate.reason or R.APPROVAL_REQUIRED
        decision = reject(code, row_id=job.id)
        raise _Rejected(Decision(decision.status, reason=code, message=f"{decision.message} ({gate.message})"))


def _plain(row: Row) -> dict[str, Any]:
    return {"id": row.id, "deleted": row.deleted, **row.data}
