"""What a visit captures in the customer's home (R1–R4, R15–R17). Device-owned, append-only."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, CompanyScoped, Synced, Timestamped, UUIDPrimaryKey, enum_type


class HazardSeverity(enum.StrEnum):
    """How dangerous a hazard (隐患) is; the rectification deadline follows from it (R16)."""

    CRITICAL = "critical"  # gas off / made safe now, rectify within 24 h
    MAJOR = "major"  # rectify within 7 days
    MINOR = "minor"  # rectify within 30 days


class HazardStatus(enum.StrEnum):
    """A hazard stays open until a later visit confirms it fixed."""

    OPEN = "open"
    RECTIFICATION_SCHEDULED = "rectification_scheduled"
    FIXED = "fixed"


class Hazard(Synced, Base):
    """A hazard found on a visit, with severity, deadline and owner (R16)."""

    __tablename__ = "hazard"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    premises_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    severity: Mapped[HazardSeverity] = mapped_column(enum_type(HazardSeverity))
    category: Mapped[str] = mapped_column(sa.String(60), default="")
    description: Mapped[str] = mapped_column(sa.Text)
    immediate_action: Mapped[str] = mapped_column(sa.Text, default="")
    photo_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    checklist_item_key: Mapped[str | None] = mapped_column(sa.String(60))
    found_at: Mapped[dt.datetime] = mapped_column()
    rectify_by: Mapped[dt.datetime] = mapped_column(index=True)
    owner: Mapped[str] = mapped_column(sa.String(20), default="customer")  # customer | company
    status: Mapped[HazardStatus] = mapped_column(enum_type(HazardStatus), default=HazardStatus.OPEN, index=True)
    rectification_job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("job.id"))
    fixed_confirmed_job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("job.id"))
    fixed_confirmed_at: Mapped[dt.datetime | None] = mapped_column()
    technician_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("technician.id"))

    customer = relationship("Customer")
    premises = relationship("Premises")


class PriceItem(Synced, Base):
    """An entry of the company's price list (parts, labour, fees) that quotes are built from."""

    __tablename__ = "price_item"
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120), default="")
    kind: Mapped[str] = mapped_column(sa.String(20))  # part | labour | fee
    unit: Mapped[str] = mapped_column(sa.String(20), default="件")
    unit_price_cents: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)


class QuoteStatus(enum.StrEnum):
    """Where a quote stands (R3)."""

    DRAFT = "draft"
    APPROVED = "approved"  # the customer signed this exact content
    REFUSED = "refused"  # the customer said no; recorded too
    VOID = "void"  # superseded by an edited quote; its approval no longer covers anything


class Quote(Synced, Base):
    """A priced offer for chargeable work, with the risk of damage to property described (R3).

    ``lines`` is a list of ``{"code", "description", "kind", "qty", "unit", "unit_price_cents",
    "amount_cents"}``. ``content_hash`` is the SHA-256 of the canonical quote content (see
    sync.domain.quotes); a signature approves exactly that hash.
    """

    __tablename__ = "quote"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    lines: Mapped[list] = mapped_column(default=list)
    total_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    risk_note: Mapped[str] = mapped_column(sa.Text, default="")
    technician_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("technician.id"))
    technician_name: Mapped[str] = mapped_column(sa.String(80), default="")
    staff_no: Mapped[str] = mapped_column(sa.String(40), default="")
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[QuoteStatus] = mapped_column(enum_type(QuoteStatus), default=QuoteStatus.DRAFT)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("quote.id"))
    created_on_device_at: Mapped[dt.datetime] = mapped_column()


class SignaturePurpose(enum.StrEnum):
    """What a customer signed for."""

    QUOTE_APPROVAL = "quote_approval"
    QUOTE_REFUSAL = "quote_refusal"
    CLEANUP = "cleanup"


