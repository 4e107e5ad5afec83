"""Deliver queued applications to Personio: paced, retried, exactly once (docs/applications.md)."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from ..personio.recruiting import (
    CredentialsRejected,
    DuplicateApplicant,
    PermanentError,
    RecruitingClient,
    RecruitingError,
    TransientError,
)
from ..personio.vocabulary import ErrorCode
from ..ratelimit import RateLimit
from ..store_errors import StoreUnavailable
from .rules import DAY, PARKED_RETENTION_DAYS, RECEIPT_RETENTION_DAYS, Status
from .store import Claim, Outbox
from .wire import personio_body, personio_filename

if TYPE_CHECKING:
    from ..ratelimit import RateLimit

log = logging.getLogger(__name__)

STORE_DOWN_WAIT = 5.0  # seconds between tries while the database cannot be reached
BACKOFF_BASE = 15.0
BACKOFF_MAX = 3600.0
# Personio documents no Retry-After for 429; waiting out the whole window is the safe
# reading (docs/personio.md §3).
RATE_LIMITED_WAIT = 60.0
# Our clock and Personio's differ by the network delay; keep a margin inside the window.
WINDOW_MARGIN = 0.5
RATE_KEY = "personio-recruiting"
PARKED_RETENTION = PARKED_RETENTION_DAYS * DAY
RECEIPT_RETENTION = RECEIPT_RETENTION_DAYS * DAY
# A 401/403 pauses delivery instead of parking (docs/operations.md): the next claimed
# application is the probe, after a pause that doubles from a minute to a quarter hour.
CREDENTIALS_REJECTED = "credentials_rejected"
CREDENTIALS_PROBLEM = "delivery paused: Personio rejected the API credentials"
CREDENTIALS_PAUSE = 60.0
CREDENTIALS_PAUSE_MAX = 900.0
# Outcomes that prove Personio accepted the credentials (a parked one got past them too).
_ACCEPTED = frozenset({"delivered", "delivered_duplicate", "already_applied", "parked"})


def rate_key(account: str) -> str:
    """The budget an account's requests count in: its own on a site of several accounts
    (CAREERS_ACCOUNTS_FILE), RATE_KEY for the implicit one, as before accounts."""
    return f"{RATE_KEY}:{account}" if account else RATE_KEY


class DeliveryHealth:
    """What this process's deliverer knows that /readyz should say: why delivery is paused."""

    def __init__(self) -> None:
        self.problem: str | None = None


def backoff(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with jitter, never shorter than what Personio asked for."""
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempt - 1))
    delay = rng.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


class Budget(Protocol):
    """The deployment's shared budget of Recruiting API requests (careers/db/ratelimit.py's
    RateLimiter over CAREERS_PERSONIO_RATE_LIMIT, its window widened by WINDOW_MARGIN)."""

    def hit(self, key: str) -> float:
        """Take a slot: 0 when taken, else seconds until one is free."""


def budget_window(rate: RateLimit) -> float:
    """The window a delivery budget counts in: Personio's, with our margin."""
    return rate.seconds + WINDOW_MARGIN


