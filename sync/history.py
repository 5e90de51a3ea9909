"""``household_history``: what a technician needs to know on arrival about earlier visits there.

One row per earlier *finished* visit (a job that is completed, could not be completed, closed, or
cancelled with a reason) at a premises the technician has a job at: the last ``HISTORY_YEARS``
years (counted from the scope's first day, so membership moves once a day), at most
``HISTORY_PER_PREMISES`` per premises, newest first. The row's id is the earlier job's id; its
version is the highest version among the job and the facts summarised (hazards, checklist answers,
fees), so it changes whenever one of them changes. No customer data beyond what the job's own rows
already carry (R5, R19): ids, the office reference, the job type, times, the technician's name, and
counts.

This module is the reference (pure Python, used by the in-memory store of the simulation); the
server computes the same rows in SQL (server/sync/history.py) and tests compare the two.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sync.collections import HISTORY_PER_PREMISES, HISTORY_STATUSES, HISTORY_YEARS

# Which time marks the end of a visit, first found wins.
FINISH_FIELDS = ("completed_at", "departed_at", "work_started_at", "arrived_at", "window_start")
SEVERITIES = ("critical", "major", "minor")


def qualifies(job: Mapping[str, Any]) -> bool:
    """Whether a job (its wire data) is a finished visit that belongs in a household's history."""
    status = job.get("status")
    if status not in HISTORY_STATUSES:
        return False
    return status != "cancelled" or bool(job.get("cancelled_reason"))


def finished_on(job: Mapping[str, Any]) -> Any:
    """When the visit ended: completion, else departure, start of work, arrival, planned start."""
    return next((job[f] for f in FINISH_FIELDS if job.get(f) is not None), None)


def outcome(job: Mapping[str, Any]) -> str:
    """``completed``, ``could_not_complete`` or ``cancelled`` (a closed job by how it ended)."""
    status = job.get("status")
    if status == "cancelled":
        return "cancelled"
    if status == "could_not_complete" or (job.get("completed_at") is None and job.get("could_not_complete_reason")):
        return "could_not_complete"
    return "completed"


def horizon(first_day_start: dt.datetime) -> dt.datetime:
    """The oldest time a history row may have finished at: ``HISTORY_YEARS`` before the start of the
    scope's first day (so membership moves once a day, with the scope)."""
    try:
        return first_day_start.replace(year=first_day_start.year - HISTORY_YEARS)
    except ValueError:  # 29 February
        return first_day_start.replace(year=first_day_start.year - HISTORY_YEARS, day=28)


def summary(job: Mapping[str, Any], technician_name: str | None, hazards: Iterable[Mapping[str, Any]],
            answers: Iterable[Mapping[str, Any]], fees: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The wire data of one history row from the job's data and its live facts.

    ``answers`` are the job's live checklist answers; one that a later answer supersedes is not
    counted. A failed answer is a pass/fail item answered ``"fail"``.
    """
    counts = dict.fromkeys(SEVERITIES, 0)
    for h in hazards:
        if h.get("severity") in counts:
            counts[h["severity"]] += 1
    answers = list(answers)
    superseded = {str(a["supersedes_id"]) for a in answers if a.get("supersedes_id")}
    current = [a for a in answers if str(a["id"]) not in superseded]
    failed = sum(1 for a in current if isinstance(a.get("value"), Mapping) and a["value"].get("value") == "fail")
    return {
        "premises_id": job.get("premises_id"),
        "customer_id": job.get("customer_id"),
        "ref": job.get("ref"),
        "job_type": job.get("job_type"),
        "status": job.get("status"),
        "outcome": outcome(job),
        "finished_on": finished_on(job),
        "technician_name": technician_name,
        "could_not_complete_reason": job.get("could_not_complete_reason"),
        "cancelled_reason": job.get("cancelled_reason") or "",
        "hazards_critical": counts["critical"],
        "hazards_major": counts["major"],
        "hazards_minor": counts["minor"],
        "checklist_answered": len(current),
        "checklist_failed": failed,
        "fee_collected_cents": sum(int(f.get("amount_cents") or 0) for f in fees),
    }


def newest_per_premises(rows: Iterable[tuple[str, Mapping[str, Any]]], oldest: dt.datetime | None = None,
                        ) -> list[tuple[str, Mapping[str, Any]]]:
    """Of (id, history data) pairs, those finished on or after ``oldest``, at most
    ``HISTORY_PER_PREMISES`` per premises: the newest by ``finished_on``, then by id."""
    by_premises: dict[Any, list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    for row_id, data in rows:
        when = data.get("finished_on")
        if when is None:
            continue
        if oldest is not None and _instant(when) < oldest:
            continue
        by_premises[data.get("premises_id")].append((row_id, data))
    out: list[tuple[str, Mapping[str, Any]]] = []
    for items in by_premises.values():
        items.sort(key=lambda item: (_instant(item[1]["finished_on"]), item[0]), reverse=True)
        out += items[:HISTORY_PER_PREMISES]
    return out


def _instant(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
