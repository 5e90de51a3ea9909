"""Chargeable work (R3, R5): build a quote from the price list, have the customer sign it.

Quote lines are facts once written (the server never lets a device overwrite them), so the quote
being built lives as a local draft (kept in the store's meta table, so a killed app loses nothing)
until it is shown to the customer. Then it becomes a quote row, and the customer's signature binds
to its content hash. Editing afterwards makes a new quote that supersedes the old one, which is
voided: its approval no longer covers anything and the customer is asked again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mobile.session import Session
from mobile.store import DeviceStore
from mobile.viewmodels.base import ViewModel, iso
from sync.domain.quotes import content_hash, make_line, validate_quote

LIVE = ("draft", "approved", "refused")


class QuoteViewModel(ViewModel):
    """The quote of one job: draft lines, presenting, signing, refusing, editing (voids approval)."""

    def __init__(self, store: DeviceStore, job_id: str, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.job_id = job_id
        self.session = Session(store)

    # -- the quote rows --
    def quotes(self) -> list[dict[str, Any]]:
        """Every quote of the job, oldest first."""
        return sorted(self.store.for_job("quote", self.job_id), key=lambda q: q.get("created_on_device_at") or "")

    def current(self) -> dict[str, Any] | None:
        """The live quote (not void, not superseded), if any."""
        live = [q for q in self.quotes() if q.get("status") in LIVE]
        return live[-1] if live else None

    def state(self) -> str:
        """'editing' while a draft is being built, else the current quote's status, else 'none'."""
        if self._draft() is not None:
            return "editing"
        current = self.current()
        if current is not None:
            return str(current["status"])
        return "void" if self.quotes() else "none"

    def price_items(self) -> list[dict[str, Any]]:
        """The active price list, by code."""
        return sorted((p for p in self.store.all("price_item") if p.get("active", True)), key=lambda p: p["code"])

    # -- the local draft --
    def _key(self) -> str:
        return f"quote_draft:{self.job_id}"

    def _draft(self) -> dict[str, Any] | None:
        raw = self.store.get_meta(self._key())
        return json.loads(raw) if raw else None

    def draft(self) -> dict[str, Any]:
        """The quote being built (lines, risk note), started empty or from the current quote."""
        draft = self._draft()
        if draft is None:
            current = self.current()
            draft = {"lines": list(current["lines"]) if current else [],
                     "risk_note": current.get("risk_note", "") if current else ""}
        return draft

    def _save(self, draft: dict[str, Any]) -> dict[str, Any]:
        self.store.set_meta(**{self._key(): json.dumps(draft, ensure_ascii=False)})
        self.changed()
        return draft

    def add_line(self, code: str, qty: Any = 1, lang: str = "zh-CN") -> dict[str, Any]:
        """Add a price-list item (or raise the quantity of one already on the quote)."""
        item = next((p for p in self.price_items() if p["code"] == code), None)
        if item is None:
            raise KeyError(code)
        draft = self.draft()
        for i, line in enumerate(draft["lines"]):
            if line["code"] == code:
                return self.set_qty(i, float(line["qty"]) + float(qty))
        name = item.get("name_en") if lang == "en" and item.get("name_en") else item["name"]
        line = make_line(code, name, item["kind"], qty, item.get("unit", ""), int(item["unit_price_cents"]))
        draft["lines"].append(line.as_dict())
        return self._save(draft)

    def set_qty(self, index: int, qty: Any) -> dict[str, Any]:
        """Change a line's quantity (0 removes it)."""
        draft = self.draft()
        line = draft["lines"][index]
        if float(qty) <= 0:
            draft["lines"].pop(index)
        else:
            draft["lines"][index] = make_line(line["code"], line["description"], line["kind"], qty, line["unit"],
                                              int(line["unit_price_cents"])).as_dict()
        return self._save(draft)

    def set_risk_note(self, text: str) -> dict[str, Any]:
        """Describe the risk of damage to the customer's property (R3)."""
        draft = self.draft()
        draft["risk_note"] = text
        return self._save(draft)

    def edit(self) -> dict[str, Any]:
        """Start changing the current quote: once presented again, the old one (and its approval) is void."""
        return self._save(self.draft())

    def discard_draft(self) -> None:
        """Throw the unsaved edits away."""
        self.store.set_meta(**{self._key(): None})
        self.changed()

    def preview(self) -> dict[str, Any]:
        """The draft as the customer will see it: lines, total, risk note, technician and staff no (R5)."""
        draft = self.draft()
        tech = self.session.technician()
        return {
            "job_id": self.job_id, "lines": draft["lines"],
            "total_cents": sum(int(line["amount_cents"]) for line in draft["lines"]), "currency": "CNY",
            "risk_note": draft.get("risk_note", ""), "technician_name": tech.get("name", ""),
            "staff_no": tech.get("staff_no", ""),
        }

    # -- presenting and signing --
    def present(self) -> dict[str, Any]:
        """Save the draft as the quote the customer is asked to sign; void the one it replaces."""
        quote = self.preview()
        if not quote["lines"]:
            raise ValueError("lines")
        problems = validate_quote(quote)
        if problems:
            raise ValueError(problems[0].field)
        previous = self.current()
        tech = self.session.technician()
        fields = quote | {
            "technician_id": tech.get("id"), "content_hash": content_hash(quote), "status": "draft",
            "supersedes_id": previous["id"] if previous else None, "created_on_device_at": iso(self.now()),
        }
        with self.store.batch() as batch:
            if previous is not None:
                batch.update("quote", previous["id"], {"status": "void"})
            row = batch.create("quote", fields)
        self.store.set_meta(**{self._key(): None})
        self.changed()
        return row

    def _signature(self, batch: Any, quote: dict[str, Any], purpose: str, signer: str, png: bytes | None) -> None:
        fields = {
            "job_id": self.job_id, "purpose": purpose, "quote_id": quote["id"],
            "content_hash": content_hash(quote), "signer_name": signer, "signed_at": iso(self.now()),
        }
        blobs = []
        if png:
            fields["image_sha256"] = hashlib.sha256(png).hexdigest()
            blobs.append((png, "image/png"))
        batch.create("signature", fields, blobs=blobs)

    def approve(self, signer: str, png: bytes) -> dict[str, Any]:
        """The customer signed the quote as presented: signature bound to its hash, quote approved."""
        quote = self._awaiting()
        if not png:
            raise ValueError("signature")
        with self.store.batch() as batch:
            self._signature(batch, quote, "quote_approval", signer, png)
            row = batch.update("quote", quote["id"], {"status": "approved"})
        self.changed()
        return row

    def refuse(self, signer: str, png: bytes | None = None) -> dict[str, Any]:
        """The customer said no: the refusal is recorded (signed if they were willing)."""
        quote = self._awaiting()
        with self.store.batch() as batch:
            self._signature(batch, quote, "quote_refusal", signer, png)
            row = batch.update("quote", quote["id"], {"status": "refused"})
        self.changed()
        return row

    def _awaiting(self) -> dict[str, Any]:
        quote = self.current()
        if quote is None or quote["status"] != "draft" or self._draft() is not None:
            raise ValueError("no quote is waiting for the customer's signature")
        return quote
