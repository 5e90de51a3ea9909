"""Paginated list responses: ``{"items": [...], "page", "per_page", "total"}``."""

from __future__ import annotations

from functools import cache
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate

from server.extensions import db

MAX_PER_PAGE = 200


class PageArgsSchema(ma.Schema):
    """?page=&per_page= query arguments (other filters extend this schema)."""

    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


@cache
def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The page envelope schema for an item schema (one class per item schema, for OpenAPI)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (ma.Schema,),
        {
            "__doc__": f"A page of {item_schema.__name__.removesuffix('Schema')} items.",
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "page": ma.fields.Integer(required=True),
            "per_page": ma.fields.Integer(required=True),
            "total": ma.fields.Integer(required=True),
        },
    )


def paginate(stmt: sa.Select, args: dict[str, Any]) -> dict[str, Any]:
    """Run a SELECT of ORM rows for one page; ``stmt`` must already be ordered and scoped."""
    page, per_page = args.get("page", 1), args.get("per_page", 50)
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    items = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with %, _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
