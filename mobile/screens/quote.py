"""Build a quote from the price list (R3): parts and labour, the risk of damage, who quotes (R5)."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.uix.boxlayout import BoxLayout

from mobile.i18n import money
from mobile.screens import BaseScreen
from mobile.screens.checklist import tag
from mobile.viewmodels.quote import QuoteViewModel


def qty_text(qty: Any) -> str:
    number = float(qty)
    return str(int(number)) if number.is_integer() else f"{number:g}"


class QuoteScreen(BaseScreen):
    """Price list on the left, the quote on the right."""

    def vm(self) -> QuoteViewModel:
        return QuoteViewModel(self.store, self.job_id)

    def refresh(self) -> None:
        if not self.job_id:
            return
        vm, t = self.vm(), self.t
        state = vm.state()
        editable = state in ("none", "editing", "void")
        prices = self.ids.prices
        prices.clear_widgets()
        for p in vm.price_items():
            name = p.get("name_en") if self.app.lang == "en" and p.get("name_en") else p["name"]
            button = tag(Factory.BigButton(text=f"+ {name}  ¥{money(p['unit_price_cents'])}/{p.get('unit', '')}",
                                           disabled=not editable), f"price:{p['code']}")
            button.bind(on_release=lambda _b, code=p["code"]: self.add(code))
            prices.add_widget(button)
        preview = vm.preview() if editable else (vm.current() or vm.preview())
        lines = self.ids.lines
        lines.clear_widgets()
        for i, line in enumerate(preview["lines"]):
            row = BoxLayout(size_hint_y=None, height=64, spacing=8)
            row.add_widget(Factory.Body(text=t("quote.line", description=line["description"], qty=qty_text(line["qty"]),
                                               unit=line.get("unit", ""), amount=money(line["amount_cents"])),
                                        size_hint_y=1))
            if editable:
                minus = tag(Factory.QuietButton(text="−", size_hint_x=None, width=72), f"line:{i}:minus")
                plus = tag(Factory.BigButton(text="+", size_hint_x=None, width=72), f"line:{i}:plus")
                minus.bind(on_release=lambda _b, n=i, q=line["qty"]: self.set_qty(n, float(q) - 1))
                plus.bind(on_release=lambda _b, n=i, q=line["qty"]: self.set_qty(n, float(q) + 1))
                row.add_widget(minus)
                row.add_widget(plus)
            lines.add_widget(row)
        self.ids.total.text = t("quote.total", total=money(preview["total_cents"]))
        self.ids.tech.text = t("quote.technician", name=preview.get("technician_name", ""),
                               staff_no=preview.get("staff_no", ""))
        risk = self.ids.risk
        if not risk.focus:
            risk.text = preview.get("risk_note", "")
        risk.readonly = not editable
        self.ids.state.text = t("quote.state." + state) + (f" · {t('quote.edit_voids')}" if state == "approved" else "")
        self.ids.present.disabled = state not in ("editing", "draft", "none", "void")
        self.ids.edit.disabled = state not in ("approved", "draft", "refused")
        self.ids.discard.disabled = state != "editing"

    def add(self, code: str) -> None:
        self.vm().add_line(code, 1, lang=self.app.lang)
        self.refresh()

    def set_qty(self, index: int, qty: float) -> None:
        self.vm().set_qty(index, qty)
        self.refresh()

    def risk_changed(self, text: str) -> None:
        vm = self.vm()
        if vm.state() in ("none", "editing", "void") and text != vm.draft().get("risk_note", ""):
            vm.set_risk_note(text)

    def edit(self) -> None:
        self.vm().edit()
        self.refresh()

    def discard(self) -> None:
        self.vm().discard_draft()
        self.refresh()

    def present(self) -> None:
        vm = self.vm()
        self.risk_changed(self.ids.risk.text)
        if vm.state() != "draft":
            try:
                vm.present()
            except ValueError as exc:
                field = str(exc)
                key = {"lines": "quote.need_lines", "risk_note": "quote.need_risk"}.get(field)
                if key:
                    self.say(key)
                else:
                    self.say("quote.invalid", field=field)
                return
        self.app.refresh_pending()
        self.app.go("signature", purpose="quote")
