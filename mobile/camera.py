"""Photos from the device camera (checklist, hazard, cleanup), with the file chooser as the fallback.

``take_photo`` opens a capture popup over the live camera (Kivy's Camera widget over
``kivy.core.camera``); "Capture" encodes the current frame as a JPEG and hands the bytes to
``done``, exactly as the file chooser hands a file's bytes: the view-models store them in the
device store's blob area in the same transaction as the row that references them. Without a
camera (a desktop, no camera provider, the camera refusing to open) the file chooser opens with a
message saying why.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from kivy.factory import Factory
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup

log = logging.getLogger("fieldsync.mobile.camera")

RESOLUTION = (1280, 720)

Translate = Callable[[str], str]
Done = Callable[[bytes], None]


def camera_available() -> bool:
    """Whether Kivy has a camera provider on this platform (on Linux: gstreamer or OpenCV)."""
    try:
        from kivy.core.camera import Camera as CoreCamera
    except Exception:  # a provider that fails to import is no camera
        return False
    return CoreCamera is not None


def default_camera() -> Any | None:
    """The device's first camera, playing, as a widget with a ``texture``; None when there is none."""
    if not camera_available():
        return None
    from kivy.uix.camera import Camera

    try:
        camera = Camera(index=0, resolution=RESOLUTION, play=True, allow_stretch=True)
    except Exception as exc:  # the provider is there but no device opens
        log.warning("camera: %s", exc)
        return None
    return camera if getattr(camera, "_camera", None) is not None else None


def frame_jpeg(texture: Any) -> bytes:
    """The camera's current frame (a texture) as JPEG bytes, the way up it is shown.

    A texture's rows are stored bottom first; one drawn flipped (camera providers flip theirs) is
    already the right way up in the file, any other is flipped on the way out.
    """
    from kivy.core.image import Image as CoreImage

    coords = texture.tex_coords
    shown_flipped = coords[1] > coords[5]  # v of the bottom-left corner above v of the top-right one
    out = io.BytesIO()
    CoreImage(texture).save(out, flipped=not shown_flipped, fmt="jpg")
    return out.getvalue()


def _tag(widget: Any, name: str) -> Any:
    widget.fs_id = name
    return widget


class CapturePopup(Popup):
    """The live camera and two large buttons: capture, or choose a file instead."""

    def __init__(self, t: Translate, camera: Any, done: Done, **kwargs: Any) -> None:
        self._t, self.camera, self._done = t, camera, done
        box = BoxLayout(orientation="vertical", spacing=8)
        box.add_widget(camera)
        self.status = Factory.Warn(text="")
        box.add_widget(self.status)
        buttons = BoxLayout(size_hint_y=None, height="72dp", spacing=12)
        cancel = _tag(Factory.QuietButton(text=t("photo.cancel")), "photo:cancel")
        cancel.bind(on_release=lambda *_: self.dismiss())
        from_file = _tag(Factory.QuietButton(text=t("photo.from_file")), "photo:from_file")
        from_file.bind(on_release=lambda *_: self.use_file())
        capture = _tag(Factory.BigButton(text=t("photo.capture")), "photo:capture")
        capture.bind(on_release=lambda *_: self.capture())
        for button in (cancel, from_file, capture):
            buttons.add_widget(button)
        box.add_widget(buttons)
        super().__init__(title=t("photo.camera_title"), content=box, size_hint=(0.92, 0.94), auto_dismiss=False,
                         title_size="22sp", background="", background_color=(0.97, 0.97, 0.96, 1),
                         title_color=(0.10, 0.11, 0.13, 1), separator_color=(0.05, 0.33, 0.62, 1), **kwargs)
        self.bind(on_dismiss=lambda *_: self._stop_camera())

    def _stop_camera(self) -> None:
        if hasattr(self.camera, "play"):
            self.camera.play = False

    def capture(self) -> bytes | None:
        """Encode the frame shown now and hand it on; None (and a message) when no frame arrived yet."""
        texture = getattr(self.camera, "texture", None)
        if texture is None or texture.width < 2:
            self.status.text = self._t("photo.not_ready")
            return None
        data = frame_jpeg(texture)
        self.dismiss()
        self._done(data)
        return data

    def use_file(self) -> None:
        """Choose a file instead (a photo taken earlier with another app)."""
        self.dismiss()
        from mobile.widgets import choose_photo

        choose_photo(self._t, self._done)


def take_photo(t: Translate, done: Done, camera_factory: Callable[[], Any | None] | None = None) -> Popup:
    """Open the camera popup, or the file chooser with the reason when there is no camera."""
    camera = (camera_factory or default_camera)()
    if camera is None:
        from mobile.widgets import choose_photo

        return choose_photo(t, done, message=t("photo.no_camera"))
    popup = CapturePopup(t, camera, done)
    popup.open()
    return popup
