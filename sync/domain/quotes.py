"""Quotes for chargeable work and the signature that approves one (R3, R5).

A quote's *content* is what the customer sees on the approval screen: the job it is for, the
itemised lines, the total, the currency, the risk of damage to their property, and the
technician's name and staff number (工号, R5). ``content_hash`` is the SHA-256 of a canonical JSON
form of that content, and a signature stores the hash it signed. ``approval_covers`` recomputes the
hash from the quote as it stands now, so a quote edited after signing is no longer covered.

The tablet and the server both compute the hash with this module; the canonical form is therefore
fixed: sorted keys, no whitespace, UTF-8 (non-ASCII kept), money as integer cents, quantities as
decimal strings (``"1.5"``, ``"2"``: never a float whose text could differ), ids as lower-case
hyphenated UUIDs.

Quotes and signatures may be passed as mappings (the tablet's rows) or objects with attributes
(the server's ORM rows); status and purpose compare as plain strings.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "HASHED_FIELDS",
    "LINE_FIELDS",
    "LINE_KINDS",
    "QUOTE_TRANSITIONS",
    "QuoteContent",
    "QuoteLine",
    "QuoteProblem",
    "QuoteStatus",
    "approval_covers",
    "canonical_json",
    "canonical_quote",
    "content_hash",
    "covering_signature",
    "field_of",
    "line_amount_cents",
    "make_line",
    "quote_content",
    "quote_content_hash",
    "quote_problem",
    "validate_quote",
]


class QuoteStatus(enum.StrEnum):
    """Where a quote stands (mirrors server.visits.models.QuoteStatus)."""

    DRAFT = "draft"
    APPROVED = "approved"  # the customer signed this exact content
    REFUSED = "refused"  # the customer said no; recorded too
    VOID = "void"  # superseded by an edited quote; its approval covers nothing


Q = QuoteStatus
# A quote never goes back: an edit after approval or refusal is a new quote that supersedes it.
QUOTE_TRANSITIONS: dict[str, frozenset[str]] = {
    Q.DRAFT: frozenset({Q.APPROVED, Q.REFUSED, Q.VOID}),
    Q.APPROVED: frozenset({Q.VOID}),
    Q.REFUSED: frozenset({Q.VOID}),
    Q.VOID: frozenset(),
}
DRAFT, APPROVED, REFUSED, VOID = Q.DRAFT.value, Q.APPROVED.value, Q.REFUSED.value, Q.VOID.value
# Signature purposes as they travel (server.visits.models.SignaturePurpose values).
QUOTE_APPROVAL, QUOTE_REFUSAL, CLEANUP = "quote_approval", "quote_refusal", "cleanup"

# What the customer saw on the approval screen; a change to any of these needs a new signature.
HASHED_FIELDS = ("job_id", "lines", "total_cents", "currency", "risk_note", "technician_name", "staff_no")
LINE_FIELDS = ("code", "description", "kind", "qty", "unit", "unit_price_cents", "amount_cents")
LINE_KINDS = frozenset({"part", "labour", "fee"})
MAX_QTY = Decimal("100000")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` for a mapping, ``obj.name`` otherwise (``default`` when absent)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _qty(value: Any) -> Decimal:
    """A quantity as an exact decimal (floats go through their shortest repr)."""
    if isinstance(value, bool):
        raise ValueError("qty must be a number")
    try:
        qty = Decimal(str(value)) if isinstance(value, int | float | str | Decimal) else None
    except InvalidOperation:
        qty = None
    if qty is None or not qty.is_finite():
        raise ValueError("qty must be a number")
    return qty


def _qty_text(qty: Decimal) -> str:
    """The canonical text of a quantity: ``2``, ``1.5``, ``100`` (no exponent, no trailing zeros)."""
    text = format(qty.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _id_text(value: Any) -> str:
    """An id as text; a UUID in its lower-case hyphenated form whatever the input's spelling."""
    text = str(value or "")
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class QuoteLine:
    """One itemised line of a quote; money in integer cents, ``qty`` as an exact decimal."""

    code: str
    description: str
    kind: str  # part | labour | fee
    qty: Decimal
    unit: str
    unit_price_cents: int
    amount_cents: int

    def canonical(self) -> dict[str, Any]:
        """The line as it enters the hash."""
        return {
            "amount_cents": self.amount_cents,
            "code": self.code,
            "description": self.description,
            "kind": self.kind,
            "qty": _qty_text(self.qty),
            "unit": self.unit,
            "unit_price_cents": self.unit_price_cents,
        }

    def as_dict(self) -> dict[str, Any]:
        """The line as stored in ``Quote.lines`` (qty as a JSON number)."""
        qty = int(self.qty) if self.qty == self.qty.to_integral_value() else float(self.qty)
        return self.canonical() | {"qty": qty}


