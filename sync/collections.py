"""The registry of synced collections: for every field, who owns it and how a merge treats it.

The field lists match the server's models (``server/*/models.py``) exactly, minus the columns every
synced row has (id, company_id, version, deleted, created_at, updated_at) and the columns that never
leave the server (``excluded``). The server adapter asks this registry whether a device may write a
field; the merge rules in ``sync.merge`` follow the field's class.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sync.domain import quotes
from sync.domain.jobs import DEVICE_STATUSES, TRANSITIONS, WORK_DONE


class FieldClass(enum.StrEnum):
    """How a field is owned and merged."""

    PLAN = "plan"  # dispatch-owned; a device may write only those listed in ``device_plan``; stale edits lose
    FACT = "fact"  # captured on site, device-owned, set once and never overwritten
    DEVICE = "device"  # device-owned and changeable by the device (the latest ETA); the device's write wins
    STATUS = "status"  # follows the collection's state machine
    NOTES = "notes"  # free text from both sides; concurrent edits keep both, attributed
    KEY = "key"  # a reference set when the row is created, never changed by a device afterwards
    SERVER = "server"  # set by the server only (clock corrections, derived values)


class Keyset(enum.StrEnum):
    """The sets of ids a technician's scope is made of (see sync.scope)."""

    JOB = "job"  # the technician's jobs, from the server store
    CUSTOMER = "customer"  # the customers of those jobs
    PREMISES = "premises"  # the premises of those jobs
    SELF = "self"  # the technician's own id
    COMPANY = "company"  # every row of the company (reference data); no key filter


@dataclass(frozen=True)
class ScopeRule:
    """A row is in scope when ``row[field]`` is in the technician's ``keyset`` (or always, for COMPANY)."""

    keyset: Keyset
    field: str = "id"


@dataclass(frozen=True)
class StateMachine:
    """The legal steps of a status field, which states a device may set, and which mean work happened."""

    initial: str
    transitions: dict[str, frozenset[str]]
    device_states: frozenset[str]
    work_states: frozenset[str] = frozenset()  # reached on site: they beat an office change (ARCHITECTURE)
    yields_to_work: frozenset[str] = frozenset()  # states a work state overrides (a cancellation in the office)

    def can(self, old: str, new: str) -> bool:
        """Whether ``old → new`` is one legal step (staying put is legal)."""
        return old == new or new in self.transitions.get(old, frozenset())


JOB_MACHINE = StateMachine(
    initial="new",
    transitions={str(k): frozenset(str(s) for s in v) for k, v in TRANSITIONS.items()},
    device_states=frozenset(str(s) for s in DEVICE_STATUSES),
    work_states=frozenset(str(s) for s in WORK_DONE),
    yields_to_work=frozenset({"new", "scheduled", "dispatched", "en_route", "cancelled"}),
)
QUOTE_MACHINE = StateMachine(
    initial=quotes.DRAFT,
    transitions={
        quotes.DRAFT: frozenset({quotes.APPROVED, quotes.REFUSED, quotes.VOID}),
        quotes.APPROVED: frozenset({quotes.VOID}),
        quotes.REFUSED: frozenset({quotes.VOID}),
        quotes.VOID: frozenset(),
    },
    device_states=frozenset({quotes.DRAFT, quotes.APPROVED, quotes.REFUSED, quotes.VOID}),
)


