"""A technician's scope (G7) and the pull cursor that remembers it.

A scope is a few sets of ids: the technician's jobs (from the store), the customers and premises of
those jobs, and the technician's own id. Every collection's ScopeRule names one of these sets and
the field that must be in it (or COMPANY: reference data every tablet holds).

The cursor is the server's opaque string: the change sequence number the device has seen up to,
plus the scope's id sets as they were then. Comparing them with the scope now tells the server
which rows left the scope (revoked) and which entered it (sent in full, whatever their version).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.collections import Keyset, ScopeRule
from sync.ports import ServerStore
from sync.records import Principal

CURSOR_PREFIX = "c1."
STORED_KEYSETS = (Keyset.JOB, Keyset.CUSTOMER, Keyset.PREMISES, Keyset.SELF)


class BadCursor(ValueError):
    """The cursor was not made by this server (or was altered): the client must pull from scratch."""


@dataclass(frozen=True)
class Scope:
    """The id sets a technician's rows are selected by."""

    keys: Mapping[Keyset, frozenset[str]] = field(default_factory=dict)

    def ids(self, keyset: Keyset) -> frozenset[str]:
        """The ids of one set (empty when absent)."""
        return self.keys.get(keyset, frozenset())

    def admits(self, rule: ScopeRule, value: Any) -> bool:
        """Whether a row whose ``rule.field`` has ``value`` is in scope."""
        if rule.keyset is Keyset.COMPANY:
            return True
        return value is not None and str(value) in self.ids(rule.keyset)


def key_of(rule: ScopeRule, row_id: str, data: Mapping[str, Any]) -> Any:
    """The value a scope rule tests for a row."""
    return row_id if rule.field == "id" else data.get(rule.field)


def compute_scope(store: ServerStore, principal: Principal) -> Scope:
    """The scope of a technician now: their jobs, those jobs' customers and premises, themself."""
    job_ids, customer_ids, premises_ids = store.scope_keys(principal.technician_id)
    return Scope({Keyset.JOB: frozenset(job_ids), Keyset.CUSTOMER: frozenset(customer_ids),
                  Keyset.PREMISES: frozenset(premises_ids), Keyset.SELF: frozenset({principal.technician_id})})


@dataclass(frozen=True)
class Cursor:
    """Where a device's pull stands: the sequence number seen up to, and the scope it was given."""

    seq: int = 0
    scope: Scope = field(default_factory=Scope)

    @property
    def initial(self) -> bool:
        """Whether this is the start of a first sync (nothing seen, nothing held)."""
        return self.seq == 0 and not any(self.scope.keys.values())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(cursor: Cursor, key: bytes | None = None) -> str:
    """The opaque cursor string: ``c1.`` + base64url(zlib(JSON)) [+ ``.`` + base64url(HMAC-SHA256/128)]."""
    body = {"s": cursor.seq, "k": {str(ks): sorted(cursor.scope.ids(ks)) for ks in STORED_KEYSETS}}
    payload = _b64(zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 9))
    if key is None:
        return CURSOR_PREFIX + payload
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16]
    return f"{CURSOR_PREFIX}{payload}.{_b64(mac)}"


def decode_cursor(text: str | None, key: bytes | None = None) -> Cursor:
    """The cursor a string encodes (the initial cursor for None); BadCursor if it is not ours."""
    if not text:
        return Cursor()
    if not text.startswith(CURSOR_PREFIX):
        raise BadCursor("unknown cursor format")
    payload, _, mac = text[len(CURSOR_PREFIX):].partition(".")
    if key is not None:
        expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16])
        if not hmac.compare_digest(mac, expected):
            raise BadCursor("cursor signature does not match")
    try:
        body = json.loads(zlib.decompress(_unb64(payload)))
        seq = int(body["s"])
        keys = {Keyset(k): frozenset(str(i) for i in v) for k, v in body["k"].items()}
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise BadCursor(f"unreadable cursor: {exc}") from None
    if seq < 0:
        raise BadCursor("negative sequence number")
    return Cursor(seq, Scope(keys))
