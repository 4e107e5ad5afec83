"""One harness for the two-database contract suites (test_outbox_contract.py,
test_mail_store.py): a database opened through careers/db/ per dialect, plus what the
contracts do not show (rows, keys, versions), so each test runs on SQLite and PostgreSQL.

`backend` (parametrized over both dialects) and `pg_backend` are fixtures, registered for
every test by conftest.py's `pytest_plugins`; a module names the store it tests with its own
`store_kind` fixture ("outbox" or "mail"): `backend.store` is that store of the first
database opened, `backend.new()` the same store of another one on the same database
(another process, or another host).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from careers.applications.spool import Spool
from careers.db import migrate
from careers.db.database import Database, open_database

from .applying import Clock

DIALECTS = ("sqlite", "postgres")


class Backend:
    """One database under test: SQLite in a temporary data directory, or PostgreSQL."""

    def __init__(
        self, name: str, clock: Clock, url: str, kind: str, spool: Spool | None = None
    ) -> None:
        self.name = name
        self.clock = clock
        self.url = url
        self.kind = kind
        # Where uploads arrive; SQLite keeps its documents there too (by default the spool
        # beside its file; PostgreSQL's outbox then has none).
        if spool is None and name == "sqlite":
            spool = Spool(Path(url.removeprefix("sqlite:///")).parent / "spool")
        self.spool = spool
        self.inline = name == "postgres"  # document bytes in the database itself
        # A rate window worth waiting out in a test: PostgreSQL's run on its own clock.
        self.short_window = 2.0 if self.inline else 10.0
        self.latest = migrate.latest(migrate.steps("postgresql" if self.inline else "sqlite"))
        self.opened: list[Database] = []
        self.database = self.open()

    # -- opening -----------------------------------------------------------------------------

    def open(self, clock: Callable[[], float] | None = None, **kwargs: Any) -> Database:
        """Another database object on the same database: another process, or host."""
        database = open_database(self.url, spool=self.spool, clock=clock or self.clock, **kwargs)
        self.opened.append(database)
        return database

    def new(self, clock: Callable[[], float] | None = None) -> Any:
        """The module's store on another database object."""
        return getattr(self.open(clock), self.kind)

    @property
    def store(self) -> Any:
        return getattr(self.database, self.kind)

    @property
    def outbox(self) -> Any:
        return self.database.outbox

    def limiter(self, limit: int, window: float) -> Any:
        return self.database.limiter(limit, window)

    def close(self) -> None:
        for database in reversed(self.opened):
            database.close()

    def thread_done(self, store: Any) -> None:
        """A worker thread ends: SQLite connections are per thread (a store's `close`, a
        database object's `release`)."""
        getattr(store, "release", store.close)()

    def pass_time(self, seconds: float) -> None:
        """Let a rate window move on (on the clock that database's windows run on)."""
        if self.inline:
            time.sleep(seconds)
        else:
            self.clock.advance(seconds)

    # -- looking behind the contract -------------------------------------------------------

    def query(self, query: Any, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run SQL of the dialect (`?` or `%s` parameters) on a connection of its own."""
        if self.inline:
            with psycopg.connect(self.url, autocommit=True) as conn:
                cursor = conn.execute(query, args)
                return cursor.fetchall() if cursor.description else []
        return _sqlite(self.path, query, args)

    @property
    def path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    def _key_file(self) -> Path:
        suffix = "-keys.db" if self.kind == "outbox" else "-mail-keys.db"
        return self.path.with_name(self.path.stem + suffix)

    def payload(self, app_id: int) -> bytes | None:
        mark = "%s" if self.inline else "?"
        return self.query(f"SELECT payload FROM applications WHERE id = {mark}", (app_id,))[0][0]

    def key_ids(self) -> set[str]:
        """The ids of the keys of the module's store (application or subscription keys)."""
        if not self.inline:
            return {row[0] for row in _sqlite(self._key_file(), "SELECT id FROM keys")}
        if self.kind == "outbox":
            return {row[0] for row in self.query("SELECT public_id FROM application_keys")}
        return {row[0] for row in self.query("SELECT salt FROM subscription_keys")}

    def key_count(self) -> int:
        return len(self.key_ids())

    def key(self, key_id: str) -> bytes | None:
        if not self.inline:
            rows = _sqlite(self._key_file(), "SELECT key FROM keys WHERE id = ?", (key_id,))
        elif self.kind == "outbox":
            rows = self.query("SELECT key FROM application_keys WHERE public_id = %s", (key_id,))
        else:
            rows = self.query("SELECT key FROM subscription_keys WHERE salt = %s", (key_id,))
        return bytes(rows[0][0]) if rows else None

    def drop_key(self, key_id: str) -> None:
        """A key lost (a key store restored from an older backup)."""
        if not self.inline:
            _sqlite(self._key_file(), "DELETE FROM keys WHERE id = ?", (key_id,))
        elif self.kind == "outbox":
            self.query("DELETE FROM application_keys WHERE public_id = %s", (key_id,))
        else:
            self.query("DELETE FROM subscription_keys WHERE salt = %s", (key_id,))

    def document_traces(self) -> int:
        """Document bytes the outbox still holds: spool files, or chunks in the database."""
        spool = self.spool
        files = len([*spool.stored.iterdir(), *spool.incoming.iterdir()]) if spool else 0
        return files + (self.rows("document_chunks") if self.inline else 0)

    def rows(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {table}")[0][0])

    def set_version(self, version: int) -> None:
        if self.inline:
            self.query("UPDATE schema_version SET version = %s", (version,))
        else:
            self.query(f"PRAGMA user_version = {int(version)}")


def _sqlite(path: Path, query: str, args: tuple[Any, ...] = ()) -> list[Any]:
    db = sqlite3.connect(path)
    try:
        with db:
            return db.execute(query, args).fetchall()
    finally:
        db.close()


def opened(
    request: pytest.FixtureRequest, dialect: str, tmp_path: Path, clock: Clock, kind: str
) -> Backend:
    spool = request.getfixturevalue("spool")
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'careers.db'}"
        return Backend(dialect, clock, url, kind, spool)
    return Backend(dialect, clock, request.getfixturevalue("pg_url"), kind, spool)


@pytest.fixture
def clock() -> Clock:
    """The databases' clock (PostgreSQL's rate windows and turns run on its own)."""
    return Clock()


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    """Where uploads arrive (a module may name its own)."""
    return Spool(tmp_path / "spool")


@pytest.fixture
def store_kind() -> str:
    """The store a module tests: "outbox" unless the module says otherwise."""
    return "outbox"


@pytest.fixture(params=DIALECTS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, store_kind: str
) -> Iterator[Backend]:
    made = opened(request, request.param, tmp_path, clock, store_kind)
    yield made
    made.close()


@pytest.fixture
def pg_backend(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, store_kind: str
) -> Iterator[Backend]:
    made = opened(request, "postgres", tmp_path, clock, store_kind)
    yield made
    made.close()
