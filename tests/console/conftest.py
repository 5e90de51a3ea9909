"""Fixtures shared by the console's browser tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

DEMO_PASSWORD = "fieldsync-demo"  # server.demo.org.PASSWORD


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go ($CONSOLE_SCREENSHOTS, else the test's temporary folder)."""
    target = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def signed_in_page(chromium, base_url: str, start: str, timeout_ms: int = 10_000,
                   username: str = "dispatcher1") -> Iterator:
    """A fresh page (Chinese locale, desktop size) signed in as a demo user (the dispatcher), on ``start``."""
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(base_url + start)
    page.wait_for_url("**/console/login**")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button.primary")
    page.wait_for_url(f"**{start}**")
    yield page
    context.close()
