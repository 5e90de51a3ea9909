"""The tablet's device store on SQLite: the server's copy, the local overlay and the outbox.

Three layers, one file (WAL mode, ``synchronous=FULL`` so a committed change survives a power cut):

- ``server_row``: each row exactly as the server last sent it (pulls, push results).
- ``row``: what the app shows and queries: the server copy with the device's pending changes on
  top. Rebuilt for one row from the two others whenever either changes.
- ``outbox``: every local change as a ``sync.records.Mutation``, oldest first, until the server
  answers it. A rejected one is parked with its reason (shown to the technician), never retried
  blindly and never dropped. ``rebuild_cache`` wipes the server copy and cursor but never the outbox.

A change and its outbox entry are written in ONE transaction (``write``), so a kill at any moment
leaves either both or neither. Implements ``sync.ports.DeviceStore``.

At rest the file is a SQLCipher 4 database when a key is given (the app always gives one: see
``mobile/keystore.py``): pages, WAL and journal are AES-256 encrypted and HMAC-checked; temporary
tables stay in memory and deleted content is overwritten (``secure_delete``). Rows that left the
technician's scope are purged once nothing kept on the device needs them (``purge_departed``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sync.records import BlobRef, Mutation, MutationResult, Op, PullPage, ResultStatus, Row, RowRef

SCHEMA = """
CREATE TABLE IF NOT EXISTS server_row (
  collection TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL,
  data TEXT NOT NULL, PRIMARY KEY (collection, id));
CREATE TABLE IF NOT EXISTS row (
  collection TEXT NOT NULL, id TEXT NOT NULL, version INTEGER, deleted INTEGER NOT NULL,
  job_id TEXT, data TEXT NOT NULL, PRIMARY KEY (collection, id));
CREATE INDEX IF NOT EXISTS ix_row_job ON row (collection, job_id);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, mutation_id TEXT NOT NULL UNIQUE, collection TEXT NOT NULL,
  row_id TEXT NOT NULL, op TEXT NOT NULL, base_version INTEGER, fields TEXT NOT NULL, base TEXT NOT NULL,
  device_time TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', reason TEXT, message TEXT);
