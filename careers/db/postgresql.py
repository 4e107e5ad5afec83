"""PostgreSQL: one database every host of a deployment shares.

A small pool per process (autocommit connections; a transaction per contract method), an
unreachable database raised as StoreUnavailable, and what several hosts need: advisory
locks in a class of our own, and the database's clock for rate windows and turns (hosts'
clocks may differ). The schema's version is the `schema_version` table; upgrades hold the
session lock `pg_advisory_lock(1128354373, 0)`: `SELECT * FROM pg_locks WHERE locktype =
'advisory' AND classid = 1128354373 AND objid = 0` shows who migrates (docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg_pool import ConnectionPool

from ..store_errors import SchemaMismatch, StoreUnavailable
from . import queries
from .connector import Dialect, Row, Tx
from .migrate import Migration, latest

Connection = psycopg.Connection[DictRow]

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
# Advisory locks are (class, object) pairs; ours live in one class of their own.
LOCK_CLASS = 0x43415245  # "CARE"
SCHEMA_LOCK = 0

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
    "personio_tokens",
    "token_keys",
)
SCHEMA_VERSION_TABLE = """
CREATE TABLE schema_version (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),  -- one row
    version integer NOT NULL
)
"""


def conninfo(url: str, timeout: float = CONNECT_TIMEOUT) -> str:
    """The URL, with a connect timeout unless it sets its own."""
    if "connect_timeout" in conninfo_to_dict(url):
        return url
    return make_conninfo(url, connect_timeout=str(max(2, round(timeout))))


@contextmanager
def unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except psycopg.OperationalError as exc:  # includes the pool's timeout and closed pool
        raise StoreUnavailable(f"outbox database unavailable: {exc}".strip()) from exc


@contextmanager
def connect_once(url: str, timeout: float = CONNECT_TIMEOUT) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own, in autocommit mode, outside the pool (for the schema); an
    unreachable database is StoreUnavailable."""
    with (
        unavailable_as_store_error(),
        psycopg.connect(conninfo(url, timeout), autocommit=True) as conn,
    ):
        yield conn


@cache
def _statements() -> dict[str, bytes]:
    # Bytes: our own statements, which psycopg takes as they are (typed LiteralString).
    return {name: sql.encode() for name, sql in queries.load("postgresql").items()}


class PostgresTx:
    """Named statements on one pooled connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._sql = _statements()

    def one(self, name: str, /, **params: Any) -> Row | None:
        return self.conn.execute(self._sql[name], params).fetchone()

    def all(self, name: str, /, **params: Any) -> list[Row]:
        return self.conn.execute(self._sql[name], params).fetchall()

    def one_binary(self, name: str, /, **params: Any) -> Row | None:
        """`one`, its result sent in binary (bytea as it is, not twice its size in hex)."""
        return self.conn.execute(self._sql[name], params, binary=True).fetchone()

    def run(self, name: str, /, **params: Any) -> int:
        return self.conn.execute(self._sql[name], params).rowcount

    def many(self, name: str, rows: Iterable[Mapping[str, Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(self._sql[name], list(rows))


class PostgresConnector:
    """A small pool on the database at `url`, safe across threads and hosts."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.url = url
        self.pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo(url, connect_timeout),
            connection_class=psycopg.Connection[DictRow],
            kwargs={"autocommit": True, "row_factory": dict_row},
            min_size=1,
            max_size=POOL_MAX,
            open=False,
            timeout=connect_timeout,  # waiting for a connection of the pool
            check=ConnectionPool.check_connection,  # a connection the database dropped is replaced
            reconnect_timeout=RECONNECT_SECONDS,
            name="careers-outbox",
        )

    def open(self) -> None:
        """Start the pool (after the schema was found usable)."""
        self.pool.open()

    @contextmanager
    def transaction(self, *, pipeline: bool = False) -> Iterator[PostgresTx]:
        with (
            unavailable_as_store_error(),
            self.pool.connection() as conn,
            conn.pipeline() if pipeline else nullcontext(),
            conn.transaction(),
        ):
            yield PostgresTx(conn)

    @contextmanager
    def reading(self) -> Iterator[PostgresTx]:
        # One statement needs no transaction around it: the connections are in autocommit.
        with unavailable_as_store_error(), self.pool.connection() as conn:
            yield PostgresTx(conn)

    def lock(self, tx: Tx, name: str) -> None:
        tx.run("advisory_lock", name=name)

    def vacuum(self, table: str) -> None:
        """Make deleted keys' dead tuples reusable space at once (best effort; autovacuum
        does it later anyway). VACUUM cannot run inside a transaction: the pool's
        connections are in autocommit mode."""
        try:
            with self.pool.connection() as conn:
                conn.execute(f"VACUUM {table}")
        except psycopg.Error:
            pass

    def release(self) -> None:
        """Nothing per thread: connections go back to the pool after each use."""

    def close(self) -> None:
        """Close the pool (every connection, in every thread)."""
        self.pool.close()


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


def _lock_schema(conn: psycopg.Connection[Any]) -> None:
    """The schema lock until the transaction ends: a host opening the database waits while
    another creates or upgrades the schema (an upgrade holds the same lock per session)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", (LOCK_CLASS, SCHEMA_LOCK))


class PostgresSchema:
    """The migration runner's view of one PostgreSQL database (migrate.Schema)."""

    def __init__(self, url: str, timeout: float = CONNECT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        self._conn: psycopg.Connection[Any] | None = None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._conn is not None:  # inside `locked`: the session that holds the lock
            yield self._conn
            return
        with connect_once(self.url, self.timeout) as conn:
            yield conn

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The session lock, released at the end or when the session dies."""
        with connect_once(self.url, self.timeout) as conn:
            conn.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", (LOCK_CLASS, SCHEMA_LOCK))
            self._conn = conn
            try:
                yield
            finally:
                self._conn = None
                if not conn.broken:  # a lost session has let go of its locks already
                    conn.execute(
                        "SELECT pg_advisory_unlock(%s::int4, %s::int4)", (LOCK_CLASS, SCHEMA_LOCK)
                    )

    def version(self) -> int:
        with self._connection() as conn, unavailable_as_store_error():
            return schema_version(conn)

    def apply(self, step: Migration) -> bool:
        with self._connection() as conn, unavailable_as_store_error(), conn.transaction():
            _lock_schema(conn)
            current = _version(conn)
            if (current or 0) >= step.version:
                return False
            if current is None:
                conn.execute(SCHEMA_VERSION_TABLE)
                conn.execute("INSERT INTO schema_version (version) VALUES (0)")
            conn.execute(step.sql.encode())
            conn.execute("UPDATE schema_version SET version = %s", (step.version,))
        return True

    def create_if_empty(self, migrations: Sequence[Migration]) -> None:
        """All steps in one transaction, under the schema lock: hosts opening an empty
        database at once create it once."""
        with self._connection() as conn, unavailable_as_store_error(), conn.transaction():
            _lock_schema(conn)
            if _version(conn) is not None:
                return
            conn.execute(SCHEMA_VERSION_TABLE)
            for step in migrations:
                conn.execute(step.sql.encode())
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (latest(migrations),))