class Deliverer:
    """Claims one application at a time and takes it through upload → create → receipt."""

    def __init__(
        self,
        outbox: Outbox,
        client: RecruitingClient,
        budget: Budget,
        *,
        account: str = "",
        first: bool = True,
        clock: Callable[[], float] = time.time,
        stop: threading.Event | None = None,
        on_outcome: Callable[[str], None] | None = None,
        on_parked: Callable[[int], None] | None = None,
        on_paused: Callable[[str], None] | None = None,
        health: DeliveryHealth | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox, self.client, self.budget = outbox, client, budget
        # The Personio account this worker delivers for (its key; "" is the implicit one of
        # the CAREERS_PERSONIO_* variables). `first`: also the applications stored without
        # an account, from before accounts existed (schema step 008).
        self.account, self.first = account, first
        self.rate_key = rate_key(account)
        self.clock = clock
        self.stop = stop or threading.Event()
        self.on_outcome = on_outcome or (lambda outcome: None)
        # Told the moment an application is parked (the operator alert); the mail worker's
        # monitor finds parked applications by itself too, so a crash here loses nothing.
        self.on_parked = on_parked or (lambda app_id: None)
        # Told once when Personio starts refusing the credentials (the operator alert).
        self.on_paused = on_paused or (lambda detail: None)
        self.health = health or DeliveryHealth()
        self._paused_until: float | None = None
        self._pause = 0.0
        self.rng = rng or random.Random()
        # host:pid:… lets a restarted worker on this host take over a killed one's lease.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{self.rng.getrandbits(32):08x}"
        self._next_housekeeping = 0.0

    def run(self, idle_wait: float = 1.0) -> None:
        """Deliver until stopped; an unexpected error is logged and the loop goes on."""
        log.info("delivery worker started", extra={"worker": self.owner, "account": self.account})
        while not self.stop.is_set():
            try:
                self.housekeeping()
                if self.deliver_next() is None:
                    self.stop.wait(idle_wait)
            except StoreUnavailable:
                # Paused, not crashed: the lease runs out and we (or another host) go on.
                log.warning("outbox unavailable, delivery paused", extra={"reason": "store_down"})
                self.stop.wait(STORE_DOWN_WAIT)
            except Exception:
                log.exception("delivery loop error", extra={"reason": "worker_crash"})
                self.stop.wait(idle_wait)

    def deliver_next(self) -> str | None:
        """Deliver one due application; None when nothing is due (or while paused)."""
        if self._paused_until is not None and self.clock() < self._paused_until:
            return None
        job = self.outbox.claim(
            self.owner, self.outbox.lease_seconds, account=self.account, first=self.first
        )
        if job is None:
            if self._paused_until is not None:
                # Nothing left to probe with: another process's probe got through and
                # delivered the backlog. Not paused any more (/readyz); a later 401 pauses anew.
                self._resume()
            return None
        with Heartbeat(self.outbox, job.id, self.owner):
            outcome = self._deliver(job)
        if self._paused_until is not None and outcome in _ACCEPTED:
            self._resume()
        log.info(
            "delivery attempt",
            extra={
                "application": job.id,
                "outcome": outcome,
                "attempt": job.attempts,
                "account": self.account,
            },
        )
        self.on_outcome(outcome)
        return outcome

    def _keep_lease(self, job: Claim) -> None:
        if not self.outbox.extend_lease(job.id, self.owner, self.outbox.lease_seconds):
            raise _LeaseLost()  # another worker has it now: stop touching it

    def _pace(self, job: Claim) -> None:
        """Wait for a slot under the deployment-wide rate limit (shared through the database),
        then return at once: the request must follow its slot as closely as it can, since
        Personio counts arrivals and a late one crowds the next window. So the lease is
        made sure of before (by the caller, and here after every wait), not after."""
        while True:
            wait = self.budget.hit(self.rate_key)
            if wait <= 0:
                return
            if self.stop.wait(min(wait, 5.0)):
                raise _Stopped()
            self._keep_lease(job)

    def _deliver(self, job: Claim) -> str:
        uuids = {d.id: d.uuid for d in job.documents if d.uuid}
        try:
            for document in job.documents:
                if document.id in uuids:
                    continue  # uploaded on an earlier attempt: never twice
                self._keep_lease(job)
                with self.outbox.open_document(document) as stream:
                    self._pace(job)
                    uploaded = self.client.upload_document(
                        stream, personio_filename(document.filename)
                    )
                self.outbox.record_upload(document.id, uploaded.uuid)
                uuids[document.id] = uploaded.uuid
            body = personio_body(job, uuids, datetime.now(UTC).date())
            self._keep_lease(job)
            self._pace(job)
            self.outbox.note_create_attempt(job.id)
            self.client.create_application(body)
        except _Stopped:
            self.outbox.retry_later(job.id, self.clock(), "worker_stopped")
            return "interrupted"
        except _LeaseLost:
            log.warning("lease lost", extra={"application": job.id, "reason": "lease_lost"})
            return "lease_lost"
        except DuplicateApplicant:
            if job.create_attempts > 0:
                # An earlier create's answer was lost; Personio has it (docs/personio.md §3).
                return self._delivered(job, "delivered_duplicate")
            # The candidate had applied before (through us or elsewhere): Personio has an
            # application from them for this position, so there is nothing to deliver.
            return self._delivered(job, "already_applied", Status.ALREADY_APPLIED)
        except CredentialsRejected as exc:
            return self._paused(job, exc)
        except PermanentError as exc:
            if ErrorCode.CHANNEL_NOT_FOUND in exc.reasons and job.application.channel_id:
                # A wrong channel id must not cost the candidate the application.
                self.outbox.drop_channel(job.id)
                self.outbox.retry_later(job.id, self.clock(), exc.reason, exc.operator_detail)
                return "retry"
            if ErrorCode.FILE_NOT_EXISTS in exc.reasons and uuids:
                # Uploaded long ago and gone at Personio: upload again, once per backoff.
                self.outbox.forget_uploads(job.id)
                return self._later(job, exc, None)
            return self._park(job, exc.reason, exc.operator_detail)
        except TransientError as exc:
            wait = exc.retry_after
            if exc.status == 429:
                wait = wait or RATE_LIMITED_WAIT
            return self._later(job, exc, wait)
        except FileNotFoundError:
            return self._park(job, "document_missing", "a spooled document is missing on disk")
        return self._delivered(job, "delivered")

    def _park(self, job: Claim, reason: str, detail: str) -> str:
        self.outbox.park(job.id, reason, detail)
        try:
            self.on_parked(job.id)
        except Exception:  # the alert is the monitor's to send then: parking stands
            log.exception("parked hook failed", extra={"application": job.id})
        return "parked"

    def _resume(self) -> None:
        log.info("delivery resumed", extra={"reason": "resumed"})
        self._paused_until, self._pause, self.health.problem = None, 0.0, None

    def _paused(self, job: Claim, exc: CredentialsRejected) -> str:
        """Nothing is wrong with the application: it goes back to the queue, due now (a
        deliverer of another process that claims it learns to pause too), and this one waits
        before it tries the next, longer each time the credentials are still refused."""
        now = self.clock()
        # Personio's codes, never its free text (as for a parked application): the status
        # and reason codes say all an operator needs.
        detail = f"{exc.reason} (HTTP {exc.status})" + (
            f": {exc.operator_detail}" if exc.operator_detail else ""
        )
        self.outbox.retry_later(job.id, now, CREDENTIALS_REJECTED, detail)
        first = self._paused_until is None
        self._pause = CREDENTIALS_PAUSE if first else min(self._pause * 2, CREDENTIALS_PAUSE_MAX)
        self._paused_until = now + self._pause
        self.health.problem = CREDENTIALS_PROBLEM
        if first:
            log.warning("delivery paused", extra={"reason": CREDENTIALS_REJECTED})
            try:
                self.on_paused(detail)
            except Exception:  # the pause stands; the log line above says why
                log.exception("paused hook failed", extra={"reason": CREDENTIALS_REJECTED})
        return "paused"

    def _later(self, job: Claim, exc: RecruitingError, retry_after: float | None) -> str:
        at = self.clock() + backoff(job.attempts, retry_after, self.rng)
        self.outbox.retry_later(job.id, at, exc.reason, exc.operator_detail)
        return "retry"

    def _delivered(self, job: Claim, outcome: str, status: Status = Status.DELIVERED) -> str:
        self.outbox.mark_delivered(job.id, status)  # its documents go with it
        return outcome

    def housekeeping(self) -> None:
        """Every ten minutes: purge old receipts and parked data, sweep orphaned files."""
        now = self.clock()
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + 600
        purge(self.outbox, now - PARKED_RETENTION, now - RECEIPT_RETENTION)


def purge(outbox: Outbox, parked_before: float, receipts_before: float) -> tuple[int, int]:
    """Delete old parked applications and receipts with their documents, then orphaned
    spool files. Returns (documents deleted, orphaned files removed)."""
    return outbox.purge(parked_before, receipts_before), outbox.sweep()


class Heartbeat:
    """Keeps a claimed application's lease alive while a long request runs (a 20 MB upload
    to Personio), so the lease itself can be short and a dead host's work is taken over
    soon after it died."""

    def __init__(self, outbox: Outbox, app_id: int, owner: str) -> None:
        self.outbox, self.app_id, self.owner = outbox, app_id, owner
        self.interval = outbox.lease_seconds / 3
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="careers-lease", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self.interval):
            try:
                if not self.outbox.extend_lease(self.app_id, self.owner, self.outbox.lease_seconds):
                    return  # lost: the next _pace notices and stops
            except Exception:  # a database hiccup: keep beating, the lease is still ours
                log.warning("lease heartbeat failed", extra={"application": self.app_id})


class _LeaseLost(Exception):
    """Our lease ran out and another worker claimed the application."""


class _Stopped(Exception):
    """The worker is shutting down while waiting for a rate-limit slot."""
