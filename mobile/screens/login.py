"""Sign in once online: registers the tablet (device id) and stores the token. On a new tablet the
PIN is chosen next (the unlock screen); after that the PIN opens the app, the password is only asked
again when the token expires or the PIN is locked."""

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
        session = self.app.session
        self.ids.offline.disabled = session is None or not session.signed_in

    def submit(self) -> None:
        server, user, password = self.ids.server.text.strip(), self.ids.username.text.strip(), self.ids.password.text
        if not (server and user and password):
            self.say("login.failed")
            return
        self.say("login.busy")
        device_id = self.app.login_device_id()
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
        Clock.schedule_once(lambda _dt: self._signed_in(server, answer, password, device_id))

    def _signed_in(self, server: str, answer: dict, password: str, device_id: str) -> None:
        self.ids.password.text = ""
        self.app.signed_in(server, answer, password, device_id)
