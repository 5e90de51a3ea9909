"""Hazards found on a visit (R16): severity, description, photo, immediate action, deadline."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from mobile.session import Session
from mobile.store import DeviceStore
from mobile.viewmodels.base import ViewModel, iso
from sync.domain.hazards import SEVERITIES, rectify_by


class HazardViewModel(ViewModel):
    """Record hazards on a job; the rectification deadline follows from the severity."""

    def __init__(self, store: DeviceStore, job_id: str, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.job_id = job_id
        self.session = Session(store)

    def deadline(self, severity: str) -> dt.datetime:
        """When a hazard of this severity found now must be rectified."""
        return rectify_by(severity, self.now())

    def hazards(self) -> list[dict[str, Any]]:
        """Hazards recorded on this visit, newest first."""
        return sorted(self.store.for_job("hazard", self.job_id), key=lambda h: h.get("found_at") or "", reverse=True)

    def record(
        self, severity: str, description: str, immediate_action: str = "", photo: bytes | None = None,
        category: str = "", checklist_item_key: str | None = None,
    ) -> dict[str, Any]:
        """Save a hazard now; raise ValueError naming the field when something is missing."""
        if severity not in SEVERITIES:
            raise ValueError("severity")
        if not description.strip():
            raise ValueError("description")
        job = self.store.get("job", self.job_id) or {}
        found = self.now()
        fields: dict[str, Any] = {
            "job_id": self.job_id, "customer_id": job.get("customer_id"), "premises_id": job.get("premises_id"),
            "severity": severity, "category": category, "description": description.strip(),
            "immediate_action": immediate_action.strip(), "checklist_item_key": checklist_item_key,
            "found_at": iso(found), "rectify_by": iso(rectify_by(severity, found)), "owner": "customer",
            "status": "open", "technician_id": self.session.technician().get("id"),
        }
        blobs = []
        if photo is not None:
            fields["photo_sha256"] = hashlib.sha256(photo).hexdigest()
            blobs.append((photo, "image/png" if photo[:4] == b"\x89PNG" else "image/jpeg"))
        row = self.store.create("hazard", fields, blobs=blobs)
        self.changed()
        return row