CREATE INDEX IF NOT EXISTS ix_outbox_row ON outbox (collection, row_id);
CREATE TABLE IF NOT EXISTS blob (
  sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS notice (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, reason TEXT, collection TEXT, row_id TEXT, field TEXT,
  server_value TEXT, device_value TEXT, message TEXT, created_at TEXT NOT NULL, seen INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS departed (collection TEXT NOT NULL, id TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (collection, id));
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, action TEXT NOT NULL, mutation_id TEXT,
  collection TEXT, row_id TEXT, detail TEXT NOT NULL);
"""

PENDING, PARKED = "pending", "parked"


def now_iso() -> str:
    """The device clock, ISO 8601 with offset (UTC)."""
    return dt.datetime.now(dt.UTC).isoformat()


def new_id() -> str:
    """A new row or mutation id (UUID4, made on the device)."""
    return str(uuid.uuid4())


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _job_of(collection: str, row_id: str, data: dict[str, Any]) -> str | None:
    # The index the screens query by: "everything about this job".
    if collection == "job":
        return row_id
    value = data.get("job_id")
    return str(value) if value else None


def _blob_shas(fields: dict[str, Any]) -> list[str]:
    return [str(v) for k, v in fields.items() if k.endswith("_sha256") and v]


class WrongKey(Exception):
    """The key does not open this store file (or the file is not a store)."""


def _connect(path: str, key: bytes | None) -> sqlite3.Connection:
    """A connection to the store file: plain SQLite without a key, SQLCipher 4 with a raw 256-bit key
    (the key is already the output of a slow KDF: SQLCipher's own PBKDF2 is skipped)."""
    if key is None:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    else:
        if len(key) != 32:
            raise ValueError("a store key is 32 bytes")
        import sqlcipher3

        db = sqlcipher3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            db.close()
            raise WrongKey(f"{path}: the key does not open this store") from exc
        db.execute("PRAGMA temp_store=MEMORY")  # no plaintext temporary files
    db.execute("PRAGMA secure_delete=ON")  # purged and deleted rows are overwritten, not left in free pages
    return db  # type: ignore[return-value]


def store_files(path: str | Path) -> list[Path]:
    """The store file and its SQLite companions (WAL, shared memory, rollback journal)."""
    base = str(path)
    return [Path(base + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def is_plaintext(path: str | Path) -> bool:
    """Whether the file is an unencrypted SQLite database (an older app's store)."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except FileNotFoundError:
        return False


def encrypt_plaintext_store(path: str | Path, key: bytes) -> None:
    """Turn an older app's plaintext store into an encrypted one, outbox and all (``sqlcipher_export``).

    The encrypted copy is written beside it, fsynced and renamed over the original; the plaintext
    WAL/SHM go with it. (Flash may keep old blocks: a store that held plaintext is only as gone as the
    medium lets it be.)
    """
    import sqlcipher3

    path = Path(path)
    tmp = path.with_name(path.name + ".encrypting")
    for stale in store_files(tmp):
        stale.unlink(missing_ok=True)
    src = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        src.execute(f"ATTACH DATABASE ? AS enc KEY \"x'{key.hex()}'\"", (str(tmp),))
        src.execute("SELECT sqlcipher_export('enc')")
        src.execute("DETACH DATABASE enc")
    finally:
        src.close()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    for old in store_files(path)[1:]:
        old.unlink(missing_ok=True)
    os.replace(tmp, path)


class DeviceStore:
    """The SQLite device store (``sync.ports.DeviceStore`` plus the queries and writes the app needs).

    Safe to share between the UI thread and the sync worker: one connection, one lock, and every
    public method is one transaction.
    """

    def __init__(self, path: str | Path, key: bytes | None = None) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.encrypted = key is not None
        self._db = _connect(self.path, key)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on the disk before write() returns; a battery pull loses nothing acknowledged.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database (the WAL is checkpointed)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A device setting (token, device id, language, last sync time…)."""
        with self._lock:
            found = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return found[0] if found and found[0] is not None else default

    def set_meta(self, **values: str | None) -> None:
        """Set device settings in one transaction (None removes one)."""
        with self._tx() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM meta WHERE key=?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- reads -------------------------------------------------------------------------------
    def get(self, collection: str, row_id: str) -> dict[str, Any] | None:
        """One row as the app sees it (server copy + pending changes), with ``id``; None if absent."""
        with self._lock:
            found = self._db.execute(
                "SELECT data FROM row WHERE collection=? AND id=? AND deleted=0", (collection, str(row_id))
            ).fetchone()
        return json.loads(found[0]) if found else None

    def all(self, collection: str) -> list[dict[str, Any]]:
        """Every live row of a collection."""
        with self._lock:
            rows = self._db.execute("SELECT data FROM row WHERE collection=? AND deleted=0", (collection,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def for_job(self, collection: str, job_id: str) -> list[dict[str, Any]]:
        """Every live row of a collection that belongs to one job."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM row WHERE collection=? AND job_id=? AND deleted=0", (collection, str(job_id))
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def where(self, collection: str, **equals: Any) -> list[dict[str, Any]]:
        """Live rows of a collection whose fields equal the given values."""
        return [r for r in self.all(collection) if all(r.get(k) == v for k, v in equals.items())]

    def count_rows(self, collection: str) -> int:
        """How many live rows a collection holds."""
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM row WHERE collection=? AND deleted=0", (collection,)
            ).fetchone()[0]

    # -- local writes ------------------------------------------------------------------------
    def write(
        self, collection: str, row_id: str, fields: dict[str, Any], *, op: Op = Op.UPDATE,
        blobs: Iterable[tuple[bytes, str]] = (),
    ) -> Mutation:
        """Change a row locally and queue the change, in ONE transaction; returns the mutation.

        ``blobs`` are (bytes, content type) the change references by SHA-256; they are stored in
        the same transaction so an outbox entry never names a file the device does not hold.
        """
        with self.batch() as batch:
            return batch.write(collection, row_id, fields, op=op, blobs=blobs)

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Several changes (and their outbox entries) in ONE transaction: all of them or none."""
        with self._tx() as db:
            yield Batch(self, db)

    def _write(
        self, db: sqlite3.Connection, collection: str, row_id: str, fields: dict[str, Any], op: Op,
        blobs: Iterable[tuple[bytes, str]],
    ) -> Mutation:
        row_id = str(row_id)
        for data, content_type in blobs:
            self._put_blob(db, data, content_type)
        current = self._effective(db, collection, row_id)
        if op is Op.CREATE and current is not None:
            raise ValueError(f"{collection} {row_id} already exists")
        if op is not Op.CREATE and current is None:
            raise KeyError(f"{collection} {row_id} is not on this device")
        server = db.execute(
            "SELECT version FROM server_row WHERE collection=? AND id=?", (collection, row_id)
        ).fetchone()
        # A change to a row the server has not acknowledged yet (created here) saw no server version: 0.
        base_version = None if op is Op.CREATE else (server[0] if server else 0)
        mutation = Mutation(
            mutation_id=new_id(), collection=collection, row_id=row_id, op=op, base_version=base_version, fields=dict(fields), device_time=now_iso(),
            base={k: (current or {}).get(k) for k in fields} if op is not Op.CREATE else {},
        )
        db.execute(
            "INSERT INTO outbox (mutation_id, collection, row_id, op, base_version, fields, base, device_time)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (mutation.mutation_id, collection, row_id, op.value, mutation.base_version, _dumps(mutation.fields),
             _dumps(mutation.base), mutation.device_time),
        )
        self._rebuild_row(db, collection, row_id)
        return mutation

    def create(self, collection: str, fields: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Create a row on the device (a new UUID unless ``fields`` has an ``id``); returns it."""
        with self.batch() as batch:
            return batch.create(collection, fields, **kwargs)

    def update(self, collection: str, row_id: str, fields: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Change some fields of a row on the device; returns the row."""
        self.write(collection, row_id, fields, op=Op.UPDATE, **kwargs)
        return self.get(collection, row_id) or {}

    def _put_blob(self, db: sqlite3.Connection, data: bytes, content_type: str) -> str:
        sha = hashlib.sha256(data).hexdigest()
        db.execute(
            "INSERT OR IGNORE INTO blob (sha256, content_type, size, data) VALUES (?,?,?,?)",
            (sha, content_type, len(data), data),
        )
        return sha

    def blob(self, sha256: str) -> bytes | None:
        """The bytes of a stored blob."""
        with self._lock:
            found = self._db.execute("SELECT data FROM blob WHERE sha256=?", (sha256,)).fetchone()
        return bytes(found[0]) if found else None

    # -- overlay ---------------------------------------------------------------------------
    def _effective(self, db: sqlite3.Connection, collection: str, row_id: str) -> dict[str, Any] | None:
        found = db.execute("SELECT data, deleted FROM row WHERE collection=? AND id=?", (collection, row_id)).fetchone()
        if found is None or found[1]:
            return None
        return json.loads(found[0])

    def _rebuild_row(self, db: sqlite3.Connection, collection: str, row_id: str) -> None:
        """The shown row = the server copy with the pending (not parked) changes replayed in order."""
        server = db.execute(
            "SELECT version, deleted, data FROM server_row WHERE collection=? AND id=?", (collection, row_id)
        ).fetchone()
        version, deleted, data = (server[0], bool(server[1]), json.loads(server[2])) if server else (None, False, None)
        for op, fields in db.execute(
            "SELECT op, fields FROM outbox WHERE collection=? AND row_id=? AND state=? ORDER BY seq",
            (collection, row_id, PENDING),
        ):
            if op == Op.DELETE:
                deleted = True
            elif op == Op.CREATE and data is None:
                data = {"id": row_id}
            if data is not None:
                data.update(json.loads(fields))
        if data is None:
            db.execute("DELETE FROM row WHERE collection=? AND id=?", (collection, row_id))
            return
        data["id"] = row_id
        db.execute(
            "INSERT OR REPLACE INTO row (collection, id, version, deleted, job_id, data) VALUES (?,?,?,?,?,?)",
            (collection, row_id, version, int(deleted), _job_of(collection, row_id, data), _dumps(data)),
        )

    # -- outbox views ------------------------------------------------------------------------
    def pending_count(self) -> int:
        """How many changes wait for the server (parked ones excluded)."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM outbox WHERE state=?", (PENDING,)).fetchone()[0]

    def pending_by_job(self) -> dict[str, dict[str, int]]:
        """For each job, how many of its changes are pending and how many are parked."""
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            rows = self._db.execute(
                "SELECT o.state, COALESCE(r.job_id, CASE WHEN o.collection='job' THEN o.row_id END) "
                "FROM outbox o LEFT JOIN row r ON r.collection=o.collection AND r.id=o.row_id"
            ).fetchall()
        for state, job_id in rows:
            if job_id:
                counts = out.setdefault(job_id, {PENDING: 0, PARKED: 0})
                counts[state] += 1
        return out

    def parked(self) -> list[dict[str, Any]]:
        """The rejected changes, kept with the server's reason."""
        with self._lock:
            rows = self._db.execute(
                "SELECT mutation_id, collection, row_id, op, fields, reason, message, device_time FROM outbox "
                "WHERE state=? ORDER BY seq", (PARKED,)
            ).fetchall()
        keys = ("mutation_id", "collection", "row_id", "op", "fields", "reason", "message", "device_time")
        return [dict(zip(keys, r, strict=True)) | {"fields": json.loads(r[4])} for r in rows]

    def notices(self) -> list[dict[str, Any]]:
        """Conflicts and rejections the technician should read, newest first."""
        with self._lock:
            cur = self._db.execute("SELECT * FROM notice ORDER BY created_at DESC, id")
            names = [c[0] for c in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def mark_notices_seen(self) -> None:
        """The technician has read the inbox."""
        with self._tx() as db:
            db.execute("UPDATE notice SET seen=1")

    def outbox_rows(self) -> list[dict[str, Any]]:
        """The whole outbox (pending and parked), oldest first: for diagnostics and tests."""
        with self._lock:
            cur = self._db.execute("SELECT * FROM outbox ORDER BY seq")
            names = [c[0] for c in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    # -- sync.ports.DeviceStore ----------------------------------------------------------------
    def cursor(self) -> str | None:
        """The cursor of the last fully applied pull page."""
        return self.get_meta("cursor")

    def pending(self, limit: int) -> list[Mutation]:
        """Up to ``limit`` unacknowledged, unparked mutations, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT mutation_id, collection, row_id, op, base_version, fields, base, device_time "
                "FROM outbox WHERE state=? ORDER BY seq LIMIT ?", (PENDING, limit)
            ).fetchall()
        return [
            Mutation(mutation_id=m, collection=c, row_id=r, op=Op(o), base_version=bv, fields=json.loads(f),
                     device_time=t, base=json.loads(b))
            for m, c, r, o, bv, f, b, t in rows
        ]

    def blobs_for(self, mutations: list[Mutation]) -> list[tuple[BlobRef, bytes]]:
        """The blobs these mutations reference, with their bytes."""
        out: list[tuple[BlobRef, bytes]] = []
        seen: set[str] = set()
        with self._lock:
            for mutation in mutations:
                for sha in _blob_shas(mutation.fields):
                    if sha in seen:
                        continue
                    seen.add(sha)
                    found = self._db.execute(
                        "SELECT content_type, size, data FROM blob WHERE sha256=?", (sha,)
                    ).fetchone()
                    if found:
                        out.append((BlobRef(sha256=sha, content_type=found[0], size=found[1]), bytes(found[2])))
        return out

    def apply_results(self, results: list[MutationResult]) -> None:
        """Record the server's answers in one transaction (see ``sync.ports.DeviceStore``)."""
        with self._tx() as db:
            touched: set[tuple[str, str]] = set()
            for result in results:
                found = db.execute(
                    "SELECT collection, row_id FROM outbox WHERE mutation_id=?", (result.mutation_id,)
                ).fetchone()
                if found is None:
                    continue  # answered before (a replayed result): nothing left to do
                collection, row_id = found
                touched.add((collection, row_id))
                if result.status is ResultStatus.REJECTED:
                    db.execute(
                        "UPDATE outbox SET state=?, reason=?, message=? WHERE mutation_id=?",
                        (PARKED, result.reason, result.message, result.mutation_id),
                    )
                    self._notice(db, f"rejected:{result.mutation_id}", "rejected", result.reason, collection,
                                 row_id, None, None, None, result.message)
                else:
                    db.execute("DELETE FROM outbox WHERE mutation_id=?", (result.mutation_id,))
                for conflict in result.conflicts:
                    self._notice(db, f"conflict:{conflict.id}", "conflict", conflict.rule, conflict.collection,
                                 conflict.row_id, conflict.field, conflict.server_value, conflict.device_value,
                                 conflict.message or result.message)
                if result.status is ResultStatus.CONFLICT and not result.conflicts:
                    self._notice(db, f"conflict:{result.mutation_id}", "conflict", result.reason, collection,
                                 row_id, None, None, None, result.message)
                if result.row is not None:
                    self._store_server_row(db, result.row)
                    touched.add((result.row.collection, result.row.id))
            for collection, row_id in touched:
                self._rebuild_row(db, collection, row_id)

    def _notice(self, db: sqlite3.Connection, ident: str, kind: str, reason: str | None, collection: str | None,
                row_id: str | None, field: str | None, server_value: Any, device_value: Any,
                message: str | None) -> None:
        db.execute(
            "INSERT OR IGNORE INTO notice (id, kind, reason, collection, row_id, field, server_value, device_value,"
            " message, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (ident, kind, reason, collection, row_id, field, _dumps(server_value), _dumps(device_value),
             message or "", now_iso()),
        )

    def _store_server_row(self, db: sqlite3.Connection, row: Row) -> None:
        held = db.execute(
            "SELECT version FROM server_row WHERE collection=? AND id=?", (row.collection, row.id)
        ).fetchone()
        if held is not None and held[0] > row.version:
            return  # never go back to an older copy
        data = dict(row.data)
        db.execute(
            "INSERT OR REPLACE INTO server_row (collection, id, version, deleted, data) VALUES (?,?,?,?,?)",
            (row.collection, row.id, row.version, int(row.deleted), _dumps(data)),
        )

    def _store_page_rows(self, db: sqlite3.Connection, rows: list[Row]) -> None:
        """``_store_server_row`` + ``_rebuild_row`` for a page's rows, in a few bulk statements: the
        held versions read per collection, the newer copies written with executemany, and the shown
        row of each written straight from it unless the outbox has pending changes to replay on top."""
        if not rows:
            return
        newest: dict[tuple[str, str], Row] = {}
        for row in rows:  # in page order: a later copy replaces an earlier one unless older (as one by one)
            key = (row.collection, row.id)
            seen = newest.get(key)
            if seen is None or seen.version <= row.version:
                newest[key] = row
        held: dict[tuple[str, str], int] = {}
        by_collection: dict[str, list[str]] = {}
        for collection, row_id in newest:
            by_collection.setdefault(collection, []).append(row_id)
        for collection, ids in by_collection.items():
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                held.update(((collection, r_id), v) for r_id, v in db.execute(
                    f"SELECT id, version FROM server_row WHERE collection=? AND id IN ({','.join('?' * len(chunk))})",
                    (collection, *chunk)))
        pending = {(c, r) for c, r in db.execute("SELECT DISTINCT collection, row_id FROM outbox WHERE state=?",
                                                 (PENDING,))}
        server_rows, shown, replay = [], [], []
        for key, row in newest.items():
            if key in held and held[key] > row.version:
                continue  # never go back to an older copy
            text = _dumps(row.data)
            server_rows.append((row.collection, row.id, row.version, int(row.deleted), text))
            if key in pending or "id" in row.data:
                replay.append(key)
                continue
            # The shown row is the server copy plus its id (appended last, as _rebuild_row does).
            text = f"{text[:-1]}{',' if row.data else ''}\"id\":{_dumps(row.id)}}}"
            shown.append((row.collection, row.id, row.version, int(row.deleted),
                          _job_of(row.collection, row.id, row.data), text))
        db.executemany("INSERT OR REPLACE INTO server_row (collection, id, version, deleted, data) VALUES (?,?,?,?,?)",
                       server_rows)
        db.executemany("INSERT OR REPLACE INTO row (collection, id, version, deleted, job_id, data) VALUES (?,?,?,?,?,?)",
                       shown)
        for collection, row_id in replay:
            self._rebuild_row(db, collection, row_id)

    def apply_page(self, page: PullPage) -> list[RowRef]:
        """Apply a pulled page and its cursor in one transaction; return revoked rows kept back (G8)."""
        deferred: list[RowRef] = []
        with self._tx() as db:
            self._store_page_rows(db, page.rows)
            self._forget_departed(db, page.rows)
            for ref in page.revoked:
                if self._defer_revoked(db, ref.collection, ref.id):
                    deferred.append(ref)
                    continue
                db.execute("DELETE FROM server_row WHERE collection=? AND id=?", (ref.collection, ref.id))
                self._rebuild_row(db, ref.collection, ref.id)
            self._purge_departed(db)  # rows kept back earlier whose changes are answered by now (G8)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?)", (page.cursor,))
        return deferred

    def _has_pending(self, db: sqlite3.Connection, collection: str, row_id: str) -> bool:
        if db.execute(
            "SELECT 1 FROM outbox WHERE collection=? AND row_id=? AND state=? LIMIT 1", (collection, row_id, PENDING)
        ).fetchone():
            return True
        if collection == "job":  # a job leaves only after every pending change to its visit is answered
            return db.execute(
                "SELECT 1 FROM outbox o JOIN row r ON r.collection=o.collection AND r.id=o.row_id "
                "WHERE r.job_id=? AND o.state=? LIMIT 1", (row_id, PENDING)
            ).fetchone() is not None
        return False

    # -- rows that left the scope: kept while needed, then purged (G8, issue #4) -----------------
    def _defer_revoked(self, db: sqlite3.Connection, collection: str, row_id: str) -> bool:
        """Whether a row the server revoked stays for now: a pending change to it (G8), or something
        still on the device needs it (the customer of a job kept back). A kept row is written to
        ``departed`` in the page's own transaction, so ``purge_departed`` drops it later even though
        the server never names it again."""
        if not (self._has_pending(db, collection, row_id) or self._needed(db, collection, row_id)):
            return False
        db.execute("INSERT OR IGNORE INTO departed (collection, id, at) VALUES (?,?,?)",
                    (collection, row_id, now_iso()))
        return True

    def _forget_departed(self, db: sqlite3.Connection, rows: Iterable[Row]) -> None:
        """Rows the server sends again are in scope again: no longer departing."""
        if db.execute("SELECT 1 FROM departed LIMIT 1").fetchone() is None:
            return
        db.executemany("DELETE FROM departed WHERE collection=? AND id=?", [(r.collection, r.id) for r in rows])

    _KEPT_JOB = (
        "(EXISTS (SELECT 1 FROM departed d WHERE d.collection='job' AND d.id=j.id)"
        " OR EXISTS (SELECT 1 FROM outbox o WHERE o.state='pending' AND o.collection='job' AND o.row_id=j.id)"
        " OR EXISTS (SELECT 1 FROM outbox o JOIN row r ON r.collection=o.collection AND r.id=o.row_id"
        " WHERE o.state='pending' AND r.job_id=j.id))"
    )

    def _needed(self, db: sqlite3.Connection, collection: str, row_id: str) -> bool:
        """Whether a revoked row must stay to show a job kept back for its pending changes (G8): that
        job's own rows, its customer and premises with their contacts, meters and appliances, or a
        customer/premises a pending create names. Anything else the server revoked goes (G3)."""
        found = db.execute("SELECT data FROM row WHERE collection=? AND id=?", (collection, row_id)).fetchone()
        data = json.loads(found[0]) if found else {}
        job_id = data.get("job_id")
        if collection != "job" and job_id and db.execute(
            f"SELECT 1 FROM row j WHERE j.collection='job' AND j.id=? AND {self._KEPT_JOB}", (str(job_id),)
        ).fetchone():
            return True
        refs: list[tuple[str, str]] = []  # (job field, value) a kept job would name
        if collection in ("customer", "premises"):
            refs.append((f"{collection}_id", row_id))
        elif collection in ("customer_contact", "meter", "appliance"):
            refs += [(k, str(data[k])) for k in ("customer_id", "premises_id") if data.get(k)]
        for key, value in refs:
            if db.execute(
                "SELECT 1 FROM row j WHERE j.collection='job' AND j.deleted=0 AND json_extract(j.data, '$.' || ?)=? "
                f"AND {self._KEPT_JOB} LIMIT 1", (key, value),
            ).fetchone():
                return True
        if collection not in ("customer", "premises"):
            return False
        # A pending create naming it (a hazard created at these premises…); only these two are
        # named by other rows' keys, so the outbox is scanned for nothing else.
        return db.execute(
            "SELECT 1 FROM outbox WHERE state=? AND op='create' AND ? IN (json_extract(fields, '$.customer_id'), "
            "json_extract(fields, '$.premises_id')) LIMIT 1", (PENDING, row_id)
        ).fetchone() is not None

    def departed(self) -> list[tuple[str, str]]:
        """Rows that left the scope but are still kept (pending changes, or needed by such a row)."""
        with self._lock:
            return [tuple(r) for r in self._db.execute("SELECT collection, id FROM departed ORDER BY at, collection, id")]

    def purge_departed(self) -> list[tuple[str, str]]:
        """Drop every departed row nothing needs any more, in one transaction; returns them.

        A row is dropped once no pending change refers to it and no live job on the device names it
        (a customer's file goes with the last job of theirs: name, phone, contacts, address, meters).
        The technician's parked changes stay in the outbox (a fact captured on site is not dropped
        by a purge) but no longer show a row. Conflict notices about purged rows and blobs nothing
        refers to any more go too. Idempotent: the app calls it after each sync and at unlock.
        """
        with self._tx() as db:
            return self._purge_departed(db)

    def _purge_departed(self, db: sqlite3.Connection) -> list[tuple[str, str]]:
        """``purge_departed`` inside a transaction (also run at the end of each pulled page)."""
        purged: list[tuple[str, str]] = []
        if db.execute("SELECT 1 FROM departed LIMIT 1").fetchone() is None:
            return purged
        while True:
            progress = False
            for collection, row_id in db.execute("SELECT collection, id FROM departed").fetchall():
                if self._has_pending(db, collection, row_id) or self._needed(db, collection, row_id):
                    continue
                db.execute("DELETE FROM departed WHERE collection=? AND id=?", (collection, row_id))
                db.execute("DELETE FROM server_row WHERE collection=? AND id=?", (collection, row_id))
                db.execute("DELETE FROM notice WHERE kind='conflict' AND collection=? AND row_id=?",
                           (collection, row_id))
                self._rebuild_row(db, collection, row_id)
                purged.append((collection, row_id))
                progress = True
            if not progress:
                break
        if purged:
            self._drop_orphan_blobs(db)
        return purged

    def _drop_orphan_blobs(self, db: sqlite3.Connection) -> None:
        """Delete blobs no row and no outbox entry names (photos of a household that left)."""
        named: set[str] = set()
        for (data,) in db.execute("SELECT data FROM row WHERE data LIKE '%_sha256%'"):
            named.update(_blob_shas(json.loads(data)))
        for (fields,) in db.execute("SELECT fields FROM outbox WHERE fields LIKE '%_sha256%'"):
            named.update(_blob_shas(json.loads(fields)))
        held = [r[0] for r in db.execute("SELECT sha256 FROM blob")]
        db.executemany("DELETE FROM blob WHERE sha256=?", [(sha,) for sha in held if sha not in named])

    # -- parked changes: the technician decides (issue #7 part 4) ---------------------------------
    def _parked_entry(self, db: sqlite3.Connection, mutation_id: str) -> dict[str, Any]:
        cur = db.execute("SELECT * FROM outbox WHERE mutation_id=? AND state=?", (mutation_id, PARKED))
        found = cur.fetchone()
        if found is None:
            raise KeyError(f"no parked change {mutation_id}")
        entry = dict(zip([c[0] for c in cur.description], found, strict=True))
        entry["fields"] = json.loads(entry["fields"])
        return entry

    def _audit(self, db: sqlite3.Connection, action: str, entry: dict[str, Any], **detail: Any) -> None:
        db.execute(
            "INSERT INTO audit (at, action, mutation_id, collection, row_id, detail) VALUES (?,?,?,?,?,?)",
            (now_iso(), action, entry["mutation_id"], entry["collection"], entry["row_id"],
             _dumps({"op": entry["op"], "fields": entry["fields"], "reason": entry["reason"],
                     "message": entry["message"], "device_time": entry["device_time"], **detail})),
        )

    def _unpark(self, db: sqlite3.Connection, entry: dict[str, Any]) -> None:
        db.execute("DELETE FROM outbox WHERE mutation_id=?", (entry["mutation_id"],))
        db.execute("DELETE FROM notice WHERE id=?", (f"rejected:{entry['mutation_id']}",))  # the audit log keeps it
        self._rebuild_row(db, entry["collection"], entry["row_id"])

    def retry_parked(self, mutation_id: str) -> Mutation:
        """Queue a parked change again as a NEW mutation (a rejection is final for its id, §5) against
        the row as it stands now (its current version and values as the base); the parked entry goes,
        with an audit note. Raises KeyError when the row is no longer on the device (send it to the
        office instead)."""
        with self._tx() as db:
            entry = self._parked_entry(db, mutation_id)
            op = Op(entry["op"])
            if op is not Op.CREATE and self._effective(db, entry["collection"], entry["row_id"]) is None:
                raise KeyError(f"{entry['collection']} {entry['row_id']} is no longer on this device")
            self._unpark(db, entry)
            mutation = self._write(db, entry["collection"], entry["row_id"], entry["fields"], op, ())
            self._audit(db, "retried", entry, new_mutation_id=mutation.mutation_id)
            return mutation

    def discard_parked(self, mutation_id: str, why: str = "") -> None:
        """Drop a parked change for good; its full content is kept in the local audit log."""
        with self._tx() as db:
            entry = self._parked_entry(db, mutation_id)
            self._unpark(db, entry)
            self._audit(db, "discarded", entry, why=why)

    def send_parked_to_office(self, mutation_id: str, job_id: str, text: str, author_name: str) -> dict[str, Any]:
        """Replace a parked change by a visit note to the office that says what it was (the fact
        reaches a person instead of being dropped); one transaction, audit note included."""
        with self._tx() as db:
            entry = self._parked_entry(db, mutation_id)
            self._unpark(db, entry)
            note_id = new_id()
            self._write(db, "note", note_id, {"job_id": job_id, "author_name": author_name, "text": text,
                                              "written_at": now_iso()}, Op.CREATE, ())
            self._audit(db, "sent_to_office", entry, note_id=note_id)
            return self._effective(db, "note", note_id) or {}

    def audit_log(self) -> list[dict[str, Any]]:
        """What the technician did with parked changes (retried, discarded, sent to the office)."""
        with self._lock:
            cur = self._db.execute("SELECT * FROM audit ORDER BY seq")
            names = [c[0] for c in cur.description]
            return [dict(zip(names, r, strict=True)) | {"detail": json.loads(r[-1])} for r in cur.fetchall()]

    # -- maintenance ---------------------------------------------------------------------------
    def rebuild_cache(self) -> None:
        """Forget the server copy and the cursor (the next pull starts over). The outbox, its rows'
        local changes and the blobs stay: a cache rebuild never loses the technician's work."""
        with self._tx() as db:
            db.execute("DELETE FROM server_row")
            db.execute("DELETE FROM meta WHERE key='cursor'")
            kept = db.execute("SELECT DISTINCT collection, row_id FROM outbox").fetchall()
            db.execute("DELETE FROM row")
            for collection, row_id in kept:
                self._rebuild_row(db, collection, row_id)

    def load_server_rows(self, rows: Iterable[Row]) -> None:
        """Bulk-load server rows (demo data, benchmarks) as if pulled; the cursor is not touched."""
        with self._tx() as db:
            for row in rows:
                self._store_server_row(db, row)
                self._rebuild_row(db, row.collection, row.id)

    def integrity_ok(self) -> bool:
        """SQLite's own integrity check of the file."""
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


class Batch:
    """Writes inside one store transaction (``DeviceStore.batch``)."""

    def __init__(self, store: DeviceStore, db: sqlite3.Connection) -> None:
        self._store, self._db = store, db

    def write(
        self, collection: str, row_id: str, fields: dict[str, Any], *, op: Op = Op.UPDATE,
        blobs: Iterable[tuple[bytes, str]] = (),
    ) -> Mutation:
        """Change a row and queue the change (see ``DeviceStore.write``)."""
        return self._store._write(self._db, collection, row_id, fields, op, blobs)

    def create(self, collection: str, fields: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Create a row (a new UUID unless ``fields`` has an ``id``); returns it."""
        row_id = str(fields.get("id") or new_id())
        self.write(collection, row_id, {k: v for k, v in fields.items() if k != "id"}, op=Op.CREATE, **kwargs)
        return self.get(collection, row_id) or {}

    def update(self, collection: str, row_id: str, fields: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Change some fields of a row; returns it."""
        self.write(collection, row_id, fields, op=Op.UPDATE, **kwargs)
        return self.get(collection, row_id) or {}

    def get(self, collection: str, row_id: str) -> dict[str, Any] | None:
        """A row as changed so far in this transaction."""
        return self._store._effective(self._db, collection, str(row_id))


def mutation_dict(mutation: Mutation) -> dict[str, Any]:
    """A mutation as plain data (for logs and tests)."""
    return asdict(mutation)
