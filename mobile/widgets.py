"""Widgets shared by the screens: the signature pad, the photo chooser, rows for lists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.app import App
from kivy.graphics import Color, Line
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.filechooser import FileChooserListView
from kivy.uix.popup import Popup
from kivy.uix.widget import Widget

from mobile.signature import ink_pixels, strokes_to_png

MIN_INK = 8  # points; fewer is a stray touch, not a signature


class SignaturePad(Widget):
    """Draws the customer's strokes; ``png()`` renders them (see mobile.signature)."""

    strokes = ListProperty()
    has_ink = BooleanProperty(False)

    def on_touch_down(self, touch):  # noqa: ANN001 (Kivy signature)
        if not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        touch.grab(self)
        stroke = [(touch.x - self.x, touch.y - self.y)]
        self.strokes.append(stroke)
        with self.canvas:
            Color(0.05, 0.05, 0.2, 1)
            touch.ud["sig_line"] = Line(points=[touch.x, touch.y], width=2)
        return True

    def on_touch_move(self, touch):  # noqa: ANN001
        if touch.grab_current is not self or "sig_line" not in touch.ud:
            return super().on_touch_move(touch)
        x = min(max(touch.x, self.x), self.right)
        y = min(max(touch.y, self.y), self.top)
        self.strokes[-1].append((x - self.x, y - self.y))
        touch.ud["sig_line"].points += [x, y]
        self.has_ink = ink_pixels(self.strokes) >= MIN_INK
        return True

    def on_touch_up(self, touch):  # noqa: ANN001
        if touch.grab_current is self:
            touch.ungrab(self)
            return True
        return super().on_touch_up(touch)

    def clear(self) -> None:
        """Wipe the pad."""
        self.strokes = []
        self.has_ink = False
        self.canvas.clear()

    def png(self) -> bytes:
        """The strokes as a PNG of the pad's size."""
        return strokes_to_png(self.strokes, int(self.width), int(self.height))


class RouteRow(ButtonBehavior, BoxLayout):
    """One visit card on today's route (a RecycleView view class: its data are these properties)."""

    job_id = StringProperty("")
    order_text = StringProperty("")
    window_text = StringProperty("")
    status_text = StringProperty("")
    title_text = StringProperty("")
    address_text = StringProperty("")
    badges_text = StringProperty("")
    sla_text = StringProperty("")
    sla_breached = BooleanProperty(False)
    sync_text = StringProperty("")
    sync_state = StringProperty("synced")
    special_care = BooleanProperty(False)

    def on_release(self) -> None:
        App.get_running_app().open_job(self.job_id)


def choose_photo(lang_t: Callable[[str], str], done: Callable[[bytes], None]) -> None:
    """Let the technician pick a photo file (desktop); on a device the camera app would supply it."""
    box = BoxLayout(orientation="vertical", spacing=8)
    chooser = FileChooserListView(path=str(Path.home()), filters=["*.png", "*.jpg", "*.jpeg"])
    buttons = BoxLayout(size_hint_y=None, height=64, spacing=8)
    popup = Popup(title=lang_t("photo.choose"), content=box, size_hint=(0.9, 0.9))

    def use(*_: object) -> None:
        if chooser.selection:
            data = Path(chooser.selection[0]).read_bytes()
            popup.dismiss()
            done(data)

    from kivy.factory import Factory

    use_btn = Factory.BigButton(text=lang_t("photo.use"))
    use_btn.bind(on_release=use)
    cancel = Factory.BigButton(text=lang_t("photo.cancel"))
    cancel.bind(on_release=lambda *_: popup.dismiss())
    buttons.add_widget(cancel)
    buttons.add_widget(use_btn)
    box.add_widget(chooser)
    box.add_widget(buttons)
    popup.open()
