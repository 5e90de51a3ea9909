"""The household file a visit needs (R12): premises, meters (R15), hazards (R16), history, contacts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mobile.viewmodels.base import ViewModel, parse_time

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


class JobDetailViewModel(ViewModel):
    """Loads the household file of one job."""

    file: HouseholdFile | None = None

    def load(self, job_id: str) -> HouseholdFile:
        """Read the file from the store."""
        job = self.store.get("job", job_id)
        if job is None:
            raise KeyError(f"job {job_id} is not on this tablet")
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
        self.file = HouseholdFile(
            job=job, customer=customer, premises=premises,
            contacts=self.store.where("customer_contact", customer_id=customer.get("id")),
            meters=meters, appliances=self.store.where("appliance", premises_id=premises.get("id")),
            open_hazards=sorted(hazards, key=lambda h: h.get("rectify_by") or ""), earlier_visits=earlier,
            notes=sorted(self.store.for_job("note", job_id), key=lambda n: n.get("written_at") or ""),
            outages=outages,
        )
        self.changed()
        return self.file
