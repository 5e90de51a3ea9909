"""Run the app without a screen: offscreen SDL, a throw-away KIVY_HOME. Import before kivy."""

from __future__ import annotations

import os
import tempfile

HEADLESS_ENV = {
    "SDL_VIDEODRIVER": "offscreen",
    "KIVY_NO_ARGS": "1",
    "MESA_SHADER_CACHE_DISABLE": "true",
}


def configure(width: int = 1280, height: int = 800) -> None:
    """Set the environment and window size for an offscreen Kivy (call before importing kivy)."""
    for key, value in HEADLESS_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("input", "mouse", "mouse,disable_multitouch")


def start(app):  # noqa: ANN001, ANN201 (a FieldSyncApp; returns its root)
    """Build the app and put it in the window without entering the main loop (tests, screenshots)."""
    from kivy.app import App
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    App._running_app = app  # what App.run() would do: App.get_running_app() finds it
    root = app.build()
    app.root = root
    Window.add_widget(root)
    settle()
    return root


def settle(frames: int = 3) -> None:
    """Let Kivy run a few frames (layouts, kv bindings, scheduled callbacks)."""
    from kivy.base import EventLoop
    from kivy.clock import Clock

    for _ in range(frames):
        Clock.tick()
        EventLoop.idle()


def stop(app) -> None:  # noqa: ANN001
    """Take the app out of the window and close its store."""
    from kivy.app import App
    from kivy.core.window import Window

    if app.root is not None:
        Window.remove_widget(app.root)
    # on_stop closes the store, and tells kv's ``app`` proxy to forget this app (it caches it).
    app.dispatch("on_stop")
    App._running_app = None
