"""Filters, facet counts, text search and sorting over one language's positions (docs/routes.md)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..personio.model import Position
from ..personio.vocabulary import EmploymentType, Experience, Schedule, Seniority
from .pay import yearly

# URL parameter -> the position's values for it. OR within a facet, AND across facets.
FACETS: dict[str, Callable[[Position], tuple[str, ...]]] = {
    "office": lambda p: p.offices,
    "department": lambda p: (p.department,),
    "employment_type": lambda p: (p.employment_type,),
    "schedule": lambda p: (p.schedule,),
    "seniority": lambda p: (p.seniority,),
    "experience": lambda p: (p.years_of_experience,),
    "subcompany": lambda p: (p.subcompany,),
    "category": lambda p: (p.recruiting_category,),
    # The Personio account (its key) on a site of several; empty, so never offered, with one.
    "account": lambda p: (p.account,),
}

# Natural orders for coded facets (docs/personio.md §1.4); unknown codes go last, by name.
CODE_ORDER: dict[str, tuple[str, ...]] = {
    "employment_type": tuple(EmploymentType),
    "schedule": tuple(Schedule),
    "seniority": tuple(Seniority),
    "experience": tuple(Experience),
}

SORTS = ("newest", "title", "salary")
MAX_QUERY = 200  # characters of `q` we search for
# `min_salary`: a yearly amount (whole units of the job's own currency; amounts are never
# converted between currencies). 0 keeps the jobs that state pay in a known time unit.
MAX_SALARY = 100_000_000
_AMOUNT = re.compile(r"\d{1,9}|\d{1,3}(?:[.,' \u00a0\u202f]\d{3}){1,2}")
_TAGS = re.compile(r"<[^>]+>")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fold(text: str) -> str:
    """Case- and accent-insensitive form, so 'munchen' finds 'München'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_text(position: Position) -> str:
    """What `q` searches: title, keywords, offices and description text (docs/routes.md)."""
    parts = [position.name, " ".join(position.keywords), " ".join(position.offices)]
    for block in position.descriptions:
        parts.append(block.name)
        parts.append(_TAGS.sub(" ", block.html))
    return fold(" ".join(parts))


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(frozen=True, slots=True)
class Result:
    positions: tuple[Position, ...]
    facets: dict[str, tuple[FacetValue, ...]]
    total: int


def board_values(positions: Iterable[Position]) -> dict[str, frozenset[str]]:
    """Every facet's values on a board: what a list page offers to filter by."""
    return {
        name: frozenset(v for p in positions for v in values_of(p) if v)
        for name, values_of in FACETS.items()
    }


def on_board(
    filters: Mapping[str, tuple[str, ...]], board: Mapping[str, frozenset[str]]
) -> dict[str, tuple[str, ...]] | None:
    """The filters when every facet keeps at least one value the board has (unknown values
    dropped); None when a facet names none, which no list page offers."""
    kept = {}
    for name, values in filters.items():
        known = tuple(v for v in values if v in board.get(name, ()))
        if not known:
            return None
        kept[name] = known
    return kept


def clean_filters(args: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Keep known facets with non-empty values; unknown values simply match nothing."""
    filters = {}
    for name in FACETS:
        values = tuple(dict.fromkeys(v.strip() for v in args.get(name, ()) if v and v.strip()))
        if values:
            filters[name] = values
    return filters


@dataclass(frozen=True, slots=True)
class Query:
    """What a list URL (or the API) asks for, cleaned: the same rules for every caller."""

    filters: dict[str, tuple[str, ...]]
    q: str = ""
    sort: str = "newest"
    page: int = 1
    min_salary: int | None = None


def parse_query(args: Mapping[str, Sequence[str]]) -> Query:
    """Filters, search words, sort and page from query parameters (each a list of values);
    anything unknown or malformed falls back to the default, never an error."""

    def first(name: str) -> str:
        values = args.get(name) or ("",)
        return values[0]

    sort = first("sort")
    page = first("page")
    salary = first("min_salary").strip()
    return Query(
        filters=clean_filters(args),
        q=first("q").strip()[:MAX_QUERY],
        sort=sort if sort in SORTS else SORTS[0],
        page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        min_salary=_amount(salary),
    )


def _amount(text: str) -> int | None:
    """A whole amount as people type it: 50000, 50,000, 50.000 or 50 000; else None."""
    if not _AMOUNT.fullmatch(text):
        return None
    amount = int(re.sub(r"\D", "", text))
    return amount if amount < MAX_SALARY else None


def _matches(position: Position, filters: Mapping[str, tuple[str, ...]], skip: str = "") -> bool:
    for name, wanted in filters.items():
        if name == skip:
            continue
        if not any(value in wanted for value in FACETS[name](position)):
            return False
    return True


def _sort_key(name: str) -> Callable[[str], tuple[int, str]]:
    order = CODE_ORDER.get(name, ())

    def key(value: str) -> tuple[int, str]:
        return (order.index(value) if value in order else len(order), fold(value))

    return key


def run(
    positions: Iterable[Position],
    haystack: Mapping[int, str],
    *,
    filters: Mapping[str, tuple[str, ...]],
    q: str = "",
    sort: str = "newest",
    min_salary: int | None = None,
) -> Result:
    """Filter, count facet values the way shoppers expect, and sort."""
    words = fold(q).split()
    pool = [p for p in positions if all(w in haystack.get(p.id, "") for w in words)]
    if min_salary is not None:
        # Like `q`, not a facet: every facet's counts are within the pay asked for.
        pool = [p for p in pool if (yearly(p.salary) or -1) >= min_salary]

    facets: dict[str, tuple[FacetValue, ...]] = {}
    for name, values_of in FACETS.items():
        # Counts for a facet ignore that facet's own selection, so other values stay reachable.
        counts: dict[str, int] = {}
        for position in pool:
            if _matches(position, filters, skip=name):
                for value in set(values_of(position)):
                    if value:
                        counts[value] = counts.get(value, 0) + 1
        selected = filters.get(name, ())
        for value in selected:
            counts.setdefault(value, 0)
        facets[name] = tuple(
            FacetValue(value, counts[value], value in selected)
            for value in sorted(counts, key=_sort_key(name))
        )

    hits = [p for p in pool if _matches(p, filters)]
    if sort == "title":
        hits.sort(key=lambda p: (fold(p.name), p.id))
    elif sort == "salary":
        # Best paid first (per year, by the top of the range); jobs without pay last, newest first.
        hits.sort(key=lambda p: (p.created_at or _EPOCH, p.id), reverse=True)
        hits.sort(key=lambda p: -(yearly(p.salary) or -1))
    else:
        hits.sort(key=lambda p: (p.created_at or _EPOCH, p.id), reverse=True)
    return Result(positions=tuple(hits), facets=facets, total=len(hits))
