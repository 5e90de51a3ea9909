"""Find a CJK font and make it Kivy's default, so Chinese renders (Roboto shows boxes)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("fieldsync.mobile.fonts")

# Debian fonts-wqy-microhei first (what CI installs), then other common CJK fonts.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


def find_cjk_font() -> str | None:
    """The first CJK font file present (``FIELDSYNC_CJK_FONT`` overrides), or None."""
    override = os.environ.get("FIELDSYNC_CJK_FONT")
    for candidate in ((override,) if override else ()) + CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def register_cjk_font() -> str | None:
    """Register the CJK font as "Roboto" (Kivy's default name) before any widget is built.

    Returns the font used, or None when none was found (Roboto stays, Chinese shows as boxes).
    """
    from kivy.core.text import LabelBase

    path = find_cjk_font()
    if path is None:
        log.warning("no CJK font found (install fonts-wqy-microhei): Chinese text will not render")
        return None
    LabelBase.register(name="Roboto", fn_regular=path, fn_bold=path)
    return path
