"""The household file a visit needs (R12): premises, meters (R15), hazards (R16), history, contacts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mobile.viewmodels.base import ViewModel, job_on_tablet, parse_time

CALIBRATION_DUE_SOON_DAYS = 30
OPEN_HAZARD = frozenset({"open", "rectification_scheduled"})


def calibration_status(due_on: str | None, today: dt.date) -> str:
    """A meter's verification status (R15): 'ok', 'due_soon' (within 30 days) or 'overdue'."""
    if not due_on:
        return "unknown"
    due = dt.date.fromisoformat(str(due_on)[:10])
    if due < today:
        return "overdue"
    if (due - today).days <= CALIBRATION_DUE_SOON_DAYS:
        return "due_soon"
    return "ok"


@dataclass
class HouseholdFile:
    """Everything about one visit's household that the tablet holds."""

    job: dict[str, Any]
    customer: dict[str, Any]
    premises: dict[str, Any]
    contacts: list[dict[str, Any]] = field(default_factory=list)
    meters: list[dict[str, Any]] = field(default_factory=list)  # each with "calibration" status
    appliances: list[dict[str, Any]] = field(default_factory=list)
    open_hazards: list[dict[str, Any]] = field(default_factory=list)
    earlier_visits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)  # R13, in the premises' district
    history: list[HistoryLine] = field(default_factory=list)  # earlier visits at the premises, newest first


@dataclass(frozen=True)
class HistoryLine:
    """One earlier visit at the household (a ``household_history`` row, read-only, from the server)."""

    job_id: str
    finished: dt.datetime | None
    job_type: str
    outcome: str  # completed | could_not_complete | cancelled
    technician_name: str
    details: list[tuple[str, dict[str, Any]]]  # (i18n key, values): hazards, checks, fees, reasons


def history_line(row: dict[str, Any]) -> HistoryLine:
    """A ``household_history`` row as the job screen shows it (missing fields tolerated)."""
    finished = parse_time(row.get("finished_on") or row.get("finished_at"))
    outcome = str(row.get("outcome") or row.get("status") or "completed")
    details: list[tuple[str, dict[str, Any]]] = []
    hazards = {k: int(row.get(f"hazards_{k}") or 0) for k in ("critical", "major", "minor")}
    if any(hazards.values()):
        details.append(("history.hazards", hazards))
    if row.get("checklist_answered"):
        details.append(("history.checklist", {"answered": int(row["checklist_answered"]),
                                              "failed": int(row.get("checklist_failed") or 0)}))
    if row.get("fee_collected_cents"):
        details.append(("history.fee", {"cents": int(row["fee_collected_cents"])}))
    if row.get("could_not_complete_reason"):
        details.append(("history.cnc", {"reason": str(row["could_not_complete_reason"])}))
    if row.get("cancelled_reason"):
        details.append(("history.cancelled", {"reason": str(row["cancelled_reason"])}))
    return HistoryLine(str(row.get("id", "")), finished, str(row.get("job_type") or ""), outcome,
                       str(row.get("technician_name") or ""), details)


class JobDetailViewModel(ViewModel):
    """Loads the household file of one job."""

    file: HouseholdFile | None = None

    def load(self, job_id: str) -> HouseholdFile:
        """Read the file from the store."""
        job = job_on_tablet(self.store, job_id)
        today = self.now().astimezone(self.tz).date()
        customer = self.store.get("customer", job.get("customer_id", "")) or {}
        premises = self.store.get("premises", job.get("premises_id", "")) or {}
        meters = [
            m | {"calibration": calibration_status(m.get("calibration_due_on"), today)}
            for m in self.store.where("meter", premises_id=premises.get("id"))
        ]
        hazards = [
            h for h in self.store.where("hazard", premises_id=premises.get("id")) if h.get("status") in OPEN_HAZARD
        ]
        earlier = [
            j for j in self.store.where("job", customer_id=customer.get("id"))
            if j["id"] != job_id and (parse_time(j.get("window_start")) or self.now()) <= self.now()
        ]
        earlier.sort(key=lambda j: j.get("window_start") or "", reverse=True)
        now = self.now()
        outages = [
            o for o in self.store.where("outage_notice", district=premises.get("district"))
            if (parse_time(o.get("ends_at")) or now) >= now
        ]
        history = sorted((history_line(r) for r in self.store.where("household_history",
                                                                     premises_id=premises.get("id"))
                          if premises.get("id") and r.get("id") != job_id),
                         key=lambda h: h.finished or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
        in_history = {h.job_id for h in history}
        self.file = HouseholdFile(
            job=job, customer=customer, premises=premises,
            contacts=self.store.where("customer_contact", customer_id=customer.get("id")),
            meters=meters, appliances=self.store.where("appliance", premises_id=premises.get("id")),
            open_hazards=sorted(hazards, key=lambda h: h.get("rectify_by") or ""),
            earlier_visits=[j for j in earlier if j["id"] not in in_history], history=history,
            notes=sorted(self.store.for_job("note", job_id), key=lambda n: n.get("written_at") or ""),
            outages=outages,
        )
        self.changed()
        return self.file
