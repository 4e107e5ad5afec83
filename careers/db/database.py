"""The database object: opened once per process from CAREERS_DATABASE_URL.

`open_database` picks the connector (`sqlite:///…` in the data directory, or the
`postgresql://…` every host shares), creates an empty database at the latest schema or
checks that the schema is this release's (migrate.py), and hands out the outbox, the mail
store, the feed copies (PostgreSQL only: one disk per host otherwise), the kept files of
refused posts (kept.py), the funnel's counters, rate limiters and the Personio v2 token
every process shares (tokens.py).
`upgrade` and `schema_version` are the migration runner's entries for start-up, `careers
db upgrade` and `careers check`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..applications.spool import Spool
from . import migrate
from .connector import Connector
from .documents import SealedChunks, SpoolFiles
from .feeds import FeedCopies
from .funnel import FunnelCounts
from .kept import KeptFiles
from .keys import KeyRing, KeyStore, PostgresKeys, SQLiteKeys
from .mail import Mail
from .migrate import Migration
from .outbox import Outbox
from .postgresql import CONNECT_TIMEOUT, PostgresConnector, PostgresSchema, connect_once
from .postgresql import schema_version as pg_schema_version
from .ratelimit import RateLimiter
from .sqlite import SQLiteConnector, SQLiteSchema, read_version
from .tokens import Endpoint, SharedBudget, SharedToken


def is_postgres(url: str) -> bool:
    """Anything but `sqlite:///…` is for libpq (a URL, or a conninfo string in tests)."""
    return not url.startswith("sqlite:")


def sqlite_path(url: str) -> Path:
    """The file of `sqlite:///relative.db` or `sqlite:////absolute.db`."""
    return Path(url.removeprefix("sqlite:///"))


class LazyKeys:
    """A key ring made on first use: SQLite's token key file appears only once a v2
    token is kept, and a process that delivers nothing through v2 never opens it."""

    def __init__(self, make: Callable[[], KeyRing]) -> None:
        self._make = make
        self._ring: KeyRing | None = None
        self._lock = threading.Lock()

    def ring(self) -> KeyRing:
        with self._lock:
            if self._ring is None:
                self._ring = self._make()
            return self._ring

    def close(self) -> None:
        if self._ring is not None:
            self._ring.close()


@dataclass(frozen=True)
class Database:
    """One database and what is stored in it."""

    connector: Connector
    outbox: Outbox
    mail: Mail
    feed_copies: FeedCopies | None
    kept: KeptFiles
    token_keys: LazyKeys
    clock: Callable[[], float] = time.time

    @property
    def funnel(self) -> FunnelCounts:
        """The funnel's counters (careers/jobs/funnel.py), shared by every host."""
        return FunnelCounts(self.connector)

    @property
    def dialect(self) -> str:
        return self.connector.dialect

    def limiter(self, limit: int, window: float) -> RateLimiter:
        """`limit` hits per `window` seconds per key, shared by every process and host."""
        return RateLimiter(self.connector, limit, window, self.clock)

    def token_budget(self, client: str) -> SharedBudget:
        """The token endpoint's limit for one OAuth client (its client_key), on every host."""
        return SharedBudget.of(self.limiter, client)

    def shared_token(self, endpoint: Endpoint) -> SharedToken:
        """The token of `endpoint`'s client that every process on this database shares."""
        return SharedToken(self.connector, self.token_keys.ring(), endpoint, clock=self.clock)

    def release(self) -> None:
        """This thread is done with the database (SQLite connections are per thread)."""
        self.mail.close()
        self.outbox.close()
        self.token_keys.close()

    def close(self) -> None:
        """Close this thread's connections, and PostgreSQL's pool."""
        self.release()
        self.connector.close()


def open_database(
    url: str,
    *,
    spool: Spool | None = None,
    clock: Callable[[], float] = time.time,
    connect_timeout: float = CONNECT_TIMEOUT,
    steps: tuple[Migration, ...] | None = None,
) -> Database:
    """The database at `url`, its schema created when empty and checked otherwise
    (SchemaMismatch); an unreachable PostgreSQL is StoreUnavailable. `spool`: this host's,
    where uploads arrive; SQLite keeps the documents in it (by default the one beside the
    database, as in a data directory), PostgreSQL only sweeps it (none by default: a process
    that takes no uploads). `steps`: the schema this release makes and expects (tests give
    a later release's)."""
    if is_postgres(url):
        pg = PostgresConnector(url, connect_timeout=connect_timeout)
        migrate.prepare(PostgresSchema(url, connect_timeout), steps or migrate.steps("postgresql"))
        pg.open()
        application_keys = PostgresKeys(pg, "application", clock)
        kept = KeptFiles(pg, None, clock=clock)
        return Database(
            pg,
            Outbox(
                pg,
                application_keys,
                SealedChunks(pg, application_keys),
                spool=spool,
                clock=clock,
                kept=kept,
            ),
            Mail(pg, PostgresKeys(pg, "subscription", clock), clock=clock),
            FeedCopies(pg),
            kept,
            LazyKeys(lambda: PostgresKeys(pg, "token", clock)),
            clock,
        )
    path = sqlite_path(url)
    spool = spool or Spool(path.parent / "spool")
    lite = SQLiteConnector(path, clock=clock)
    schema = SQLiteSchema(path)
    migrate.prepare(schema, steps or migrate.steps("sqlite"))
    schema.use_wal()

    def keys(suffix: str) -> KeyStore:
        return KeyStore(path.with_name(path.stem + suffix), clock=clock)

    kept = KeptFiles(lite, spool, clock=clock)
    return Database(
        lite,
        Outbox(
            lite,
            SQLiteKeys(keys("-keys.db"), "application", lite.forget_pages),
            SpoolFiles(spool),
            spool=spool,
            clock=clock,
            kept=kept,
        ),
        Mail(
            lite, SQLiteKeys(keys("-mail-keys.db"), "subscription", lite.forget_pages), clock=clock
        ),
        None,
        kept,
        LazyKeys(lambda: SQLiteKeys(keys("-token-keys.db"), "token", lite.forget_pages)),
        clock,
    )


def upgrade(url: str, steps: tuple[Migration, ...] | None = None) -> tuple[int, list[Migration]]:
    """Carry the schema forward under the migration lock: (version now, steps applied)."""
    if is_postgres(url):
        return migrate.upgrade(PostgresSchema(url), steps or migrate.steps("postgresql"))
    return migrate.upgrade(SQLiteSchema(sqlite_path(url)), steps or migrate.steps("sqlite"))


def schema_version(url: str) -> tuple[int, int]:
    """(the database's schema version, the one this release needs), changing nothing. 0 is
    an empty database, or a SQLite file not made yet."""
    if is_postgres(url):
        with connect_once(url) as conn:
            return pg_schema_version(conn), migrate.latest(migrate.steps("postgresql"))
    return read_version(sqlite_path(url)), migrate.latest(migrate.steps("sqlite"))
