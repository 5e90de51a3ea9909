"""Wire shapes of the audit log (R19)."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from marshmallow import validate

from server.audit.service import visible_changes
from server.pagination import PageArgsSchema


class AuditEntrySchema(ma.Schema):
    """Who changed what, when and from which device; ``changes`` maps each field to ``[old, new]``."""

    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor_id = ma.fields.UUID(allow_none=True)
    actor_name = ma.fields.String()
    device_id = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    entity = ma.fields.String()
    entity_id = ma.fields.String()
    changes = ma.fields.Method("_changes")

    def _changes(self, entry) -> dict:
        return visible_changes(entry.changes, g.user.role)


class AuditArgsSchema(PageArgsSchema):
    """Filters: an entity (table name such as ``job``) and its id, an actor, a period."""

    entity = ma.fields.String(validate=validate.Regexp(r"^[a-z_]{1,60}$", error="a table name such as job"))
    entity_id = ma.fields.String(validate=validate.Length(min=1, max=40))
    actor_id = ma.fields.UUID()
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()

    @ma.validates_schema
    def _entity_with_id(self, data: dict, **kwargs) -> None:
        if data.get("entity_id") and not data.get("entity"):
            raise ma.ValidationError("name the entity of this id (for example entity=job)", "entity")
