"""Cleanup (R4): the technician ticks the list, may add a photo; the customer taps or signs."""

from __future__ import annotations

from typing import Any

from mobile.screens import BaseScreen
from mobile.viewmodels.cleanup import CLEANUP_ITEMS, CleanupViewModel


class CleanupScreen(BaseScreen):
    """Four big toggles, a photo, two ways for the customer to confirm."""

    photo: bytes | None = None

    def on_pre_enter(self, *args: Any) -> None:
        self.photo = None
        for key in CLEANUP_ITEMS:
            self.ids[key].state = "normal"
        super().on_pre_enter(*args)

    def checklist(self) -> dict[str, bool]:
        return {key: self.ids[key].state == "down" for key in CLEANUP_ITEMS}

    def refresh(self) -> None:
        if not self.job_id:
            return
        vm = CleanupViewModel(self.store, self.job_id)
        done = vm.confirmation()
        self.ids.status.text = self.t("cleanup.done", at=vm.hm(done["confirmed_at"])) if done else ""
        self.ids.photo.text = self.t("checklist.photo_saved") if self.photo else self.t("cleanup.photo")
        for name in ("tap", "sign"):
            self.ids[name].disabled = bool(done)

    def take_photo(self) -> None:
        def got(data: bytes) -> None:
            self.photo = data
            self.refresh()

        self.app.take_photo(got)

    def confirm_tap(self) -> None:
        try:
            CleanupViewModel(self.store, self.job_id).confirm(self.checklist(), method="tap", photo=self.photo)
        except ValueError:
            self.say("cleanup.need_all")
            return
        self.app.refresh_pending()
        self.refresh()

    def confirm_sign(self) -> None:
        if not all(self.checklist().values()):
            self.say("cleanup.need_all")
            return
        self.app.go("signature", purpose="cleanup", cleanup_checklist=self.checklist(), cleanup_photo=self.photo)
