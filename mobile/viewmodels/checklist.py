"""The checklist of a visit, rendered from its versioned template; answers saved as the technician goes.

Item format: see ``server/checklists/models.py`` (key, label, label_en, type, required, unit, min,
max, options, condition, hazard_on_fail). Answers are append-only: a correction is a new answer
that supersedes the previous one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from mobile.session import Session
from mobile.store import DeviceStore
from mobile.viewmodels.base import ViewModel, iso
from sync.domain.hazards import HazardSuggestion, suggest_hazard

PASS_FAIL_NA = ("pass", "fail", "na")


@dataclass(frozen=True)
class ItemView:
    """One visible item with its current answer."""

    item: dict[str, Any]
    answer: dict[str, Any] | None
    out_of_limits: bool

    @property
    def key(self) -> str:
        """The item's key."""
        return str(self.item["key"])

    @property
    def value(self) -> Any:
        """The current answer's value (None when unanswered)."""
        return (self.answer or {}).get("value", {}).get("value") if self.answer else None


class InvalidAnswer(ValueError):
    """An answer the item does not accept; ``code`` names why (for the i18n message)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def template_for(store: DeviceStore, job: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any] | None:
    """The active template of the job's type and customer category, newest version first."""
    fits = [
        t for t in store.all("checklist_template")
        if t.get("active", True) and t.get("job_type") == job.get("job_type")
        and (not t.get("customer_categories") or customer.get("category") in t["customer_categories"])
    ]
    return max(fits, key=lambda t: t.get("version_no") or 0) if fits else None


class ChecklistViewModel(ViewModel):
    """Visible items, current answers, required items still missing, hazard suggestions."""

    def __init__(self, store: DeviceStore, job_id: str, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.job_id = job_id
        self.session = Session(store)

    @property
    def template(self) -> dict[str, Any] | None:
        """The template answers already use (versions never mix on one visit), else the current one."""
        answers = self.store.for_job("checklist_answer", self.job_id)
        if answers:
            used = self.store.get("checklist_template", answers[0]["template_id"])
            if used:
                return used
        job = self.store.get("job", self.job_id) or {}
        customer = self.store.get("customer", job.get("customer_id", "")) or {}
        return template_for(self.store, job, customer)

    def answers(self) -> dict[str, dict[str, Any]]:
        """The current answer per item key (superseded answers left out)."""
        rows = self.store.for_job("checklist_answer", self.job_id)
        replaced = {r.get("supersedes_id") for r in rows if r.get("supersedes_id")}
        current: dict[str, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: r.get("answered_at") or ""):
            if row["id"] not in replaced:
                current[row["item_key"]] = row
        return current

    def items(self) -> list[ItemView]:
        """The items to show now: those whose condition holds, in template order."""
        template = self.template
        if template is None:
            return []
        answers = self.answers()
        out = []
        for item in template.get("items") or []:
            condition = item.get("condition")
            if condition:
                shown = answers.get(condition.get("key"))
                if shown is None or shown.get("value", {}).get("value") != condition.get("equals"):
                    continue
            answer = answers.get(item["key"])
            value = (answer or {}).get("value", {}).get("value")
            out.append(ItemView(item, answer, bool(answer) and suggest_hazard(item, value) is not None
                                and item.get("type") == "number"))
        return out

    def missing_required(self) -> list[str]:
        """Keys of visible required items that have no answer yet."""
        return [v.key for v in self.items() if v.item.get("required") and v.answer is None]

    @staticmethod
    def choices(item: dict[str, Any]) -> list[str]:
        """The values a pass/fail/n.a. or choice item accepts."""
        if item.get("type") == "pass_fail_na":
            return list(PASS_FAIL_NA)
        return [str(o.get("value")) for o in item.get("options") or []]

    def _item(self, key: str) -> dict[str, Any]:
        template = self.template or {}
        for item in template.get("items") or []:
            if item["key"] == key:
                return item
        raise KeyError(key)

    def answer(
        self, key: str, value: Any, note: str = "", photo: bytes | None = None
    ) -> HazardSuggestion | None:
        """Save an answer now (a correction supersedes the previous one); return a suggested hazard."""
        item = self._item(key)
        kind = item.get("type")
        if kind == "number":
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                raise InvalidAnswer("not_a_number") from None
            if not number.is_finite():
                raise InvalidAnswer("not_a_number")
            value = int(number) if number == number.to_integral_value() else float(number)
        elif kind in ("pass_fail_na", "choice") and value not in self.choices(item):
            raise InvalidAnswer("choose_one")
        elif kind == "photo" and photo is None:
            raise InvalidAnswer("photo_needed")
        elif kind == "text" and item.get("required") and not str(value or "").strip():
            raise InvalidAnswer("required")
        previous = self.answers().get(key)
        fields: dict[str, Any] = {
            "job_id": self.job_id, "template_id": (self.template or {})["id"], "item_key": key,
            "value": {"value": value}, "note": note, "answered_at": iso(self.now()),
            "technician_id": self.session.technician().get("id"),
            "supersedes_id": previous["id"] if previous else None,
        }
        blobs = []
        if photo is not None:
            fields["photo_sha256"] = hashlib.sha256(photo).hexdigest()
            blobs.append((photo, "image/png" if photo[:4] == b"\x89PNG" else "image/jpeg"))
        self.store.create("checklist_answer", fields, blobs=blobs)
        self.changed()
        return suggest_hazard(item, value)

    def add_note(self, text: str) -> dict[str, Any]:
        """A free-text note on the visit (kept beside the office's notes, attributed)."""
        if not text.strip():
            raise InvalidAnswer("required")
        row = self.store.create("note", {
            "job_id": self.job_id, "author_name": self.session.technician().get("name", ""), "text": text.strip(),
            "written_at": iso(self.now()),
        })
        self.changed()
        return row
