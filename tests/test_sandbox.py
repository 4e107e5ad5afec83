"""The Personio sandbox over real loopback HTTP: feeds, validators, faults and the job page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest
from lxml import etree

from careers.personio.model import Description, Position, Salary
from careers.sandbox import sample_data
from careers.sandbox.feedxml import render_feed
from careers.sandbox.server import SandboxServer

PERSONIO_ORDER = [
    "id", "subcompany", "office", "additionalOffices", "department", "recruitingCategory",
    "name", "jobDescriptions", "employmentType", "seniority", "schedule", "yearsOfExperience",
    "keywords", "occupation", "occupationCategory", "createdAt", "salaryInformation",
]  # fmt: skip


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        yield http


def board(response: httpx.Response) -> etree._Element:
    """Parse a feed answer and insist it is a Personio board."""
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == "workzag-jobs"
    return root


def by_id(root: etree._Element) -> dict[int, etree._Element]:
    return {int(p.findtext("id")): p for p in root.iterchildren("position")}


# -- the feed ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "de"])
def test_each_language_serves_the_whole_sample_board(client, language):
    response = client.get("/xml", params={"language": language})
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<workzag-jobs>')
    positions = by_id(board(response))
    expected = sample_data.sample_positions(language)
    assert len(positions) >= 12
    assert list(positions) == [p.id for p in expected]
    for position in expected:
        assert positions[position.id].findtext("name") == position.name
        tags = [child.tag for child in positions[position.id]]
        assert tags == sorted(tags, key=PERSONIO_ORDER.index), f"order of {position.id}"


def test_missing_language_answers_german_and_unknown_language_an_empty_board(client):
    german = client.get("/xml", params={"language": "de"})
    assert client.get("/xml").content == german.content
    assert len(board(client.get("/xml", params={"language": "fr"}))) == 0


def test_untranslated_job_is_in_german_feed_with_english_name_and_no_text(client):
    english = by_id(board(client.get("/xml?language=en")))
    german = by_id(board(client.get("/xml?language=de")))
    job_id = sample_data.UNTRANSLATED_ID
    assert german[job_id].findtext("name") == english[job_id].findtext("name")
    assert german[job_id].find("jobDescriptions") is None
    assert len(english[job_id].find("jobDescriptions")) >= 3
    others = [p for i, p in german.items() if i != job_id]
    assert all(p.find("jobDescriptions") is not None for p in others)
    assert german[1842907].findtext("name") != english[1842907].findtext("name")


def test_feed_has_personio_quirks(client):
    response = client.get("/xml?language=en")
    positions = by_id(board(response))
    robotics = positions[1842907]
    assert robotics.findtext("keywords") == "ROS ,C++,Python,Motion Planning"
    assert [o.text for o in robotics.find("additionalOffices")] == ["Remote (Germany)"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", robotics.findtext("createdAt"))
    vienna = positions[1843054].find("salaryInformation")
    assert [c.tag for c in vienna] == ["min", "max", "currencySymbol", "currencyCode", "type"]
    assert (vienna.findtext("min"), vienna.findtext("max"), vienna.findtext("type")) == (
        "4200.00", "", "monthly"
    )  # fmt: skip
    assert positions[1843190].find("salaryInformation").findtext("currencyCode") == "GBP"
    bare = positions[1843801]
    assert bare.find("department") is None and bare.find("recruitingCategory") is None
    # The HTML sits in CDATA, with whitespace around it as in the live feed.
    assert re.search(rb"<value>\s+<!\[CDATA\[\s+<p>Our robots", response.content)
    html = robotics.find("jobDescriptions/jobDescription/value").text
    assert html.strip().startswith("<p>Our robots") and "<ul><li>" in html


def test_render_feed_keeps_cdata_terminators_and_empty_salary_max():
    html = "<p>a ]]> b</p>"
    position = Position(
        id=7, name="X", descriptions=(Description("d", html),), salary=Salary(min=1.5)
    )
    root = etree.fromstring(render_feed([position]))
    assert root.findtext("position/jobDescriptions/jobDescription/value").strip() == html
    assert root.find("position/salaryInformation/max") is not None
    assert root.findtext("position/salaryInformation/min") == "1.50"
    assert root.find("position/office") is None
    assert render_feed([]).endswith(b"<workzag-jobs></workzag-jobs>\n")


def test_etag_and_last_modified_give_304_until_the_board_changes(server, client):
    first = client.get("/xml?language=en")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)

    again = client.get("/xml?language=en", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    by_date = client.get("/xml?language=en", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    stale = client.get("/xml?language=en", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200  # a mismatching ETag wins over the date
    logged = [r["headers"] for r in server.sandbox.requests]
    assert logged[1]["If-None-Match"] == etag and "If-None-Match" not in logged[0]
    assert logged[2]["If-Modified-Since"] == modified

    remaining = server.sandbox.positions("en")[1:]
    server.sandbox.set_positions("en", remaining)
    changed = client.get("/xml?language=en", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(board(changed)) == len(remaining)
    assert (
        client.get("/xml?language=en", headers={"If-Modified-Since": modified}).status_code == 200
    )
    assert client.get("/xml?language=de", headers={"If-None-Match": etag}).status_code == 200


def test_head_request_gets_validators_without_body(client):
    response = client.head("/xml?language=de")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["ETag"] and response.headers["Last-Modified"]


# -- faults --------------------------------------------------------------------------------


def test_status_fault_counts_down_times(server, client):
    server.sandbox.inject("feed", "status", status=503, times=2)
    answers = [client.get("/xml?language=en") for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 503, 200]
    assert answers[0].headers["content-type"].startswith("text/html")
    assert "503 Service Unavailable" in answers[0].text
    assert [r["fault"] for r in server.sandbox.requests] == ["status", "status", None]


def test_fault_language_scoping_and_clearing(server, client):
    server.sandbox.inject(kind="status", status=500, language="de")
    assert client.get("/xml?language=en").status_code == 200
    assert client.get("/xml?language=de").status_code == 500
    assert client.get("/xml").status_code == 500  # no language means German
    assert client.get("/job/1842907").status_code == 200  # the job page is not the feed
    server.sandbox.clear_faults()
    board(client.get("/xml?language=de"))


def test_faults_apply_oldest_first(server, client):
    server.sandbox.inject(kind="status", status=502, times=1)
    server.sandbox.inject(kind="empty", times=1)
    assert client.get("/xml").status_code == 502
    assert len(board(client.get("/xml"))) == 0
    assert len(board(client.get("/xml"))) >= 12


def test_slow_fault_delays_a_normal_answer(server, client):
    server.sandbox.inject(kind="slow", delay=0.3, times=1)
    started = time.monotonic()
    assert len(board(client.get("/xml?language=en"))) >= 12
    assert time.monotonic() - started >= 0.3


def test_hang_fault_times_out_the_client_and_closes_unanswered(server):
    server.sandbox.inject(kind="hang", delay=0.4, times=2)
    with httpx.Client(base_url=server.url, timeout=0.15) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.get("/xml")
    with httpx.Client(base_url=server.url, timeout=2) as patient:
        with pytest.raises(httpx.RemoteProtocolError):
            patient.get("/xml")
        board(patient.get("/xml"))


def test_stop_is_prompt_while_a_hang_fault_sleeps():
    running = SandboxServer().start()
    running.sandbox.inject(kind="hang")  # the default 30 s
    with httpx.Client(base_url=running.url, timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.get("/xml")
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < 1.5


def test_html_fault_looks_like_personio_homepage(server, client):
    server.sandbox.inject(kind="html", times=1)
    response = client.get("/xml?language=en")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Personio" in response.text
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)


def test_malformed_fault_is_truncated_xml(server, client):
    server.sandbox.inject(kind="malformed", times=1)
    response = client.get("/xml?language=en")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0"')
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)


def test_redirect_fault(server, client):
    server.sandbox.inject(kind="redirect", times=1)
    response = client.get("/xml?language=en")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_body_fault_serves_hostile_xml_verbatim(server, client):
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<workzag-jobs><position><id>1</id><name>&b;</name></position></workzag-jobs>"
    )
    server.sandbox.inject(kind="body", body=hostile, content_type="application/xml", times=1)
    response = client.get("/xml?language=en")
    assert response.text == hostile
    assert response.headers["content-type"] == "application/xml"


def test_drop_fault_closes_connection_without_answer(server, client):
    server.sandbox.inject(kind="drop", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/xml?language=en")
    board(client.get("/xml?language=en"))
    assert [r["fault"] for r in server.sandbox.requests] == ["drop", None]


def test_bad_fault_descriptions_are_refused(server):
    with pytest.raises(ValueError, match="kind"):
        server.sandbox.inject(kind="explode")
    with pytest.raises(ValueError, match="target"):
        server.sandbox.inject(target="billing", kind="status")
    with pytest.raises(ValueError):
        server.sandbox.inject(kind="slow", dealy=1)
    with pytest.raises(ValueError):
        server.sandbox.inject(kind="status", times=0)
    with pytest.raises(ValueError):
        server.sandbox.inject(kind="body")


def test_http_fault_api_drives_the_sandbox_from_outside(server, client):
    created = client.post(
        "/_sandbox/faults", json={"kind": "status", "status": 429, "times": 1, "language": "en"}
    )
    assert created.status_code == 201
    assert created.json()["fault"]["status"] == 429
    listed = client.get("/_sandbox/faults").json()["faults"]
    assert listed == [
        {"target": "feed", "kind": "status", "times": 1, "language": "en", "status": 429}
    ]
    assert client.get("/xml?language=de").status_code == 200
    assert client.get("/xml?language=en").status_code == 429
    assert client.get("/xml?language=en").status_code == 200

    assert client.post("/_sandbox/faults", json={"target": "feed", "kind": "empty"}).is_success
    assert client.delete("/_sandbox/faults").status_code == 204
    assert len(board(client.get("/xml?language=en"))) >= 12
    refused = client.post("/_sandbox/faults", json={"kind": "nope"})
    assert refused.status_code == 400 and "nope" in refused.json()["error"]
    assert client.post("/_sandbox/faults", content=b"[1]").status_code == 400

    log = client.get("/_sandbox/requests").json()["requests"]
    assert [(r["path"], r["query"]) for r in log][:2] == [
        ("/xml", {"language": "de"}),
        ("/xml", {"language": "en"}),
    ]
    assert not any(r["path"].startswith("/_sandbox") for r in log)
    assert client.delete("/_sandbox/requests").status_code == 204
    assert server.sandbox.requests == []


# -- pages, data and packaging ---------------------------------------------------------------


def test_job_page_stand_in(server, client):
    page = client.get("/job/1842907")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Senior Robotics Software Engineer" in page.text
    assert "This is the Personio sandbox's stand-in for the hosted job page" in page.text
    assert "Bewegungsplanung" in client.get("/job/1842907?language=de").text
    assert client.get("/job/999").status_code == 404
    index = client.get("/")
    assert 'href="/xml?language=en"' in index.text and 'href="/xml?language=de"' in index.text


def test_sample_board_covers_what_real_feeds_contain():
    english, german = sample_data.sample_positions("en"), sample_data.sample_positions("de")
    assert len(english) >= 13 and [p.id for p in english] == [p.id for p in german]
    assert [p.id for p in german if not p.descriptions] == [sample_data.UNTRANSLATED_ID]
    assert all(3 <= len(p.descriptions) <= 4 for p in english)
    assert len({p.office for p in english}) >= 6 and len({p.department for p in english}) >= 7
    assert {p.employment_type for p in english} >= {
        "permanent", "intern", "trainee", "freelance", "working_student", "temporary"
    }  # fmt: skip
    assert {p.schedule for p in english} == {"full-time", "part-time", "full-or-part-time"}
    assert {p.seniority for p in english} >= {"entry-level", "experienced", "executive", "student"}
    assert {p.years_of_experience for p in english} >= {
        "lt-1", "1-2", "2-5", "5-7", "7-10", "10-15", "gt-15"
    }  # fmt: skip
    assert sum(bool(p.additional_offices) for p in english) >= 3
    salaries = [p.salary for p in english if p.salary]
    assert len(salaries) >= 4 and any(s.max is None for s in salaries)
    assert {s.currency_code for s in salaries} == {"EUR", "GBP"}
    assert any("•" in d.html and "<br>" in d.html for p in english for d in p.descriptions)
    assert any(not p.department and not p.recruiting_category for p in english)


def test_synthetic_positions_are_deterministic_and_render():
    positions = sample_data.synthetic_positions(5000)
    assert positions == sample_data.synthetic_positions(5000)
    assert positions[:50] != sample_data.synthetic_positions(50, seed=1)
    assert len({p.id for p in positions}) == 5000
    sizes = sorted(sum(len(d.html.encode()) for d in p.descriptions) for p in positions)
    assert 900 <= sizes[len(sizes) // 2] <= 3000
    root = etree.fromstring(render_feed(positions))
    assert len(root) == 5000 and root[0].findtext("name") == positions[0].name


def test_last_modified_is_the_boards_http_date(client):
    header = client.get("/xml?language=en").headers["Last-Modified"]
    assert header.endswith(" GMT")  # RFC 9110 IMF-fixdate
    assert abs(parsedate_to_datetime(header) - datetime.now(UTC)) < timedelta(minutes=1)