@dataclass(frozen=True)
class QuoteContent:
    """What the customer approves: lines, total, currency, damage risk, who quoted it, for which job."""

    job_id: str
    lines: tuple[QuoteLine, ...]
    total_cents: int
    currency: str
    risk_note: str
    technician_name: str
    staff_no: str

    def canonical(self) -> dict[str, Any]:
        """The quote as it enters the hash."""
        return {
            "currency": self.currency,
            "job_id": self.job_id,
            "lines": [line.canonical() for line in self.lines],
            "risk_note": self.risk_note,
            "staff_no": self.staff_no,
            "technician_name": self.technician_name,
            "total_cents": self.total_cents,
        }


@dataclass(frozen=True)
class QuoteProblem:
    """Why a quote is not acceptable: the field (``lines.0.amount_cents``) and a message."""

    field: str
    message: str


def line_amount_cents(qty: Any, unit_price_cents: int) -> int:
    """``qty × unit price`` in whole cents, rounded half up (1.5 × 333 = 499.5 → 500)."""
    amount = _qty(qty) * Decimal(unit_price_cents)
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def make_line(code: str, description: str, kind: str, qty: Any, unit: str, unit_price_cents: int) -> QuoteLine:
    """A quote line with its amount computed (the tablet builds lines with this)."""
    return QuoteLine(
        code=code, description=description, kind=kind, qty=_qty(qty), unit=unit,
        unit_price_cents=unit_price_cents, amount_cents=line_amount_cents(qty, unit_price_cents),
    )


def _line(raw: Any) -> QuoteLine:
    if isinstance(raw, QuoteLine):
        return raw
    return QuoteLine(
        code=str(field_of(raw, "code", "")),
        description=str(field_of(raw, "description", "")),
        kind=str(field_of(raw, "kind", "")),
        qty=_qty(field_of(raw, "qty", 0)),
        unit=str(field_of(raw, "unit", "")),
        unit_price_cents=field_of(raw, "unit_price_cents", 0),
        amount_cents=field_of(raw, "amount_cents", 0),
    )


def quote_content(quote: Any) -> QuoteContent:
    """The content of a quote row (mapping or object with the Quote columns), ready to hash.

    Raises ValueError when a line's quantity is not a number.
    """
    if isinstance(quote, QuoteContent):
        return quote
    return QuoteContent(
        job_id=_id_text(field_of(quote, "job_id")),
        lines=tuple(_line(raw) for raw in (field_of(quote, "lines") or ())),
        total_cents=field_of(quote, "total_cents", 0),
        currency=str(field_of(quote, "currency", "CNY")),
        risk_note=str(field_of(quote, "risk_note", "") or ""),
        technician_name=str(field_of(quote, "technician_name", "") or ""),
        staff_no=str(field_of(quote, "staff_no", "") or ""),
    )


