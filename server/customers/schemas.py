"""Wire shapes of the household file (R11, R12, R15): customers, premises, meters, appliances, contacts."""

from __future__ import annotations

import copy
import re
from typing import Any

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import validate

from server.customers.models import CustomerCategory, MeterStatus
from server.customers.service import calibration_status, id_number_view, mask
from server.db import utcnow
from server.jobs.models import JobType
from server.org.service import today_for
from server.pagination import PageArgsSchema
from server.visits.models import HazardSeverity, HazardStatus
from server.visits.schemas import SignatureSchema
from sync.domain.jobs import JobStatus

PHONE = validate.Regexp(r"^[0-9+\-() ]{3,40}$", error="digits, spaces and + - ( ) only, 3 to 40 characters")
ACCOUNT_NO = validate.Regexp(r"^[A-Za-z0-9_\-]{1,40}$", error="letters, digits, - and _ only, 1 to 40 characters")
OPTIONAL_PHONE = validate.Regexp(r"^([0-9+\-() ]{3,40})?$", error="empty, or digits, spaces and + - ( ), 3 to 40")
_ID_NUMBER = re.compile(r"[A-Za-z0-9]{0,40}")


def _check_id_number(value: str) -> None:
    # A function, not validate.Regexp: a Regexp would be published as the field's OpenAPI pattern,
    # which the masked value office staff receive ("*…1234") could never match.
    if not _ID_NUMBER.fullmatch(value):
        raise ma.ValidationError("letters and digits only, at most 40")


def update_schema(base: type[ma.Schema], name: str, doc: str, exclude: tuple[str, ...] = ()) -> type[ma.Schema]:
    """A PATCH schema from a create schema: the same loadable fields, none required, no defaults."""
    fields: dict[str, Any] = {}
    for key, f in base._declared_fields.items():
        if f.dump_only or key in exclude:
            continue
        clone = copy.deepcopy(f)
        clone.required = False
        clone.load_default = ma.missing
        fields[key] = clone
    return type(name, (ma.Schema,), {"__doc__": doc, **fields})


