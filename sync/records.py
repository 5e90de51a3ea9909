"""The values that travel between a device and the server: rows, mutations, results, pages.

Wire dates are ISO 8601 strings with an offset; ids are UUID strings. These dataclasses are what
the engine and the ports exchange; ``sync.wire`` holds the marshmallow schemas that (de)serialise
them for HTTP.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Op(enum.StrEnum):
    """What a mutation does to a row."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ResultStatus(enum.StrEnum):
    """The server's answer to one mutation."""

    APPLIED = "applied"  # taken as sent
    MERGED = "merged"  # taken, combined with newer server changes to other fields
    CONFLICT = "conflict"  # a domain rule decided; the losing value is kept in a conflict record
    REJECTED = "rejected"  # not taken; ``reason`` says why, the device parks it and tells the technician


@dataclass(frozen=True)
class Row:
    """One synced row as the server holds it: collection, id, version, tombstone and fields."""

    collection: str
    id: str
    version: int
    deleted: bool = False
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowRef:
    """A row named by collection and id (a revoked row, a row a conflict is about)."""

    collection: str
    id: str


@dataclass(frozen=True)
class Mutation:
    """One change a device made, queued in its outbox until the server answers it."""

    mutation_id: str
    collection: str
    row_id: str
    op: Op
    base_version: int | None  # the version the device last saw; None for a create
    fields: dict[str, Any]  # the changed fields only
    device_time: str  # ISO 8601, the device's (possibly wrong) clock


@dataclass(frozen=True)
class MutationResult:
    """The server's answer to one mutation; a replay of the same mutation_id gets the same answer."""

    mutation_id: str
    status: ResultStatus
    version: int | None = None  # the row's version after this mutation (None when rejected)
    reason: str | None = None  # machine-readable, for rejected and conflict
    message: str | None = None  # for people
    row: Row | None = None  # the server's row after the mutation, so the device rebases at once
    conflict_id: str | None = None


@dataclass(frozen=True)
class PullPage:
    """One page of changes since a cursor, within the device's scope."""

    rows: list[Row]
    revoked: list[RowRef]
    cursor: str
    has_more: bool
    server_time: str | None = None


@dataclass(frozen=True)
class BlobRef:
    """A content-addressed blob (signature image, photo) the device must upload before its mutation."""

    sha256: str
    content_type: str
    size: int
