"""The open positions per language: served from memory, refreshed in the background."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ..personio.diagnosis import Diagnosis, diagnose, empty_board
from ..personio.feed import FeedClient, FeedError, FragmentCache, parse_feed
from ..personio.model import Position
from .search import search_text
from .similar import Memory
from .store import FeedStore, StoredFeed

log = logging.getLogger(__name__)

# How long a request with no copy at all may wait for the first fetch before a 503.
COLD_START_WAIT = 8.0


@dataclass(frozen=True)
class Snapshot:
    """One language's board as pages see it, with fallback texts already merged in."""

    language: str
    positions: tuple[Position, ...]  # the board: what lists, feeds, sitemap and API show
    # Every open position, also those kept off the board (Catalogue.unlisted): their pages
    # and forms work.
    by_id: dict[int, Position]
    # id -> language the description texts are in, when not `language` (docs/operations.md#how-the-feed-is-handled fallback).
    text_language: dict[int, str]
    haystack: dict[int, str]
    version: str
    # Up to three related open positions per open job, and per job that has left the feed
    # (careers/jobs/similar.py), computed with the view: a page only looks them up.
    similar: dict[int, tuple[Position, ...]] = field(default_factory=dict)
    similar_closed: dict[int, tuple[Position, ...]] = field(default_factory=dict)
    # id -> key of the Personio account it belongs to, on a board of several (jobs/board.py);
    # empty for one account's board (all its positions are the account "").
    accounts: dict[int, str] = field(default_factory=dict)


@dataclass
class FetchStatus:
    """What the last refresh of one language did, for /readyz, /metrics and logs."""

    last_attempt: float = 0.0
    consecutive_failures: int = 0
    # What the last fetch said beyond "ok": a failure's condition (an unknown account, a
    # moved feed, maintenance …) or an empty board; None when all is well.
    diagnosis: Diagnosis | None = None


@dataclass
class _Language:
    raw: StoredFeed | None = None
    fragments: FragmentCache = field(default_factory=FragmentCache)
    positions: tuple[Position, ...] = ()
    status: FetchStatus = field(default_factory=FetchStatus)
    in_flight: threading.Event | None = None


