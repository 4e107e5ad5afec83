"""The outbox in SQLite: one file, safe across the threads and processes of one host."""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag

from ..personio.vocabulary import DocumentCategory
from . import migrations
from .migrations import Migration
from .model import Application
from .rules import Status
from .sealing import KeyStore, immediate, open_name, private_file, seal, seal_name, unseal
from .spool import Spool
from .store import (
    DELIVERED,
    PARKED,
    PENDING,
    AlreadySubmitted,
    Document,
    Job,
    NonceReused,
    Summary,
)

# Documents' file names are stored sealed (sealing.seal_name) in the same column; rows
# written before that hold them plain and are read as they are: no migration needed.
# The schema, step by step (careers/applications/migrations.py). Version 1 is the first
# release's; a database it made has user_version 0 and is recognised by its tables.
MIGRATIONS = [
    Migration(
        1,
        "applications, documents and the shared rate log",
        """
CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    position_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    payload BLOB,                      -- personal data, sealed (sealing.py); NULL once done
    attempts INTEGER NOT NULL DEFAULT 0,
    create_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    lease_owner TEXT,
    lease_until REAL,
    last_reason TEXT,
    last_detail TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX applications_due ON applications (status, next_attempt_at);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    filename TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    uuid TEXT
);
CREATE INDEX documents_application ON documents (application_id);
CREATE TABLE rate_log (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX rate_log_key ON rate_log (key, at);
""",
    ),
    Migration(
        2,
        "used form nonces: one form, one application",
        """
CREATE TABLE submissions (
    nonce TEXT PRIMARY KEY,            -- one rendering of the form
    public_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,         -- keyed hash of what was sent: same post or another
    created_at REAL NOT NULL
);
""",
    ),
    Migration(
        3,
        "mail queue, job-alert subscriptions, first-seen positions, shared turns",
        # careers/mail/sqlite_mail.py; the addresses' keys live in careers-mail-keys.db.
        """
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    salt TEXT NOT NULL UNIQUE,         -- random: names the key, signs the links (links.py)
    address_sealed BLOB NOT NULL,      -- sealed with the subscription's own key
    address_hash TEXT NOT NULL,        -- keyed hash, for the per-address limits
    filters TEXT NOT NULL,             -- Filters.to_json()
    language TEXT NOT NULL,
    created_at REAL NOT NULL,
    confirmed_at REAL,                 -- the consent time; NULL until confirmed
    digest_mark REAL NOT NULL DEFAULT 0,
    last_confirm_at REAL               -- when a confirmation mail was last queued
);
CREATE UNIQUE INDEX subscriptions_address ON subscriptions (address_hash, filters, language);
CREATE TABLE mail_queue (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subscription_id INTEGER REFERENCES subscriptions (id) ON DELETE CASCADE,
    address_hash TEXT,                 -- a subscription's, for its per-day limit; kept a day
    language TEXT NOT NULL,
    params TEXT NOT NULL,              -- JSON, never personal
    dedupe_key TEXT UNIQUE,
    status TEXT NOT NULL,              -- pending, sent, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    lease_owner TEXT,
    lease_until REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at);
CREATE INDEX mail_queue_kind ON mail_queue (kind, created_at);
CREATE INDEX mail_queue_address ON mail_queue (address_hash, created_at);
CREATE INDEX mail_queue_subscription ON mail_queue (subscription_id);
CREATE TABLE positions_seen (position_id INTEGER PRIMARY KEY, first_seen_at REAL NOT NULL);
CREATE TABLE turns (name TEXT PRIMARY KEY, next_at REAL NOT NULL);
""",
    ),
]


