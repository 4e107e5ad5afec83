"""The funnel without cookies: aggregate counters per day, job, channel and language
(docs/funnel.md).

Five steps are counted: list views, job page views, forms opened, applications submitted
(accepted into the outbox) and delivered (Personio took them). Views are counted by the
web layer as they are answered; submitted and delivered by the outbox itself, in the
transaction that stores or delivers the application, so each is counted exactly once.

Nothing here knows a person: a count is keyed by the UTC day, the job's id (0 for the job
list), the channel the visit arrived through (`_pc`, else `utm_source`, as the landing URL
carries it; docs/attribution.md) and the page's language. No cookie is set, no client
address, user agent or application id is stored.

Counting never makes a page wait for the database: a view only adds one to a number in
this process (`Tally.count`, a dict under a lock); `Tally` flushes the numbers in one
batch every few seconds and at shutdown, adding them to what is stored (`FunnelStore.add`
is additive, so any number of processes and hosts add their own shares).
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import NamedTuple, Protocol

log = logging.getLogger(__name__)

LIST = 0  # the position id the job list is counted under
FLUSH_EVERY = 5.0  # seconds between two batches written to the database
MAX_KEYS = 20_000  # distinct counters one process holds between two flushes
# New channel names one process takes per day; beyond that a visit counts under OTHER, so
# made-up `?_pc=` values cannot grow the table without bound.
CHANNELS_PER_DAY = 200
OTHER = "(other)"
CHANNEL_CHARS = 40
DAY = 86400.0

# Known crawlers, link previewers, monitors and scripted clients (matched anywhere in the
# User-Agent, case-insensitive). A request without a User-Agent counts as one too. Browsers
# name none of these words; the list errs on the side of counting a bot as not a visitor.
CRAWLER_WORDS = (
    "bot",  # Googlebot, bingbot, DuckDuckBot, YandexBot, Applebot, LinkedInBot, Twitterbot …
    "crawl",  # crawler, Crawl
    "spider",  # Baiduspider, Sogou spider
    "slurp",  # Yahoo
    "archiver",  # ia_archiver
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "telegram",
    "skypeuripreview",
    "embedly",
    "preview",  # link previews of chat and mail programs
    "monitor",  # uptime monitors
    "uptime",
    "pingdom",
    "headless",  # HeadlessChrome, headless test browsers
    "lighthouse",
    "pagespeed",
    "curl",
    "wget",
    "python",  # python-requests, python-httpx, Python-urllib
    "httpx",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "scrapy",
    "axios",
    "node-fetch",
    "feedfetcher",
)
# Matched against the lower-cased header: a case-insensitive pattern of this many words
# costs ten times as much per request.
_CRAWLER = re.compile("|".join(re.escape(word) for word in CRAWLER_WORDS))
_CHANNEL_JUNK = re.compile(r"[^a-z0-9 ._:/+-]+")


class Step(StrEnum):
    """A step of the funnel, in order."""

    LIST_VIEW = "list_view"
    JOB_VIEW = "job_view"
    FORM_OPENED = "form_opened"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"


def is_crawler(user_agent: str) -> bool:
    """Whether a request with this User-Agent is not counted as a visit."""
    return not user_agent.strip() or _CRAWLER.search(user_agent.lower()) is not None


def channel_of(attribution: Mapping[str, str]) -> str:
    """The channel a visit is counted under: `_pc`, else `utm_source`, lower case, cut to
    CHANNEL_CHARS; "" for a visit that carries neither (direct). A value with an `@` counts
    as OTHER: newsletter tools put the subscriber's address into `utm_source`, and the
    counters name channels, never people."""
    value = (attribution.get("_pc") or attribution.get("utm_source") or "").strip().lower()
    if "@" in value:
        return OTHER
    return _CHANNEL_JUNK.sub("", value)[:CHANNEL_CHARS]


def day_of(moment: float) -> str:
    """The UTC day a count belongs to, YYYY-MM-DD."""
    return datetime.fromtimestamp(moment, UTC).date().isoformat()


class Key(NamedTuple):
    """What one counter counts (a tuple: hashed in C on every view)."""

    day: str
    position_id: int
    channel: str
    language: str
    step: Step


@dataclass(frozen=True)
class Count:
    """A stored total over some days."""

    position_id: int
    channel: str
    language: str
    step: Step
    n: int


class FunnelStore(Protocol):
    """Where the counters live (careers/db/funnel.py), shared by every process and host."""

    def add(self, deltas: Mapping[Key, int]) -> None:
        """Add these deltas to the stored counters, in one transaction."""

    def totals(self, since: date, until: date) -> list[Count]:
        """Per job, channel, language and step, the sum over the days since..until
        (inclusive)."""


class Tally:
    """This process's counts since the last flush. The process's flusher thread (one for
    every tally of the process, started by the first count) writes them every FLUSH_EVERY
    seconds, and once more at exit."""

    def __init__(self, store: FunnelStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._counts: dict[Key, int] = {}
        self._lock = threading.Lock()
        self._channels: tuple[str, set[str]] = ("", set())
        self._started = False
        self._day, self._day_ends = "", 0.0

    def count(self, step: Step, position_id: int, channel: str, language: str) -> None:
        """One more; never touches the database."""
        if not self._started:
            self.start()
        now = self.clock()
        if not self._day_ends - DAY <= now < self._day_ends:
            self._day = day_of(now)
            self._day_ends = (now // DAY + 1) * DAY  # the next UTC midnight
        day = self._day
        with self._lock:
            seen_day, seen = self._channels
            if seen_day != day:
                seen = set()
                self._channels = (day, seen)
            if channel not in seen:
                if len(seen) >= CHANNELS_PER_DAY:
                    channel = OTHER
                else:
                    seen.add(channel)
            key = Key(day, position_id, channel, language, step)
            if key not in self._counts and len(self._counts) >= MAX_KEYS:
                key = Key(day, position_id, OTHER, language, step)
            self._counts[key] = self._counts.get(key, 0) + 1

    def pending(self) -> dict[Key, int]:
        """What has not been flushed yet (a copy)."""
        with self._lock:
            return dict(self._counts)

    def flush(self) -> int:
        """Write what was counted since the last flush in one batch; how many. When the
        database cannot take them, they are kept for the next flush."""
        with self._lock:
            batch, self._counts = self._counts, {}
        if not batch:
            return 0
        try:
            self.store.add(batch)
        except Exception as exc:
            with self._lock:
                for key, n in batch.items():
                    self._counts[key] = self._counts.get(key, 0) + n
            log.warning(
                "funnel counts not written, kept for the next flush",
                extra={"reason": "store_down", "error": type(exc).__name__},
            )
            return 0
        return sum(batch.values())

    def start(self) -> None:
        """Have the process's flusher write this tally from now on."""
        self._started = True
        _flusher().add(self)

    def stop(self) -> None:
        """Write what is left and leave the flusher (shutdown)."""
        _flusher().remove(self)
        self._started = False
        self.flush()

    def _forked(self) -> None:
        """In a forked child (gunicorn's workers): the parent's counts are the parent's, and
        the child's first count joins the child's flusher."""
        self._counts = {}
        self._lock = threading.Lock()
        self._started = False


