"""The outbox in PostgreSQL: one database shared by every host of a deployment.

The same semantics as the SQLite store (`sqlite_store.py`), with what several hosts need:
claims with `FOR UPDATE SKIP LOCKED` and leases judged by time only (process ids repeat
across hosts), document bytes in the database (any host can deliver any document), rate
windows on the database's clock under an advisory lock (hosts' clocks may differ). Every
method is one short transaction; a database that cannot be reached raises StoreUnavailable.
"""

from __future__ import annotations

import bisect
import hmac
import io
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg_pool import ConnectionPool

from ..personio.vocabulary import DocumentCategory
from . import migrations
from .migrations import Migration
from .model import Application
from .rules import Status
from .sealing import SEAL_OVERHEAD, new_key, open_name, seal, seal_into, seal_name, unseal
from .spool import Spool
from .store import (
    DELIVERED,
    PARKED,
    PENDING,
    AlreadySubmitted,
    Document,
    Job,
    NonceReused,
    Outbox,
    SchemaMismatch,
    StoreUnavailable,
    Summary,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Connection = psycopg.Connection[DictRow]

CHUNK_BYTES = 1024 * 1024  # document bytes are stored, and read back, one MiB at a time
CONNECT_TIMEOUT = 5.0
POOL_MAX = 8
# How long the pool keeps retrying one lost connection on its own. psycopg_pool doubles the
# wait between attempts (1, 2, 4, 8 s ...) for up to this long, and while one attempt waits
# no request starts another: with its default of 5 minutes, a host found the database back
# only at its next scheduled attempt, up to 16 s after a 10 s outage (issue 18). Given up
# after 2 s (three attempts, a second apart), the next request that needs a connection
# starts a fresh attempt at once: a host reconnects within about a second of the database
# coming back, and a database that stays down is tried only as often as requests need it.
RECONNECT_SECONDS = 2.0
# Advisory locks are (class, object) pairs; ours live in one class of their own. The schema
# lock is (1128354373, 0): `SELECT * FROM pg_locks WHERE locktype = 'advisory' AND classid =
# 1128354373 AND objid = 0` shows who migrates (docs/deployment.md).
LOCK_CLASS = 0x43415245  # "CARE"
SCHEMA_LOCK = 0
# The database's clock, in epoch seconds: one clock for every host's rate window.
DB_NOW = "extract(epoch FROM clock_timestamp())::float8"

MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "applications, documents and their bytes, keys, form nonces, rate log, feed copies",
        """
CREATE TABLE applications (
    id bigserial PRIMARY KEY,
    public_id text NOT NULL UNIQUE,
    position_id bigint NOT NULL,
    language text NOT NULL,
    status text NOT NULL,
    payload bytea,                     -- personal data, sealed (sealing.py); NULL once done
    attempts integer NOT NULL DEFAULT 0,
    create_attempts integer NOT NULL DEFAULT 0,
    next_attempt_at double precision,  -- epoch seconds, like every time below
    lease_owner text,
    lease_until double precision,
    last_reason text,
    last_detail text,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    delivered_at double precision
);
CREATE INDEX applications_due ON applications (status, next_attempt_at, id);
CREATE TABLE documents (
    id bigserial PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    category text NOT NULL,
    filename text NOT NULL,
    size bigint NOT NULL,
    uuid text                          -- Personio's, once uploaded
);
CREATE INDEX documents_application ON documents (application_id);
CREATE TABLE document_chunks (
    document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (document_id, seq)
);
-- Uploads are mostly compressed already (PDF, DOCX, JPEG): store them out of line as they are.
ALTER TABLE document_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE application_keys (
    public_id text PRIMARY KEY,        -- the application's; deleted on delivery (shredding)
    key bytea NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE submissions (
    nonce text PRIMARY KEY,            -- one rendering of the form
    public_id text NOT NULL,
    fingerprint text NOT NULL,         -- keyed hash of what was sent: same post or another
    created_at double precision NOT NULL
);
CREATE INDEX submissions_created ON submissions (created_at);
CREATE TABLE rate_log (
    key text NOT NULL,
    at double precision NOT NULL       -- the database's clock
);
CREATE INDEX rate_log_key ON rate_log (key, at);
CREATE TABLE feed_copies (
    language text PRIMARY KEY,
    body bytea NOT NULL,
    etag text,
    last_modified text,
    fetched_at double precision NOT NULL,
    version text
);
""",
    ),
    # Numbered like the SQLite store's steps: there, 2 added the form nonces, which this
    # store had from its first version. So version 3 means the same schema in both.
    Migration(
        3,
        "mail queue, job-alert subscriptions, first-seen positions, shared turns",
        # careers/mail/pg_mail.py
        """
CREATE TABLE subscriptions (
    id bigserial PRIMARY KEY,
    salt text NOT NULL UNIQUE,         -- random: names the key, signs the links (links.py)
    address_sealed bytea NOT NULL,     -- sealed with the subscription's own key
    address_hash text NOT NULL,        -- keyed hash, for the per-address limits
    filters text NOT NULL,             -- Filters.to_json()
    language text NOT NULL,
    created_at double precision NOT NULL,
    confirmed_at double precision,     -- the consent time; NULL until confirmed
    digest_mark double precision NOT NULL DEFAULT 0,
    last_confirm_at double precision   -- when a confirmation mail was last queued
);
CREATE UNIQUE INDEX subscriptions_address ON subscriptions (address_hash, filters, language);
CREATE TABLE subscription_keys (
    salt text PRIMARY KEY,             -- the subscription's; deleted with it (shredding)
    key bytea NOT NULL,
    created_at double precision NOT NULL
);
CREATE TABLE mail_queue (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    subscription_id bigint REFERENCES subscriptions (id) ON DELETE CASCADE,
    address_hash text,                 -- a subscription's, for its per-day limit; kept a day
    language text NOT NULL,
    params text NOT NULL,              -- JSON, never personal
    dedupe_key text UNIQUE,
    status text NOT NULL,              -- pending, sent, failed
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at double precision,
    lease_owner text,
    lease_until double precision,
    last_error text,
    created_at double precision NOT NULL,
    done_at double precision
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at, id);
CREATE INDEX mail_queue_kind ON mail_queue (kind, created_at);
CREATE INDEX mail_queue_address ON mail_queue (address_hash, created_at);
CREATE INDEX mail_queue_subscription ON mail_queue (subscription_id);
CREATE TABLE positions_seen (
    position_id bigint PRIMARY KEY,
    first_seen_at double precision NOT NULL
);
CREATE TABLE turns (
    name text PRIMARY KEY,
    next_at double precision NOT NULL  -- the database's clock
);
""",
    ),
]

