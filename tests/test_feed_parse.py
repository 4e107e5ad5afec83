"""Parsing and sanitising Personio's XML feed: every shape, and every trick a feed can play."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from careers.personio.feed import MAX_FEED_BYTES, FeedError, parse_created_at, parse_feed
from careers.personio.sanitize import sanitize_html

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
# Whole boards shaped like real accounts' feeds (fictional companies, our own texts).
REFERENCE = FIXTURES / "accounts"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_single_position_is_a_list_of_one_with_every_element():
    [p] = parse_feed(load("single.xml"))
    assert p.id == 501
    assert p.name == "Data Engineer (f/m/d)"
    assert p.subcompany == "Fjord Analytics AS"
    assert p.office == "Oslo"
    assert p.additional_offices == ("Bergen", "Remote (Norway)")
    assert p.offices == ("Oslo", "Bergen", "Remote (Norway)")
    assert p.department == "Data"
    assert p.recruiting_category == "Tech"
    assert p.employment_type == "permanent"
    assert p.seniority == "experienced"
    assert p.schedule == "full-or-part-time"
    assert p.years_of_experience == "5-7"
    assert p.keywords == ("Python", "SQL", "dbt")
    assert p.occupation == "software_and_web_development"
    assert p.occupation_category == "it_software"
    assert p.created_at == datetime(2025, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert p.salary is not None
    assert (p.salary.min, p.salary.max) == (700000.0, 850000.0)
    assert (p.salary.currency_code, p.salary.currency_symbol, p.salary.type) == (
        "NOK",
        "kr",
        "yearly",
    )
    [block] = p.descriptions
    assert block.name == "What you will do"
    assert block.html == (
        "<p>Build pipelines &amp; keep them <strong>boring</strong>.</p><ul><li>Python</li><li>SQL</li></ul>"
    )


def test_missing_and_odd_elements_are_normal():
    positions = {p.id: p for p in parse_feed(load("sparse.xml"))}
    assert sorted(positions) == [601, 602, 603]  # bad id skipped, duplicate ignored
    bare = positions[601]
    assert (bare.name, bare.office, bare.descriptions, bare.salary, bare.created_at) == (
        "",
        "",
        (),
        None,
        None,
    )
    porter = positions[602]
    assert porter.name == "Night Porter"  # the first of two duplicates wins
    assert porter.employment_type == "seasonal_contract"  # unknown codes are kept raw
    assert porter.created_at is None
    assert porter.salary is None  # no amount at all: nothing to show
    helper = positions[603]
    assert helper.created_at == datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    assert helper.salary is not None and helper.salary.min == 14.5 and helper.salary.max is None


def test_empty_board_is_valid_and_empty():
    assert parse_feed(load("empty.xml")) == []
    assert parse_feed(b"<workzag-jobs></workzag-jobs>") == []


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("homepage.html", "not_xml"),
        ("truncated.xml", "malformed"),
        ("wrong-root.xml", "wrong_root"),
        ("xxe.xml", "dtd"),
        ("laughs.xml", "dtd"),
    ],
)
def test_anything_but_a_board_is_an_error_not_an_empty_board(fixture, reason):
    with pytest.raises(FeedError) as info:
        parse_feed(load(fixture))
    assert info.value.reason == reason


@pytest.mark.parametrize("body", [b"", b"   \n", b'{"jobs": []}', b"Service Unavailable"])
def test_non_xml_bodies_are_errors(body):
    with pytest.raises(FeedError):
        parse_feed(body)


def test_oversized_feed_is_refused_before_parsing():
    with pytest.raises(FeedError) as info:
        parse_feed(b" " * (MAX_FEED_BYTES + 1))
    assert info.value.reason == "too_large"


def test_hostile_html_in_cdata_is_neutralised():
    [p] = parse_feed(load("script.xml"))
    # Titles are plain text: the markup stays text and is escaped when rendered.
    assert p.name.startswith("<script>")
    html = p.descriptions[0].html
    lowered = html.lower()
    for needle in (
        "<script",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "<iframe",
        "<style",
        "<svg",
        "<form",
        "<input",
        "style=",
        "<img",
        "/relative",
        'rel="opener"',
    ):
        assert needle not in lowered, needle
    assert '<a href="https://example.com/ok" rel="noopener noreferrer">fine link</a>' in html
    assert '<a href="mailto:jobs@example.com" rel="noopener noreferrer">mail</a>' in html
    assert "Hello" in html and "styled" in html


def test_sanitiser_keeps_the_editor_formatting():
    html = "<p>One<br>Two</p><ol><li><em>a</em></li></ol><h3>Perks</h3><blockquote>q</blockquote>"
    assert sanitize_html(html) == html
    assert sanitize_html("<h1>Big</h1><table><tr><td>cell</td></tr></table>") == "Bigcell"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "2016-05-31T12:14:07+0200",
            datetime(2016, 5, 31, 12, 14, 7, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2023-08-11T14:15:17+00:00", datetime(2023, 8, 11, 14, 15, 17, tzinfo=UTC)),
        ("2023-08-11T14:15:17Z", datetime(2023, 8, 11, 14, 15, 17, tzinfo=UTC)),
        ("2023-08-11", datetime(2023, 8, 11, tzinfo=UTC)),
        ("", None),
        ("yesterday", None),
        ("2023-13-45T99:00:00", None),
    ],
)
def test_created_at_is_parsed_leniently(raw, expected):
    assert parse_created_at(raw) == expected


@pytest.mark.parametrize(
    ("name", "count", "blocks", "absent", "samples"),
    [
        # A whole account: tabs and blank lines, undocumented additionalOffices and
        # salaryInformation (max empty), recruitingCategory/keywords/experience often missing,
        # keywords with stray spaces ("CAD ,Carbon fibre"), "•" bullets between <br>s.
        (
            "wrenfield-full.xml",
            11,
            35,
            (),
            [
                (3301417, "offices", ("Bristol", "Manchester")),
                (3301417, "keywords", ("CAD", "Carbon fibre", "Fatigue testing")),
                (3301417, "recruiting_category", ""),
                (3301416, "additional_offices", ("Bristol", "Leeds")),
                (3301402, "subcompany", ""),
                (3301422, "name", "Photographer & Content Creator (freelance)"),
            ],
        ),
        # Template-style indentation, text around CDATA, no department or keywords on some.
        ("small-board.xml", 3, 9, ("keywords",), [(774210, "department", "")]),
        ("two-positions.xml", 2, 4, (), [(12, "name", "Test Automation Engineer (f/m/x)")]),
        ("one-position.xml", 1, 2, (), [(11, "years_of_experience", "1-2")]),
        ("no-experience.xml", 1, 2, ("years_of_experience",), [(11, "schedule", "part-time")]),
        ("one-description.xml", 1, 1, (), [(11, "keywords", ("QA", "Automation", "Playwright"))]),
    ],
)
def test_real_account_shapes_parse_completely(name, count, blocks, absent, samples):
    data = (REFERENCE / name).read_bytes()
    positions = {p.id: p for p in parse_feed(data)}
    assert len(positions) == count == data.count(b"<position>")
    descriptions = [d for p in positions.values() for d in p.descriptions]
    assert len(descriptions) == blocks == data.count(b"<jobDescription>")
    for p in positions.values():
        assert p.name and p.office and p.descriptions and p.created_at is not None
        for attribute in absent:
            assert not getattr(p, attribute), (p.id, attribute)
    # CDATA unwrapped, the indentation around it stripped, nothing lost to sanitising.
    assert all(d.name and d.html and d.html == d.html.strip() for d in descriptions)
    assert not any("CDATA" in d.html for d in descriptions)
    for job_id, attribute, value in samples:
        assert getattr(positions[job_id], attribute) == value, (job_id, attribute)


@pytest.mark.parametrize(
    ("name", "reason"),
    # The whole board with its root start tag left open; an empty answer body.
    [("wrenfield-faulty.xml", "malformed"), ("blank.xml", "empty_body")],
)
def test_real_broken_feeds_are_errors(name, reason):
    with pytest.raises(FeedError) as info:
        parse_feed((REFERENCE / name).read_bytes())
    assert info.value.reason == reason
