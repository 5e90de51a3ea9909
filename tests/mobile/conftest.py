"""Kivy-specific fixtures: an offscreen window (env set BEFORE kivy is imported) and the app in it."""

from __future__ import annotations

import os
import tempfile

# Kivy reads these at import time: set them before anything imports kivy. Never KIVY_GL_BACKEND=mock.
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("MESA_SHADER_CACHE_DISABLE", "true")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

import datetime as dt  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from mobile.demo import DEMO_PIN, TZ  # noqa: E402


@pytest.fixture
def make_kivy_app(tmp_path):
    """``make_kivy_app(demo_jobs=10, server_url=None)``: the tablet app built into the offscreen window
    (no main loop), over a fresh device store with a demo day of ``demo_jobs`` visits (0: empty)."""
    from mobile import headless

    headless.configure()
    from mobile.app import FieldSyncApp
    from mobile.demo import load_demo

    made = []

    def make(demo_jobs: int = 10, server_url: str | None = None):
        app = FieldSyncApp(tmp_path / f"device-{len(made)}.sqlite", server_url=server_url, auto_sync=False,
                           pin=DEMO_PIN)  # an encrypted store, opened as the unlock screen would
        if demo_jobs:
            load_demo(app.store, jobs=demo_jobs, day=dt.datetime.now(TZ).date())
        headless.start(app)
        app.manager.transition.duration = 0
        made.append(app)
        return app

    yield make
    for app in made:
        headless.stop(app)


@pytest.fixture
def kivy_app(make_kivy_app):
    """The tablet app with a demo day of 10 visits, in the offscreen window."""
    return make_kivy_app()


class Finger:
    """Touches a real window the way a gloved finger would: down and up on a widget's centre."""

    def __init__(self, app) -> None:
        self.app = app

    def find(self, name: str, root=None):
        """A widget by kv id on the current screen, or by the ``fs_id`` screens give built widgets."""
        screen = root or self.app.current_screen
        if name in screen.ids:
            return screen.ids[name]
        from kivy.core.window import Window

        for top in [screen, *Window.children]:
            for widget in top.walk():
                if getattr(widget, "fs_id", None) == name:
                    return widget
        raise LookupError(f"no widget {name!r} on {screen.name}")

    def tap(self, target, settle: int = 4) -> None:
        """Scroll the widget into view if needed, then tap its centre."""
        from kivy.tests.common import UnitTestTouch
        from kivy.uix.scrollview import ScrollView

        from mobile import headless

        widget = self.find(target) if isinstance(target, str) else target
        assert not widget.disabled, f"{target} is disabled"
        parent = widget.parent
        while parent is not None and not isinstance(parent, ScrollView):
            parent = parent.parent if parent.parent is not parent else None  # the Window is its own parent
        headless.settle(3)  # layouts first: a rebuilt list has no positions yet
        from kivy.core.window import Window

        # A RecycleView's rows are laid out in view already; other lists scroll the widget into view.
        if parent is not None and type(parent).__name__ != "RecycleView" and not self._visible(widget, parent):
            parent.scroll_to(widget, padding=10, animate=False)
            last = None
            for _ in range(60):  # until the scroll effect has come to rest
                headless.settle(1)
                here = widget.to_window(*widget.center)
                if here == last:
                    break
                last = here
        x, y = widget.to_window(*widget.center)
        assert 0 <= x <= Window.width and 0 <= y <= Window.height, f"{target} is off screen at {(x, y)}"
        released: list[bool] = []
        uid = widget.fbind("on_release", lambda *_: released.append(True))
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        headless.settle(1)
        touch.touch_up()
        # A ScrollView hands a tap to its children on timers (a tap might yet become a scroll): run
        # the UI loop until the button has really been released, however slow the machine is.
        deadline = time.monotonic() + 5
        while not released and time.monotonic() < deadline:
            headless.settle(1)
            time.sleep(0.01)
        widget.unbind_uid("on_release", uid)
        assert released, f"the tap on {target} never reached it"
        headless.settle(settle)

    @staticmethod
    def _visible(widget, scroller) -> bool:
        x, y = widget.to_window(*widget.center)
        left, bottom = scroller.to_window(scroller.x, scroller.y)
        return left <= x <= left + scroller.width and bottom <= y <= bottom + scroller.height

    def draw(self, pad, strokes: int = 3) -> None:
        """Sign on a signature pad with real touch strokes."""
        from kivy.tests.common import UnitTestTouch

        from mobile import headless

        for s in range(strokes):
            x0, y0 = pad.to_window(pad.x + 40 + s * 120, pad.center_y)
            touch = UnitTestTouch(x0, y0)
            touch.touch_down()
            for i in range(1, 16):
                touch.touch_move(x0 + i * 6, y0 + (30 if i % 4 < 2 else -30))
            touch.touch_up()
        headless.settle(2)


@pytest.fixture
def finger(make_kivy_app) -> Finger:
    """Touches on the window of the app made last."""
    from kivy.app import App

    class _Current(Finger):
        @property
        def app(self):  # noqa: ANN202
            return App.get_running_app()

        @app.setter
        def app(self, value) -> None:  # noqa: ANN001
            pass

    return _Current(None)
