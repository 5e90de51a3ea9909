"""The sync screen: pending changes, last sync, progress, and the conflicts inbox in plain words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mobile.viewmodels.base import ViewModel

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
        """Conflicts and parked changes, newest first."""
        out = []
        for n in self.store.notices():
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
