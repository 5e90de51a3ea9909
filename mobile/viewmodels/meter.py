"""Meter work on site (R15): read the meter, or exchange it when the job says so.

Everything is written to what the server accepts today (sync collection ``meter_reading``:
meter_id, job_id, kind, reading, serial_seen, new_serial, read_at; kinds routine | removal |
install | fault). What that collection has no field for goes into a visit note (collection
``note``, synced and attributed): the reason a reading is lower than the last one, and the seal
numbers of an exchanged meter.

- A reading lower than the last one needs the technician's confirmation and a reason.
- An exchange is two readings in one transaction: ``removal`` (the old meter's final reading, its
  serial as seen) and ``install`` (the new meter's serial and start reading), plus the seals note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from mobile import i18n
from mobile.session import Session
from mobile.store import DeviceStore
from mobile.viewmodels.base import ViewModel, iso, job_on_tablet, parse_time
from mobile.viewmodels.checklist import InvalidAnswer

KINDS = ("routine", "removal", "install", "fault")
EXCHANGE_SOURCES = frozenset({"meter_due"})  # a job made because the meter's verification is due (R15)


@dataclass(frozen=True)
class MeterWork:
    """One meter of the household, as the meter screen shows it."""

    meter: dict[str, Any]
    last_reading: float | None  # the newest known: the server's last reading or one taken on this visit
    last_read_at: str | None
    exchange_expected: bool  # the job asks for this meter to be exchanged
    readings: list[dict[str, Any]] = field(default_factory=list)  # this visit's, oldest first

    @property
    def id(self) -> str:
        """The meter's id."""
        return str(self.meter["id"])

    @property
    def exchanged(self) -> bool:
        """Whether this visit already recorded the exchange."""
        return any(r.get("kind") == "install" for r in self.readings)


def parse_reading(value: Any) -> float:
    """A meter reading typed by the technician: a finite number, not negative."""
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidAnswer("not_a_number") from None
    if not number.is_finite():
        raise InvalidAnswer("not_a_number")
    if number < 0:
        raise InvalidAnswer("negative")
    return float(number)


def shown(value: float | None) -> str:
    """A reading as shown: no trailing '.0'."""
    if value is None:
        return ""
    return f"{value:.3f}".rstrip("0").rstrip(".")


