"""Wire shapes of the notification outbox and outage notices (R2, R13)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.notifications.models import NotificationStatus
from server.pagination import PageArgsSchema


class NotificationSchema(ma.Schema):
    """A message to a customer and where its delivery stands."""

    id = ma.fields.UUID()
    customer_id = ma.fields.UUID(allow_none=True)
    job_id = ma.fields.UUID(allow_none=True)
    channel = ma.fields.String()
    kind = ma.fields.String()
    recipient = ma.fields.String()
    body = ma.fields.String()
    status = ma.fields.Enum(NotificationStatus, by_value=True)
    attempts = ma.fields.Integer()
    sent_at = ma.fields.AwareDateTime(allow_none=True)
    error = ma.fields.String()
    notice_minutes = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class NotificationArgsSchema(PageArgsSchema):
    """Filters of the outbox list."""

    status = ma.fields.List(ma.fields.Enum(NotificationStatus, by_value=True))
    kind = ma.fields.String(validate=validate.Length(min=1, max=30))
    customer_id = ma.fields.UUID()
    job_id = ma.fields.UUID()


class OutageNoticeSchema(ma.Schema):
    """A planned outage of a district, announced in advance (R13)."""

    id = ma.fields.UUID(dump_only=True)
    district = ma.fields.String(required=True, validate=validate.Length(min=1, max=60))
    area_description = ma.fields.String(load_default="", validate=validate.Length(max=255))
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    reason = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    announced_at = ma.fields.AwareDateTime(dump_only=True)
    notified = ma.fields.Integer(dump_only=True)
    version = ma.fields.Integer(dump_only=True)


class OutageArgsSchema(PageArgsSchema):
    """Filters of the outage list: a district; ``current`` = not yet ended."""

    district = ma.fields.String(validate=validate.Length(min=1, max=60))
    current = ma.fields.Boolean()
