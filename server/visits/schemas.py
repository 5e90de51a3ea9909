"""Wire shapes of what a visit captures, as the office sees it (R1–R4, R15–R17)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.db import utcnow
from server.pagination import PageArgsSchema
from server.visits.models import HazardSeverity, HazardStatus, QuoteStatus, SignaturePurpose, VisitEventKind
from sync.domain.hazards import is_overdue


class HazardSchema(ma.Schema):
    """A hazard with its deadline, where it is and whether it is overdue (R16)."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    customer_name = ma.fields.String(attribute="customer.name")
    premises_id = ma.fields.UUID()
    address = ma.fields.String(attribute="premises.address")
    district = ma.fields.String(attribute="premises.district")
    severity = ma.fields.Enum(HazardSeverity, by_value=True)
    category = ma.fields.String()
    description = ma.fields.String()
    immediate_action = ma.fields.String()
    photo_sha256 = ma.fields.String(allow_none=True)
    checklist_item_key = ma.fields.String(allow_none=True)
    found_at = ma.fields.AwareDateTime()
    rectify_by = ma.fields.AwareDateTime()
    overdue = ma.fields.Method("_overdue")
    owner = ma.fields.String()
    status = ma.fields.Enum(HazardStatus, by_value=True)
    rectification_job_id = ma.fields.UUID(allow_none=True)
    fixed_confirmed_job_id = ma.fields.UUID(allow_none=True)
    fixed_confirmed_at = ma.fields.AwareDateTime(allow_none=True)
    technician_id = ma.fields.UUID(allow_none=True)
    version = ma.fields.Integer()

    def _overdue(self, hazard) -> bool:
        return is_overdue(hazard.status, hazard.rectify_by, utcnow())


class HazardArgsSchema(PageArgsSchema):
    """Filters of the company's hazard list; ``open`` means not yet confirmed fixed."""

    open = ma.fields.Boolean()
    overdue = ma.fields.Boolean()
    severity = ma.fields.List(ma.fields.Enum(HazardSeverity, by_value=True))
    status = ma.fields.List(ma.fields.Enum(HazardStatus, by_value=True))
    district = ma.fields.String(validate=validate.Length(min=1, max=60))
    customer_id = ma.fields.UUID()


class RectificationJobSchema(ma.Schema):
    """Options of the rectification job made from a hazard."""

    description = ma.fields.String(load_default="", validate=validate.Length(max=4000))
    chargeable = ma.fields.Boolean(load_default=False)
    required_certifications = ma.fields.List(
        ma.fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")),
        load_default=list, validate=validate.Length(max=20),
    )


class ConfirmFixedSchema(ma.Schema):
    """The later visit that confirmed the hazard fixed."""

    job_id = ma.fields.UUID(required=True)


class QuoteLineSchema(ma.Schema):
    """One itemised line of a quote."""

    code = ma.fields.String()
    description = ma.fields.String()
    kind = ma.fields.String()
    qty = ma.fields.Raw()
    unit = ma.fields.String()
    unit_price_cents = ma.fields.Integer()
    amount_cents = ma.fields.Integer()


class QuoteSchema(ma.Schema):
    """A quote; ``approval_valid`` says whether a customer's signature covers its current content (R3)."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    lines = ma.fields.List(ma.fields.Nested(QuoteLineSchema))
    total_cents = ma.fields.Integer()
    currency = ma.fields.String()
    risk_note = ma.fields.String()
    technician_id = ma.fields.UUID(allow_none=True)
    technician_name = ma.fields.String()
    staff_no = ma.fields.String()
    content_hash = ma.fields.String()
    content_hash_valid = ma.fields.Boolean()
    status = ma.fields.Enum(QuoteStatus, by_value=True)
    supersedes_id = ma.fields.UUID(allow_none=True)
    created_on_device_at = ma.fields.AwareDateTime()
    approval_valid = ma.fields.Boolean()
    approved_by_signature_id = ma.fields.UUID(allow_none=True)
    version = ma.fields.Integer()


class SignatureSchema(ma.Schema):
    """A customer's signature: what it was for, the hash it signed, and the image's blob hash."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    purpose = ma.fields.Enum(SignaturePurpose, by_value=True)
    quote_id = ma.fields.UUID(allow_none=True)
    content_hash = ma.fields.String()
    signer_name = ma.fields.String()
    image_sha256 = ma.fields.String(allow_none=True)
    signed_at = ma.fields.AwareDateTime()
    created_at = ma.fields.AwareDateTime()


class CleanupSchema(ma.Schema):
    """A cleanup confirmation (R4)."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    checklist = ma.fields.Dict(keys=ma.fields.String())
    photo_sha256 = ma.fields.String(allow_none=True)
    customer_confirmed = ma.fields.Boolean()
    method = ma.fields.String()
    signature_id = ma.fields.UUID(allow_none=True)
    confirmed_at = ma.fields.AwareDateTime()


class VisitEventSchema(ma.Schema):
    """A moment of the visit: the device's claimed time, when the server got it, the clock offset and
    the corrected time KPIs use."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    technician_id = ma.fields.UUID(allow_none=True)
    kind = ma.fields.Enum(VisitEventKind, by_value=True)
    at = ma.fields.AwareDateTime()
    eta = ma.fields.AwareDateTime(allow_none=True)
    note = ma.fields.String()
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    received_at = ma.fields.AwareDateTime(allow_none=True)
    clock_offset_s = ma.fields.Float(allow_none=True)
    corrected_at = ma.fields.AwareDateTime(allow_none=True)


class FeeSchema(ma.Schema):
    """Money collected on site (R17)."""

    id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    quote_id = ma.fields.UUID(allow_none=True)
    technician_id = ma.fields.UUID(allow_none=True)
    amount_cents = ma.fields.Integer()
    method = ma.fields.String()
    receipt_no = ma.fields.String()
    collected_at = ma.fields.AwareDateTime()


class MeterReadingSchema(ma.Schema):
    """A meter reading or change recorded on site (R15)."""

    id = ma.fields.UUID()
    meter_id = ma.fields.UUID()
    job_id = ma.fields.UUID(allow_none=True)
    kind = ma.fields.String()
    reading = ma.fields.Float()
    serial_seen = ma.fields.String()
    new_serial = ma.fields.String()
    read_at = ma.fields.AwareDateTime()


class NoteSchema(ma.Schema):
    """A note on a job, attributed to its author and side (office or device)."""

    id = ma.fields.UUID(dump_only=True)
    job_id = ma.fields.UUID(dump_only=True)
    author_name = ma.fields.String(dump_only=True)
    source = ma.fields.String(dump_only=True)
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))
    written_at = ma.fields.AwareDateTime(dump_only=True)


class DailyCloseArgsSchema(ma.Schema):
    """The company-local day to close (today when omitted)."""

    day = ma.fields.Date()


class DailyCloseLineSchema(ma.Schema):
    """One technician's takings of the day and how they reconcile with approved quotes (R17)."""

    technician_id = ma.fields.UUID(allow_none=True)
    technician_name = ma.fields.String()
    collections = ma.fields.Integer()
    total_cents = ma.fields.Integer()
    by_method = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    problems = ma.fields.List(ma.fields.String())


class DailyCloseSchema(ma.Schema):
    """The day's close: a line per technician and the company total."""

    day = ma.fields.Date()
    total_cents = ma.fields.Integer()
    reconciled = ma.fields.Boolean()
    technicians = ma.fields.List(ma.fields.Nested(DailyCloseLineSchema))

