"""What every view-model shares: change listeners (per instance), the clock, local-time formatting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mobile.store import DeviceStore

DEFAULT_TZ = "Asia/Shanghai"  # until the server has told the tablet its company's zone (at sign-in)


def company_zone(name: str | None) -> ZoneInfo:
    """The company's time zone by IANA name; the default when unknown or unset."""
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def parse_time(value: str | dt.datetime | None) -> dt.datetime | None:
    """An aware datetime from a wire value (ISO 8601 with offset); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def iso(value: dt.datetime) -> str:
    """The wire form of an aware time."""
    return value.astimezone(dt.UTC).isoformat()


def job_on_tablet(store: DeviceStore, job_id: str) -> dict:
    """The job as the tablet sees it now; KeyError when it is not (or no longer) on this tablet."""
    job = store.get("job", job_id)
    if job is None:
        raise KeyError(f"job {job_id} is not on this tablet")
    return job


class ViewModel:
    """A view-model over the device store; screens subscribe with ``bind`` to hear about changes.

    The listener list belongs to the instance (a class-level list would make every screen hear
    every other screen's changes).
    """

    def __init__(self, store: DeviceStore, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.store = store
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._listeners: list[Callable[[], None]] = []
        self._tz: ZoneInfo | None = None

    def now(self) -> dt.datetime:
        """The device clock (aware, UTC); tests hand in a fixed one."""
        return self._clock()

    def bind(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change this view-model makes or loads."""
        self._listeners.append(listener)

    def unbind(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def changed(self) -> None:
        """Tell the listeners."""
        for listener in list(self._listeners):
            listener()

    @property
    def tz(self) -> ZoneInfo:
        """The company's time zone, for display (times are stored in UTC): the one the server sent at
        sign-in (meta ``timezone``), read once per view-model."""
        if self._tz is None:
            self._tz = company_zone(self.store.get_meta("timezone"))
        return self._tz

    def local(self, value: str | dt.datetime | None) -> dt.datetime | None:
        """A wire time in the company's time zone."""
        parsed = parse_time(value)
        return parsed.astimezone(self.tz) if parsed else None

    def hm(self, value: str | dt.datetime | None) -> str:
        """``HH:MM`` in the company's time zone ('--:--' when unknown)."""
        local = self.local(value)
        return local.strftime("%H:%M") if local else "--:--"

    def day_hm(self, value: str | dt.datetime | None) -> str:
        """``YYYY-MM-DD HH:MM`` in the company's time zone."""
        local = self.local(value)
        return local.strftime("%Y-%m-%d %H:%M") if local else ""