class LiveNested(ma.fields.Nested):
    """A nested list that leaves tombstoned (``deleted``) rows out when dumping."""

    def _serialize(self, nested_obj: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if nested_obj is not None:
            nested_obj = [row for row in nested_obj if not getattr(row, "deleted", False)]
        return super()._serialize(nested_obj, attr, obj, **kwargs)


class CustomerContactSchema(ma.Schema):
    """Another person to call about the customer (a relative of an elderly customer, a site manager)."""

    id = ma.fields.UUID(dump_only=True)
    customer_id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    phone = ma.fields.String(required=True, validate=PHONE)
    relation = ma.fields.String(load_default="", validate=validate.Length(max=40))


class ApplianceSchema(ma.Schema):
    """A gas appliance at the premises."""

    id = ma.fields.UUID(dump_only=True)
    premises_id = ma.fields.UUID(dump_only=True)
    kind = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    brand = ma.fields.String(load_default="", validate=validate.Length(max=60))
    model = ma.fields.String(load_default="", validate=validate.Length(max=60))
    installed_on = ma.fields.Date(allow_none=True, load_default=None)


class MeterSchema(ma.Schema):
    """A gas meter with its verification (检定) due date and status: ok, due within 30 days, overdue (R15)."""

    id = ma.fields.UUID(dump_only=True)
    premises_id = ma.fields.UUID(dump_only=True)
    serial = ma.fields.String(required=True, validate=validate.Length(min=1, max=60))
    model = ma.fields.String(load_default="", validate=validate.Length(max=60))
    kind = ma.fields.String(load_default="diaphragm", validate=validate.Length(min=1, max=40))
    installed_on = ma.fields.Date(allow_none=True, load_default=None)
    calibration_due_on = ma.fields.Date(required=True)
    status = ma.fields.Enum(MeterStatus, by_value=True, load_default=MeterStatus.ACTIVE)
    last_reading = ma.fields.Float(dump_only=True, allow_none=True)
    last_read_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    calibration_status = ma.fields.Function(
        lambda m: calibration_status(m.calibration_due_on, today_for(m.company_id)), dump_only=True
    )
    days_to_calibration = ma.fields.Function(
        lambda m: (m.calibration_due_on - today_for(m.company_id)).days, dump_only=True
    )


class PremisesSchema(ma.Schema):
    """An address gas is supplied to, with its meters and appliances (they may be given when it is created)."""

    id = ma.fields.UUID(dump_only=True)
    customer_id = ma.fields.UUID(dump_only=True)
    address = ma.fields.String(required=True, validate=validate.Length(min=1, max=255))
    district = ma.fields.String(load_default="", validate=validate.Length(max=60))
    lat = ma.fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = ma.fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    access_notes = ma.fields.String(load_default="", validate=validate.Length(max=255))
    meters = LiveNested(MeterSchema, many=True, load_default=list)
    appliances = LiveNested(ApplianceSchema, many=True, load_default=list)


class PremisesSummarySchema(ma.Schema):
    """Where a customer is supplied (for lists)."""

    id = ma.fields.UUID()
    address = ma.fields.String()
    district = ma.fields.String()


class CustomerSchema(ma.Schema):
    """A customer's own fields. ``id_number`` is shown in full to admins only, masked to office staff,
    and never to technicians (R5, R19)."""

    id = ma.fields.UUID(dump_only=True)
    account_no = ma.fields.String(required=True, validate=ACCOUNT_NO)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = ma.fields.Enum(CustomerCategory, by_value=True, required=True)
    phone = ma.fields.String(load_default="", validate=OPTIONAL_PHONE)
    id_number = ma.fields.String(
        load_default="", validate=_check_id_number,
        metadata={"description": "letters and digits, at most 40; masked (*…1234) for non-admins, absent for technicians"},
    )
    special_care = ma.fields.Boolean(load_default=False)
    special_care_reason = ma.fields.String(load_default="", validate=validate.Length(max=200))
    notes = ma.fields.String(load_default="", validate=validate.Length(max=4000))
    version = ma.fields.Integer(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)

    @ma.post_dump
    def _protect_id_number(self, data: dict, **kwargs: Any) -> dict:
        role = g.user.role if has_request_context() and "user" in g else None
        view = id_number_view(role)
        if "id_number" in data:
            if view == "hidden":
                del data["id_number"]
            elif view == "masked":
                data["id_number"] = mask(data["id_number"] or "")
        return data


class CustomerCreateSchema(CustomerSchema):
    """A new household, optionally with its premises (meters, appliances) and contacts."""

    premises = ma.fields.List(ma.fields.Nested(PremisesSchema), load_default=list, validate=validate.Length(max=20))
    contacts = ma.fields.List(ma.fields.Nested(CustomerContactSchema), load_default=list, validate=validate.Length(max=20))


CustomerUpdateSchema = update_schema(CustomerSchema, "CustomerUpdateSchema", "Fields of a customer to change.")
PremisesUpdateSchema = update_schema(
    PremisesSchema, "PremisesUpdateSchema", "Fields of a premises to change (meters and appliances have their own).",
    exclude=("meters", "appliances"),
)
MeterUpdateSchema = update_schema(MeterSchema, "MeterUpdateSchema", "Fields of a meter to change.")
ApplianceUpdateSchema = update_schema(ApplianceSchema, "ApplianceUpdateSchema", "Fields of an appliance to change.")
CustomerContactUpdateSchema = update_schema(CustomerContactSchema, "CustomerContactUpdateSchema", "Fields of a contact to change.")


class CustomerListItemSchema(CustomerSchema):
    """A customer in a list, with the addresses supplied."""

    premises = LiveNested(PremisesSummarySchema, many=True, dump_only=True)


class SpecialCareSchema(CustomerListItemSchema):
    """A customer on the special-care register (R11), with the people to call."""

    contacts = LiveNested(CustomerContactSchema, many=True, dump_only=True)


class CustomerDetailSchema(CustomerSchema):
    """A customer with premises (meters, appliances) and contacts."""

    premises = LiveNested(PremisesSchema, many=True, dump_only=True)
    contacts = LiveNested(CustomerContactSchema, many=True, dump_only=True)


class HouseholdTechnicianSchema(ma.Schema):
    """Who did the work: name and staff number (工号)."""

    id = ma.fields.UUID()
    name = ma.fields.String()
    staff_no = ma.fields.String()


def _outcome(job: Any) -> str:
    """completed / could_not_complete / cancelled / closed / open: how the visit ended, if it did."""
    if job.status == JobStatus.CANCELLED:
        return "cancelled"
    if job.completed_at is not None and job.status in (JobStatus.COMPLETED, JobStatus.CLOSED):
        return "completed"
    if job.status == JobStatus.COULD_NOT_COMPLETE or job.could_not_complete_reason:
        return "could_not_complete"
    return "closed" if job.status == JobStatus.CLOSED else "open"


def _outcome_note(job: Any) -> str:
    if job.status == JobStatus.CANCELLED:
        return job.cancelled_reason or ""
    if job.could_not_complete_reason:
        return " ".join(x for x in (job.could_not_complete_reason, job.could_not_complete_note) if x)
    return ""


class JobHistorySchema(ma.Schema):
    """A job at the household: type, status, window, technician, outcome."""

    id = ma.fields.UUID()
    ref = ma.fields.String()
    job_type = ma.fields.Enum(JobType, by_value=True)
    status = ma.fields.Enum(JobStatus, by_value=True)
    priority = ma.fields.Integer()
    premises_id = ma.fields.UUID()
    window_start = ma.fields.AwareDateTime(allow_none=True)
    window_end = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    technician = ma.fields.Nested(HouseholdTechnicianSchema, allow_none=True)
    outcome = ma.fields.Function(_outcome)
    outcome_note = ma.fields.Function(_outcome_note)
    satisfaction = ma.fields.Integer(allow_none=True)


class HouseholdHazardSchema(ma.Schema):
    """An open hazard at the household with its rectification deadline (R16)."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    premises_id = ma.fields.UUID()
    severity = ma.fields.Enum(HazardSeverity, by_value=True)
    category = ma.fields.String()
    description = ma.fields.String()
    status = ma.fields.Enum(HazardStatus, by_value=True)
    owner = ma.fields.String()
    found_at = ma.fields.AwareDateTime()
    rectify_by = ma.fields.AwareDateTime()
    overdue = ma.fields.Function(lambda h: h.rectify_by < utcnow())
    rectification_job_id = ma.fields.UUID(allow_none=True)


class HouseholdInspectionSchema(ma.Schema):
    """A completed safety inspection."""

    job_id = ma.fields.UUID(attribute="job.id")
    ref = ma.fields.String(attribute="job.ref")
    premises_id = ma.fields.UUID(attribute="job.premises_id")
    completed_at = ma.fields.AwareDateTime(attribute="job.completed_at")
    technician = ma.fields.Nested(HouseholdTechnicianSchema, attribute="job.technician", allow_none=True)
    hazards_found = ma.fields.Integer()


class HouseholdInspectionsSchema(ma.Schema):
    """Completed safety inspections, the latest first, and the next one due by the company's interval (R7)."""

    records = ma.fields.List(ma.fields.Nested(HouseholdInspectionSchema))
    last_completed_at = ma.fields.AwareDateTime(allow_none=True)
    next_due_on = ma.fields.Date(allow_none=True)
    interval_months = ma.fields.Integer()


class HouseholdHistorySchema(ma.Schema):
    """The household's history: the latest jobs (``jobs_total`` counts all), open hazards, signatures, inspections."""

    jobs = ma.fields.List(ma.fields.Nested(JobHistorySchema))
    jobs_total = ma.fields.Integer()
    open_hazards = ma.fields.List(ma.fields.Nested(HouseholdHazardSchema))
    signatures = ma.fields.List(ma.fields.Nested(SignatureSchema))
    inspections = ma.fields.Nested(HouseholdInspectionsSchema)


class HouseholdFileSchema(ma.Schema):
    """The whole household file (一户一档, R12)."""

    customer = ma.fields.Nested(CustomerDetailSchema)
    history = ma.fields.Nested(HouseholdHistorySchema)


class MeterOwnerSchema(ma.Schema):
    """Whose meter it is."""

    id = ma.fields.UUID()
    account_no = ma.fields.String()
    name = ma.fields.String()
    phone = ma.fields.String()
    special_care = ma.fields.Boolean()


class MeterDueSchema(MeterSchema):
    """A meter due for verification, with where it is and whose it is."""

    premises = ma.fields.Nested(PremisesSummarySchema, dump_only=True)
    customer = ma.fields.Nested(MeterOwnerSchema, attribute="premises.customer", dump_only=True)


class CustomerArgsSchema(PageArgsSchema):
    """Search and filters of the customer list."""

    q = ma.fields.String(validate=validate.Length(min=1, max=100))  # name, account number, phone or address
    category = ma.fields.Enum(CustomerCategory, by_value=True)
    special_care = ma.fields.Boolean()
    district = ma.fields.String(validate=validate.Length(min=1, max=60))


class SpecialCareArgsSchema(PageArgsSchema):
    """?district=, plus paging."""

    district = ma.fields.String(validate=validate.Length(min=1, max=60))


class MetersDueArgsSchema(SpecialCareArgsSchema):
    """?within_days= (default 30): overdue meters and those due within that many days."""

    within_days = ma.fields.Integer(load_default=30, validate=validate.Range(min=0, max=366))