def schema_version(db: sqlite3.Connection) -> int:
    """The version a database is at; 0 for an empty one."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if (
        version == 0
        and db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'applications'"
        ).fetchone()
    ):
        return 1  # made by the first release, which did not number its schema
    return version


def upgrade(db: sqlite3.Connection) -> list[Migration]:
    """Apply every pending step, each in its own transaction; returns what was applied. A
    schema ahead of this release is refused (SchemaMismatch)."""
    current = schema_version(db)
    migrations.refuse_newer(current, MIGRATIONS)
    applied = []
    for step in migrations.pending(MIGRATIONS, current):
        db.execute("BEGIN IMMEDIATE")  # one process at a time; the others wait here
        try:
            if schema_version(db) >= step.version:
                db.execute("COMMIT")  # another process of this host was first
                continue
            for statement in _statements(step.sql):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {step.version}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        applied.append(step)
    return applied


def upgrade_file(path: Path) -> tuple[int, list[Migration]]:
    """Start-up and `careers db upgrade`: carry the database at `path` forward while holding
    its migration lock, `<stem>-migrate.lock` beside it (an exclusive `flock`, released when
    the file closes, also when the process dies), so processes starting together migrate
    one after the other: the first applies the steps, the others re-read the version inside
    the lock and find nothing to do. Returns (version now, steps applied)."""
    path = Path(path)
    lock_path = path.with_name(path.stem + "-migrate.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(lock_path)
    private_file(path)
    with open(lock_path, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait here
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            applied = upgrade(db)
            return schema_version(db), applied
        finally:
            db.close()


def _statements(sql: str) -> list[str]:
    """Our migration scripts' statements (`--` comments removed, split on `;`)."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def _wait(db: sqlite3.Connection, key: str, limit: int, window: float, now: float) -> float:
    """0 when the window has room, else seconds until its oldest entry leaves it. A slot is
    only taken while there is room, so the window never holds more than `limit`."""
    count, oldest = db.execute(
        "SELECT COUNT(*), MIN(at) FROM rate_log WHERE key = ? AND at > ?", (key, now - window)
    ).fetchone()
    return 0.0 if count < limit else max(0.001, oldest + window - now)


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the outbox's database as every store on it needs one."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # an accepted application survives power loss
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA secure_delete=ON")  # what is deleted is overwritten, not freed
    return db


