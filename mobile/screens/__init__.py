"""Screens: each ``<name>.kv`` beside a thin ``<name>.py`` over a view-model."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen


class BaseScreen(Screen):
    """A screen that re-reads its view-model when shown and when the language changes."""

    message = StringProperty("")  # the last outcome, shown in the screen's status line

    @property
    def app(self) -> Any:
        return App.get_running_app()

    def t(self, key: str, **values: object) -> str:
        """A text in the current language."""
        return self.app.t(key, **values)

    @property
    def store(self) -> Any:
        return self.app.store

    @property
    def job_id(self) -> str:
        return self.app.job_id

    def on_pre_enter(self, *args: Any) -> None:
        self.message = ""
        self.refresh()

    def refresh(self) -> None:
        """Re-read the view-model and fill the widgets."""

    def say(self, key: str, **values: object) -> None:
        """Show an outcome in the status line."""
        self.message = self.t(key, **values)
        self.app.refresh_pending()
