"""Reading the console's form fields into values the service functions take.

Bad input raises the API's own ``field_error`` (422 naming the field), shown like any refusal.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from flask import request

from server.errors import field_error


def form_uuid(name: str, *, required: bool = True) -> uuid.UUID | None:
    """A UUID form field (None when empty and not required)."""
    raw = request.form.get(name, "").strip()
    if not raw:
        if required:
            raise field_error(name, "required")
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise field_error(name, "not a valid id") from None


def parse_day(raw: str | None, default: dt.date) -> dt.date:
    """A YYYY-MM-DD date, or ``default`` when missing or malformed."""
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def form_window(zone: ZoneInfo, *, required: bool) -> tuple[dt.datetime, dt.datetime] | None:
    """The window from ``day`` + ``start`` + ``end`` (local HH:MM) as aware UTC times."""
    day_raw = request.form.get("day", "").strip()
    start_raw = request.form.get("start", "").strip()
    end_raw = request.form.get("end", "").strip()
    if not (start_raw or end_raw):
        if required:
            raise field_error("window_start", "give the start and end of the window")
        return None
    try:
        day = dt.date.fromisoformat(day_raw)
    except ValueError:
        raise field_error("day", "give the date as YYYY-MM-DD") from None
    times = []
    for name, raw in (("window_start", start_raw), ("window_end", end_raw)):
        try:
            times.append(dt.time.fromisoformat(raw))
        except ValueError:
            raise field_error(name, "give the time as HH:MM") from None
    start = dt.datetime.combine(day, times[0], zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day, times[1], zone).astimezone(dt.UTC)
    return start, end
