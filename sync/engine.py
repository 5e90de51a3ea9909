"""The client engine: one ``sync()`` that uploads blobs, pushes the outbox, then pulls to the end.

The engine holds no state a crash could lose: the outbox, the cursor and the rows live in the
DeviceStore, whose every method is one transaction. It never discards an outbox entry except on
the server's explicit answer (DeviceStore.apply_results).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sync.ports import AuthRevoked, DeviceStore, ProtocolMismatch, Transport, TransportError
from sync.records import ConflictRecord, Mutation, MutationResult, ResultStatus, RowRef


class BlobRejected(TransportError):
    """The server refused a blob for good (too large, wrong type, hash mismatch); never retried as is."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: the n-th retry waits uniformly in [0, min(cap, base·2ⁿ)]."""

    base: float = 2.0
    cap: float = 300.0

    def delay(self, failures: int, rng: Callable[[], float]) -> float:
        """Seconds to wait after ``failures`` consecutive failures (0 after none); ``rng`` gives [0, 1)."""
        if failures <= 0:
            return 0.0
        return rng() * min(self.cap, self.base * 2 ** (failures - 1))


@dataclass
class SyncReport:
    """What one ``sync()`` did, for the app to show: counts, parked rejections, conflicts, errors."""

    pushed: dict[str, int] = field(default_factory=dict)  # result status -> count
    parked: list[MutationResult] = field(default_factory=list)  # rejected: shown to the technician
    conflicts: list[ConflictRecord] = field(default_factory=list)
    pulled_rows: int = 0
    pages: int = 0
    revoked: int = 0
    deferred: list[RowRef] = field(default_factory=list)  # revoked but kept until their changes are acknowledged
    complete: bool = False  # pushed everything sendable and pulled to the end
    error: str | None = None  # a transient failure: retry after ``retry_after`` seconds
    retry_after: float | None = None
    retry_at: float | None = None  # the engine clock's time of the next attempt
    auth_revoked: bool = False
    wipe: bool = False  # the device was reported lost: the app decides what to erase

    def count(self, status: ResultStatus) -> int:
        """How many results of a status this sync received."""
        return self.pushed.get(str(status), 0)


ProgressCallback = Callable[[int, bool], None]  # (rows pulled so far, has_more)


class SyncEngine:
    """Drives one device's sync over a DeviceStore and a Transport."""

    def __init__(
        self,
        store: DeviceStore,
        transport: Transport,
        *,
        batch_size: int = 200,
        page_size: int = 500,
        backoff: Backoff | None = None,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        prefetch: bool = True,
    ) -> None:
        self.store, self.transport = store, transport
        self.batch_size, self.page_size = batch_size, page_size
        self.prefetch = prefetch
        self.backoff, self.rng, self.clock = backoff or Backoff(), rng, clock
        self.failures = 0  # consecutive failed syncs; lost on a restart, which only shortens a wait

    def sync(self, progress: ProgressCallback | None = None) -> SyncReport:
        """Push the outbox, then pull until ``has_more`` is false.

        Raises ProtocolMismatch (the app must be updated; the outbox is kept). A transient
        TransportError ends the sync early with ``error`` and ``retry_after`` set; AuthRevoked sets
        ``auth_revoked`` (and ``wipe``) for the app to act on.
        """
        report = SyncReport()
        try:
            self._push_all(report)
            self._pull_all(report, progress)
        except ProtocolMismatch:
            raise
        except AuthRevoked as exc:
            report.auth_revoked, report.wipe, report.error = True, exc.wipe, str(exc)
            return report
        except TransportError as exc:
            self.failures += 1
            report.error = str(exc) or type(exc).__name__
            report.retry_after = self.backoff.delay(self.failures, self.rng)
            report.retry_at = self.clock() + report.retry_after
            return report
        self.failures = 0
        report.complete = True
        return report

    def _push_all(self, report: SyncReport) -> None:
        seen: set[str] = set()
        while True:
            batch = self.store.pending(self.batch_size)
            if not batch:
                return
            batch, blob_failed = self._upload_blobs(batch)
            if not batch:
                raise TransportError("a blob could not be uploaded; later changes wait behind it (order, G5)")
            results = self.transport.push(batch)
            if len(results) != len(batch) or [r.mutation_id for r in results] != [m.mutation_id for m in batch]:
                raise TransportError("the server answered a different batch; nothing recorded, retrying later")
            self.store.apply_results(results)
            for r in results:
                report.pushed[str(r.status)] = report.pushed.get(str(r.status), 0) + 1
                report.conflicts.extend(r.conflicts)
                if r.status is ResultStatus.REJECTED:
                    report.parked.append(r)
            if blob_failed:
                raise TransportError("a blob could not be uploaded; the changes from it onward wait (order, G5)")
            ids = {m.mutation_id for m in batch}
            if ids <= seen:
                # The store keeps handing back answered mutations: stop rather than loop forever.
                raise TransportError("the outbox did not advance after the server's answers")
            seen |= ids

    def _upload_blobs(self, batch: list[Mutation]) -> tuple[list[Mutation], bool]:
        """Upload what the batch references; return the prefix whose blobs are on the server, and
        whether an upload failed for now.

        A blob the server refuses for good does not hold the queue: its mutation goes anyway and the
        server answers ``missing_blob``, which parks it. A blob that fails for now stops the batch
        before the first mutation that needs it, so the order of changes is kept (G5).
        """
        needs = self.store.blobs_for(batch)
        failed: set[str] = set()
        for ref, data in needs:
            try:
                if not self.transport.has_blob(ref.sha256):
                    self.transport.put_blob(ref, data)
            except BlobRejected:
                continue
            except (ProtocolMismatch, AuthRevoked):
                raise
            except TransportError:
                failed.add(ref.sha256)
        if not failed:
            return batch, False
        for i, m in enumerate(batch):
            if failed & {str(v) for v in m.fields.values() if isinstance(v, str)}:
                return batch[:i], True
        return batch, True

    def _pull_all(self, report: SyncReport, progress: ProgressCallback | None) -> None:
        # With a transport that can (``begin_pull``), the next page is requested with the cursor of
        # the page just received while the store applies it: the server prepares page n+1 as the
        # tablet writes page n. If the tablet fails to apply page n, its stored cursor is two pages
        # behind the server's, which the server answers by sending the scope again from the start
        # (docs/protocol.md §5), so nothing is skipped; it only costs a longer pull after a crash.
        begin = getattr(self.transport, "begin_pull", None) if self.prefetch else None
        page = self.transport.pull(self.store.cursor(), self.page_size)
        while True:
            ahead = begin(page.cursor, self.page_size) if begin is not None and page.has_more else None
            deferred = self.store.apply_page(page)
            report.pages += 1
            report.pulled_rows += len(page.rows)
            report.revoked += len(page.revoked)
            report.deferred.extend(deferred)
            if progress is not None:
                progress(report.pulled_rows, page.has_more)
            if not page.has_more:
                return
            page = ahead() if ahead is not None else self.transport.pull(self.store.cursor(), self.page_size)
