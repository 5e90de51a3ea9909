"""The Kivy application: root layout (top bar + screen manager), navigation, language, auto-sync."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from mobile import i18n
from mobile.change_signal import ChangeListener, Credentials, SyncOnSignal
from mobile.fonts import register_cjk_font
from mobile.session import Session
from mobile.store import DeviceStore, new_id
from mobile.sync_service import SyncService, SyncState
from mobile.viewmodels.unlock import UnlockOutcome, UnlockViewModel

log = logging.getLogger("fieldsync.mobile")
HERE = Path(__file__).parent
# (screen name, module under mobile.screens, class)
SCREENS = (
    ("login", "login", "LoginScreen"),
    ("route", "route", "RouteScreen"),
    ("job", "job", "JobScreen"),
    ("late", "late", "LateScreen"),
    ("checklist", "checklist", "ChecklistScreen"),
    ("hazard", "hazard", "HazardScreen"),
    ("quote", "quote", "QuoteScreen"),
    ("signature", "signature", "SignatureScreen"),
    ("cleanup", "cleanup", "CleanupScreen"),
    ("finish", "finish", "FinishScreen"),
    ("sync", "sync", "SyncScreen"),
    ("meter", "meter", "MeterScreen"),
    ("unlock", "unlock", "UnlockScreen"),
)
AUTO_SYNC_SECONDS = 30


def load_kv_once(path: Path) -> None:
    """Load a kv file of rules once per process (a second load would apply every rule twice)."""
    if str(path) not in Builder.files:
        Builder.load_file(str(path))


def _transport_for(session: Session):  # noqa: ANN202 (a Transport or None)
    if not (session.server_url and session.token):
        return None
    from mobile.transport import HttpTransport

    return HttpTransport(session.server_url, session.token, session.device_id)


class FieldSyncApp(App):
    """The technician's tablet app over one device store."""

    lang = StringProperty(i18n.DEFAULT_LANG)
    pending = NumericProperty(0)
    title_text = StringProperty("")

    def __init__(self, store_path: str | Path, server_url: str | None = None, lang: str | None = None,
                 auto_sync: bool = True, pin: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Nothing on the tablet is readable before the PIN: the store, the session and the sync service
        # come with it (``unlocked``). ``pin`` opens (or sets up) the store at once: tests, bench, demo.
        self.store_path = Path(store_path)
        self.unlock_vm = UnlockViewModel(self.store_path)
        self.store: DeviceStore | None = None
        self.session: Session | None = None
        self.sync: SyncService | None = None
        self.on_signal: SyncOnSignal | None = None
        self.data_key: bytes | None = None
        self._login: dict[str, Any] | None = None  # a first sign-in waiting for its PIN
        self._fresh_device_id: str | None = None
        self._server_given, self._lang_given = server_url, lang
        self.default_server = server_url or "http://127.0.0.1:5000"
        self.lang = lang or i18n.DEFAULT_LANG
        self.auto_sync = auto_sync
        self._background: Any = False  # the auto-sync clock event once started
        self.job_id: str | None = None
        self.history: list[str] = []
        self.photo_provider = None  # tests hand in a callable(done) that supplies photo bytes
        self.camera_factory = None  # None: the device camera (mobile.camera); tests hand in a fake one
        self._transport = None
        # The server's change signal (SSE) triggers a sync, so an urgent job arrives within seconds (R8).
        self.signal = ChangeListener(self._signal_credentials, self._on_change_signal,
                                     dispatch=lambda fn: Clock.schedule_once(lambda _dt: fn()))
        if pin is not None:
            vm = self.unlock_vm
            outcome = vm.setup(pin, pin) if vm.needs_setup() else vm.unlock(pin)
            if not outcome.ok:
                raise ValueError(f"the device store did not open: {outcome.message}")
            self._attach(outcome.store, outcome.key)

    # -- unlock, sign-in, wipe --
    def _attach(self, store: DeviceStore | None, key: bytes | None) -> None:
        """The store is open: the session, the sync service and the change signal over it."""
        assert store is not None
        self.store, self.data_key = store, key
        self.session = Session(store)
        self.default_server = self._server_given or self.session.server_url or self.default_server
        self.lang = self._lang_given or store.get_meta("lang", self.lang) or self.lang
        self.sync = SyncService(store, self._transport_factory,
                                dispatch=lambda fn: Clock.schedule_once(lambda _dt: fn()))
        self.sync.bind(self._on_sync_state)
        self.on_signal = SyncOnSignal(self.sync)

    def _on_change_signal(self, data: dict[str, Any]) -> None:
        if self.on_signal is not None:
            self.on_signal(data)

    def _start_background(self) -> None:
        if self.auto_sync and not self._background and self.sync is not None:
            self._background = Clock.schedule_interval(lambda _dt: self.sync is not None and self.sync.auto_tick(),
                                                       AUTO_SYNC_SECONDS)
            self.signal.start()

    def login_device_id(self) -> str:
        """The device id a sign-in registers (made once; kept in the store once there is one)."""
        if self.session is not None:
            return self.session.device_id
        if self._fresh_device_id is None:
            self._fresh_device_id = f"tablet-{new_id()}"
        return self._fresh_device_id

    def pending_password(self) -> str | None:
        """The password of a first sign-in waiting for its PIN (wraps the key as the way back in)."""
        return self._login["password"] if self._login else None

    def signed_in(self, server: str, answer: dict[str, Any], password: str, device_id: str) -> None:
        """A sign-in succeeded: a new tablet chooses its PIN next; an open one syncs."""
        if self.store is None:
            self._login = {"server": server, "answer": answer, "password": password, "device_id": device_id}
            self.go("unlock", mode="setup")
            self.current_screen.say("login.then_pin")
            return
        assert self.session is not None
        self.session.remember_login(server, answer["access_token"], answer.get("user") or {})
        if self.data_key is not None:
            self.unlock_vm.remember_password(self.data_key, password)
        self.go("route")
        self.sync_now()

    def unlocked(self, outcome: UnlockOutcome) -> None:
        """The unlock screen opened the store (or set a new PIN)."""
        if outcome.store is not None:
            self._attach(outcome.store, outcome.key)
        if self._login is not None and self.session is not None:
            login, self._login = self._login, None
            self.store.set_meta(device_id=login["device_id"])  # type: ignore[union-attr]
            self.session.remember_login(login["server"], login["answer"]["access_token"],
                                        login["answer"].get("user") or {})
        if outcome.mode == "new_pin":
            self.go("unlock", mode="new_pin")
            return
        self.history = []
        self.go("route")
        self._start_background()
        if self.session is not None and self.session.signed_in:
            self.sync_now()

    def _wiped(self) -> None:
        """The sync service erased the tablet (reported lost): forget everything, back to sign-in."""
        self.signal.stop()
        if self._background:
            self._background.cancel()
            self._background = False  # a new sign-in starts them again
        self.store = self.session = self.sync = self.on_signal = None
        self.data_key, self._transport, self.job_id, self.history = None, None, None, []
        self.go("login")
        self.current_screen.say("login.wiped")

    # -- wiring --
    def _transport_factory(self):  # noqa: ANN202
        key = (self.session.server_url, self.session.token)
        if self._transport is None or getattr(self._transport, "_key", None) != key:
            self._transport = _transport_for(self.session)
            if self._transport is not None:
                self._transport._key = key
        return self._transport

    def _signal_credentials(self) -> Credentials | None:
        session = self.session
        if session is None:
            return None
        token, url = session.token, session.server_url
        return Credentials(url, token, session.device_id) if token and url else None

    def build(self):  # noqa: ANN201
        register_cjk_font()
        import mobile.widgets  # noqa: F401 (registers SignaturePad and RouteRow with the kv Factory)

        self.title = i18n.t(self.lang, "app.title")
        load_kv_once(HERE / "widgets.kv")
        Builder.unload_file(str(HERE / "app.kv"))  # a root file: each app instance builds its own root
        root = Builder.load_file(str(HERE / "app.kv"))
        self.root = root
        if self.store is None:  # locked: the PIN first (a new tablet signs in first, then chooses one)
            first = "login" if self.unlock_vm.needs_setup() and not self.unlock_vm.legacy() else "unlock"
        else:
            first = "route" if self.session.signed_in or self.store.count_rows("job") else "login"
        screen = self.screen(first)
        if first == "unlock" and self.unlock_vm.legacy():
            screen.mode = "setup"
        root.ids.manager.current = first
        self.refresh_pending()
        self._start_background()
        Window.clearcolor = (0.97, 0.97, 0.96, 1)
        return root

    def screen(self, name: str):  # noqa: ANN201
        """The screen called ``name``, built (kv and widgets) the first time it is needed: a cold
        start builds only the screen it shows."""
        manager = self.root.ids.manager
        if manager.has_screen(name):
            return manager.get_screen(name)
        module, cls = next((m, c) for n, m, c in SCREENS if n == name)
        load_kv_once(HERE / "screens" / f"{module}.kv")
        screen = getattr(importlib.import_module(f"mobile.screens.{module}"), cls)(name=name)
        manager.add_widget(screen)
        return screen

    def take_photo(self, done) -> None:  # noqa: ANN001
        """A photo for a checklist item, hazard or cleanup: the test hook, else the device camera,
        else the file chooser (saying there is no camera)."""
        if self.photo_provider is not None:
            self.photo_provider(done)
            return
        from mobile.camera import take_photo

        take_photo(lambda key: self.t(key), done, camera_factory=self.camera_factory)

    # -- words --
    def t(self, key: str, _lang: str | None = None, **values: object) -> str:
        """The text of ``key`` in the current language (kv passes ``app.lang`` to re-render on change)."""
        return i18n.t(_lang or self.lang, key, **values)

    def toggle_lang(self) -> None:
        """Switch between Chinese and English; the choice is remembered."""
        self.lang = "en" if self.lang == "zh-CN" else "zh-CN"
        if self.store is not None:
            self.store.set_meta(lang=self.lang)
        self.title = i18n.t(self.lang, "app.title")
        self.current_screen.refresh()

    # -- navigation --
    @property
    def manager(self):  # noqa: ANN201
        return self.root.ids.manager

    @property
    def current_screen(self):  # noqa: ANN201
        return self.manager.current_screen

    def go(self, name: str, **kwargs: Any) -> None:
        """Open a screen (remembering where we came from); kwargs are set on the screen first."""
        if self.store is None and name not in ("login", "unlock"):
            name = "login" if self.unlock_vm.needs_setup() and not self.unlock_vm.legacy() else "unlock"
        screen = self.screen(name)
        for key, value in kwargs.items():
            setattr(screen, key, value)
        if self.manager.current != name:
            self.history.append(self.manager.current)
        self.manager.transition.direction = "left"
        self.manager.current = name
        if self.manager.current_screen is screen:
            screen.refresh()

    def back(self) -> None:
        """Back to the previous screen (the route when there is none)."""
        target = self.history.pop() if self.history else "route"
        if self.store is None:
            return
        self.manager.transition.direction = "right"
        self.manager.current = target

    def open_job(self, job_id: str) -> None:
        """Open a visit from the route."""
        self.job_id = job_id
        self.go("job")

    # -- sync --
    def refresh_pending(self) -> None:
        """Update the pending-change count the top bar shows."""
        self.pending = self.store.pending_count() if self.store is not None else 0

    def sync_now(self) -> None:
        """The sync button."""
        if self.store is None or self.session is None or self.sync is None:
            return
        if not self.session.signed_in:
            self.go("login")
            return
        self.sync.start()

    def _on_sync_state(self, state: SyncState) -> None:
        if state.outcome == "wiped" and not state.running:
            log.warning("sync: the tablet was reported lost; its data was erased")
            self._wiped()
            return
        self.refresh_pending()
        screen = self.current_screen if self.root else None
        # Only screens that show synced state re-read: a form being filled in keeps what is typed.
        if screen is not None and (screen.name == "sync" or (not state.running and screen.name in ("route", "job"))):
            screen.refresh()
        if state.outcome in ("signed_out", "wiped") and not state.running:
            log.warning("sync: %s", state.outcome)

    def on_stop(self) -> None:
        self.signal.stop()
        if self.sync is not None:
            self.sync.wait(5)
            self.sync.close()
        if self.store is not None:
            self.store.close()
