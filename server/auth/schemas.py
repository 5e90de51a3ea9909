"""Wire shapes of sign-in and users."""

import marshmallow as ma
from marshmallow import validate

from server.auth.models import Role


class LoginSchema(ma.Schema):
    """Credentials; a tablet also names its device so its token can be revoked alone."""

    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    device_id = ma.fields.String(validate=validate.Length(min=1, max=80))


class UserSchema(ma.Schema):
    """A user as others see them (never the password hash)."""

    id = ma.fields.UUID(dump_only=True)
    company_id = ma.fields.UUID(dump_only=True)
    username = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    role = ma.fields.Enum(Role, by_value=True, dump_only=True)
    service_centre_id = ma.fields.UUID(dump_only=True, allow_none=True)


class TokenSchema(ma.Schema):
    """An issued bearer token."""

    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(dump_default="Bearer")
    expires_at = ma.fields.AwareDateTime(required=True)
    user = ma.fields.Nested(UserSchema)


class RevokeDeviceSchema(ma.Schema):
    """A lost tablet to cut off."""

    device_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))


class RevokedSchema(ma.Schema):
    """How many tokens were revoked."""

    revoked = ma.fields.Integer(required=True)
