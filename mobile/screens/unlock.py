"""The PIN screen: choose a PIN at first sign-in, enter it at every cold start, the account password
after too many wrong PINs (over ``mobile.viewmodels.unlock.UnlockViewModel``)."""

from __future__ import annotations

from kivy.properties import StringProperty

from mobile.screens import BaseScreen

HINTS = {"setup": "unlock.setup_hint", "pin": "unlock.pin_hint", "password": "unlock.password_hint",
         "new_pin": "unlock.new_pin_hint", "locked": "unlock.locked_hint", "change_pin": "unlock.change_pin_hint"}


class UnlockScreen(BaseScreen):
    """One form whose fields follow the mode."""

    mode = StringProperty("pin")  # setup | pin | password | new_pin | locked
    hint = StringProperty("")

    def refresh(self) -> None:
        vm = self.app.unlock_vm
        if self.mode not in ("setup", "new_pin", "change_pin"):
            self.mode = vm.mode()
        legacy = self.mode == "setup" and vm.legacy()
        self.hint = self.t("unlock.legacy_hint" if legacy else HINTS[self.mode])

    def on_mode(self, *_: object) -> None:
        if self.app is not None and self.app.unlock_vm is not None:
            self.refresh()

    def submit(self) -> None:
        vm, app = self.app.unlock_vm, self.app
        pin, confirm, password = self.ids.pin.text, self.ids.confirm.text, self.ids.password.text
        for field in (self.ids.pin, self.ids.confirm, self.ids.password):
            field.text = ""
        if self.mode == "pin":
            outcome = vm.unlock(pin)
        elif self.mode == "password":
            outcome = vm.unlock_with_password(password)
        elif self.mode == "setup":
            outcome = vm.setup(pin, confirm, password=app.pending_password())
        elif self.mode == "new_pin":
            outcome = vm.new_pin(app.data_key, pin, confirm)
        elif self.mode == "change_pin":
            outcome = vm.verify_pin(app.data_key, pin)
            if outcome.ok:  # the current PIN was right: now the new one, twice
                self.mode = "new_pin"
                self.hint = self.t(outcome.message)
            else:
                self.say(outcome.message, **outcome.values)
            return
        else:
            return
        self.say(outcome.message, **outcome.values)
        if outcome.ok:
            app.unlocked(outcome)
        else:
            self.mode = outcome.mode
