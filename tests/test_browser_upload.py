"""The upload in a real browser: drop zones, the list of chosen files, problems shown beside the
file before sending, the limits taken from the form, and a progress bar while sending that
ends on the receipt, or says what to do when the connection breaks."""

from __future__ import annotations

import pytest

from careers.applications.rules import LIMITS

from . import filegen
from .applying import JOB, apply_env, deliver_all
from .browser import fill_application, live_server

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
RED = "rgb(179, 38, 30)"


@pytest.fixture
def site(make_app, sandbox_server, tmp_path):
    app = make_app(**apply_env(sandbox_server.url, tmp_path))
    with live_server(app) as base:
        yield base, app


def chosen(page, category: str) -> list[str]:
    """The names the real file input holds: what the form sends."""
    return page.evaluate(
        f"Array.from(document.querySelector('#file-{category}').files, f => f.name)"
    )


def test_choose_list_remove_and_flag_before_sending(browser, site, tmp_path):
    base, app = site
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    zone = page.locator(".dropzone:has(#file-cv)")
    assert "Choose files" in zone.inner_text()
    # A second choice adds to the first; each file is listed with its size.
    page.set_input_files("#file-cv", str(filegen.make_pdf(tmp_path / "Lebenslauf.pdf")))
    page.set_input_files(
        "#file-cv", str(filegen.make_pdf_padded(tmp_path / "Zeugnis.pdf", nul=1_500_000))
    )
    items = page.locator(".field--file:has(#file-cv) .file-item")
    assert items.count() == 2
    assert chosen(page, "cv") == ["Lebenslauf.pdf", "Zeugnis.pdf"]
    assert "1.5 MB" in items.nth(1).inner_text()
    assert "kB" in items.nth(0).inner_text()
    # A file over the limit is flagged in red beside it, and stops the form being sent.
    big = filegen.make_pdf(tmp_path / "huge.pdf")
    with big.open("ab") as handle:
        handle.truncate(LIMITS.file_bytes + 1)
    page.set_input_files("#file-cv", str(big))
    flagged = items.nth(2)
    error = flagged.locator(".file-item__error")
    assert error.inner_text() == "“huge.pdf” is larger than 20 MB."
    assert page.evaluate("e => getComputedStyle(e).color", error.element_handle()) == RED
    assert items.nth(0).locator(".file-item__error").is_hidden()
    page.fill("#field-first_name", "Jürgen")
    page.get_by_role("button", name="Send application").click()
    assert page.evaluate("document.querySelector('#file-cv').validationMessage")
    # Remove: by its own button, named after the file; focus moves to the next file's button.
    page.get_by_role("button", name="Remove Lebenslauf.pdf").click()
    assert chosen(page, "cv") == ["Zeugnis.pdf", "huge.pdf"]
    assert page.evaluate("document.activeElement.textContent") == "Remove Zeugnis.pdf"
    page.get_by_role("button", name="Remove huge.pdf").click()
    assert chosen(page, "cv") == ["Zeugnis.pdf"]
    assert page.evaluate("document.querySelector('#file-cv').validationMessage") == ""
    assert page.locator("#file-status").inner_text() == ""
    assert posts == []  # nothing left the browser
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_drop_a_file_on_a_zone(browser, site, tmp_path):
    base, _ = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    pdf = filegen.make_pdf(tmp_path / "letter.pdf").read_bytes()
    transfer = page.evaluate_handle(
        """bytes => { const t = new DataTransfer();
            t.items.add(new File([new Uint8Array(bytes)], 'letter.pdf', {type: 'application/pdf'}));
            return t; }""",
        list(pdf),
    )
    zone = page.locator(".dropzone:has(#file-cover-letter)")
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    assert "dropzone--over" in zone.get_attribute("class")
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    assert "dropzone--over" not in zone.get_attribute("class")
    assert chosen(page, "cover-letter") == ["letter.pdf"]
    assert page.locator(
        ".field--file:has(#file-cover-letter) .file-item__name"
    ).all_inner_texts() == ["letter.pdf"]
    context.close()


def test_the_limits_come_from_the_form(browser, site, tmp_path):
    """The script checks what the server renders, not numbers of its own: a form that says
    2 kB per file and two files makes a small PDF too large and a third file one too many."""
    base, _ = site
    context = browser.new_context()
    page = context.new_page()

    def smaller(route):
        html = route.fetch().text()
        html = html.replace(f'data-max-file="{LIMITS.file_bytes}"', 'data-max-file="2000"')
        html = html.replace(f'data-max-files="{LIMITS.files}"', 'data-max-files="2"')
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    page.route(f"**/en/jobs/{JOB}/apply", smaller)
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    page.set_input_files("#file-cv", str(filegen.make_pdf_padded(tmp_path / "cv.pdf", nul=3000)))
    assert "is larger than" in page.locator(".file-item__error").inner_text()
    page.get_by_role("button", name="Remove cv.pdf").click()
    page.set_input_files("#file-cv", [str(filegen.make_pdf(tmp_path / f"{n}.pdf")) for n in "abc"])
    assert "You can attach at most" in page.locator("#file-status").inner_text()
    # Too many files in all: the last file input carries it, so the browser says it there.
    assert page.evaluate(
        "Array.from(document.querySelectorAll('input[type=file]')).pop().validationMessage"
    )
    context.close()


