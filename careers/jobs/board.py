"""One board over several Personio accounts (CAREERS_ACCOUNTS_FILE, docs/accounts.md).

Each account keeps a `Catalogue` of its own: its own feed client, copies on disk (and in
PostgreSQL), TTL and fetch status, so one account's broken or slow feed never touches
another's board. `Board` is a Catalogue to everything that reads jobs: a language's
snapshot is every account's snapshot of it merged (in the file's order), and each position
remembers its account (`Snapshot.accounts`, `account_of`), which an application carries to
the outbox so it is delivered to that account.

Personio numbers positions across all of its accounts, so ids do not collide and a job's URL
stays `/<lang>/jobs/<id>-<slug>`. Two feeds that still publish one id (hand-made feeds,
proxies) keep the first account's position; the other is left off and logged.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..personio.model import Position
from .catalogue import COLD_START_WAIT, Catalogue, FetchStatus, Snapshot
from .similar import Memory

log = logging.getLogger(__name__)

# How long a cold start waits on one account's first fetch before looking at the next.
POLL = 0.05
# Outcomes of Catalogue.refresh that are not a failure.
_FINE = frozenset({"ok", "not_modified", "from_disk"})


@dataclass(frozen=True)
class Part:
    """One account's catalogue on the board."""

    key: str
    name: str
    catalogue: Catalogue


