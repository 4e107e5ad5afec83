"""The mail store (careers/mail/store.py's contract), written once for both databases.

Every write is one short transaction. Two requests racing for one address are served one
after the other (SQLite's write lock; PostgreSQL's advisory lock on the address hash and a
row lock), turns are taken by exactly one caller (PostgreSQL: on the database's clock), and
claims never hand one mail to two workers (PostgreSQL: `SKIP LOCKED`). Subscribers'
addresses are sealed with a key per subscription (keys.py): unsubscribing deletes the key,
and every copy of the address left in a WAL, in free pages or in a backup is noise.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import psycopg
from cryptography.exceptions import InvalidTag

from ..applications.sealing import seal, unseal
from ..mail.store import (
    Filters,
    MailKind,
    MailStatus,
    QueuedMail,
    SubscribeOutcome,
    Subscription,
)
from .connector import Connector, Row, Tx
from .keys import KeyRing

if TYPE_CHECKING:
    from ..mail.store import MailStore

DAY = 86400.0
ERROR_CHARS = 500


def address_context(salt: str) -> str:
    """What binds a sealed address to its subscription (known before the row exists)."""
    return f"subscription:{salt}"


def open_address(key: bytes | None, sealed: bytes, salt: str) -> str | None:
    """The address, or None when its key is gone or does not open it."""
    if key is None:
        return None
    try:
        return unseal(key, sealed, address_context(salt)).decode()
    except (InvalidTag, ValueError):
        return None


def suppressed(
    confirmed_at: float | None,
    last_confirm_at: float | None,
    confirms_today: int,
    now: float,
    *,
    resend_after: float,
    per_address_per_day: int,
) -> bool:
    """Whether asking again must queue nothing: already confirmed, asked too soon for this
    subscription, or this address had its day's share of confirmation mails."""
    if confirmed_at is not None:
        return True
    if last_confirm_at is not None and now - last_confirm_at < resend_after:
        return True
    return confirms_today >= per_address_per_day