@dataclass(frozen=True)
class CollectionSpec:
    """One synced collection: its fields by class, what a device may do, and how scope is decided."""

    name: str
    fields: dict[str, FieldClass]
    scope: ScopeRule
    device_creates: bool = False
    device_deletes: bool = False
    device_plan: frozenset[str] = frozenset()  # plan fields a device may propose (stale proposals lose)
    required: frozenset[str] = frozenset()  # fields a device's create must carry
    refs: dict[str, str] = field(default_factory=dict)  # KEY field -> collection it points to
    blobs: frozenset[str] = frozenset()  # fields holding a blob's sha256 (must be uploaded first)
    stamp_technician: str | None = None  # field the server sets to the pushing technician's id
    machine: StateMachine | None = None  # for the STATUS field
    supersedes: str | None = None  # KEY field naming the row a correction replaces
    create_scope: ScopeRule | None = None  # scope of a device's new row, when not ``scope``
    excluded: frozenset[str] = frozenset()  # server columns that never travel to a tablet (R19)
    server_sets: dict[str, object] = field(default_factory=dict)  # SERVER fields given on a device's create
    choices: dict[str, frozenset[str]] = field(default_factory=dict)  # fields whose device values are enumerated
    read_only: bool = False  # derived by the server from other rows: every device mutation is rejected

    def field_class(self, name: str) -> FieldClass | None:
        """The class of a field, or None when the collection has no such synced field."""
        return self.fields.get(name)

    def device_may_write(self, name: str, *, creating: bool) -> bool:
        """Whether a device may write this field (on create, or on update of an existing row)."""
        cls = self.fields.get(name)
        if cls is None or cls is FieldClass.SERVER or self.read_only:
            return False
        if name == self.stamp_technician:
            return creating
        if cls is FieldClass.PLAN:
            return name in self.device_plan
        if cls is FieldClass.KEY:
            return creating
        return True

    @property
    def status_field(self) -> str | None:
        """The name of the STATUS field, if the collection has one."""
        return next((n for n, c in self.fields.items() if c is FieldClass.STATUS), None)


P, F, D, S, N, K, X = (FieldClass.PLAN, FieldClass.FACT, FieldClass.DEVICE, FieldClass.STATUS,
                       FieldClass.NOTES, FieldClass.KEY, FieldClass.SERVER)


def _fields(**classes: FieldClass) -> dict[str, FieldClass]:
    return dict(classes)


ON_JOB = ScopeRule(Keyset.JOB, "job_id")
COMPANY = ScopeRule(Keyset.COMPANY)

