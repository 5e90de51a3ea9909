"""The checklist, rendered from its template: conditions, required items, numbers with limits,
photos and notes. Every answer is saved the moment it is given."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup

from mobile.screens import BaseScreen
from mobile.viewmodels.checklist import ChecklistViewModel, InvalidAnswer, ItemView
from sync.domain.hazards import HazardSuggestion


def tag(widget: Any, name: str) -> Any:
    """Name a widget built in Python so tests (and people debugging) can find it."""
    widget.fs_id = name
    return widget


class ChecklistScreen(BaseScreen):
    """One panel per visible item."""

    def vm(self) -> ChecklistViewModel:
        return ChecklistViewModel(self.store, self.job_id)

    def label(self, item: dict) -> str:
        return str(item.get("label_en") or item["label"]) if self.app.lang == "en" else str(item["label"])

    def refresh(self) -> None:
        if not self.job_id:
            return
        vm = self.vm()
        template = vm.template
        box = self.ids.item_list
        box.clear_widgets()
        if template is None:
            self.ids.heading.text = self.t("checklist.none")
            self.ids.missing.text = ""
            return
        name = template.get("name_en") if self.app.lang == "en" and template.get("name_en") else template.get("name")
        self.ids.heading.text = self.t("checklist.title", name=name)
        missing = vm.missing_required()
        self.ids.missing.text = self.t("checklist.missing", n=len(missing)) if missing else self.t("checklist.all_done")
        self.ids.missing.color = (0.72, 0.12, 0.12, 1) if missing else (0.1, 0.5, 0.25, 1)
        for view in vm.items():
            box.add_widget(self._panel(view))
        box.add_widget(self._note_panel(), index=len(box.children))  # first: a note can come any time

    def _note_panel(self) -> Any:
        panel = Factory.Panel()
        panel.add_widget(Factory.Body(text=self.t("checklist.note"), bold=True))
        row = BoxLayout(size_hint_y=None, height=64, spacing=8)
        field = tag(Factory.Field(), "note:input")
        save = tag(Factory.BigButton(text=self.t("checklist.save"), size_hint_x=0.35), "note:save")
        save.bind(on_release=lambda *_: self.add_note(field.text))
        row.add_widget(field)
        row.add_widget(save)
        panel.add_widget(row)
        return panel

    def add_note(self, text: str) -> None:
        try:
            self.vm().add_note(text)
        except InvalidAnswer as exc:
            self.say("invalid." + exc.code)
            return
        self.say("checklist.note_saved")
        self.refresh()

    def _panel(self, view: ItemView) -> Any:
        item, t = view.item, self.t
        panel = Factory.Panel()
        title = self.label(item) + (f"  ({t('checklist.required')})" if item.get("required") else "")
        panel.add_widget(Factory.Body(text=title, bold=True))
        if item.get("type") == "number" and (item.get("min") is not None or item.get("max") is not None):
            panel.add_widget(Factory.Muted(text=t("checklist.limits", min=item.get("min", ""), max=item.get("max", ""),
                                                  unit=item.get("unit", ""))))
        if view.answer is not None:
            shown = view.value
            if item.get("type") in ("pass_fail_na",):
                shown = t(f"answer.{shown}")
            elif item.get("type") == "photo":
                shown = t("checklist.photo_saved")
            elif item.get("type") == "number":
                shown = f"{shown} {item.get('unit', '')}"
            style = "Warn" if view.out_of_limits else "Good"
            text = t("checklist.answered", value=shown) + (f"  {t('checklist.out_of_limits')}" if view.out_of_limits else "")
            panel.add_widget(Factory.get(style)(text=text))
        panel.add_widget(self._controls(view))
        return panel

    def _controls(self, view: ItemView) -> Any:
        item, key = view.item, view.key
        row = BoxLayout(size_hint_y=None, height=64, spacing=8)
        kind = item.get("type")
        if kind in ("pass_fail_na", "choice"):
            options = ([(v, self.t(f"answer.{v}")) for v in ("pass", "fail", "na")] if kind == "pass_fail_na" else
                       [(o["value"], (o.get("label_en") if self.app.lang == "en" else None) or o.get("label", o["value"]))
                        for o in item.get("options") or []])
            for value, text in options:
                button = tag(Factory.ChoiceButton(text=str(text), group=f"{self.job_id}:{key}",
                                                  state="down" if view.value == value else "normal"), f"{key}:{value}")
                button.bind(on_release=lambda _b, v=value: self.answer(key, v))
                row.add_widget(button)
        elif kind in ("number", "text"):
            field = tag(Factory.Field(hint_text=item.get("unit", ""), input_filter="float" if kind == "number" else None),
                        f"{key}:input")
            if view.value is not None:
                field.text = str(view.value)
            save = tag(Factory.BigButton(text=self.t("checklist.save"), size_hint_x=0.35), f"{key}:save")
            save.bind(on_release=lambda *_: self.answer(key, field.text))
            row.add_widget(field)
            row.add_widget(save)
        elif kind == "photo":
            button = tag(Factory.BigButton(text=self.t("checklist.photo")), f"{key}:photo")
            button.bind(on_release=lambda *_: self.app.take_photo(lambda data: self.answer(key, "photo", photo=data)))
            row.add_widget(button)
        return row

    def answer(self, key: str, value: Any, photo: bytes | None = None) -> None:
        try:
            suggestion = self.vm().answer(key, value, photo=photo)
        except InvalidAnswer as exc:
            self.say("invalid." + exc.code)
            return
        self.message = ""
        self.app.refresh_pending()
        self.refresh()
        if suggestion is not None:
            self.offer_hazard(suggestion, self.describe(key, value))

    def describe(self, key: str, value: Any) -> str:
        """The hazard a failed or out-of-limit answer suggests, in the technician's language."""
        item = next(v.item for v in self.vm().items() if v.key == key)
        if item.get("type") == "number":
            return self.t("suggest.out_of_limits", label=self.label(item), value=value, unit=item.get("unit", ""),
                          min=item.get("min", ""), max=item.get("max", ""))
        return self.t("suggest.failed", label=self.label(item))

    def offer_hazard(self, suggestion: HazardSuggestion, description: str) -> None:
        box = BoxLayout(orientation="vertical", spacing=12, padding=12)
        box.add_widget(Factory.Body(text=self.t("suggest.body", description=description,
                                                severity=self.t("severity." + suggestion.severity))))
        buttons = BoxLayout(size_hint_y=None, height=64, spacing=12)
        popup = Popup(title=self.t("suggest.title"), content=box, size_hint=(0.6, 0.5), auto_dismiss=False,
                      title_size="22sp")
        record = tag(Factory.DangerButton(text=self.t("suggest.record")), "suggest:record")
        dismiss = tag(Factory.QuietButton(text=self.t("suggest.dismiss")), "suggest:dismiss")
        record.bind(on_release=lambda *_: (popup.dismiss(), self.app.go("hazard", suggestion=suggestion,
                                                                          description=description)))
        dismiss.bind(on_release=lambda *_: popup.dismiss())
        buttons.add_widget(dismiss)
        buttons.add_widget(record)
        box.add_widget(buttons)
        popup.open()
        self.popup = popup
