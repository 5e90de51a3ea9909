"""Running late (R2): pick a new ETA with big +/- buttons; see whether the 2-hour rule still holds."""

from __future__ import annotations

import datetime as dt

from mobile.screens import BaseScreen
from mobile.viewmodels.visit import VisitViewModel, assess_late

STEP = dt.timedelta(minutes=15)


class LateScreen(BaseScreen):
    """New ETA → a queued running_late visit event (the customer notification) and job.eta."""

    eta: dt.datetime | None = None

    def on_pre_enter(self, *args: object) -> None:
        vm = VisitViewModel(self.store, self.job_id)
        now = vm.now().replace(second=0, microsecond=0)
        self.eta = now + dt.timedelta(minutes=30 - now.minute % 15)
        super().on_pre_enter(*args)

    def shift(self, minutes: int) -> None:
        vm = VisitViewModel(self.store, self.job_id)
        self.eta = max(vm.now(), (self.eta or vm.now()) + dt.timedelta(minutes=minutes))
        self.refresh()

    def refresh(self) -> None:
        if not self.job_id or self.eta is None:
            return
        vm = VisitViewModel(self.store, self.job_id)
        job = vm.job
        self.ids.window.text = self.t("late.window", window=f"{vm.hm(job.get('window_start'))}–{vm.hm(job.get('window_end'))}")
        self.ids.eta.text = vm.hm(self.eta)
        a = assess_late(job, self.eta, vm.now())
        if a.eta_in_window:
            self.ids.rule.text, self.ids.rule.color = self.t("late.in_window"), (0.1, 0.5, 0.25, 1)
        elif a.two_hour_rule_met:
            self.ids.rule.text, self.ids.rule.color = self.t("late.rule_met", m=a.notice_minutes), (0.1, 0.5, 0.25, 1)
        else:
            self.ids.rule.text = self.t("late.rule_breached", m=max(0, a.notice_minutes))
            self.ids.rule.color = (0.72, 0.12, 0.12, 1)

    def send(self) -> None:
        if self.eta is None:
            return
        VisitViewModel(self.store, self.job_id).running_late(self.eta)
        self.say("late.sent")
