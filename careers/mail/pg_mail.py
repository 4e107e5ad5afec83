"""The mail store in PostgreSQL, on the outbox's pool: one queue for every host.

The same semantics as the SQLite store (`sqlite_mail.py`, whose rules for asking again it
shares), with what several hosts need: claims with `FOR UPDATE SKIP LOCKED`, requests for
one address serialized by an advisory lock on its hash, and turns on the database's clock
(hosts' clocks may differ). The tables come with the outbox schema (migration 3 in
applications/pg_store.py); the per-subscription keys live in `subscription_keys`, deleted
with their subscription and vacuumed at once, so dead tuples, WAL and backups keep only
noise. Every method is one short transaction; an unreachable database is StoreUnavailable.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

from ..applications.pg_store import (
    DB_NOW,
    LOCK_CLASS,
    transaction,
)
from ..applications.sealing import new_key, seal
from .sqlite_mail import (
    DAY,
    ERROR_CHARS,
    FAILED,
    PENDING,
    SENT,
    address_context,
    open_address,
    suppressed,
)
from .store import Filters, MailKind, QueuedMail, SubscribeOutcome, Subscription

if TYPE_CHECKING:
    from .store import MailStore

Connection = psycopg.Connection[DictRow]


class PostgresMailStore:
    """Mail queue, subscriptions, first-seen positions and turns beside the PostgreSQL
    outbox, on its connection pool (autocommit connections returning dict rows)."""

    # Sending one mail takes seconds; a host that died lets go of it within two minutes.
    lease_seconds = 120.0

    def __init__(
        self, pool: ConnectionPool[Connection], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.pool = pool
        self.clock = clock

    def _tx(self) -> AbstractContextManager[Connection]:
        return transaction(self.pool)

    def close(self) -> None:
        """Nothing of its own: the pool is the outbox's, which closes it."""

    def _vacuum_keys(self) -> None:
        """Make deleted keys' dead tuples reusable space at once (best effort, like the
        outbox; VACUUM cannot run in a transaction, the pool's connections autocommit)."""
        try:
            with self.pool.connection() as conn:
                conn.execute("VACUUM subscription_keys")
        except psycopg.Error:
            pass

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
        with self._tx() as conn:
            # One request per address at a time, on every host: two racing requests make
            # one subscription and queue one mail.
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s))",
                (LOCK_CLASS, f"subscribe:{address_hash}"),
            )
            row = conn.execute(
                "SELECT s.id, s.salt, s.confirmed_at, s.last_confirm_at, k.key IS NOT NULL"
                " AS readable FROM subscriptions s LEFT JOIN subscription_keys k"
                " ON k.salt = s.salt WHERE s.address_hash = %s AND s.filters = %s"
                " AND s.language = %s FOR UPDATE OF s",  # not unsubscribed under our feet
                (address_hash, filters.to_json(), language),
            ).fetchone()
            if row is not None and not row["readable"]:
                _reseal(conn, row["id"], row["salt"], address, now)
            today = conn.execute(
                "SELECT count(*) AS n FROM mail_queue WHERE kind = %s AND address_hash = %s"
                " AND created_at > %s",
                (str(MailKind.CONFIRM), address_hash, now - DAY),
            ).fetchone()
            assert today is not None
            if suppressed(
                row["confirmed_at"] if row else None,
                row["last_confirm_at"] if row else None,
                today["n"],
                now,
                resend_after=resend_after,
                per_address_per_day=per_address_per_day,
            ):
                _decoy(conn, address, now)
                return SubscribeOutcome.SUPPRESSED
            if row is None:
                sub_id = _create(conn, address, address_hash, filters, language, now)
            else:
                sub_id = row["id"]
            conn.execute(
                "UPDATE subscriptions SET last_confirm_at = %s WHERE id = %s", (now, sub_id)
            )
            _insert_mail(conn, MailKind.CONFIRM, language, {}, sub_id, None, now)
        return SubscribeOutcome.QUEUED

    def subscription(self, sub_id: int) -> Subscription | None:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT s.*, k.key FROM subscriptions s"
                " LEFT JOIN subscription_keys k ON k.salt = s.salt WHERE s.id = %s",
                (sub_id,),
            ).fetchone()
        return None if row is None else _subscription(row)

    def confirm(self, sub_id: int) -> bool:
        now = self.clock()
        with self._tx() as conn:
            # Only the first confirmation counts: a second click moves neither the consent
            # time nor the mark (which would hide the jobs found in between).
            conn.execute(
                "UPDATE subscriptions SET confirmed_at = %s, digest_mark = %s"
                " WHERE id = %s AND confirmed_at IS NULL",
                (now, now, sub_id),
            )
            found = conn.execute("SELECT 1 FROM subscriptions WHERE id = %s", (sub_id,)).fetchone()
        return found is not None

    def unsubscribe(self, sub_id: int) -> bool:
        with self._tx() as conn:
            # The row, its pending mails (ON DELETE CASCADE) and its key, in one transaction.
            row = conn.execute(
                "DELETE FROM subscriptions WHERE id = %s RETURNING salt", (sub_id,)
            ).fetchone()
            if row is not None:
                conn.execute("DELETE FROM subscription_keys WHERE salt = %s", (row["salt"],))
        if row is None:
            return False
        self._vacuum_keys()
        return True

    def confirmed(self) -> list[Subscription]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT s.*, k.key FROM subscriptions s"
                " JOIN subscription_keys k ON k.salt = s.salt"  # readable ones only
                " WHERE s.confirmed_at IS NOT NULL ORDER BY s.id"
            ).fetchall()
        found = [_subscription(row) for row in rows]
        return [s for s in found if s.address is not None]

    def set_digest_mark(self, sub_id: int, mark: float) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE subscriptions SET digest_mark = %s WHERE id = %s", (mark, sub_id))

    def expire_unconfirmed(self, created_before: float) -> int:
        """Subscriptions whose key is gone can never be mailed again and go too (uncounted)."""
        with self._tx() as conn:
            expired = conn.execute(
                "WITH doomed AS (DELETE FROM subscriptions WHERE confirmed_at IS NULL"
                " AND created_at < %s RETURNING salt),"
                " shredded AS (DELETE FROM subscription_keys k USING doomed d"
                " WHERE k.salt = d.salt)"
                " SELECT count(*) AS n FROM doomed",
                (created_before,),
            ).fetchone()
            conn.execute(
                "DELETE FROM subscriptions s WHERE NOT EXISTS"
                " (SELECT 1 FROM subscription_keys k WHERE k.salt = s.salt)"
            )
        self._vacuum_keys()
        assert expired is not None
        return int(expired["n"])

    def subscription_count(self) -> dict[str, int]:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT count(confirmed_at) AS confirmed,"
                " count(*) - count(confirmed_at) AS unconfirmed FROM subscriptions"
            ).fetchone()
        assert row is not None
        return {"confirmed": row["confirmed"], "unconfirmed": row["unconfirmed"]}

    # -- new jobs --------------------------------------------------------------------------

    def note_positions(self, position_ids: Iterable[int]) -> None:
        ids = [int(i) for i in position_ids]
        now = self.clock()
        with self._tx() as conn:
            # Hosts noting at once agree on whether this is the seeding run.
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s::int4, hashtext('positions_seen'))", (LOCK_CLASS,)
            )
            seeded = conn.execute("SELECT 1 FROM positions_seen LIMIT 1").fetchone() is not None
            conn.execute(
                "INSERT INTO positions_seen (position_id, first_seen_at)"
                " SELECT unnest(%s::bigint[]), %s ON CONFLICT (position_id) DO NOTHING",
                (ids, now if seeded else 0.0),
            )

    def first_seen(self) -> Mapping[int, float]:
        with self._tx() as conn:
            rows = conn.execute("SELECT position_id, first_seen_at FROM positions_seen").fetchall()
        return {r["position_id"]: r["first_seen_at"] for r in rows}

    # -- schedule shared by every host ------------------------------------------------------

    def take_turn(self, name: str, interval: float) -> bool:
        with self._tx() as conn:
            # A racing caller waits on the row (or its key) until the winner commits, then
            # finds next_at in the future. On the database's clock: hosts' clocks may differ.
            taken = conn.execute(
                f"INSERT INTO turns (name, next_at) VALUES (%s, {DB_NOW} + %s)"
                " ON CONFLICT (name) DO UPDATE SET next_at = EXCLUDED.next_at"
                f" WHERE turns.next_at <= {DB_NOW} RETURNING name",
                (name, interval),
            ).fetchone()
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
            with self._tx() as conn:
                return _insert_mail(
                    conn, kind, language, params, subscription_id, dedupe_key, self.clock()
                )
        except psycopg.errors.ForeignKeyViolation:
            return False  # its subscription was deleted meanwhile: nobody to mail

    def claim_mail(self, owner: str) -> QueuedMail | None:
        now = self.clock()
        with self._tx() as conn:
            row = conn.execute(
                "UPDATE mail_queue SET lease_owner = %s, lease_until = %s,"
                " attempts = attempts + 1 WHERE id = (SELECT id FROM mail_queue"
                " WHERE status = %s AND next_attempt_at <= %s"
                " AND (lease_until IS NULL OR lease_until < %s)"
                " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *",
                (owner, now + self.lease_seconds, PENDING, now, now),
            ).fetchone()
        if row is None:
            return None
        return QueuedMail.from_row(row)

    def mail_sent(self, mail_id: int) -> None:
        self._finish(mail_id, SENT, None)

    def mail_failed(self, mail_id: int, error: str) -> None:
        self._finish(mail_id, FAILED, error[:ERROR_CHARS])

    def _finish(self, mail_id: int, status: str, error: str | None) -> None:
        """The first outcome stands; what the mail was about goes (the address hash stays
        for the day the per-address limit looks back, `purge_mail` clears it)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE mail_queue SET status = %s, done_at = %s, subscription_id = NULL,"
                " params = '{}', last_error = %s, next_attempt_at = NULL, lease_owner = NULL,"
                " lease_until = NULL WHERE id = %s AND status = %s",
                (status, self.clock(), error, mail_id, PENDING),
            )

    def mail_retry(self, mail_id: int, at: float, error: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE mail_queue SET next_attempt_at = %s, last_error = %s,"
                " lease_owner = NULL, lease_until = NULL WHERE id = %s AND status = %s",
                (at, error[:ERROR_CHARS], mail_id, PENDING),
            )

    def was_sent(self, dedupe_key: str) -> bool:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT status FROM mail_queue WHERE dedupe_key = %s", (dedupe_key,)
            ).fetchone()
        return row is not None and row["status"] == SENT

    def known_keys(self, dedupe_keys: Iterable[str]) -> set[str]:
        """Which of these dedupe keys were used (whatever became of their mails)."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT dedupe_key FROM mail_queue WHERE dedupe_key = ANY(%s)",
                (list(dedupe_keys),),
            ).fetchall()
        return {r["dedupe_key"] for r in rows}

    def mail_counts(self) -> dict[str, int]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT status, count(*) AS n FROM mail_queue GROUP BY status"
            ).fetchall()
        return {PENDING: 0, SENT: 0, FAILED: 0} | {r["status"]: r["n"] for r in rows}

    def count_since(self, kind: MailKind, since: float) -> int:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM mail_queue WHERE kind = %s AND created_at >= %s",
                (str(kind), since),
            ).fetchone()
        assert row is not None
        return int(row["n"])

    def purge_mail(self, before: float) -> int:
        with self._tx() as conn:
            purged = conn.execute(
                "DELETE FROM mail_queue WHERE status IN (%s, %s) AND done_at < %s",
                (SENT, FAILED, before),
            ).rowcount
            # The per-address limit looks back one day; older entries need no address hash.
            conn.execute(
                "UPDATE mail_queue SET address_hash = NULL WHERE address_hash IS NOT NULL"
                " AND created_at < %s",
                (self.clock() - DAY,),
            )
        return purged


