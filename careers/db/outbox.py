"""The outbox (careers/applications/store.py's contract), written once for both databases.

Every method is one short transaction. The outbox owns its applications' documents from
`add` (which takes the uploaded files from the spool) to `mark_delivered` or `purge` (which
delete them once the rows are gone); `sweep` removes spool files no row needs. What differs
is kept apart in small pieces: how a claim avoids another worker's application (SQLite: its
write lock, and a lease held by a dead process of this host taken over at once; PostgreSQL:
`FOR UPDATE SKIP LOCKED`, leases judged by time only since process ids repeat across
hosts), where document bytes live (documents.py: this host's spool files, or sealed chunks
any host can read) and where keys live (keys.py).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

import psycopg
from cryptography.exceptions import InvalidTag

from ..applications.model import Application, Attachment
from ..applications.rules import Status
from ..applications.sealing import open_name, seal, seal_name, unseal
from ..applications.spool import Spool
from ..applications.store import (
    AlreadySubmitted,
    Claim,
    Document,
    NonceReused,
    Summary,
)
from ..jobs.funnel import Step
from ..personio.vocabulary import DocumentCategory
from ..store_errors import StoreUnavailable
from .connector import Connector, Row, Tx
from .documents import Documents
from .funnel import count_in
from .kept import KeptFiles
from .keys import KeyRing

if TYPE_CHECKING:
    from ..applications.store import Outbox as OutboxContract

DETAIL_CHARS = 500
NONCE_TRIES = 3
KEY_GRACE = 3600.0  # a SQLite key younger than this may belong to an add in progress


def lease_holder_alive(lease_owner: str) -> bool:
    """Lease owners are "host:pid:…"; a pid that no longer runs holds nothing."""
    try:
        pid = int(lease_owner.split(":")[1])
    except (IndexError, ValueError):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Outbox:
    """Durable store of applications on their way to Personio."""

    def __init__(
        self,
        db: Connector,
        keys: KeyRing,
        documents: Documents,
        *,
        spool: Spool | None = None,
        clock: Callable[[], float] = time.time,
        kept: KeptFiles | None = None,
    ) -> None:
        """`spool`: this host's, where uploads arrive (`sweep` cleans it); None in a process
        that takes no uploads. `kept`: the kept files of refused posts, swept with it."""
        self.db = db
        self.kept = kept
        self.keys = keys
        self.documents = documents
        self.spool = spool
        self.clock = clock
        # PostgreSQL: short, a dead host's work is claimable within a minute (the deliverer
        # heartbeats with `extend_lease`). SQLite: one host, whose killed workers' leases
        # are taken over at once by pid, so the lease itself may be long.
        self.lease_seconds = 45.0 if db.dialect == "postgresql" else 300.0

    def close(self) -> None:
        """A thread is done with it: close its connections (SQLite; the database object
        closes PostgreSQL's pool)."""
        self.db.release()
        self.keys.close()

    # -- accepting -----------------------------------------------------------------------

    def add(
        self,
        application: Application,
        *,
        nonce: str = "",
        fingerprint: str = "",
        channel: str = "",
    ) -> str:
        # A form sent again is found in the transaction (`_take_nonce`) and its files are
        # given back. The accept use case asks `check_submission` just before, to spend no
        # rate-limit slot on it; asking again here cost a round trip for every application.
        paths = self.documents.take(application.documents)
        try:
            public_id = self._insert(application, paths, nonce, fingerprint, channel)
        except BaseException:
            self.documents.give_back(paths, application.documents)  # the caller discards them
            raise
        self.documents.taken(application.documents)
        return public_id

    def _insert(
        self,
        application: Application,
        paths: list[str],
        nonce: str,
        fingerprint: str,
        channel: str,
    ) -> str:
        """The rows of `add` in one transaction (documents at `paths`), with their key."""
        now = self.clock()
        public_id = secrets.token_urlsafe(12)
        key = self.keys.make(public_id)  # SQLite: committed first, never a payload without it
        sealed = seal(key, json.dumps(application.to_record()).encode(), public_id)
        try:
            with self.db.transaction() as tx:
                if nonce:
                    self._take_nonce(tx, nonce, fingerprint, public_id, now)
                self.keys.keep(tx, public_id, key)  # PostgreSQL: in the same transaction
                row = tx.one(
                    "application_insert",
                    public_id=public_id,
                    position_id=application.position_id,
                    language=application.language,
                    account=application.account,
                    payload=sealed,
                    now=now,
                    funnel_channel=channel,
                )
                assert row is not None
                self._store_documents(tx, row["id"], public_id, key, application.documents, paths)
                # Submitted: counted with the row, so once per application (funnel.py).
                count_in(
                    tx, Step.SUBMITTED, now, application.position_id, channel, application.language
                )
        except BaseException:
            self.keys.abandon([public_id])
            raise
        return public_id

    def _take_nonce(self, tx: Tx, nonce: str, fingerprint: str, public_id: str, now: float) -> None:
        """Record the form's nonce, or raise for the form sent before. The insert comes
        first (a new nonce, the common case, costs one statement); only when the nonce is
        taken is its row read. A concurrent add of the same nonce makes PostgreSQL's insert
        wait on the primary key until it commits, so the check after it sees that one
        (unless a purge removed it in between: then it is recorded now); SQLite's write
        lock lets no add run meanwhile."""
        for _ in range(NONCE_TRIES):
            taken = tx.one(
                "submission_insert",
                nonce=nonce,
                public_id=public_id,
                fingerprint=fingerprint,
                now=now,
            )
            if taken is not None:
                return
            _check_nonce(tx, nonce, fingerprint)
        raise StoreUnavailable("form nonce contended")

    def _store_documents(
        self,
        tx: Tx,
        app_id: int,
        public_id: str,
        key: bytes,
        documents: Sequence[Attachment],
        paths: Sequence[str],
    ) -> None:
        """The documents' rows, their names sealed; PostgreSQL copies their bytes in too,
        SQLite keeps their spool paths."""
        stored: list[tuple[int, str]] = []
        for attachment, path in zip(documents, paths, strict=True):
            row = tx.one(
                "document_insert",
                application_id=app_id,
                category=str(attachment.category),
                filename=seal_name(key, attachment.filename, public_id),
                path=path,
                size=attachment.size,
            )
            assert row is not None
            stored.append((int(row["id"]), path))
        self.documents.store(tx, stored, key, public_id)

    def check_submission(self, nonce: str, fingerprint: str) -> None:
        with self.db.reading() as tx:
            _check_nonce(tx, nonce, fingerprint)

    # -- delivering ----------------------------------------------------------------------

    def claim(
        self, owner: str, lease_seconds: float, *, account: str = "", first: bool = True
    ) -> Claim | None:
        now = self.clock()
        mine = {"account": account, "first": first}
        with self.db.transaction() as tx:
            row = tx.one("application_claim", now=now, **mine)
            if row is None and self.db.dialect == "sqlite":
                row = _orphan(tx, owner, mine)
            if row is None:
                return None
            key = self.keys.get(tx, row["public_id"])
            documents = tx.all("documents_of", id=row["id"])
            try:
                record = self._payload(key, row["public_id"], row["payload"])
                names = [open_name(key, d["filename"], row["public_id"]) for d in documents]
            except (KeyError, InvalidTag, ValueError):
                # Its key is gone (a key store restored from an older backup): it cannot be
                # read, by us or anyone; an operator must see it.
                tx.run("application_park_unreadable", id=row["id"], now=now)
                return None
            tx.run(
                "application_lease", id=row["id"], owner=owner, until=now + lease_seconds, now=now
            )
        return Claim(
            id=row["id"],
            public_id=row["public_id"],
            application=Application.from_record(
                record,
                position_id=row["position_id"],
                language=row["language"],
                account=row["account"],
            ),
            documents=tuple(
                Document(
                    d["id"],
                    DocumentCategory(d["category"]),
                    name,
                    d.get("path", ""),  # PostgreSQL's: read it with open_document
                    d["size"],
                    d["uuid"],
                )
                for d, name in zip(documents, names, strict=True)
            ),
            attempts=row["attempts"] + 1,
            create_attempts=row["create_attempts"],
            created_at=row["created_at"],
        )

    @staticmethod
    def _payload(key: bytes | None, public_id: str, stored: bytes | str | None) -> dict[str, Any]:
        """The personal record; a str is a payload the first release stored unsealed.
        KeyError without the key, InvalidTag or ValueError when it does not open."""
        if stored is None:
            raise ValueError(public_id)
        if isinstance(stored, str):
            return dict(json.loads(stored))
        if key is None:
            raise KeyError(public_id)
        return dict(json.loads(unseal(key, bytes(stored), public_id)))

    def extend_lease(self, app_id: int, owner: str, lease_seconds: float) -> bool:
        with self.db.transaction() as tx:
            until = self.clock() + lease_seconds
            return tx.run("application_extend_lease", id=app_id, owner=owner, until=until) == 1

    def open_document(self, document: Document) -> BinaryIO:
        return self.documents.open(document)

    def record_upload(self, document_id: int, uuid: str) -> None:
        with self.db.transaction() as tx:
            tx.run("document_uploaded", id=document_id, uuid=uuid)

    def forget_uploads(self, app_id: int) -> None:
        with self.db.transaction() as tx:
            tx.run("documents_forget_uploads", id=app_id)

    def drop_channel(self, app_id: int) -> None:
        with self.db.transaction() as tx:
            row = tx.one("application_payload", id=app_id)
            if row is None or row["payload"] is None:
                return
            public_id = row["public_id"]
            key = self.keys.get(tx, public_id)
            application = Application.from_record(
                self._payload(key, public_id, row["payload"]),
                position_id=row["position_id"],
                language=row["language"],
            ).channel_as_tag()
            if key is None:
                raise KeyError(public_id)
            sealed = seal(key, json.dumps(application.to_record()).encode(), public_id)
            tx.run("application_set_payload", id=app_id, payload=sealed)

    def note_create_attempt(self, app_id: int) -> None:
        with self.db.transaction() as tx:
            tx.run("application_count_create_attempt", id=app_id)

    def mark_delivered(self, app_id: int, outcome: Status = Status.DELIVERED) -> None:
        with self.db.transaction() as tx:
            found = tx.one("application_public_id", id=app_id)
            paths = self.documents.files(tx, "document_paths", id=app_id)
            # The documents' rows (and PostgreSQL's chunks, ON DELETE CASCADE) go with the
            # personal data: Personio has it now, only the receipt stays.
            tx.run("documents_delete", id=app_id)
            now = self.clock()
            done = tx.one("application_delivered", id=app_id, outcome=str(outcome), now=now)
            if done is not None:  # the first outcome only: a second call counts nothing
                count_in(
                    tx,
                    Step.DELIVERED,
                    now,
                    done["position_id"],
                    done["funnel_channel"],
                    done["language"],
                )
            shredded = [] if found is None else [found["public_id"]]
            self.keys.shred(tx, shredded)
        self.keys.shredded(shredded)  # every copy of what was sealed is noise now
        # After the commit: a crash in between leaves orphans for `sweep`, never a row
        # naming a missing file.
        Spool.discard(paths)

    def retry_later(self, app_id: int, at: float, reason: str, detail: str = "") -> None:
        with self.db.transaction() as tx:
            tx.run(
                "application_retry_later",
                id=app_id,
                at=at,
                reason=reason,
                detail=detail[:DETAIL_CHARS],
                now=self.clock(),
            )

    def park(self, app_id: int, reason: str, detail: str = "") -> None:
        with self.db.transaction() as tx:
            tx.run(
                "application_park",
                id=app_id,
                reason=reason,
                detail=detail[:DETAIL_CHARS],
                now=self.clock(),
            )

    def requeue(self, app_id: int) -> bool:
        with self.db.transaction() as tx:
            return tx.run("application_requeue", id=app_id, now=self.clock()) == 1

    # -- reading -------------------------------------------------------------------------

    def _summaries(self, name: str, **params: Any) -> list[Summary]:
        """Receipts with their documents' names opened ("category: name" lines)."""
        with self.db.reading() as tx:
            rows = tx.all(name, **params)
            ids = [row["id"] for row in rows]
            names: dict[int, list[str]] = {i: [] for i in ids}
            for d in tx.all("document_names", ids=ids) if ids else []:
                names[d["application_id"]].append(f"{d['category']}: {d['filename']}")
            keys = self.keys.get_many(tx, [row["public_id"] for row in rows if names[row["id"]]])
        return [
            Summary.from_row(
                row | {"docs": len(names[row["id"]]), "names": "\n".join(names[row["id"]])}
            ).names_opened(keys.get(row["public_id"]))
            for row in rows
        ]

    def summary(self, public_id: str) -> Summary | None:
        found = self._summaries("summary_by_public_id", public_id=public_id)
        return found[0] if found else None

    def get(self, app_id: int) -> Summary | None:
        found = self._summaries("summary_by_id", id=app_id)
        return found[0] if found else None

    def summaries(self, status: str | None = None, limit: int = 100) -> list[Summary]:
        if status is None:
            return self._summaries("summaries", limit=limit)
        return self._summaries("summaries_with_status", status=status, limit=limit)

    def counts(self) -> dict[str, int]:
        with self.db.reading() as tx:
            return {row["status"]: row["n"] for row in tx.all("application_counts")}

    def oldest_pending(self) -> Summary | None:
        found = self._summaries("summary_oldest_pending")
        return found[0] if found else None

    # -- retention -----------------------------------------------------------------------

    def purge(self, parked_before: float, receipts_before: float) -> int:
        now = self.clock()
        before = {"parked_before": parked_before, "receipts_before": receipts_before}
        with self.db.transaction() as tx:
            doomed = tx.one("documents_doomed_count", **before)
            assert doomed is not None
            paths = self.documents.files(tx, "document_paths_doomed", **before)
            purged = [row["public_id"] for row in tx.all("applications_purge", **before)]
            tx.run("rates_forget_old", now=now)
            tx.run("submissions_forget", before=now - 2 * 86400)
            self.keys.shred(tx, purged)
            # And keys left behind by a crash between a delivery and its key's deletion.
            self.keys.prune(tx, KEY_GRACE)
        self.keys.shredded(purged)
        Spool.discard(paths)  # after the commit, as in `mark_delivered`
        return int(doomed["n"])

    def sweep(self, older_than: float = 3600) -> int:
        # Kept files past their hour go on every host (PostgreSQL's are in the database).
        swept = self.kept.sweep() if self.kept is not None else 0
        if self.spool is None:
            return swept  # a process that takes no uploads has no spool to clean
        with self.db.reading() as tx:
            needed = set(self.documents.files(tx, "document_paths_all"))
        return swept + self.spool.sweep(needed, older_than)

    def check_writable(self) -> str | None:
        try:
            with self.db.transaction() as tx:
                tx.run("rates_forget_old", now=self.clock())
        except (StoreUnavailable, sqlite3.Error, psycopg.Error) as exc:
            return f"outbox not writable: {exc}"
        return None


def _check_nonce(tx: Tx, nonce: str, fingerprint: str) -> None:
    """A form already sent: the same post again, or other data under a used token."""
    row = tx.one("submission", nonce=nonce)
    if row is None:
        return
    if hmac.compare_digest(row["fingerprint"], fingerprint):
        raise AlreadySubmitted(row["public_id"])
    raise NonceReused(row["public_id"])


def _orphan(tx: Tx, owner: str, mine: dict[str, Any]) -> Row | None:
    """SQLite, one host: a lease held by a process of this host that no longer exists
    (killed, crashed) is taken over now instead of waiting for the lease to run out."""
    host = owner.split(":", 1)[0]
    for row in tx.all("applications_leased_on_host", pattern=f"{host}:%", **mine):
        if not lease_holder_alive(row["lease_owner"]):
            return row
    return None


if TYPE_CHECKING:

    def _is_an_outbox(store: Outbox) -> OutboxContract:
        return store  # mypy checks the protocol here
