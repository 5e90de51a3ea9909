"""Wire shapes of sign-in and users."""

import marshmallow as ma
from marshmallow import validate

from server.auth.models import Role
from server.extensions import db
from server.org.models import Company


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
    # The company's time zone (IANA name): a tablet shows every window and deadline in it.
    timezone = ma.fields.Method("_timezone", dump_only=True)

    def _timezone(self, user) -> str:  # noqa: ANN001 (a User)
        company = db.session.get(Company, user.company_id)  # the identity map first: usually no query
        return company.timezone if company is not None else "Asia/Shanghai"


class TokenSchema(ma.Schema):
    """An issued bearer token."""

    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(dump_default="Bearer")
    expires_at = ma.fields.AwareDateTime(required=True)
    user = ma.fields.Nested(UserSchema)


class RevokeDeviceSchema(ma.Schema):
    """A lost tablet to cut off; ``wipe`` (default true: reported lost) makes its next contact erase it."""

    device_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    wipe = ma.fields.Boolean(load_default=True)


class LastMutationSchema(ma.Schema):
    """The last change the server received from a device."""

    collection = ma.fields.String(required=True)
    row_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    applied_at = ma.fields.AwareDateTime(required=True)


class RevokedDeviceSchema(ma.Schema):
    """What the server knows of a revoked tablet: what it last sent, so the dispatcher knows what the
    tablet may still have held unsent (everything made after ``last_seen_at`` is lost with it)."""

    device_id = ma.fields.String(required=True)
    known = ma.fields.Boolean(required=True)
    technician_id = ma.fields.UUID(allow_none=True, dump_default=None)
    last_seen_at = ma.fields.AwareDateTime(allow_none=True, dump_default=None)
    mutations_received = ma.fields.Integer(dump_default=0)
    last_mutation = ma.fields.Nested(LastMutationSchema, allow_none=True, dump_default=None)


class RevokedSchema(ma.Schema):
    """How many tokens were revoked, whether the tablet will erase itself, and what it last sent."""

    revoked = ma.fields.Integer(required=True)
    wipe = ma.fields.Boolean(required=True)
    device = ma.fields.Nested(RevokedDeviceSchema, required=True)
    unsent = ma.fields.String(required=True)
