"""The sandbox's hand-written board is TOML data: the shipped files load, bad files say where.

The board's content is pinned elsewhere (the golden digests of tests/test_feed_parse.py and the
feed tests of tests/test_sandbox.py); here the loader is checked on copies of the board with
one mistake each, as a recruiter editing a posting might make them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from careers.personio.model import Salary
from careers.sandbox.sample_data import (
    BOARD,
    LANGUAGES,
    UNTRANSLATED_ID,
    BoardError,
    read_board,
    sample_positions,
)

ROBOTICS = "jobs/1842907-senior-robotics-software-engineer-motion.toml"
AUSTRIA = "jobs/1843054-account-executive-austria.toml"


@pytest.fixture
def board(tmp_path: Path) -> Path:
    """A writable copy of the shipped board, named like the original."""
    return Path(shutil.copytree(BOARD, tmp_path / "board"))


def edit(board: Path, name: str, old: str, new: str) -> None:
    """Replace one exact piece of a board file, insisting it was there once."""
    path = board / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_shipped_board_is_read_in_file_name_order_with_both_languages():
    files = sorted((BOARD / "jobs").glob("*.toml"))
    jobs = read_board(BOARD)
    assert [job["en"].id for job in jobs] == [int(p.name.split("-")[0]) for p in files]
    assert all(set(job) == set(LANGUAGES) for job in jobs)
    assert [p.id for p in sample_positions("en")] == [job["en"].id for job in jobs]
    assert sample_positions("fr") == []


def test_job_file_fills_every_field_and_shared_blocks_in_its_language():
    [english] = [p for p in sample_positions("en") if p.id == 1842907]
    [german] = [p for p in sample_positions("de") if p.id == 1842907]
    assert english.created_at == datetime(2026, 10, 14, 9, 12, 44, tzinfo=UTC)
    assert english.salary == Salary(75000, 95000, "€", "EUR", "yearly")
    # Amounts stay as written, so the feed writes them as before.
    assert isinstance(english.salary.min, int)
    assert english.keywords == ("ROS ", "C++", "Python", "Motion Planning")
    assert english.additional_offices == ("Remote (Germany)",)
    assert english.descriptions[2].name == "What we offer"
    assert german.descriptions[2].name == "Was wir bieten"
    assert german.descriptions[3].name == "Über uns"
    assert german.descriptions[3].html.startswith("<p>Nordlicht Robotics baut")
    # A line ending in a backslash continues without a line break.
    assert all("\n" not in d.html for p in sample_positions("en") for d in p.descriptions)
    assert "140 warehouses across Europe. As part" in english.descriptions[0].html
    assert german.department == english.department and german.salary == english.salary


def test_job_without_a_language_table_is_listed_with_its_english_title(board):
    [untranslated] = [
        p for p in board.glob("jobs/*.toml") if p.name.startswith(str(UNTRANSLATED_ID))
    ]
    assert "\n[de]\n" not in untranslated.read_text(encoding="utf-8")
    job = next(job for job in read_board(board) if job["en"].id == UNTRANSLATED_ID)
    assert job["de"].name == job["en"].name and job["de"].descriptions == ()
    assert job["de"].office == job["en"].office == "London"


def test_salary_without_max_stays_empty(board):
    job = next(job for job in read_board(board) if job["en"].id == 1843054)
    assert job["en"].salary == Salary(4200, None, "€", "EUR", "monthly")


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            ROBOTICS,
            'office = "Munich"',
            'ofice = "Munich"',
            f"board/{ROBOTICS}: ofice: unknown key",
        ),
        (
            ROBOTICS,
            'keywords = ["ROS ", "C++", "Python", "Motion Planning"]',
            'keywords = "ROS, C++"',
            f"board/{ROBOTICS}: keywords: expected a list of texts",
        ),
        (ROBOTICS, "id = 1842907", 'id = "1842907"', f"board/{ROBOTICS}: id: expected a positive"),
        (
            ROBOTICS,
            "created_at = 2026-10-14T09:12:44Z",
            "created_at = 2026-10-14T09:12:44",
            f"board/{ROBOTICS}: created_at: expected a date and time with its zone",
        ),
        (
            ROBOTICS,
            "min = 75000",
            'min = "75.000"',
            f"board/{ROBOTICS}: salary.min: expected an amount",
        ),
        (
            ROBOTICS,
            "max = 95000,",
            "maximum = 95000,",
            f"board/{ROBOTICS}: salary.maximum: unknown key",
        ),
        (
            ROBOTICS,
            '[de]\nname = "Senior Robotics Software Engineer – Bewegungsplanung (m/w/d)"',
            "[de]",
            f"board/{ROBOTICS}: de.name: missing",
        ),
        (
            ROBOTICS,
            'heading = "Dein Profil"',
            'title = "Dein Profil"',
            f"board/{ROBOTICS}: de.descriptions[2].title: unknown key",
        ),
        (
            ROBOTICS,
            'heading = "Your mission"\n',
            "",
            f"board/{ROBOTICS}: en.descriptions[1].heading: missing or empty",
        ),
        (
            AUSTRIA,
            'heading = "Deine Aufgaben"',
            'shared = "about"\nheading = "Deine Aufgaben"',
            f"board/{AUSTRIA}: de.descriptions[1]: a shared block takes no heading",
        ),
        (
            ROBOTICS,
            '[[de.descriptions]]\nshared = "about"',
            '[[de.descriptions]]\nshared = "abuot"',
            f"board/{ROBOTICS}: de.descriptions[4].shared: no [abuot.de] in",
        ),
        (
            "shared.toml",
            "[offer-uk.de]",
            "[offer-uk.fr]",
            "board/shared.toml: offer-uk.fr: unknown key",
        ),
    ],
)
def test_a_mistake_names_the_file_and_the_key(board, name, old, new, message):
    edit(board, name, old, new)
    with pytest.raises(BoardError) as raised:
        read_board(board)
    assert str(raised.value).startswith(message), str(raised.value)


def test_a_toml_syntax_error_gives_the_line(board):
    edit(board, AUSTRIA, 'office = "Vienna"', 'office = "Vienna')
    with pytest.raises(BoardError, match=rf"^board/{AUSTRIA}: .*\(at line 5, column \d+\)"):
        read_board(board)


def test_two_files_with_one_id_are_refused(board):
    shutil.copy(board / ROBOTICS, board / "jobs/1849999-copy.toml")
    with pytest.raises(BoardError) as raised:
        read_board(board)
    assert str(raised.value) == (
        f"board/jobs/1849999-copy.toml: id: 1842907 is already the id of board/{ROBOTICS}"
    )


def test_a_board_without_job_files_is_refused(board):
    shutil.rmtree(board / "jobs")
    with pytest.raises(BoardError, match="^board/jobs: no job files"):
        read_board(board)


def test_shared_blocks_are_optional_until_a_job_uses_one(board):
    (board / "shared.toml").unlink()
    with pytest.raises(BoardError) as raised:
        read_board(board)
    assert str(raised.value) == (
        f"board/{ROBOTICS}: en.descriptions[3].shared: no [offer-germany.en] in board/shared.toml"
    )
