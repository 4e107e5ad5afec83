"""The outbox interface: what delivery needs from a store, whatever database is behind it.

One implementation, careers/db/outbox.py, runs on SQLite (the default) or on the PostgreSQL
several hosts share (claiming with `SELECT … FOR UPDATE SKIP LOCKED`); tests/
test_outbox_contract.py holds both to this contract. Store errors (SchemaMismatch,
StoreUnavailable) live in careers/store_errors.py, rate limits in careers/db/ratelimit.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, Protocol

from ..personio.vocabulary import DocumentCategory
from .model import Application
from .rules import Status
from .sealing import show_name

PENDING, DELIVERED, PARKED = Status.PENDING, Status.DELIVERED, Status.PARKED


class AlreadySubmitted(Exception):
    """This form (its nonce) was sent before with the same content: answer with its receipt."""

    def __init__(self, public_id: str) -> None:
        super().__init__(public_id)
        self.public_id = public_id


class NonceReused(Exception):
    """This form was sent before with other content: one form, one application."""

    def __init__(self, public_id: str) -> None:
        super().__init__(public_id)
        self.public_id = public_id


@dataclass(frozen=True)
class Document:
    """A stored document; `uuid` is Personio's once uploaded, so it is never sent twice."""

    id: int
    category: DocumentCategory
    filename: str
    path: str
    size: int
    uuid: str | None


@dataclass(frozen=True)
class Claim:
    """A claimed application, ready for delivery."""

    id: int
    public_id: str
    application: Application
    documents: tuple[Document, ...]
    attempts: int
    create_attempts: int
    created_at: float


