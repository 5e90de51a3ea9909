"""Wire shapes of follow-up calls (R6)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.db import utcnow
from server.followups.models import FollowUpStatus
from server.pagination import PageArgsSchema


class FollowUpSchema(ma.Schema):
    """A call to make: whom, about which visit, by when, and how it went."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID(allow_none=True)
    job_ref = ma.fields.String(attribute="job.ref", allow_none=True)
    job_type = ma.fields.String(attribute="job.job_type", allow_none=True)
    complaint_id = ma.fields.UUID(allow_none=True)
    customer_id = ma.fields.UUID(allow_none=True)
    customer_name = ma.fields.String(attribute="customer.name", allow_none=True)
    customer_phone = ma.fields.String(attribute="customer.phone", allow_none=True)
    kind = ma.fields.String()
    due_at = ma.fields.AwareDateTime()
    overdue = ma.fields.Method("_overdue")
    status = ma.fields.Enum(FollowUpStatus, by_value=True)
    assigned_to_id = ma.fields.UUID(allow_none=True)
    outcome = ma.fields.String()
    satisfaction = ma.fields.Integer(allow_none=True)
    done_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()

    def _overdue(self, task) -> bool:
        return task.status != FollowUpStatus.DONE and task.due_at < utcnow()


class FollowUpArgsSchema(PageArgsSchema):
    """Filters of the follow-up list (default: the calls still to make)."""

    status = ma.fields.List(ma.fields.Enum(FollowUpStatus, by_value=True))
    kind = ma.fields.String(validate=validate.OneOf(["visit_quality", "repair", "complaint"]))
    overdue = ma.fields.Boolean()
    customer_id = ma.fields.UUID()
    job_id = ma.fields.UUID()


class FollowUpOutcomeSchema(ma.Schema):
    """The call's result: done with a satisfaction of 1–5, or the customer was unreachable."""

    status = ma.fields.Enum(
        FollowUpStatus, by_value=True, required=True,
        validate=validate.OneOf([FollowUpStatus.DONE, FollowUpStatus.UNREACHABLE]),
    )
    outcome = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    satisfaction = ma.fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=5))

    @ma.validates_schema
    def _satisfaction_matches_status(self, data: dict, **kwargs) -> None:
        if data.get("status") == FollowUpStatus.DONE and data.get("satisfaction") is None:
            raise ma.ValidationError("the customer's satisfaction from 1 to 5 is required", "satisfaction")
        if data.get("status") == FollowUpStatus.UNREACHABLE and data.get("satisfaction") is not None:
            raise ma.ValidationError("an unreachable customer gave no satisfaction", "satisfaction")
