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
import csv
import io
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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
_CHANNEL_JUNK = re.compile(r"[^a-z0-9 ._:/@+-]+")


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
    CHANNEL_CHARS; "" for a visit that carries neither (direct)."""
    value = (attribution.get("_pc") or attribution.get("utm_source") or "").strip().lower()
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
        _FLUSHER.add(self)

    def stop(self) -> None:
        """Write what is left and leave the flusher (shutdown)."""
        _FLUSHER.remove(self)
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


_FLUSHER = _Flusher()


# -- the report ---------------------------------------------------------------------------


def rate(part: int, whole: int) -> float | None:
    """part / whole, None when there is no whole."""
    return part / whole if whole else None


@dataclass
class Line:
    """One row of the report: a job (or the list, LIST) through one channel in one language."""

    position_id: int
    channel: str
    language: str
    title: str = ""
    steps: dict[Step, int] = field(default_factory=lambda: dict.fromkeys(Step, 0))

    def __getitem__(self, step: Step) -> int:
        return self.steps[step]

    @property
    def form_rate(self) -> float | None:
        """Job page views that opened the form."""
        return rate(self[Step.FORM_OPENED], self[Step.JOB_VIEW])

    @property
    def submit_rate(self) -> float | None:
        """Forms opened that were sent."""
        return rate(self[Step.SUBMITTED], self[Step.FORM_OPENED])

    @property
    def view_rate(self) -> float | None:
        """Job page views that ended in an application."""
        return rate(self[Step.SUBMITTED], self[Step.JOB_VIEW])

    @property
    def delivered_rate(self) -> float | None:
        """Applications that reached Personio."""
        return rate(self[Step.DELIVERED], self[Step.SUBMITTED])


def lines(
    counts: Iterable[Count], title: Callable[[int, str], str | None] = lambda i, lang: None
) -> list[Line]:
    """The report's rows, jobs by id with the list last, each with its title."""
    found: dict[tuple[int, str, str], Line] = {}
    for count in counts:
        key = (count.position_id, count.channel, count.language)
        line = found.get(key)
        if line is None:
            line = found[key] = Line(*key)
            if count.position_id != LIST:
                line.title = title(count.position_id, count.language) or ""
        line.steps[count.step] += count.n
    return sorted(
        found.values(), key=lambda x: (x.position_id == LIST, x.position_id, x.channel, x.language)
    )


def total(rows: Iterable[Line]) -> Line:
    """Every row added up."""
    whole = Line(-1, "", "")
    for row in rows:
        for step, n in row.steps.items():
            whole.steps[step] += n
    return whole


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def channel_label(channel: str) -> str:
    return channel or "(direct)"


_TEXT_COLUMNS = (
    ("list views", Step.LIST_VIEW),
    ("job views", Step.JOB_VIEW),
    ("forms", Step.FORM_OPENED),
    ("submitted", Step.SUBMITTED),
    ("delivered", Step.DELIVERED),
)


def text_table(rows: list[Line]) -> str:
    """The report for a terminal: one line per job, channel and language, then the total."""
    head = ["job", "channel", "lang", *(name for name, _ in _TEXT_COLUMNS)]
    head += ["view>form", "form>sent", "view>sent", "delivered%"]
    body = []
    for row in [*rows, total(rows)]:
        if row.position_id == -1:
            job = "total"
        elif row.position_id == LIST:
            job = "(job list)"
        else:
            job = f"{row.position_id} {row.title}".strip()[:48]
        cells = [job, channel_label(row.channel) if row.position_id != -1 else "", row.language]
        cells += [str(row[step]) for _, step in _TEXT_COLUMNS]
        if row.position_id == LIST:
            cells += ["-"] * 4
        else:
            cells += [
                percent(row.form_rate),
                percent(row.submit_rate),
                percent(row.view_rate),
                percent(row.delivered_rate),
            ]
        body.append(cells)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def show(cells: list[str]) -> str:
        left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3], strict=True)]
        right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:], strict=True)]
        return "  ".join(left + right).rstrip()

    return "\n".join([show(head), *(show(cells) for cells in body)]) + "\n"


CSV_COLUMNS = (
    "position_id",
    "title",
    "channel",
    "language",
    *(str(step) for step in Step),
    "form_rate",
    "submit_rate",
    "view_to_submit_rate",
    "delivered_rate",
)


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (a `_pc` is anyone's to write)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(rows: list[Line]) -> str:
    """The report as CSV: one row per job (position_id 0 is the list), channel and
    language; rates as fractions with four decimals, empty when undefined. A title or
    channel that a spreadsheet would read as a formula starts with a `'`."""

    def fraction(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.position_id,
                _cell(row.title),
                _cell(row.channel),
                row.language,
                *(row[step] for step in Step),
                fraction(row.form_rate),
                fraction(row.submit_rate),
                fraction(row.view_rate),
                fraction(row.delivered_rate),
            ]
        )
    return out.getvalue()


def previous_week(moment: float) -> tuple[str, date, date]:
    """The ISO week before the one `moment` (UTC) is in: its name (2026-W49), Monday and
    Sunday."""
    today = datetime.fromtimestamp(moment, UTC).date()
    monday = today - timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}", monday, monday + timedelta(days=6)
