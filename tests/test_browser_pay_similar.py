"""What candidates see of pay and similar jobs, in a real browser: the pay on each card,
filtering and sorting by pay, the similar jobs under a job and on a closed job's page."""

from __future__ import annotations

import pytest

from careers.personio.feed import parse_feed

from .apps import FIXTURES, catalogue_of
from .browser import live_server

pytestmark = pytest.mark.browser

POSITIONS = parse_feed((FIXTURES / "feeds" / "pay-rules.xml").read_bytes())


@pytest.fixture
def site(make_app, sandbox):
    for lang in ("en", "de"):
        sandbox.set_positions(lang, list(POSITIONS))
    app = make_app()
    with live_server(app) as base:
        yield base, app


def test_a_candidate_filters_by_pay_and_moves_on_through_similar_jobs(browser, site):
    base, _ = site
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/en/jobs")
    card = page.locator(".job-card", has_text="Robotics Engineer")
    # Screen readers hear "Salary:" first (visually hidden); everyone reads the amount.
    assert card.locator(".job-card__pay").inner_text().split() == [
        "Salary:",
        "€50,000",
        "–",
        "€60,000",
        "gross",
        "a",
        "year",
    ]
    assert card.locator(".job-card__pay").is_visible()
    page.get_by_label("Minimum pay a year").fill("55,000")
    page.get_by_label("Sort by").select_option(label="Highest pay first")
    page.get_by_role("button", name="Show jobs").click()
    assert "min_salary=55%2C000" in page.url and "sort=salary" in page.url
    titles = page.locator(".job-card h3").all_inner_texts()
    assert titles == ["Account Executive", "Robotics Engineer (m/w/d)"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Robotics Engineer (m/w/d)").click()
    similar = page.get_by_role("region", name="Similar jobs")
    assert similar.get_by_role("link").all_inner_texts() == [
        "Firmware Engineer (m/w/d)",
        "Controller",
    ]
    similar.get_by_role("link", name="Firmware Engineer (m/w/d)").click()
    assert "/en/jobs/1002-" in page.url
    assert page.locator("h1").inner_text() == "Firmware Engineer (m/w/d)"
    context.close()


def test_a_closed_job_is_no_dead_end(browser, site, sandbox):
    base, app = site
    catalogue_of(app).refresh_all()  # the job was published once
    for lang in ("en", "de"):
        sandbox.set_positions(lang, [p for p in POSITIONS if p.id != 1002])
    catalogue_of(app).refresh_all()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    answer = page.goto(f"{base}/de/jobs/1002")
    assert answer is not None and answer.status == 410
    similar = page.get_by_role("region", name="Ähnliche Stellen")
    assert similar.get_by_role("link").all_inner_texts() == [
        "Robotics Engineer (m/w/d)",
        "Controller",
    ]
    similar.get_by_role("link", name="Robotics Engineer (m/w/d)").click()
    assert "/de/jobs/1001-" in page.url
    context.close()