def lease_holder_alive(lease_owner: str) -> bool:
    """Lease owners are "host:pid:…"; a pid that no longer runs holds nothing."""
    try:
        pid = int(lease_owner.split(":")[1])
    except (IndexError, ValueError):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SQLiteFile:
    """A store on the outbox's SQLite file: one connection per thread (`connect`), short
    IMMEDIATE write transactions, and a key store of its own beside the file."""

    def __init__(self, path: Path, keys_suffix: str, clock: Callable[[], float]) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self.keys = KeyStore(self.path.with_name(self.path.stem + keys_suffix), clock=clock)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path)
        return db

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._connection())

    def close(self) -> None:
        """Close this thread's connections (other threads close theirs)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        self.keys.close()

    def _forget_pages(self) -> None:
        """Empty the WAL of pages written before a shred (best effort: a long reader may
        hold it; the next delivery or the housekeeping tries again)."""
        try:
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass


class SQLiteOutbox(SQLiteFile):
    """Outbox on SQLite in WAL mode; every write is a short IMMEDIATE transaction."""

    # One host: a killed worker's lease is taken over at once by pid (`_orphan`), so the
    # lease itself may be long.
    lease_seconds = 300.0

    def __init__(
        self,
        path: Path,
        *,
        spool: Spool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`spool` holds the documents (this host's files, their paths in the rows); by
        default the one beside the database, as in a data directory (`careers.db`, `spool/`)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        private_file(Path(path))
        super().__init__(path, "-keys.db", clock)
        self.spool = spool or Spool(self.path.parent / "spool")
        db = self._connection()
        if schema_version(db) == 0:
            upgrade(db)  # a new database starts at the latest version (safe when racing)
        migrations.check(schema_version(db), MIGRATIONS)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SQLiteOutbox:
        """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`."""
        return cls(Path(url.removeprefix("sqlite:///")), **kwargs)

    def _payload(self, public_id: str, stored: bytes | str) -> dict[str, Any]:
        """The personal record; a str is a payload stored before sealing existed."""
        if isinstance(stored, str):
            return dict(json.loads(stored))
        key = self.keys.get(public_id)
        if key is None:
            raise KeyError(public_id)
        return dict(json.loads(unseal(key, stored, public_id)))

    def _seal(self, public_id: str, record: dict[str, Any]) -> bytes:
        key = self.keys.get(public_id)
        if key is None:
            raise KeyError(public_id)
        return seal(key, json.dumps(record).encode(), public_id)

    # -- accepting -----------------------------------------------------------------------

    def add(self, application: Application, *, nonce: str = "", fingerprint: str = "") -> str:
        if nonce:
            self._check_nonce(nonce, fingerprint)  # a form sent again moves no file
        incoming = [Path(d.path) for d in application.documents]
        # Durable under `stored/` before the row that names them commits.
        stored = self.spool.keep(incoming)
        try:
            return self._insert(
                replace(
                    application,
                    documents=tuple(
                        replace(d, path=str(path))
                        for d, path in zip(application.documents, stored, strict=True)
                    ),
                ),
                nonce,
                fingerprint,
            )
        except BaseException:
            self.spool.give_back(stored, incoming)  # the caller discards them
            raise

    def _insert(self, application: Application, nonce: str, fingerprint: str) -> str:
        """The rows of `add`, in one transaction, its key committed first."""
        now = self.clock()
        public_id = secrets.token_urlsafe(12)
        key = self.keys.create(public_id)  # committed first: never a payload without its key
        sealed = seal(key, json.dumps(application.to_record()).encode(), public_id)
        try:
            with self._write() as db:
                if nonce:
                    self._check_nonce(nonce, fingerprint, db)
                    db.execute(
                        "INSERT INTO submissions (nonce, public_id, fingerprint, created_at)"
                        " VALUES (?, ?, ?, ?)",
                        (nonce, public_id, fingerprint, now),
                    )
                cursor = db.execute(
                    "INSERT INTO applications (public_id, position_id, language, status, payload,"
                    " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        public_id,
                        application.position_id,
                        application.language,
                        PENDING,
                        sealed,
                        now,
                        now,
                        now,
                    ),
                )
                db.executemany(
                    "INSERT INTO documents (application_id, category, filename, path, size)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            cursor.lastrowid,
                            d.category,
                            seal_name(key, d.filename, public_id),
                            d.path,
                            d.size,
                        )
                        for d in application.documents
                    ],
                )
        except BaseException:
            self.keys.delete([public_id])
            raise
        return public_id

    def check_submission(self, nonce: str, fingerprint: str) -> None:
        self._check_nonce(nonce, fingerprint)

    def _check_nonce(
        self, nonce: str, fingerprint: str, db: sqlite3.Connection | None = None
    ) -> None:
        """A form already sent: the same post again, or other data under a used token."""
        row = (
            (db or self._connection())
            .execute("SELECT public_id, fingerprint FROM submissions WHERE nonce = ?", (nonce,))
            .fetchone()
        )
        if row is None:
            return
        if hmac.compare_digest(row["fingerprint"], fingerprint):
            raise AlreadySubmitted(row["public_id"])
        raise NonceReused(row["public_id"])

    # -- delivering ----------------------------------------------------------------------

    def claim(self, owner: str, lease_seconds: float) -> Job | None:
        now = self.clock()
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM applications WHERE status = ? AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id LIMIT 1",
                (PENDING, now, now),
            ).fetchone()
            if row is None:
                row = self._orphan(db, owner)
            if row is None:
                return None
            try:
                record = self._payload(row["public_id"], row["payload"])
                key = self.keys.get(row["public_id"])
                documents = db.execute(
                    "SELECT * FROM documents WHERE application_id = ? ORDER BY id", (row["id"],)
                ).fetchall()
                names = [open_name(key, d["filename"], row["public_id"]) for d in documents]
            except (KeyError, InvalidTag, ValueError):
                # Its key is gone (a key store restored from an older backup): it cannot be
                # read, by us or anyone; an operator must see it.
                db.execute(
                    "UPDATE applications SET status = ?, next_attempt_at = NULL, last_reason = ?,"
                    " updated_at = ? WHERE id = ?",
                    (PARKED, "payload_unreadable", now, row["id"]),
                )
                return None
            db.execute(
                "UPDATE applications SET lease_owner = ?, lease_until = ?, attempts = attempts + 1,"
                " updated_at = ? WHERE id = ?",
                (owner, now + lease_seconds, now, row["id"]),
            )
        return Job(
            id=row["id"],
            public_id=row["public_id"],
            application=Application.from_record(
                record, position_id=row["position_id"], language=row["language"]
            ),
            documents=tuple(
                Document(
                    d["id"],
                    DocumentCategory(d["category"]),
                    name,
                    d["path"],
                    d["size"],
                    d["uuid"],
                )
                for d, name in zip(documents, names, strict=True)
            ),
            attempts=row["attempts"] + 1,
            create_attempts=row["create_attempts"],
            created_at=row["created_at"],
        )

    @staticmethod
    def _orphan(db: sqlite3.Connection, owner: str) -> sqlite3.Row | None:
        """A lease held by a process of this host that no longer exists (killed, crashed):
        take it over now instead of waiting for the lease to run out."""
        host = owner.split(":", 1)[0]
        rows = db.execute(
            "SELECT * FROM applications WHERE status = ? AND lease_owner LIKE ? ORDER BY id",
            (PENDING, f"{host}:%"),
        ).fetchall()
        for row in rows:
            if not lease_holder_alive(row["lease_owner"]):
                return row
        return None

    def extend_lease(self, app_id: int, owner: str, lease_seconds: float) -> bool:
        now = self.clock()
        with self._write() as db:
            changed = db.execute(
                "UPDATE applications SET lease_until = ? WHERE id = ? AND lease_owner = ?"
                " AND status = ?",
                (now + lease_seconds, app_id, owner, PENDING),
            ).rowcount
        return changed == 1

    def open_document(self, document: Document) -> BinaryIO:
        return open(document.path, "rb")  # noqa: SIM115  (the caller closes it)

    def record_upload(self, document_id: int, uuid: str) -> None:
        with self._write() as db:
            db.execute("UPDATE documents SET uuid = ? WHERE id = ?", (uuid, document_id))

    def forget_uploads(self, app_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE documents SET uuid = NULL WHERE application_id = ?", (app_id,))

    def drop_channel(self, app_id: int) -> None:
        with self._write() as db:
            row = db.execute(
                "SELECT public_id, payload, position_id, language FROM applications WHERE id = ?",
                (app_id,),
            ).fetchone()
            if row is None or row["payload"] is None:
                return
            application = Application.from_record(
                self._payload(row["public_id"], row["payload"]),
                position_id=row["position_id"],
                language=row["language"],
            ).channel_as_tag()
            db.execute(
                "UPDATE applications SET payload = ? WHERE id = ?",
                (self._seal(row["public_id"], application.to_record()), app_id),
            )

    def note_create_attempt(self, app_id: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE applications SET create_attempts = create_attempts + 1 WHERE id = ?",
                (app_id,),
            )

    def mark_delivered(self, app_id: int, outcome: Status = DELIVERED) -> None:
        now = self.clock()
        with self._write() as db:
            found = db.execute(
                "SELECT public_id FROM applications WHERE id = ?", (app_id,)
            ).fetchone()
            paths = [
                r["path"]
                for r in db.execute(
                    "SELECT path FROM documents WHERE application_id = ?", (app_id,)
                )
            ]
            # GDPR: Personio has it now; keep only the receipt (docs/applications.md).
            db.execute("DELETE FROM documents WHERE application_id = ?", (app_id,))
            db.execute(
                "UPDATE applications SET status = ?, payload = NULL, delivered_at = ?, updated_at = ?,"
                " lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, last_reason = NULL,"
                " last_detail = NULL WHERE id = ? AND status = ?",  # the first outcome stands
                (outcome, now, now, app_id, PENDING),
            )
        if found is not None:
            self.keys.delete([found["public_id"]])  # shredded: every copy is noise now
        self.spool.discard(paths)
        self._forget_pages()

    def retry_later(self, app_id: int, at: float, reason: str, detail: str = "") -> None:
        with self._write() as db:
            db.execute(
                "UPDATE applications SET next_attempt_at = ?, lease_owner = NULL, lease_until = NULL,"
                " last_reason = ?, last_detail = ?, updated_at = ? WHERE id = ? AND status = ?",
                (at, reason, detail[:500], self.clock(), app_id, PENDING),
            )

    def park(self, app_id: int, reason: str, detail: str = "") -> None:
        with self._write() as db:
            db.execute(
                "UPDATE applications SET status = ?, next_attempt_at = NULL, lease_owner = NULL,"
                " lease_until = NULL, last_reason = ?, last_detail = ?, updated_at = ? WHERE id = ?"
                " AND status = ?",
                (PARKED, reason, detail[:500], self.clock(), app_id, PENDING),
            )

    def requeue(self, app_id: int) -> bool:
        now = self.clock()
        with self._write() as db:
            # A pending application some worker holds is left alone: taking its lease away
            # would let a second worker deliver it at the same time.
            changed = db.execute(
                "UPDATE applications SET status = ?, next_attempt_at = ?, lease_owner = NULL,"
                " lease_until = NULL, updated_at = ? WHERE id = ? AND (status = ?"
                " OR (status = ? AND (lease_until IS NULL OR lease_until < ?)))",
                (PENDING, now, now, app_id, PARKED, PENDING, now),
            ).rowcount
        return changed == 1

    # -- reading -------------------------------------------------------------------------

    def _summaries(self, where: str, args: tuple, limit: int = 100) -> list[Summary]:
        rows = (
            self._connection()
            .execute(
                "SELECT a.*, (SELECT COUNT(*) FROM documents d WHERE d.application_id = a.id) AS docs,"
                " (SELECT group_concat(d.category || ': ' || d.filename, char(10)) FROM documents d"
                "  WHERE d.application_id = a.id) AS names"
                f" FROM applications a WHERE {where} ORDER BY a.id DESC LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        summaries = [Summary.from_row(r) for r in rows]
        return [s.names_opened(self.keys.get(s.public_id)) if s.documents else s for s in summaries]

    def summary(self, public_id: str) -> Summary | None:
        found = self._summaries("a.public_id = ?", (public_id,), 1)
        return found[0] if found else None

    def get(self, app_id: int) -> Summary | None:
        found = self._summaries("a.id = ?", (app_id,), 1)
        return found[0] if found else None

    def summaries(self, status: str | None = None, limit: int = 100) -> list[Summary]:
        if status is None:
            return self._summaries("1 = 1", (), limit)
        return self._summaries("a.status = ?", (status,), limit)

    def purge(self, parked_before: float, receipts_before: float) -> int:
        with self._write() as db:
            doomed = "(status = ? AND updated_at < ?) OR (status IN (?, ?) AND updated_at < ?)"
            args = (PARKED, parked_before, DELIVERED, Status.ALREADY_APPLIED, receipts_before)
            paths = [
                r["path"]
                for r in db.execute(
                    f"SELECT d.path FROM documents d JOIN applications a ON a.id = d.application_id"
                    f" WHERE {doomed}",
                    args,
                )
            ]
            purged = [
                r["public_id"]
                for r in db.execute(f"SELECT public_id FROM applications WHERE {doomed}", args)
            ]
            db.execute(f"DELETE FROM applications WHERE {doomed}", args)
            # Per-client submission counters of clients long gone (rate keys are hashes).
            db.execute("DELETE FROM rate_log WHERE at < ?", (self.clock() - 86400,))
            # Used form nonces outlive the longest-lived form token by a day.
            db.execute("DELETE FROM submissions WHERE created_at < ?", (self.clock() - 2 * 86400,))
            sealed = {
                r["public_id"]
                for r in db.execute("SELECT public_id FROM applications WHERE payload IS NOT NULL")
            }
        self.keys.delete(purged)
        # And keys left behind by a crash between a delivery and its key's deletion (younger
        # ones may belong to an add in progress, which commits its key first).
        self.keys.delete(self.keys.ids(older_than=self.clock() - 3600) - sealed)
        self.spool.discard(paths)
        self._forget_pages()
        return len(paths)

    def counts(self) -> dict[str, int]:
        rows = (
            self._connection()
            .execute("SELECT status, COUNT(*) AS n FROM applications GROUP BY status")
            .fetchall()
        )
        return {r["status"]: r["n"] for r in rows}

    def oldest_pending(self) -> Summary | None:
        # Ids grow with arrival: the smallest pending id has waited longest.
        found = self._summaries(
            "a.id = (SELECT MIN(id) FROM applications WHERE status = ?)", (PENDING,), 1
        )
        return found[0] if found else None

    def sweep(self, older_than: float = 3600) -> int:
        referenced = {r["path"] for r in self._connection().execute("SELECT path FROM documents")}
        return self.spool.sweep(referenced, older_than)

    # -- shared rate limits --------------------------------------------------------------

    def take_slot(self, key: str, limit: int, window: float) -> float:
        now = self.clock()
        with self._write() as db:
            db.execute("DELETE FROM rate_log WHERE key = ? AND at <= ?", (key, now - window))
            wait = _wait(db, key, limit, window, now)
            if wait == 0:
                db.execute("INSERT INTO rate_log (key, at) VALUES (?, ?)", (key, now))
            return wait

    def rate_wait(self, key: str, limit: int, window: float) -> float:
        return _wait(self._connection(), key, limit, window, self.clock())

    def check_writable(self) -> str | None:
        try:
            with self._write() as db:
                db.execute("DELETE FROM rate_log WHERE at < ?", (self.clock() - 86400,))
        except sqlite3.Error as exc:
            return f"outbox not writable: {exc}"
        return None
