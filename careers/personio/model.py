"""Plain data types for what Personio's XML feed describes (docs/personio.md §1.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Description:
    """One `<jobDescription>` block: a heading and sanitised HTML."""

    name: str
    html: str


@dataclass(frozen=True, slots=True)
class Salary:
    """`<salaryInformation>` (undocumented, §1.3): any part may be missing or empty."""

    min: float | None = None
    max: float | None = None
    currency_symbol: str = ""
    currency_code: str = ""
    type: str = ""  # e.g. "yearly", "monthly"; shown raw when unknown


@dataclass(frozen=True, slots=True)
class Position:
    """One `<position>` of one language's feed; every element but `id` may be absent."""

    id: int
    name: str = ""
    subcompany: str = ""
    office: str = ""
    additional_offices: tuple[str, ...] = ()
    department: str = ""
    recruiting_category: str = ""
    descriptions: tuple[Description, ...] = ()
    employment_type: str = ""
    seniority: str = ""
    schedule: str = ""
    years_of_experience: str = ""
    keywords: tuple[str, ...] = ()
    occupation: str = ""
    occupation_category: str = ""
    created_at: datetime | None = None
    salary: Salary | None = None
    # Not in the feed: the key of the Personio account whose board it is on, when the site
    # shows several (CAREERS_ACCOUNTS_FILE, careers/jobs/board.py); "" for one account.
    # Left out of repr, which stays what the feed said (tests/test_feed_parse.py).
    account: str = field(default="", repr=False)

    @property
    def offices(self) -> tuple[str, ...]:
        """Main office first, then the additional ones, without repeats."""
        seen: list[str] = []
        for office in (self.office, *self.additional_offices):
            if office and office not in seen:
                seen.append(office)
        return tuple(seen)
