"""The HTTP transport (requests) the sync engine drives; implements ``sync.ports.Transport``.

Every request declares the protocol version. HTTP 426 becomes ProtocolMismatch (update the app;
the outbox is kept), 401 becomes AuthRevoked (``wipe`` when the server says the device was reported
lost), a refused blob becomes BlobRejected (never retried as is), and every other failure a
TransportError (retry later).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests

from sync import PROTOCOL_VERSION
from sync.engine import BlobRejected
from sync.fastwire import PushResponseSchema, dump_push_request  # sync.wire's shapes, fast for 500 mutations
from sync.ports import AuthRevoked, ProtocolMismatch, TransportError
from sync.records import BlobRef, Mutation, MutationResult, PullPage, PullRequest, PushRequest
from sync.wire import (
    PROTOCOL_VERSION_HEADER,
    PullRequestSchema,
    load_pull_page,
)

API = "/api/v1"


def _now() -> str:
    from mobile.store import now_iso

    return now_iso()


def _error(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def login(server_url: str, username: str, password: str, device_id: str, timeout: float = 15) -> dict[str, Any]:
    """Sign in and register the device: returns the token answer (``access_token``, ``user``).

    Raises AuthRevoked for wrong credentials and TransportError when the server cannot be reached.
    """
    try:
        resp = requests.post(
            server_url.rstrip("/") + f"{API}/auth/login",
            json={"username": username, "password": password, "device_id": device_id}, timeout=timeout,
        )
    except requests.RequestException as exc:
        raise TransportError(f"cannot reach {server_url}: {exc.__class__.__name__}") from exc
    if resp.status_code in (401, 429):
        body = _error(resp)
        raise AuthRevoked(body.get("reason") or "invalid_credentials")
    if resp.status_code != 200:
        raise TransportError(f"sign-in failed: HTTP {resp.status_code}")
    return resp.json()


class HttpTransport:
    """Talks to one server with one device token."""

    def __init__(self, server_url: str, token: str, device_id: str, *, timeout: float = 30,
                 session: requests.Session | None = None) -> None:
        self.base = server_url.rstrip("/") + API
        self.device_id = device_id
        self.timeout = timeout
        self.http = session or requests.Session()
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: Future[PullPage] | None = None
        self.http.headers.update({"Authorization": f"Bearer {token}", PROTOCOL_VERSION_HEADER: str(PROTOCOL_VERSION)})

    def _call(self, method: str, path: str, *, settle: bool = True, **kwargs: Any) -> requests.Response:
        if settle:  # not from the pull sent ahead itself
            self._settle()
        try:
            resp = self.http.request(method, self.base + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise TransportError(f"network: {exc.__class__.__name__}") from exc
        if resp.status_code == 426:
            raise ProtocolMismatch(_error(resp).get("message") or "the server needs a newer app")
        if resp.status_code == 401:
            body = _error(resp)
            wipe = bool((body.get("details") or {}).get("wipe")) and body.get("reason") == "device_revoked"
            raise AuthRevoked(body.get("reason") or "unauthorized", wipe=wipe)
        return resp

    @staticmethod
    def _fail(resp: requests.Response, what: str) -> TransportError:
        body = _error(resp)
        detail = str(body.get("errors") or body.get("message") or "")[:300]
        return TransportError(f"{what}: HTTP {resp.status_code} {body.get('reason') or body.get('code') or ''} {detail}".strip())

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        """Changes since ``cursor`` within the device's scope."""
        self._settle()
        return self._pull(cursor, limit)

    def _pull(self, cursor: str | None, limit: int) -> PullPage:
        body = PullRequestSchema().dump(PullRequest(protocol_version=PROTOCOL_VERSION, cursor=cursor, limit=limit))
        resp = self._call("POST", "/sync/pull", settle=False, json=body)
        if resp.status_code != 200:
            raise self._fail(resp, "pull")
        return load_pull_page(resp.json())  # PullResponseSchema's load, fast for plain pages

    def begin_pull(self, cursor: str | None, limit: int) -> Callable[[], PullPage]:
        """Send a pull from a background thread now; the returned function waits for its page (or
        raises as ``pull`` would). The engine applies the previous page meanwhile (sync.ports)."""
        self._settle()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldsync-pull")
        future = self._pool.submit(self._pull, cursor, limit)
        self._ahead = future

        def result() -> PullPage:
            self._ahead = None
            return future.result()

        return result

    def _settle(self) -> None:
        """Wait for a pull sent ahead whose page nobody asked for (the sync stopped meanwhile): one
        request at a time on this session."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            with contextlib.suppress(Exception):
                ahead.result()

    def close(self) -> None:
        """Stop the background thread (the session stays the caller's)."""
        self._settle()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def push(self, mutations: list[Mutation]) -> list[MutationResult]:
        """Send a batch; one result per mutation, in order."""
        request = PushRequest(protocol_version=PROTOCOL_VERSION, device_id=self.device_id, device_time=_now(),
                              mutations=mutations)
        resp = self._call("POST", "/sync/push", json=dump_push_request(request))
        if resp.status_code != 200:
            raise self._fail(resp, "push")
        return PushResponseSchema().load(resp.json()).results

    def has_blob(self, sha256: str) -> bool:
        """Whether the server already holds this blob (HEAD; unknown counts as no, PUT is idempotent)."""
        resp = self._call("HEAD", f"/blobs/{sha256}")
        return resp.status_code == 200

    def put_blob(self, ref: BlobRef, data: bytes) -> None:
        """Upload a blob (idempotent); a refused one raises BlobRejected."""
        resp = self._call("PUT", f"/blobs/{ref.sha256}", data=data, headers={"Content-Type": ref.content_type})
        if resp.status_code in (200, 201, 204):
            return
        if resp.status_code in (400, 413, 415, 422):
            raise BlobRejected(f"blob {ref.sha256[:12]}: HTTP {resp.status_code} {_error(resp).get('reason', '')}")
        raise self._fail(resp, "blob upload")
