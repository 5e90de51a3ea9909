"""The ports the protocol drives: a device store and a transport (client), a server store (server).

The tablet implements DeviceStore on SQLite and Transport over HTTP (requests); the server
implements ServerStore on SQLAlchemy; the simulation implements all three in memory. Neither the
engine nor the server core touches a file, a socket or a framework.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from sync.records import (
    BlobRef,
    ConflictRecord,
    Mutation,
    MutationResult,
    PullPage,
    Row,
    RowRef,
    RowWrite,
    StoredResult,
)


class DeviceStore(Protocol):
    """What the engine needs of the device's storage. Each method is one atomic transaction."""

    def cursor(self) -> str | None:
        """The cursor of the last fully applied pull page (None before the first pull)."""

    def pending(self, limit: int) -> list[Mutation]:
        """Up to ``limit`` unacknowledged, unparked mutations, oldest first."""

    def blobs_for(self, mutations: list[Mutation]) -> list[tuple[BlobRef, bytes]]:
        """The blobs these mutations reference, with their bytes (to upload first)."""

    def apply_results(self, results: list[MutationResult]) -> None:
        """Record the server's answers: drop acknowledged mutations, park rejected ones with their
        reason, keep conflict notices for the technician, rebase rows on the returned versions."""

    def apply_page(self, page: PullPage) -> list[RowRef]:
        """Apply a pulled page and store its cursor, in one transaction. Rows with pending local
        mutations keep the local overlay on top of the new server copy. A revoked row whose pending
        mutations are not yet acknowledged stays until they are (G8); return those deferred refs."""


class Transport(Protocol):
    """What the engine needs of the network. Raises TransportError subclasses on failure."""

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        """Changes since ``cursor`` within the device's scope."""

    def push(self, mutations: list[Mutation]) -> list[MutationResult]:
        """Send a batch; one result per mutation, in order."""

    def has_blob(self, sha256: str) -> bool:
        """Whether the server already holds this blob."""

    def put_blob(self, ref: BlobRef, data: bytes) -> None:
        """Upload a blob (idempotent)."""

    # Optional: ``begin_pull(cursor, limit)`` sends a pull now and returns a function giving its page
    # (raising what ``pull`` would), so the engine can apply one page while the next is on its way.
    # The transport must not run another request before that function was called (or abandoned).


class TransportError(Exception):
    """The request did not complete; retry later (the outbox is kept)."""


class ProtocolMismatch(TransportError):
    """The server does not speak this client's protocol version: update the app (outbox kept)."""


class AuthRevoked(TransportError):
    """The device's token was revoked or expired; ``wipe`` when the device was reported lost."""

    def __init__(self, message: str, wipe: bool = False) -> None:
        super().__init__(message)
        self.wipe = wipe


class ServerStore(Protocol):
    """What the server core needs of the server's database, bound to one company.

    Every method is a bulk operation (one or a few queries, never one per row). All calls made for
    one push or one pull happen inside one database transaction that the adapter opens before
    calling the core and commits after it returns (rolls back if it raises).

    ``Row.data`` holds exactly the fields of the collection's spec (sync.collections), encoded as
    JSON values: ids and times as strings (ISO 8601 with offset), enums by value. Rows are returned
    whether or not they are tombstones unless a method says otherwise.
    """

    def watermark(self) -> int:
        """The highest change sequence number below which every change is committed (G4).

        With server/db.py's counter row lock this is the counter's committed value.
        """

    def scope_job_ids(self, technician_id: str) -> set[str]:
        """The ids of the jobs a technician's tablet holds now (assigned to them, within the sync horizon)."""

    def scope_keys(self, technician_id: str) -> tuple[set[str], set[str], set[str]]:
        """The key sets of a technician's scope now, in one or a few queries: the ids of their jobs
        (as ``scope_job_ids``, tombstones included), and the customers and premises of the live ones."""

    def previously_assigned(self, technician_id: str, job_ids: Collection[str]) -> set[str]:
        """Those of ``job_ids`` that were assigned to this technician at some time (from the audit log)."""

    def load_rows(self, collection: str, ids: Collection[str]) -> dict[str, Row]:
        """The rows with these ids (missing ids are absent from the answer)."""

    def rows_where(self, collection: str, field: str, values: Collection[str]) -> list[Row]:
        """Every row whose ``field`` is one of ``values`` (``field`` may be ``id``)."""

    def changed_rows(
        self, collection: str, field: str | None, values: Collection[str] | None, after: int, upto: int, limit: int
    ) -> list[Row]:
        """Rows with ``after < version <= upto`` and (unless ``field`` is None) ``field`` in ``values``,
        ordered by version, at most ``limit``. Needs an index on (company_id, version)."""

    def has_blobs(self, sha256s: Collection[str]) -> set[str]:
        """Those of ``sha256s`` whose upload completed and was verified."""

    def load_results(self, mutation_ids: Collection[str]) -> dict[str, StoredResult]:
        """The stored first answers of these mutation ids."""

    def save_rows(self, writes: list[RowWrite]) -> dict[tuple[str, str], Row]:
        """Insert or update these rows, giving each changed row the next version; return them as stored,
        keyed by (collection, id)."""

    def save_outcomes(self, results: list[StoredResult], conflicts: list[ConflictRecord]) -> None:
        """Keep the answers (for replays) and the conflict records (for the people who review them)."""
