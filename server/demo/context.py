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
    past: list[Job] = field(default_factory=list)  # every finished visit made (server.demo.households.past_visit)
    booked: dict[tuple[uuid.UUID, dt.date], set[int]] = field(default_factory=dict)  # window hours per technician-day
    _refs: itertools.count = field(default_factory=lambda: itertools.count(1))
    _calendar: object = None

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

    def is_working_day(self, day: dt.date) -> bool:
        """A working day on the company calendar (server.jobs.calendar); Mon–Fri for a year nobody entered."""
        from server.jobs.calendar import CalendarNotEntered, WorkingCalendar

        if self._calendar is None:
            self._calendar = WorkingCalendar(self.company.id)
        try:
            return self._calendar.is_working_day(day)
        except CalendarNotEntered:
            return day.weekday() < 5

    def working_day_on_or_before(self, day: dt.date) -> dt.date:
        """Visits happen on working days: move a weekend or holiday back to the working day before."""
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def working_days_back(self, count: int) -> list[dt.date]:
        """The ``count`` working days before today, the most recent first."""
        days, day = [], self.today
        while len(days) < count:
            day -= dt.timedelta(days=1)
            if self.is_working_day(day):
                days.append(day)
        return days

    def add_working_days(self, start: dt.datetime, count: int) -> dt.datetime:
        """The end (23:59:59 local) of the ``count``-th working day after ``start``'s day, as the server counts
        complaint deadlines (server.jobs.calendar.add_working_days)."""
        from server.jobs.calendar import END_OF_DAY

        day = start.astimezone(self.tz).date()
        while count:
            day += dt.timedelta(days=1)
            count -= self.is_working_day(day)
        return dt.datetime.combine(day, END_OF_DAY, tzinfo=self.tz).astimezone(dt.UTC)

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
