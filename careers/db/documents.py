"""Where an application's document bytes live: the other half of the outbox that differs.

Uploads arrive as files in this host's spool (`incoming/`); `Outbox.add` takes them. SQLite
serves one host: each file is flushed and moved under the spool's `stored/` before the row
naming it commits, and stays there until the application is delivered or purged
(`SpoolFiles`). PostgreSQL serves several: the bytes are copied into sealed chunks in the
same transaction as the rows, the incoming files are deleted once it commits, and any host
can deliver any document (`SealedChunks`, chunks.py). outbox.py asks one of these and never
the dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ..applications.model import Attachment
from ..applications.spool import Spool
from ..applications.store import Document
from . import chunks
from .connector import Tx
from .keys import KeyRing
from .postgresql import PostgresConnector, PostgresTx


class Documents(Protocol):
    """What the outbox needs to know about its documents' bytes."""

    def take(self, documents: Sequence[Attachment]) -> list[str]:
        """Before the transaction: take these uploads; the paths the rows will name. On
        failure every file is back where it was, and the error raised."""

    def give_back(self, taken: Sequence[str], documents: Sequence[Attachment]) -> None:
        """The transaction failed: every file back under the path its document names."""

    def store(self, tx: Tx, documents: list[tuple[int, str]], key: bytes, public_id: str) -> None:
        """In the transaction: keep the bytes of these (document id, path) files."""

    def taken(self, documents: Sequence[Attachment]) -> None:
        """The transaction committed: what is left of the uploads goes."""

    def open(self, document: Document) -> BinaryIO:
        """The bytes as a seekable stream; FileNotFoundError when they are gone."""

    def files(self, tx: Tx, name: str, **params: Any) -> list[str]:
        """The spool files of the documents query `name` selects (none for PostgreSQL), to
        delete once the rows are gone."""


class SpoolFiles:
    """Documents as files under this host's spool's `stored/`; their rows keep the paths."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool

    def take(self, documents: Sequence[Attachment]) -> list[str]:
        # Durable under `stored/` before the row that names them commits.
        return [str(path) for path in self.spool.keep([Path(d.path) for d in documents])]

    def give_back(self, taken: Sequence[str], documents: Sequence[Attachment]) -> None:
        self.spool.give_back([Path(p) for p in taken], [Path(d.path) for d in documents])

    def store(self, tx: Tx, documents: list[tuple[int, str]], key: bytes, public_id: str) -> None:
        pass  # the file stays where `take` put it, its path in the row

    def taken(self, documents: Sequence[Attachment]) -> None:
        pass  # moved, nothing left behind

    def open(self, document: Document) -> BinaryIO:
        return open(document.path, "rb")  # noqa: SIM115  (the caller closes it)

    def files(self, tx: Tx, name: str, **params: Any) -> list[str]:
        return [row["path"] for row in tx.all(name, **params)]


class SealedChunks:
    """Documents as sealed chunks in PostgreSQL, readable by every host."""

    def __init__(self, db: PostgresConnector, keys: KeyRing) -> None:
        self.db = db
        self.keys = keys

    def take(self, documents: Sequence[Attachment]) -> list[str]:
        return [d.path for d in documents]  # read in `store`, deleted in `taken`

    def give_back(self, taken: Sequence[str], documents: Sequence[Attachment]) -> None:
        pass  # never moved

    def store(self, tx: Tx, documents: list[tuple[int, str]], key: bytes, public_id: str) -> None:
        assert isinstance(tx, PostgresTx)
        chunks.store(tx, documents, key, public_id)

    def taken(self, documents: Sequence[Attachment]) -> None:
        # The bytes are ours now; an incoming file a crash leaves here names no row, and the
        # spool's sweep removes it.
        Spool.discard(d.path for d in documents)

    def open(self, document: Document) -> BinaryIO:
        with self.db.reading() as tx:
            owner = tx.one("document_owner", id=document.id)
            key = None if owner is None else self.keys.get(tx, owner["public_id"])
        if owner is None or key is None:
            raise FileNotFoundError(f"document {document.id} is no longer in the outbox")
        return chunks.open_document(self.db, document.id, key, owner["public_id"])

    def files(self, tx: Tx, name: str, **params: Any) -> list[str]:
        return []  # the bytes go with their rows (ON DELETE CASCADE)