OUR_TABLES = (
    "schema_version",
    "applications",
    "documents",
    "document_chunks",
    "application_keys",
    "submissions",
    "rate_log",
    "feed_copies",
    "subscriptions",
    "subscription_keys",
    "mail_queue",
    "positions_seen",
    "turns",
)
SCHEMA_VERSION_TABLE = """
CREATE TABLE schema_version (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),  -- one row
    version integer NOT NULL
)
"""


# -- schema --------------------------------------------------------------------------------


def _lock_schema(conn: psycopg.Connection[Any]) -> None:
    """The schema lock until the transaction ends: a host opening the store waits while
    another creates or upgrades the schema (`upgrade` holds the same lock per session)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", (LOCK_CLASS, SCHEMA_LOCK))


def _version(conn: psycopg.Connection[Any]) -> int | None:
    """The schema's version; None when the database holds no table of ours."""
    cur = conn.cursor(row_factory=tuple_row)
    found = {
        str(name)
        for (name,) in cur.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind IN ('r', 'p')"
            " AND c.relname = ANY(%s) AND pg_table_is_visible(c.oid)",
            (list(OUR_TABLES),),
        )
    }
    if not found:
        return None
    if "schema_version" not in found:
        raise SchemaMismatch(
            f"the outbox database has tables of ours ({', '.join(sorted(found))}) but no"
            " schema_version: it was not made by careers; use an empty database"
        )
    row = cur.execute("SELECT version FROM schema_version").fetchone()
    if row is None:
        raise SchemaMismatch("the outbox database's schema_version table is empty")
    return int(row[0])


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The version a database is at; 0 for an empty one."""
    return _version(conn) or 0


def _create(conn: psycopg.Connection[Any], steps: Sequence[Migration]) -> None:
    conn.execute(SCHEMA_VERSION_TABLE)
    for step in steps:
        conn.execute(step.sql)
    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (migrations.latest(steps),))


def prepare(conn: psycopg.Connection[Any], steps: Sequence[Migration] = MIGRATIONS) -> None:
    """At start: an empty database gets the latest schema in one transaction; any other is
    only checked (SchemaMismatch), never changed."""
    with conn.transaction():
        _lock_schema(conn)
        current = _version(conn)
        if current is None:
            _create(conn, steps)
            return
    migrations.check(current, steps)


def upgrade(
    conn: psycopg.Connection[Any], steps: Sequence[Migration] = MIGRATIONS
) -> list[Migration]:
    """Apply every pending step, each in its own transaction, while this session holds the
    schema lock (`pg_advisory_lock(LOCK_CLASS, SCHEMA_LOCK)`, released at the end or when
    the session dies): hosts starting together migrate one after the other, and each reads
    the version only once it holds the lock, so a step is applied once. Returns what was
    applied (everything, for an empty database); a schema ahead is refused. `conn` must be
    in autocommit mode (a lock of the session, not of a transaction)."""
    conn.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", (LOCK_CLASS, SCHEMA_LOCK))
    try:
        with conn.transaction():
            current = _version(conn)
            if current is None:
                _create(conn, steps)
                return list(steps)
        migrations.refuse_newer(current, steps)
        applied = []
        for step in migrations.pending(steps, current):
            with conn.transaction():
                conn.execute(step.sql)
                conn.execute("UPDATE schema_version SET version = %s", (step.version,))
            applied.append(step)
        return applied
    finally:
        if not conn.broken:  # a lost session has let go of its locks already
            conn.execute("SELECT pg_advisory_unlock(%s::int4, %s::int4)", (LOCK_CLASS, SCHEMA_LOCK))


def _conninfo(url: str, timeout: float) -> str:
    """The URL, with a connect timeout unless it sets its own."""
    if "connect_timeout" in conninfo_to_dict(url):
        return url
    return psycopg.conninfo.make_conninfo(url, connect_timeout=str(max(2, round(timeout))))


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except psycopg.OperationalError as exc:  # includes the pool's timeout and closed pool
        raise StoreUnavailable(f"outbox database unavailable: {exc}".strip()) from exc


@contextmanager
def connect_once(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own, in autocommit mode, outside the pool (for the schema); an
    unreachable database is StoreUnavailable."""
    with (
        _unavailable_as_store_error(),
        psycopg.connect(_conninfo(url, CONNECT_TIMEOUT), autocommit=True) as conn,
    ):
        yield conn


def upgrade_url(url: str, steps: Sequence[Migration] = MIGRATIONS) -> tuple[int, list[Migration]]:
    """Start-up and `careers db upgrade`: (version now, steps applied)."""
    with connect_once(url) as conn:
        applied = upgrade(conn, steps)
        return schema_version(conn), applied


# -- the store -----------------------------------------------------------------------------


@contextmanager
def transaction(pool: ConnectionPool[Connection]) -> Iterator[Connection]:
    """One short transaction on a connection of `pool`; an unreachable database is
    StoreUnavailable (the outbox and the mail store share the pool and this)."""
    with (
        _unavailable_as_store_error(),
        pool.connection() as conn,
        conn.transaction(),
    ):
        yield conn


class PostgresOutbox:
    """Outbox on PostgreSQL through a small connection pool; safe across threads and hosts."""

    # Short: a dead host's work is claimable within a minute. The deliverer heartbeats with
    # `extend_lease` while it works, so a long delivery keeps its lease.
    lease_seconds = 45.0
    steps: Sequence[Migration] = MIGRATIONS  # the schema this release makes and expects

    def __init__(
        self,
        url: str,
        *,
        spool: Spool | None = None,
        clock: Callable[[], float] = time.time,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        """`spool`: this host's, where uploads arrive (`sweep` cleans it); None in a process
        that takes no uploads. Documents never stay there: `add` copies them in."""
        self.clock = clock
        self.spool = spool
        conninfo = _conninfo(url, connect_timeout)
        with (
            _unavailable_as_store_error(),
            psycopg.connect(conninfo, autocommit=True) as conn,
        ):
            prepare(conn, self.steps)
        self.pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo,
            connection_class=psycopg.Connection[DictRow],
            kwargs={"autocommit": True, "row_factory": dict_row},
            min_size=1,
            max_size=POOL_MAX,
            open=True,
            timeout=connect_timeout,  # waiting for a connection of the pool
            check=ConnectionPool.check_connection,  # a connection the database dropped is replaced
            reconnect_timeout=RECONNECT_SECONDS,
            name="careers-outbox",
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> PostgresOutbox:
        """`postgresql://user:password@host:port/database` (any libpq URL)."""
        return cls(url, **kwargs)

    def _tx(self) -> AbstractContextManager[Connection]:
        return transaction(self.pool)

    def close(self) -> None:
        """Close the pool (every connection of this store, in every thread)."""
        self.pool.close()

    def schema_version(self) -> int:
        with self._tx() as conn:
            return schema_version(conn)

    # -- accepting -----------------------------------------------------------------------

    def add(self, application: Application, *, nonce: str = "", fingerprint: str = "") -> str:
        now = self.clock()
        public_id = secrets.token_urlsafe(12)
        key = new_key()
        sealed = seal(key, json.dumps(application.to_record()).encode(), public_id)
        with self._tx() as conn:
            # The rows go in one round trip (a pipeline): on a busy machine every wait for
            # the server costs a scheduling turn of its backend. The key is in the same
            # transaction as everything sealed with it: both commit, or neither does.
            with conn.pipeline():
                taken = (
                    conn.execute(
                        "INSERT INTO submissions (nonce, public_id, fingerprint, created_at)"
                        " VALUES (%s, %s, %s, %s) ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
                        (nonce, public_id, fingerprint, now),
                    )
                    if nonce
                    else None
                )
                conn.execute(
                    "INSERT INTO application_keys (public_id, key, created_at) VALUES (%s, %b, %s)",
                    (public_id, key, now),
                )
                conn.execute(
                    "INSERT INTO applications (public_id, position_id, language, status,"
                    " payload, next_attempt_at, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %b, %s, %s, %s)",
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
                documents = [
                    conn.execute(
                        "INSERT INTO documents (application_id, category, filename, size)"
                        " SELECT id, %s, %s, %s FROM applications WHERE public_id = %s"
                        " RETURNING id",
                        (
                            attachment.category,
                            seal_name(key, attachment.filename, public_id),
                            attachment.size,
                            public_id,
                        ),
                    )
                    for attachment in application.documents
                ]
            if taken is not None and taken.fetchone() is None:
                self._take_nonce(conn, nonce, fingerprint, public_id, now)
            ids = []
            for cursor in documents:
                row = cursor.fetchone()
                assert row is not None
                ids.append(int(row["id"]))
            _store_documents(
                conn,
                list(zip(ids, (d.path for d in application.documents), strict=True)),
                key,
                public_id,
            )
        # Committed: the bytes are ours now, the incoming files are not needed any more (one
        # left behind by a crash here is swept later; it names no row).
        Spool.discard(d.path for d in application.documents)
        return public_id

    def _take_nonce(
        self, conn: Connection, nonce: str, fingerprint: str, public_id: str, now: float
    ) -> None:
        """The nonce was taken when `add` tried to record it: raise for the form sent
        before. A concurrent add of the same nonce made our insert wait on its primary key
        until it committed, so the check sees it (unless a purge removed it in between:
        then it is recorded now)."""
        for _ in range(3):
            _check_nonce(conn, nonce, fingerprint)
            inserted = conn.execute(
                "INSERT INTO submissions (nonce, public_id, fingerprint, created_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
                (nonce, public_id, fingerprint, now),
            ).fetchone()
            if inserted is not None:
                return
        raise StoreUnavailable("form nonce contended")

    def check_submission(self, nonce: str, fingerprint: str) -> None:
        # One read: no transaction around it (the connections are in autocommit).
        with _unavailable_as_store_error(), self.pool.connection() as conn:
            _check_nonce(conn, nonce, fingerprint)

    # -- delivering ----------------------------------------------------------------------

    def claim(self, owner: str, lease_seconds: float) -> Job | None:
        now = self.clock()
        with self._tx() as conn:
            row = conn.execute(
                "SELECT a.*, k.key FROM applications a"
                " LEFT JOIN application_keys k ON k.public_id = a.public_id"
                " WHERE a.status = %s AND a.next_attempt_at <= %s"
                " AND (a.lease_until IS NULL OR a.lease_until < %s)"
                " ORDER BY a.next_attempt_at, a.id LIMIT 1 FOR UPDATE OF a SKIP LOCKED",
                (PENDING, now, now),
                binary=True,
            ).fetchone()
            if row is None:
                return None
            record = _open_payload(row)
            documents = conn.execute(
                "SELECT id, category, filename, size, uuid FROM documents"
                " WHERE application_id = %s ORDER BY id",
                (row["id"],),
            ).fetchall()
            names = _open_names(row, documents) if record is not None else None
            if record is None or names is None:
                # Its key is gone (or the payload does not open with it): it cannot be read,
                # by us or anyone; an operator must see it.
                conn.execute(
                    "UPDATE applications SET status = %s, next_attempt_at = NULL,"
                    " lease_owner = NULL, lease_until = NULL, last_reason = %s, updated_at = %s"
                    " WHERE id = %s",
                    (PARKED, "payload_unreadable", now, row["id"]),
                )
                return None
            conn.execute(
                "UPDATE applications SET lease_owner = %s, lease_until = %s,"
                " attempts = attempts + 1, updated_at = %s WHERE id = %s",
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
                    "",  # inline: read it with open_document
                    d["size"],
                    d["uuid"],
                )
                for d, name in zip(documents, names, strict=True)
            ),
            attempts=row["attempts"] + 1,
            create_attempts=row["create_attempts"],
            created_at=row["created_at"],
        )

    def extend_lease(self, app_id: int, owner: str, lease_seconds: float) -> bool:
        now = self.clock()
        with self._tx() as conn:
            changed = conn.execute(
                "UPDATE applications SET lease_until = %s WHERE id = %s AND lease_owner = %s"
                " AND status = %s",
                (now + lease_seconds, app_id, owner, PENDING),
            ).rowcount
        return changed == 1

    def open_document(self, document: Document) -> BinaryIO:
        with self._tx() as conn:
            owner = conn.execute(
                "SELECT a.public_id, k.key FROM documents d"
                " JOIN applications a ON a.id = d.application_id"
                " LEFT JOIN application_keys k ON k.public_id = a.public_id WHERE d.id = %s",
                (document.id,),
            ).fetchone()
            layout = [
                (r["seq"], r["n"] - SEAL_OVERHEAD)
                for r in conn.execute(
                    "SELECT seq, length(data) AS n FROM document_chunks WHERE document_id = %s"
                    " ORDER BY seq",
                    (document.id,),
                )
            ]
        if not layout or owner is None or owner["key"] is None:
            raise FileNotFoundError(f"document {document.id} is no longer in the outbox")
        key, public_id = bytes(owner["key"]), owner["public_id"]

        def read_chunk(document_id: int, seq: int) -> bytes | None:
            sealed = self._chunk(document_id, seq)
            if sealed is None:
                return None
            return unseal(key, sealed, _chunk_context(public_id, document_id, seq))

        return io.BufferedReader(ChunkReader(document.id, layout, read_chunk))

    def _chunk(self, document_id: int, seq: int) -> bytes | None:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT data FROM document_chunks WHERE document_id = %s AND seq = %s",
                (document_id, seq),
                binary=True,
            ).fetchone()
        return None if row is None else bytes(row["data"])

    def record_upload(self, document_id: int, uuid: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE documents SET uuid = %s WHERE id = %s", (uuid, document_id))

    def forget_uploads(self, app_id: int) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE documents SET uuid = NULL WHERE application_id = %s", (app_id,))

    def drop_channel(self, app_id: int) -> None:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT a.public_id, a.payload, a.position_id, a.language, k.key"
                " FROM applications a LEFT JOIN application_keys k ON k.public_id = a.public_id"
                " WHERE a.id = %s FOR UPDATE OF a",
                (app_id,),
                binary=True,
            ).fetchone()
            if row is None or row["payload"] is None:
                return
            if row["key"] is None:
                raise KeyError(row["public_id"])
            key = bytes(row["key"])
            record = json.loads(unseal(key, bytes(row["payload"]), row["public_id"]))
            application = Application.from_record(
                record, position_id=row["position_id"], language=row["language"]
            ).channel_as_tag()
            conn.execute(
                "UPDATE applications SET payload = %b WHERE id = %s",
                (seal(key, json.dumps(application.to_record()).encode(), row["public_id"]), app_id),
            )

    def note_create_attempt(self, app_id: int) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE applications SET create_attempts = create_attempts + 1 WHERE id = %s",
                (app_id,),
            )

    def mark_delivered(self, app_id: int, outcome: Status = DELIVERED) -> None:
        now = self.clock()
        with self._tx() as conn:
            found = conn.execute(
                "SELECT public_id FROM applications WHERE id = %s FOR UPDATE", (app_id,)
            ).fetchone()
            # GDPR: Personio has it now; keep only the receipt (docs/applications.md). The
            # documents' bytes go with them (ON DELETE CASCADE).
            conn.execute("DELETE FROM documents WHERE application_id = %s", (app_id,))
            conn.execute(
                "UPDATE applications SET status = %s, payload = NULL, delivered_at = %s,"
                " updated_at = %s, lease_owner = NULL, lease_until = NULL,"
                " next_attempt_at = NULL, last_reason = NULL, last_detail = NULL"
                " WHERE id = %s AND status = %s",  # the first outcome stands
                (outcome, now, now, app_id, PENDING),
            )
            if found is not None:
                conn.execute(
                    "DELETE FROM application_keys WHERE public_id = %s", (found["public_id"],)
                )
        self._vacuum_keys()

    def _vacuum_keys(self) -> None:
        """Make deleted keys' dead tuples reusable space at once (best effort; autovacuum
        does it later anyway). VACUUM cannot run inside a transaction: the pool's
        connections are in autocommit mode."""
        try:
            with self.pool.connection() as conn:
                conn.execute("VACUUM application_keys")
        except psycopg.Error:
            pass

    def retry_later(self, app_id: int, at: float, reason: str, detail: str = "") -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE applications SET next_attempt_at = %s, lease_owner = NULL,"
                " lease_until = NULL, last_reason = %s, last_detail = %s, updated_at = %s"
                " WHERE id = %s AND status = %s",
                (at, reason, detail[:500], self.clock(), app_id, PENDING),
            )

    def park(self, app_id: int, reason: str, detail: str = "") -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE applications SET status = %s, next_attempt_at = NULL, lease_owner = NULL,"
                " lease_until = NULL, last_reason = %s, last_detail = %s, updated_at = %s"
                " WHERE id = %s AND status = %s",  # never a delivered one
                (PARKED, reason, detail[:500], self.clock(), app_id, PENDING),
            )

    def requeue(self, app_id: int) -> bool:
        now = self.clock()
        with self._tx() as conn:
            # A pending application some worker holds is left alone: taking its lease away
            # would let a second worker deliver it at the same time.
            changed = conn.execute(
                "UPDATE applications SET status = %s, next_attempt_at = %s, lease_owner = NULL,"
                " lease_until = NULL, updated_at = %s WHERE id = %s AND (status = %s"
                " OR (status = %s AND (lease_until IS NULL OR lease_until < %s)))",
                (PENDING, now, now, app_id, PARKED, PENDING, now),
            ).rowcount
        return changed == 1

    # -- reading -------------------------------------------------------------------------

    def _summaries(self, where: str, args: tuple[Any, ...], limit: int = 100) -> list[Summary]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT a.id, a.public_id, a.position_id, a.language, a.status, a.attempts,"
                " a.created_at, a.updated_at, a.delivered_at, a.next_attempt_at, a.last_reason,"
                " a.last_detail, k.key,"
                " (SELECT count(*) FROM documents d WHERE d.application_id = a.id) AS docs,"
                " (SELECT string_agg(d.category || ': ' || d.filename, E'\\n' ORDER BY d.id)"
                "  FROM documents d WHERE d.application_id = a.id) AS names"
                " FROM applications a LEFT JOIN application_keys k ON k.public_id = a.public_id"
                f" WHERE {where} ORDER BY a.id DESC LIMIT %s",
                (*args, limit),
            ).fetchall()
        return [
            Summary.from_row(r).names_opened(bytes(r["key"]) if r["key"] is not None else None)
            for r in rows
        ]

    def summary(self, public_id: str) -> Summary | None:
        found = self._summaries("a.public_id = %s", (public_id,), 1)
        return found[0] if found else None

    def get(self, app_id: int) -> Summary | None:
        found = self._summaries("a.id = %s", (app_id,), 1)
        return found[0] if found else None

    def summaries(self, status: str | None = None, limit: int = 100) -> list[Summary]:
        if status is None:
            return self._summaries("true", (), limit)
        return self._summaries("a.status = %s", (status,), limit)

    def purge(self, parked_before: float, receipts_before: float) -> int:
        now = self.clock()
        with self._tx() as conn:
            # The documents (and their chunks) go with their applications (ON DELETE
            # CASCADE); the count reads the snapshot from before the delete.
            purged = conn.execute(
                "WITH gone AS (DELETE FROM applications WHERE (status = %s AND updated_at < %s)"
                " OR (status IN (%s, %s) AND updated_at < %s) RETURNING id)"
                " SELECT count(*) AS n FROM documents WHERE application_id IN (SELECT id FROM gone)",
                (PARKED, parked_before, DELIVERED, Status.ALREADY_APPLIED, receipts_before),
            ).fetchone()
            # Per-client submission counters of clients long gone (rate keys are hashes).
            conn.execute(f"DELETE FROM rate_log WHERE at < {DB_NOW} - 86400")
            # Used form nonces outlive the longest-lived form token by a day.
            conn.execute("DELETE FROM submissions WHERE created_at < %s", (now - 2 * 86400,))
            # Keys of purged applications, and of any whose delivery ended before its key went.
            conn.execute(
                "DELETE FROM application_keys k WHERE NOT EXISTS (SELECT 1 FROM applications a"
                " WHERE a.public_id = k.public_id AND a.payload IS NOT NULL)"
            )
        self._vacuum_keys()
        return int(purged["n"]) if purged else 0

    def counts(self) -> dict[str, int]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT status, count(*) AS n FROM applications GROUP BY status"
            ).fetchall()
        return {r["status"]: r["n"] for r in rows}

    def oldest_pending(self) -> Summary | None:
        # Ids grow with arrival: the smallest pending id has waited longest.
        found = self._summaries(
            "a.id = (SELECT min(id) FROM applications WHERE status = %s)", (PENDING,), 1
        )
        return found[0] if found else None

    def sweep(self, older_than: float = 3600) -> int:
        # No row names a file: whatever is left in the spool is a crashed request's.
        return self.spool.sweep(set(), older_than) if self.spool is not None else 0

    # -- shared rate limits --------------------------------------------------------------

    def take_slot(self, key: str, limit: int, window: float) -> float:
        # One round trip (a pipeline: BEGIN, lock, take, COMMIT). One taker per key at a
        # time, on every host; the window is on the database's clock, read after the lock
        # in the next statement, whose snapshot sees what the previous holder committed,
        # so skewed host clocks share one window. The server runs pipelined statements
        # one after the other, as if each had been waited for.
        with _unavailable_as_store_error(), self.pool.connection() as conn:
            with conn.pipeline(), conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s))", (LOCK_CLASS, key)
                )
                # Expired entries go, the window is counted, and a slot is taken if there
                # is room: one statement, one clock reading (a CTE used twice is computed
                # once).
                taken = conn.execute(
                    f"WITH now AS (SELECT {DB_NOW} AS t),"
                    " gone AS (DELETE FROM rate_log WHERE key = %(key)s"
                    " AND at <= (SELECT t FROM now) - %(window)s),"
                    " win AS (SELECT count(*) AS n, min(at) AS oldest FROM rate_log"
                    " WHERE key = %(key)s AND at > (SELECT t FROM now) - %(window)s),"
                    " taken AS (INSERT INTO rate_log (key, at) SELECT %(key)s, t FROM now, win"
                    " WHERE win.n < %(limit)s RETURNING at)"
                    " SELECT win.n, win.oldest, now.t AS now FROM win, now",
                    {"key": key, "window": float(window), "limit": limit},
                )
            row = taken.fetchone()
        assert row is not None
        if row["n"] < limit:
            return 0.0
        return float(max(0.001, row["oldest"] + window - row["now"]))

    def rate_wait(self, key: str, limit: int, window: float) -> float:
        # One autocommit statement with the database's clock read inside it: asked twice
        # before every application's body is read, so it must cost one round trip.
        with _unavailable_as_store_error(), self.pool.connection() as conn:
            row = conn.execute(
                f"WITH clock AS (SELECT {DB_NOW} AS now)"
                " SELECT clock.now, count(r.at) AS n, min(r.at) AS oldest FROM clock"
                " LEFT JOIN rate_log r ON r.key = %s AND r.at > clock.now - %s"
                " GROUP BY clock.now",
                (key, window),
            ).fetchone()
        assert row is not None
        if row["n"] < limit:
            return 0.0
        return max(0.001, row["oldest"] + window - row["now"])

    def check_writable(self) -> str | None:
        try:
            with self._tx() as conn:
                conn.execute(f"DELETE FROM rate_log WHERE at < {DB_NOW} - 86400")
        except (StoreUnavailable, psycopg.Error) as exc:
            return f"outbox not writable: {exc}"
        return None