class MeterViewModel(ViewModel):
    """The meters of one visit's household and the readings taken on this visit."""

    def __init__(self, store: DeviceStore, job_id: str, lang: str = i18n.DEFAULT_LANG, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.job_id = job_id
        self.lang = lang  # of the notes written for the office
        self.session = Session(store)

    @property
    def job(self) -> dict[str, Any]:
        """The job as the tablet sees it."""
        return job_on_tablet(self.store, self.job_id)

    def meters(self) -> list[MeterWork]:
        """The household's meters, the one the job names first."""
        job = self.job
        readings = self.store.for_job("meter_reading", self.job_id)
        named = str(job.get("meter_id") or "")
        out = []
        for meter in self.store.where("meter", premises_id=job.get("premises_id")):
            mine = sorted((r for r in readings if str(r.get("meter_id")) == str(meter["id"])),
                          key=lambda r: r.get("read_at") or "")
            last, at = meter.get("last_reading"), meter.get("last_read_at")
            # The newest reading of the meter now on the wall: a routine reading taken on this visit
            # replaces the server's; after an exchange the new meter's start reading does.
            for r in mine:
                if r.get("kind") in ("routine", "fault", "install"):
                    last, at = r.get("reading"), r.get("read_at")
            expected = (job.get("job_type") == "meter_work" and str(meter["id"]) == named
                        and job.get("source") in EXCHANGE_SOURCES)
            out.append(MeterWork(meter, None if last is None else float(last), at, expected, mine))
        out.sort(key=lambda m: (m.id != named, str(m.meter.get("serial") or "")))
        return out

    def meter(self, meter_id: str) -> MeterWork:
        """One of the household's meters."""
        for work in self.meters():
            if work.id == str(meter_id):
                return work
        raise KeyError(f"meter {meter_id} is not at this household")

    def is_lower(self, meter_id: str, value: Any) -> bool:
        """Whether ``value`` is below the meter's last reading (a confirmation and reason are needed)."""
        last = self.meter(meter_id).last_reading
        return last is not None and parse_reading(value) < last

    def _lower_check(self, work: MeterWork, reading: float, confirm_lower: bool, reason: str) -> str | None:
        """The office note a lower reading needs (None when it is not lower); raises when unconfirmed."""
        if work.last_reading is None or reading >= work.last_reading:
            return None
        if not confirm_lower:
            raise InvalidAnswer("lower_confirm")
        if not reason.strip():
            raise InvalidAnswer("reason_needed")
        return i18n.t(self.lang, "meter.note_lower", serial=work.meter.get("serial", ""), reading=shown(reading),
                      last=shown(work.last_reading), reason=reason.strip())

    def _note(self, batch: Any, text: str) -> None:
        batch.create("note", {"job_id": self.job_id, "author_name": self.session.technician().get("name", ""),
                              "text": text, "written_at": iso(self.now())})

    def _reading(self, batch: Any, meter_id: str, kind: str, reading: float, serial_seen: str = "",
                 new_serial: str = "") -> dict[str, Any]:
        return batch.create("meter_reading", {
            "meter_id": meter_id, "job_id": self.job_id, "kind": kind, "reading": reading,
            "serial_seen": serial_seen.strip(), "new_serial": new_serial.strip(), "read_at": iso(self.now()),
        })

    def record_reading(self, meter_id: str, value: Any, *, serial_seen: str = "", fault: bool = False,
                       confirm_lower: bool = False, reason: str = "") -> dict[str, Any]:
        """Save a reading now; one lower than the last needs ``confirm_lower`` and a ``reason``."""
        work = self.meter(meter_id)
        reading = parse_reading(value)
        note = self._lower_check(work, reading, confirm_lower, reason)
        with self.store.batch() as batch:
            row = self._reading(batch, work.id, "fault" if fault else "routine", reading, serial_seen)
            if note:
                self._note(batch, note)
        self.changed()
        return row

    def exchange(self, meter_id: str, final_reading: Any, new_serial: str, new_reading: Any, seals: str = "", *,
                 confirm_lower: bool = False, reason: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
        """Exchange the meter: the old one's final reading (removal), the new one's serial and start
        reading (install) and the seal numbers, all in one transaction."""
        work = self.meter(meter_id)
        final = parse_reading(final_reading)
        start = parse_reading(new_reading)
        if not new_serial.strip():
            raise InvalidAnswer("serial_needed")
        note = self._lower_check(work, final, confirm_lower, reason)
        seal_list = [s.strip() for s in seals.replace("，", ",").split(",") if s.strip()]
        with self.store.batch() as batch:
            removal = self._reading(batch, work.id, "removal", final, serial_seen=str(work.meter.get("serial") or ""))
            install = self._reading(batch, work.id, "install", start, new_serial=new_serial)
            if note:
                self._note(batch, note)
            if seal_list:
                self._note(batch, i18n.t(self.lang, "meter.note_seals", serial=new_serial.strip(),
                                         seals=", ".join(seal_list)))
        self.changed()
        return removal, install

    def done_lines(self, work: MeterWork) -> list[tuple[str, dict[str, Any]]]:
        """(i18n key, values) of each reading taken on this visit, oldest first."""
        out = []
        for r in work.readings:
            kind = r.get("kind") if r.get("kind") in KINDS else "routine"
            local = self.local(r.get("read_at"))
            out.append((f"meter.done_{kind}", {"reading": shown(r.get("reading")), "serial": r.get("new_serial", ""),
                                               "at": local.strftime("%H:%M") if local else ""}))
        return out

    def last_text_values(self, work: MeterWork) -> dict[str, str] | None:
        """The values of the "last reading" line (None when the meter was never read)."""
        if work.last_reading is None:
            return None
        at = parse_time(work.last_read_at)
        return {"reading": shown(work.last_reading), "at": self.day_hm(at) if at else ""}
