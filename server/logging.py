"""Structured logs: one JSON line per request, and every other log record as one JSON line too.

A request line carries the method, the path (query parameter *names* only, never their values),
the status, the duration in ms, the user id, the device id and the request id: nothing a person
typed. Customer PII (names, phone numbers, ID numbers), passwords, tokens and request bodies never
reach the logs: request fields are chosen, not copied, and an exception is logged by its type and
stack frames without its message (a message may quote the input that caused it).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import traceback
import uuid
from typing import Any

from flask import Flask, Response, g, request

REQUEST_LOGGER = "fieldsync.request"
REQUEST_ID_HEADER = "X-Request-ID"
# A request id handed in by a load balancer is kept only when it is a plain token (no log injection).
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# A query string inside a message (gunicorn quotes a bad request line whole) loses its values.
_QUERY_IN_TEXT = re.compile(r"(/[^ ?'\"\r\n]*)\?[^ '\"\r\n]*")

request_log = logging.getLogger(REQUEST_LOGGER)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_query(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        request_id = getattr(g, "request_id", None) if _in_request() else None
        if request_id and "request_id" not in payload:
            payload["request_id"] = request_id
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            payload["exc_type"] = f"{exc_type.__module__}.{exc_type.__qualname__}"
            # Frames only: the exception's message may quote a customer's data.
            payload["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)
            ]
        return json.dumps(payload, ensure_ascii=False, default=str)


def redact_query(text: str) -> str:
    """``text`` with the values of any URL query string in it removed (``/path?<redacted>``)."""
    return _QUERY_IN_TEXT.sub(r"\1?<redacted>", text)


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def configure_logging(fmt: str = "json", level: str = "INFO", stream: Any = None) -> None:
    """Send every log record to ``stream`` (stderr) as JSON lines (``fmt="json"``) or plain text."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The development server's own access log repeats the query string; gunicorn's is switched off.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def gunicorn_logconfig(fmt: str = "json", level: str = "INFO") -> dict:
    """A ``logging.config.dictConfig`` for gunicorn's master and workers: its own lines as JSON too."""
    formatter = {"()": JsonFormatter} if fmt == "json" else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


def request_fields(response: Response) -> dict[str, Any]:
    """The fields of the request line: chosen one by one so that nothing a person typed gets in."""
    started = getattr(g, "request_started", None)
    user = getattr(g, "user", None)
    token = getattr(g, "token", None)
    return {
        "event": "request",
        "method": request.method,
        "path": request.path,
        "query_keys": sorted(set(request.args.keys())),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user_id": str(user.id) if user is not None else None,
        "device_id": getattr(token, "device_id", None),
        "request_id": getattr(g, "request_id", None),
    }


def _begin() -> None:
    g.request_started = time.perf_counter()
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if _SAFE_REQUEST_ID.match(sent) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    if not request_log.isEnabledFor(logging.INFO):  # request lines switched off: only the id header
        response.headers[REQUEST_ID_HEADER] = getattr(g, "request_id", None) or ""
        return response
    fields = request_fields(response)
    response.headers[REQUEST_ID_HEADER] = fields["request_id"] or ""
    request_log.info(
        "%s %s %s %sms", fields["method"], fields["path"], fields["status"], fields["duration_ms"],
        extra={"fields": fields},
    )
    return response


def init_app(app: Flask) -> None:
    """Give every request an id (``X-Request-ID``, kept from the load balancer when plain) and a log line."""
    app.before_request(_begin)
    app.after_request(_finish)
