"""Machine-readable reasons for rejections and conflicts, each with a human message template.

A ``rejected`` result carries one REJECTION reason: the mutation was not taken, the device parks
it and shows the message to the technician; the rest of the outbox flows on. A ``conflict`` result
carries one CONFLICT rule: the mutation was taken as far as the rule allows and a conflict record
keeps the losing value for the person named in ``review_by``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """A reason code, its message template, and what a client must do about it."""

    code: str
    template: str
    client_action: str

    def message(self, **values: object) -> str:
        """The human message with the placeholders filled (missing ones are left as ``{name}``)."""
        return self.template.format_map(_Keep(values))


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        # A message must never fail to render because a caller forgot a detail.
        return "{" + key + "}"


PARK = "park the mutation, show the message to the technician, keep syncing the rest"

# Rejections: the mutation was not taken.
UNKNOWN_COLLECTION = "unknown_collection"
UNKNOWN_ROW = "unknown_row"
ROW_EXISTS = "row_exists"
ROW_DELETED = "row_deleted"
OUT_OF_SCOPE = "out_of_scope"
FIELD_NOT_WRITABLE = "field_not_writable"
UNKNOWN_FIELD = "unknown_field"
CREATE_NOT_ALLOWED = "create_not_allowed"
DELETE_NOT_ALLOWED = "delete_not_allowed"
ILLEGAL_TRANSITION = "illegal_transition"
MISSING_BLOB = "missing_blob"
IMMUTABLE_FACT = "immutable_fact"
APPROVAL_REQUIRED = "approval_required"
CLEANUP_REQUIRED = "cleanup_required"
MUTATION_ID_REUSED = "mutation_id_reused"
INVALID_VALUE = "invalid_value"
CONTENT_HASH_MISMATCH = "content_hash_mismatch"
# Taken with a value the server set by a rule (answered ``merged``; listed with the rejections for its message).
HAZARD_DEADLINE_SET = "hazard_deadline_set"

# Conflict rules: the mutation was taken as far as the rule allows; the losing value is recorded.
PLAN_DISPATCH_WINS = "plan_dispatch_wins"
STATUS_SERVER_KEPT = "status_server_kept"
WORK_DONE_BEATS_OFFICE = "work_done_beats_office"
FACT_FIRST_KEPT = "fact_first_kept"
DEVICE_OWNED_LATEST = "device_owned_latest"
NOTES_BOTH_KEPT = "notes_both_kept"
REASSIGNED_LATE_CHANGE = "reassigned_late_change"
QUOTE_CHANGED_AFTER_SIGNING = "quote_changed_after_signing"

REJECTIONS: dict[str, Reason] = {
    r.code: r
    for r in [
        Reason(UNKNOWN_COLLECTION, "The server does not sync '{collection}'.", PARK + "; update the app"),
        Reason(UNKNOWN_ROW, "{collection} {row_id} does not exist on the server{detail}.", PARK),
        Reason(ROW_EXISTS, "{collection} {row_id} already exists; a create cannot replace it.", PARK),
        Reason(
            ROW_DELETED,
            "{collection} {row_id} was deleted in the office; the change was not applied.",
            PARK + "; the row's tombstone arrives with the next pull",
        ),
        Reason(
            OUT_OF_SCOPE,
            "{collection} {row_id} is not among this technician's jobs.",
            PARK + "; the row never reached this device or was revoked from it",
        ),
        Reason(FIELD_NOT_WRITABLE, "A tablet may not change {collection}.{field}.", PARK),
        Reason(UNKNOWN_FIELD, "{collection} has no field '{field}'.", PARK + "; update the app"),
        Reason(CREATE_NOT_ALLOWED, "A tablet may not create {collection} rows.", PARK),
        Reason(DELETE_NOT_ALLOWED, "A tablet may not delete {collection} rows.", PARK),
        Reason(ILLEGAL_TRANSITION, "{collection} {row_id} cannot go from {old} to {new}; allowed: {allowed}.", PARK),
        Reason(
            MISSING_BLOB,
            "The file {sha256} referenced by {collection}.{field} has not been uploaded.",
            "upload the blob (PUT /api/v1/blobs/<sha256>) and send the change again as a new mutation",
        ),
        Reason(
            IMMUTABLE_FACT,
            "{collection}.{field} was already recorded as {old!r}; a fact is never overwritten — "
            "record a correction as a new row that supersedes it.",
            PARK,
        ),
        Reason(
            APPROVAL_REQUIRED,
            "Work on job {row_id} cannot start: no quote of this job carries the customer's signed "
            "approval of its current content (R3).",
            PARK + "; get the customer's signature on the current quote, then start work again",
        ),
        Reason(
            CLEANUP_REQUIRED,
            "Job {row_id} cannot be completed before the cleanup is confirmed (R4).",
            PARK + "; record the cleanup confirmation, then complete again",
        ),
        Reason(
            MUTATION_ID_REUSED,
            "Mutation {mutation_id} was already received with a different content; the new content was ignored.",
            "a client bug: park it; never reuse a mutation_id for a different change",
        ),
        Reason(INVALID_VALUE, "{collection}.{field}: {detail}.", PARK),
        Reason(
            HAZARD_DEADLINE_SET,
            "The {severity} hazard was recorded; its rectification deadline was set to {deadline} by R16 "
            "({detail}).",
            "take the row the answer carries (merged): the deadline the customer is told is the server's",
        ),
        Reason(
            CONTENT_HASH_MISMATCH,
            "The quote's content_hash {declared} does not match its content ({actual}).",
            PARK + "; a client bug in the canonical quote encoding",
        ),
    ]
}

CONFLICTS: dict[str, Reason] = {
    r.code: r
    for r in [
        Reason(
            PLAN_DISPATCH_WINS,
            "Dispatch changed {collection}.{field} to {server!r} meanwhile; your {device!r} was not applied.",
            "show it to the technician; the pulled row carries dispatch's value",
        ),
        Reason(
            STATUS_SERVER_KEPT,
            "The job is {server} on the server; your change to {device} was recorded but not applied.",
            "show it to the technician",
        ),
        Reason(
            WORK_DONE_BEATS_OFFICE,
            "The office had set the job to {server}, but the technician recorded {device} on site: "
            "the work is kept and the office change is undone.",
            "a dispatcher reviews it; the technician carries on",
        ),
        Reason(
            FACT_FIRST_KEPT,
            "{collection}.{field} was already recorded as {server!r}; the second value {device!r} is kept "
            "in this conflict record.",
            "a dispatcher reviews it",
        ),
        Reason(
            DEVICE_OWNED_LATEST,
            "{collection}.{field} was {server!r} and is now the tablet's {device!r}.",
            "a dispatcher reviews it",
        ),
        Reason(
            NOTES_BOTH_KEPT,
            "Both the office and the tablet changed {collection}.{field}; both texts are kept, attributed.",
            "a dispatcher tidies the text",
        ),
        Reason(
            REASSIGNED_LATE_CHANGE,
            "Job {job_id} was reassigned away from this technician; the late change was kept.",
            "a dispatcher reviews it",
        ),
        Reason(
            QUOTE_CHANGED_AFTER_SIGNING,
            "The signature approves quote content {device}, but the quote is now {server}: the approval "
            "no longer covers the quote.",
            "show it to the technician: a new signature on the current quote is needed before work",
        ),
    ]
}


def rejection_message(code: str, **values: object) -> str:
    """The human message for a rejection reason."""
    return REJECTIONS[code].message(**values)


def conflict_message(code: str, **values: object) -> str:
    """The human message for a conflict rule."""
    return CONFLICTS[code].message(**values)
