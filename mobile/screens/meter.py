"""Meter reading and exchange (R15): one panel per meter of the household, the job's meter first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.factory import Factory
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.popup import Popup

from mobile.screens import BaseScreen
from mobile.screens.checklist import tag
from mobile.viewmodels.checklist import InvalidAnswer
from mobile.viewmodels.meter import MeterViewModel, MeterWork, shown


class MeterScreen(BaseScreen):
    """Read the meter; exchange it (final reading, new serial and start reading, seals)."""

    popup: Popup | None = None

    def vm(self) -> MeterViewModel:
        return MeterViewModel(self.store, self.job_id, lang=self.app.lang)

    def refresh(self) -> None:
        if not self.job_id:
            return
        vm = self.vm()
        box = self.ids.meter_list
        box.clear_widgets()
        meters = vm.meters()
        if not meters:
            box.add_widget(Factory.Muted(text=self.t("meter.none")))
        for work in meters:
            box.add_widget(self._panel(vm, work))

    def _field(self, name: str, number: bool = True) -> Any:
        return tag(Factory.Field(input_filter="float" if number else None), name)

    def _form(self, rows: list[tuple[str, Any]]) -> GridLayout:
        grid = GridLayout(cols=2, spacing=dp(8), size_hint_y=None, row_default_height=dp(60),
                          row_force_default=True)
        grid.bind(minimum_height=grid.setter("height"))
        for key, field in rows:
            grid.add_widget(Factory.Body(text=self.t(key), size_hint_y=1))
            grid.add_widget(field)
        return grid

    def _panel(self, vm: MeterViewModel, work: MeterWork) -> Any:
        m, mid = work.meter, work.id
        panel = Factory.Panel()
        panel.add_widget(Factory.Heading(text=self.t("meter.heading", serial=m.get("serial", ""),
                                                     model=m.get("model", ""))))
        last = vm.last_text_values(work)
        panel.add_widget(Factory.Body(text=self.t("meter.last", **last)) if last else
                         Factory.Muted(text=self.t("meter.no_last")))
        if work.exchange_expected and not work.exchanged:
            panel.add_widget(Factory.Warn(text=self.t("meter.exchange_due")))
        for key, values in vm.done_lines(work):
            panel.add_widget(tag(Factory.Good(text=self.t(key, **values)), f"done:{mid}"))

        reading, seen = self._field(f"reading:{mid}"), self._field(f"serial_seen:{mid}", number=False)
        panel.add_widget(self._form([("meter.reading", reading), ("meter.serial_seen", seen)]))
        save = tag(Factory.BigButton(text=self.t("meter.save_reading")), f"save_reading:{mid}")
        save.bind(on_release=lambda *_: self.save_reading(mid, reading.text, seen.text))
        panel.add_widget(save)

        if not work.exchanged:
            panel.add_widget(Factory.Heading(text=self.t("meter.exchange")))
            final, serial = self._field(f"final:{mid}"), self._field(f"new_serial:{mid}", number=False)
            start, seals = self._field(f"new_reading:{mid}"), self._field(f"seals:{mid}", number=False)
            panel.add_widget(self._form([("meter.final_reading", final), ("meter.new_serial", serial),
                                         ("meter.new_reading", start), ("meter.seals", seals)]))
            button = Factory.DangerButton if work.exchange_expected else Factory.QuietButton
            exchange = tag(button(text=self.t("meter.save_exchange")), f"save_exchange:{mid}")
            exchange.bind(on_release=lambda *_: self.save_exchange(mid, final.text, serial.text, start.text,
                                                                   seals.text))
            panel.add_widget(exchange)
        return panel

    def _attempt(self, action: Callable[..., Any], done_key: str, lower_value: str, meter_id: str) -> None:
        """Run ``action``; a lower reading asks for confirmation and a reason, then runs it again."""
        try:
            action()
        except InvalidAnswer as exc:
            if exc.code == "lower_confirm":
                self.confirm_lower(meter_id, lower_value, lambda reason: self._attempt(
                    lambda: action(confirm_lower=True, reason=reason), done_key, lower_value, meter_id))
                return
            self.say("invalid." + exc.code)
            return
        self.say(done_key)
        self.refresh()

    def save_reading(self, meter_id: str, value: str, serial_seen: str) -> None:
        vm = self.vm()
        self._attempt(lambda **kw: vm.record_reading(meter_id, value, serial_seen=serial_seen, **kw),
                      "meter.saved", value, meter_id)

    def save_exchange(self, meter_id: str, final: str, serial: str, start: str, seals: str) -> None:
        vm = self.vm()
        self._attempt(lambda **kw: vm.exchange(meter_id, final, serial, start, seals, **kw),
                      "meter.exchanged", final, meter_id)

    def confirm_lower(self, meter_id: str, value: str, then: Callable[[str], None]) -> None:
        """The reading is below the last one: show both, ask for the reason."""
        work = self.vm().meter(meter_id)
        box = BoxLayout(orientation="vertical", spacing=dp(12), padding=dp(12))
        box.add_widget(Factory.Body(text=self.t("meter.lower", reading=value, last=shown(work.last_reading))))
        box.add_widget(Factory.Body(text=self.t("meter.reason")))
        reason = tag(Factory.Field(), "lower:reason")
        box.add_widget(reason)
        buttons = BoxLayout(size_hint_y=None, height=dp(64), spacing=dp(12))
        popup = Popup(title=self.t("meter.confirm_lower"), content=box, size_hint=(0.7, 0.6), auto_dismiss=False,
                      title_size="22sp")
        cancel = tag(Factory.QuietButton(text=self.t("photo.cancel")), "lower:cancel")
        cancel.bind(on_release=lambda *_: popup.dismiss())
        confirm = tag(Factory.DangerButton(text=self.t("meter.confirm_lower")), "lower:confirm")

        def go(*_: Any) -> None:
            if not reason.text.strip():
                self.say("invalid.reason_needed")
                return
            popup.dismiss()
            then(reason.text)

        confirm.bind(on_release=go)
        buttons.add_widget(cancel)
        buttons.add_widget(confirm)
        box.add_widget(buttons)
        popup.open()
        self.popup = popup
