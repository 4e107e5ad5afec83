"""Crypto-shredding: personal data at rest is sealed with a key of its own application.

SQLite keeps old page images in its WAL and free pages, and backups keep whatever they
copied; a plain DELETE erases none of them. So each application's payload is encrypted
(AES-256-GCM, its public id as associated data) with a random key kept apart from it, in a
small key store that overwrites what it deletes and keeps no WAL (`KeyStore`). Deleting the
key on delivery makes every copy of the payload, wherever it survives, unreadable.
"""

from __future__ import annotations

import base64
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
NONCE_BYTES = 12
SEAL_OVERHEAD = len(VERSION) + NONCE_BYTES + 16  # version, nonce, GCM tag


def new_key() -> bytes:
    """A fresh 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, context: str) -> bytes:
    """`VERSION | nonce | ciphertext+tag`; `context` binds it to one application."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


def seal_into(
    aead: AESGCM, plaintext: bytes | memoryview, context: str, out: bytearray
) -> memoryview:
    """`seal` written into `out` (grown when too small), no copy of the plaintext or the
    ciphertext made on the way: for document chunks of a MiB, sealed one after another into
    one buffer. The view is valid until `out` is used again."""
    length = SEAL_OVERHEAD + len(plaintext)
    if len(out) < length:
        out.extend(bytes(length - len(out)))
    view = memoryview(out)[:length]
    nonce = os.urandom(NONCE_BYTES)
    view[:1] = VERSION
    view[1 : 1 + NONCE_BYTES] = nonce
    aead.encrypt_into(nonce, plaintext, context.encode(), view[1 + NONCE_BYTES :])
    return view


def unseal(key: bytes, sealed: bytes, context: str) -> bytes:
    """The plaintext; `cryptography.exceptions.InvalidTag` if it was altered or mismatched."""
    if sealed[:1] != VERSION:
        raise ValueError("unknown sealing version")
    nonce = sealed[1 : 1 + NONCE_BYTES]
    return AESGCM(key).decrypt(nonce, sealed[1 + NONCE_BYTES :], context.encode())


# A document's file name is personal data too (`Lebenslauf_Anna_Berg.pdf`): the stores keep
# it sealed with its application's key, as text in the same column as before. No cleaned
# file name holds a "/" (files.clean_filename keeps the last path segment), so a name stored
# before names were sealed is told apart by the prefix alone.
SEALED_NAME = "sealed/"
UNREADABLE_NAME = "(file name unreadable)"


def seal_name(key: bytes, name: str, public_id: str) -> str:
    """A file name as the stores keep it: sealed, bound to its application."""
    sealed = seal(key, name.encode(), f"{public_id}:filename")
    return SEALED_NAME + base64.urlsafe_b64encode(sealed).decode("ascii")


def open_name(key: bytes | None, stored: str, public_id: str) -> str:
    """The file name; a name stored before sealing comes back as it is. KeyError without
    the key, InvalidTag or ValueError if it does not open with it."""
    if not stored.startswith(SEALED_NAME):
        return stored
    if key is None:
        raise KeyError(public_id)
    sealed = base64.urlsafe_b64decode(stored.removeprefix(SEALED_NAME))
    return unseal(key, sealed, f"{public_id}:filename").decode()


def show_name(key: bytes | None, stored: str, public_id: str) -> str:
    """For an operator's listing: the name, or a placeholder once it cannot be opened."""
    try:
        return open_name(key, stored, public_id)
    except (KeyError, InvalidTag, ValueError):
        return UNREADABLE_NAME


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


def private_file(path: Path) -> None:
    """Create `path` (if missing) readable by its owner only, whatever the umask; SQLite
    gives its journal and WAL files the mode of the database file."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


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
        as one that makes a key (mail/sqlite_mail.py)."""
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
