"""Similar jobs: up to three open positions related to a job, computed when the board changes.

A job page (and the 410 page of a closed job) offers candidates somewhere to go next. What
counts as related is what Personio's feed says about a job (docs/personio.md §1.3): the same
department or occupation weighs most, then a shared office, the occupation category, shared
keywords and title words. Scores come from an index of those features, so a board of a few
hundred jobs is scored in milliseconds, once per feed change (careers/jobs/catalogue.py),
and a page only looks its list up.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from ..personio.model import Position
from .search import fold

LIMIT = 3
# Positions kept in memory after they left the feed, for their 410 page's similar jobs.
GONE_KEPT = 5000
WEIGHTS = {"department": 4, "occupation": 4, "office": 2, "category": 1, "keyword": 2, "word": 1}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Title words that relate nothing: gender markers ("(m/w/d)"), fillers, seniority words
# that every ladder shares, in the feed's languages.
_NOISE = frozenset(
    "m w d f x h mwd mfd fmd gn all and und et y e de der die das the for fur of in im at"
    " a an en il la le el da do du des von zu mit with senior junior lead head werkstudent"
    " intern internship praktikum praktikant working student position job stelle".split()
)
_WORD = re.compile(r"[^\W\d_]{3,}")

Feature = tuple[str, str]


def features(position: Position) -> set[Feature]:
    """What a position can share with another, folded (case and accents ignored)."""
    found: set[Feature] = set()
    if position.department:
        found.add(("department", fold(position.department)))
    if position.occupation:
        found.add(("occupation", position.occupation))
    if position.occupation_category:
        found.add(("category", position.occupation_category))
    found.update(("office", fold(office)) for office in position.offices)
    found.update(("keyword", fold(k.strip())) for k in position.keywords if k.strip())
    found.update(("word", w) for w in _WORD.findall(fold(position.name)) if w not in _NOISE)
    return found


class Index:
    """Open positions by feature, to score any job against all of them at once."""

    def __init__(self, positions: Sequence[Position]) -> None:
        self.positions = {p.id: p for p in positions}
        self.features = {p.id: features(p) for p in positions}
        self._by_feature: dict[Feature, list[int]] = defaultdict(list)
        for position_id, found in self.features.items():
            for feature in found:
                self._by_feature[feature].append(position_id)

    def related(
        self, position_id: int, found: Iterable[Feature] | None = None
    ) -> tuple[Position, ...]:
        """Up to LIMIT open positions sharing most with this one (never itself): highest
        score first, then the newest."""
        scores: dict[int, int] = defaultdict(int)
        for feature in self.features.get(position_id, set()) if found is None else found:
            for other in self._by_feature.get(feature, ()):
                if other != position_id:
                    scores[other] += WEIGHTS[feature[0]]
        ranked = sorted(
            scores,
            key=lambda other: (
                -scores[other],
                -(self.positions[other].created_at or _EPOCH).timestamp(),
                other,
            ),
        )
        return tuple(self.positions[other] for other in ranked[:LIMIT])

    def board(self) -> dict[int, tuple[Position, ...]]:
        """Every open position's similar jobs (positions without any are left out)."""
        return {i: found for i in self.positions if (found := self.related(i))}

    def closed(self, profiles: Mapping[int, Position]) -> dict[int, tuple[Position, ...]]:
        """Similar open jobs for positions that have left the feed, from what is still
        known of them (the whole position while this process saw it, else its last title)."""
        return {
            position_id: found
            for position_id, profile in profiles.items()
            if position_id not in self.positions
            and (found := self.related(position_id, features(profile)))
        }


Lists = dict[int, tuple[Position, ...]]
# What a language's lists were computed from: its open positions and its closed ones.
Inputs = tuple[tuple[Position, ...], frozenset[tuple[int, Position]]]


class Memory:
    """What the catalogue keeps for similar jobs: positions that left the feed (as last
    published), and each language's lists with what they were computed from, so a rebuild
    that changed neither (every language's refresh rebuilds every view) scores nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gone: dict[tuple[str, int], Position] = {}
        self._lists: dict[str, tuple[Inputs, Lists, Lists]] = {}

    def note_gone(self, language: str, before: Sequence[Position], now: Sequence[Position]) -> None:
        """Keep positions that just left this language's feed (the newest GONE_KEPT)."""
        open_ids = {p.id for p in now}
        with self._lock:
            for position in before:
                if position.id not in open_ids and position.name:
                    self._gone.pop((language, position.id), None)
                    self._gone[(language, position.id)] = position
            for position_id in open_ids:
                self._gone.pop((language, position_id), None)
            while len(self._gone) > GONE_KEPT:
                del self._gone[next(iter(self._gone))]

    def lists(
        self, language: str, positions: Sequence[Position], seen: Mapping[int, Mapping[str, str]]
    ) -> tuple[Lists, Lists]:
        """Similar jobs of every open position, and of every position published once and
        closed now (`seen`: id -> title per language, careers/jobs/store.py)."""
        profiles = self._closed(language, {p.id for p in positions}, seen)
        key: Inputs = (tuple(positions), frozenset(profiles.items()))
        known = self._lists.get(language)
        if known is None or known[0] != key:
            index = Index(positions)
            known = (key, index.board(), index.closed(profiles))
            self._lists[language] = known
        return known[1], known[2]

    def _closed(
        self, language: str, open_ids: set[int], seen: Mapping[int, Mapping[str, str]]
    ) -> dict[int, Position]:
        """What is known of each closed position: the position as this process last saw
        it, else (after a restart) only its last title."""
        with self._lock:
            gone = dict(self._gone)
        profiles = {}
        for position_id, titles in seen.items():
            if position_id in open_ids:
                continue
            known = gone.get((language, position_id))
            if known is None:
                title = titles.get(language) or next(iter(titles.values()), "")
                known = Position(id=position_id, name=title)
            profiles[position_id] = known
        return profiles
