"""A fault-injecting HTTP/1.1 proxy for loopback tests: it sits between tablets and the real server.

Each request the tablet sends is read whole, then one seeded decision says what happens to it:

- ``pass``: forwarded, the answer returned unchanged;
- ``drop_request``: the connection is closed before the server sees anything;
- ``drop_response``: the server handles the request, then the connection is closed unanswered
  (the classic lost acknowledgement: the change took effect, the tablet does not know);
- ``delay``: forwarded after a pause (sometimes longer than the tablet's timeout);
- ``truncate_request``: half the body reaches the server, then the upstream connection is closed;
- ``truncate_response``: the server's answer is cut in the middle of its body;
- ``reset``: the tablet's connection is reset (RST) before forwarding, or after the server answered;
- ``duplicate``: the request reaches the server twice (one after the other, or both at once) and
  the tablet gets the last answer.

Only 127.0.0.1 is ever contacted. Every thread is a daemon; ``stop`` closes the listening socket and
every open connection. ``stats`` counts what was injected, for the reliability table.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

FAULTS = ("drop_request", "drop_response", "delay", "truncate_request", "truncate_response", "reset",
          "duplicate")
MAX_HEADER = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


@dataclass
class FaultPlan:
    """How often each fault happens (probabilities per request; the rest pass), and the delays."""

    rates: dict[str, float] = field(default_factory=dict)
    delay_s: tuple[float, float] = (0.05, 0.4)
    long_delay_s: float = 0.0  # when > 0, a quarter of the delays last this long (past the client timeout)
    paths: tuple[str, ...] = ("/api/v1/sync/", "/api/v1/blobs/")  # requests elsewhere always pass
    each_first: bool = True  # the first faulted requests meet every fault once (in a seeded order)

    @classmethod
    def uniform(cls, total: float, **kwargs: object) -> FaultPlan:
        """Every fault equally likely, ``total`` the chance that a request meets one."""
        return cls(rates={f: total / len(FAULTS) for f in FAULTS}, **kwargs)  # type: ignore[arg-type]


class _Request:
    def __init__(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.method, self.target, self.headers, self.body = method, target, headers, body


class FaultProxy:
    """Listen on 127.0.0.1 (a free port) and forward to ``upstream_port`` on 127.0.0.1 with faults."""

    def __init__(self, upstream_port: int, plan: FaultPlan, seed: int, *, upstream_timeout: float = 60) -> None:
        self.upstream_port, self.plan = upstream_port, plan
        self.upstream_timeout = upstream_timeout
        self.rng = random.Random(seed)
        self._first = [f for f in FAULTS if plan.rates.get(f)] if plan.each_first else []
        self.rng.shuffle(self._first)
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        self.enabled = True  # False: every request passes (used to let devices reach quiescence)

    # --- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        """Begin accepting connections."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close every connection the proxy holds."""
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- decisions ------------------------------------------------------------------------------------------
    def _decide(self, req: _Request) -> tuple[str, float, str]:
        """(fault, delay seconds, variant) for one request, drawn from the seeded generator."""
        with self._lock:
            self.stats["requests"] += 1
            if not self.enabled or not any(req.target.startswith(p) for p in self.plan.paths):
                self.stats["pass"] += 1
                return "pass", 0.0, ""
            draw, fault = self.rng.random(), "pass"
            for name, rate in self.plan.rates.items():
                if draw < rate:
                    fault = name
                    break
                draw -= rate
            if fault != "pass" and self._first:
                fault = self._first.pop()  # coverage: every kind of fault happens at least once
            delay = self.rng.uniform(*self.plan.delay_s)
            if fault == "delay" and self.plan.long_delay_s and self.rng.random() < 0.25:
                delay = self.plan.long_delay_s
            variant = self.rng.choice(("before", "after")) if fault in ("reset", "duplicate") else ""
            self.stats[fault if not variant else f"{fault}_{variant}"] += 1
            return fault, delay, variant

    # --- plumbing -------------------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="faultproxy-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(120)
        reader = conn.makefile("rb")
        try:
            for _ in range(10_000):  # keep-alive: bounded number of requests per connection
                req = _read_request(reader)
                if req is None or self._stopped.is_set():
                    return
                if not self._handle(conn, req):
                    return
        except (OSError, ValueError, http.client.HTTPException):
            return
        finally:
            with self._lock:
                self._open.discard(conn)
            with contextlib.suppress(OSError):
                reader.close()
                conn.close()

    def _handle(self, conn: socket.socket, req: _Request) -> bool:
        """Serve one request with its fault; False when the client connection was closed."""
        fault, delay, variant = self._decide(req)
        if fault == "drop_request":
            return False
        if fault == "reset" and variant == "before":
            _reset(conn)
            return False
        if fault == "truncate_request":
            self._forward_truncated(req)
            return False
        if fault == "delay":
            time.sleep(delay)
        if fault == "duplicate" and variant == "after":
            # Both copies at once: the server must serialise them (one device, one push at a time).
            twin: list[tuple[int, str, list[tuple[str, str]], bytes] | None] = [None]
            t = threading.Thread(target=lambda: twin.__setitem__(0, self._forward_quietly(req)), daemon=True)
            t.start()
            answer = self._forward(req)
            t.join(timeout=self.upstream_timeout)
        elif fault == "duplicate":
            self._forward_quietly(req)
            answer = self._forward(req)
        else:
            answer = self._forward(req)
        if fault == "drop_response":
            return False
        if fault == "reset":
            _reset(conn)
            return False
        status, reason, headers, body = answer
        head = _response_head(status, reason, headers, len(body))
        if fault == "truncate_response" and len(body) > 1:
            conn.sendall(head + body[: len(body) // 2])
            return False
        conn.sendall(head + (b"" if req.method == "HEAD" else body))
        return True

    def _upstream(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=self.upstream_timeout)

    def _forward(self, req: _Request) -> tuple[int, str, list[tuple[str, str]], bytes]:
        up = self._upstream()
        try:
            up.putrequest(req.method, req.target, skip_host=True, skip_accept_encoding=True)
            for name, value in req.headers:
                if name.lower() not in ("connection", "keep-alive", "proxy-connection"):
                    up.putheader(name, value)
            up.putheader("Connection", "close")
            up.endheaders(req.body or None)
            resp = up.getresponse()
            body = resp.read()
            return resp.status, resp.reason, resp.getheaders(), body
        finally:
            up.close()

    def _forward_quietly(self, req: _Request) -> tuple[int, str, list[tuple[str, str]], bytes] | None:
        try:
            return self._forward(req)
        except (OSError, http.client.HTTPException):
            return None

    def _forward_truncated(self, req: _Request) -> None:
        """Send the headers and half the body upstream, then hang up."""
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.upstream_port),
                                                                     timeout=5) as up:
            lines = [f"{req.method} {req.target} HTTP/1.1"] + [f"{k}: {v}" for k, v in req.headers]
            up.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + req.body[: len(req.body) // 2])
            time.sleep(0.05)


def _reset(conn: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer sees ECONNRESET, not a clean end of stream."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


def _read_request(reader: object) -> _Request | None:
    """One request from a keep-alive connection (Content-Length bodies only), or None at its end."""
    line = reader.readline(MAX_HEADER)  # type: ignore[attr-defined]
    if not line:
        return None
    method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: list[tuple[str, str]] = []
    size = 0
    for _ in range(200):
        raw = reader.readline(MAX_HEADER)  # type: ignore[attr-defined]
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
        if name.strip().lower() == "content-length":
            size = int(value.strip())
        if name.strip().lower() == "transfer-encoding":
            raise ValueError("chunked request bodies are not supported by the fault proxy")
    if size > MAX_BODY:
        raise ValueError("request body too large for the fault proxy")
    body = reader.read(size) if size else b""  # type: ignore[attr-defined]
    if len(body) != size:
        return None
    return _Request(method, target, headers, body)


def _response_head(status: int, reason: str, headers: list[tuple[str, str]], length: int) -> bytes:
    skip = {"connection", "keep-alive", "transfer-encoding", "content-length"}
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers if k.lower() not in skip]
    lines += [f"Content-Length: {length}", "Connection: keep-alive"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
