"""Where an application's document bytes live: the other half of the outbox that differs.

SQLite serves one host: a document stays a file in that host's spool, and its row keeps the
path (`SpoolFiles`). PostgreSQL serves several: the bytes are copied into sealed chunks in
the database, so any host can deliver any document, and rows keep no path (`SealedChunks`,
chunks.py). outbox.py asks one of these and never the dialect.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol

from ..applications.store import Document
from . import chunks
from .connector import Tx
from .keys import KeyRing
from .postgresql import PostgresConnector, PostgresTx


class Documents(Protocol):
    """What the outbox needs to know about its documents' bytes."""

    inline: bool  # the bytes live in the database (every host can read them)

    def store(self, tx: Tx, documents: list[tuple[int, str]], key: bytes, public_id: str) -> None:
        """Keep the bytes of these (document id, spool path) files, in `tx`."""

    def open(self, document: Document) -> BinaryIO:
        """The bytes as a seekable stream; FileNotFoundError when they are gone."""

    def files(self, tx: Tx, name: str, **params: Any) -> list[str]:
        """The spool files of the documents query `name` selects (none for PostgreSQL)."""


class SpoolFiles:
    """Documents as files in this host's spool; their rows keep the paths."""

    inline = False

    def store(self, tx: Tx, documents: list[tuple[int, str]], key: bytes, public_id: str) -> None:
        pass  # the file stays where it is, its path in the row

    def open(self, document: Document) -> BinaryIO:
        return open(document.path, "rb")  # noqa: SIM115  (the caller closes it)

    def files(self, tx: Tx, name: str, **params: Any) -> list[str]:
        return [row["path"] for row in tx.all(name, **params)]


class SealedChunks:
    """Documents as sealed chunks in PostgreSQL, readable by every host."""

    inline = True

    def __init__(self, db: PostgresConnector, keys: KeyRing) -> None:
        self.db = db
        self.keys = keys

    def store(self, tx: Tx, documents: list[tuple[int, str]], key: bytes, public_id: str) -> None:
        assert isinstance(tx, PostgresTx)
        chunks.store(tx, documents, key, public_id)

    def open(self, document: Document) -> BinaryIO:
        with self.db.reading() as tx:
            owner = tx.one("document_owner", id=document.id)
            key = None if owner is None else self.keys.get(tx, owner["public_id"])
        if owner is None or key is None:
            raise FileNotFoundError(f"document {document.id} is no longer in the outbox")
        return chunks.open_document(self.db, document.id, key, owner["public_id"])

    def files(self, tx: Tx, name: str, **params: Any) -> list[str]:
        return []  # the bytes go with their rows (ON DELETE CASCADE)
