"""Photos from the camera (a fake camera texture in the offscreen window) and the file-chooser fallback
on a device without one: either way the photo lands in the store's blob area with its hazard."""

from __future__ import annotations

import io
import time

from mobile import camera as camera_module
from mobile import headless


def _hazard_screen(app, finger):
    job = next(j for j in app.store.all("job") if j["job_type"] == "repair" and j["route_order"] == 2)
    app.open_job(job["id"])
    headless.settle(3)
    finger.tap("check_in")
    finger.tap("hazard")
    assert app.manager.current == "hazard"
    return job


def _record_hazard(app, finger, job):
    screen = app.current_screen
    finger.tap("minor")
    screen.ids.description.text = "软管老化"
    finger.tap("save")
    hazards = app.store.for_job("hazard", job["id"])
    assert len(hazards) == 1
    return hazards[0]


def _fake_camera(width: int = 64, height: int = 48):
    """A widget showing a camera frame: red in its top half, blue below (as a real camera's texture)."""
    from kivy.graphics.texture import Texture
    from kivy.uix.image import Image

    texture = Texture.create(size=(width, height), colorfmt="rgba")
    rows_blue, rows_red = bytes([0, 0, 255, 255]) * width * (height // 2), bytes([255, 0, 0, 255]) * width * (height // 2)
    texture.blit_buffer(rows_blue + rows_red, colorfmt="rgba", bufferfmt="ubyte")  # rows go bottom first
    widget = Image(texture=texture, fit_mode="contain")
    widget.play = True
    return widget


def test_a_photo_captured_from_the_camera_is_stored_with_the_hazard(make_kivy_app, finger):
    app = make_kivy_app()
    cameras = []
    app.camera_factory = lambda: cameras.append(_fake_camera()) or cameras[-1]
    job = _hazard_screen(app, finger)
    finger.tap("photo")
    assert cameras, "the camera was not offered"
    assert finger.find("photo:capture").text == app.t("photo.capture")
    finger.tap("photo:capture")
    assert cameras[0].play is False  # the camera is released when the popup closes
    assert app.current_screen.ids.photo.text == app.t("checklist.photo_saved")
    hazard = _record_hazard(app, finger, job)
    data = app.store.blob(hazard["photo_sha256"])
    assert data[:3] == b"\xff\xd8\xff"  # a JPEG
    # The outbox entry names the blob, so it is uploaded with the hazard.
    mutation = next(m for m in app.store.pending(1000) if m.collection == "hazard")
    assert mutation.fields["photo_sha256"] == hazard["photo_sha256"]
    assert [ref.content_type for ref, _ in app.store.blobs_for([mutation])] == ["image/jpeg"]

    # The picture is the frame, the right way up: red on top.
    from kivy.core.image import Image as CoreImage

    image = CoreImage(io.BytesIO(data), ext="jpg")
    assert image.size == (64, 48)
    pixels = image.texture.pixels  # the file's top row first
    r, g, b = pixels[0], pixels[1], pixels[2]
    assert r > 200 and g < 60 and b < 60, (r, g, b)


def test_capture_before_the_first_frame_says_so_and_keeps_the_popup(make_kivy_app, finger):
    from kivy.uix.widget import Widget

    app = make_kivy_app()
    blank = Widget()
    blank.texture = None
    app.camera_factory = lambda: blank
    job = _hazard_screen(app, finger)
    finger.tap("photo")
    finger.tap("photo:capture")
    assert finger.find("photo:capture")  # still open
    from kivy.core.window import Window

    popup = next(w for w in Window.children if isinstance(w, camera_module.CapturePopup))
    assert popup.status.text == app.t("photo.not_ready")
    finger.tap("photo:cancel")
    deadline = time.monotonic() + 5  # the popup fades out over real time: frames, however slow the machine
    while [w for w in Window.children if isinstance(w, camera_module.CapturePopup)] and time.monotonic() < deadline:
        headless.settle(1)
    assert not [w for w in Window.children if isinstance(w, camera_module.CapturePopup)]
    assert app.current_screen.ids.photo.text == app.t("hazard.photo")
    assert app.store.for_job("hazard", job["id"]) == []


def test_without_a_camera_the_file_chooser_opens_with_the_reason_and_stores_the_file(make_kivy_app, finger,
                                                                                      tmp_path, monkeypatch):
    monkeypatch.setattr(camera_module, "camera_available", lambda: False)
    assert camera_module.default_camera() is None
    photo = tmp_path / "meter.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"a photo taken earlier")
    app = make_kivy_app()
    job = _hazard_screen(app, finger)
    finger.tap("photo")
    message = finger.find("photo:message")
    assert message.text == app.t("photo.no_camera")
    chooser = finger.find("photo:chooser")
    chooser.path = str(tmp_path)
    chooser.selection = [str(photo)]
    finger.tap("photo:use")
    assert app.current_screen.ids.photo.text == app.t("checklist.photo_saved")
    hazard = _record_hazard(app, finger, job)
    assert app.store.blob(hazard["photo_sha256"]) == photo.read_bytes()
    mutation = next(m for m in app.store.pending(1000) if m.collection == "hazard")
    assert [ref.content_type for ref, _ in app.store.blobs_for([mutation])] == ["image/png"]

