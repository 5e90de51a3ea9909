"""Wire shapes of service centres and the company's settings."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.pagination import PageArgsSchema


class ServiceCentreSchema(ma.Schema):
    """A service centre (服务中心) of the caller's company."""

    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    address = ma.fields.String(load_default="", validate=validate.Length(max=255))
    lat = ma.fields.Float(allow_none=True, load_default=None, validate=validate.Range(min=-90, max=90))
    lon = ma.fields.Float(allow_none=True, load_default=None, validate=validate.Range(min=-180, max=180))
    created_at = ma.fields.AwareDateTime(dump_only=True)


class ServiceCentreUpdateSchema(ServiceCentreSchema):
    """Fields of a service centre to change."""

    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    address = ma.fields.String(validate=validate.Length(max=255))
    lat = ma.fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    lon = ma.fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))


class ServiceCentreArgsSchema(PageArgsSchema):
    """?q= a part of the name, plus paging."""

    q = ma.fields.String(validate=validate.Length(min=1, max=100))


class CompanySettingsSchema(ma.Schema):
    """The company's settings: time zone, inspection intervals per category (R7), sync days ahead."""

    id = ma.fields.UUID(dump_only=True)
    code = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    timezone = ma.fields.String(validate=validate.Length(min=1, max=64))
    inspection_interval_months = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=120)),
        validate=validate.Length(min=1),
    )
    sync_days_ahead = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=14))
