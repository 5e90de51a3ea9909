"""Today's route: a RecycleView of the visits (it scrolls 500 without building 500 widgets)."""

from __future__ import annotations

from kivy.utils import escape_markup

from mobile.i18n import duration
from mobile.screens import BaseScreen
from mobile.viewmodels.route import RouteCard, RouteViewModel

GREEN, AMBER, RED = "1a8040", "cc7300", "b81f1f"
# No [size=…] in row markup: a size change inside a label makes Kivy reopen the font for every row
# rendered (240 ms each with a CJK .ttc); the window time has its own label instead.


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
            text = t(f"sla.{card.sla_kind}{'_over' if over else ''}", time=duration(self.app.lang, card.sla_minutes))
            sla = f"[b][color={RED if over else AMBER}]{escape_markup(text)}[/color][/b]"
        sync_colour = {"synced": GREEN, "pending": AMBER, "parked": RED}[card.sync_state]
        address = card.address if len(card.address) <= 34 else card.address[:33] + "…"
        middle = f"[b]{escape_markup(t('job_type.' + card.job_type) + ' · ' + card.customer)}[/b]\n{escape_markup(address)}"
        if badges:
            middle += f"\n[b][color={AMBER}]{escape_markup('  '.join(badges))}[/color][/b]"
        return {
            "job_id": card.job_id, "order_text": str(card.order), "special_care": card.special_care,
            "window_text": card.window, "status_text": t("status." + card.status),
            "middle_markup": middle,
            "right_markup": f"{sla}\n[b][color={sync_colour}]{escape_markup(t('syncstate.' + card.sync_state))}[/color][/b]",
        }
