"""Sign in once online: registers the tablet (device id) and stores the token."""

from __future__ import annotations

import threading

from kivy.clock import Clock

from mobile.screens import BaseScreen
from sync.ports import AuthRevoked, TransportError


class LoginScreen(BaseScreen):
    """Server, username, password; sign-in runs off the UI thread."""

    def refresh(self) -> None:
        if not self.ids.server.text:
            self.ids.server.text = self.app.default_server
        self.ids.offline.disabled = not self.app.session.signed_in

    def submit(self) -> None:
        server, user, password = self.ids.server.text.strip(), self.ids.username.text.strip(), self.ids.password.text
        if not (server and user and password):
            self.say("login.failed")
            return
        self.say("login.busy")
        device_id = self.app.session.device_id
        threading.Thread(target=self._login, args=(server, user, password, device_id), daemon=True).start()

    def _login(self, server: str, user: str, password: str, device_id: str) -> None:
        from mobile.transport import login

        try:
            answer = login(server, user, password, device_id)
        except AuthRevoked:
            Clock.schedule_once(lambda _dt: self.say("login.failed"))
            return
        except TransportError:
            Clock.schedule_once(lambda _dt: self.say("login.unreachable"))
            return
        Clock.schedule_once(lambda _dt: self._signed_in(server, answer))

    def _signed_in(self, server: str, answer: dict) -> None:
        self.app.session.remember_login(server, answer["access_token"], answer.get("user") or {})
        self.ids.password.text = ""
        self.app.go("route")
        self.app.sync_now()
