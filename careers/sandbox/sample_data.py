"""Jobs of the fictional "Nordlicht Robotics", so the sandbox, demo and tests share one board.

The board is data a recruiter can edit without reading Python: one TOML file per job in
`board/jobs/` (the facts of the job, then an `[en]` and a `[de]` table with its title and text
blocks), plus the blocks several postings reuse in `board/shared.toml`. Jobs appear in the feed
in the order of their file names. The board exercises what real feeds do (docs/personio.md
§1.3-1.5): missing elements, additionalOffices, salaryInformation with an empty max, keywords
with odd spacing, "•" text bullets, "&amp;" inside CDATA, and one job that has no German text.

This module only reads the files; generated boards for benchmarks come from `synthetic`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from careers.personio.model import Description, Position, Salary

from .synthetic import synthetic_positions

__all__ = [
    "BOARD",
    "COMPANY",
    "LANGUAGES",
    "UNTRANSLATED_ID",
    "BoardError",
    "read_board",
    "sample_feeds",
    "sample_positions",
    "synthetic_positions",
]

COMPANY = "Nordlicht Robotics"
LANGUAGES = ("en", "de")
UNTRANSLATED_ID = 1843366  # its file has no [de] table
BOARD = Path(__file__).resolve().parent / "board"

# The facts a job shares across languages, by the Position field each one fills.
_TEXTS = (
    "subcompany",
    "office",
    "department",
    "recruiting_category",
    "employment_type",
    "seniority",
    "schedule",
    "years_of_experience",
    "occupation",
    "occupation_category",
)
_LISTS = ("additional_offices", "keywords")
_JOB_KEYS = ("id", "created_at", "salary", *_TEXTS, *_LISTS, *LANGUAGES)
_SALARY_KEYS = ("min", "max", "currency_symbol", "currency_code", "type")

Job = dict[str, Position]  # one job's Position per language
Shared = dict[str, dict[str, Description]]  # block name -> language -> block


class BoardError(ValueError):
    """A board file that does not describe jobs; the message names the file and the key.

    Text blocks are counted from 1 in the order they appear in the file, so
    `de.descriptions[2].html` is the `html` of the second `[[de.descriptions]]`.
    """


def sample_positions(language: str) -> list[Position]:
    """The sample board in one language ("en" or "de"); other languages have no jobs."""
    return [job[language] for job in _sample_board() if language in job]


def sample_feeds() -> dict[str, list[Position]]:
    """Both sample boards keyed by language, the sandbox's default content."""
    return {language: sample_positions(language) for language in LANGUAGES}


@cache
def _sample_board() -> tuple[Job, ...]:
    """The shipped board, read once per process."""
    return tuple(read_board(BOARD))


def read_board(directory: Path) -> list[Job]:
    """Read `shared.toml` (if any) and every `jobs/*.toml` in `directory`, jobs in file-name
    order."""
    path = directory / "shared.toml"
    shared = _shared(_where(directory, path), _load(directory, path)) if path.exists() else {}
    paths = sorted((directory / "jobs").glob("*.toml"))
    if not paths:
        raise BoardError(f"{directory.name}/jobs: no job files (*.toml) found")
    jobs: list[Job] = []
    seen: dict[int, str] = {}
    for path in paths:
        where = _where(directory, path)
        job = _job(where, _load(directory, path), shared)
        job_id = job["en"].id
        if job_id in seen:
            raise BoardError(f"{where}: id: {job_id} is already the id of {seen[job_id]}")
        seen[job_id] = where
        jobs.append(job)
    return jobs


def _where(directory: Path, path: Path) -> str:
    """How errors name a file: relative to the board's parent, e.g. board/jobs/1.toml."""
    return path.relative_to(directory.parent).as_posix()


def _load(directory: Path, path: Path) -> dict[str, Any]:
    """Parse one TOML file; a syntax error names the file (tomllib gives line and column)."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise BoardError(f"{_where(directory, path)}: {error}") from None


def _shared(where: str, data: dict[str, Any]) -> Shared:
    """The reusable blocks: `[name.en]` / `[name.de]` tables with a heading and html."""
    shared: Shared = {}
    for name, languages in data.items():
        shared[name] = {
            language: _block(where, f"{name}.{language}", block)
            for language, block in _table(where, name, languages, LANGUAGES).items()
        }
    return shared


def _job(where: str, data: dict[str, Any], shared: Shared) -> Job:
    """Build one job's Position per language; titles and texts differ, the facts do not."""
    _table(where, "", data, _JOB_KEYS)
    job_id = data.get("id")
    if not isinstance(job_id, int) or isinstance(job_id, bool) or job_id <= 0:
        raise BoardError(f"{where}: id: expected a positive whole number, e.g. id = 1842907")
    texts = {key: _text(where, key, data.get(key, "")) for key in _TEXTS}
    lists = {key: _texts(where, key, data.get(key, [])) for key in _LISTS}
    facts = Position(
        id=job_id,
        subcompany=texts["subcompany"],
        office=texts["office"],
        additional_offices=lists["additional_offices"],
        department=texts["department"],
        recruiting_category=texts["recruiting_category"],
        employment_type=texts["employment_type"],
        seniority=texts["seniority"],
        schedule=texts["schedule"],
        years_of_experience=texts["years_of_experience"],
        keywords=lists["keywords"],
        occupation=texts["occupation"],
        occupation_category=texts["occupation_category"],
        created_at=_moment(where, data.get("created_at")),
        salary=_salary(where, data.get("salary")),
    )
    if "en" not in data:
        raise BoardError(f"{where}: en: missing; every job needs an [en] table with its name")
    english = _language(where, "en", data["en"], shared, facts)
    job = {"en": english}
    for language in LANGUAGES[1:]:
        if language in data:
            job[language] = _language(where, language, data[language], shared, facts)
        else:
            # A job not written in this language is still listed in its feed, with the English
            # title and no jobDescriptions at all (docs/personio.md §1.1, "Untranslated postings").
            job[language] = replace(facts, name=english.name)
    return job