# -- helpers -------------------------------------------------------------------------------


def _chunk_context(public_id: str, document_id: int, seq: int) -> str:
    """What binds a sealed chunk to its place: no chunk can be swapped for another."""
    return f"{public_id}:{document_id}:{seq}"


def _store_documents(
    conn: Connection, documents: list[tuple[int, str]], key: bytes, public_id: str
) -> None:
    """Copy spool files into the database a chunk at a time (never a file in memory),
    each chunk sealed with the application's key: once the key is deleted, dead tuples, WAL
    and backups hold only noise. An empty file is one empty chunk: no chunk at all means
    the document is gone.

    One binary COPY for all of them: the chunks stream to the server without a round trip
    each, and each is read and sealed into the same two buffers (psycopg copies a row into
    its own send buffer before `write_row` returns)."""
    if not documents:
        return
    aead = AESGCM(key)
    plain = bytearray(CHUNK_BYTES)
    sealed = bytearray(CHUNK_BYTES + SEAL_OVERHEAD)
    with conn.cursor().copy(
        "COPY document_chunks (document_id, seq, data) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "int4", "bytea"])
        for document_id, path in documents:
            with open(path, "rb", buffering=0) as source:
                seq = 0
                while True:
                    size = _fill(source, plain)
                    if not size and seq > 0:
                        break
                    context = _chunk_context(public_id, document_id, seq)
                    chunk = seal_into(aead, memoryview(plain)[:size], context, sealed)
                    copy.write_row((document_id, seq, chunk))
                    seq += 1
                    if size < CHUNK_BYTES:
                        break


def _fill(source: io.RawIOBase, buffer: bytearray) -> int:
    """Read into `buffer` until it is full or the file ends; how many bytes were read."""
    view, filled = memoryview(buffer), 0
    while filled < len(buffer):
        got = source.readinto(view[filled:])
        if not got:
            break
        filled += got
    return filled


def _check_nonce(conn: Connection, nonce: str, fingerprint: str) -> None:
    """A form already sent: the same post again, or other data under a used token."""
    row = conn.execute(
        "SELECT public_id, fingerprint FROM submissions WHERE nonce = %s", (nonce,)
    ).fetchone()
    if row is None:
        return
    if hmac.compare_digest(row["fingerprint"], fingerprint):
        raise AlreadySubmitted(row["public_id"])
    raise NonceReused(row["public_id"])


def _open_payload(row: DictRow) -> dict[str, Any] | None:
    """The personal record of a claimed row; None when it cannot be read."""
    if row["key"] is None or row["payload"] is None:
        return None
    try:
        return dict(json.loads(unseal(bytes(row["key"]), bytes(row["payload"]), row["public_id"])))
    except (InvalidTag, ValueError):
        return None


def _open_names(row: DictRow, documents: list[DictRow]) -> list[str] | None:
    """The documents' file names (sealed since they are, plain before); None when one
    does not open with the application's key."""
    key = bytes(row["key"]) if row["key"] is not None else None
    try:
        return [open_name(key, d["filename"], row["public_id"]) for d in documents]
    except (KeyError, InvalidTag, ValueError):
        return None


def _db_now(conn: Connection) -> float:
    row = conn.execute(f"SELECT {DB_NOW} AS now").fetchone()
    assert row is not None
    return float(row["now"])


def _wait(conn: Connection, key: str, limit: int, window: float, now: float) -> float:
    """0 when the window has room, else seconds until its oldest entry leaves it. A slot is
    only taken while there is room, so the window never holds more than `limit`."""
    row = conn.execute(
        "SELECT count(*) AS n, min(at) AS oldest FROM rate_log WHERE key = %s AND at > %s",
        (key, now - window),
    ).fetchone()
    assert row is not None
    return 0.0 if row["n"] < limit else max(0.001, row["oldest"] + window - now)


class ChunkReader(io.RawIOBase):
    """A document's bytes, read-only and seekable, one chunk (and one query) at a time."""

    def __init__(
        self,
        document_id: int,
        layout: Sequence[tuple[int, int]],
        read_chunk: Callable[[int, int], bytes | None],
    ) -> None:
        super().__init__()
        self._document_id = document_id
        self._seqs = [seq for seq, _ in layout]
        self._lengths = [length for _, length in layout]
        self._starts: list[int] = []
        total = 0
        for length in self._lengths:
            self._starts.append(total)
            total += length
        self._size = total
        self._read_chunk = read_chunk
        self._pos = 0
        self._index = -1
        self._data = b""

    def _open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed document")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._open()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._open()
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._pos = target
        return target

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._open()
        if self._pos >= self._size:
            return 0
        index = bisect.bisect_right(self._starts, self._pos) - 1
        if index != self._index:
            self._index, self._data = -1, b""  # one chunk in memory, not two
            data = self._read_chunk(self._document_id, self._seqs[index])
            if data is None:
                raise FileNotFoundError(f"document {self._document_id} is no longer in the outbox")
            if len(data) != self._lengths[index]:
                raise OSError(f"document {self._document_id} changed while it was read")
            self._index, self._data = index, data
        offset = self._pos - self._starts[index]
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._data) - offset)
        view[:count] = memoryview(self._data)[offset : offset + count]
        self._pos += count
        return count

    def close(self) -> None:
        self._data = b""
        super().close()


if TYPE_CHECKING:

    def _is_an_outbox(store: PostgresOutbox) -> Outbox:
        return store  # mypy checks the protocol here
