"""Parsing and sanitising Personio's XML feed: every shape, and every trick a feed can play."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from careers.personio import feed as feed_module
from careers.personio.feed import (
    MAX_FEED_BYTES,
    FeedError,
    FragmentCache,
    parse_created_at,
    parse_feed,
)
from careers.personio.model import Description
from careers.personio.sanitize import sanitize_html
from careers.safexml import hardened_parser
from careers.sandbox.feedxml import render_feed
from careers.sandbox.sample_data import sample_feeds, synthetic_positions

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
        ("<p>We build robots.</p><p>#LI-DNI</p>", "<p>We build robots.</p>"),
        ("<p>Hybrid in Berlin. #LI-Hybrid #LI-XY1</p>", "<p>Hybrid in Berlin.</p>"),
        ("<ul><li>Remote</li><li>#LI-Remote</li></ul>", "<ul><li>Remote</li></ul>"),
        ("Apply now!<br>#li-onsite", "Apply now!"),
        ("<p>Text<br><br>#LI-DNI</p><p>more</p>", "<p>Text</p><p>more</p>"),
        ("<p><strong>#LI-Hybrid</strong></p>", ""),
        # Not LinkedIn's tags: a word that merely starts so, C#, a link's fragment.
        ("<p>C# and #LIFE, #LI- and email#LI-X</p>", "<p>C# and #LIFE, #LI- and email#LI-X</p>"),
        (
            '<p><a href="https://x.example/#LI-DNI">link</a></p>',
            '<p><a href="https://x.example/#LI-DNI" rel="noopener noreferrer">link</a></p>',
        ),
    ],
)
def test_sanitiser_drops_linkedins_hashtags(raw, expected):
    """Recruiters paste #LI-… tags for LinkedIn into Personio texts (docs/personio.md §1.5)."""
    assert sanitize_html(raw) == expected


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


# --- The fast parser reads exactly what the straightforward one did (issue 13, P4) ---------

# A feed of every odd shape at once: namespaced and repeated fields, mixed content, comments
# inside text, Unicode whitespace, bad and duplicate ids, nested positions, blocks that
# sanitise to nothing, a block repeated across positions.
ODD_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root -->
<workzag-jobs xmlns:x="urn:x">
  <?pi before?>
  <position>
    <id> 7 </id>
    <name>First <b>bold</b> tail</name>
    <name>second name loses</name>
    <x:office>namespaced office is not an office</x:office>
    <office>&#160;Berlin&#12288;</office>
    <additionalOffices> <office> </office><office>Hamburg</office><town>Kiel</town><office><!-- c -->Köln</office><office/></additionalOffices>
    <department>  Sales<!-- mid -->force  </department>
    <keywords> a ,, b ,c,  </keywords>
    <createdAt>2024-02-30T00:00:00</createdAt>
    <jobDescriptions>
      <jobDescription><name>Empty</name><value></value></jobDescription>
      <jobDescription><name></name><value><![CDATA[<script>alert(1)</script>]]></value></jobDescription>
      <jobDescription><name>Shared</name><value>  <![CDATA[<p>Same <em>text</em></p>]]>  </value></jobDescription>
      <other><name>not a block</name><value>x</value></other>
      <jobDescription><value>&lt;p onclick="x()"&gt;escaped&lt;/p&gt;</value><value>second value loses</value><name>Late name</name></jobDescription>
    </jobDescriptions>
    <salaryInformation><min>1,000.50</min><max>nan</max><currencyCode>eur</currencyCode><currencySymbol>€</currencySymbol><type> yearly </type></salaryInformation>
  </position>
  <position><id>+8</id><salaryInformation><min>inf</min><max>-5</max></salaryInformation><createdAt>2024-01-02T03:04:05.123456+05:30</createdAt>
    <jobDescriptions><jobDescription><name>Shared</name><value><![CDATA[<p>Same <em>text</em></p>]]></value></jobDescription></jobDescriptions></position>
  <position><id>7</id><name>duplicate id is ignored</name></position>
  <position><id>0</id></position>
  <position><id>-3</id></position>
  <position><id>abc</id></position>
  <position><id>1_0</id><name>underscore id</name><salaryInformation><min>0</min><max></max></salaryInformation></position>
  <position><id>٣</id><name>arabic-indic digit</name><keywords></keywords><createdAt>2023-08-11T14:15:17Z</createdAt></position>
  <position><name>no id</name></position>
  <position><id></id></position>
  <job><id>99</id></job>
  <position><id>12</id><position><id>13</id></position><jobDescriptions/><additionalOffices/></position>
  <position><id>14</id><name>	</name><office>
  </office><jobDescriptions>
    <jobDescription><name> Only a name </name></jobDescription>
    <jobDescription><name/><value>   </value></jobDescription>
  </jobDescriptions></position>
