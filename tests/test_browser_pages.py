"""The job pages in a real browser: phone width, no JavaScript, no third-party requests."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .browser import live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app):
    with live_server(app) as base:
        yield base


def test_phone_without_javascript_filters_and_opens_a_job(browser, site):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(f"{site}/en/jobs")
    assert page.locator("h1").inner_text() == "Open positions"
    # Nothing wider than the phone: no horizontal scrolling.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    cards_before = page.locator(".job-list > li").count()
    assert cards_before == 15
    # Filters are a plain form: open the panel, tick a value, submit.
    page.locator("summary").first.click()
    page.get_by_label("Vienna").check()
    page.get_by_role("button", name="Show jobs").click()
    assert "office=Vienna" in page.url
    assert page.locator(".job-list > li").count() == 1
    page.locator(".job-list a").first.click()
    assert "/en/jobs/1843054-" in page.url
    assert page.get_by_role("link", name="Apply now").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert hosts == {urlsplit(site).netloc}  # not a single request to anyone else
    context.close()


def test_desktop_keyboard_reaches_search_and_jobs(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{site}/de/jobs")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Zum Inhalt springen"  # the skip link comes first
    page.keyboard.press("Enter")
    page.locator("#q").fill("Roboter")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=Roboter**")
    assert page.locator(".job-list > li").count() >= 1
    context.close()