class Board(Catalogue):
    """Every account's open positions as one catalogue."""

    def __init__(
        self,
        parts: list[Part],
        languages: tuple[str, ...],
        *,
        clock: Callable[[], float] = time.time,
        unlisted: frozenset[int] = frozenset(),
    ) -> None:
        # Deliberately not Catalogue.__init__: a Board holds no feed of its own.
        self.parts = parts
        self.languages = languages
        self.clock = clock
        self.unlisted = unlisted
        first = parts[0].catalogue
        self.client, self.store, self.ttl = first.client, first.store, first.ttl
        self._merge_lock = threading.Lock()
        self._merged: dict[str, tuple[tuple[str, ...], Snapshot]] = {}
        self._collisions: set[tuple[str, int]] = set()
        self._related = Memory()

    # -- what the accounts are ---------------------------------------------------------------

    def per_account(self) -> list[tuple[str, Catalogue]]:
        return [(part.key, part.catalogue) for part in self.parts]

    def _having(self, language: str) -> list[Part]:
        return [part for part in self.parts if language in part.catalogue.languages]

    def account_of(self, position_id: int) -> str:
        for part in self.parts:
            for language in part.catalogue.languages:
                view = part.catalogue.snapshot(language, wait=0)
                if view is not None and position_id in view.by_id:
                    return part.key
        for part in self.parts:
            if any(part.catalogue.seen_title(position_id, lang) for lang in self.languages):
                return part.key
        return self.parts[0].key

    # -- reading ----------------------------------------------------------------------------

    def snapshot(self, language: str, *, wait: float = COLD_START_WAIT) -> Snapshot | None:
        parts = self._having(language)
        views = [part.catalogue.snapshot(language, wait=0) for part in parts]
        deadline = time.monotonic() + wait
        # Cold start, no account has a board yet: wait (bounded) until the first has one,
        # while any fetch is still running. Never for one account while another's board can
        # be shown: a slow or hanging feed must not hold up the other accounts' jobs.
        while (
            all(view is None for view in views)
            and any(part.catalogue.fetching() for part in parts)
            and time.monotonic() < deadline
        ):
            views = [part.catalogue.snapshot(language, wait=POLL) for part in parts]
        found = [(part, view) for part, view in zip(parts, views, strict=True) if view]
        if not found:
            return None
        versions = tuple(f"{part.key}:{view.version}" for part, view in found)
        cached = self._merged.get(language)
        if cached is not None and cached[0] == versions:
            return cached[1]
        merged = self._merge(language, found, versions)
        with self._merge_lock:
            self._merged[language] = (versions, merged)
        return merged

    def _merge(
        self, language: str, found: list[tuple[Part, Snapshot]], versions: tuple[str, ...]
    ) -> Snapshot:
        positions: list[Position] = []
        by_id: dict[int, Position] = {}
        accounts: dict[int, str] = {}
        text_language: dict[int, str] = {}
        haystack: dict[int, str] = {}
        seen: dict[int, dict[str, str]] = {}
        for part, view in found:
            for position_id, position in view.by_id.items():
                if position_id in accounts:
                    self._collided(part.key, position_id, accounts[position_id])
                    continue
                accounts[position_id] = part.key
                by_id[position_id] = replace(position, account=part.key)
            positions.extend(by_id[p.id] for p in view.positions if accounts[p.id] == part.key)
            mine = {pid for pid, key in accounts.items() if key == part.key}
            text_language |= {k: v for k, v in view.text_language.items() if k in mine}
            haystack |= {k: v for k, v in view.haystack.items() if k in mine}
            seen = {**part.catalogue.seen_positions(), **seen}
        # Similar jobs across every account: a candidate looking at one company's job is
        # shown the group's closest ones, whichever account publishes them.
        listed = [p for p in positions if p.id not in self.unlisted]
        previous = self._merged.get(language)
        self._related.note_gone(language, previous[1].positions if previous else (), listed)
        similar, similar_closed = self._related.lists(
            language, listed, {k: v for k, v in seen.items() if k not in self.unlisted}
        )
        version = hashlib.sha256("|".join(versions).encode()).hexdigest()[:20]
        return Snapshot(
            language=language,
            positions=tuple(positions),
            by_id=by_id,
            text_language=text_language,
            haystack=haystack,
            version=version,
            similar=similar,
            similar_closed=similar_closed,
            accounts=accounts,
        )

    def _collided(self, key: str, position_id: int, kept: str) -> None:
        if (key, position_id) in self._collisions:
            return
        self._collisions.add((key, position_id))
        log.warning(
            "position id published by two accounts; the first account's is shown",
            extra={"account": key, "position": position_id, "kept": kept},
        )

    def boards(self) -> list[tuple[Position, ...]]:
        views = (self.snapshot(lang, wait=0) for lang in self.languages)
        return [view.positions for view in views if view is not None]

    def find(self, language: str, position_id: int) -> tuple[Position, str] | None:
        for part in self.parts:
            found = part.catalogue.find(language, position_id)
            if found is not None:
                return replace(found[0], account=part.key), found[1]
        return None

    def seen_title(self, position_id: int, language: str) -> str | None:
        for part in self.parts:
            title = part.catalogue.seen_title(position_id, language)
            if title is not None:
                return title
        return None

    def seen_positions(self) -> dict[int, dict[str, str]]:
        seen: dict[int, dict[str, str]] = {}
        for part in reversed(self.parts):  # the first account's wins, as on the board
            seen |= part.catalogue.seen_positions()
        return seen

    def status(self, language: str) -> FetchStatus:
        """The account worst off in this language (per account: `per_account`)."""
        statuses = [part.catalogue.status(language) for part in self._having(language)]
        return max(statuses, key=lambda s: s.consecutive_failures, default=FetchStatus())

    def confirmed_at(self, language: str) -> float | None:
        """The oldest confirmation among the accounts with a copy in this language."""
        times = [part.catalogue.confirmed_at(language) for part in self._having(language)]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    def age(self, language: str) -> float | None:
        """The oldest copy's age: the board is as fresh as its stalest account."""
        ages = [part.catalogue.age(language) for part in self._having(language)]
        known = [a for a in ages if a is not None]
        return max(known) if known else None

    # -- refreshing -------------------------------------------------------------------------

    def refresh_in_background(self, language: str) -> threading.Event | None:
        events = [part.catalogue.refresh_in_background(language) for part in self._having(language)]
        return next((event for event in events if event is not None), None)

    def refresh(self, language: str) -> str:
        """Every account's refresh; the first failure's outcome, else the first's."""
        outcomes = [part.catalogue.refresh(language) for part in self._having(language)]
        failed = [outcome for outcome in outcomes if outcome not in _FINE]
        return (failed or outcomes or ["ok"])[0]

    def fetching(self) -> bool:
        return any(part.catalogue.fetching() for part in self.parts)

    def wait_idle(self, timeout: float = 5.0) -> None:
        for part in self.parts:
            part.catalogue.wait_idle(timeout)

    def close(self) -> None:
        for part in self.parts:
            part.catalogue.client.close()
