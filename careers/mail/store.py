"""What the mail worker and the job-alert pages need from a store, whatever the database.

One implementation on either database (careers/db/mail.py, tests/test_mail_store.py); its
tables are part of the database's schema (migration 3 of each dialect), so `careers db
upgrade` carries them.

Privacy (docs/mail.md): a subscription holds its address sealed with a key of its own
(sealing.py) plus a keyed hash of it for the per-address limits; its filters, language and
the time of consent. Unsubscribing deletes the row and the key at once, so no copy of the
address (WAL, dead tuples, backups) stays readable. Queued mails name a subscription or the
operators, never an address, and keep only non-personal parameters (job ids, receipt ids).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class MailKind(StrEnum):
    """What a queued mail is; the worker renders it from its parameters when sending."""

    CONFIRM = "confirm"  # double opt-in: "confirm your job alert" (to a subscription)
    DIGEST = "digest"  # new matching jobs (to a subscription)
    ALERT = "alert"  # operator alert by mail (to CAREERS_ALERT_EMAIL)
    WEBHOOK = "webhook"  # operator alert as a signed JSON POST (to CAREERS_ALERT_WEBHOOK_URL)
    REPORT = "report"  # the weekly funnel (to CAREERS_REPORT_EMAIL)


class MailStatus(StrEnum):
    """Where a queued mail is: waiting (or being sent), sent, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class SubscribeOutcome(StrEnum):
    """What asking for a job alert did. The page says the same for all of them (it must not
    tell whether an address is subscribed); the difference is for tests and metrics."""

    QUEUED = "queued"  # new or renewed subscription, confirmation mail queued
    SUPPRESSED = "suppressed"  # asked again too soon, or too many for this address: no mail


# What a subscription keeps of a list's filters: values the board has (web/alerts.py), at
# most this many across all facets, none longer than this (a board's own values are far
# shorter); a mail quotes no more of them either (compose.py).
MAX_FILTER_VALUES = 30
MAX_FILTER_CHARS = 200


@dataclass(frozen=True)
class Filters:
    """A list page's filters as a subscription keeps them (careers/jobs/search.py)."""

    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    q: str = ""
    min_salary: int | None = None  # a yearly amount, like the list's `min_salary`

    def to_json(self) -> str:
        """Canonical: the same filters always give the same text (it is part of a key).
        Without a minimum pay the text is what releases before it wrote."""
        data: dict[str, object] = {
            "facets": {k: sorted(v) for k, v in sorted(self.facets.items())},
            "q": self.q,
        }
        if self.min_salary is not None:
            data["min_salary"] = self.min_salary
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Filters:
        data = json.loads(text)
        return cls(
            {k: tuple(v) for k, v in data.get("facets", {}).items()},
            data.get("q", ""),
            data.get("min_salary"),
        )


@dataclass(frozen=True)
class Subscription:
    """A job alert. `address` is unsealed; None when its key is gone (then it is dropped)."""

    id: int
    salt: str  # random, part of the link signature: a reused id never opens an old link
    address: str | None
    filters: Filters
    language: str
    created_at: float
    confirmed_at: float | None
    digest_mark: float  # jobs first seen after this are "new" for it


@dataclass(frozen=True)
class QueuedMail:
    """A claimed queue entry, ready to be rendered and sent."""

    id: int
    kind: MailKind
    subscription_id: int | None
    language: str
    params: dict[str, Any]
    attempts: int
    created_at: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> QueuedMail:
        """From a `mail_queue` row of either store."""
        return cls(
            id=row["id"],
            kind=MailKind(row["kind"]),
            subscription_id=row["subscription_id"],
            language=row["language"],
            params=json.loads(row["params"]),
            attempts=row["attempts"],
            created_at=row["created_at"],
        )


class MailStore(Protocol):
    """Durable mail queue, subscriptions and the feed's first-seen dates. Times are epoch
    seconds of the store's clock."""

    lease_seconds: float

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
        """In one transaction: find the unconfirmed or confirmed subscription of this address
        hash for these filters and language, or create an unconfirmed one (sealing the
        address); queue a CONFIRM mail to it unless one was queued for it less than
        `resend_after` seconds ago or this address hash had `per_address_per_day` CONFIRM
        mails queued in the last 24 hours (then SUPPRESSED). Asking again for an existing
        confirmed subscription queues nothing and answers SUPPRESSED."""

    def subscription(self, sub_id: int) -> Subscription | None: ...

    def confirm(self, sub_id: int) -> bool:
        """Mark confirmed now (consent time) with `digest_mark` = now; False if unknown.
        Confirming twice keeps the first consent time and answers True."""

    def unsubscribe(self, sub_id: int) -> bool:
        """Delete the subscription, its key and its queued mails at once; False if unknown."""

    def confirmed(self) -> list[Subscription]:
        """Every confirmed subscription whose address can still be read."""

    def set_digest_mark(self, sub_id: int, mark: float) -> None: ...

    def expire_unconfirmed(self, created_before: float) -> int:
        """Delete unconfirmed subscriptions created before then (with keys and mails)."""

    def subscription_count(self) -> dict[str, int]:
        """{"confirmed": n, "unconfirmed": m}, for metrics."""

    # -- new jobs --------------------------------------------------------------------------

    def note_positions(self, position_ids: Iterable[int]) -> None:
        """Remember when each id was first seen; an empty table is seeded with time 0, so
        the jobs open at the first run are never 'new'."""

    def first_seen(self) -> Mapping[int, float]:
        """Position id -> when it was first seen."""

    # -- schedule shared by every host ------------------------------------------------------

    def take_turn(self, name: str, interval: float) -> bool:
        """True for exactly one caller per `interval` seconds across all processes and
        hosts (the digest run, the monitors)."""

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
        """Queue a mail, due now; False (nothing queued) when `dedupe_key` was used before
        (queued, sent or given up: keys are kept for 30 days)."""

    def claim_mail(self, owner: str) -> QueuedMail | None:
        """Lease the next due mail for `lease_seconds`, or None."""

    def mail_sent(self, mail_id: int) -> None:
        """Done: the entry keeps only its kind, dedupe key and sending time."""

    def mail_retry(self, mail_id: int, at: float, error: str) -> None: ...

    def mail_failed(self, mail_id: int, error: str) -> None:
        """Given up (a recipient refused for good): kept like a sent one, marked failed."""

    def known_keys(self, dedupe_keys: Iterable[str]) -> set[str]:
        """Which of these dedupe keys were used already (any status), in one read."""

    def was_sent(self, dedupe_key: str) -> bool:
        """Whether the mail queued under this key has gone out (the receipt's 'told')."""

    def mail_counts(self) -> dict[str, int]:
        """Queue entries per status ("pending", "sent", "failed"), for metrics and check."""

    def count_since(self, kind: MailKind, since: float) -> int:
        """Entries of this kind queued since then (the alert rate limit)."""

    def purge_mail(self, before: float) -> int:
        """Delete sent and failed entries older than then."""

    def close(self) -> None: ...
