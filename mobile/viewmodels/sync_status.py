"""The sync screen: pending changes, last sync, progress, the conflicts inbox in plain words, and the
parked changes the technician decides about: retry, send to the office as a note, or discard (a fact
captured on site only with an explicit confirmation; every decision leaves a local audit note)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mobile import i18n
from mobile.session import Session
from mobile.viewmodels.base import ViewModel
from sync.collections import REGISTRY, FieldClass

COLLECTION_KEYS = {
    "job": "visit", "checklist_answer": "checklist", "hazard": "hazard", "quote": "quote", "signature": "signature",
    "cleanup_confirmation": "cleanup", "visit_event": "visit_event", "fee_collection": "fee",
    "meter_reading": "reading", "note": "note",
}


@dataclass(frozen=True)
class InboxEntry:
    """One thing the technician should read: a conflict a rule decided or a change the server refused."""

    kind: str  # "conflict" | "rejected"
    reason: str  # the machine code; the screen explains it in the technician's language
    what: str  # a collection key for the i18n ("visit", "quote"…)
    job_ref: str  # the job it is about, when known
    field: str
    server_value: Any
    device_value: Any
    server_message: str  # the server's own words (English), shown under the explanation
    seen: bool


@dataclass(frozen=True)
class ParkedChange:
    """A change the server refused, as the technician reads it."""

    mutation_id: str
    what: str  # a collection key for the i18n ("visit", "checklist"…)
    job_id: str | None
    job_ref: str
    reason: str
    server_message: str
    when: str  # local time the change was made
    changes: list[tuple[str, str]]  # (field, value shown)
    is_fact: bool  # discarding it needs an explicit confirmation
    can_retry: bool  # the row is still on the tablet (or it was a create)
    can_send: bool  # a visit to attach the office note to is known


def _shown(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


def _is_fact(op: str, collection: str, fields: dict[str, Any]) -> bool:
    """A create, or a change to anything but plan proposals and device-owned values (ETA, route order)."""
    spec = REGISTRY.get(collection)
    if op == "create" or spec is None:
        return True
    return not all(spec.field_class(k) in (FieldClass.PLAN, FieldClass.DEVICE) for k in fields)


class SyncViewModel(ViewModel):
    """Numbers and inbox entries for the sync screen."""

    def pending(self) -> int:
        """Changes waiting for the server."""
        return self.store.pending_count()

    def parked(self) -> int:
        """Changes the server refused (kept, explained in the inbox)."""
        return len(self.store.parked())

    def last_sync(self) -> str:
        """The last complete sync in local time ('' if never)."""
        return self.day_hm(self.store.get_meta("last_sync"))

    def _job_ref(self, collection: str | None, row_id: str | None) -> str:
        if not collection or not row_id:
            return ""
        # A refused create never became a row: its job is named in the parked change itself.
        row = self.store.get(collection, row_id) or next(
            (p["fields"] for p in self.store.parked() if p["row_id"] == row_id), None)
        job_id = row_id if collection == "job" else (row or {}).get("job_id")
        job = self.store.get("job", job_id) if job_id else None
        return (job or {}).get("ref", "")

    def inbox(self) -> list[InboxEntry]:
        """Conflicts, newest first. Refused changes are listed by ``parked_changes`` with what the
        technician can do about them (a rejection notice lives as long as its parked change)."""
        out = []
        for n in self.store.notices():
            if n["kind"] == "rejected":
                continue
            out.append(InboxEntry(
                kind=n["kind"], reason=n["reason"] or "", what=COLLECTION_KEYS.get(n["collection"] or "", "row"),
                job_ref=self._job_ref(n["collection"], n["row_id"]), field=n["field"] or "",
                server_value=json.loads(n["server_value"]) if n["server_value"] else None,
                device_value=json.loads(n["device_value"]) if n["device_value"] else None,
                server_message=n["message"] or "", seen=bool(n["seen"]),
            ))
        return out

    def unread(self) -> int:
        """Inbox entries not yet read."""
        return sum(1 for n in self.store.notices() if not n["seen"])

    # -- parked changes ----------------------------------------------------------------------
    def _job_of(self, collection: str, row_id: str, fields: dict[str, Any]) -> str | None:
        if collection == "job":
            return row_id
        row = self.store.get(collection, row_id) or {}
        job_id = fields.get("job_id") or row.get("job_id")
        if job_id:
            return str(job_id)
        if collection in ("customer", "premises"):  # a household's notes: the visit that showed them
            jobs = self.store.where("job", **{f"{collection}_id": row_id})
            return jobs[0]["id"] if jobs else None
        return None

    def parked_changes(self) -> list[ParkedChange]:
        """Every parked change, oldest first, explained."""
        out = []
        for p in self.store.parked():
            job_id = self._job_of(p["collection"], p["row_id"], p["fields"])
            job = self.store.get("job", job_id) if job_id else None
            out.append(ParkedChange(
                mutation_id=p["mutation_id"], what=COLLECTION_KEYS.get(p["collection"], "row"), job_id=job_id,
                job_ref=(job or {}).get("ref", ""), reason=p["reason"] or "", server_message=p["message"] or "",
                when=self.day_hm(p["device_time"]),
                changes=[(k, self.day_hm(v) if k.endswith("_at") and isinstance(v, str) and v else _shown(v))
                         for k, v in p["fields"].items() if k not in ("job_id",)],
                is_fact=_is_fact(p["op"], p["collection"], p["fields"]),
                can_retry=p["op"] == "create" or self.store.get(p["collection"], p["row_id"]) is not None,
                can_send=job_id is not None,
            ))
        return out

    def _find(self, mutation_id: str) -> ParkedChange:
        found = next((c for c in self.parked_changes() if c.mutation_id == mutation_id), None)
        if found is None:
            raise KeyError(mutation_id)
        return found

    def retry(self, mutation_id: str) -> str:
        """Queue the change again as a new mutation on the row as it is now; returns an i18n key."""
        try:
            self.store.retry_parked(mutation_id)
        except (KeyError, ValueError):
            return "parked.gone"
        self.changed()
        return "parked.retried"

    def discard(self, mutation_id: str, confirmed: bool = False) -> str:
        """Drop the change; a fact captured on site needs ``confirmed`` (the screen asks first)."""
        change = self._find(mutation_id)
        if change.is_fact and not confirmed:
            return "parked.confirm_needed"
        self.store.discard_parked(mutation_id, why="confirmed by the technician" if confirmed else "not a fact")
        self.changed()
        return "parked.discarded"

    def send_to_office(self, mutation_id: str, lang: str = i18n.DEFAULT_LANG) -> str:
        """Replace the change by a note on its visit that tells the office what it was."""
        change = self._find(mutation_id)
        if not change.can_send or change.job_id is None:
            return "parked.no_visit"
        reason_key = f"reason.{change.reason}" if i18n.has(f"reason.{change.reason}") else "reason.other"
        text = i18n.t(lang, "parked.office_note", what=i18n.t(lang, "what." + change.what), when=change.when,
                      changes="; ".join(f"{k} = {v}" for k, v in change.changes) or "—",
                      reason=f"{i18n.t(lang, reason_key)} ({change.reason}: {change.server_message})")
        author = Session(self.store).technician().get("name") or ""
        self.store.send_parked_to_office(mutation_id, change.job_id, text[:2000], author)
        self.changed()
        return "parked.sent"

    def audit(self) -> list[dict[str, Any]]:
        """The local audit notes of decisions on parked changes."""
        return self.store.audit_log()
