"""Every word on screen comes from the catalogues, in both languages; no screen hard-codes UI text."""

from __future__ import annotations

import re
from pathlib import Path

from mobile import i18n
from mobile.fonts import find_cjk_font

MOBILE = Path(__file__).resolve().parents[2] / "mobile"
SCREEN_FILES = sorted((MOBILE / "screens").glob("*.*")) + [MOBILE / "app.kv", MOBILE / "widgets.kv"]
KEY_USE = re.compile(r"""\bt\(\s*['"]([a-z_]+\.[a-z0-9_.]+)['"]""")
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_catalogues_have_the_same_keys_and_no_empty_text():
    zh, en = i18n.CATALOGUES["zh-CN"], i18n.CATALOGUES["en"]
    assert zh.keys() == en.keys()
    blank_ok = {"sync.outcome.never"}
    assert [k for k in zh if not zh[k] and k not in blank_ok] == []
    assert [k for k in en if not en[k] and k not in blank_ok] == []
    assert i18n.t("zh-CN", "route.count", n=3) == "共 3 项任务" and i18n.t("en", "route.count", n=3) == "3 visits"


def test_every_key_the_screens_use_exists():
    used = set()
    for path in SCREEN_FILES:
        used |= set(KEY_USE.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 80
    # Keys ending in "." are prefixes completed at run time (checked in the next test).
    assert sorted(k for k in used if not k.endswith(".") and not i18n.has(k)) == []


def test_dynamic_keys_cover_every_value_they_are_built_from():
    from mobile.viewmodels.cleanup import CLEANUP_ITEMS, PAY_METHODS
    from mobile.viewmodels.visit import CNC_REASONS
    from sync.domain.hazards import SEVERITIES
    from sync.domain.jobs import JobStatus
    from sync.reasons import CONFLICTS

    needed = [f"status.{s.value}" for s in JobStatus] + [f"severity.{s}" for s in SEVERITIES]
    needed += [f"cleanup.{k}" for k in CLEANUP_ITEMS] + [f"pay.{m}" for m in PAY_METHODS]
    needed += [f"cnc.{r}" for r in CNC_REASONS] + [f"reason.{r}" for r in CONFLICTS]
    needed += [f"job_type.{t}" for t in ("safety_inspection", "repair", "meter_work", "installation",
                                         "complaint_visit", "hazard_rectification", "emergency")]
    needed += [f"sync.outcome.{o}" for o in ("never", "ok", "offline", "protocol_mismatch", "signed_out", "wiped",
                                            "error")]
    needed += [f"quote.state.{s}" for s in ("none", "editing", "draft", "approved", "refused", "void")]
    needed += [f"calibration.{s}" for s in ("ok", "due_soon", "overdue", "unknown")]
    needed += [f"syncstate.{s}" for s in ("synced", "pending", "parked")]
    needed += [f"invalid.{c}" for c in ("not_a_number", "choose_one", "photo_needed", "required")]
    needed += [f"gate.{g}" for g in ("approval_required", "cleanup_required", "quote_editing")]
    assert [k for k in needed if not i18n.has(k)] == []


def test_screens_hard_code_no_ui_text():
    offenders = []
    for path in SCREEN_FILES:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if path.suffix == ".kv" and re.search(r"""\btext:\s*['"][^'"]*[A-Za-z\u4e00-\u9fff]""", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
            if path.suffix == ".py" and CJK.search(line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_a_cjk_font_is_found():
    # CI installs fonts-wqy-microhei; without a CJK font Chinese renders as boxes.
    assert find_cjk_font() is not None