@dataclass(frozen=True)
class Summary:
    """What may be shown without personal data: the receipt's facts."""

    id: int
    public_id: str
    position_id: int
    language: str
    status: str
    attempts: int
    created_at: float
    updated_at: float
    delivered_at: float | None
    next_attempt_at: float | None
    last_reason: str | None
    last_detail: str | None
    documents: int = 0
    account: str = ""  # its Personio account's key; "" the first
    document_names: tuple[str, ...] = field(default=())

    def names_opened(self, key: bytes | None) -> Summary:
        """With its documents' sealed file names opened ("category: name" lines)."""
        names = []
        for line in self.document_names:
            category, _, stored = line.partition(": ")
            names.append(f"{category}: {show_name(key, stored, self.public_id)}")
        return replace(self, document_names=tuple(names))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Summary:
        """From a store's row: the application's columns plus `docs` (a count) and `names`
        ("category: file name" lines)."""
        return cls(
            id=row["id"],
            public_id=row["public_id"],
            position_id=row["position_id"],
            language=row["language"],
            status=row["status"],
            attempts=row["attempts"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            delivered_at=row["delivered_at"],
            next_attempt_at=row["next_attempt_at"],
            last_reason=row["last_reason"],
            last_detail=row["last_detail"],
            account=row.get("account") or "",
            documents=row["docs"],
            document_names=tuple((row["names"] or "").splitlines()),
        )


class Outbox(Protocol):
    """Durable store of applications on their way to Personio.

    `lease_seconds` is how long a claim lasts without a heartbeat: a worker that dies keeps
    an application that long at most.

    The outbox owns the documents of the applications it holds, from `add` to
    `mark_delivered` or `purge`; nobody else moves or deletes them. Where their bytes live
    is the store's own business: SQLite keeps the files in its spool's `stored/` and their
    paths in its rows (this host delivers them); PostgreSQL copies the bytes into sealed
    chunks in the database (every host can deliver every document) and keeps no file.
    Either way `open_document` gives the bytes back, and the caller never sees a path it
    has to act on.
    """

    lease_seconds: float

    def add(
        self,
        application: Application,
        *,
        nonce: str = "",
        fingerprint: str = "",
        channel: str = "",
    ) -> str:
        """Commit an application and its documents atomically; return its public id.
        `channel`: the funnel's channel it came through (careers/jobs/funnel.py); it is
        counted as submitted in the same transaction, and as delivered with
        `mark_delivered`.

        Each of `application.documents` names a complete file in the spool's `incoming/`
        (`Spool.new_file`), written by the caller. On success the outbox owns them: SQLite
        has flushed them to disk and moved them under `stored/` before the row commits;
        PostgreSQL has copied them into its chunks in the same transaction and deleted the
        incoming files after the commit. On any failure (an exception, including
        AlreadySubmitted, NonceReused and StoreUnavailable) nothing is committed and every
        file is back under the path the document names, for the caller to discard.

        A `nonce` seen before raises AlreadySubmitted (same `fingerprint`) or NonceReused."""

    def check_submission(self, nonce: str, fingerprint: str) -> None:
        """Raise AlreadySubmitted or NonceReused when this form's nonce was used before."""

    def claim(
        self, owner: str, lease_seconds: float, *, account: str = "", first: bool = True
    ) -> Claim | None:
        """Lease the next due pending application of `account` (its key; with `first`,
        also those stored without one), or None."""

    def extend_lease(self, app_id: int, owner: str, lease_seconds: float) -> bool:
        """Keep a long delivery ours; False when the lease was lost."""

    def open_document(self, document: Document) -> BinaryIO:
        """The document's bytes as a seekable binary stream (close it after use);
        FileNotFoundError when they are gone."""

    def record_upload(self, document_id: int, uuid: str) -> None:
        """Remember a document's Personio uuid, so it is never uploaded twice."""

    def forget_uploads(self, app_id: int) -> None:
        """Personio no longer knows our uuids: upload again on the next attempt."""

    def drop_channel(self, app_id: int) -> None:
        """Personio does not know our channel id: send it as a tag instead."""

    def note_create_attempt(self, app_id: int) -> None:
        """Committed before the create request: a later duplicate answer then means done."""

    def mark_delivered(self, app_id: int, outcome: Status = DELIVERED) -> None:
        """Personio has it (`outcome` delivered, or already applied): keep only the receipt,
        shred the personal data and delete the documents (their files or chunks) too. The
        funnel counts it as delivered in the same transaction, the first time only.

        The rows go in one transaction; files are deleted after it commits, so a crash in
        between leaves only orphans for `sweep`, never a row naming a missing file."""

    def retry_later(self, app_id: int, at: float, reason: str, detail: str = "") -> None:
        """Release the lease and schedule another attempt."""

    def park(self, app_id: int, reason: str, detail: str = "") -> None:
        """Stop trying until an operator acts."""

    def requeue(self, app_id: int) -> bool:
        """Make a parked (or waiting) application due now."""

    def summary(self, public_id: str) -> Summary | None: ...

    def get(self, app_id: int) -> Summary | None: ...

    def summaries(self, status: str | None = None, limit: int = 100) -> list[Summary]: ...

    def counts(self) -> dict[str, int]:
        """Number of applications per status, for metrics."""

    def oldest_pending(self) -> Summary | None:
        """The pending application waiting longest (the backlog alert), or None."""

    def purge(self, parked_before: float, receipts_before: float) -> int:
        """Delete parked applications last changed before `parked_before` and receipts
        (delivered, already applied) before `receipts_before`, with their documents (files
        deleted after the commit, as in `mark_delivered`); pending ones are never purged.
        Returns how many documents were deleted."""

    def sweep(self, older_than: float = 3600) -> int:
        """Delete this host's spool files that no application needs: leftovers of requests
        that crashed before `add` (in `incoming/`) and stored files no row names any more (a
        crash between a commit and its file deletion). Files younger than `older_than`
        seconds may belong to a request still running and stay. A store without a spool
        (a process that takes no uploads) has nothing to sweep. Kept files of refused posts
        older than an hour go too (careers/db/kept.py). Returns how many went."""

    def check_writable(self) -> str | None:
        """None when the store accepts writes, else why not."""

    def close(self) -> None:
        """Close the calling thread's connection."""