class Mail:
    """Mail queue, subscriptions, first-seen positions and turns in the database."""

    # Sending one mail takes seconds; a worker that died lets go of it within two minutes.
    lease_seconds = 120.0

    def __init__(
        self, db: Connector, keys: KeyRing, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock

    def close(self) -> None:
        """A thread is done with it: close its connections (SQLite; the database object
        closes PostgreSQL's pool)."""
        self.db.release()
        self.keys.close()

    # -- subscriptions ---------------------------------------------------------------------

    def request_subscription(
        self,
        address: str,
        address_hash: str,
        filters: Filters,
        language: str,
        *,
        resend_after: float,
        per_address_per_day: int,
    ) -> SubscribeOutcome:
        now = self.clock()
        made: list[str] = []  # the salts of keys made here, forgotten if nothing commits
        try:
            with self.db.transaction() as tx:
                # One request per address at a time, on every host: two racing requests
                # make one subscription and queue one mail.
                self.db.lock(tx, f"subscribe:{address_hash}")
                row = tx.one(
                    "subscription_find",
                    address_hash=address_hash,
                    filters=filters.to_json(),
                    language=language,
                )
                if row is not None and self.keys.get(tx, row["salt"]) is None:
                    self._reseal(tx, row["id"], row["salt"], address, made)
                today = tx.one("confirmations_since", address_hash=address_hash, since=now - DAY)
                assert today is not None
                if suppressed(
                    row["confirmed_at"] if row else None,
                    row["last_confirm_at"] if row else None,
                    today["n"],
                    now,
                    resend_after=resend_after,
                    per_address_per_day=per_address_per_day,
                ):
                    self._decoy(tx, address)
                    return SubscribeOutcome.SUPPRESSED
                if row is None:
                    sub_id = self._create(tx, address, address_hash, filters, language, made)
                else:
                    sub_id = row["id"]
                tx.run("subscription_asked", id=sub_id, now=now)
                _insert_mail(tx, MailKind.CONFIRM, language, {}, sub_id, None, now)
        except BaseException:
            self.keys.abandon(made)
            raise
        return SubscribeOutcome.QUEUED

    def _create(
        self,
        tx: Tx,
        address: str,
        address_hash: str,
        filters: Filters,
        language: str,
        made: list[str],
    ) -> int:
        """A new unconfirmed subscription; its key exists before the row."""
        salt = secrets.token_hex(16)
        made.append(salt)
        key = self.keys.new(tx, salt)
        row = tx.one(
            "subscription_insert",
            salt=salt,
            sealed=seal(key, address.encode(), address_context(salt)),
            address_hash=address_hash,
            filters=filters.to_json(),
            language=language,
            now=self.clock(),
        )
        assert row is not None
        return int(row["id"])

    def _decoy(self, tx: Tx, address: str) -> None:
        """What a new subscription costs, spent when none is made: a key committed (its
        flush is most of the time a request takes) and the address sealed with it.
        Otherwise an address that already has the alert would be answered measurably
        faster than a new one."""
        seal(self.keys.rehearse(tx), address.encode(), address_context(secrets.token_hex(16)))

    def _reseal(self, tx: Tx, sub_id: int, salt: str, address: str, made: list[str]) -> None:
        """A subscription whose key was lost (a key store restored from an older backup)
        is sealed again with a new key while its subscriber is here to give the address."""
        made.append(salt)
        key = self.keys.new(tx, salt)
        sealed = seal(key, address.encode(), address_context(salt))
        tx.run("subscription_reseal", id=sub_id, sealed=sealed)

    def subscription(self, sub_id: int) -> Subscription | None:
        with self.db.reading() as tx:
            row = tx.one("subscription", id=sub_id)
            return None if row is None else self._subscriptions(tx, [row])[0]

    def _subscriptions(self, tx: Tx, rows: list[Row]) -> list[Subscription]:
        keys = self.keys.get_many(tx, [row["salt"] for row in rows])
        return [
            Subscription(
                id=row["id"],
                salt=row["salt"],
                address=open_address(
                    keys.get(row["salt"]), bytes(row["address_sealed"]), row["salt"]
                ),
                filters=Filters.from_json(row["filters"]),
                language=row["language"],
                created_at=row["created_at"],
                confirmed_at=row["confirmed_at"],
                digest_mark=row["digest_mark"],
            )
            for row in rows
        ]

    def confirm(self, sub_id: int) -> bool:
        with self.db.transaction() as tx:
            tx.run("subscription_confirm", id=sub_id, now=self.clock())
            return tx.one("subscription_exists", id=sub_id) is not None

    def unsubscribe(self, sub_id: int) -> bool:
        with self.db.transaction() as tx:
            # The row, its pending mails (ON DELETE CASCADE) and its key at once.
            row = tx.one("subscription_delete", id=sub_id)
            if row is not None:
                self.keys.shred(tx, [row["salt"]])
        if row is None:
            return False
        self.keys.shredded([row["salt"]])
        return True

    def confirmed(self) -> list[Subscription]:
        with self.db.reading() as tx:
            found = self._subscriptions(tx, tx.all("subscriptions_confirmed"))
        return [s for s in found if s.address is not None]

    def set_digest_mark(self, sub_id: int, mark: float) -> None:
        with self.db.transaction() as tx:
            tx.run("subscription_set_mark", id=sub_id, mark=mark)

    def expire_unconfirmed(self, created_before: float) -> int:
        """Also the housekeeping of keys: subscriptions whose key is gone can never be mailed
        again and go too (uncounted); keys whose subscription is gone go as well."""
        with self.db.transaction() as tx:
            doomed = [row["salt"] for row in tx.all("subscriptions_expire", before=created_before)]
            self.keys.shred(tx, doomed)
            salts = [row["salt"] for row in tx.all("subscription_salts")]
            unreadable = self.keys.missing(tx, salts)
            tx.many("subscription_delete_salt", [{"salt": salt} for salt in unreadable])
            self.keys.prune(tx, 0.0)
        self.keys.shredded(doomed)
        return len(doomed)

    def subscription_count(self) -> dict[str, int]:
        with self.db.reading() as tx:
            row = tx.one("subscription_count")
        assert row is not None
        return {"confirmed": row["confirmed"], "unconfirmed": row["unconfirmed"]}

    # -- new jobs --------------------------------------------------------------------------

    def note_positions(self, position_ids: Iterable[int]) -> None:
        ids = [int(i) for i in position_ids]
        now = self.clock()
        with self.db.transaction() as tx:
            self.db.lock(tx, "positions_seen")  # hosts noting at once agree on the seeding
            at = now if tx.one("positions_seeded") is not None else 0.0
            tx.many("position_note", [{"id": i, "at": at} for i in ids])

    def first_seen(self) -> Mapping[int, float]:
        with self.db.reading() as tx:
            rows = tx.all("positions_seen")
        return {row["position_id"]: row["first_seen_at"] for row in rows}

    # -- schedule shared by every host ------------------------------------------------------

    def take_turn(self, name: str, interval: float) -> bool:
        with self.db.transaction() as tx:
            taken = tx.one("turn_take", name=name, interval=interval, now=self.clock())
        return taken is not None

    # -- the queue -------------------------------------------------------------------------

    def enqueue(
        self,
        kind: MailKind,
        *,
        language: str,
        params: Mapping[str, Any],
        subscription_id: int | None = None,
        dedupe_key: str | None = None,
    ) -> bool:
        try:
            with self.db.transaction() as tx:
                return _insert_mail(
                    tx, kind, language, params, subscription_id, dedupe_key, self.clock()
                )
        except (sqlite3.IntegrityError, psycopg.errors.ForeignKeyViolation):
            return False  # its subscription was deleted meanwhile: nobody to mail

    def claim_mail(self, owner: str) -> QueuedMail | None:
        now = self.clock()
        with self.db.transaction() as tx:
            row = tx.one("mail_claim", owner=owner, until=now + self.lease_seconds, now=now)
        return None if row is None else QueuedMail.from_row(row)

    def mail_sent(self, mail_id: int) -> None:
        self._finish(mail_id, MailStatus.SENT, None)

    def mail_failed(self, mail_id: int, error: str) -> None:
        self._finish(mail_id, MailStatus.FAILED, error[:ERROR_CHARS])

    def _finish(self, mail_id: int, status: MailStatus, error: str | None) -> None:
        with self.db.transaction() as tx:
            tx.run("mail_finish", id=mail_id, status=str(status), error=error, now=self.clock())

    def mail_retry(self, mail_id: int, at: float, error: str) -> None:
        with self.db.transaction() as tx:
            tx.run("mail_retry", id=mail_id, at=at, error=error[:ERROR_CHARS])

    def was_sent(self, dedupe_key: str) -> bool:
        with self.db.reading() as tx:
            row = tx.one("mail_status", dedupe_key=dedupe_key)
        return row is not None and row["status"] == MailStatus.SENT

    def known_keys(self, dedupe_keys: Iterable[str]) -> set[str]:
        with self.db.reading() as tx:
            rows = tx.all("mail_known_keys", keys=list(dedupe_keys))
        return {row["dedupe_key"] for row in rows}

    def mail_counts(self) -> dict[str, int]:
        with self.db.reading() as tx:
            rows = tx.all("mail_counts")
        return {str(status): 0 for status in MailStatus} | {r["status"]: r["n"] for r in rows}

    def count_since(self, kind: MailKind, since: float) -> int:
        with self.db.reading() as tx:
            row = tx.one("mail_count_since", kind=str(kind), since=since)
        assert row is not None
        return int(row["n"])

    def purge_mail(self, before: float) -> int:
        with self.db.transaction() as tx:
            purged = tx.run("mail_purge", before=before)
            tx.run("mail_forget_hashes", before=self.clock() - DAY)
        return purged


def _insert_mail(
    tx: Tx,
    kind: MailKind,
    language: str,
    params: Mapping[str, Any],
    subscription_id: int | None,
    dedupe_key: str | None,
    now: float,
) -> bool:
    """Due now; False when the dedupe key was used before."""
    row = tx.one(
        "mail_insert",
        kind=str(kind),
        subscription_id=subscription_id,
        language=language,
        params=json.dumps(dict(params)),
        dedupe_key=dedupe_key,
        now=now,
    )
    return row is not None


if TYPE_CHECKING:

    def _is_a_mail_store(store: Mail) -> MailStore:
        return store  # mypy checks the protocol here
