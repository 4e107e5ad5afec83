"""The catalogue against the sandbox on loopback: stale-while-revalidate, disk copy, faults."""

from __future__ import annotations

import threading
import time

import lxml.html
import pytest

from careers.sandbox.sample_data import UNTRANSLATED_ID, sample_positions

from .apps import FIXTURES, catalogue_of

# Whole boards shaped like real accounts' feeds (fictional companies, our own texts).
REFERENCE = FIXTURES / "feeds" / "accounts"


def feed_requests(sandbox, language: str | None = None) -> list[dict]:
    return [
        r
        for r in sandbox.requests
        if r["path"] == "/xml" and (language is None or r["query"].get("language") == language)
    ]


def test_cold_start_fetches_then_serves_the_board(client, sandbox):
    page = client.get("/en/jobs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for position in sample_positions("en"):
        assert position.name.replace("&", "&amp;") in text
    assert feed_requests(sandbox, "en")


def test_failing_upstream_keeps_serving_the_last_good_copy(app, client, sandbox):
    assert client.get("/en/jobs").status_code == 200
    catalogue = catalogue_of(app)
    catalogue.ttl = 0  # every request now finds the copy stale
    for kind in ("status", "html", "malformed", "redirect", "drop"):
        sandbox.clear_faults()
        sandbox.inject(kind=kind)
        page = client.get("/en/jobs")
        assert page.status_code == 200, kind
        assert "Embedded Systems Engineer" in page.get_data(as_text=True), kind
        catalogue.wait_idle()  # the refresh this request started has failed
        assert catalogue.status("en").consecutive_failures >= 1, kind
    metrics = client.get("/metrics").get_data(as_text=True)
    for reason in ("http_status", "not_xml", "malformed", "redirect", "transport"):
        assert f'outcome="{reason}"' in metrics, reason


def test_a_request_never_waits_on_a_hanging_personio(app, client, sandbox):
    assert client.get("/en/jobs").status_code == 200
    catalogue_of(app).ttl = 0
    sandbox.inject(kind="hang", delay=20)
    started = time.monotonic()
    for _ in range(5):
        assert client.get("/en/jobs").status_code == 200
    assert time.monotonic() - started < 2.0
    sandbox.release()


def test_restart_while_personio_is_down_serves_jobs_from_disk(make_app, sandbox, tmp_path):
    first = make_app(data_dir=tmp_path / "shared-data")
    assert first.test_client().get("/de/jobs").status_code == 200
    assert first.test_client().get("/en/jobs").status_code == 200
    sandbox.inject(kind="status", status=503)
    sandbox.clear_requests()
    second = make_app(data_dir=tmp_path / "shared-data", feed_ttl="3600")
    page = second.test_client().get("/de/jobs")
    assert page.status_code == 200
    assert "Embedded Systems Engineer" in page.get_data(as_text=True)
    assert feed_requests(sandbox) == []  # a fresh copy on disk needs no fetch at all


def test_no_copy_at_all_gives_a_friendly_503(client, sandbox):
    sandbox.inject(kind="status", status=502)
    page = client.get("/en/jobs")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    text = page.get_data(as_text=True)
    assert "Please try again in a minute" in text and "Traceback" not in text
    api = client.get("/api/v1/jobs?lang=en")
    assert api.status_code == 503 and api.json["error"]["status"] == 503


def test_refresh_is_conditional_once_we_hold_validators(app, client, sandbox):
    assert client.get("/en/jobs").status_code == 200
    sandbox.clear_requests()
    assert catalogue_of(app).refresh("en") == "not_modified"
    [request] = feed_requests(sandbox, "en")
    assert request["headers"].get("If-None-Match")


def test_changed_board_replaces_the_copy_and_closed_jobs_answer_410(make_app, sandbox, tmp_path):
    app = make_app(data_dir=tmp_path / "d")
    client = app.test_client()
    assert client.get("/en/jobs/1842958").status_code == 301
    catalogue_of(app).wait_idle()  # both languages loaded: the board version is settled
    listing = client.get("/en/jobs")
    assert "Embedded Systems Engineer" in listing.get_data(as_text=True)
    assert (
        client.get("/en/jobs", headers={"If-None-Match": listing.headers["ETag"]}).status_code
        == 304
    )
    for lang in ("en", "de"):
        sandbox.set_positions(lang, [p for p in sample_positions(lang) if p.id != 1842958])
    assert catalogue_of(app).refresh_all() == {"en": "ok", "de": "ok"}
    # Cached pages belong to the old board: the list changes and the old ETag no longer matches.
    fresh = client.get("/en/jobs", headers={"If-None-Match": listing.headers["ETag"]})
    assert fresh.status_code == 200
    assert "Embedded Systems Engineer" not in fresh.get_data(as_text=True)
    gone = client.get("/en/jobs/1842958-embedded-systems-engineer-m-f-d")
    assert gone.status_code == 410
    assert "Embedded Systems Engineer" in gone.get_data(as_text=True)  # the title is remembered
    assert client.get("/en/jobs/999999").status_code == 404
    # The memory of closed jobs survives a restart.
    sandbox.inject(kind="status", status=503)
    again = make_app(data_dir=tmp_path / "d").test_client()
    assert again.get("/en/jobs/1842958").status_code == 410
    assert again.get("/api/v1/jobs/1842958?lang=en").status_code == 410


def test_empty_board_is_a_valid_empty_board(app, client, sandbox):
    sandbox.inject(kind="empty")
    page = client.get("/en/jobs")
    assert page.status_code == 200
    assert "no open positions right now" in page.get_data(as_text=True)
    assert client.get("/api/v1/jobs?lang=en").json["total"] == 0


def test_concurrent_requests_during_a_slow_refresh(app, sandbox):
    assert app.test_client().get("/en/jobs").status_code == 200
    catalogue = catalogue_of(app)
    catalogue.wait_idle()  # the first visit's refreshes are over before we count requests
    catalogue.ttl = 0
    sandbox.clear_requests()
    # Personio holds its answer (until released below, at most 10 s: under the client's read
    # timeout), so the whole burst runs while the one refresh is in flight.
    sandbox.inject(kind="slow", delay=10.0)
    statuses: list[int] = []
    durations: list[float] = []

    def hit() -> None:
        client = app.test_client()
        for _ in range(5):
            started = time.monotonic()
            statuses.append(client.get("/en/jobs?q=engineer").status_code)
            durations.append(time.monotonic() - started)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 40
    # Waiting for the upstream would take its whole 10 s hold (or the 8 s cold-start wait).
    assert max(durations) < 5.0  # nobody waited for the slow upstream
    sandbox.release()  # Personio answers now...
    catalogue.wait_idle()  # ...and the background refresh has reached it and finished
    assert len(feed_requests(sandbox, "en")) == 1  # single flight


def test_language_fallback_borrows_text_and_marks_it(app, client, sandbox):
    assert client.get("/de/jobs").status_code == 200
    catalogue_of(app).wait_idle()  # the first visit fetched every language
    page = client.get(f"/de/jobs/{UNTRANSLATED_ID}", follow_redirects=True)
    assert page.status_code == 200
    tree = lxml.html.fromstring(page.get_data(as_text=True))
    assert tree.get("lang") == "de"
    [article] = tree.xpath("//article")
    assert article.get("lang") == "en"  # the borrowed English text is marked for readers
    english = next(p for p in sample_positions("en") if p.id == UNTRANSLATED_ID)
    assert english.descriptions[0].name in article.text_content()
    api = client.get(f"/api/v1/jobs/{UNTRANSLATED_ID}?lang=de").json["job"]
    assert api["language"] == "de" and api["text_language"] == "en"
    assert api["descriptions"][0]["name"] == english.descriptions[0].name


@pytest.mark.parametrize("fixture", ["xxe.xml", "laughs.xml", "truncated.xml", "wrong-root.xml"])
def test_hostile_or_broken_feed_changes_nothing(app, client, sandbox, fixture):
    assert client.get("/en/jobs").status_code == 200
    sandbox.inject(kind="body", body=(FIXTURES / "feeds" / fixture).read_text())
    outcome = catalogue_of(app).refresh("en")
    assert outcome in {"dtd", "malformed", "wrong_root"}
    page = client.get("/en/jobs").get_data(as_text=True)
    assert "Embedded Systems Engineer" in page
    assert "haha" not in page


def test_hostile_descriptions_are_served_sanitised(app, client, sandbox):
    sandbox.inject(kind="body", body=(FIXTURES / "feeds" / "script.xml").read_text())
    page = client.get("/en/jobs/901", follow_redirects=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    tree = lxml.html.fromstring(html)
    # No element that runs or frames anything; JSON-LD is data (checked in test_seo.py), and
    # the one script file is the share links' own, outside the description.
    ours = tree.xpath("//section[@class='share']/following-sibling::script[1]")
    assert len(ours) == 1 and ours[0].get("src").startswith("/static/share.js?v=")
    assert (
        tree.xpath(
            "//script[not(@type='application/ld+json')] | //iframe | //svg | //form | //style | //object | //embed"
        )
        == ours
    )
    assert not tree.xpath("//@*[starts-with(name(), 'on')]")  # no event handler attributes
    assert not tree.xpath("//@style")
    assert not [href for href in tree.xpath("//@href") if "javascript" in href.lower()]
    # The markup in the title and the heading arrives as harmless text.
    assert tree.xpath("//h1")[0].text_content().startswith('<script>alert("title")')
    headings = [h.text_content() for h in tree.xpath("//h2")]
    assert "About <img src=x onerror=alert('heading')>" in headings
    assert 'href="https://example.com/ok" rel="noopener noreferrer"' in html


def test_a_real_account_feed_renders_completely(client, sandbox):
    body = (REFERENCE / "wrenfield-full.xml").read_text()
    sandbox.inject(kind="body", body=body)
    listing = client.get("/en/jobs").get_data(as_text=True)
    assert "11 jobs" in listing
    assert "Photographer &amp; Content Creator (freelance)" in listing
    for job_id in ("3301417", "3301409", "3301420", "3301402", "3301422"):
        page = client.get(f"/en/jobs/{job_id}", follow_redirects=True)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'class="job__section"' in html
    detail = client.get("/en/jobs/3301417", follow_redirects=True).get_data(as_text=True)
    assert "Fatigue-testing every new frame geometry" in detail
    assert "from £52,000 gross a year" in detail  # <max></max> is empty
    assert "Wrenfield Cycles Ltd." in detail
    assert "Bristol, Manchester" in detail  # main office, then <additionalOffices>
    ranged = client.get("/en/jobs/3301416", follow_redirects=True).get_data(as_text=True)
    assert "£38,000 – £45,000 gross a year" in ranged
    assert "Manchester, Bristol, Leeds" in ranged
    monthly = client.get("/en/jobs/3301411", follow_redirects=True).get_data(as_text=True)
    assert "from €4,200 gross a month" in monthly
    # An additional office is a location filter value like any main office.
    leeds = client.get("/en/jobs?office=Leeds").get_data(as_text=True)
    assert "1 job found" in leeds and "Service Workshop Lead" in leeds
    assert "Frame Design Engineer" not in leeds
