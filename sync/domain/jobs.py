"""The job (work order) state machine. The server enforces it; a merge never leaves it."""

from __future__ import annotations

import enum


class JobStatus(enum.StrEnum):
    """Where a job stands."""

    NEW = "new"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    COULD_NOT_COMPLETE = "could_not_complete"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = JobStatus

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    S.NEW: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.DISPATCHED, S.NEW, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.EN_ROUTE, S.ON_SITE, S.SCHEDULED, S.COULD_NOT_COMPLETE, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.DISPATCHED, S.COULD_NOT_COMPLETE, S.CANCELLED}),
    S.ON_SITE: frozenset({S.IN_PROGRESS, S.COULD_NOT_COMPLETE}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.COULD_NOT_COMPLETE}),
    S.COMPLETED: frozenset({S.CLOSED}),
    S.COULD_NOT_COMPLETE: frozenset({S.SCHEDULED, S.CLOSED, S.CANCELLED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses a technician's device may set; the rest belong to dispatch.
DEVICE_STATUSES = frozenset({S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS, S.COMPLETED, S.COULD_NOT_COMPLETE, S.DISPATCHED})
OFFICE_STATUSES = frozenset({S.NEW, S.SCHEDULED, S.DISPATCHED, S.CANCELLED, S.CLOSED})
# Once here, work has happened on site: an office cancellation must not erase it.
WORK_DONE = frozenset({S.ON_SITE, S.IN_PROGRESS, S.COMPLETED, S.COULD_NOT_COMPLETE})
TERMINAL = frozenset({S.CLOSED, S.CANCELLED})
# Visits the technician still has to do or is doing.
OPEN_ON_DEVICE = frozenset({S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS})


class IllegalTransition(ValueError):
    """A status change the state machine does not allow; names the allowed next states."""

    def __init__(self, old: JobStatus, new: JobStatus) -> None:
        self.old, self.new = old, new
        self.allowed = sorted(s.value for s in TRANSITIONS[old])
        allowed = ", ".join(self.allowed) or "none (final state)"
        super().__init__(f"a job cannot go from {old.value} to {new.value}; allowed: {allowed}")


def can_transition(old: JobStatus | str, new: JobStatus | str) -> bool:
    """Whether ``old → new`` is a legal step (staying put is always legal)."""
    old, new = JobStatus(old), JobStatus(new)
    return old == new or new in TRANSITIONS[old]


def check_transition(old: JobStatus | str, new: JobStatus | str) -> None:
    """Raise IllegalTransition unless ``old → new`` is legal."""
    if not can_transition(old, new):
        raise IllegalTransition(JobStatus(old), JobStatus(new))


def path_exists(old: JobStatus | str, new: JobStatus | str) -> bool:
    """Whether ``new`` can be reached from ``old`` in one or more legal steps."""
    old, new = JobStatus(old), JobStatus(new)
    seen, todo = {old}, [old]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt == new:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return old == new
