"""Wire shapes of jobs, assignment, appointments and the clocks (R1, R2, R8)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.jobs.models import AppointmentStatus, FaultKind, JobSource, JobType, Priority
from server.pagination import PageArgsSchema
from sync.domain.jobs import JobStatus

_CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="a lower-case code such as gas_safety")


def _codes() -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=_CODE), validate=validate.Length(max=20))


class JobCreateSchema(ma.Schema):
    """A new job: what, for whom, where, how urgent, what the technician needs."""

    job_type = ma.fields.Enum(JobType, by_value=True, required=True)
    customer_id = ma.fields.UUID(required=True)
    premises_id = ma.fields.UUID(load_default=None)
    priority = ma.fields.Integer(load_default=None, validate=validate.Range(min=Priority.EMERGENCY, max=Priority.LOW))
    description = ma.fields.String(load_default="", validate=validate.Length(max=4000))
    fault_kind = ma.fields.Enum(FaultKind, by_value=True, load_default=None)
    required_certifications = _codes()
    required_skills = _codes()
    duration_minutes = ma.fields.Integer(load_default=45, validate=validate.Range(min=5, max=12 * 60))
    chargeable = ma.fields.Boolean(load_default=False)
    source = ma.fields.Enum(JobSource, by_value=True, load_default=JobSource.OFFICE)
    service_centre_id = ma.fields.UUID(load_default=None)
    meter_id = ma.fields.UUID(load_default=None)


class JobPlanSchema(ma.Schema):
    """Plan fields dispatch may change (the window and the technician have their own endpoints)."""

    priority = ma.fields.Integer(validate=validate.Range(min=Priority.EMERGENCY, max=Priority.LOW))
    description = ma.fields.String(validate=validate.Length(max=4000))
    required_certifications = _codes()
    required_skills = _codes()
    duration_minutes = ma.fields.Integer(validate=validate.Range(min=5, max=12 * 60))
    chargeable = ma.fields.Boolean()
    service_centre_id = ma.fields.UUID(allow_none=True)
    planned_eta = ma.fields.AwareDateTime(allow_none=True)

    @ma.validates_schema
    def _not_empty(self, data: dict, **kwargs) -> None:
        if not data:
            raise ma.ValidationError("name at least one field to change", "_schema")


class ClockSchema(ma.Schema):
    """One SLA clock of a job."""

    name = ma.fields.String()
    deadline = ma.fields.AwareDateTime()
    met_at = ma.fields.AwareDateTime(allow_none=True)
    seconds_left = ma.fields.Integer(allow_none=True)
    breached = ma.fields.Boolean()


class JobSchema(ma.Schema):
    """A job as the office sees it."""

    id = ma.fields.UUID()
    ref = ma.fields.String()
    version = ma.fields.Integer()
    job_type = ma.fields.Enum(JobType, by_value=True)
    source = ma.fields.Enum(JobSource, by_value=True)
    priority = ma.fields.Integer()
    status = ma.fields.Enum(JobStatus, by_value=True)
    customer_id = ma.fields.UUID()
    premises_id = ma.fields.UUID()
    service_centre_id = ma.fields.UUID(allow_none=True)
    description = ma.fields.String()
    fault_kind = ma.fields.Enum(FaultKind, by_value=True, allow_none=True)
    required_certifications = ma.fields.List(ma.fields.String())
    required_skills = ma.fields.List(ma.fields.String())
    duration_minutes = ma.fields.Integer()
    chargeable = ma.fields.Boolean()
    technician_id = ma.fields.UUID(allow_none=True)
    window_start = ma.fields.AwareDateTime(allow_none=True)
    window_end = ma.fields.AwareDateTime(allow_none=True)
    route_order = ma.fields.Integer(allow_none=True)
    planned_eta = ma.fields.AwareDateTime(allow_none=True)
    respond_by = ma.fields.AwareDateTime(allow_none=True)
    fix_by = ma.fields.AwareDateTime(allow_none=True)
    eta = ma.fields.AwareDateTime(allow_none=True)
    arrived_at = ma.fields.AwareDateTime(allow_none=True)
    work_started_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    complaint_id = ma.fields.UUID(allow_none=True)
    service_call_id = ma.fields.UUID(allow_none=True)
    meter_id = ma.fields.UUID(allow_none=True)
    cancelled_reason = ma.fields.String()
    could_not_complete_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class JobListArgsSchema(PageArgsSchema):
    """Filters of the job list; dates are the company's local dates of the window start."""

    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    status = ma.fields.List(ma.fields.Enum(JobStatus, by_value=True))
    job_type = ma.fields.List(ma.fields.Enum(JobType, by_value=True))
    technician_id = ma.fields.UUID()
    service_centre_id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    unassigned = ma.fields.Boolean()
    q = ma.fields.String(validate=validate.Length(min=1, max=100))

    @ma.validates_schema
    def _range(self, data: dict, **kwargs) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ma.ValidationError("must not be before date_from", "date_to")


class StatusChangeSchema(ma.Schema):
    """A status change; cancelling or could-not-complete needs a reason."""

    status = ma.fields.Enum(JobStatus, by_value=True, required=True)
    reason = ma.fields.String(load_default="", validate=validate.Length(max=200))


class AssignSchema(ma.Schema):
    """The technician to assign."""

    technician_id = ma.fields.UUID(required=True)


class RouteSchema(ma.Schema):
    """A technician's day in the order to visit it."""

    technician_id = ma.fields.UUID(required=True)
    day = ma.fields.Date(required=True)
    job_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=validate.Length(min=1, max=200))


class RouteResultSchema(ma.Schema):
    """The technician's whole route of the day after the change."""

    jobs = ma.fields.List(ma.fields.Nested(JobSchema))


class WindowSchema(ma.Schema):
    """A window agreed with the customer; changing an agreed one needs a reason."""

    window_start = ma.fields.AwareDateTime(required=True)
    window_end = ma.fields.AwareDateTime(required=True)
    agreed_with = ma.fields.String(load_default="", validate=validate.Length(max=80))
    reason = ma.fields.String(load_default="", validate=validate.Length(max=200))


class CancelAppointmentSchema(ma.Schema):
    """Why the appointment is cancelled (the customer is told)."""

    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class AppointmentSchema(ma.Schema):
    """An agreed window and, once ended, how much notice the customer got (R2)."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    job_ref = ma.fields.Function(lambda a: a.job.ref)
    window_start = ma.fields.AwareDateTime()
    window_end = ma.fields.AwareDateTime()
    status = ma.fields.Enum(AppointmentStatus, by_value=True)
    agreed_with = ma.fields.String()
    agreed_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    end_reason = ma.fields.String()
    notice_minutes = ma.fields.Integer(allow_none=True)
    short_notice = ma.fields.Boolean()


class PeriodArgsSchema(PageArgsSchema):
    """An optional period of time (aware timestamps)."""

    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()


class JobClocksSchema(ma.Schema):
    """A job with its SLA clocks, for the dispatcher's countdown view (R8)."""

    job = ma.fields.Nested(JobSchema)
    clocks = ma.fields.List(ma.fields.Nested(ClockSchema))
