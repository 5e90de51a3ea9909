"""Widgets shared by the screens: the signature pad, the photo chooser, rows for lists."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.filechooser import FileChooserListView
from kivy.uix.popup import Popup
from kivy.uix.recycleview.views import RecycleDataViewBehavior
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


# The route row's texts: (font sp, bold, column, line, lines in the column, halign, colour).
INK, MUTED, AMBER, RED, GREEN = (0.10, 0.11, 0.13, 1), (0.30, 0.32, 0.36, 1), (0.80, 0.45, 0.0, 1), \
    (0.72, 0.12, 0.12, 1), (0.10, 0.50, 0.25, 1)
ROW_SLOTS: dict[str, tuple[float, bool, int, int, int, str, tuple]] = {
    "order": (28, True, 0, 0, 1, "center", INK),
    "window": (22, True, 1, 0, 2, "left", INK),
    "status": (17, False, 1, 1, 2, "left", MUTED),
    "title": (19, True, 2, 0, 3, "left", INK),
    "address": (18, False, 2, 1, 3, "left", INK),
    "badges": (17, True, 2, 2, 3, "left", AMBER),
    "sla": (17, True, 3, 0, 2, "right", AMBER),
    "sync": (17, True, 3, 1, 2, "right", GREEN),
}
ROW_COLUMNS = (56, 170, None, 220)  # dp; None takes the rest
SYNC_COLOURS = {"synced": GREEN, "pending": AMBER, "parked": RED}


class TextTextures:
    """Rendered one-line texts by (text, size, bold, width, halign), least recently used dropped first.

    A recycled row swaps whole textures instead of re-rendering its labels: re-rendering a label
    uploads into a texture the previous frame still draws, and on a software GL (llvmpipe) that
    upload waits for the whole frame (~50 ms a label). A new texture waits for nothing.
    """

    def __init__(self, limit: int = 1500) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple, tuple[CoreLabel, Texture]] = OrderedDict()
        self.rendered = 0  # how many texts were rendered (the rest came from the cache)

    def get(self, text: str, font_sp: float, bold: bool, width: int, halign: str) -> Texture | None:
        """The texture of ``text`` clipped to ``width`` px ("…" at the end when too long); None for ''."""
        if not text or width <= 0:
            return None
        key = (text, font_sp, bold, width, halign)
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found[1]
        # As narrow as the text (a texture the column's width would be mostly empty pixels); a text
        # wider than the column is cut to it with "…".
        label = CoreLabel(text=text, font_size=sp(font_sp), bold=bold)
        if label.get_extents(text)[0] > width:
            label = CoreLabel(text=text, font_size=sp(font_sp), bold=bold, text_size=(width, None), halign=halign,
                              shorten=True, shorten_from="right", max_lines=1)
        label.refresh()
        self.rendered += 1
        self._items[key] = (label, label.texture)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
        return label.texture


ROW_TEXTURES = TextTextures()


class RouteRow(RecycleDataViewBehavior, ButtonBehavior, Widget):
    """One visit card on today's route, the RecycleView's view class.

    Drawn with canvas rectangles over cached text textures (no Label widgets, no layout pass): a
    row scrolled into view only looks its texts up (``refresh_view_attrs``) and moves rectangles.
    The texts come ready from ``RouteViewModel.rows``.
    """

    job_id = StringProperty("")
    special_care = BooleanProperty(False)  # R11: an orange bar down the left edge
    sla_breached = BooleanProperty(False)
    sync_state = StringProperty("synced")

    def __init__(self, **kwargs: Any) -> None:
        self.texts: dict[str, str] = dict.fromkeys(ROW_SLOTS, "")
        self._widths: dict[str, int] = {}
        self._textures_of: dict[str, Texture | None] = dict.fromkeys(ROW_SLOTS)
        super().__init__(**kwargs)
        with self.canvas:
            self._bg_colour = Color(1, 1, 1, 1)
            self._bg = Rectangle()
            self._care_colour = Color(0, 0, 0, 0)
            self._care = Rectangle()
            self._slots: dict[str, tuple[Color, Rectangle]] = {}
            for name, spec in ROW_SLOTS.items():
                self._slots[name] = (Color(*spec[6]), Rectangle(size=(0, 0)))
        self.bind(pos=self._place, size=self._resize, state=self._paint)

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        """Show another visit: look its texts up, recolour, move the rectangles."""
        self.job_id = data["job_id"]
        self.special_care = bool(data.get("special_care"))
        self.sla_breached = bool(data.get("sla_breached"))
        self.sync_state = data.get("sync_state", "synced")
        self.texts = {name: data.get(f"{name}_text", "") for name in ROW_SLOTS}
        self._care_colour.rgba = (0.9, 0.45, 0.1, 1) if self.special_care else (0, 0, 0, 0)
        self._slots["sla"][0].rgba = RED if self.sla_breached else AMBER
        self._slots["sync"][0].rgba = SYNC_COLOURS.get(self.sync_state, AMBER)
        self._textures()
        self._place()

    def _columns(self) -> list[tuple[float, float]]:
        """(x, width) of each column, in window pixels."""
        pad, gap, right = dp(12), dp(12), dp(24)  # the right edge clears the scroll bar
        fixed = sum(dp(w) for w in ROW_COLUMNS if w is not None) + gap * (len(ROW_COLUMNS) - 1) + pad + right
        x, out = self.x + pad, []
        for w in ROW_COLUMNS:
            width = dp(w) if w is not None else max(dp(80), self.width - fixed)
            out.append((x, width))
            x += width + gap
        return out

    def _textures(self) -> None:
        columns = self._columns()
        for name, (font, bold, col, _line, _lines, halign, _colour) in ROW_SLOTS.items():
            width = int(columns[col][1])
            texture = ROW_TEXTURES.get(self.texts[name], font, bold, width, halign)
            self._textures_of[name] = texture
            self._slots[name][1].texture = texture  # None draws Kivy's blank texture: sized 0 below
            self._widths[name] = width

    def _resize(self, *_: Any) -> None:
        if any(self._widths.get(n) != int(self._columns()[spec[2]][1]) for n, spec in ROW_SLOTS.items()):
            self._textures()
        self._place()

    def _place(self, *_: Any) -> None:
        inset = dp(3)
        self._bg.pos, self._bg.size = (self.x, self.y + inset), (self.width, self.height - 2 * inset)
        self._care.pos, self._care.size = (self.x, self.y + inset), (dp(8), self.height - 2 * inset)
        columns = self._columns()
        top, inner = self.top - dp(6), self.height - dp(12)
        for name, (_font, _bold, col, line, lines, halign, _colour) in ROW_SLOTS.items():
            rect = self._slots[name][1]
            texture = self._textures_of[name]
            if texture is None:
                rect.size = (0, 0)
                continue
            slot_h = inner / lines
            slot_top = top - slot_h * line
            x, width = columns[col]
            spare = max(0, width - texture.width)
            x += {"left": 0, "center": spare / 2, "right": spare}[halign]
            rect.size = texture.size
            rect.pos = (int(x), int(slot_top - slot_h / 2 - texture.height / 2))

    def _paint(self, *_: Any) -> None:
        self._bg_colour.rgba = (1, 1, 1, 1) if self.state == "normal" else (0.88, 0.92, 0.98, 1)

    def on_release(self) -> None:
        App.get_running_app().open_job(self.job_id)


def choose_photo(lang_t: Callable[[str], str], done: Callable[[bytes], None], message: str = "") -> Popup:
    """Let the technician pick a photo file (a desktop, or a device without a camera); ``message``
    says why the camera is not offered."""
    from kivy.factory import Factory

    box = BoxLayout(orientation="vertical", spacing=8)
    if message:
        note = Factory.Warn(text=message)
        note.fs_id = "photo:message"
        box.add_widget(note)
    chooser = FileChooserListView(path=str(Path.home()), filters=["*.png", "*.jpg", "*.jpeg"])
    chooser.fs_id = "photo:chooser"
    buttons = BoxLayout(size_hint_y=None, height=dp(72), spacing=dp(12))
    # A light sheet: the app's dark-ink labels (file names included) stay readable on it.
    popup = Popup(title=lang_t("photo.choose"), content=box, size_hint=(0.9, 0.9), title_size="22sp",
                  background="", background_color=(0.97, 0.97, 0.96, 1), title_color=INK,
                  separator_color=(0.05, 0.33, 0.62, 1))

    def use(*_: object) -> None:
        if chooser.selection:
            data = Path(chooser.selection[0]).read_bytes()
            popup.dismiss()
            done(data)

    use_btn = Factory.BigButton(text=lang_t("photo.use"))
    use_btn.fs_id = "photo:use"
    use_btn.bind(on_release=use)
    cancel = Factory.QuietButton(text=lang_t("photo.cancel"))
    cancel.fs_id = "photo:cancel"
    cancel.bind(on_release=lambda *_: popup.dismiss())
    buttons.add_widget(cancel)
    buttons.add_widget(use_btn)
    box.add_widget(chooser)
    box.add_widget(buttons)
    popup.open()
    return popup
