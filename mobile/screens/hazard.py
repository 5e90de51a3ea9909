"""Record a hazard (R16): severity, description, photo, immediate action; the deadline follows."""

from __future__ import annotations

from typing import Any

from mobile.screens import BaseScreen
from mobile.viewmodels.hazard import HazardViewModel


class HazardScreen(BaseScreen):
    """A form; a checklist answer may pre-fill it (``suggestion``)."""

    suggestion: Any = None
    description = ""  # the suggestion in the technician's language
    photo: bytes | None = None
    severity: str | None = None

    def on_pre_enter(self, *args: Any) -> None:
        s = self.suggestion
        self.photo = None
        self.severity = s.severity if s else None
        self.ids.description.text = (self.description or s.description) if s else ""
        self.ids.action.text = ""
        for name in ("critical", "major", "minor"):
            self.ids[name].state = "down" if name == self.severity else "normal"
        super().on_pre_enter(*args)

    def choose(self, severity: str) -> None:
        self.severity = severity
        self.refresh()

    def refresh(self) -> None:
        if not self.job_id:
            return
        vm = HazardViewModel(self.store, self.job_id)
        self.ids.deadline.text = (self.t("hazard.deadline", deadline=vm.day_hm(vm.deadline(self.severity)))
                                  if self.severity else self.t("hazard.need_severity"))
        self.ids.recorded.text = self.t("hazard.recorded", n=len(vm.hazards()))
        self.ids.photo.text = self.t("checklist.photo_saved") if self.photo else self.t("hazard.photo")

    def take_photo(self) -> None:
        def done(data: bytes) -> None:
            self.photo = data
            self.refresh()

        self.app.take_photo(done)

    def save(self) -> None:
        vm = HazardViewModel(self.store, self.job_id)
        try:
            vm.record(self.severity or "", self.ids.description.text, self.ids.action.text, photo=self.photo,
                      checklist_item_key=self.suggestion.item_key if self.suggestion else None)
        except ValueError as exc:
            self.say("hazard.need_severity" if str(exc) == "severity" else "hazard.need_description")
            return
        self.suggestion, self.photo, self.description = None, None, ""
        self.ids.description.text = self.ids.action.text = ""
        self.say("hazard.saved")
        self.refresh()
