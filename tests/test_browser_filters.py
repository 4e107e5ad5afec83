"""Filtering in a real browser shows the results: on a 360 px phone and a desktop, with and
without JavaScript, the result count and the first jobs are in view afterwards and the panel is
closed; ticking a filter with JavaScript applies it at once; the sticky "Show jobs" bar never
hides an option."""

from __future__ import annotations

import pytest

from .applying import LANGUAGES, every_language_env
from .browser import live_server

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def site(app):
    with live_server(app) as base:
        yield base


def in_view(page, selector: str) -> bool:
    """Whether the element's top edge is on screen and its box not entirely above it."""
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] < height and box["height"] > 0


def panel_open(page) -> bool:
    return page.evaluate("document.querySelector('.filters__panel').open")


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_after_show_jobs_the_results_are_in_view(browser, site, viewport, javascript):
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{site}/en/jobs")
    if viewport is PHONE:
        page.locator("summary").first.click()
    page.get_by_label("Munich").check()
    page.get_by_label("Engineering").first.check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**department=Engineering#results")
    page.wait_for_load_state()
    assert page.url.endswith("#results")
    count = page.locator("#results-heading")
    assert count.inner_text() == "4 jobs"
    assert page.locator(".job-list > li").count() == 4
    assert in_view(page, "#results-heading"), count.bounding_box()
    assert in_view(page, ".job-list > li"), page.locator(".job-list > li").first.bounding_box()
    assert not panel_open(page)
    if viewport is DESKTOP:
        # Beside the filters the page stays at its top: heading and filters both in view.
        assert page.evaluate("window.scrollY") == 0
        assert page.locator("h1").is_visible()
        assert page.get_by_label("Munich").is_checked()  # the sidebar shows every facet
    else:
        assert page.evaluate("window.scrollY") > 300  # it did move down to the results
    # Removing a filter by its chip lands on the results again.
    page.get_by_role("link", name="Remove filter: Location: Munich").click()
    page.wait_for_load_state()
    assert page.locator("#results-heading").inner_text() == "5 jobs"
    assert in_view(page, "#results-heading")
    context.close()


def test_a_ticked_filter_applies_at_once(browser, site):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{site}/en/jobs")
    page.evaluate("window.samePage = true")  # gone if the page were loaded again
    page.locator("summary").first.click()
    page.get_by_label("Vienna").check()
    # The results, the facet counts and the button follow without a page load.
    page.wait_for_function(
        "() => document.getElementById('results-heading').textContent.trim() === '1 job'"
    )
    assert page.locator(".job-list > li").count() == 1
    assert page.locator("#show-jobs").inner_text() == "Show 1 job"
    assert page.evaluate("document.getElementById('filter-status').textContent") == "1 job"
    assert panel_open(page)  # more filters can be ticked
    assert page.evaluate("document.activeElement.value") == "Vienna"  # focus stays put
    assert page.url.endswith("/en/jobs?sort=newest&office=Vienna")  # a reload shows the same
    assert page.evaluate("window.samePage") is True
    # A second tick narrows the list further; unticking widens it again.
    page.get_by_label("Sales").first.check()
    page.wait_for_function(
        "() => document.getElementById('show-jobs').textContent === 'Show 1 job'"
    )
    page.get_by_label("Vienna").uncheck()
    page.wait_for_function(
        "() => document.getElementById('show-jobs').textContent === 'Show 3 jobs'"
    )
    assert page.locator(".job-list > li").count() == 3
    # "Show jobs" closes the panel and brings the results into view.
    page.locator("#show-jobs").click()
    page.wait_for_function("() => !document.querySelector('.filters__panel').open")
    page.wait_for_function("() => window.scrollY > 300")
    assert in_view(page, "#results-heading")
    assert in_view(page, ".job-list > li")
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_sticky_bar_never_covers_an_option(browser, site, viewport):
    """Tabbing through every option: the focused one is never under the "Show jobs" bar."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{site}/en/jobs")
    if viewport is PHONE:
        page.locator("summary").first.click()
    boxes = page.locator(".facet input")
    total = boxes.count()
    assert total > 30
    # From the first option on (the panel's other fields, such as pay, come before it).
    boxes.first.focus()
    for index in range(total):
        if index:
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('.facet') !== null")
        option = page.locator(".facet li").nth(index).bounding_box()
        bar = page.locator(".actions").bounding_box()
        assert option["y"] + option["height"] <= bar["y"], (index, option, bar)
        assert option["y"] >= 0
    # At the end of the page the bar sits below the last option.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = page.locator(".facet li").last.bounding_box()
    assert last["y"] + last["height"] <= page.locator(".actions").bounding_box()["y"]
    context.close()


@pytest.fixture
def every_language_site(make_app, sandbox, tmp_path):
    with live_server(make_app(**every_language_env(sandbox, tmp_path))) as base:
        yield base


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_on_a_phone(browser, every_language_site, lang, javascript):
    """The same landing in every language: the second office ticked, the count in view."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{every_language_site}/{lang}/jobs")
    start = page.locator("#show-jobs").inner_text()
    page.locator("summary").first.click()
    page.locator(".facet").first.locator("input").nth(1).check()
    if javascript:
        # The button now says how many jobs it will show, in the page's language.
        page.wait_for_function(
            f"() => document.getElementById('show-jobs').textContent !== {start!r}"
        )
        label = page.locator("#show-jobs").inner_text()
        assert any(ch.isdigit() for ch in label), label
    page.locator("#show-jobs").click()
    page.wait_for_url("**#results")
    page.wait_for_load_state()
    shown = page.locator(".job-list > li").count()
    assert shown >= 1
    assert str(shown) in page.locator("#results-heading").inner_text()
    assert in_view(page, "#results-heading")
    assert in_view(page, ".job-list > li")
    assert not panel_open(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
