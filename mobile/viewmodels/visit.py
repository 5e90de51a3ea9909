"""The visit itself: running late (R2), check-in (R1), start work (R3 gate), complete (R4 gate),
could-not-complete, departure. Each action is one store transaction (change + outbox entry)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mobile.session import Session
from mobile.store import DeviceStore
from mobile.viewmodels.base import ViewModel, iso, job_on_tablet, parse_time
from sync.domain.jobs import JobStatus, can_transition
from sync.domain.visits import Gate, can_complete, can_start_work, gate_for_status

TWO_HOURS_MINUTES = 120  # R2: an appointment that cannot be kept is notified at least 2 h ahead
QUOTE_EDITING = "quote_editing"
CNC_REASONS = ("no_access", "customer_absent", "refused_entry", "parts_needed", "unsafe", "other")


@dataclass(frozen=True)
class LateAssessment:
    """What a new ETA means for the appointment (R2)."""

    eta_in_window: bool  # the appointment is still kept
    notice_minutes: int  # how long before the window starts the customer is told now
    two_hour_rule_met: bool  # kept, or told at least 2 h before the window


@dataclass(frozen=True)
class Arrival:
    """Arrival measured against the agreed window (R1)."""

    verdict: str  # "early" | "on_time" | "late" | "no_window"
    minutes: int  # early by / late by (0 when on time)


@dataclass(frozen=True)
class Step:
    """One step of the visit as the job screen lists it; ``done`` or ``blocked`` with a reason code."""

    key: str
    done: bool
    blocked_reason: str | None = None


def assess_late(job: dict[str, Any], eta: dt.datetime, now: dt.datetime) -> LateAssessment:
    """Whether the 2-hour rule is still met if the customer is told about ``eta`` now (R2)."""
    start, end = parse_time(job.get("window_start")), parse_time(job.get("window_end"))
    notice = int((start - now).total_seconds() // 60) if start else 0
    in_window = end is not None and eta <= end
    return LateAssessment(in_window, notice, in_window or notice >= TWO_HOURS_MINUTES)


def assess_arrival(job: dict[str, Any], at: dt.datetime) -> Arrival:
    """Early, on time or late against the window (R1)."""
    start, end = parse_time(job.get("window_start")), parse_time(job.get("window_end"))
    if start is None or end is None:
        return Arrival("no_window", 0)
    if at < start:
        return Arrival("early", int((start - at).total_seconds() // 60))
    if at > end:
        return Arrival("late", int((at - end).total_seconds() // 60))
    return Arrival("on_time", 0)


class VisitViewModel(ViewModel):
    """The actions of one visit, guarded by the same gates the server applies (G10)."""

    def __init__(self, store: DeviceStore, job_id: str, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.job_id = job_id
        self.session = Session(store)

    # -- reads --
    @property
    def job(self) -> dict[str, Any]:
        """The job as the tablet sees it now."""
        return job_on_tablet(self.store, self.job_id)

    def rows(self, collection: str) -> list[dict[str, Any]]:
        """This job's live rows of a collection."""
        return self.store.for_job(collection, self.job_id)

    def _tech(self) -> dict[str, Any]:
        return self.session.technician()

    def start_gate(self) -> Gate:
        """R3: may work start? (Not while a changed quote is still being edited.)"""
        if self.job.get("chargeable") and self.store.get_meta(f"quote_draft:{self.job_id}"):
            return Gate(False, QUOTE_EDITING, "the quote is being changed: show it to the customer to sign again")
        return can_start_work(self.job, self.rows("quote"), self.rows("signature"))

    def complete_gate(self) -> Gate:
        """R3 and R4: may the visit be completed?"""
        job = self.job
        if job.get("status") != JobStatus.IN_PROGRESS:
            gate = self.start_gate()
            if not gate:
                return gate
        return gate_for_status(job, JobStatus.COMPLETED, quotes=self.rows("quote"),
                               signatures=self.rows("signature"), cleanups=self.rows("cleanup_confirmation"))

    def arrival(self) -> Arrival | None:
        """How the recorded arrival compares with the window (None before check-in)."""
        at = parse_time(self.job.get("arrived_at"))
        return assess_arrival(self.job, at) if at else None

    def steps(self) -> list[Step]:
        """The visit's steps with their state: what is done and what still blocks completion."""
        job = self.job
        status = job.get("status")
        started = status in (JobStatus.IN_PROGRESS, JobStatus.COMPLETED)
        steps = [Step("check_in", bool(job.get("arrived_at")))]
        steps.append(Step("checklist", bool(self.rows("checklist_answer"))))
        if job.get("job_type") == "meter_work":  # R15: read the meter, exchange it when the job says so
            readings = self.rows("meter_reading")
            kind = "install" if job.get("meter_id") and job.get("source") == "meter_due" else None
            steps.append(Step("meter", any(kind is None or r.get("kind") == kind for r in readings)))
        if job.get("chargeable"):
            gate = self.start_gate()
            steps.append(Step("approval", bool(gate), None if gate else gate.reason))
        steps.append(Step("start_work", started))
        cleanup = can_complete(job, self.rows("cleanup_confirmation"))
        steps.append(Step("cleanup", bool(cleanup), None if cleanup else cleanup.reason))
        steps.append(Step("complete", status in (JobStatus.COMPLETED, JobStatus.COULD_NOT_COMPLETE)))
        steps.append(Step("depart", bool(job.get("departed_at"))))
        return steps

    # -- actions --
    def _event(self, batch: Any, kind: str, at: dt.datetime, **extra: Any) -> None:
        batch.create("visit_event", {"job_id": self.job_id, "technician_id": self._tech().get("id"), "kind": kind,
                                     "at": iso(at), **extra})

    def _status(self, batch: Any, new: JobStatus, **fields: Any) -> None:
        old = self.job.get("status")
        if not can_transition(old, new):
            raise ValueError(f"a job cannot go from {old} to {new.value}")
        batch.update("job", self.job_id, {"status": new.value, **fields} if old != new else fields)

    def running_late(self, eta: dt.datetime, note: str = "") -> LateAssessment:
        """Record a new ETA: a running_late visit event (the customer notification, synced) and job.eta."""
        now = self.now()
        assessment = assess_late(self.job, eta, now)
        with self.store.batch() as batch:
            self._event(batch, "running_late", now, eta=iso(eta), note=note)
            batch.update("job", self.job_id, {"eta": iso(eta)})
        self.changed()
        return assessment

    def check_in(self) -> Arrival:
        """Arrival on site (R1): an arrived event, the arrival time, status on_site."""
        now = self.now()
        if self.job.get("arrived_at"):
            raise ValueError("already checked in")
        with self.store.batch() as batch:
            self._event(batch, "arrived", now)
            self._status(batch, JobStatus.ON_SITE, arrived_at=iso(now))
        self.changed()
        return assess_arrival(self.job, now)

    def start_work(self) -> Gate:
        """Start the work if R3 allows it (a chargeable job needs the customer's signed approval)."""
        gate = self.start_gate()
        if gate:
            with self.store.batch() as batch:
                self._status(batch, JobStatus.IN_PROGRESS, work_started_at=iso(self.now()))
            self.changed()
        return gate

    def complete(self, satisfaction: int | None = None) -> Gate:
        """Complete the visit if R3 and R4 allow it (work started, cleanup confirmed)."""
        if self.job.get("status") != JobStatus.IN_PROGRESS:
            gate = self.start_work()
            if not gate:
                return gate
        gate = self.complete_gate()
        if gate:
            fields: dict[str, Any] = {"completed_at": iso(self.now())}
            if satisfaction is not None:
                fields["satisfaction"] = int(satisfaction)
            with self.store.batch() as batch:
                self._status(batch, JobStatus.COMPLETED, **fields)
            self.changed()
        return gate

    def could_not_complete(self, reason: str, note: str = "") -> None:
        """Record that the visit could not be completed, and why (e.g. no access)."""
        if reason not in CNC_REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        with self.store.batch() as batch:
            self._status(batch, JobStatus.COULD_NOT_COMPLETE, could_not_complete_reason=reason,
                         could_not_complete_note=note)
        self.changed()

    def depart(self) -> None:
        """Leaving the premises: a departed event and the departure time."""
        now = self.now()
        with self.store.batch() as batch:
            self._event(batch, "departed", now)
            batch.update("job", self.job_id, {"departed_at": iso(now)})
        self.changed()
