"""The customer signs on the pad: approval or refusal of the quote (R3, with R5's name and staff
number on screen), or the cleanup confirmation (R4)."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory

from mobile.i18n import money
from mobile.screens import BaseScreen
from mobile.screens.quote import qty_text
from mobile.viewmodels.cleanup import CleanupViewModel
from mobile.viewmodels.quote import QuoteViewModel


class SignatureScreen(BaseScreen):
    """``purpose`` is "quote" or "cleanup"; the cleanup screen hands over its checklist and photo."""

    purpose = "quote"
    cleanup_checklist: dict[str, bool] | None = None
    cleanup_photo: bytes | None = None

    def on_pre_enter(self, *args: Any) -> None:
        self.ids.pad.clear()
        job = self.store.get("job", self.job_id) or {}
        customer = self.store.get("customer", job.get("customer_id", "")) or {}
        self.ids.signer.text = customer.get("name", "")
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        if not self.job_id:
            return
        t, summary = self.t, self.ids.summary
        summary.clear_widgets()
        is_quote = self.purpose == "quote"
        self.ids.heading.text = t("sign.title.quote" if is_quote else "sign.title.cleanup")
        self.ids.statement.text = t("sign.statement.quote" if is_quote else "sign.statement.cleanup")
        self.ids.refuse.opacity = 1 if is_quote else 0
        self.ids.refuse.disabled = not is_quote
        self.ids.approve.text = t("sign.approve" if is_quote else "sign.confirm")
        if is_quote:
            quote = QuoteViewModel(self.store, self.job_id).current() or {}
            for line in quote.get("lines", []):
                summary.add_widget(Factory.Body(text=t("quote.line", description=line["description"],
                                                       qty=qty_text(line["qty"]), unit=line.get("unit", ""),
                                                       amount=money(line["amount_cents"]))))
            summary.add_widget(Factory.Heading(text=t("quote.total", total=money(quote.get("total_cents", 0)))))
            summary.add_widget(Factory.Warn(text=quote.get("risk_note", "")))
            summary.add_widget(Factory.Body(text=t("quote.technician", name=quote.get("technician_name", ""),
                                                   staff_no=quote.get("staff_no", "")), bold=True))
        else:
            for key, done in (self.cleanup_checklist or {}).items():
                summary.add_widget(Factory.Body(text=("[OK] " if done else "[  ] ") + t("cleanup." + key)))

    def clear(self) -> None:
        self.ids.pad.clear()

    def _ready(self) -> bool:
        if not self.ids.signer.text.strip():
            self.say("sign.need_name")
            return False
        if not self.ids.pad.has_ink:
            self.say("sign.empty")
            return False
        return True

    def approve(self) -> None:
        if not self._ready():
            return
        png, signer = self.ids.pad.png(), self.ids.signer.text.strip()
        if self.purpose == "quote":
            QuoteViewModel(self.store, self.job_id).approve(signer, png)
        else:
            CleanupViewModel(self.store, self.job_id).confirm(self.cleanup_checklist or {}, method="signature",
                                                             signer=signer, png=png, photo=self.cleanup_photo)
        self.app.refresh_pending()
        self.app.back()

    def refuse(self) -> None:
        signer = self.ids.signer.text.strip()
        if not signer:
            self.say("sign.need_name")
            return
        png = self.ids.pad.png() if self.ids.pad.has_ink else None
        QuoteViewModel(self.store, self.job_id).refuse(signer, png)
        self.app.refresh_pending()
        self.app.back()
