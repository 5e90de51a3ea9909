"""Hazards (隐患) found on a visit: the rectification deadline and hazards a checklist answer suggests (R16).

Both the tablet (to show the deadline while still at the door) and the server (which recomputes it
and never trusts the device, G10) use these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "CRITICAL",
    "CRITICAL_RECTIFY_WITHIN",
    "MAJOR",
    "MAJOR_RECTIFY_WITHIN",
    "MINOR",
    "MINOR_RECTIFY_WITHIN",
    "RECTIFY_WITHIN",
    "SEVERITIES",
    "HazardSuggestion",
    "deadline_problem",
    "is_overdue",
    "rectify_by",
    "suggest_hazard",
]

CRITICAL, MAJOR, MINOR = "critical", "major", "minor"
SEVERITIES = (CRITICAL, MAJOR, MINOR)

# R16: how long the customer (or the company) has to put a hazard right, from when it was found.
CRITICAL_RECTIFY_WITHIN = dt.timedelta(hours=24)  # R16 critical: made safe now, rectified within 24 h
MAJOR_RECTIFY_WITHIN = dt.timedelta(days=7)  # R16 major: within 7 days
MINOR_RECTIFY_WITHIN = dt.timedelta(days=30)  # R16 minor: within 30 days
RECTIFY_WITHIN: dict[str, dt.timedelta] = {
    CRITICAL: CRITICAL_RECTIFY_WITHIN,
    MAJOR: MAJOR_RECTIFY_WITHIN,
    MINOR: MINOR_RECTIFY_WITHIN,
}
# A failed or out-of-limit item with no ``hazard_on_fail`` of its own still suggests a hazard of this
# severity: an out-of-limit pressure is never harmless, and the technician can lower it.
DEFAULT_SUGGESTED_SEVERITY = MAJOR
OPEN_STATUSES = frozenset({"open", "rectification_scheduled"})


def rectify_by(severity: str, found_at: dt.datetime) -> dt.datetime:
    """The rectification deadline of a hazard of ``severity`` found at ``found_at`` (R16).

    Raises ValueError for an unknown severity or a naive time.
    """
    if found_at.tzinfo is None:
        raise ValueError("found_at must be timezone-aware")
    try:
        return found_at + RECTIFY_WITHIN[str(severity)]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}") from None


def _aware(value: dt.datetime | str, name: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return when


def deadline_problem(severity: str, found_at: dt.datetime | str, deadline: dt.datetime | str) -> str | None:
    """Why a hazard's recorded deadline breaks R16 (None when it does not).

    The server checks what a tablet sends (G10): the deadline may be earlier than the rule's (a
    stricter promise) but never later, and never before the hazard was found. Times may be aware
    datetimes or ISO 8601 strings with an offset.
    """
    try:
        found, due = _aware(found_at, "found_at"), _aware(deadline, "rectify_by")
        latest = rectify_by(severity, found)
    except ValueError as exc:
        return str(exc)
    if due > latest:
        return f"a {severity} hazard must be rectified within {RECTIFY_WITHIN[str(severity)]} of being found (R16)"
    if due < found:
        return "the rectification deadline is before the hazard was found"
    return None


def is_overdue(status: str, deadline: dt.datetime, now: dt.datetime) -> bool:
    """Whether a hazard is past its deadline and still not confirmed fixed."""
    return str(status) in OPEN_STATUSES and now > deadline


@dataclass(frozen=True)
class HazardSuggestion:
    """A hazard the tablet proposes because of a checklist answer; the technician confirms or dismisses it."""

    item_key: str
    severity: str
    description: str
    rectify_within: dt.timedelta


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _unwrap(answer: Any) -> Any:
    """Answers are stored as ``{"value": ...}``; accept that or the bare value."""
    if isinstance(answer, Mapping) and "value" in answer:
        return answer["value"]
    return answer


def suggest_hazard(item: Mapping[str, Any], answer: Any) -> HazardSuggestion | None:
    """The hazard a checklist answer suggests, or None.

    ``item`` is a checklist template item (``key``, ``label``, ``type``, ``min``, ``max``, ``unit``,
    ``hazard_on_fail``). A number below ``min`` or above ``max`` suggests a hazard; so does a
    ``fail`` on a pass/fail item that names ``hazard_on_fail``. The severity is the item's
    ``hazard_on_fail`` (``major`` for an out-of-limit number whose item names none).
    """
    value = _unwrap(answer)
    key = str(item.get("key", ""))
    label = str(item.get("label_en") or item.get("label") or key)
    named = item.get("hazard_on_fail")
    if named is not None and str(named) not in SEVERITIES:
        raise ValueError(f"item {key}: hazard_on_fail {named!r} is not a severity")
    kind = item.get("type")
    if kind == "number":
        number = _number(value)
        if number is None:
            return None
        low, high = _number(item.get("min")), _number(item.get("max"))
        unit = f" {item['unit']}" if item.get("unit") else ""
        if low is not None and number < low:
            detail = f"{label}: {number}{unit} is below the minimum {low}{unit}"
        elif high is not None and number > high:
            detail = f"{label}: {number}{unit} is above the maximum {high}{unit}"
        else:
            return None
        severity = str(named or DEFAULT_SUGGESTED_SEVERITY)
    elif kind == "pass_fail_na" and str(value) == "fail" and named is not None:
        detail, severity = f"{label}: failed", str(named)
    else:
        return None
    return HazardSuggestion(item_key=key, severity=severity, description=detail, rectify_within=RECTIFY_WITHIN[severity])
