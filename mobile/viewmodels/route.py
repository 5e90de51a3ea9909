"""Today's route: the technician's visits in route order, with what each card shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mobile import i18n
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
    sla_deadline: dt.datetime | None = None  # the R8 deadline the countdown runs to


ADDRESS_CHARS = 34  # longer addresses end in "…" (the row also clips by width)


def sla_text(lang: str, kind: str | None, minutes: int | None) -> str:
    """'响应剩余 1小时5分' / 'Fix overdue 20 min' (empty without an R8 clock)."""
    if kind is None or minutes is None:
        return ""
    over = "_over" if minutes < 0 else ""
    return i18n.t(lang, f"sla.{kind}{over}", time=i18n.duration(lang, minutes))


def row_data(card: RouteCard, lang: str, now: dt.datetime) -> dict[str, Any]:
    """The RecycleView data of one card: every text ready to draw (the row does no work of its own)."""
    t = i18n.t
    badges = [t(lang, "route.special_care")] if card.special_care else []
    if card.chargeable:
        badges.append(t(lang, "route.chargeable"))
    minutes = card.sla_minutes
    if card.sla_deadline is not None:
        minutes = int((card.sla_deadline - now).total_seconds() // 60)
    address = card.address if len(card.address) <= ADDRESS_CHARS else card.address[:ADDRESS_CHARS - 1] + "…"
    return {
        "job_id": card.job_id, "order_text": str(card.order), "special_care": card.special_care,
        "window_text": card.window, "status_text": t(lang, "status." + card.status),
        "title_text": f"{t(lang, 'job_type.' + card.job_type)} · {card.customer}", "address_text": address,
        "badges_text": "  ".join(badges), "sla_text": sla_text(lang, card.sla_kind, minutes),
        "sla_breached": minutes is not None and card.sla_kind is not None and minutes < 0,
        "sync_text": t(lang, "syncstate." + card.sync_state), "sync_state": card.sync_state,
    }


def sla_deadline(job: dict[str, Any]) -> tuple[str | None, dt.datetime | None]:
    """The R8 clock that matters: respond-by before arrival, fix-by after (None when none runs)."""
    if job.get("job_type") not in SLA_TYPES or job.get("status") in ("completed", "closed", "cancelled"):
        return None, None
    kind, deadline = "fix", parse_time(job.get("fix_by"))
    if not job.get("arrived_at") and job.get("respond_by"):
        kind, deadline = "respond", parse_time(job.get("respond_by"))
    return (kind, deadline) if deadline is not None else (None, None)


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
            sla_kind, deadline = sla_deadline(job)
            sla_minutes = int((deadline - now).total_seconds() // 60) if deadline is not None else None
            cards.append(RouteCard(
                job_id=job["id"], ref=job.get("ref", ""), order=n,
                window=f"{self.hm(job.get('window_start'))}–{self.hm(job.get('window_end'))}",
                address=place.get("address", ""), customer=customer.get("name", ""),
                job_type=str(job.get("job_type", "")), status=str(job.get("status", "")),
                special_care=bool(customer.get("special_care")), sla_kind=sla_kind, sla_minutes=sla_minutes,
                sync_state=state, chargeable=bool(job.get("chargeable")), sla_deadline=deadline,
            ))
        self.cards = cards
        self.changed()
        return cards

    def rows(self, lang: str, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """The loaded cards as RecycleView data in ``lang``; SLA countdowns as of ``now`` (no store read:
        the screen calls this every minute to count down)."""
        now = now or self.now()
        return [row_data(card, lang, now) for card in self.cards]