def canonical_json(quote: Any) -> str:
    """The canonical JSON text of a quote's content: sorted keys, no whitespace, non-ASCII kept."""
    content = quote_content(quote)
    return json.dumps(content.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_quote(quote: Any) -> bytes:
    """The canonical bytes (UTF-8) of a quote's content: what is hashed."""
    return canonical_json(quote).encode("utf-8")


def content_hash(quote: Any) -> str:
    """The SHA-256 (hex) of the canonical content: what a customer's signature binds to (R3)."""
    return hashlib.sha256(canonical_quote(quote)).hexdigest()


quote_content_hash = content_hash  # the name the sync adapter first used


def _line_problems(index: int, raw: Any) -> list[QuoteProblem]:
    where = f"lines.{index}"
    problems: list[QuoteProblem] = []
    for name in ("code", "description", "unit"):
        if not str(field_of(raw, name, "") or "").strip():
            problems.append(QuoteProblem(f"{where}.{name}", "required"))
    kind = field_of(raw, "kind", "")
    if kind not in LINE_KINDS:
        problems.append(QuoteProblem(f"{where}.kind", f"must be one of {', '.join(sorted(LINE_KINDS))}"))
    try:
        qty = _qty(field_of(raw, "qty"))
    except ValueError:
        return [*problems, QuoteProblem(f"{where}.qty", "must be a number")]
    if not Decimal(0) < qty <= MAX_QTY:
        problems.append(QuoteProblem(f"{where}.qty", f"must be more than 0 and at most {MAX_QTY}"))
    price, amount = field_of(raw, "unit_price_cents"), field_of(raw, "amount_cents")
    if not _is_int(price) or price < 0:
        return [*problems, QuoteProblem(f"{where}.unit_price_cents", "must be a whole number of cents, 0 or more")]
    if not _is_int(amount):
        problems.append(QuoteProblem(f"{where}.amount_cents", "must be a whole number of cents"))
    elif amount != line_amount_cents(qty, price):
        expected = line_amount_cents(qty, price)
        problems.append(QuoteProblem(f"{where}.amount_cents", f"is {amount} but qty × unit price is {expected}"))
    return problems


def validate_quote(quote: Any) -> list[QuoteProblem]:
    """Every problem with a quote's content (empty list when it may be shown to the customer).

    Checks each line (kind, qty > 0, integer cents, amount = qty × unit price rounded half up), the
    total (= sum of amounts), the currency, the risk-of-damage note (R3 asks for it; "无" is an
    answer) and the technician's name and staff number (R5).
    """
    problems: list[QuoteProblem] = []
    lines = field_of(quote, "lines") or []
    if isinstance(quote, QuoteContent):
        lines = [line.canonical() | {"qty": line.qty} for line in quote.lines]
    if not lines:
        problems.append(QuoteProblem("lines", "a quote needs at least one line"))
    line_problems = [p for i, raw in enumerate(lines) for p in _line_problems(i, raw)]
    problems.extend(line_problems)
    total = field_of(quote, "total_cents")
    if not _is_int(total):
        problems.append(QuoteProblem("total_cents", "must be a whole number of cents"))
    elif not line_problems:
        expected = sum(field_of(raw, "amount_cents") for raw in lines)
        if total != expected:
            problems.append(QuoteProblem("total_cents", f"is {total} but the lines add up to {expected}"))
    if not _CURRENCY.match(str(field_of(quote, "currency", "") or "")):
        problems.append(QuoteProblem("currency", "must be a three-letter ISO code such as CNY"))
    for name, message in (
        ("risk_note", "describe the risk of damage to the customer's property (R3), or state there is none"),
        ("technician_name", "the customer must see who quotes (R5)"),
        ("staff_no", "the customer must see the staff number (R5)"),
    ):
        if not str(field_of(quote, name, "") or "").strip():
            problems.append(QuoteProblem(name, message))
    return problems


def quote_problem(quote: Any) -> str | None:
    """The first problem of ``validate_quote`` as one line of text, or None when there is none."""
    problems = validate_quote(quote)
    return f"{problems[0].field}: {problems[0].message}" if problems else None


def approval_covers(quote: Any, signature: Any) -> bool:
    """Whether ``signature`` approves ``quote`` as it stands now (R3).

    True only for a live approval signature of this quote (same ``quote_id`` when the signature
    names one, same job when it names one) whose signed hash equals the hash recomputed from the
    quote's current content, on a quote that is neither void nor refused. Editing a signed quote
    changes the hash, so the old signature no longer covers it. Raises TypeError when the arguments
    are obviously swapped (a silent False would block work for no visible reason).
    """
    if field_of(quote, "purpose") is not None and field_of(signature, "purpose") is None:
        raise TypeError("approval_covers(quote, signature): the arguments are swapped")
    if field_of(signature, "deleted", False) or field_of(quote, "deleted", False):
        return False
    if str(field_of(signature, "purpose", "")) != QUOTE_APPROVAL:
        return False
    if str(field_of(quote, "status", DRAFT)) in (VOID, REFUSED):
        return False
    signed_quote = field_of(signature, "quote_id")
    if signed_quote is not None and _id_text(signed_quote) != _id_text(field_of(quote, "id")):
        return False
    signed_job = field_of(signature, "job_id")
    if signed_job is not None and _id_text(signed_job) != _id_text(field_of(quote, "job_id")):
        return False
    try:
        current = content_hash(quote)
    except ValueError:
        return False
    return field_of(signature, "content_hash") == current


def covering_signature(quote: Any, signatures: Iterable[Any]) -> Any | None:
    """The first of ``signatures`` that approves ``quote`` as it stands, or None."""
    return next((s for s in signatures if approval_covers(quote, s)), None)