_SPECS = [
    CollectionSpec(
        "job",
        _fields(
            ref=P, job_type=P, source=P, priority=P, status=S, customer_id=P, premises_id=P, service_centre_id=P,
            description=P, fault_kind=P, required_certifications=P, required_skills=P, duration_minutes=P,
            chargeable=P, technician_id=P, window_start=P, window_end=P, route_order=P, planned_eta=P,
            respond_by=P, fix_by=P,
            eta=D, en_route_at=F, arrived_at=F, work_started_at=F, completed_at=F, departed_at=F,
            could_not_complete_reason=F, could_not_complete_note=N, satisfaction=F,
            complaint_id=P, service_call_id=P, meter_id=P, cancelled_reason=P,
        ),
        scope=ScopeRule(Keyset.JOB, "id"),
        # The technician may reorder their own day; a dispatcher's newer order wins.
        device_plan=frozenset({"route_order"}),
        machine=JOB_MACHINE,
    ),
    CollectionSpec(
        "appointment",
        _fields(job_id=K, window_start=P, window_end=P, status=P, agreed_with=P, agreed_at=P, ended_at=P,
                end_reason=P, notice_minutes=P, short_notice=P),
        scope=ON_JOB,
        refs={"job_id": "job"},
    ),
    CollectionSpec(
        "customer",
        _fields(account_no=P, name=P, category=P, phone=P, special_care=P, special_care_reason=P, notes=N),
        scope=ScopeRule(Keyset.CUSTOMER, "id"),
        excluded=frozenset({"id_number"}),  # personal data stays on the server (R19)
    ),
    CollectionSpec(
        "customer_contact",
        _fields(customer_id=K, name=P, phone=P, relation=P),
        scope=ScopeRule(Keyset.CUSTOMER, "customer_id"),
        refs={"customer_id": "customer"},
    ),
    CollectionSpec(
        "premises",
        _fields(customer_id=K, address=P, district=P, lat=P, lon=P, access_notes=N),
        scope=ScopeRule(Keyset.PREMISES, "id"),
        refs={"customer_id": "customer"},
    ),
    CollectionSpec(
        "meter",
        _fields(premises_id=K, serial=P, model=P, kind=P, installed_on=P, calibration_due_on=P, status=P,
                last_reading=X, last_read_at=X),
        scope=ScopeRule(Keyset.PREMISES, "premises_id"),
        refs={"premises_id": "premises"},
    ),
    CollectionSpec(
        "appliance",
        _fields(premises_id=K, kind=P, brand=P, model=P, installed_on=P),
        scope=ScopeRule(Keyset.PREMISES, "premises_id"),
        refs={"premises_id": "premises"},
    ),
    CollectionSpec(
        "technician",
        _fields(user_id=P, service_centre_id=P, staff_no=P, name=P, phone=P, skills=P, start_lat=P,
                start_lon=P, shift_start=P, shift_end=P, active=P),
        scope=ScopeRule(Keyset.SELF, "id"),
    ),
    CollectionSpec(
        "checklist_template",
        _fields(code=P, version_no=P, name=P, name_en=P, job_type=P, customer_categories=P, items=P, active=P,
                published_at=P),
        scope=COMPANY,
    ),
    CollectionSpec(
        "price_item",
        _fields(code=P, name=P, name_en=P, kind=P, unit=P, unit_price_cents=P, active=P),
        scope=COMPANY,
    ),
    CollectionSpec(
        "outage_notice",
        _fields(district=P, area_description=P, starts_at=P, ends_at=P, reason=P, announced_at=P),
        scope=COMPANY,
    ),
    CollectionSpec(
        "checklist_answer",
        _fields(job_id=K, template_id=K, item_key=K, value=F, note=F, photo_sha256=F, answered_at=F,
                technician_id=K, supersedes_id=K),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"job_id", "template_id", "item_key", "answered_at"}),
        refs={"job_id": "job", "template_id": "checklist_template", "supersedes_id": "checklist_answer"},
        blobs=frozenset({"photo_sha256"}),
        stamp_technician="technician_id",
        supersedes="supersedes_id",
    ),
    CollectionSpec(
        "hazard",
        _fields(job_id=K, customer_id=K, premises_id=K, severity=F, category=F, description=F,
                immediate_action=F, photo_sha256=F, checklist_item_key=F, found_at=F, rectify_by=F, owner=F,
                status=P, rectification_job_id=P, fixed_confirmed_job_id=F, fixed_confirmed_at=F,
                technician_id=K),
        # Open hazards of the premises travel with any later visit there, so it can confirm them fixed (R16).
        scope=ScopeRule(Keyset.PREMISES, "premises_id"),
        create_scope=ON_JOB,
        device_creates=True,
        device_plan=frozenset({"status"}),  # a later visit confirms it fixed; the office's newer change wins
        choices={"status": frozenset({"open", "rectification_scheduled", "fixed"}),
                 "severity": frozenset({"critical", "major", "minor"}), "owner": frozenset({"customer", "company"})},
        required=frozenset({"job_id", "customer_id", "premises_id", "severity", "description", "found_at",
                            "rectify_by"}),
        refs={"job_id": "job", "customer_id": "customer", "premises_id": "premises"},
        blobs=frozenset({"photo_sha256"}),
        stamp_technician="technician_id",
    ),
    CollectionSpec(
        "quote",
        _fields(job_id=K, lines=F, total_cents=F, currency=F, risk_note=F, technician_id=K, technician_name=F,
                staff_no=F, content_hash=F, status=S, supersedes_id=K, created_on_device_at=F),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"job_id", "lines", "total_cents", "currency", "content_hash", "created_on_device_at"}),
        refs={"job_id": "job", "supersedes_id": "quote"},
        stamp_technician="technician_id",
        machine=QUOTE_MACHINE,
        supersedes="supersedes_id",
    ),
    CollectionSpec(
        "signature",
        _fields(job_id=K, purpose=F, quote_id=K, content_hash=F, signer_name=F, image_sha256=F, signed_at=F),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"job_id", "purpose", "content_hash", "signer_name", "signed_at"}),
        refs={"job_id": "job", "quote_id": "quote"},
        choices={"purpose": frozenset({quotes.QUOTE_APPROVAL, quotes.QUOTE_REFUSAL, quotes.CLEANUP})},
        blobs=frozenset({"image_sha256"}),
    ),
    CollectionSpec(
        "cleanup_confirmation",
        _fields(job_id=K, checklist=F, photo_sha256=F, customer_confirmed=F, method=F, signature_id=K,
                confirmed_at=F),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"job_id", "confirmed_at"}),
        refs={"job_id": "job", "signature_id": "signature"},
        blobs=frozenset({"photo_sha256"}),
    ),
    CollectionSpec(
        "visit_event",
        _fields(job_id=K, technician_id=K, kind=F, at=F, eta=F, note=F, lat=F, lon=F, received_at=X,
                clock_offset_s=X, corrected_at=X),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"job_id", "kind", "at"}),
        refs={"job_id": "job"},
        choices={"kind": frozenset({"en_route", "running_late", "arrived", "departed"})},
        stamp_technician="technician_id",
    ),
    CollectionSpec(
        "fee_collection",
        _fields(job_id=K, quote_id=K, technician_id=K, amount_cents=F, method=F, receipt_no=F, collected_at=F),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"job_id", "amount_cents", "method", "collected_at"}),
        refs={"job_id": "job", "quote_id": "quote"},
        stamp_technician="technician_id",
    ),
    CollectionSpec(
        "meter_reading",
        _fields(meter_id=K, job_id=K, kind=F, reading=F, serial_seen=F, new_serial=F, read_at=F),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"meter_id", "job_id", "reading", "read_at"}),
        refs={"meter_id": "meter", "job_id": "job"},
    ),
    CollectionSpec(
        "note",
        _fields(job_id=K, author_name=F, source=X, text=F, written_at=F),
        scope=ON_JOB,
        device_creates=True,
        required=frozenset({"job_id", "text", "written_at"}),
        refs={"job_id": "job"},
        server_sets={"source": "device"},
    ),
    # Earlier visits at the households of the technician's jobs: one row per earlier finished job
    # (its id), derived by the server from the job and the facts recorded on it; read only. The
    # server keeps the last HISTORY_YEARS years, at most HISTORY_PER_PREMISES per premises.
    CollectionSpec(
        "household_history",
        _fields(premises_id=X, customer_id=X, ref=X, job_type=X, status=X, outcome=X, finished_on=X, technician_name=X,
                could_not_complete_reason=X, cancelled_reason=X, hazards_critical=X, hazards_major=X,
                hazards_minor=X, checklist_answered=X, checklist_failed=X, fee_collected_cents=X),
        scope=ScopeRule(Keyset.PREMISES, "premises_id"),
        read_only=True,
    ),
]

# household_history: which finished jobs count as earlier visits, how far back and how many per premises.
HISTORY_STATUSES = frozenset({"completed", "could_not_complete", "closed", "cancelled"})  # cancelled: with a reason
HISTORY_YEARS = 2
HISTORY_PER_PREMISES = 10

REGISTRY: dict[str, CollectionSpec] = {spec.name: spec for spec in _SPECS}
# Parents before children, so a pulled page can be applied in this order.
ORDER: tuple[str, ...] = tuple(spec.name for spec in _SPECS)


def spec_for(collection: str) -> CollectionSpec | None:
    """The spec of a collection, or None when it is not synced."""
    return REGISTRY.get(collection)


def device_may_write(collection: str, field_name: str, *, creating: bool = False) -> bool:
    """Whether a device may write ``collection.field_name`` (the server adapter's one question)."""
    spec = REGISTRY.get(collection)
    return spec is not None and spec.device_may_write(field_name, creating=creating)