class Catalogue:
    """Last good board per language; a request never waits on Personio when any copy exists."""

    def __init__(
        self,
        client: FeedClient,
        store: FeedStore,
        languages: tuple[str, ...],
        ttl: float,
        *,
        clock: Callable[[], float] = time.time,
        on_fetch: Callable[[str, str], None] | None = None,
        unlisted: frozenset[int] = frozenset(),
    ) -> None:
        self.client = client
        self.store = store
        self.languages = languages
        self.ttl = ttl
        self.clock = clock
        self.on_fetch = on_fetch or (lambda language, outcome: None)
        # Open positions kept off the board (the open-application one, docs/referrals.md):
        # left out of every view's `positions` below, the one place that hides them.
        self.unlisted = unlisted
        self._lock = threading.Lock()
        # One write of seen.json at a time, each of the state when it starts: the last
        # write holds every language's titles (two refreshes finish together).
        self._save_lock = threading.Lock()
        self._langs = {lang: _Language() for lang in languages}
        self._views: dict[str, Snapshot] = {}
        self._generation = 0  # bumped with every installed board; the newest build wins
        # Search text per position, reused while the position is unchanged: rebuilding the
        # views after one language changes must not re-strip every other description.
        self._search_text: dict[tuple[str, int], tuple[Position, str]] = {}
        self._related = Memory()  # similar jobs, and what is known of closed positions
        self._seen: dict[int, dict[str, str]] = store.load_seen()
        for lang in languages:
            stored = store.load(lang)
            if stored is not None:
                self._accept(stored, persist=False)

    # -- reading -------------------------------------------------------------------------

    def per_account(self) -> list[tuple[str, Catalogue]]:
        """(account key, its catalogue) for each Personio account on the board: this one
        alone, as the implicit account "" (a Board has several)."""
        return [("", self)]

    def account_of(self, position_id: int) -> str:
        """The key of the account a position belongs to ("" on one account's board)."""
        return ""

    def close(self) -> None:
        """Release the feed client's connections."""
        self.client.close()

    def boards(self) -> list[tuple[Position, ...]]:
        """Every language's current board, without waiting for one that has none yet."""
        views = (self.snapshot(lang, wait=0) for lang in self.languages)
        return [view.positions for view in views if view is not None]

    def snapshot(self, language: str, *, wait: float = COLD_START_WAIT) -> Snapshot | None:
        """The current board; starts a background refresh when stale, waits only when empty."""
        view = self._views.get(language)
        # Every language is kept current together: one language's texts fill another's gaps.
        events = {
            lang: self.refresh_in_background(lang) for lang in self.languages if self._stale(lang)
        }
        if view is None and wait > 0:
            # Cold start: wait (bounded) for every language without a copy, this one and the
            # ones whose texts it may borrow, whoever started their refresh.
            deadline = time.monotonic() + wait
            for lang in self.languages:
                event = events.get(lang) or self._langs[lang].in_flight
                if self._views.get(lang) is None and event is not None:
                    event.wait(max(0.0, deadline - time.monotonic()))
            view = self._views.get(language)
        return view

    def _stale(self, language: str) -> bool:
        """Due for a refresh: neither the copy nor the last attempt is younger than the TTL."""
        state = self._langs[language]
        confirmed = state.raw.fetched_at if state.raw else 0.0
        return self.clock() - max(confirmed, state.status.last_attempt) >= self.ttl

    def fetching(self) -> bool:
        """A refresh of some language is running (a Board's cold start waits while one is)."""
        return any(state.in_flight is not None for state in self._langs.values())

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait for running background refreshes (tests and shutdown)."""
        for state in self._langs.values():
            event = state.in_flight
            if event is not None:
                event.wait(timeout)

    def find(self, language: str, position_id: int) -> tuple[Position, str] | None:
        """A position and the language of its text: this language first, then the others."""
        for lang in (language, *[x for x in self.languages if x != language]):
            view = self._views.get(lang)
            if view is not None and position_id in view.by_id:
                text_lang = view.text_language.get(position_id, lang)
                return view.by_id[position_id], text_lang
        return None

    def seen_title(self, position_id: int, language: str) -> str | None:
        """The last known title of a position that was ever published, else None."""
        titles = self._seen.get(position_id)
        if titles is None:
            return None
        return titles.get(language) or next(iter(titles.values()), "")

    def seen_positions(self) -> dict[int, dict[str, str]]:
        """Every position ever published, with its last title per language (a copy)."""
        with self._lock:
            return {k: dict(v) for k, v in self._seen.items()}

    def status(self, language: str) -> FetchStatus:
        """Fetch bookkeeping of one language."""
        return self._langs[language].status

    def confirmed_at(self, language: str) -> float | None:
        """When Personio last confirmed the copy we serve (our clock), None without a copy."""
        raw = self._langs[language].raw
        return None if raw is None else raw.fetched_at

    def age(self, language: str) -> float | None:
        """Seconds since Personio last confirmed the copy we serve, None without a copy."""
        raw = self._langs[language].raw
        return None if raw is None else max(0.0, self.clock() - raw.fetched_at)

    # -- refreshing ----------------------------------------------------------------------

    def refresh_in_background(self, language: str) -> threading.Event | None:
        """Start one refresh thread per language (single flight); return its done-event."""
        state = self._langs[language]
        with self._lock:
            if state.in_flight is not None:
                return state.in_flight
            event = state.in_flight = threading.Event()
            # Count the attempt now, so concurrent requests don't all start one.
            state.status.last_attempt = self.clock()
        thread = threading.Thread(
            target=self._refresh_thread,
            args=(language, event),
            name=f"feed-{language}",
            daemon=True,
        )
        thread.start()
        return event

    def _refresh_thread(self, language: str, event: threading.Event) -> None:
        try:
            self.refresh(language)
        except Exception:  # a refresh must never kill the worker; the old copy stays
            log.exception("feed refresh crashed", extra={"reason": "refresh_crash"})
        finally:
            with self._lock:
                self._langs[language].in_flight = None
            event.set()

    def refresh(self, language: str) -> str:
        """Fetch one language now; keep the old copy on any failure. Returns the outcome tag."""
        state = self._langs[language]
        state.status.last_attempt = self.clock()
        # Another worker process may have fetched recently: reuse its copy from disk.
        stored_at = self.store.stored_at(language)
        if stored_at is not None and self.clock() - stored_at < self.ttl:
            if state.raw is None or stored_at > state.raw.fetched_at:
                stored = self.store.load(language)
                if stored is not None and self._accept(stored, persist=False):
                    return self._record(language, "from_disk")
        raw = state.raw
        try:
            result = self.client.fetch(
                language,
                etag=raw.etag if raw else "",
                last_modified=raw.last_modified if raw else "",
            )
            now = self.clock()
            if result.not_modified and raw is not None:
                state.raw = replace(raw, fetched_at=now)
                self.store.touch(language, now)
                return self._record(language, "not_modified")
            assert result.body is not None
            version = hashlib.sha256(result.body).hexdigest()[:20]
            stored = StoredFeed(
                language, result.body, result.etag, result.last_modified, now, version
            )
            self._accept(stored, persist=True)
            return self._record(language, "ok")
        except FeedError as exc:
            return self._record(language, exc.reason, error=exc)

    def refresh_all(self) -> dict[str, str]:
        """Refresh every language in the foreground (used by `careers check` and tests)."""
        return {lang: self.refresh(lang) for lang in self.languages}

    def _record(self, language: str, outcome: str, error: FeedError | None = None) -> str:
        state = self._langs[language]
        status = state.status
        if error is not None:
            status.consecutive_failures += 1
            now = datetime.fromtimestamp(self.clock(), UTC)
            status.diagnosis = diagnose(error, self.client.feed_url, now)
            log.warning(
                "feed refresh failed; serving last good copy",
                extra={
                    "reason": outcome,
                    "language": language,
                    "condition": str(status.diagnosis.condition),
                },
            )
        else:
            status.consecutive_failures = 0
            status.diagnosis = None if state.positions else empty_board(language)
        self.on_fetch(language, outcome)
        return outcome

    def _accept(self, stored: StoredFeed, *, persist: bool) -> bool:
        """Parse and install a body; a body that does not parse changes nothing."""
        try:
            positions = tuple(parse_feed(stored.body, self._langs[stored.language].fragments))
        except FeedError as exc:
            if persist:
                raise
            log.warning("stored feed unusable", extra={"reason": exc.reason})
            return False
        if persist:
            self.store.save(stored)
        with self._lock:
            state = self._langs[stored.language]
            self._related.note_gone(stored.language, state.positions, positions)
            state.raw, state.positions = stored, positions
            changed = self._remember(stored.language, positions)
            self._generation += 1
            generation = self._generation
            boards = {lang: (s.raw, s.positions) for lang, s in self._langs.items() if s.raw}
            # A copy: other refreshes change it while this build reads it.
            seen = {k: dict(v) for k, v in self._seen.items()}
        # Build outside the lock: requests take it to start refreshes and must not wait on
        # a rebuild. Only the build from the newest boards is installed.
        views, texts = self._build_views(boards, seen)
        with self._lock:
            if generation == self._generation:
                self._views, self._search_text = views, texts
        if changed and persist:
            with self._save_lock:
                with self._lock:
                    seen = {k: dict(v) for k, v in self._seen.items()}
                self.store.save_seen(seen)
        return True

    def _remember(self, language: str, positions: tuple[Position, ...]) -> bool:
        """Note ids and titles, so a job that later leaves the feed answers 410."""
        changed = False
        for position in positions:
            if not position.name:
                continue  # never published (see _build_views): an unknown id, 404
            titles = self._seen.setdefault(position.id, {})
            if titles.get(language) != position.name:
                titles[language] = position.name
                changed = True
        return changed

    def _build_views(
        self,
        boards: dict[str, tuple[StoredFeed, tuple[Position, ...]]],
        seen: dict[int, dict[str, str]],
    ) -> tuple[dict[str, Snapshot], dict[tuple[str, int], tuple[Position, str]]]:
        """Every language's view (one language's texts can fill another's gaps), and the
        search texts of exactly the positions they hold."""
        texts: dict[tuple[str, int], tuple[Position, str]] = {}
        by_lang = {lang: {p.id: p for p in positions} for lang, (_, positions) in boards.items()}
        # Texts borrowed across languages make each view depend on every language's content.
        combined = hashlib.sha256(
            "|".join(raw.version for raw, _ in boards.values()).encode()
        ).hexdigest()[:20]
        views: dict[str, Snapshot] = {}
        for lang, (_, positions) in boards.items():
            merged, text_language = [], {}
            for position in positions:
                if not position.name.strip():
                    # No title, no job to show: an empty heading, link and <title> help no
                    # one (`careers check` names the position so it gets fixed in Personio).
                    continue
                if not position.descriptions:
                    donor = _donor(position.id, lang, self.languages, by_lang)
                    if donor is not None:
                        text_language[position.id] = donor[0]
                        position = _with_texts(position, donor[1])
                merged.append(position)
            listed = [p for p in merged if p.id not in self.unlisted]
            # The open-application job is neither suggested nor taken for a closed one.
            similar, similar_closed = self._related.lists(
                lang, listed, {k: v for k, v in seen.items() if k not in self.unlisted}
            )
            views[lang] = Snapshot(
                language=lang,
                positions=tuple(listed),
                by_id={p.id: p for p in merged},
                text_language=text_language,
                haystack={p.id: self._text_of(lang, p, texts) for p in listed},
                version=combined,
                similar=similar,
                similar_closed=similar_closed,
            )
        return views, texts

    def _text_of(
        self, language: str, position: Position, texts: dict[tuple[str, int], tuple[Position, str]]
    ) -> str:
        """search_text(position), taken from the last build while the position is the same."""
        known = self._search_text.get((language, position.id))
        if known is None or known[0] != position:
            known = (position, search_text(position))
        texts[(language, position.id)] = known
        return known[1]


def _donor(
    position_id: int, language: str, order: tuple[str, ...], by_lang: dict[str, dict[int, Position]]
) -> tuple[str, Position] | None:
    """The first other language whose copy of this position has description texts."""
    for other in order:
        if other == language:
            continue
        candidate = by_lang.get(other, {}).get(position_id)
        if candidate is not None and candidate.descriptions:
            return other, candidate
    return None


def _with_texts(position: Position, donor: Position) -> Position:
    """This language's facts with another language's texts (and title, if ours is empty)."""
    return replace(position, descriptions=donor.descriptions, name=position.name or donor.name)
