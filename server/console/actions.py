"""How a console action runs: role check, input through the API's own schema, one service call, one
commit, and a refusal the page can show (the service's reason and message, nothing half-written).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from flask import abort, g

from server.auth.models import Role
from server.errors import ApiError
from server.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def require_role(*roles: Role) -> Callable[[F], F]:
    """The same role rule as the API's ``requires``: one of ``roles``, or an admin (403 otherwise)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user.role not in roles and g.user.role != Role.ADMIN:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def load(schema: ma.Schema, data: dict[str, Any]) -> dict[str, Any]:
    """Validate console input with the API's schema; a bad field becomes the API's 422."""
    try:
        return schema.load({k: v for k, v in data.items() if v is not None})
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        field, problems = next(iter(messages.items()))
        text = problems[0] if isinstance(problems, list) and problems else str(problems)
        raise ApiError(422, "validation_error", f"{field}: {text}", errors={"form": messages}) from None


def run(change: Callable[[], Any]) -> tuple[Any, ApiError | None]:
    """Run one change through the service functions and commit; on a refusal roll back and return it."""
    try:
        result = change()
        db.session.commit()
        return result, None
    except ApiError as error:
        db.session.rollback()
        return None, error