def _language(
    where: str, language: str, value: object, shared: Shared, facts: Position
) -> Position:
    """One language's Position: the job's facts with this language's name and text blocks."""
    table = _table(where, language, value, ("name", "descriptions"))
    if not table.get("name"):
        raise BoardError(f"{where}: {language}.name: missing; the job title in this language")
    name = _text(where, f"{language}.name", table["name"])
    blocks = table.get("descriptions", [])
    if not isinstance(blocks, list):
        raise BoardError(
            f"{where}: {language}.descriptions: write each as [[{language}.descriptions]]"
        )
    descriptions: list[Description] = []
    for number, block in enumerate(blocks, start=1):
        key = f"{language}.descriptions[{number}]"
        entry = _table(where, key, block, ("shared", "heading", "html"))
        if "shared" in entry:
            descriptions.append(_shared_block(where, key, entry, language, shared))
        else:
            descriptions.append(_block(where, key, entry))
    return replace(facts, name=name, descriptions=tuple(descriptions))


def _shared_block(
    where: str, key: str, block: dict[str, Any], language: str, shared: Shared
) -> Description:
    """A `shared = "name"` reference, resolved in this language."""
    if set(block) != {"shared"}:
        raise BoardError(f"{where}: {key}: a shared block takes no heading or html of its own")
    name = _text(where, f"{key}.shared", block["shared"])
    if language not in shared.get(name, {}):
        raise BoardError(f"{where}: {key}.shared: no [{name}.{language}] in board/shared.toml")
    return shared[name][language]


def _block(where: str, key: str, block: object) -> Description:
    """A text block written out: its heading and its HTML, both required."""
    table = _table(where, key, block, ("heading", "html"))
    for part in ("heading", "html"):
        if not table.get(part):
            raise BoardError(f"{where}: {key}.{part}: missing or empty")
    return Description(
        name=_text(where, f"{key}.heading", table["heading"]),
        html=_text(where, f"{key}.html", table["html"]),
    )


def _salary(where: str, value: object) -> Salary | None:
    """`salary = { min = ..., max = ..., ... }`; a missing max stays empty, as in real feeds."""
    if value is None:
        return None
    table = _table(where, "salary", value, _SALARY_KEYS)
    return Salary(
        min=_amount(where, "salary.min", table.get("min")),
        max=_amount(where, "salary.max", table.get("max")),
        currency_symbol=_text(where, "salary.currency_symbol", table.get("currency_symbol", "")),
        currency_code=_text(where, "salary.currency_code", table.get("currency_code", "")),
        type=_text(where, "salary.type", table.get("type", "")),
    )


def _amount(where: str, key: str, value: object) -> float | None:
    """A salary amount as written (75000 stays an int, so the feed shows it unchanged)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BoardError(f"{where}: {key}: expected an amount, e.g. 65000 or 1850.50")
    return value


def _moment(where: str, value: object) -> datetime | None:
    """`created_at`, a TOML date-time with its time zone, e.g. 2026-10-14T09:12:44Z."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise BoardError(
            f"{where}: created_at: expected a date and time with its zone, "
            "e.g. 2026-10-14T09:12:44Z"
        )
    return value


def _text(where: str, key: str, value: object) -> str:
    """A text value; anything else (a number, a list) is a mistake in the file."""
    if not isinstance(value, str):
        raise BoardError(
            f'{where}: {key}: expected text in quotes, e.g. {key.split(".")[-1]} = "…"'
        )
    return value


def _texts(where: str, key: str, value: object) -> tuple[str, ...]:
    """A list of texts, e.g. `keywords = ["ROS", "C++"]`."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BoardError(f'{where}: {key}: expected a list of texts, e.g. {key} = ["…", "…"]')
    return tuple(value)


def _table(where: str, key: str, value: object, allowed: Collection[str]) -> dict[str, Any]:
    """Insist on a table whose keys are all known, so a misspelt key is not silently lost."""
    if not isinstance(value, dict):
        raise BoardError(f"{where}: {key or 'the file'}: expected a table")
    for unknown in sorted(set(value) - set(allowed)):
        place = f"{key}.{unknown}" if key else unknown
        raise BoardError(f"{where}: {place}: unknown key (known: {', '.join(sorted(allowed))})")
    return value
