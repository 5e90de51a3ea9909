"""Fees collected on site (R17), then complete (R3/R4 gates) or could-not-complete, then depart."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory

from mobile.i18n import money
from mobile.screens import BaseScreen
from mobile.viewmodels.cleanup import PAY_METHODS, FeesViewModel
from mobile.viewmodels.visit import VisitViewModel
from sync.domain.jobs import JobStatus


class FinishScreen(BaseScreen):
    """Payment, satisfaction, completion, departure."""

    method = "cash"
    satisfaction: int | None = None
    cnc_reason: str | None = None

    def on_pre_enter(self, *args: Any) -> None:
        self.ids.amount.text = money(FeesViewModel(self.store, self.job_id).due_cents()) if self.job_id else ""
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        if not self.job_id:
            return
        fees, visit = FeesViewModel(self.store, self.job_id), VisitViewModel(self.store, self.job_id)
        t = self.t
        self.ids.due.text = t("fees.due", due=money(fees.due_cents()), paid=money(fees.collected_cents()))
        box = self.ids.fees
        box.clear_widgets()
        for f in fees.fees():
            box.add_widget(Factory.Muted(text=t("fees.line", at=fees.hm(f["collected_at"]), amount=money(f["amount_cents"]),
                                                method=t("pay." + f["method"]), receipt=f.get("receipt_no", ""))))
        for m in PAY_METHODS:
            self.ids["pay_" + m].state = "down" if m == self.method else "normal"
        job = visit.job
        status = job.get("status")
        finished = status in (JobStatus.COMPLETED, JobStatus.COULD_NOT_COMPLETE)
        gate = visit.complete_gate()
        lines = []
        if status == JobStatus.COMPLETED:
            lines.append(t("finish.completed"))
        elif status == JobStatus.COULD_NOT_COMPLETE:
            lines.append(t("finish.cnc_done", reason=t("cnc." + str(job.get("could_not_complete_reason")))))
        elif not gate:
            lines.append(t("gate." + str(gate.reason)))
        if job.get("departed_at"):
            lines.append(t("finish.departed", at=visit.hm(job["departed_at"])))
        self.ids.state.text = "\n".join(lines)
        self.ids.complete.disabled = finished
        self.ids.cnc.disabled = finished or self.cnc_reason is None
        self.ids.depart.disabled = not finished or bool(job.get("departed_at"))

    def choose_method(self, method: str) -> None:
        self.method = method

    def choose_satisfaction(self, score: int) -> None:
        self.satisfaction = score

    def choose_cnc(self, reason: str) -> None:
        self.cnc_reason = reason
        self.refresh()

    def record_fee(self) -> None:
        try:
            FeesViewModel(self.store, self.job_id).collect(self.ids.amount.text, self.method, self.ids.receipt.text)
        except ValueError:
            self.say("fees.bad_amount")
            return
        self.ids.receipt.text = ""
        self.ids.amount.text = money(FeesViewModel(self.store, self.job_id).due_cents())
        self.app.refresh_pending()
        self.refresh()

    def complete(self) -> None:
        gate = VisitViewModel(self.store, self.job_id).complete(self.satisfaction)
        if not gate:
            self.say("gate." + str(gate.reason))
        self.app.refresh_pending()
        self.refresh()

    def could_not_complete(self) -> None:
        if self.cnc_reason is None:
            return
        VisitViewModel(self.store, self.job_id).could_not_complete(self.cnc_reason, self.ids.cnc_note.text)
        self.app.refresh_pending()
        self.refresh()

    def depart(self) -> None:
        VisitViewModel(self.store, self.job_id).depart()
        self.app.refresh_pending()
        self.refresh()
