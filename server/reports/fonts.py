"""Finding the CJK font the service report embeds, so Chinese text renders and extracts back.

Order: ``FIELDSYNC_CJK_FONT`` (a TrueType .ttf/.ttc file), then a font vendored under
``server/fonts/``, then Debian's ``fonts-wqy-microhei``. TrueType outlines are preferred: text set in
them extracts back cleanly from the PDF (CFF-flavoured OpenType CJK fonts often do not).
"""

from __future__ import annotations

import os
from pathlib import Path

from server.errors import ApiError

FONT_ENV = "FIELDSYNC_CJK_FONT"
DEBIAN_PACKAGE = "fonts-wqy-microhei"
VENDORED = Path(__file__).resolve().parent.parent / "fonts"
KNOWN_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


class FontMissing(ApiError):
    """No CJK font: the report cannot be made until the package is installed (503, not a crash)."""

    def __init__(self, message: str) -> None:
        super().__init__(503, "cjk_font_missing", message, details={"package": DEBIAN_PACKAGE, "env": FONT_ENV})


def find_cjk_font() -> Path:
    """The CJK font file to embed, or ``FontMissing`` saying what to install."""
    override = os.environ.get(FONT_ENV, "").strip()
    if override:
        path = Path(override)
        if not path.is_file():
            raise FontMissing(f"{FONT_ENV}={override} is not a font file; point it at a TrueType CJK font "
                              f"or unset it and install the Debian package {DEBIAN_PACKAGE}")
        return path
    vendored = sorted(p for p in VENDORED.glob("*") if p.suffix.lower() in (".ttf", ".ttc")) if VENDORED.is_dir() else []
    for path in (*vendored, *KNOWN_PATHS):
        if path.is_file():
            return path
    raise FontMissing(
        f"no CJK font for the service report: install the Debian package {DEBIAN_PACKAGE} "
        f"(apt-get install {DEBIAN_PACKAGE}) or set {FONT_ENV} to a TrueType font file"
    )
