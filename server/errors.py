"""One JSON error shape for the whole API.

Every error answers ``{"code": 422, "status": "Unprocessable Entity", "reason": "validation_error",
"message": "...", "errors": {...}, "details": {...}}``: ``reason`` is machine-readable and stable,
``message`` is for people, ``errors`` names the offending fields (``{"json": {"field": [...]}}``),
``details`` carries extra facts (for an illegal transition, the allowed next states).
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
import sqlalchemy.exc
from flask import current_app
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("fieldsync.errors")

REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    426: "upgrade_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """A refusal with an HTTP status, a machine reason and a human message."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        errors: dict | None = None,
        details: dict | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.errors = errors
        self.details = details
        self.headers = headers or {}


def not_found(entity: str, ident: Any) -> ApiError:
    """The error for an id that does not exist (or is not visible to the caller)."""
    return ApiError(404, "not_found", f"{entity} {ident} not found")


def field_error(field: str, message: str, reason: str = "validation_error", status: int = 422) -> ApiError:
    """A 422 naming one field of the JSON body."""
    return ApiError(status, reason, f"{field}: {message}", errors={"json": {field: [message]}})


class ErrorSchema(ma.Schema):
    """The one error shape."""

    code = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    message = ma.fields.String()
    errors = ma.fields.Dict()
    details = ma.fields.Dict()


def _payload(code: int, name: str, reason: str, message: str | None, errors=None, details=None) -> dict:
    payload: dict[str, Any] = {"code": code, "status": name, "reason": reason}
    payload["message"] = message or name
    if errors:
        payload["errors"] = errors
    if details:
        payload["details"] = details
    return payload


class FieldsyncApi(Api):
    """flask-smorest's Api with fieldsync's error shape and handlers for our own exceptions."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        app = self._app
        app.register_error_handler(HTTPException, self.handle_http_exception)
        app.register_error_handler(ApiError, self.handle_api_error)
        app.register_error_handler(sqlalchemy.exc.OperationalError, self.handle_db_unavailable)
        app.register_error_handler(sqlalchemy.exc.InterfaceError, self.handle_db_unavailable)
        app.register_error_handler(Exception, self.handle_unexpected)

    def handle_http_exception(self, error: HTTPException):
        headers: dict = {}
        message = error.description if isinstance(error.description, str) else None
        errors = None
        data = getattr(error, "data", None)
        if data:
            message = data.get("message", message)
            errors = data.get("errors") or data.get("messages")
            headers = data.get("headers") or {}
        code = error.code or 500
        if code == 422 and errors:
            message = "invalid request: " + _summarise(errors)
        if code == 400 and "Invalid JSON body." in str(errors):
            reason = "malformed_json"
            message = "the request body is not valid JSON"
        else:
            reason = REASONS.get(code, "error")
        return _payload(code, error.name, reason, message, errors), code, headers

    def handle_api_error(self, error: ApiError):
        from werkzeug.http import HTTP_STATUS_CODES

        name = HTTP_STATUS_CODES.get(error.status, "Error")
        payload = _payload(error.status, name, error.reason, error.message, error.errors, error.details)
        return payload, error.status, error.headers

    def handle_db_unavailable(self, error: Exception):
        from server.extensions import db

        db.session.rollback()
        log.warning("database unavailable: %s", type(error).__name__)
        payload = _payload(
            503, "Service Unavailable", "database_unavailable", "the database is unreachable; retry shortly"
        )
        return payload, 503, {"Retry-After": "2"}

    def handle_unexpected(self, error: Exception):
        if isinstance(error, HTTPException):
            return self.handle_http_exception(error)
        from server.extensions import db

        db.session.rollback()
        current_app.logger.exception("unhandled error")
        ise = InternalServerError()
        return _payload(500, ise.name, "internal_error", "internal server error"), 500


def _summarise(errors: dict) -> str:
    parts: list[str] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, list) and node and all(isinstance(x, str) for x in node):
            parts.append(f"{prefix}: {' '.join(node)}")
        else:
            parts.append(f"{prefix}: {node}")

    for location, node in errors.items():
        walk("", node) if location in ("json", "query", "form", "files", "headers", "view_args") else walk(
            location, node
        )
    return "; ".join(parts[:10])


def refuse_nul_characters() -> None:
    """Refuse JSON bodies and query strings holding a NUL character (``\\u0000``) before any view runs.

    PostgreSQL cannot store NUL in text, so such a value would fail at the database (a 500) long
    after validation; SQLite would store it. One rule for both: a 422 naming where it was.
    """
    from flask import request

    if request.args and any("\x00" in v for vs in request.args.lists() for v in vs[1]):
        raise ApiError(422, "validation_error", "query: text may not contain NUL characters",
                       errors={"query": {"_": ["text may not contain NUL characters"]}})
    # The byte search is the cheap filter; the walk makes sure an escaped "\\u0000" typed as text passes.
    if (request.is_json and b"\\u0000" in request.get_data(cache=True)
            and _holds_nul(request.get_json(silent=True))):
        raise ApiError(422, "validation_error", "json: text may not contain NUL characters",
                       errors={"json": {"_": ["text may not contain NUL characters"]}})


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False
