"""What the demo's loaders share: the session, a seeded random source, the company and its clock."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.auth.models import User
from server.customers.models import Appliance, Customer, Meter, Premises
from server.jobs.models import Job
from server.org.models import Company, ServiceCentre
from server.people.models import Technician

# The same households, names and plans on every load; only the dates follow today.
SEED = 20260601


@dataclass
class Household:
    """One demo customer with its file, the district and centre it belongs to, and its inspection state."""

    customer: Customer
    premises: Premises
    district: str
    centre: int  # index into Demo.centres
    meters: list[Meter] = field(default_factory=list)
    appliances: list[Appliance] = field(default_factory=list)
    has_water_heater: bool = False
    last_inspection: dt.date | None = None
    last_job: Job | None = None
    inspection_due: dt.date | None = None  # last inspection + the category's interval (today if never)


@dataclass
class Demo:
    """The state of one load."""

    session: Session
    company: Company
    tz: ZoneInfo
    now: dt.datetime
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    centres: list[ServiceCentre] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    technicians: list[Technician] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    _refs: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def today(self) -> dt.date:
        """Today in the company's time zone."""
        return self.now.astimezone(self.tz).date()

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """The UTC instant of a local wall-clock time of the company."""
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz).astimezone(dt.UTC)

    def ago(self, **delta: float) -> dt.datetime:
        """Now minus a timedelta, in UTC."""
        return self.now - dt.timedelta(**delta)

    def ref(self, day: dt.date) -> str:
        """A work-order number such as GD-20261127-0042 (unique within the demo company)."""
        return f"GD-{day:%Y%m%d}-{next(self._refs):04d}"

    def cid(self) -> uuid.UUID:
        """The demo company's id."""
        return self.company.id

    def flush(self, rows: list) -> None:
        """Add and flush one stage, so the next stage's foreign keys find their rows."""
        self.session.add_all(rows)
        self.session.flush()
