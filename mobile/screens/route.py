"""Today's route: a RecycleView of the visits (it scrolls 500 without building 500 widgets)."""

from __future__ import annotations

from mobile.i18n import duration
from mobile.screens import BaseScreen
from mobile.viewmodels.route import RouteCard, RouteViewModel


class RouteScreen(BaseScreen):
    """The day's visits in route order."""

    def refresh(self) -> None:
        vm = RouteViewModel(self.store)
        cards = vm.load(self.app.session.technician().get("id"))
        today = vm.now().astimezone(vm.tz).date().isoformat()
        self.ids.heading.text = self.t("route.title", date=today)
        self.ids.count.text = self.t("route.count", n=len(cards)) if cards else self.t("route.empty")
        self.ids.rv.data = [self._row(c) for c in cards]
        self.app.refresh_pending()

    def _row(self, card: RouteCard) -> dict:
        t = self.t
        badges = [t("route.special_care")] if card.special_care else []
        if card.chargeable:
            badges.append(t("route.chargeable"))
        sla = ""
        if card.sla_kind is not None and card.sla_minutes is not None:
            over = card.sla_minutes < 0
            sla = t(f"sla.{card.sla_kind}{'_over' if over else ''}", time=duration(self.app.lang, card.sla_minutes))
        address = card.address if len(card.address) <= 34 else card.address[:33] + "…"
        return {
            "job_id": card.job_id, "order_text": str(card.order), "special_care": card.special_care,
            "window_text": card.window, "status_text": t("status." + card.status),
            "title_text": f"{t('job_type.' + card.job_type)} · {card.customer}", "address_text": address,
            "badges_text": "  ".join(badges), "sla_text": sla,
            "sla_breached": bool(card.sla_minutes is not None and card.sla_minutes < 0),
            "sync_text": t("syncstate." + card.sync_state), "sync_state": card.sync_state,
        }
