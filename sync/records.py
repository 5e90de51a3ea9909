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
    # The values of the changed fields as the device saw them just before this change (its server
    # copy with its own earlier pending changes on top). The server compares them with its current
    # values to tell a concurrent edit of the same field from a change to another field.
    base: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MutationResult:
    """The server's answer to one mutation; a replay of the same mutation_id gets the same answer."""

    mutation_id: str
    status: ResultStatus
    version: int | None = None  # the row's version after this mutation (None when rejected)
    reason: str | None = None  # machine-readable, for rejected and conflict
    message: str | None = None  # for people
    row: Row | None = None  # the server's row after the batch, so the device rebases at once
    conflicts: tuple[ConflictRecord, ...] = ()  # what a person must look at (status conflict)


@dataclass(frozen=True)
class ConflictRecord:
    """A concurrent change a rule decided: both values, the rule, and who must look at it."""

    id: str  # deterministic: derived from mutation_id and field, so a replay names the same record
    mutation_id: str
    collection: str
    row_id: str
    field: str
    server_value: Any
    device_value: Any
    rule: str  # a conflict rule from sync.reasons
    review_by: str  # "dispatcher" | "technician"
    message: str = ""


@dataclass(frozen=True)
class PullPage:
    """One page of changes since a cursor, within the device's scope."""

    rows: list[Row]
    revoked: list[RowRef]
    cursor: str
    has_more: bool
    server_time: str | None = None


@dataclass(frozen=True)
class PullRequest:
    """A device asks for the changes after its cursor."""

    protocol_version: int
    cursor: str | None = None
    limit: int = 500


@dataclass(frozen=True)
class PushRequest:
    """A device sends a batch of mutations from its outbox, oldest first."""

    protocol_version: int
    device_id: str
    device_time: str
    mutations: list[Mutation]


@dataclass(frozen=True)
class PushResponse:
    """One result per mutation of the request, in the same order."""

    results: list[MutationResult]
    server_time: str


@dataclass(frozen=True)
class Principal:
    """Who is syncing: the technician the device's token belongs to, and the device."""

    technician_id: str
    device_id: str
    name: str = ""


@dataclass(frozen=True)
class BlobRef:
    """A content-addressed blob (signature image, photo) the device must upload before its mutation."""

    sha256: str
    content_type: str
    size: int


@dataclass(frozen=True)
class RowWrite:
    """What a push changes in one row: a create, the changed fields of an update, or a tombstone."""

    collection: str
    id: str
    fields: dict[str, Any]
    create: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class StoredResult:
    """A mutation's first answer as the server keeps it, so a replay gets the same answer (G2)."""

    mutation_id: str
    device_id: str
    fingerprint: str  # sha256 of the mutation's canonical content: a reused id with new content differs
    result: MutationResult  # stored without ``row``; a replay carries the row as it stands then
