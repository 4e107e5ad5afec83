"""Applying in a real browser: with and without JavaScript, and the checks before upload."""

from __future__ import annotations

import pytest

from . import filegen
from .applying import JOB, apply_env
from .browser import fill_application, live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def site(make_app, sandbox_server, tmp_path):
    app = make_app(**apply_env(sandbox_server.url, tmp_path))
    with live_server(app) as base:
        yield base, app


@pytest.mark.parametrize("javascript", [True, False])
def test_apply_with_and_without_javascript(browser, site, tmp_path, javascript):
    base, app = site
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}")
    page.get_by_role("link", name="Apply now").first.click()
    assert page.url.endswith(f"/en/jobs/{JOB}/apply")
    fill_application(page, filegen.make_pdf(tmp_path / "Lebenslauf.pdf"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Send application").click()
    page.wait_for_url("**/en/applications/**")
    assert "We have received your application" in page.content()
    [summary] = app.extensions["careers"].outbox.summaries()
    assert summary.document_names == ("cv: Lebenslauf.pdf",)
    context.close()


def test_files_over_the_limit_are_refused_before_upload(browser, site, tmp_path):
    base, app = site
    context = browser.new_context()
    page = context.new_page()
    posts = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    big = filegen.make_pdf(tmp_path / "huge.pdf")
    with big.open("ab") as handle:
        handle.truncate(20_000_001)
    fill_application(page, big)
    status = page.locator("#file-status")
    assert "larger than 20 MB" in status.inner_text()
    # The browser fires `invalid` while it validates the form, in the same task in which it
    # would otherwise submit it: once we have seen the event, a POST can no longer follow.
    page.evaluate(
        """() => document.querySelector('#file-cv').addEventListener(
            'invalid', () => { window.cvRefused = true; }, { once: true })"""
    )
    page.get_by_role("button", name="Send application").click()
    page.wait_for_function("window.cvRefused === true", timeout=5000)
    assert posts == []  # nothing was uploaded
    assert page.evaluate("document.querySelector('#file-cv').validationMessage")
    # A wrong type is caught the same way.
    page.set_input_files("#file-cv", str(filegen.make_elf(tmp_path / "tool.exe")))
    assert "not a file type we accept" in status.inner_text()
    assert status.get_attribute("aria-live") == "polite"
    context.close()


def test_after_an_error_focus_moves_to_the_summary(browser, site, tmp_path):
    base, _ = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(
        page, filegen.make_html(tmp_path / "cv.pdf")
    )  # passes the browser, not the server
    page.get_by_role("button", name="Send application").click()
    page.wait_for_selector("#error-summary")  # shown in place: the form was sent in the background
    assert page.evaluate("document.activeElement.id") == "error-summary"
    link = page.locator("#error-summary a").first
    assert link.get_attribute("href") == "#file-cv"
    assert page.input_value("#field-last_name") == "Müller"
    context.close()


def choose_by_keyboard(page, path) -> None:
    """Space on the focused file input opens the chooser (retried: under load Chromium
    sometimes drops the first key press while the page is still settling)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        try:
            with page.expect_file_chooser(timeout=5000) as chooser:
                page.keyboard.press("Space")
        except PlaywrightTimeout:
            continue
        chooser.value.set_files(str(path))
        return
    raise AssertionError("the file input did not open its chooser from the keyboard")


def test_apply_by_keyboard_only(browser, site, tmp_path):
    """Tab order, visible focus, file input, error summary and its links, all by keyboard."""
    base, app = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
                outline = page.evaluate(
                    "(() => { const s = getComputedStyle(document.activeElement);"
                    " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 })()"
                )
                assert outline, f"no visible focus on {selector}"
                return
        raise AssertionError(f"{selector} not reachable with Tab")

    order = []
    page.keyboard.press("Tab")
    order.append(page.evaluate("document.activeElement.className"))
    assert order == ["skip-link"]
    tab_to("#field-first_name")
    page.keyboard.type("Jürgen")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "field-last_name"  # reading order
    page.keyboard.type("Müller")
    tab_to("#field-email")
    page.keyboard.type("juergen@example.com")
    tab_to("#field-custom_attribute_1002")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#field-custom_attribute_1002") == "friend"
    tab_to("#file-cv")
    # An HTML page named .pdf passes the browser's checks; the server finds it out.
    choose_by_keyboard(page, filegen.make_html(tmp_path / "cv.pdf"))
    tab_to("#field-consent")
    page.keyboard.press("Space")
    tab_to("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#file-cv"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "file-cv"  # the link leads to the field
    choose_by_keyboard(page, filegen.make_pdf(tmp_path / "real.pdf"))
    tab_to("#field-consent")
    if not page.is_checked("#field-consent"):
        page.keyboard.press("Space")
    tab_to("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/applications/**")
    assert app.extensions["careers"].outbox.summaries()[0].document_names == ("cv: real.pdf",)
    context.close()
