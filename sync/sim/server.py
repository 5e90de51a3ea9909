"""An in-memory ServerStore with transactions, plus the office's own edits (dispatch)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import replace
from typing import Any

from sync import history
from sync.records import ConflictRecord, Row, RowWrite, StoredResult

# Collections household_history is derived from.
HISTORY_SOURCES = frozenset({"job", "hazard", "checklist_answer", "fee_collection", "technician"})


class ServerCrash(Exception):
    """The server process died mid-transaction: nothing of the transaction was committed."""


class MemoryServerStore:
    """One company's synced rows, answers and conflict records, in memory.

    Writes made through the ServerStore methods are staged and become visible at ``commit`` (the
    adapter's transaction); a crash before it loses them, as a database would.
    """

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Row]] = defaultdict(dict)
        self.counter = 0
        self.results: dict[str, StoredResult] = {}
        self.conflicts: dict[str, ConflictRecord] = {}
        self.blobs: dict[str, bytes] = {}
        self.assigned: dict[str, set[str]] = defaultdict(set)  # job id -> every technician it ever had
        self.applied_order: list[tuple[str, str]] = []  # (device_id, mutation_id) as first answered
        self.history: list[tuple[int, str, str, dict[str, Any], str]] = []  # (version, coll, id, data, who)
        self.crash_before_commit = False  # fault injection: the next commit dies
        self._staged_rows: dict[tuple[str, str], Row] | None = None
        self._staged_results: list[StoredResult] = []
        self._staged_conflicts: list[ConflictRecord] = []
        self._staged_counter = 0

    # --- transactions ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[MemoryServerStore]:
        """Stage the writes of one request; commit them all at the end, or none on an exception."""
        self._staged_rows, self._staged_results, self._staged_conflicts = {}, [], []
        self._staged_counter = self.counter
        try:
            yield self
            if self.crash_before_commit:
                self.crash_before_commit = False
                raise ServerCrash("server died before commit")
            self._commit()
        finally:
            self._staged_rows = None

    def _commit(self) -> None:
        assert self._staged_rows is not None
        for (collection, row_id), row in self._staged_rows.items():
            self.rows[collection][row_id] = row
            self.history.append((row.version, collection, row_id, dict(row.data), "device"))
        self.counter = self._staged_counter
        if any(collection in HISTORY_SOURCES for collection, _ in self._staged_rows):
            self._derive_history()
        for r in self._staged_results:
            if r.mutation_id in self.results:
                raise AssertionError(f"G2: mutation {r.mutation_id} answered twice")
            self.results[r.mutation_id] = r
            self.applied_order.append((r.device_id, r.mutation_id))
        for c in self._staged_conflicts:
            self.conflicts[c.id] = c

    # --- ServerStore ----------------------------------------------------------------------------

    def watermark(self) -> int:
        return self.counter

    def scope_job_ids(self, technician_id: str) -> set[str]:
        return {j.id for j in self.rows["job"].values() if j.data.get("technician_id") == technician_id}

    def scope_keys(self, technician_id: str) -> tuple[set[str], set[str], set[str]]:
        jobs = [j for j in self.rows["job"].values() if j.data.get("technician_id") == technician_id]
        live = [j for j in jobs if not j.deleted]
        return ({j.id for j in jobs}, {str(j.data["customer_id"]) for j in live if j.data.get("customer_id")},
                {str(j.data["premises_id"]) for j in live if j.data.get("premises_id")})

    def previously_assigned(self, technician_id: str, job_ids: Collection[str]) -> set[str]:
        return {j for j in job_ids if technician_id in self.assigned.get(j, ())}

    def load_rows(self, collection: str, ids: Collection[str]) -> dict[str, Row]:
        table = self.rows[collection]
        return {i: table[i] for i in ids if i in table}

    def rows_where(self, collection: str, field: str, values: Collection[str]) -> list[Row]:
        wanted = set(values)
        return [r for r in self.rows[collection].values() if str(_get(r, field)) in wanted]

    def changed_rows(
        self, collection: str, field: str | None, values: Collection[str] | None, after: int, upto: int, limit: int
    ) -> list[Row]:
        wanted = None if values is None else set(values)
        rows = [
            r for r in self.rows[collection].values()
            if after < r.version <= upto and (field is None or str(_get(r, field)) in wanted)  # type: ignore[operator]
        ]
        return sorted(rows, key=lambda r: r.version)[:limit]

    def has_blobs(self, sha256s: Collection[str]) -> set[str]:
        return {s for s in sha256s if s in self.blobs}

    def load_results(self, mutation_ids: Collection[str]) -> dict[str, StoredResult]:
        return {m: self.results[m] for m in mutation_ids if m in self.results}

    def save_rows(self, writes: list[RowWrite]) -> dict[tuple[str, str], Row]:
        assert self._staged_rows is not None, "save_rows outside a transaction"
        saved = {}
        for w in writes:
            old = self._staged_rows.get((w.collection, w.id)) or self.rows[w.collection].get(w.id)
            self._staged_counter += 1
            data = {**(old.data if old else {}), **w.fields}
            row = Row(w.collection, w.id, self._staged_counter, w.deleted, data)
            self._staged_rows[(w.collection, w.id)] = row
            saved[(w.collection, w.id)] = row
        return saved

    def save_outcomes(self, results: list[StoredResult], conflicts: list[ConflictRecord]) -> None:
        assert self._staged_rows is not None, "save_outcomes outside a transaction"
        self._staged_results.extend(results)
        self._staged_conflicts.extend(conflicts)

    # --- the office (dispatchers edit the server directly, committed at once) --------------------

    def office_put(self, collection: str, row_id: str, changes: dict[str, Any], *, deleted: bool = False) -> Row:
        """Create or change a row as the office does: one committed change with the next version."""
        old = self.rows[collection].get(row_id)
        self.counter += 1
        row = Row(collection, row_id, self.counter, deleted or bool(old and old.deleted),
                  {**(old.data if old else {}), **changes})
        self.rows[collection][row_id] = row
        self.history.append((row.version, collection, row_id, dict(row.data), "office"))
        if collection == "job" and row.data.get("technician_id"):
            self.assigned[row_id].add(str(row.data["technician_id"]))
        if collection in HISTORY_SOURCES:
            self._derive_history()
        return row

    def _derive_history(self) -> None:
        """Bring the server-derived household_history rows up to date with the jobs and their facts
        (sync.history); a changed row gets the next version, one that stops qualifying a tombstone."""
        facts: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for collection in ("hazard", "checklist_answer", "fee_collection"):
            for r in self.rows[collection].values():
                if not r.deleted and r.data.get("job_id"):
                    facts[str(r.data["job_id"])][collection].append({"id": r.id, **r.data})
        names = {t.id: t.data.get("name") for t in self.rows["technician"].values()}
        derived = []
        for job in self.rows["job"].values():
            if not job.deleted and history.qualifies(job.data):
                mine = facts.get(job.id, {})
                derived.append((job.id, history.summary(job.data, names.get(str(job.data.get("technician_id"))),
                                                        mine.get("hazard", ()), mine.get("checklist_answer", ()),
                                                        mine.get("fee_collection", ()))))
        now = dict(history.newest_per_premises(derived))
        table = self.rows["household_history"]
        for row_id, data in now.items():
            old = table.get(row_id)
            if old is None or old.deleted or old.data != data:
                self.counter += 1
                table[row_id] = Row("household_history", row_id, self.counter, False, dict(data))
        for row_id, old in list(table.items()):
            if row_id not in now and not old.deleted:
                self.counter += 1
                table[row_id] = Row("household_history", row_id, self.counter, True, old.data)

    def put_blob(self, sha256: str, data: bytes) -> None:
        """Store an uploaded blob (already verified by the caller)."""
        self.blobs[sha256] = data

    def row(self, collection: str, row_id: str) -> Row | None:
        """One committed row (for checks)."""
        return self.rows[collection].get(row_id)


def _get(row: Row, field: str) -> Any:
    return row.id if field == "id" else row.data.get(field)


def with_version(row: Row, version: int) -> Row:
    """A copy of a row at another version (test helper)."""
    return replace(row, version=version)
