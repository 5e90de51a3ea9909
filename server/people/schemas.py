"""Wire shapes of technicians and their certifications (R5, R14)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.org.service import today_for
from server.pagination import PageArgsSchema

CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="a lower-case code such as gas_safety")


class CertificationSchema(ma.Schema):
    """A qualification held until it expires; ``valid_today`` uses the company's local date."""

    id = ma.fields.UUID(dump_only=True)
    technician_id = ma.fields.UUID(dump_only=True)
    kind = ma.fields.String(required=True, validate=CODE)
    number = ma.fields.String(load_default="", validate=validate.Length(max=60))
    issued_on = ma.fields.Date(required=True)
    expires_on = ma.fields.Date(required=True)
    valid_today = ma.fields.Function(lambda c: c.valid_on(today_for(c.company_id)), dump_only=True)

    @ma.validates_schema
    def _expiry_after_issue(self, data: dict, **kwargs) -> None:
        if data.get("issued_on") and data.get("expires_on") and data["expires_on"] < data["issued_on"]:
            raise ma.ValidationError("must not be before issued_on", "expires_on")


class RenewalSchema(ma.Schema):
    """A renewed certificate: the new expiry, and its issue date and number when they changed."""

    expires_on = ma.fields.Date(required=True)
    issued_on = ma.fields.Date()
    number = ma.fields.String(validate=validate.Length(max=60))


class CertificationArgsSchema(PageArgsSchema):
    """?kind= and ?valid_today=, plus paging."""

    kind = ma.fields.String(validate=CODE)
    valid_today = ma.fields.Boolean()


class TechnicianSchema(ma.Schema):
    """A technician: name and staff number (工号) shown to customers (R5), skills, shift, start point."""

    id = ma.fields.UUID(dump_only=True)
    staff_no = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    phone = ma.fields.String(load_default="", validate=validate.Length(max=40))
    skills = ma.fields.List(ma.fields.String(validate=CODE), load_default=list, validate=validate.Length(max=30))
    start_lat = ma.fields.Float(allow_none=True, load_default=None, validate=validate.Range(min=-90, max=90))
    start_lon = ma.fields.Float(allow_none=True, load_default=None, validate=validate.Range(min=-180, max=180))
    shift_start = ma.fields.Time(load_default=None)
    shift_end = ma.fields.Time(load_default=None)
    service_centre_id = ma.fields.UUID(allow_none=True, load_default=None)
    user_id = ma.fields.UUID(allow_none=True, load_default=None)
    active = ma.fields.Boolean(load_default=True)
    certifications = ma.fields.List(ma.fields.Nested(CertificationSchema), load_default=list)
    version = ma.fields.Integer(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class TechnicianUpdateSchema(ma.Schema):
    """Fields of a technician to change (certifications have their own endpoints)."""

    staff_no = ma.fields.String(validate=validate.Length(min=1, max=40))
    name = ma.fields.String(validate=validate.Length(min=1, max=80))
    phone = ma.fields.String(validate=validate.Length(max=40))
    skills = ma.fields.List(ma.fields.String(validate=CODE), validate=validate.Length(max=30))
    start_lat = ma.fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    start_lon = ma.fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    shift_start = ma.fields.Time()
    shift_end = ma.fields.Time()
    service_centre_id = ma.fields.UUID(allow_none=True)
    user_id = ma.fields.UUID(allow_none=True)
    active = ma.fields.Boolean()


class TechnicianArgsSchema(PageArgsSchema):
    """Filters of the technician list, plus paging."""

    q = ma.fields.String(validate=validate.Length(min=1, max=100))  # name, staff number or phone
    service_centre_id = ma.fields.UUID()
    active = ma.fields.Boolean()
    skill = ma.fields.String(validate=CODE)
    certified = ma.fields.String(validate=CODE)  # holds this certification, valid today