</workzag-jobs>
""".encode()


def _boards() -> dict[str, bytes]:
    """Every board we hold: the sandbox's, a generated one, each fixture, the odd one."""
    boards = {f"sample-{lang}": render_feed(ps) for lang, ps in sample_feeds().items()}
    boards["synthetic-500"] = render_feed(synthetic_positions(500))
    for path in sorted(FIXTURES.glob("*.xml")) + sorted(REFERENCE.glob("*.xml")):
        boards[str(path.relative_to(FIXTURES))] = path.read_bytes()
    boards["odd"] = ODD_FEED
    return boards


# SHA-256 (first 16 hex digits) of repr(parse_feed(board)), or of "FeedError <reason>", as the
# parser before the speed-up (commit 7d39be2) produced them. A change in nh3's output or in a
# fixture changes these legitimately: re-derive them from that commit's parser, never from
# the parser under test.
GOLDEN = {
    "sample-en": "37198809e3858bfe",
    "sample-de": "670a983112b6c440",
    "synthetic-500": "0c40f98d9a73bf73",
    "empty.xml": "4f53cda18c2baa0c",
    "laughs.xml": "b20445b57aa91dda",
    "script.xml": "fb107155885ed363",
    "single.xml": "31f55122912af3c3",
    "sparse.xml": "d8d0ef2a0c750b7e",
    "truncated.xml": "3b51fca192968193",
    "wrong-root.xml": "4a5e95bff6281a48",
    "xxe.xml": "b20445b57aa91dda",
    "accounts/blank.xml": "86cfabedbc86df96",
    "accounts/no-experience.xml": "60d34425f83f6505",
    "accounts/one-description.xml": "9518c92fec29d62c",
    "accounts/one-position.xml": "025ca4d0df523cf8",
    "accounts/small-board.xml": "b5096a811c90055d",
    "accounts/two-positions.xml": "f33bc2ca5fe44e56",
    "accounts/wrenfield-faulty.xml": "3b51fca192968193",
    "accounts/wrenfield-full.xml": "8c1c775e267f7b15",
    "pay-rules.xml": "98db3888372f6265",
    "odd": "78cf7c8149dc130c",
}


def _rendering(data: bytes, cache: FragmentCache | None = None) -> str:
    try:
        out = repr(parse_feed(data, cache))
    except FeedError as exc:
        out = f"FeedError {exc.reason}"
    return hashlib.sha256(out.encode()).hexdigest()[:16]


def test_every_board_parses_exactly_as_before():
    boards = _boards()
    assert set(boards) == set(GOLDEN), "a fixture was added or removed: extend GOLDEN"
    assert {name: _rendering(data) for name, data in boards.items()} == GOLDEN


def test_odd_shapes_read_as_documented():
    positions = {p.id: p for p in parse_feed(ODD_FEED)}
    assert sorted(positions) == [3, 7, 8, 10, 12, 14]  # int() rules, first duplicate wins
    first = positions[7]
    assert (first.name, first.office, first.department) == ("First", "Berlin", "Salesforce")
    assert first.additional_offices == ("Hamburg", "Köln")
    assert first.keywords == ("a", "b", "c")
    assert [d.name for d in first.descriptions] == ["Empty", "Shared", "Late name"]
    assert first.descriptions[2].html == "<p>escaped</p>"
    # One text, one cleaned string, shared by both positions.
    assert positions[8].descriptions[0].html is first.descriptions[1].html
    assert [d.name for d in positions[14].descriptions] == ["Only a name"]


def test_a_refresh_only_cleans_blocks_it_has_not_seen(monkeypatch):
    positions = synthetic_positions(40)
    data = render_feed(positions)
    cache = FragmentCache()
    before = parse_feed(data, cache)
    cleaned: list[str] = []
    real = feed_module.sanitize_html

    def counting(fragment):
        cleaned.append(fragment)
        return real(fragment)

    monkeypatch.setattr(feed_module, "sanitize_html", counting)
    assert parse_feed(data, cache) == before and cleaned == []
    edited = [replace(positions[0], descriptions=(Description("New", "<p>new</p>"),))]
    parse_feed(render_feed(edited + positions[1:]), cache)
    assert cleaned == ["<p>new</p>"]
    # The cache keeps only the last feed's blocks: the first feed's block 0 is cleaned again.
    cleaned.clear()
    assert parse_feed(data, cache) == before
    assert len(cleaned) == len(positions[0].descriptions)


def test_an_empty_block_sanitises_to_nothing():
    assert sanitize_html("") == ""  # parse_feed maps an empty block to "" without the sanitiser


def test_blank_text_removal_only_drops_whitespace_between_elements():
    data = b"<r><a> x </a>\n  <b>  </b><c>y<d/> </c></r>"
    kept = etree.fromstring(data, hardened_parser())
    dropped = etree.fromstring(data, hardened_parser(remove_blank_text=True))
    assert [(e.tag, (e.text or "").strip()) for e in kept.iter()] == [
        (e.tag, (e.text or "").strip()) for e in dropped.iter()
    ]
