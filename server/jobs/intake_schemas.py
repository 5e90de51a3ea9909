"""Wire shapes of hotline calls (R9), complaints (R10) and the working-day calendar."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.db import utcnow
from server.jobs.models import CallCategory, ComplaintStatus, FaultKind
from server.jobs.schemas import JobSchema
from server.pagination import PageArgsSchema

_NAME = validate.Length(min=1, max=80)
_PHONE = validate.Regexp(r"^\+?[0-9][0-9 \-]{4,38}$", error="a phone number: digits, spaces, dashes, optional +")


class CallCreateSchema(ma.Schema):
    """A hotline call as the operator records it."""

    caller_name = ma.fields.String(required=True, validate=_NAME)
    caller_phone = ma.fields.String(required=True, validate=_PHONE)
    category = ma.fields.Enum(CallCategory, by_value=True, required=True)
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))
    customer_id = ma.fields.UUID(load_default=None)
    premises_id = ma.fields.UUID(load_default=None)
    fault_kind = ma.fields.Enum(FaultKind, by_value=True, load_default=None)


class CallAnswerSchema(ma.Schema):
    """What the caller was told."""

    result = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))


def _seconds_left(row) -> int | None:
    if getattr(row, "answered_at", None) is not None:
        return None
    return int((row.answer_by - utcnow()).total_seconds())


class CallSchema(ma.Schema):
    """A recorded call with its answer deadline; ``seconds_left`` < 0 means overdue."""

    id = ma.fields.UUID()
    received_at = ma.fields.AwareDateTime()
    caller_name = ma.fields.String()
    caller_phone = ma.fields.String()
    customer_id = ma.fields.UUID(allow_none=True)
    category = ma.fields.Enum(CallCategory, by_value=True)
    reason = ma.fields.String()
    answer_by = ma.fields.AwareDateTime()
    answered_at = ma.fields.AwareDateTime(allow_none=True)
    result = ma.fields.String()
    seconds_left = ma.fields.Function(_seconds_left)
    answered_late = ma.fields.Function(lambda c: c.answered_at is not None and c.answered_at > c.answer_by)


class CallCreatedSchema(ma.Schema):
    """The call and, for repair/emergency calls, the job it created."""

    call = ma.fields.Nested(CallSchema)
    job = ma.fields.Nested(JobSchema, allow_none=True)


class CallListArgsSchema(PageArgsSchema):
    """Open calls by default; ``all=true`` includes answered ones."""

    all = ma.fields.Boolean(load_default=False)
    category = ma.fields.Enum(CallCategory, by_value=True)


class ComplaintCreateSchema(ma.Schema):
    """A complaint as customer service records it; confidential unless said otherwise."""

    complainant_name = ma.fields.String(required=True, validate=_NAME)
    complainant_phone = ma.fields.String(load_default="", validate=validate.Length(max=40))
    summary = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    details = ma.fields.String(load_default="", validate=validate.Length(max=8000))
    confidential = ma.fields.Boolean(load_default=True)
    involved_technician_ids = ma.fields.List(ma.fields.UUID(), load_default=list, validate=validate.Length(max=20))
    customer_id = ma.fields.UUID(load_default=None)
    channel = ma.fields.String(load_default="hotline", validate=validate.OneOf(["hotline", "counter", "web", "letter", "other"]))
    received_at = ma.fields.AwareDateTime(load_default=None)


class ComplaintSchema(ma.Schema):
    """A complaint with everything in it (served to admin, customer service and dispatch only)."""

    id = ma.fields.UUID()
    customer_id = ma.fields.UUID(allow_none=True)
    received_at = ma.fields.AwareDateTime()
    channel = ma.fields.String()
    complainant_name = ma.fields.String()
    complainant_phone = ma.fields.String()
    summary = ma.fields.String()
    details = ma.fields.String()
    confidential = ma.fields.Boolean()
    involved_technician_ids = ma.fields.List(ma.fields.String())
    answer_by = ma.fields.AwareDateTime()
    extended_until = ma.fields.AwareDateTime(allow_none=True)
    extension_reason = ma.fields.String()
    deadline = ma.fields.Function(lambda c: (c.extended_until or c.answer_by).isoformat())
    status = ma.fields.Enum(ComplaintStatus, by_value=True)
    answered_at = ma.fields.AwareDateTime(allow_none=True)
    answer = ma.fields.String()


class ComplaintRowSchema(ma.Schema):
    """A complaint in the list, with working days left (None when answered or the calendar is unknown)."""

    complaint = ma.fields.Nested(ComplaintSchema)
    working_days_left = ma.fields.Integer(allow_none=True)


class ComplaintListArgsSchema(PageArgsSchema):
    """Filter by status (open by default)."""

    status = ma.fields.List(ma.fields.Enum(ComplaintStatus, by_value=True), load_default=lambda: [ComplaintStatus.OPEN])


class ExtensionSchema(ma.Schema):
    """An extension agreed with the complainant."""

    until = ma.fields.AwareDateTime(required=True)
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))


class ComplaintAnswerSchema(ma.Schema):
    """The answer given to the complainant."""

    answer = ma.fields.String(required=True, validate=validate.Length(min=1, max=8000))


class ComplaintVisitSchema(ma.Schema):
    """A visit to handle the complaint on site."""

    customer_id = ma.fields.UUID(load_default=None)
    premises_id = ma.fields.UUID(load_default=None)
    required_certifications = ma.fields.List(
        ma.fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")), load_default=list
    )
    priority = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=4))


class CalendarDaySchema(ma.Schema):
    """An exception to the Mon–Fri week: a holiday on a weekday, or a weekend day worked."""

    day = ma.fields.Date(required=True)
    working = ma.fields.Boolean(required=True)
    note = ma.fields.String(load_default="", validate=validate.Length(max=80))
    source = ma.fields.String(dump_only=True)


class CalendarYearInSchema(ma.Schema):
    """A year's announced calendar: every holiday and every make-up working day."""

    days = ma.fields.List(ma.fields.Nested(CalendarDaySchema), required=True, validate=validate.Length(min=1, max=366))


class CalendarYearSchema(ma.Schema):
    """A page of a year's exceptions; ``known`` false means working days of the year cannot be told."""

    year = ma.fields.Integer()
    known = ma.fields.Boolean()
    items = ma.fields.List(ma.fields.Nested(CalendarDaySchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()


class AddWorkingDaysArgsSchema(ma.Schema):
    """A start time and a number of working days."""

    start = ma.fields.AwareDateTime(required=True)
    n = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=250))


class DeadlineSchema(ma.Schema):
    """The deadline ``n`` working days after ``start`` (end of that working day, local time)."""

    start = ma.fields.AwareDateTime()
    n = ma.fields.Integer()
    deadline = ma.fields.AwareDateTime()
