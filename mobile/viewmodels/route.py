"""Today's route: the technician's visits in route order, with what each card shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mobile.store import PARKED, PENDING
from mobile.viewmodels.base import ViewModel, parse_time
from sync.domain.jobs import OPEN_ON_DEVICE

SLA_TYPES = frozenset({"repair", "emergency"})


@dataclass(frozen=True)
class RouteCard:
    """One visit on today's route, ready to show."""

    job_id: str
    ref: str
    order: int
    window: str  # "09:00–11:00" local time
    address: str
    customer: str
    job_type: str  # a JobType value (translated by the screen)
    status: str
    special_care: bool  # R11
    sla_kind: str | None  # "respond" | "fix" (R8) or None
    sla_minutes: int | None  # minutes left; negative when breached
    sync_state: str  # "synced" | "pending" | "parked"
    chargeable: bool


def sla_of(job: dict[str, Any], now: dt.datetime) -> tuple[str | None, int | None]:
    """The R8 clock that matters now: respond-by before arrival, fix-by after; minutes left."""
    if job.get("job_type") not in SLA_TYPES or job.get("status") in ("completed", "closed", "cancelled"):
        return None, None
    kind, deadline = "fix", parse_time(job.get("fix_by"))
    if not job.get("arrived_at") and job.get("respond_by"):
        kind, deadline = "respond", parse_time(job.get("respond_by"))
    if deadline is None:
        return None, None
    return kind, int((deadline - now).total_seconds() // 60)


class RouteViewModel(ViewModel):
    """The visits of the day in route order (today's windows, plus open visits carried over)."""

    cards: list[RouteCard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cards = []

    def load(self, technician_id: str | None = None) -> list[RouteCard]:
        """Read the route from the store (one pass per collection: 500 jobs stay fast)."""
        now = self.now()
        today = now.astimezone(self.tz).date()
        premises = {p["id"]: p for p in self.store.all("premises")}
        customers = {c["id"]: c for c in self.store.all("customer")}
        sync = self.store.pending_by_job()
        chosen = []
        for job in self.store.all("job"):
            if technician_id and job.get("technician_id") and str(job["technician_id"]) != technician_id:
                continue
            start = self.local(job.get("window_start"))
            is_today = start is not None and start.date() == today
            carried = start is not None and start.date() < today and job.get("status") in OPEN_ON_DEVICE
            if is_today or carried:
                chosen.append(job)
        chosen.sort(key=lambda j: (j.get("route_order") is None, j.get("route_order") or 0, j.get("window_start") or ""))
        cards = []
        for n, job in enumerate(chosen, 1):
            place = premises.get(job.get("premises_id"), {})
            customer = customers.get(job.get("customer_id"), {})
            counts = sync.get(job["id"], {})
            state = "parked" if counts.get(PARKED) else "pending" if counts.get(PENDING) else "synced"
            sla_kind, sla_minutes = sla_of(job, now)
            cards.append(RouteCard(
                job_id=job["id"], ref=job.get("ref", ""), order=n,
                window=f"{self.hm(job.get('window_start'))}–{self.hm(job.get('window_end'))}",
                address=place.get("address", ""), customer=customer.get("name", ""),
                job_type=str(job.get("job_type", "")), status=str(job.get("status", "")),
                special_care=bool(customer.get("special_care")), sla_kind=sla_kind, sla_minutes=sla_minutes,
                sync_state=state, chargeable=bool(job.get("chargeable")),
            ))
        self.cards = cards
        self.changed()
        return cards
