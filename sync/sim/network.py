"""The simulated server endpoints and a fault-injecting network between them and the devices.

Requests and answers go through the sync.wire schemas as JSON, as they would over HTTP. Faults:
a request lost on the way, an answer lost on the way back (the server did the work), a request
delivered twice, a request held back and delivered later (reordered), the server dying before it
commits, and the device dying after the answer arrived but before it stored it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync import PROTOCOL_VERSION
from sync.collections import REGISTRY
from sync.engine import BlobRejected
from sync.ports import ProtocolMismatch, TransportError
from sync.records import BlobRef, Mutation, MutationResult, Principal, PullPage
from sync.scope import compute_scope, key_of
from sync.server_core import ProtocolVersionUnsupported, ServerCore
from sync.sim.server import MemoryServerStore, ServerCrash
from sync.wire import PullRequestSchema, PullResponseSchema, PushRequestSchema, PushResponseSchema

MAX_BLOB = 64 * 1024


class DeviceCrash(Exception):
    """The tablet app died mid-sync (not a TransportError: nothing in the engine catches it)."""


@dataclass
class Faults:
    """Probabilities of each fault per request."""

    drop_request: float = 0.0
    drop_response: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    server_crash: float = 0.0
    device_crash: float = 0.0

    @classmethod
    def none(cls) -> Faults:
        """A perfect network."""
        return cls()


def _wire(schema: Any, value: Any) -> Any:
    """Dump to JSON text and load back: what HTTP does to a value."""
    return schema.load(json.loads(json.dumps(schema.dump(value))))


@dataclass
class SimServer:
    """The push, pull and blob endpoints over a MemoryServerStore; each request is one transaction."""

    store: MemoryServerStore
    core: ServerCore = field(init=False)
    scope_violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.core = ServerCore(self.store, cursor_key=b"sim-secret", clock=lambda: "2026-11-27T01:00:00+00:00")

    def push(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        request = PushRequestSchema().load(body)
        with self.store.transaction():
            response = self.core.push(principal, request)
        return PushResponseSchema().dump(response)

    def pull(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        request = PullRequestSchema().load(body)
        with self.store.transaction():
            page = self.core.pull(principal, request)
        scope = compute_scope(self.store, principal)
        for row in page.rows:  # G7: nothing outside the technician's scope ever leaves the server
            spec = REGISTRY[row.collection]
            if not scope.admits(spec.scope, key_of(spec.scope, row.id, row.data)):
                self.scope_violations.append(f"G7: {principal.technician_id} was sent {row.collection} {row.id}")
        return PullResponseSchema().dump(page)

    def put_blob(self, ref: BlobRef, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != ref.sha256 or len(data) > MAX_BLOB:
            raise BlobRejected(f"blob {ref.sha256} refused")
        self.store.put_blob(ref.sha256, data)


class FaultyTransport:
    """A Transport for one device over a SimServer, injecting faults from a seeded random source."""

    def __init__(self, server: SimServer, principal: Principal, rng: random.Random, faults: Faults,
                 protocol_version: int = PROTOCOL_VERSION) -> None:
        self.server, self.principal, self.rng, self.faults = server, principal, rng, faults
        self.protocol_version = protocol_version
        self.held: list[tuple[str, dict[str, Any]]] = []  # delayed requests, delivered later
        self.log: list[str] = []
        self.device_time = "2026-11-27T09:00:00+08:00"

    def _chance(self, p: float) -> bool:
        return p > 0 and self.rng.random() < p

    def _deliver_held(self) -> None:
        while self.held and self.rng.random() < 0.5:
            kind, body = self.held.pop(self.rng.randrange(len(self.held)))
            self.log.append(f"late {kind} delivered")
            with contextlib.suppress(ServerCrash):
                getattr(self.server, kind)(self.principal, body)

    def _call(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        self._deliver_held()
        if self._chance(self.faults.delay):
            self.held.append((kind, body))
            self.log.append(f"{kind} held back")
            raise TransportError("timeout (request delayed)")
        if self._chance(self.faults.drop_request):
            self.log.append(f"{kind} request lost")
            raise TransportError("connection reset (request lost)")
        if self._chance(self.faults.server_crash):
            self.server.store.crash_before_commit = True
        try:
            answer = getattr(self.server, kind)(self.principal, body)
            if self._chance(self.faults.duplicate):
                self.log.append(f"{kind} duplicated")
                answer = getattr(self.server, kind)(self.principal, body)
        except ServerCrash:
            self.log.append(f"server crashed during {kind}")
            raise TransportError("502 (server crashed)") from None
        except ProtocolVersionUnsupported as exc:
            raise ProtocolMismatch(str(exc)) from None
        if self._chance(self.faults.drop_response):
            self.log.append(f"{kind} answer lost")
            raise TransportError("timeout (answer lost)")
        if self._chance(self.faults.device_crash):
            self.log.append(f"device crashed after {kind} answer")
            raise DeviceCrash(kind)
        return json.loads(json.dumps(answer))

    def push(self, mutations: list[Mutation]) -> list[MutationResult]:
        body = PushRequestSchema().dump({"protocol_version": self.protocol_version, "device_id": self.principal.device_id,
                                         "device_time": self.device_time, "mutations": mutations})
        return PushResponseSchema().load(self._call("push", json.loads(json.dumps(body)))).results

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        body = PullRequestSchema().dump({"protocol_version": self.protocol_version, "cursor": cursor, "limit": limit})
        return PullResponseSchema().load(self._call("pull", body))

    def begin_pull(self, cursor: str | None, limit: int) -> Callable[[], PullPage]:
        """The pull is sent (and served) now, before the device applies the page in hand; its answer
        or failure is handed over when the engine asks (as the HTTP transport's background pull)."""
        try:
            page = self.pull(cursor, limit)
        except Exception as exc:  # noqa: BLE001 - re-raised to the engine when it asks, whatever it is
            failure = exc

            def fail() -> PullPage:
                raise failure

            return fail
        return lambda: page

    def has_blob(self, sha256: str) -> bool:
        if self._chance(self.faults.drop_request):
            raise TransportError("connection reset (HEAD lost)")
        return sha256 in self.server.store.blobs

    def put_blob(self, ref: BlobRef, data: bytes) -> None:
        if self._chance(self.faults.drop_request):
            raise TransportError("connection reset (PUT lost)")
        self.server.put_blob(ref, data)
