"""Kept files in a real browser (issue 23 point 3): after a refusal that is not about a file,
the CV shows as attached (name, size, "Remove") with and without JavaScript, a required input
is satisfied by it until it is removed, and sending again delivers it without attaching it
anew."""

from __future__ import annotations

import hashlib

import pytest

from . import filegen
from .applying import JOB, apply_env, deliver_all
from .browser import audit, fill_application, live_server, new_page

pytestmark = pytest.mark.browser

# Passes the browser's own check of type=email, refused by the server: a refusal that is
# not about a file, reached with the browser's validation on.
NO_DOMAIN = "juergen@localhost"
# What the browser would say at each file input that stops the form (apply.js sets them).
INVALID_INPUTS = (
    "Array.from(document.querySelectorAll('input[type=file]'), i => i.validationMessage)"
    ".filter(Boolean)"
)


@pytest.fixture
def site(make_app, sandbox_server, tmp_path):
    app = make_app(**apply_env(sandbox_server.url, tmp_path))
    with live_server(app) as base:
        yield base, app


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_kept_cv_shows_as_attached_and_is_delivered_when_sent_again(
    browser, site, sandbox, tmp_path, javascript
):
    base, app = site
    cv = filegen.make_pdf(tmp_path / "Lebenslauf.pdf")
    context, page = new_page(browser, javascript=javascript, width=360)
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(page, cv, email=NO_DOMAIN)
    page.get_by_role("button", name="Send application").click()
    page.locator("#error-summary").wait_for()
    assert "still attached" in page.locator("#error-summary").inner_text()

    kept = page.locator(".file-item--kept")
    assert kept.count() == 1
    assert kept.locator(".file-item__name").inner_text() == "Lebenslauf.pdf"
    assert "kB" in kept.inner_text() and "attached" in kept.inner_text()
    assert kept.is_visible()
    remove = page.get_by_role("checkbox", name="Remove Lebenslauf.pdf")
    assert remove.count() == 1
    # The kept CV satisfies the required input: the browser lets the form go without it.
    assert page.evaluate("document.querySelector('#file-cv').required") is False
    if javascript:
        audit(page, "kept file")  # axe runs as a script: the page without one is the same HTML
        # Removing it hides it and makes the input required again; ticking it back is not
        # offered (as for a chosen file), so the test puts it back the way a reload would.
        page.locator(".file-item--kept label").click()
        assert kept.is_hidden()
        assert page.evaluate("document.querySelector('#file-cv').required") is True
        page.evaluate(
            "() => { const b = document.querySelector('.file-item--kept input');"
            " b.checked = false; b.dispatchEvent(new Event('change')); }"
        )
        assert kept.is_visible()
        assert page.evaluate("document.querySelector('#file-cv').required") is False

    page.fill("#field-email", "juergen@example.com")
    page.get_by_role("button", name="Send application").click()
    page.wait_for_url("**/en/applications/**", timeout=30_000)
    [summary] = app.extensions["careers"].outbox.summaries()
    assert summary.document_names == ("cv: Lebenslauf.pdf",)
    assert list(app.extensions["careers"].spool.kept.iterdir()) == []
    assert deliver_all(app) == ["delivered"]
    [delivered] = sandbox.received_documents.values()
    assert delivered.filename == "Lebenslauf.pdf"
    assert delivered.sha256 == hashlib.sha256(cv.read_bytes()).hexdigest()
    context.close()


def test_kept_files_count_toward_the_limits_the_browser_checks(browser, site, tmp_path):
    """With the CV kept, ten newly chosen letters are one file too many (the form allows
    ten), said before anything is sent; removing the kept CV makes room."""
    base, _ = site
    context, page = new_page(browser)
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"), email=NO_DOMAIN)
    page.get_by_role("button", name="Send application").click()
    page.locator(".file-item--kept").wait_for()
    page.fill("#field-email", "juergen@example.com")
    letters = [str(filegen.make_txt(tmp_path / f"letter{i}.txt", text=str(i))) for i in range(10)]
    page.set_input_files("#file-cover-letter", letters)
    status = page.locator("#file-status")
    assert "You can attach at most 10 files." in status.inner_text()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="Send application").click()
    assert page.evaluate(INVALID_INPUTS) == ["You can attach at most 10 files."]
    assert posts == []  # refused in the browser
    page.locator(".file-item--kept label").click()
    assert status.inner_text() == ""
    # Room again; but the CV is required once more, and the browser says so at its input.
    assert page.evaluate("document.querySelector('#file-cv').validity.valueMissing") is True
    assert page.evaluate(INVALID_INPUTS) == [
        page.evaluate("document.querySelector('#file-cv').validationMessage")
    ]
    context.close()
