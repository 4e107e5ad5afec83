"""Kept files: the checked documents of a refused post, kept an hour for its resubmission.

A post refused for something that is not about a file (a missing field, sent too fast, an
expired form) should not make the candidate attach every document again. Its accepted files
are kept here under a random batch id, the new form names the batch in a signed reference
(forms/tokens.KeptTokens) and the resubmission takes them back into the spool, from where
the outbox takes them as if they had just been uploaded. A batch is forgotten as soon as its
resubmission is stored (or refused again: its files then go into a new batch), and swept
once it is older than `KEPT_SECONDS`.

At rest they are kept as the outbox keeps documents: on SQLite as files under the spool's
`kept/` (0600, like `stored/`), on PostgreSQL as sealed chunks every host can read
(chunks.py). Either way each file name is sealed, with a key derived from the server's
secret and a random secret only the reference in the candidate's form carries: without
that form, a database copy holds no readable name or chunk, and the key is nowhere stored.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag

from ..applications.sealing import open_name, seal_name
from ..applications.spool import Spool
from . import chunks
from .connector import Connector, Row, Tx
from .postgresql import PostgresConnector, PostgresTx

KEPT_SECONDS = 3600.0  # a refused post's files wait this long for the form to come back


class KeptGone(Exception):
    """The batch is no longer kept (swept after its hour, or already used)."""


@dataclass(frozen=True)
class Keep:
    """One checked upload to keep: its category, cleaned name, spool file and size."""

    category: str
    filename: str
    path: Path
    size: int


@dataclass(frozen=True)
class KeptFile:
    """What the form shows of a kept file; `seq` is what its "Remove" control sends."""

    seq: int
    category: str
    filename: str
    size: int


@dataclass(frozen=True)
class Restored:
    """A kept file back in the spool's `incoming/`, as an upload would be."""

    category: str
    filename: str
    path: Path
    size: int
    sha256: str


def context(batch: str) -> str:
    """What the sealed names and chunks of a batch are bound to."""
    return f"kept:{batch}"


class KeptFiles:
    """The kept files of refused posts, in the database of `db`."""

    def __init__(
        self, db: Connector, spool: Spool | None, *, clock: Callable[[], float] = time.time
    ) -> None:
        """`spool`: where SQLite keeps the bytes (its `kept/`); PostgreSQL keeps chunks."""
        self.db = db
        self.spool = spool
        self.clock = clock

    def keep(self, files: Sequence[Keep], key: bytes) -> str:
        """Keep these files under a new batch sealed with `key`; its id. On SQLite the files
        move out of `incoming/`; on PostgreSQL they are copied and stay for the caller to
        delete. Raises as the database does; then nothing is kept."""
        batch = secrets.token_urlsafe(18)
        now = self.clock()
        paths = [f.path for f in files]
        if isinstance(self.db, PostgresConnector):
            with self.db.transaction() as tx:
                assert isinstance(tx, PostgresTx)
                stored = [
                    (self._insert(tx, batch, seq, f, key, "", now), str(f.path))
                    for seq, f in enumerate(files)
                ]
                chunks.store(tx, stored, key, context(batch), chunks.KEPT_CHUNKS)
            return batch
        assert self.spool is not None
        moved = self.spool.move_to_kept(paths)
        try:
            with self.db.transaction() as tx:
                for seq, (f, path) in enumerate(zip(files, moved, strict=True)):
                    self._insert(tx, batch, seq, f, key, str(path), now)
        except BaseException:
            self.spool.give_back(moved, paths)
            raise
        return batch

    @staticmethod
    def _insert(tx: Tx, batch: str, seq: int, f: Keep, key: bytes, path: str, now: float) -> int:
        params = {
            "batch": batch,
            "seq": seq,
            "category": f.category,
            "filename": seal_name(key, f.filename, context(batch)),
            "size": f.size,
            "now": now,
        }
        if path:
            params["path"] = path
        row = tx.one("kept_insert", **params)
        assert row is not None
        return int(row["id"])

    def restore(
        self, batch: str, key: bytes, into: Spool, removed: frozenset[int] = frozenset()
    ) -> list[Restored]:
        """Copies of the batch's files (but those whose `seq` is in `removed`) in the
        `incoming/` of `into`, for the caller to own; KeptGone when any is gone. The batch
        itself stays until `forget`."""
        with self.db.reading() as tx:
            rows = tx.all("kept_files_of", batch=batch, since=self.clock() - KEPT_SECONDS)
        if not rows:
            raise KeptGone(batch)
        restored: list[Restored] = []
        try:
            for row in rows:
                if row["seq"] in removed:
                    continue
                name = open_name(key, row["filename"], context(batch))
                with self._open(row, key, batch) as source:
                    path, size, sha256 = into.copy_in(source)
                restored.append(Restored(row["category"], name, path, size, sha256))
                if size != row["size"]:
                    raise KeptGone(batch)
        except (InvalidTag, ValueError, KeyError, FileNotFoundError):
            into.discard(r.path for r in restored)
            raise KeptGone(batch) from None
        except BaseException:
            into.discard(r.path for r in restored)
            raise
        return restored

    def _open(self, row: Row, key: bytes, batch: str) -> io.BufferedReader:
        if isinstance(self.db, PostgresConnector):
            return chunks.open_document(
                self.db, int(row["id"]), key, context(batch), chunks.KEPT_CHUNKS
            )
        return open(str(row["path"]), "rb")  # noqa: SIM115  (the caller closes it)

    def forget(self, batch: str) -> None:
        """The batch's resubmission is stored (its files are the outbox's now) or kept anew:
        delete it, rows and bytes."""
        with self.db.transaction() as tx:
            paths = [row.get("path") for row in tx.all("kept_files_of", batch=batch, since=0)]
            tx.run("kept_forget", batch=batch)
        Spool.discard(p for p in paths if p)

    def sweep(self) -> int:
        """Delete every batch older than `KEPT_SECONDS` (unused: a used one is forgotten at
        once) and, on SQLite, files under `kept/` that no row names (a crash between moving
        a file and committing its row); how many files went."""
        before = self.clock() - KEPT_SECONDS
        with self.db.transaction() as tx:
            paths = [row.get("path") for row in tx.all("kept_expired", before=before)]
            tx.run("kept_sweep", before=before)
        Spool.discard(p for p in paths if p)
        removed = len(paths)
        if self.spool is not None and not isinstance(self.db, PostgresConnector):
            with self.db.reading() as tx:
                named = {row["path"] for row in tx.all("kept_paths_all")}
            for path in list(self.spool.kept.iterdir()):
                try:
                    if str(path) not in named and path.stat().st_mtime < before:
                        Spool.discard([path])
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed
