"""The short default form in a real browser, on a phone and a desktop: the time estimate in
view above the first field, problems listed in the order of the page and each link landing on
its field, axe clean, and an application without cover letter or message delivered."""

from __future__ import annotations

import pytest

from . import filegen
from .applying import JOB, deliver_all, every_language_env, short_form_env
from .browser import audit, live_server, new_page

pytestmark = pytest.mark.browser


@pytest.fixture
def site(make_app, sandbox, sandbox_server, tmp_path):
    app = make_app(
        **short_form_env(sandbox_server.url, tmp_path), **every_language_env(sandbox, tmp_path)
    )
    with live_server(app) as base:
        yield base, app


def top(page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["y"]


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("lang", ["en", "de"])
def test_short_form_estimate_summary_and_delivery(browser, site, sandbox, tmp_path, lang, width):
    base, app = site
    context, page = new_page(browser, width=width)
    page.goto(f"{base}/{lang}/jobs/{JOB}/apply")
    estimate = page.locator("#form-time")
    assert estimate.is_visible()
    expected = {"en": "This form takes about 2 minutes.", "de": "etwa 2 Minuten"}[lang]
    assert expected in estimate.inner_text()
    assert top(page, "#form-time") < top(page, "#field-first_name") < 900  # seen at once
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    audit(page, f"{lang} {width}px short form")

    # Sent empty (as by a browser that does not check required fields): every problem, in
    # the order of the page, each link landing on its field.
    page.evaluate("document.querySelector('form.apply-form').noValidate = true")
    page.click("button[type=submit]")
    page.wait_for_selector("#error-summary")
    links = page.locator("#error-summary a")
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert targets == [
        "#field-first_name",
        "#field-last_name",
        "#field-email",
        "#file-cv",
        "#field-consent",
    ]
    tops = [top(page, target) for target in targets]
    assert tops == sorted(tops)
    audit(page, f"{lang} {width}px short form with errors")
    links.nth(3).click()
    assert page.evaluate("document.activeElement.id") == "file-cv"

    # Names, email, CV and consent are enough.
    page.evaluate("document.querySelector('form.apply-form').noValidate = false")
    page.fill("#field-first_name", "Jürgen")
    page.fill("#field-last_name", "Müller")
    page.fill("#field-email", "juergen@example.com")
    page.set_input_files("#file-cv", str(filegen.make_pdf(tmp_path / "cv.pdf")))
    page.check("#field-consent")
    page.click("button[type=submit]")
    page.wait_for_url("**/applications/**")
    assert deliver_all(app) == ["delivered"]
    [received] = sandbox.received_applications
    assert [f["category"] for f in received["body"]["files"]] == ["cv"]
    context.close()
