"""The company's working-day calendar: which days count for "5 working days" (R10) and similar.

Where working days come from, in order:

1. the company's own ``CalendarDay`` rows (an announced holiday, or a weekend made a working day);
2. for years the ``holidays`` package actually knows, ``holidays.China`` with its adjusted
   working days (调休): ``is_working_day`` counts the announced make-up Saturdays/Sundays
   (``weekend_workdays``) as working days and the substituted days off as holidays. The financial
   calendars (``XSHG``/``XSHE``) are not used: exchanges stay closed on make-up weekend days;
3. nothing else. ``holidays.China`` answers for any year, but for a year after the last State
   Council notice it has it extrapolates (fixed-date festivals, no 调休), which would move a
   complaint deadline silently by days. A year the package does not know and the company has not
   entered raises ``CalendarNotEntered`` (409 ``calendar_not_entered``) instead of guessing.

A year counts as *entered* by the company once it has at least one ``CalendarDay`` row: the admin
enters the whole announced calendar of a year at once (``set_year``), and every real Chinese year
has holidays, so an entered year is never empty.

Deadlines end at the end of the working day in the company's time zone: 23:59:59 local time, so
an answer any time on the last working day is on time. The day a clock starts on never counts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
from holidays.countries.china import ChinaStaticHolidays

from server.errors import ApiError, not_found
from server.extensions import db
from server.jobs.models import CalendarDay
from server.org.models import Company

END_OF_DAY = dt.time(23, 59, 59)


class CalendarNotEntered(ApiError):
    """A working-day count reached a year nobody has entered and the package does not know."""

    def __init__(self, year: int) -> None:
        super().__init__(
            409,
            "calendar_not_entered",
            f"calendar for {year} not entered: an admin must enter the announced working calendar for {year}",
            details={"year": year},
        )
        self.year = year


@cache
def package_years() -> range:
    """The years whose Chinese working calendar (holidays and 调休) the ``holidays`` package knows."""
    announced = sorted(ChinaStaticHolidays.special_public_holidays)
    return range(announced[0], announced[-1] + 1)


@cache
def _package_calendar(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def company_zone(company_id: uuid.UUID) -> ZoneInfo:
    """The company's time zone (Asia/Shanghai in the demo)."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise not_found("company", company_id)
    return ZoneInfo(company.timezone)


def local_date(company_id: uuid.UUID, when: dt.datetime) -> dt.date:
    """The calendar date of an aware time in the company's zone."""
    return when.astimezone(company_zone(company_id)).date()


def local_day_bounds(company_id: uuid.UUID, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC [start of ``first``, start of the day after ``last``) in the company's zone."""
    zone = company_zone(company_id)
    start = dt.datetime.combine(first, dt.time(0), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    return start, end


@dataclass(frozen=True)
class DayEntry:
    """A day off the normal week: a holiday on a weekday, or a weekend day worked."""

    day: dt.date
    working: bool
    note: str
    source: str  # "company" | "package"


class WorkingCalendar:
    """The working days of one company; loads the company's rows once per year asked."""

    def __init__(self, company_id: uuid.UUID) -> None:
        self.company_id = company_id
        self._years: dict[int, dict[dt.date, bool]] = {}

    def _company_days(self, year: int) -> dict[dt.date, bool]:
        if year not in self._years:
            rows = db.session.execute(
                sa.select(CalendarDay.day, CalendarDay.working).where(
                    CalendarDay.company_id == self.company_id,
                    CalendarDay.day >= dt.date(year, 1, 1),
                    CalendarDay.day <= dt.date(year, 12, 31),
                )
            ).all()
            self._years[year] = {day: working for day, working in rows}
        return self._years[year]

    def known(self, year: int) -> bool:
        """Whether working days of ``year`` can be told without guessing."""
        return bool(self._company_days(year)) or year in package_years()

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day; raises CalendarNotEntered for an unknown year."""
        own = self._company_days(day.year)
        if day in own:
            return own[day]
        if day.year in package_years():
            return _package_calendar(day.year).is_working_day(day)
        if own:  # an entered year: the normal week, except the days entered
            return day.weekday() < 5
        raise CalendarNotEntered(day.year)

    def add_working_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """The end (23:59:59 local) of the ``n``-th working day after ``start``'s local date."""
        if n < 1:
            raise ValueError("n must be at least 1")
        zone = company_zone(self.company_id)
        day = start.astimezone(zone).date()
        counted = 0
        while counted < n:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return dt.datetime.combine(day, END_OF_DAY, zone).astimezone(dt.UTC)

    def working_days_left(self, now: dt.datetime, deadline: dt.datetime) -> int:
        """Working days from today (excluded) to the deadline's day (included); negative when late."""
        zone = company_zone(self.company_id)
        today, last = now.astimezone(zone).date(), deadline.astimezone(zone).date()
        early, late, sign = (today, last, 1) if last >= today else (last, today, -1)
        count, day = 0, early
        while day < late:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return sign * count


def add_working_days(company_id: uuid.UUID, start: dt.datetime, n: int) -> dt.datetime:
    """The deadline ``n`` working days after ``start`` in the company's calendar (see module doc)."""
    return WorkingCalendar(company_id).add_working_days(start, n)


def is_working_day(company_id: uuid.UUID, day: dt.date) -> bool:
    """Whether ``day`` is a working day for the company (CalendarNotEntered for an unknown year)."""
    return WorkingCalendar(company_id).is_working_day(day)


def year_entries(company_id: uuid.UUID, year: int) -> tuple[bool, list[DayEntry]]:
    """Whether the year is known, and its exceptions to the Mon–Fri week (company rows win)."""
    cal = WorkingCalendar(company_id)
    rows = db.session.execute(
        sa.select(CalendarDay)
        .where(
            CalendarDay.company_id == company_id,
            CalendarDay.day >= dt.date(year, 1, 1),
            CalendarDay.day <= dt.date(year, 12, 31),
        )
        .order_by(CalendarDay.day)
    ).scalars()
    entries = {r.day: DayEntry(r.day, r.working, r.note, "company") for r in rows}
    if year in package_years():
        package = _package_calendar(year)
        for day, name in package.items():
            if day.year == year and day.weekday() < 5 and day not in entries:
                entries[day] = DayEntry(day, False, name, "package")
        for day in package.weekend_workdays:
            if day.year == year and day not in entries:
                entries[day] = DayEntry(day, True, "调休上班 (make-up working day)", "package")
    return cal.known(year), [entries[d] for d in sorted(entries)]


def set_year(company_id: uuid.UUID, year: int, days: Iterable[tuple[dt.date, bool, str]]) -> int:
    """Replace the company's entered calendar of ``year`` with the announced days; returns how many.

    Every day must fall in ``year`` and appear once (the caller validates; this raises ValueError).
    """
    days = list(days)
    seen: set[dt.date] = set()
    for day, _, _ in days:
        if day.year != year or day in seen:
            raise ValueError(f"{day} is outside {year} or repeated")
        seen.add(day)
    db.session.execute(
        sa.delete(CalendarDay).where(
            CalendarDay.company_id == company_id,
            CalendarDay.day >= dt.date(year, 1, 1),
            CalendarDay.day <= dt.date(year, 12, 31),
        )
    )
    for day, working, note in days:
        db.session.add(CalendarDay(company_id=company_id, day=day, working=working, note=note))
    db.session.flush()
    return len(days)