class Signature(Synced, Base):
    """A customer's signature: immutable, bound to the content hash of what it approved."""

    __tablename__ = "signature"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    purpose: Mapped[SignaturePurpose] = mapped_column(enum_type(SignaturePurpose))
    quote_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("quote.id"))
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # the hash of what was signed
    signer_name: Mapped[str] = mapped_column(sa.String(80))
    image_sha256: Mapped[str | None] = mapped_column(sa.String(64))  # the strokes as a PNG blob
    signed_at: Mapped[dt.datetime] = mapped_column()  # device clock


class CleanupConfirmation(Synced, Base):
    """The site was cleaned and the waste taken away, confirmed by the customer (R4)."""

    __tablename__ = "cleanup_confirmation"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    checklist: Mapped[dict] = mapped_column(default=dict)  # {"waste_removed": true, "area_wiped": true, …}
    photo_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    customer_confirmed: Mapped[bool] = mapped_column(default=False)
    method: Mapped[str] = mapped_column(sa.String(20), default="tap")  # tap | signature
    signature_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("signature.id"))
    confirmed_at: Mapped[dt.datetime] = mapped_column()


class VisitEventKind(enum.StrEnum):
    """Moments of a visit the technician records (R1, R2)."""

    EN_ROUTE = "en_route"
    RUNNING_LATE = "running_late"
    ARRIVED = "arrived"
    DEPARTED = "departed"


class VisitEvent(Synced, Base):
    """A moment of the visit, at the device's claimed time; the server adds receive time and clock offset."""

    __tablename__ = "visit_event"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    technician_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("technician.id"))
    kind: Mapped[VisitEventKind] = mapped_column(enum_type(VisitEventKind))
    at: Mapped[dt.datetime] = mapped_column()  # claimed by the device clock
    eta: Mapped[dt.datetime | None] = mapped_column()  # running late: the new ETA told the customer
    note: Mapped[str] = mapped_column(sa.Text, default="")
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    received_at: Mapped[dt.datetime | None] = mapped_column()  # server clock
    clock_offset_s: Mapped[float | None] = mapped_column(sa.Float)  # server − device, at that sync
    corrected_at: Mapped[dt.datetime | None] = mapped_column()  # at + offset: what KPIs use


class FeeCollection(Synced, Base):
    """Money collected on site (R17), reconciled against the approved quote at the daily close."""

    __tablename__ = "fee_collection"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    quote_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("quote.id"))
    technician_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("technician.id"), index=True)
    amount_cents: Mapped[int] = mapped_column()
    method: Mapped[str] = mapped_column(sa.String(20))  # cash | wechat | alipay | card
    receipt_no: Mapped[str] = mapped_column(sa.String(40), default="")
    collected_at: Mapped[dt.datetime] = mapped_column()


class MeterReading(Synced, Base):
    """A meter reading or a meter change recorded on site (R15)."""

    __tablename__ = "meter_reading"
    meter_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("meter.id"), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("job.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="routine")  # routine | removal | install | fault
    reading: Mapped[float] = mapped_column(sa.Float)
    serial_seen: Mapped[str] = mapped_column(sa.String(60), default="")
    new_serial: Mapped[str] = mapped_column(sa.String(60), default="")
    read_at: Mapped[dt.datetime] = mapped_column()


class Note(Synced, Base):
    """A free-text note on a job, from the office or a device; both sides' notes are kept, attributed."""

    __tablename__ = "note"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("job.id"), index=True)
    author_name: Mapped[str] = mapped_column(sa.String(80))
    source: Mapped[str] = mapped_column(sa.String(20))  # office | device
    text: Mapped[str] = mapped_column(sa.Text)
    written_at: Mapped[dt.datetime] = mapped_column()


class Blob(UUIDPrimaryKey, CompanyScoped, Timestamped, Base):
    """A content-addressed file (signature image, photo); the bytes live in the blob store."""

    __tablename__ = "blob"
    __audited__ = False
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size: Mapped[int] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("company_id", "sha256", name="uq_blob_company_sha256"),)
