"""The mail store in SQLite, in the outbox's file: one host, its threads and processes.

The tables come with the outbox schema (migration 3 in applications/sqlite_store.py), which
the outbox creates or checks when it opens; this store opens after it. Every write is a
short IMMEDIATE transaction, so two requests racing for one address, or two processes
taking one turn, are served one after the other. Subscribers' addresses are sealed with a
key per subscription kept in a key store of their own (`careers-mail-keys.db`, sealing.py):
unsubscribing deletes the key, and every copy of the address left in the WAL, in free
pages or in a backup is noise from then on.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag

from ..applications.sealing import seal, unseal
from ..applications.sqlite_store import SQLiteFile
from .store import Filters, MailKind, QueuedMail, SubscribeOutcome, Subscription

if TYPE_CHECKING:
    from .store import MailStore

PENDING, SENT, FAILED = "pending", "sent", "failed"
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


class SQLiteMailStore(SQLiteFile):
    """Mail queue, subscriptions, first-seen positions and turns beside the SQLite outbox."""

    # Sending one mail takes seconds; a worker that died lets go of it within two minutes.
    lease_seconds = 120.0

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(path, "-mail-keys.db", clock)

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
        created: list[str] = []  # the salt of a key made here, deleted if nothing commits
        try:
            with self._write() as db:
                row = db.execute(
                    "SELECT id, salt, confirmed_at, last_confirm_at FROM subscriptions"
                    " WHERE address_hash = ? AND filters = ? AND language = ?",
                    (address_hash, filters.to_json(), language),
                ).fetchone()
                if row is not None:
                    self._keep_readable(db, row["id"], row["salt"], address, created)
                today = db.execute(
                    "SELECT COUNT(*) FROM mail_queue WHERE kind = ? AND address_hash = ?"
                    " AND created_at > ?",
                    (str(MailKind.CONFIRM), address_hash, now - DAY),
                ).fetchone()[0]
                if suppressed(
                    row["confirmed_at"] if row else None,
                    row["last_confirm_at"] if row else None,
                    today,
                    now,
                    resend_after=resend_after,
                    per_address_per_day=per_address_per_day,
                ):
                    self._decoy(address)
                    return SubscribeOutcome.SUPPRESSED
                if row is None:
                    sub_id = self._create(
                        db, address, address_hash, filters, language, now, created
                    )
                else:
                    sub_id = row["id"]
                db.execute(
                    "UPDATE subscriptions SET last_confirm_at = ? WHERE id = ?", (now, sub_id)
                )
                self._insert_mail(db, MailKind.CONFIRM, language, {}, sub_id, None, now)
        except BaseException:
            self.keys.delete(created)
            raise
        return SubscribeOutcome.QUEUED

    def _create(
        self,
        db: sqlite3.Connection,
        address: str,
        address_hash: str,
        filters: Filters,
        language: str,
        now: float,
        created: list[str],
    ) -> int:
        """A new unconfirmed subscription; its key is committed before the row."""
        salt = secrets.token_hex(16)
        created.append(salt)
        key = self.keys.create(salt)
        cursor = db.execute(
            "INSERT INTO subscriptions (salt, address_sealed, address_hash, filters, language,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                salt,
                seal(key, address.encode(), address_context(salt)),
                address_hash,
                filters.to_json(),
                language,
                now,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _decoy(self, address: str) -> None:
        """What a new subscription costs, spent when none is made: a key committed to the
        key store (its fsyncs are most of the time a request takes; deleted again in the
        same transaction) and the address sealed with it. Otherwise an address that already
        has the alert would be answered measurably faster than a new one."""
        salt = secrets.token_hex(16)
        seal(self.keys.rehearse(), address.encode(), address_context(salt))

    def _keep_readable(
        self, db: sqlite3.Connection, sub_id: int, salt: str, address: str, created: list[str]
    ) -> None:
        """A subscription whose key was lost (a key store restored from an older backup)
        is sealed again with a new key while its subscriber is here to give the address."""
        if self.keys.get(salt) is not None:
            return
        created.append(salt)
        key = self.keys.create(salt)
        db.execute(
            "UPDATE subscriptions SET address_sealed = ? WHERE id = ?",
            (seal(key, address.encode(), address_context(salt)), sub_id),
        )

    def subscription(self, sub_id: int) -> Subscription | None:
        row = (
            self._connection()
            .execute("SELECT * FROM subscriptions WHERE id = ?", (sub_id,))
            .fetchone()
        )
        return None if row is None else self._subscription(row)

    def _subscription(self, row: sqlite3.Row) -> Subscription:
        return Subscription(
            id=row["id"],
            salt=row["salt"],
            address=open_address(self.keys.get(row["salt"]), row["address_sealed"], row["salt"]),
            filters=Filters.from_json(row["filters"]),
            language=row["language"],
            created_at=row["created_at"],
            confirmed_at=row["confirmed_at"],
            digest_mark=row["digest_mark"],
        )

    def confirm(self, sub_id: int) -> bool:
        now = self.clock()
        with self._write() as db:
            # Only the first confirmation counts: a second click moves neither the consent
            # time nor the mark (which would hide the jobs found in between).
            db.execute(
                "UPDATE subscriptions SET confirmed_at = ?, digest_mark = ?"
                " WHERE id = ? AND confirmed_at IS NULL",
                (now, now, sub_id),
            )
            found = db.execute("SELECT 1 FROM subscriptions WHERE id = ?", (sub_id,)).fetchone()
        return found is not None

    def unsubscribe(self, sub_id: int) -> bool:
        with self._write() as db:
            row = db.execute("SELECT salt FROM subscriptions WHERE id = ?", (sub_id,)).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))  # and its mails
        self._shred([row["salt"]])
        return True

    def _shred(self, salts: list[str]) -> None:
        """Delete the keys of deleted subscriptions: every copy of their addresses is noise."""
        self.keys.delete(salts)
        self._forget_pages()

    def confirmed(self) -> list[Subscription]:
        rows = (
            self._connection()
            .execute("SELECT * FROM subscriptions WHERE confirmed_at IS NOT NULL ORDER BY id")
            .fetchall()
        )
        found = [self._subscription(row) for row in rows]
        return [s for s in found if s.address is not None]

    def set_digest_mark(self, sub_id: int, mark: float) -> None:
        with self._write() as db:
            db.execute("UPDATE subscriptions SET digest_mark = ? WHERE id = ?", (mark, sub_id))

    def expire_unconfirmed(self, created_before: float) -> int:
        """Also the housekeeping of keys: subscriptions whose key is gone can never be mailed
        again and go too (uncounted); keys left by a crash between a row's deletion and its
        key's are deleted. Under the write lock, so no request is creating one meanwhile."""
        with self._write() as db:
            doomed = [
                r["salt"]
                for r in db.execute(
                    "SELECT salt FROM subscriptions WHERE confirmed_at IS NULL AND created_at < ?",
                    (created_before,),
                )
            ]
            db.executemany("DELETE FROM subscriptions WHERE salt = ?", [(s,) for s in doomed])
            salts = {r["salt"] for r in db.execute("SELECT salt FROM subscriptions")}
            keys = self.keys.ids()
            db.executemany("DELETE FROM subscriptions WHERE salt = ?", [(s,) for s in salts - keys])
            self.keys.delete([*doomed, *(keys - salts)])
        self._forget_pages()
        return len(doomed)

    def subscription_count(self) -> dict[str, int]:
        row = (
            self._connection()
            .execute(
                "SELECT COUNT(confirmed_at) AS confirmed, COUNT(*) - COUNT(confirmed_at)"
                " AS unconfirmed FROM subscriptions"
            )
            .fetchone()
        )
        return {"confirmed": row["confirmed"], "unconfirmed": row["unconfirmed"]}

    # -- new jobs --------------------------------------------------------------------------

    def note_positions(self, position_ids: Iterable[int]) -> None:
        ids = [int(i) for i in position_ids]
        now = self.clock()
        with self._write() as db:
            seeded = db.execute("SELECT 1 FROM positions_seen LIMIT 1").fetchone() is not None
            db.executemany(
                "INSERT INTO positions_seen (position_id, first_seen_at) VALUES (?, ?)"
                " ON CONFLICT (position_id) DO NOTHING",
                [(i, now if seeded else 0.0) for i in ids],
            )

    def first_seen(self) -> Mapping[int, float]:
        rows = self._connection().execute("SELECT position_id, first_seen_at FROM positions_seen")
        return {r["position_id"]: r["first_seen_at"] for r in rows}

    # -- schedule shared by every process ----------------------------------------------------

    def take_turn(self, name: str, interval: float) -> bool:
        now = self.clock()
        with self._write() as db:
            taken = db.execute(
                "INSERT INTO turns (name, next_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                " SET next_at = excluded.next_at WHERE turns.next_at <= ? RETURNING name",
                (name, now + interval, now),
            ).fetchall()  # all of it: a RETURNING statement left unfinished blocks COMMIT
        return bool(taken)

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
            with self._write() as db:
                return self._insert_mail(
                    db, kind, language, params, subscription_id, dedupe_key, self.clock()
                )
        except sqlite3.IntegrityError:
            return False  # its subscription was deleted meanwhile: nobody to mail

    @staticmethod
    def _insert_mail(
        db: sqlite3.Connection,
        kind: MailKind,
        language: str,
        params: Mapping[str, Any],
        subscription_id: int | None,
        dedupe_key: str | None,
        now: float,
    ) -> bool:
        """Due now; a subscription's mail carries its address hash for the daily limit."""
        cursor = db.execute(
            "INSERT INTO mail_queue (kind, subscription_id, address_hash, language, params,"
            " dedupe_key, status, next_attempt_at, created_at)"
            " VALUES (?, ?, (SELECT address_hash FROM subscriptions WHERE id = ?), ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (
                str(kind),
                subscription_id,
                subscription_id,
                language,
                json.dumps(dict(params)),
                dedupe_key,
                PENDING,
                now,
                now,
            ),
        )
        return cursor.rowcount == 1

    def claim_mail(self, owner: str) -> QueuedMail | None:
        now = self.clock()
        with self._write() as db:
            rows = db.execute(
                "UPDATE mail_queue SET lease_owner = ?, lease_until = ?, attempts = attempts + 1"
                " WHERE id = (SELECT id FROM mail_queue WHERE status = ? AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id"
                " LIMIT 1) RETURNING *",
                (owner, now + self.lease_seconds, PENDING, now, now),
            ).fetchall()
        if not rows:
            return None
        [row] = rows
        return QueuedMail.from_row(row)

    def mail_sent(self, mail_id: int) -> None:
        self._finish(mail_id, SENT, None)

    def mail_failed(self, mail_id: int, error: str) -> None:
        self._finish(mail_id, FAILED, error[:ERROR_CHARS])

    def _finish(self, mail_id: int, status: str, error: str | None) -> None:
        """The first outcome stands; what the mail was about goes (the address hash stays
        for the day the per-address limit looks back, `purge_mail` clears it)."""
        with self._write() as db:
            db.execute(
                "UPDATE mail_queue SET status = ?, done_at = ?, subscription_id = NULL,"
                " params = '{}', last_error = ?, next_attempt_at = NULL, lease_owner = NULL,"
                " lease_until = NULL WHERE id = ? AND status = ?",
                (status, self.clock(), error, mail_id, PENDING),
            )

    def mail_retry(self, mail_id: int, at: float, error: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE mail_queue SET next_attempt_at = ?, last_error = ?, lease_owner = NULL,"
                " lease_until = NULL WHERE id = ? AND status = ?",
                (at, error[:ERROR_CHARS], mail_id, PENDING),
            )

    def was_sent(self, dedupe_key: str) -> bool:
        row = (
            self._connection()
            .execute("SELECT status FROM mail_queue WHERE dedupe_key = ?", (dedupe_key,))
            .fetchone()
        )
        return row is not None and row["status"] == SENT

    def known_keys(self, dedupe_keys: Iterable[str]) -> set[str]:
        """Which of these dedupe keys were used (whatever became of their mails)."""
        keys = list(dedupe_keys)
        db = self._connection()
        found: set[str] = set()
        for start in range(0, len(keys), 500):  # below SQLite's limit on parameters
            batch = keys[start : start + 500]
            marks = ", ".join("?" * len(batch))
            rows = db.execute(
                f"SELECT dedupe_key FROM mail_queue WHERE dedupe_key IN ({marks})", batch
            )
            found |= {r["dedupe_key"] for r in rows}
        return found

    def mail_counts(self) -> dict[str, int]:
        rows = self._connection().execute(
            "SELECT status, COUNT(*) AS n FROM mail_queue GROUP BY status"
        )
        return {PENDING: 0, SENT: 0, FAILED: 0} | {r["status"]: r["n"] for r in rows}

    def count_since(self, kind: MailKind, since: float) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT COUNT(*) FROM mail_queue WHERE kind = ? AND created_at >= ?",
                (str(kind), since),
            )
            .fetchone()
        )
        return int(row[0])

    def purge_mail(self, before: float) -> int:
        with self._write() as db:
            purged = db.execute(
                "DELETE FROM mail_queue WHERE status IN (?, ?) AND done_at < ?",
                (SENT, FAILED, before),
            ).rowcount
            # The per-address limit looks back one day; older entries need no address hash.
            db.execute(
                "UPDATE mail_queue SET address_hash = NULL WHERE address_hash IS NOT NULL"
                " AND created_at < ?",
                (self.clock() - DAY,),
            )
        return purged


if TYPE_CHECKING:

    def _is_a_mail_store(store: SQLiteMailStore) -> MailStore:
        return store  # mypy checks the protocol here