class _Flusher:
    """One daemon thread per process flushing every started tally, and once more at exit."""

    def __init__(self) -> None:
        self._tallies: weakref.WeakSet[Tally] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        atexit.register(self.flush_all)
        os.register_at_fork(after_in_child=self._forked)

    def add(self, tally: Tally) -> None:
        with self._lock:
            self._tallies.add(tally)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="careers-funnel", daemon=True
                )
                self._thread.start()

    def remove(self, tally: Tally) -> None:
        with self._lock:
            self._tallies.discard(tally)

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY)
            self.flush_all()

    def flush_all(self) -> None:
        with self._lock:
            tallies = list(self._tallies)
        for tally in tallies:
            try:
                tally.flush()
            except Exception:  # never let one tally stop the others, or the thread
                log.exception("funnel flush failed", extra={"reason": "flush_error"})

    def _forked(self) -> None:
        self._lock = threading.Lock()
        self._thread = None  # threads do not survive a fork: the first count starts one
        for tally in list(self._tallies):
            tally._forked()
        self._tallies = weakref.WeakSet()


_FLUSHER: _Flusher | None = None
_FLUSHER_MADE = threading.Lock()


def _flusher() -> _Flusher:
    """The process's flusher, made by the first tally that counts: one thread however many
    apps a process builds (tests build hundreds), and a forked worker gets its own."""
    global _FLUSHER
    with _FLUSHER_MADE:
        if _FLUSHER is None:
            _FLUSHER = _Flusher()
        return _FLUSHER
