"""Cleanup confirmation (R4) and fees collected on site (R17)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mobile.session import Session
from mobile.store import DeviceStore
from mobile.viewmodels.base import ViewModel, iso

CLEANUP_ITEMS = ("waste_removed", "area_wiped", "appliances_restored", "gas_restored_checked")
PAY_METHODS = ("cash", "wechat", "alipay", "card")


class CleanupViewModel(ViewModel):
    """The technician's cleanup checklist, an optional photo, the customer's tap or signature."""

    def __init__(self, store: DeviceStore, job_id: str, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.job_id = job_id

    def confirmation(self) -> dict[str, Any] | None:
        """The customer's confirmation, once given."""
        rows = [c for c in self.store.for_job("cleanup_confirmation", self.job_id) if c.get("customer_confirmed")]
        return rows[-1] if rows else None

    def confirm(
        self, checklist: dict[str, bool], *, method: str = "tap", signer: str = "", png: bytes | None = None,
        photo: bytes | None = None,
    ) -> dict[str, Any]:
        """Record the cleanup with the customer's confirmation (a tap, or a signature on the pad)."""
        if method not in ("tap", "signature"):
            raise ValueError("method")
        if method == "signature" and not png:
            raise ValueError("signature")
        if not all(checklist.get(k) for k in CLEANUP_ITEMS):
            raise ValueError("checklist")
        now = iso(self.now())
        fields: dict[str, Any] = {"job_id": self.job_id, "checklist": dict(checklist), "customer_confirmed": True,
                                  "method": method, "confirmed_at": now}
        blobs: list[tuple[bytes, str]] = []
        if photo is not None:
            fields["photo_sha256"] = hashlib.sha256(photo).hexdigest()
            blobs.append((photo, "image/png" if photo[:4] == b"\x89PNG" else "image/jpeg"))
        with self.store.batch() as batch:
            if method == "signature" and png:
                # What the customer confirmed: this job's cleanup checklist, hashed like a quote's content.
                content = json.dumps({"job_id": self.job_id, "checklist": checklist}, sort_keys=True,
                                     separators=(",", ":")).encode()
                sig = batch.create("signature", {
                    "job_id": self.job_id, "purpose": "cleanup", "content_hash": hashlib.sha256(content).hexdigest(),
                    "signer_name": signer or "-", "image_sha256": hashlib.sha256(png).hexdigest(), "signed_at": now,
                }, blobs=[(png, "image/png")])
                fields["signature_id"] = sig["id"]
            row = batch.create("cleanup_confirmation", fields, blobs=blobs)
        self.changed()
        return row


class FeesViewModel(ViewModel):
    """Money collected on site, reconciled against the approved quote at the daily close (R17)."""

    def __init__(self, store: DeviceStore, job_id: str, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.job_id = job_id
        self.session = Session(store)

    def approved_quote(self) -> dict[str, Any] | None:
        """The approved quote the money is for, if any."""
        approved = [q for q in self.store.for_job("quote", self.job_id) if q.get("status") == "approved"]
        return approved[-1] if approved else None

    def fees(self) -> list[dict[str, Any]]:
        """Fees recorded on this visit."""
        return sorted(self.store.for_job("fee_collection", self.job_id), key=lambda f: f.get("collected_at") or "")

    def collected_cents(self) -> int:
        """The sum collected on this visit."""
        return sum(int(f["amount_cents"]) for f in self.fees())

    def due_cents(self) -> int:
        """What the approved quote still expects (0 without one)."""
        quote = self.approved_quote()
        return max(0, int(quote["total_cents"]) - self.collected_cents()) if quote else 0

    def collect(self, amount_yuan: str, method: str, receipt_no: str = "") -> dict[str, Any]:
        """Record money taken; ``amount_yuan`` as typed (e.g. "180.50")."""
        try:
            cents = round(float(str(amount_yuan).strip()) * 100)
        except ValueError:
            raise ValueError("amount") from None
        if cents <= 0:
            raise ValueError("amount")
        if method not in PAY_METHODS:
            raise ValueError("method")
        quote = self.approved_quote()
        row = self.store.create("fee_collection", {
            "job_id": self.job_id, "quote_id": quote["id"] if quote else None,
            "technician_id": self.session.technician().get("id"), "amount_cents": cents, "method": method,
            "receipt_no": receipt_no.strip(), "collected_at": iso(self.now()),
        })
        self.changed()
        return row
