"""Similar jobs (careers/jobs/similar.py): related by department, office, occupation and
keywords, on every job page and on a closed job's 410 page, computed when the feed changes.

Uses the pay test feed (tests/fixtures/feeds/pay-rules.xml): Engineering and Finance in
Vienna, Sales in Berlin, Operations in Graz and Linz.
"""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import pytest

from careers.jobs import similar
from careers.personio.feed import parse_feed
from careers.personio.model import Position

from .apps import FIXTURES, catalogue_of

POSITIONS = parse_feed((FIXTURES / "feeds" / "pay-rules.xml").read_bytes())


def _job(position_id: int, name: str, **facts) -> Position:
    day = datetime(2026, 11, position_id % 28 + 1, tzinfo=UTC)
    return Position(id=position_id, name=name, created_at=day, **facts)


def test_related_jobs_rank_by_what_they_share_then_by_age():
    board = [
        _job(1, "Backend Engineer", department="Engineering", office="Berlin"),
        _job(2, "Frontend Engineer", department="Engineering", office="Munich"),
        _job(3, "Platform Engineer", department="Engineering", office="Berlin"),
        _job(4, "Office Manager", department="People", office="Berlin"),
        _job(5, "Accountant", department="Finance", office="Hamburg", keywords=("SAP",)),
        _job(6, "Data Engineer", department="Engineering", office="Munich"),
        _job(7, "Controller", department="Finance", office="Vienna", keywords=("sap ",)),
    ]
    index = similar.Index(board)
    # 3: department + office + "engineer"; 6 and 2: department + word, newest first.
    assert [p.id for p in index.related(1)] == [3, 6, 2]
    assert [p.id for p in index.related(4)] == [3, 1]  # the same office only
    assert [p.id for p in index.related(5)] == [7]  # department and a keyword, any case
    lone = similar.Index([*board, _job(8, "Chef", office="Lisbon")])
    assert lone.related(8) == ()  # nothing in common: no list rather than noise
    assert 1 not in {p.id for p in index.related(1)}


def test_gender_markers_and_seniority_words_relate_nothing():
    board = [_job(1, "Senior Designer (m/w/d)"), _job(2, "Senior Lawyer (m/w/d)")]
    assert similar.Index(board).related(1) == ()


def _similar_links(html: str) -> list[str]:
    page = lxml.html.fromstring(html)
    return [a.text_content().strip() for a in page.xpath("//section[@class='similar']//a")]


@pytest.fixture
def board(sandbox):
    for lang in ("en", "de"):
        sandbox.set_positions(lang, list(POSITIONS))
    return sandbox


def test_every_job_page_offers_up_to_three_similar_jobs(make_app, board):
    client = make_app().test_client()
    html = client.get("/en/jobs/1001", follow_redirects=True).get_data(as_text=True)
    assert _similar_links(html) == ["Firmware Engineer (m/w/d)", "Controller"]
    assert "Similar jobs" in html
    german = client.get("/de/jobs/1005", follow_redirects=True).get_data(as_text=True)
    assert "Ähnliche Stellen" in german
    assert _similar_links(german) == ["Forklift Driver", "Packing Assistant"]
    page = lxml.html.fromstring(german)
    assert page.xpath("//section[@class='similar']//a/@href")[0].startswith("/de/jobs/1006-")


def test_a_page_looks_the_list_up_and_computes_nothing(make_app, board, monkeypatch):
    app = make_app()
    client = app.test_client()
    assert client.get("/en/jobs").status_code == 200  # the board is built
    assert [p.id for p in catalogue_of(app).snapshot("en").similar[1004]] == [1003]

    def no_scoring(*args, **kwargs):
        raise AssertionError("similar jobs scored while answering a request")

    monkeypatch.setattr(similar.Index, "related", no_scoring)
    html = client.get("/en/jobs/1004", follow_redirects=True).get_data(as_text=True)
    assert _similar_links(html) == ["Account Executive"]


def test_a_closed_job_answers_410_with_similar_open_jobs_even_after_a_restart(
    make_app, board, tmp_path
):
    data = tmp_path / "shared"
    app = make_app(data)
    client = app.test_client()
    assert client.get("/en/jobs").status_code == 200
    for lang in ("en", "de"):
        board.set_positions(lang, [p for p in POSITIONS if p.id != 1002])
    catalogue_of(app).refresh_all()
    gone = client.get("/en/jobs/1002")
    assert gone.status_code == 410
    # What the job was (Vienna, Engineering, its occupation) while this process saw it.
    assert _similar_links(gone.get_data(as_text=True)) == [
        "Robotics Engineer (m/w/d)",
        "Controller",
    ]
    api = client.get("/api/v1/jobs/1002")
    assert api.status_code == 410 and api.is_json
    # A restart knows only the closed job's title: its words still find a relative.
    restarted = make_app(data).test_client()
    assert restarted.get("/en/jobs").status_code == 200
    again = restarted.get("/en/jobs/1002")
    assert again.status_code == 410
    assert _similar_links(again.get_data(as_text=True)) == ["Robotics Engineer (m/w/d)"]
    assert restarted.get("/en/jobs/424242").status_code == 404  # never seen: no list, 404


def test_a_rebuild_with_the_same_positions_scores_nothing(monkeypatch):
    board = [
        _job(1, "Backend Engineer", department="Engineering"),
        _job(2, "Data Engineer", department="Engineering"),
    ]
    memory = similar.Memory()
    first = memory.lists("en", board, {})
    assert [p.id for p in first[0][1]] == [2]

    def no_scoring(*args, **kwargs):
        raise AssertionError("scored again")

    monkeypatch.setattr(similar.Index, "related", no_scoring)
    assert memory.lists("en", list(board), {}) == first  # another language's refresh
    with pytest.raises(AssertionError, match="scored again"):
        memory.lists("en", board, {3: {"en": "Engineer"}})  # a job closed: new lists
