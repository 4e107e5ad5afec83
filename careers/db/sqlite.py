"""SQLite: one file on one host, safe across its threads and processes.

One connection per thread in WAL mode; every write is a short `BEGIN IMMEDIATE`
transaction, so writers queue on SQLite's lock instead of failing halfway. The schema's
version is `PRAGMA user_version`; upgrades hold an exclusive `flock` on
`<stem>-migrate.lock` beside the file (released when the file closes, also when the process
dies).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import queries
from .connector import Dialect, Row, Tx
from .migrate import Migration

TIMEOUT = 30.0  # seconds a statement waits for another process's write lock


def private_file(path: Path) -> None:
    """Create `path` (if missing) readable by its owner only, whatever the umask; SQLite
    gives its journal and WAL files the mode of the database file."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction that takes SQLite's write lock at once."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


def connect(path: Path) -> sqlite3.Connection:
    """A connection as every user of the database needs one: settings of the connection
    only. None of them touches the file, so opening one never meets another's lock; WAL,
    which would take the write lock without waiting for it, is set once per process by
    `SQLiteSchema.use_wal` before any thread connects."""
    db = sqlite3.connect(path, timeout=TIMEOUT, isolation_level=None)
    db.row_factory = _dict_row
    db.execute("PRAGMA synchronous=FULL")  # an accepted application survives power loss
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA secure_delete=ON")  # what is deleted is overwritten, not freed
    return db


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A list parameter is a JSON array here, for `json_each` (PostgreSQL takes it as an
    array): the contracts pass the same values to both."""
    return {k: json.dumps(v) if isinstance(v, list | tuple) else v for k, v in params.items()}


class SQLiteTx:
    """Named statements on one SQLite connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._sql = queries.load("sqlite")

    def one(self, name: str, /, **params: Any) -> Row | None:
        # All of it: a RETURNING statement left unfinished would block the COMMIT.
        rows = self.db.execute(self._sql[name], _params(params)).fetchall()
        return rows[0] if rows else None

    def all(self, name: str, /, **params: Any) -> list[Row]:
        return self.db.execute(self._sql[name], _params(params)).fetchall()

    def run(self, name: str, /, **params: Any) -> int:
        return self.db.execute(self._sql[name], _params(params)).rowcount

    def many(self, name: str, rows: Iterable[Mapping[str, Any]]) -> None:
        self.db.executemany(self._sql[name], (_params(r) for r in rows))


class SQLiteConnector:
    """The database file at `path`, a connection per thread."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_file(self.path)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path)
        return db

    @contextmanager
    def transaction(self, *, pipeline: bool = False) -> Iterator[SQLiteTx]:
        with immediate(self._connection()) as db:
            yield SQLiteTx(db)

    @contextmanager
    def reading(self) -> Iterator[SQLiteTx]:
        yield SQLiteTx(self._connection())

    def lock(self, tx: Tx, name: str) -> None:
        pass  # a write transaction holds the whole database

    def forget_pages(self) -> None:
        """Empty the WAL of pages written before a shred (best effort: a long reader may
        hold it; the next delivery or the housekeeping tries again)."""
        try:
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass

    def release(self) -> None:
        """Close this thread's connection (other threads close theirs)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    close = release  # a thread's connections are all a SQLite process holds open here


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


def _statements(sql: str) -> list[str]:
    """A schema file's statements (`--` comments removed, split on `;`)."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


class SQLiteSchema:
    """The migration runner's view of one SQLite file (migrate.Schema)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.stem + "-migrate.lock")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=TIMEOUT, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_file(self.lock_path)
        private_file(self.path)
        with open(self.lock_path, "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait here
            yield

    def version(self) -> int:
        with self._db() as db:
            return schema_version(db)

    def apply(self, step: Migration) -> bool:
        with self._db() as db, immediate(db):  # one process at a time; the others wait here
            if schema_version(db) >= step.version:
                return False  # another process of this host was first
            for statement in _statements(step.sql):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {int(step.version)}")
        return True

    def use_wal(self) -> None:
        """Put the file in WAL mode (it stays so): readers and the writer do not block each
        other. Switching takes the write lock without a busy wait, so it is done here, under
        the migration lock, and retried while another process of this host holds the write
        lock; a file in WAL already is left alone."""
        deadline = time.monotonic() + TIMEOUT
        with self.locked(), self._db() as db:
            while True:
                try:
                    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        db.execute("PRAGMA journal_mode=WAL")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def create_if_empty(self, migrations: Sequence[Migration]) -> None:
        if self.version() == 0:
            for step in migrations:  # safe when racing: each step re-reads the version
                self.apply(step)


def read_version(path: Path) -> int:
    """The version of the file at `path`, opened read-only (0 when it does not exist)."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return schema_version(db)
    finally:
        db.close()
