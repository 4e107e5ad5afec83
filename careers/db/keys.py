"""Where the keys of sealed records live: the half of crypto-shredding that differs.

SQLite keeps them in files of their own beside the database (`KeyStore`: a rollback journal
and `secure_delete`, so a deleted key leaves no copy behind, unlike the WAL), committed
before anything sealed with them and deleted after the rows that needed them. PostgreSQL
keeps them in tables (`application_keys`, `subscription_keys`, `token_keys`) written and
deleted in the same transaction as their records, and vacuumed right after a delete so dead
tuples do not keep them. `KeyRing` is what outbox.py, mail.py and tokens.py see of either.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from ..applications.sealing import new_key
from .connector import Tx
from .postgresql import PostgresConnector
from .sqlite import immediate, private_file

Kind = Literal["application", "subscription", "token"]


class KeyRing(Protocol):
    """The keys of one kind of record (applications by public id, subscriptions by salt)."""

    def make(self, key_id: str) -> bytes:
        """A key for a record about to be written (SQLite: committed to its file now, before
        anything is sealed with it; PostgreSQL: stored by `keep`, in the record's
        transaction)."""

    def keep(self, tx: Tx, key_id: str, key: bytes) -> None:
        """Store a key `make` gave, in the transaction that writes its record."""

    def new(self, tx: Tx, key_id: str) -> bytes:
        """`make` and `keep` at once, inside `tx`."""

    def abandon(self, key_ids: Iterable[str]) -> None:
        """`tx` failed after `new`: forget its keys (PostgreSQL's rolled back with it)."""

    def get(self, tx: Tx, key_id: str) -> bytes | None: ...

    def get_many(self, tx: Tx, key_ids: Iterable[str]) -> dict[str, bytes]: ...

    def shred(self, tx: Tx, key_ids: Iterable[str]) -> None:
        """Delete these keys with the records `tx` deletes (PostgreSQL) ..."""

    def shredded(self, key_ids: Iterable[str]) -> None:
        """... once `tx` committed (SQLite deletes them now; PostgreSQL vacuums)."""

    def rehearse(self, tx: Tx) -> bytes:
        """What `new` costs, keeping nothing (a decoy for paths that must take as long)."""

    def prune(self, tx: Tx, grace: float) -> None:
        """Delete keys older than `grace` seconds whose record no longer needs them."""

    def missing(self, tx: Tx, key_ids: Iterable[str]) -> set[str]:
        """Which of these ids have no key (their records can never be read again)."""

    def close(self) -> None:
        """A thread is done: close its connection to a key file (SQLite)."""


@dataclass(eq=False)
class _NewKey:
    """A key waiting for the group commit of `KeyStore.create`."""

    key_id: str
    key: bytes
    created_at: float
    done: bool = False  # a commit took it (or failed, then `alone`)
    alone: bool = False  # to be committed by its own caller


class KeyStore:
    """Application keys in their own SQLite file: a rollback journal, which is gone when
    its transaction commits (a WAL would keep old pages with keys until a checkpoint that a
    reader can hold off), and `secure_delete` (deleted rows are overwritten with zeros)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self._waiting: list[_NewKey] = []  # created, not yet committed (`create`)
        self._waiting_lock = threading.Lock()
        self._committing = threading.Lock()
        private_file(self.path)
        with self._write() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, key BLOB NOT NULL,"
                " created_at REAL NOT NULL)"
            )

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("PRAGMA secure_delete=ON")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._connection())

    def create(self, key_id: str) -> bytes:
        """A new key under `key_id`, committed before anything is sealed with it.

        Group commit: a commit here costs several fsyncs (journal, its directory, the
        file), so threads of this process that want a key while another thread commits
        wait for it, and the next one commits all their keys in one transaction. Each
        caller still returns only once its own key is on disk; nobody's key is written
        early or kept in memory for later.
        """
        entry = _NewKey(key_id, new_key(), self.clock())
        with self._waiting_lock:
            self._waiting.append(entry)
        with self._committing:
            if not entry.done:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    self._insert(batch)
                except BaseException:
                    # One bad key (a reused id) must not fail the others: each commits
                    # alone now, and only its own error reaches its caller.
                    for other in batch:
                        other.alone = True
                for other in batch:
                    other.done = True
        if entry.alone:
            self._insert([entry])
        return entry.key

    def rehearse(self) -> bytes:
        """What `create` costs, keeping nothing: a fresh key written and deleted again in one
        committed transaction (its fsyncs are the cost), for a path that must take as long
        as one that makes a key (db/mail.py)."""
        key_id = f"rehearsal:{secrets.token_hex(16)}"
        key = new_key()
        with self._write() as db:
            db.execute(
                "INSERT INTO keys (id, key, created_at) VALUES (?, ?, ?)",
                (key_id, key, self.clock()),
            )
            db.execute("DELETE FROM keys WHERE id = ?", (key_id,))
        return key

    def _insert(self, batch: list[_NewKey]) -> None:
        with self._write() as db:
            db.executemany(
                "INSERT INTO keys (id, key, created_at) VALUES (?, ?, ?)",
                [(e.key_id, e.key, e.created_at) for e in batch],
            )

    def get(self, key_id: str) -> bytes | None:
        row = self._connection().execute("SELECT key FROM keys WHERE id = ?", (key_id,)).fetchone()
        return bytes(row[0]) if row else None

    def delete(self, key_ids: Iterable[str]) -> None:
        """Shred: without its key a sealed payload is noise, wherever copies of it survive."""
        ids = [(key_id,) for key_id in key_ids]
        if ids:
            with self._write() as db:
                db.executemany("DELETE FROM keys WHERE id = ?", ids)

    def ids(self, older_than: float | None = None) -> set[str]:
        """Key ids; with `older_than`, only keys created before then (a key is committed
        just before its application, so a younger one may belong to an add in progress)."""
        if older_than is None:
            rows = self._connection().execute("SELECT id FROM keys")
        else:
            rows = self._connection().execute(
                "SELECT id FROM keys WHERE created_at < ?", (older_than,)
            )
        return {row[0] for row in rows}

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class SQLiteKeys:
    """A KeyRing on a KeyStore file beside the SQLite database."""

    def __init__(self, store: KeyStore, kind: Kind, on_shred: Callable[[], None]) -> None:
        self.store = store
        self.kind = kind
        self._on_shred = on_shred  # empty the database's WAL of what was just shredded

    def make(self, key_id: str) -> bytes:
        return self.store.create(key_id)  # committed first: never a record without its key

    def keep(self, tx: Tx, key_id: str, key: bytes) -> None:
        pass  # in the key file already

    def new(self, tx: Tx, key_id: str) -> bytes:
        return self.make(key_id)

    def abandon(self, key_ids: Iterable[str]) -> None:
        self.store.delete(key_ids)

    def get(self, tx: Tx, key_id: str) -> bytes | None:
        return self.store.get(key_id)

    def get_many(self, tx: Tx, key_ids: Iterable[str]) -> dict[str, bytes]:
        found = {key_id: self.store.get(key_id) for key_id in set(key_ids)}
        return {key_id: key for key_id, key in found.items() if key is not None}

    def shred(self, tx: Tx, key_ids: Iterable[str]) -> None:
        pass  # after the commit: a key goes only once nothing sealed with it is left

    def shredded(self, key_ids: Iterable[str]) -> None:
        self.store.delete(key_ids)
        self._on_shred()

    def rehearse(self, tx: Tx) -> bytes:
        return self.store.rehearse()

    def prune(self, tx: Tx, grace: float) -> None:
        # Keys left behind by a crash between a record's end and its key's deletion;
        # younger ones may belong to a record being written, which commits its key first.
        needed = {row["id"] for row in tx.all(f"{self.kind}_keys_needed")}
        older_than = self.store.clock() - grace if grace > 0 else None
        self.store.delete(self.store.ids(older_than=older_than) - needed)

    def missing(self, tx: Tx, key_ids: Iterable[str]) -> set[str]:
        return set(key_ids) - self.store.ids()

    def close(self) -> None:
        self.store.close()


class PostgresKeys:
    """A KeyRing on a key table of the PostgreSQL database."""

    def __init__(self, connector: PostgresConnector, kind: Kind, clock: Callable[[], float]):
        self.connector = connector
        self.kind = kind
        self.clock = clock

    def make(self, key_id: str) -> bytes:
        return new_key()

    def keep(self, tx: Tx, key_id: str, key: bytes) -> None:
        # In the record's transaction: the key and everything sealed with it commit together.
        tx.run(f"{self.kind}_key_insert", id=key_id, key=key, now=self.clock())

    def new(self, tx: Tx, key_id: str) -> bytes:
        key = self.make(key_id)
        self.keep(tx, key_id, key)
        return key

    def abandon(self, key_ids: Iterable[str]) -> None:
        pass  # rolled back with the transaction

    def get(self, tx: Tx, key_id: str) -> bytes | None:
        row = tx.one(f"{self.kind}_key", id=key_id)
        return None if row is None else bytes(row["key"])

    def get_many(self, tx: Tx, key_ids: Iterable[str]) -> dict[str, bytes]:
        rows = tx.all(f"{self.kind}_keys_of", ids=list(set(key_ids)))
        return {row["id"]: bytes(row["key"]) for row in rows}

    def shred(self, tx: Tx, key_ids: Iterable[str]) -> None:
        ids = list(key_ids)
        if ids:
            tx.run(f"{self.kind}_keys_delete", ids=ids)

    def shredded(self, key_ids: Iterable[str]) -> None:
        self.connector.vacuum(f"{self.kind}_keys")

    def rehearse(self, tx: Tx) -> bytes:
        # A key written (so the commit flushes the WAL, as a new record's does), then
        # deleted again in the same transaction.
        salt = f"rehearsal:{secrets.token_hex(16)}"
        key = self.new(tx, salt)
        tx.run(f"{self.kind}_keys_delete", ids=[salt])
        return key

    def prune(self, tx: Tx, grace: float) -> None:
        # Keys and records commit together here: no record in progress to spare.
        tx.run(f"{self.kind}_keys_prune")

    def missing(self, tx: Tx, key_ids: Iterable[str]) -> set[str]:
        ids = set(key_ids)
        return ids - set(self.get_many(tx, ids))

    def close(self) -> None:
        pass  # the connector's pool
