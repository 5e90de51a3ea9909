"""Import every model module so the metadata (and Alembic) sees every table."""

from server.auth.models import ApiToken, Role, User  # noqa: F401
from server.db import AuditEntry, ChangeCounter  # noqa: F401
from server.org.models import Company, Group, Region, ServiceCentre  # noqa: F401
