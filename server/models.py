"""Import every model module so the metadata (and Alembic) sees every table."""

from server.auth.models import ApiToken, Role, User  # noqa: F401
from server.checklists.models import ChecklistAnswer, ChecklistTemplate  # noqa: F401
from server.customers.models import Appliance, Customer, CustomerContact, Meter, Premises  # noqa: F401
from server.db import AuditEntry, ChangeCounter  # noqa: F401
from server.followups.models import FollowUpTask  # noqa: F401
from server.jobs.models import Appointment, CalendarDay, Complaint, Job, ServiceCall  # noqa: F401
from server.notifications.models import Notification, OutageNotice  # noqa: F401
from server.org.models import Company, Group, Region, ServiceCentre  # noqa: F401
from server.people.models import Certification, Technician  # noqa: F401
from server.reports.models import ServiceReport  # noqa: F401
from server.sync.models import AppliedMutation, Device, DeviceScope, SyncConflict  # noqa: F401
from server.visits.models import (  # noqa: F401
    Blob,
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    MeterReading,
    Note,
    PriceItem,
    Quote,
    Signature,
    VisitEvent,
)
