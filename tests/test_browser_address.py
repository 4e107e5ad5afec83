"""Both forms of address in a real browser (CAREERS_ADDRESS): the German application form and
its error summary say "Sie" by default and "du" when configured, at phone and desktop width."""

from __future__ import annotations

import pytest

from . import filegen
from .applying import JOB, apply_env
from .browser import fill_application, live_server
from .i18n_checks import address_word

pytestmark = pytest.mark.browser

# The sample form file's own German label (tests/applying.py): the company's words, not ours.
FORM_FILE_LABEL = "Wie hast du von uns erfahren?"
WORDS = {
    "formal": ("Über Sie", "Bei Ihrer Bewerbung gibt es 1 Problem", "Bitte geben Sie"),
    "informal": ("Über dich", "Bei deiner Bewerbung gibt es 1 Problem", "Bitte gib"),
}


@pytest.mark.parametrize(("address", "width"), [("formal", 1280), ("informal", 360)])
def test_the_german_form_speaks_in_the_configured_address(
    browser, make_app, sandbox_server, tmp_path, address, width
):
    app = make_app(**apply_env(sandbox_server.url, tmp_path), address=address)
    about, summary, request = WORDS[address]
    other = "informal" if address == "formal" else "formal"
    with live_server(app) as base:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/de/jobs/{JOB}/apply")
        assert page.get_by_text(about, exact=True).is_visible()
        fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"))
        page.fill("#field-phone", "call me")  # the server's check, not the browser's
        page.get_by_role("button", name="Bewerbung absenden").click()
        heading = page.locator("#error-summary-title")
        heading.wait_for()
        assert heading.inner_text() == summary
        assert request in page.locator("#error-summary").inner_text()
        shown = page.locator("main").inner_text().replace(FORM_FILE_LABEL, " ")
        assert address_word("de", other, shown) is None, shown
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()
