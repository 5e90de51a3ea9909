"""Today's route: a RecycleView of the visits (it scrolls 500 without building 500 widgets)."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from mobile.screens import BaseScreen
from mobile.viewmodels.route import RouteViewModel

COUNTDOWN_SECONDS = 60  # the R8 countdowns move on once a minute


class RouteScreen(BaseScreen):
    """The day's visits in route order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vm: RouteViewModel | None = None
        self._countdown = None

    def refresh(self) -> None:
        vm = self.vm = RouteViewModel(self.store)
        cards = vm.load(self.app.session.technician().get("id"))
        today = vm.now().astimezone(vm.tz).date().isoformat()
        self.ids.heading.text = self.t("route.title", date=today)
        self.ids.count.text = self.t("route.count", n=len(cards)) if cards else self.t("route.empty")
        self.ids.rv.data = vm.rows(self.app.lang)
        self.app.refresh_pending()

    def tick(self, *_: Any) -> None:
        """Count the SLA clocks down from the cards already loaded (no store read)."""
        if self.vm is not None and self.vm.cards:
            self.ids.rv.data = self.vm.rows(self.app.lang)

    def on_enter(self, *args: Any) -> None:
        if self._countdown is None:
            self._countdown = Clock.schedule_interval(self.tick, COUNTDOWN_SECONDS)

    def on_leave(self, *args: Any) -> None:
        if self._countdown is not None:
            self._countdown.cancel()
            self._countdown = None