def slow_upload(context, page, bytes_per_second: int) -> None:
    """Chromium's network emulation: uploads at `bytes_per_second`, as on a slow phone line."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def test_progress_while_sending_then_the_receipt(browser, site, sandbox, tmp_path):
    base, app = site
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(page, filegen.make_pdf_padded(tmp_path / "Lebenslauf.pdf", nul=2_000_000))
    slow_upload(context, page, 1_000_000)
    page.get_by_role("button", name="Send application").click()
    # The bar moves, says how much is sent, and stays in view.
    page.wait_for_function(
        "() => { const b = document.getElementById('upload-bar');"
        " return b.offsetParent !== null && b.value > 0 && b.value < b.max; }"
    )
    text = page.locator("#upload-text").inner_text()
    assert " of " in text and "MB sent" in text, text
    assert page.locator("#upload-bar").is_visible()
    assert (
        page.get_by_role("button", name="Send application").get_attribute("aria-disabled") == "true"
    )
    page.wait_for_url("**/en/applications/**", timeout=30_000)
    assert "We have received your application" in page.content()
    [summary] = app.extensions["careers"].outbox.summaries()
    assert summary.document_names == ("cv: Lebenslauf.pdf",)
    deliver_all(app)
    [delivered] = sandbox.received_documents.values()
    assert delivered.filename == "Lebenslauf.pdf"
    assert delivered.size == (tmp_path / "Lebenslauf.pdf").stat().st_size
    context.close()


def test_a_broken_connection_says_what_to_do_and_sending_again_works(browser, site, tmp_path):
    base, app = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"))
    page.route("**/apply", lambda route: route.abort("connectionreset"))
    page.get_by_role("button", name="Send application").click()
    failed = page.locator("#upload-failed")
    failed.wait_for(state="visible")
    assert "check your internet connection" in failed.inner_text()
    assert failed.get_attribute("role") == "alert"
    assert page.locator("#upload-bar").is_hidden()
    assert page.input_value("#field-last_name") == "Müller"  # nothing lost
    assert chosen(page, "cv") == ["cv.pdf"]
    assert app.extensions["careers"].outbox.summaries() == []
    page.unroute("**/apply")
    page.get_by_role("button", name="Send application").click()
    page.wait_for_url("**/en/applications/**")
    assert len(app.extensions["careers"].outbox.summaries()) == 1
    context.close()


def test_cancel_while_sending(browser, site, tmp_path):
    base, app = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(page, filegen.make_pdf_padded(tmp_path / "cv.pdf", nul=3_000_000))
    slow_upload(context, page, 200_000)
    page.get_by_role("button", name="Send application").click()
    page.get_by_role("button", name="Cancel sending").click()
    page.locator("#upload-cancelled").wait_for(state="visible")
    assert page.locator("#upload-cancel").is_hidden()
    assert (
        page.get_by_role("button", name="Send application").get_attribute("aria-disabled") is None
    )
    assert chosen(page, "cv") == ["cv.pdf"]
    context.close()


def test_leaving_while_sending_asks_first(browser, site, tmp_path):
    base, app = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(page, filegen.make_pdf_padded(tmp_path / "cv.pdf", nul=3_000_000))
    slow_upload(context, page, 200_000)
    page.get_by_role("button", name="Send application").click()
    page.locator("#upload-bar").wait_for(state="visible")
    with page.expect_event("dialog") as shown:
        page.close(run_before_unload=True)
    assert shown.value.type == "beforeunload"
    shown.value.dismiss()  # stay on the page
    assert not page.is_closed()
    page.get_by_role("button", name="Cancel sending").click()
    context.close()


def test_without_javascript_the_plain_file_input(browser, site, tmp_path):
    base, _ = site
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    assert page.locator("#file-cv").is_visible()
    assert page.locator(".dropzone__prompt").first.is_hidden()
    assert page.locator("#upload").is_hidden()
    context.close()


def test_the_zone_shows_keyboard_focus(browser, site):
    base, _ = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    page.focus("#field-email")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "file-cv":
            break
    assert page.evaluate("document.activeElement.id") == "file-cv"
    zone = page.locator(".dropzone:has(#file-cv)")
    style = page.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }",
        zone.element_handle(),
    )
    assert style == ["solid", "3px"]
    context.close()
