"""An in-memory DeviceStore: the server copy, the outbox as a pending overlay, parked rejections.

It models a tablet's SQLite store: every method is one transaction, so a crash of the app loses
nothing the store returned from. The simulation's own checks read its fields directly.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from sync.collections import REGISTRY
from sync.records import (
    BlobRef,
    ConflictRecord,
    Mutation,
    MutationResult,
    Op,
    PullPage,
    ResultStatus,
    Row,
    RowRef,
)


@dataclass
class MemoryDeviceStore:
    """One tablet's store."""

    device_id: str
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)  # the server copy
    outbox: list[Mutation] = field(default_factory=list)  # pending, oldest first
    parked: dict[str, tuple[Mutation, MutationResult]] = field(default_factory=dict)
    acked: dict[str, MutationResult] = field(default_factory=dict)
    made: list[Mutation] = field(default_factory=list)  # every mutation ever made, in order (for checks)
    conflicts: list[ConflictRecord] = field(default_factory=list)
    blobs: dict[str, tuple[BlobRef, bytes]] = field(default_factory=dict)
    deferred: set[RowRef] = field(default_factory=set)  # revoked, kept until their changes are answered
    violations: list[str] = field(default_factory=list)
    device_clock: str = "2026-11-27T09:00:00+08:00"
    _cursor: str | None = None
    _ids: itertools.count = field(default_factory=itertools.count)

    # --- what the app does ----------------------------------------------------------------------

    def view(self, collection: str, row_id: str) -> dict[str, Any] | None:
        """The row as the technician sees it: the server copy with pending changes on top."""
        row = self.rows.get((collection, row_id))
        data = None if row is None or row.deleted else dict(row.data)
        for m in self.outbox:
            if (m.collection, m.row_id) != (collection, row_id):
                continue
            if m.op is Op.DELETE:
                data = None
            elif m.op is Op.CREATE or data is not None:
                data = {**(data or {}), **m.fields}
        return data

    def _mutation(self, collection: str, row_id: str, op: Op, fields: dict[str, Any]) -> Mutation:
        row = self.rows.get((collection, row_id))
        current = self.view(collection, row_id) or {}
        base_version = None if op is Op.CREATE else (row.version if row else 0)
        base = {} if op is Op.CREATE else {k: current.get(k) for k in fields}
        # uuid5 of a counter keeps simulation runs reproducible from their seed.
        mid = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self.device_id}:{next(self._ids)}"))
        m = Mutation(mid, collection, row_id, op, base_version, dict(fields), self.device_clock, base)
        self.outbox.append(m)
        self.made.append(m)
        return m

    def create(self, collection: str, fields: dict[str, Any], row_id: str | None = None) -> Mutation:
        """Record a new row made on the tablet."""
        row_id = row_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.device_id}:row:{next(self._ids)}"))
        return self._mutation(collection, row_id, Op.CREATE, fields)

    def update(self, collection: str, row_id: str, fields: dict[str, Any]) -> Mutation:
        """Record a change the technician made to a row."""
        return self._mutation(collection, row_id, Op.UPDATE, fields)

    def add_blob(self, ref: BlobRef, data: bytes) -> None:
        """Keep a captured file (photo, signature strokes) until it is uploaded."""
        self.blobs[ref.sha256] = (ref, data)

    # --- DeviceStore ----------------------------------------------------------------------------

    def cursor(self) -> str | None:
        return self._cursor

    def pending(self, limit: int) -> list[Mutation]:
        return list(self.outbox[:limit])

    def blobs_for(self, mutations: list[Mutation]) -> list[tuple[BlobRef, bytes]]:
        out = []
        for m in mutations:
            spec = REGISTRY.get(m.collection)
            for name in spec.blobs if spec else ():
                sha = m.fields.get(name)
                if sha in self.blobs:
                    out.append(self.blobs[sha])
        return out

    def apply_results(self, results: list[MutationResult]) -> None:
        by_id = {m.mutation_id: m for m in self.outbox}
        for r in results:
            m = by_id.get(r.mutation_id)
            if m is None:
                continue  # answered before (a duplicate answer): nothing left to do
            self.outbox.remove(m)
            if r.status is ResultStatus.REJECTED:
                self.parked[m.mutation_id] = (m, r)
            else:
                self.acked[m.mutation_id] = r
            self.conflicts.extend(r.conflicts)
            if r.row is not None:
                self._rebase(r.row)
        for ref in list(self.deferred):
            if not self._touched(ref):
                self.deferred.discard(ref)
                self.rows.pop((ref.collection, ref.id), None)

    def apply_page(self, page: PullPage) -> list[RowRef]:
        for row in page.rows:
            self._rebase(row)
        deferred = []
        for ref in page.revoked:
            if self._touched(ref):
                self.deferred.add(ref)
                deferred.append(ref)
            else:
                self.rows.pop((ref.collection, ref.id), None)
        self._cursor = page.cursor
        return deferred

    # --- internals ------------------------------------------------------------------------------

    def _rebase(self, row: Row) -> None:
        key = (row.collection, row.id)
        old = self.rows.get(key)
        # Rows only move forward: a replayed answer or a late page never brings back an older copy.
        if old is None or row.version >= old.version:
            self.rows[key] = row

    def _touched(self, ref: RowRef) -> bool:
        """Whether a pending change targets this row or, for a job, one of its rows."""
        for m in self.outbox:
            if (m.collection, m.row_id) == (ref.collection, ref.id):
                return True
            if ref.collection == "job":
                target = self.rows.get((m.collection, m.row_id))
                job_id = m.fields.get("job_id") or (target.data.get("job_id") if target else None)
                if job_id == ref.id:
                    return True
        return False
