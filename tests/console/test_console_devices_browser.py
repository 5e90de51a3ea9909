"""A lost tablet reported from the console, clicked in a real Chromium against the real server on loopback.

A demo technician's tablet signs in and syncs over HTTP (a pull, then a note pushed with its clock two
minutes behind); the dispatcher opens the tablets page, reports it lost, reads on the confirmation what
is lost, confirms, and sees it marked "erase ordered" with what the server last received from it. The
tablet's next request is told to erase itself. Screenshot: ``console-devices.png`` in ``$CONSOLE_SCREENSHOTS``.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests

from tests.console.conftest import DEMO_PASSWORD, signed_in_page
from tests.fixtures.sync import PROTOCOL_VERSION, mutation

DEVICE = "tablet-lost-browser"


@pytest.fixture
def page(chromium, live_console):
    """A fresh browser page signed in as the demo dispatcher, on the board."""
    yield from signed_in_page(chromium, live_console.url, "/console/board")


def _tablet_syncs(base: str) -> dict[str, str]:
    """tech1 signs in on DEVICE, pulls, and pushes one note on a job of theirs; the tablet's headers."""
    resp = requests.post(f"{base}/api/v1/auth/login", timeout=10,
                         json={"username": "tech1", "password": DEMO_PASSWORD, "device_id": DEVICE})
    assert resp.status_code == 200, resp.text
    headers = {"Authorization": f"Bearer {resp.json()['access_token']}", "X-Fieldsync-Protocol": str(PROTOCOL_VERSION)}
    resp = requests.post(f"{base}/api/v1/sync/pull", json={"protocol_version": PROTOCOL_VERSION, "limit": 500},
                         headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    job_id = next(r["id"] for r in resp.json()["rows"] if r["collection"] == "job")
    note = mutation("note", uuid.uuid4(), "create", job_id=job_id, text="表前阀已关闭", author_name="陆建明",
                    written_at=dt.datetime.now(dt.UTC).isoformat())
    resp = requests.post(f"{base}/api/v1/sync/push", headers=headers, timeout=30, json={
        "protocol_version": PROTOCOL_VERSION, "device_id": DEVICE,
        "device_time": (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=125)).isoformat(), "mutations": [note]})
    assert resp.status_code == 200 and resp.json()["results"][0]["status"] == "applied", resp.text
    return headers


def test_dispatcher_reports_a_lost_tablet_and_sees_it_marked(page, live_console, shots):
    headers = _tablet_syncs(live_console.url)
    page.click("nav.mainnav >> text=平板管理")
    page.wait_for_url("**/console/devices")
    row = page.locator(f"tr.tablet[data-device={DEVICE}]")
    assert row.get_attribute("data-status") == "active"
    assert "陆建明" in row.inner_text() and "慢 2 分" in row.inner_text()

    row.locator("button.danger").click()
    page.wait_for_url("**/console/devices/confirm**")
    lost = page.locator("#confirm .lost").inner_text()
    assert "该平板最后一次联系服务器是" in lost and "永久丢失" in lost
    page.screenshot(path=shots / "console-devices-confirm.png", full_page=True)
    page.click("#confirm-revoke")
    page.wait_for_url(f"**/console/devices?shown={DEVICE}")

    assert f"平板 {DEVICE} 已上报遗失" in page.locator(".flash.ok").inner_text()
    row = page.locator(f"tr.tablet[data-device={DEVICE}]")
    assert row.get_attribute("data-status") == "wipe_ordered" and "已下令擦除" in row.inner_text()
    assert row.locator("button").count() == 0
    received = page.locator("#received")
    assert received.locator(".received-count").inner_text() == "1" and "备注" in received.inner_text()
    page.screenshot(path=shots / "console-devices.png", full_page=True)

    # The tablet's next contact: its token is dead and it is told to erase itself.
    resp = requests.post(f"{live_console.url}/api/v1/sync/pull", json={"protocol_version": PROTOCOL_VERSION},
                         headers=headers, timeout=10)
    assert resp.status_code == 401 and resp.json()["details"]["wipe"] is True