# -- helpers -------------------------------------------------------------------------------


def _decoy(conn: Connection, address: str, now: float) -> None:
    """What a new subscription costs, spent when none is made: a key written (so the commit
    flushes the WAL, as a new subscription's does) and the address sealed with it, then the
    key deleted in the same transaction. Otherwise an address that already has the alert
    would be answered measurably faster than a new one."""
    salt = secrets.token_hex(16)
    key = new_key()
    conn.execute(
        "INSERT INTO subscription_keys (salt, key, created_at) VALUES (%s, %b, %s)",
        (salt, key, now),
    )
    seal(key, address.encode(), address_context(salt))
    conn.execute("DELETE FROM subscription_keys WHERE salt = %s", (salt,))


def _create(
    conn: Connection,
    address: str,
    address_hash: str,
    filters: Filters,
    language: str,
    now: float,
) -> int:
    """A new unconfirmed subscription; its key is written before the row."""
    salt = secrets.token_hex(16)
    key = new_key()
    conn.execute(
        "INSERT INTO subscription_keys (salt, key, created_at) VALUES (%s, %b, %s)",
        (salt, key, now),
    )
    row = conn.execute(
        "INSERT INTO subscriptions (salt, address_sealed, address_hash, filters, language,"
        " created_at) VALUES (%s, %b, %s, %s, %s, %s) RETURNING id",
        (
            salt,
            seal(key, address.encode(), address_context(salt)),
            address_hash,
            filters.to_json(),
            language,
            now,
        ),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def _reseal(conn: Connection, sub_id: int, salt: str, address: str, now: float) -> None:
    """A subscription whose key was lost (a restore of part of the database) is sealed
    again with a new key while its subscriber is here to give the address."""
    key = new_key()
    conn.execute(
        "INSERT INTO subscription_keys (salt, key, created_at) VALUES (%s, %b, %s)",
        (salt, key, now),
    )
    conn.execute(
        "UPDATE subscriptions SET address_sealed = %b WHERE id = %s",
        (seal(key, address.encode(), address_context(salt)), sub_id),
    )


def _subscription(row: DictRow) -> Subscription:
    key = None if row["key"] is None else bytes(row["key"])
    return Subscription(
        id=row["id"],
        salt=row["salt"],
        address=open_address(key, bytes(row["address_sealed"]), row["salt"]),
        filters=Filters.from_json(row["filters"]),
        language=row["language"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        digest_mark=row["digest_mark"],
    )


def _insert_mail(
    conn: Connection,
    kind: MailKind,
    language: str,
    params: Mapping[str, Any],
    subscription_id: int | None,
    dedupe_key: str | None,
    now: float,
) -> bool:
    """Due now; a subscription's mail carries its address hash for the daily limit."""
    row = conn.execute(
        "INSERT INTO mail_queue (kind, subscription_id, address_hash, language, params,"
        " dedupe_key, status, next_attempt_at, created_at) VALUES (%s, %s,"
        " (SELECT address_hash FROM subscriptions WHERE id = %s), %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
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
    ).fetchone()
    return row is not None


if TYPE_CHECKING:

    def _is_a_mail_store(store: PostgresMailStore) -> MailStore:
        return store  # mypy checks the protocol here
