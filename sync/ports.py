"""The ports the client engine drives: a device store and a transport.

The tablet implements DeviceStore on SQLite and Transport over HTTP (requests); the simulation
implements both in memory. The engine never touches a file, a socket or a framework.
"""

from __future__ import annotations

from typing import Protocol

from sync.records import BlobRef, Mutation, MutationResult, PullPage, RowRef


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


class TransportError(Exception):
    """The request did not complete; retry later (the outbox is kept)."""


class ProtocolMismatch(TransportError):
    """The server does not speak this client's protocol version: update the app (outbox kept)."""


class AuthRevoked(TransportError):
    """The device's token was revoked or expired; ``wipe`` when the device was reported lost."""

    def __init__(self, message: str, wipe: bool = False) -> None:
        super().__init__(message)
        self.wipe = wipe
