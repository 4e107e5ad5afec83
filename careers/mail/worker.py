"""The mail worker: sends the queue, runs the job-alert digest, watches for trouble.

It runs beside the delivery worker (in `careers serve`, `careers worker` and `careers demo`)
and on every host; the store's leases and turns (`MailStore.take_turn`) make each mail go out
once and each periodic run happen once per interval across all of them (docs/mail.md).

- Sending: claim a due mail, render it now (a queued mail holds references, not text), send
  it. A mail server that is down or answers 4xx is tried again with backoff for three days;
  a refused recipient (5xx) is given up at once.
- Digests: every CAREERS_ALERT_INTERVAL seconds, note the positions first seen in the feed
  and queue, per confirmed subscription, one mail with the matching jobs first seen since its
  last digest.
- The weekly funnel: with CAREERS_REPORT_EMAIL, once per ISO week (its name is the mail's
  dedupe key, so one host queues it), last week's counts per job and channel.
- Monitors: every half minute, queue an operator alert (mail and/or webhook, each at most
  once per subject) for every parked application, a feed that has failed for longer than
  CAREERS_ALERT_FEED_AFTER, and a pending delivery older than CAREERS_ALERT_BACKLOG_AFTER.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx

from ..applications.rules import Status
from ..applications.store import Outbox, Summary
from ..config import Settings
from ..jobs import funnel_report, pay, search
from ..jobs.catalogue import Catalogue
from ..jobs.funnel import LIST, FunnelStore, Step
from ..jobs.pay import PayRule
from ..personio.diagnosis import Condition, Diagnosis
from ..personio.model import Position
from ..store_errors import StoreUnavailable
from . import alert_links
from .alerts import AlertKind, mail_key, webhook_key
from .compose import (
    SIGNATURE_HEADER,
    UNCONFIRMED_HOURS,
    Composer,
    webhook_body,
    webhook_signature,
)
from .smtp import MailPermanent, MailTransient, SmtpTransport
from .store import MailKind, MailStore, QueuedMail, Subscription

log = logging.getLogger(__name__)

TURN_POLL = 10.0  # seconds between two asks for the same shared turn
MONITOR_EVERY = 30.0  # seconds: a parked application reaches the operators within a minute
HOUSEKEEPING_EVERY = 600.0
REPORT_EVERY = 3600.0  # how often some worker looks whether last week's report is queued
REPORT_ROWS = 300  # jobs x channels a weekly mail shows at most (the biggest first)
UNCONFIRMED_LIFETIME = UNCONFIRMED_HOURS * 3600.0  # the confirmation mail says so
KEEP_DONE = 31 * 24 * 3600.0  # dedupe keys outlive the 30 days a parked application is kept
GIVE_UP_AFTER = 3 * 24 * 3600.0  # a mail the server never took: failed after three days
BACKOFF_BASE, BACKOFF_MAX = 30.0, 3600.0
ALERTS_PER_HOUR = 20  # beyond this, alerts wait for the next hour (deferred, not dropped)
WEBHOOK_TIMEOUT = 10.0
STORE_DOWN_WAIT = 5.0

# Personio's error details are free text; an alert must not carry what a candidate typed.
_ADDRESS = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")
_DIGITS = re.compile(r"\+?\d[\d\s()/.-]{5,}\d")


def scrub(text: str) -> str:
    """An error detail without anything that looks like an address or a phone number."""
    return _DIGITS.sub("[number]", _ADDRESS.sub("[address]", text))[:300]


def mail_backoff(attempt: int, rng: random.Random) -> float:
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


class MailWorker:
    """One loop: housekeeping, monitors, digests, then the next mail of the queue."""

    def __init__(
        self,
        settings: Settings,
        mail: MailStore,
        outbox: Outbox,
        catalogue: Catalogue,
        *,
        funnel: FunnelStore | None = None,
        transport: SmtpTransport | None = None,
        composer: Composer | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        stop: threading.Event | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings, self.mail, self.outbox, self.catalogue = settings, mail, outbox, catalogue
        self.funnel = funnel
        self.transport = transport or (
            SmtpTransport(settings.smtp_url) if settings.mail_enabled else None
        )
        self.composer = composer or Composer(settings)
        self.http = http or httpx.Client(timeout=WEBHOOK_TIMEOUT, follow_redirects=False)
        self.clock = clock
        self.stop = stop or threading.Event()
        self.on_outcome = on_outcome or (lambda kind, outcome: None)
        self.rng = rng or random.Random()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{self.rng.getrandbits(32):08x}"
        self._next_ask: dict[str, float] = {}

    # -- the loop --------------------------------------------------------------------------

    def run(self, idle_wait: float = 1.0) -> None:
        """Work until stopped; an unexpected error is logged and the loop goes on."""
        log.info("mail worker started", extra={"worker": self.owner})
        try:
            while not self.stop.is_set():
                try:
                    if self.step() is None:
                        self.stop.wait(idle_wait)
                except StoreUnavailable:
                    log.warning("store unavailable, mail paused", extra={"reason": "store_down"})
                    self.stop.wait(STORE_DOWN_WAIT)
                except Exception:
                    log.exception("mail loop error", extra={"reason": "worker_crash"})
                    self.stop.wait(idle_wait)
        finally:
            self.http.close()

    def step(self) -> str | None:
        """One round: the periodic runs whose turn it is, then one due mail; that mail's
        outcome, or None when none was due."""
        if self._turn("mail-housekeeping", HOUSEKEEPING_EVERY):
            self.housekeeping()
        if self.settings.alerts_enabled and self._turn("monitors", MONITOR_EVERY):
            self.monitor()
        if self.settings.mail_enabled and self._turn("digest", self.settings.alert_interval):
            self.digest_run()
        if self._reports and self._turn("funnel-report", REPORT_EVERY):
            self.weekly_report()
        return self.send_next()

    @property
    def _reports(self) -> bool:
        return bool(self.settings.mail_enabled and self.settings.report_emails and self.funnel)

    def _turn(self, name: str, interval: float) -> bool:
        """The shared turn, asked for at most every TURN_POLL seconds by this worker: each
        ask is a write to the store, and the loop comes round every second."""
        now = self.clock()
        if now < self._next_ask.get(name, 0.0):
            return False
        self._next_ask[name] = now + min(interval, TURN_POLL)
        return self.mail.take_turn(name, interval)

    def housekeeping(self) -> None:
        now = self.clock()
        expired = self.mail.expire_unconfirmed(now - UNCONFIRMED_LIFETIME)
        purged = self.mail.purge_mail(now - KEEP_DONE)
        if expired or purged:
            log.info("mail housekeeping", extra={"expired": expired, "purged": purged})

    # -- sending ---------------------------------------------------------------------------

    def send_next(self) -> str | None:
        """Send one due mail; its outcome (sent, retry, failed), or None when none is due."""
        item = self.mail.claim_mail(self.owner)
        if item is None:
            return None
        try:
            self._dispatch(item)
        except (MailTransient, httpx.TransportError, _Retry) as exc:
            outcome = self._later(item, _one_line(exc))
        except (MailPermanent, _GiveUp) as exc:
            self.mail.mail_failed(item.id, _one_line(exc))
            outcome = "failed"
        else:
            self.mail.mail_sent(item.id)
            outcome = "sent"
        log.info(
            "mail attempt",
            extra={
                "mail": item.id,
                "kind": item.kind,
                "outcome": outcome,
                "attempt": item.attempts,
            },
        )
        self.on_outcome(item.kind, outcome)
        return outcome

    def _later(self, item: QueuedMail, error: str) -> str:
        if self.clock() - item.created_at > GIVE_UP_AFTER:
            self.mail.mail_failed(item.id, f"gave up after three days: {error}")
            return "failed"
        self.mail.mail_retry(item.id, self.clock() + mail_backoff(item.attempts, self.rng), error)
        return "retry"

    def _dispatch(self, item: QueuedMail) -> None:
        if item.kind is MailKind.WEBHOOK:
            self._post_webhook(item)
            return
        if self.transport is None:
            raise _GiveUp("mail is not configured (CAREERS_SMTP_URL)")
        if item.kind is MailKind.REPORT:
            if not self.settings.report_emails:
                raise _GiveUp("no CAREERS_REPORT_EMAIL")
            self._send(self.composer.report(item.params), self.settings.report_emails)
            return
        if item.kind is MailKind.ALERT:
            if not self.settings.alert_emails:
                raise _GiveUp("no CAREERS_ALERT_EMAIL")
            message = self.composer.alert(AlertKind(item.params["alert"]), item.params)
            self._send(message, self.settings.alert_emails)
            return
        subscription = self._subscription(item)
        token = alert_links.subscription_token(
            self.settings.secret_key, subscription.id, subscription.salt
        )
        assert subscription.address is not None
        if item.kind is MailKind.CONFIRM:
            message = self.composer.confirmation(subscription, token)
        else:
            if subscription.confirmed_at is None:
                raise _GiveUp("subscription is not confirmed")
            positions = self._still_open(subscription.language, item.params["positions"])
            if not positions:
                return  # every job of this digest closed before it went out: nothing to say
            message = self.composer.digest(subscription, token, positions)
        self._send(message, (subscription.address,))

    def _subscription(self, item: QueuedMail) -> Subscription:
        found = self.mail.subscription(item.subscription_id or 0)
        if found is None or found.address is None:
            raise _GiveUp("the subscription is gone")
        return found

    def _send(self, message: EmailMessage, to: Sequence[str]) -> None:
        assert self.transport is not None
        self.transport.send(message, to, self.settings.mail_from)

    def _still_open(self, language: str, ids: Sequence[int]) -> list[Position]:
        snapshot = self.catalogue.snapshot(language)
        if snapshot is None:
            raise _Retry("no feed copy to render the digest from yet")
        return [snapshot.by_id[i] for i in ids if i in snapshot.by_id]

    def _post_webhook(self, item: QueuedMail) -> None:
        url = self.settings.alert_webhook_url
        if not url:
            raise _GiveUp("no CAREERS_ALERT_WEBHOOK_URL")
        body = webhook_body(AlertKind(item.params["alert"]), item.params, self._site())
        stamp = int(self.clock())
        response = self.http.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: webhook_signature(self.settings.secret_key, stamp, body),
                "User-Agent": "careers-alerts",
            },
        )
        if response.is_success:
            return
        status = response.status_code
        if status in (408, 425, 429) or status >= 500:
            raise _Retry(f"webhook answered {status}")
        raise _GiveUp(f"webhook answered {status}")

    def _site(self) -> str:
        return self.settings.public_url or self.settings.company_name

    # -- job-alert digests -----------------------------------------------------------------

    def _refresh_stale(self) -> None:
        """Bring the feed up to date first, off any request path: a process that serves no
        pages (`careers worker`) has nobody else to refresh it. A language tried within
        the TTL is left alone, so a failing feed is not asked more often than pages ask."""
        ttl = self.settings.feed_ttl
        now = self.catalogue.clock()
        for language in self.settings.languages:
            age = self.catalogue.age(language)
            tried = now - self.catalogue.status(language).last_attempt
            if (age is None or age >= ttl) and tried >= ttl:
                self.catalogue.refresh(language)

    def digest_run(self) -> int:
        """Queue one digest per confirmed subscription with new matching jobs; how many."""
        self._refresh_stale()
        snapshots = {}
        for language in self.settings.languages:
            snapshot = self.catalogue.snapshot(language)
            if snapshot is not None:
                snapshots[language] = snapshot
        if not snapshots:
            return 0  # no feed copy yet: the next turn looks again
        self.mail.note_positions({p.id for s in snapshots.values() for p in s.positions})
        first_seen = self.mail.first_seen()
        mark = self.clock()
        queued = 0
        for subscription in self.mail.confirmed():
            snapshot = snapshots.get(subscription.language)
            if snapshot is None:
                continue
            found = search.run(
                snapshot.positions,
                snapshot.haystack,
                filters=subscription.filters.facets,
                q=subscription.filters.q,
                min_salary=subscription.filters.min_salary,
            )
            new = [
                p.id
                for p in found.positions
                if first_seen.get(p.id, mark) > subscription.digest_mark
            ]
            if new:
                # Keyed by content: a run repeated after a crash before the mark moved
                # queues nothing twice.
                digest = hashlib.sha256(",".join(map(str, sorted(new))).encode()).hexdigest()
                if self.mail.enqueue(
                    MailKind.DIGEST,
                    language=subscription.language,
                    params={"positions": new},
                    subscription_id=subscription.id,
                    dedupe_key=f"digest:{subscription.id}:{subscription.salt}:{digest[:32]}",
                ):
                    queued += 1
            self.mail.set_digest_mark(subscription.id, mark)
        if queued:
            log.info("job-alert digests queued", extra={"count": queued})
        return queued

    # -- the weekly funnel -----------------------------------------------------------------

    def weekly_report(self) -> bool:
        """Queue last week's funnel for CAREERS_REPORT_EMAIL unless it is queued already
        (by any host: the week is the dedupe key) or nothing was counted; whether queued."""
        assert self.funnel is not None
        week, monday, sunday = funnel_report.previous_week(self.clock())
        key = f"report:{week}"
        if self.mail.known_keys([key]):
            return False
        counts = self.funnel.totals(monday, sunday)
        if not counts:
            return False  # a week without a single visit: nothing to tell
        merged: dict[tuple[int, str], funnel_report.Line] = {}
        for line in funnel_report.lines(counts, self.catalogue.seen_title):
            slot = merged.setdefault(
                (line.position_id, line.channel),
                funnel_report.Line(line.position_id, line.channel, "", line.title),
            )
            slot.title = slot.title or line.title
            for step, n in line.steps.items():
                slot.steps[step] += n
        ranked = sorted(merged.values(), key=lambda x: -sum(x.steps.values()))[:REPORT_ROWS]
        rows = [
            [row.position_id, row.title, row.channel, *(row[step] for step in Step)]
            for row in sorted(ranked, key=lambda x: (x.position_id == LIST, x.position_id))
        ]
        queued = self.mail.enqueue(
            MailKind.REPORT,
            language=self.settings.default_language,
            params={
                "week": week,
                "from": monday.isoformat(),
                "to": sunday.isoformat(),
                "rows": rows,
            },
            dedupe_key=key,
        )
        if queued:
            log.info("weekly funnel report queued", extra={"week": week})
        return queued

    # -- operator alerts -------------------------------------------------------------------

    def monitor(self) -> None:
        self._refresh_stale()
        now = self.clock()
        # Parked applications are purged after 30 days and alert keys kept as long, so no
        # application is announced twice; only those not announced yet cost a write.
        parked = self.outbox.summaries(Status.PARKED, limit=100)
        keys = {s.public_id: mail_key(AlertKind.PARKED, s.public_id) for s in parked}
        hooks = {s.public_id: webhook_key(AlertKind.PARKED, s.public_id) for s in parked}
        known = self.mail.known_keys([*keys.values(), *hooks.values()])
        for summary in parked:
            if keys[summary.public_id] in known and hooks[summary.public_id] in known:
                continue
            self._alert(AlertKind.PARKED, summary.public_id, self._parked(summary))
        self._watch_feed(now)
        self._watch_pay(now)
        oldest = self.outbox.oldest_pending()
        if oldest is not None and now - oldest.created_at > self.settings.alert_backlog_after:
            pending = self.outbox.counts().get(Status.PENDING, 0)
            self._alert(
                AlertKind.BACKLOG,
                oldest.public_id,
                {
                    "pending": pending,
                    "oldest_receipt": oldest.public_id,
                    "oldest_age": round(now - oldest.created_at),
                    "last_reason": oldest.last_reason or "",
                    "command": "careers outbox list",
                    "at": _iso(now),
                },
            )

    def parked(self, app_id: int) -> None:
        """The deliverer of this process parked an application: queue its alert now rather
        than at the next monitor run (which would find it too; the keys make it one)."""
        summary = self.outbox.get(app_id)
        if summary is not None and summary.status == Status.PARKED:
            self._alert(AlertKind.PARKED, summary.public_id, self._parked(summary))

    def credentials_rejected(self, detail: str, account: str = "") -> None:
        """A deliverer paused because Personio refused the credentials (of `account`, on a
        site of several). One alert per outage, from every process and host: its subject is
        the newest delivered application, which stays the same until a delivery gets
        through again."""
        newest = self.outbox.summaries(Status.DELIVERED, limit=1)
        last = newest[0].public_id if newest else ""
        self._alert(
            AlertKind.CREDENTIALS,
            f"{account}:{last or 'none'}" if account else last or "none",
            ({"account": account} if account else {})
            | {
                "detail": scrub(detail),
                "pending": self.outbox.counts().get(Status.PENDING, 0),
                "last_delivered": last,
                "at": _iso(self.clock()),
            },
        )

    def _parked(self, summary: Summary) -> dict[str, Any]:
        title = self.catalogue.seen_title(summary.position_id, summary.language) or ""
        return ({"account": summary.account} if summary.account else {}) | {
            "receipt": summary.public_id,
            "position_id": summary.position_id,
            "position_title": title,
            "reason": summary.last_reason or "",
            "detail": scrub(summary.last_detail or ""),
            "application_id": summary.id,  # what `careers outbox show/retry` take
            "at": _iso(summary.updated_at),
        }

    def _watch_feed(self, now: float) -> None:
        """Each Personio account's feed on its own: one alert per account whose feed fails,
        naming it when there are several."""
        for key, feed in self.catalogue.per_account():
            self._watch_account_feed(now, key, feed)

    def _watch_account_feed(self, now: float, account: str, feed: Catalogue) -> None:
        down: list[str] = []
        confirmed: list[float] = []  # when the copies of the failing languages were confirmed
        copy_missing = False
        found = None  # what the first failing language's last answer meant
        for language in (lang for lang in self.settings.languages if lang in feed.languages):
            status = feed.status(language)
            if status.consecutive_failures == 0:
                self._watch_board(language, status.diagnosis, account, feed)
                continue
            if status.diagnosis is not None and status.diagnosis.expected:
                continue  # Personio's weekly maintenance: failures are expected, no alert
            age = feed.age(language)
            at = feed.confirmed_at(language)
            if age is None or at is None:
                copy_missing = True
                down.append(language)
            elif age > self.settings.alert_feed_after:
                down.append(language)
                confirmed.append(at)
            if down and down[-1] == language and found is None:
                found = status.diagnosis
        if not down:
            return
        # One alert per outage: its subject is when the oldest copy served was confirmed,
        # which stays the same until Personio answers again.
        since = min(confirmed) if confirmed else None
        subject = f"{since:.0f}" if since is not None else "no-copy"
        self._alert(
            AlertKind.FEED_DOWN,
            f"{account}:{subject}" if account else subject,
            ({"account": account} if account else {})
            | {
                "languages": down,
                "failing_since": _iso(since) if since is not None else "",
                "copy_age": None if copy_missing or since is None else round(feed.clock() - since),
                "condition": str(found.condition) if found else "",
                "last_error": found.message if found else "",
                "at": _iso(now),
            },
        )

    def _watch_board(
        self, language: str, found: Diagnosis | None, account: str, feed: Catalogue
    ) -> None:
        """A board that answers but holds no position is told once per empty copy (its
        version), so a board that stays empty is not announced again and again."""
        if found is None or found.condition is not Condition.EMPTY:
            return
        view = feed.snapshot(language, wait=0)
        if view is None:
            return
        subject = f"{language}:{view.version}"
        self._alert(
            AlertKind.FEED_EMPTY,
            f"{account}:{subject}" if account else subject,
            ({"account": account} if account else {})
            | {"language": language, "detail": found.message, "at": _iso(self.clock())},
        )

    def _watch_pay(self, now: float) -> None:
        """Once a day (the UTC date is the alert's subject, so every host and process queues
        the same key and one mail goes out), the open jobs breaking the pay rule."""
        rule = self.settings.pay_transparency
        if rule is PayRule.OFF:
            return
        found = pay.findings(self.catalogue.boards(), rule)
        if not found:
            return
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        keys = [mail_key(AlertKind.PAY, day)] if self.settings.alert_emails else []
        keys += [webhook_key(AlertKind.PAY, day)] if self.settings.alert_webhook_url else []
        if len(self.mail.known_keys(keys)) == len(keys):
            return  # today's is queued on every channel: the store would refuse a second
        jobs = [finding.to_json() for finding in found]
        self._alert(
            AlertKind.PAY, day, {"rule": str(rule), "day": day, "jobs": jobs, "at": _iso(now)}
        )

    def _alert(self, kind: AlertKind, subject: str, params: dict[str, Any]) -> None:
        """Queue the alert by mail and by webhook, each once per subject, within the hourly
        budget (what does not fit waits for the next monitor run, it is not dropped)."""
        params = {"alert": str(kind), **params}
        now = self.clock()
        if self.settings.mail_enabled and self.settings.alert_emails:
            if self.mail.count_since(MailKind.ALERT, now - 3600) < ALERTS_PER_HOUR:
                self.mail.enqueue(
                    MailKind.ALERT,
                    language=self.settings.default_language,
                    params=params,
                    dedupe_key=mail_key(kind, subject),
                )
        if self.settings.alert_webhook_url:
            if self.mail.count_since(MailKind.WEBHOOK, now - 3600) < ALERTS_PER_HOUR:
                self.mail.enqueue(
                    MailKind.WEBHOOK,
                    language=self.settings.default_language,
                    params=params,
                    dedupe_key=webhook_key(kind, subject),
                )


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


class _Retry(Exception):
    """Not now: try this mail again later."""


class _GiveUp(Exception):
    """This mail can never go out: mark it failed."""
