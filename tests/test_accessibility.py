"""axe-core in Chromium: every page and state, all seven languages, a logo and a company
stylesheet configured, zero WCAG 2.2 AA violations."""

from __future__ import annotations

import pytest

from . import filegen
from .applying import JOB, LANGUAGES, apply_env, deliver_all, every_language_env
from .browser import audit, fill_application, live_server, new_page

pytestmark = pytest.mark.browser

UNTRANSLATED = 1843366


@pytest.fixture
def site(make_app, sandbox, sandbox_server, tmp_path):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path, submit_rate_limit="3/600"),
        **every_language_env(sandbox, tmp_path),
    )
    with live_server(app) as base:
        yield base, app


@pytest.mark.parametrize("lang", LANGUAGES)
def test_browsing_pages(browser, site, sandbox, lang):
    base, _ = site
    context, page = new_page(browser)
    for path, label in [
        (f"/{lang}/jobs", "list"),
        (f"/{lang}/jobs?department=Engineering&schedule=full-time&q=engineer", "list with filters"),
        (f"/{lang}/jobs?q=zzzzqqq", "list without results"),
        (f"/{lang}/jobs/1842907", "detail with salary"),
        (f"/{lang}/jobs/{UNTRANSLATED}", "detail in another language"),
        (f"/{lang}/jobs/999999", "404"),
        (f"/embed/{lang}/jobs", "embedded list"),
        (f"/embed/{lang}/jobs/{JOB}", "embedded detail"),
        (f"/embed/{lang}/jobs/{JOB}/apply", "embedded form"),
        (f"/{lang}/jobs/{JOB}/apply", "empty form"),
    ]:
        page.goto(base + path)
        audit(page, f"{lang} {label}")
    for width in (360,):
        page.set_viewport_size({"width": width, "height": 740})
        page.goto(f"{base}/{lang}/jobs")
        page.locator("summary").first.click()
        audit(page, f"{lang} list at {width}px with filters open")
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_form_states(browser, site, sandbox, tmp_path, lang):
    base, app = site
    context, page = new_page(browser)
    page.goto(f"{base}/{lang}/jobs/{JOB}/apply")
    # Every kind of error: missing and malformed fields, a refused file, no consent.
    page.evaluate("document.querySelector('form.apply-form').noValidate = true")
    page.fill("#field-email", "not-an-email")
    page.fill("#field-phone", "call me")
    page.set_input_files("#file-cover-letter", str(filegen.make_html(tmp_path / "letter.pdf")))
    page.click("button[type=submit]")
    page.wait_for_selector("#error-summary")
    audit(page, f"{lang} form with errors")
    # Success, then the receipt in each state.
    assert page.locator(".file-item").count() == 0  # the server kept no file of the refused post
    page.evaluate("document.querySelector('form.apply-form').noValidate = true")
    page.fill("#field-first_name", "Jürgen")
    page.fill("#field-last_name", "Müller")
    page.fill("#field-email", "juergen@example.com")
    page.fill("#field-phone", "+49 40 123456")
    page.select_option("#field-custom_attribute_1002", "friend")
    page.set_input_files("#file-cv", str(filegen.make_pdf(tmp_path / "cv.pdf")))
    page.check("#field-consent")
    page.click("button[type=submit]")
    page.wait_for_url("**/applications/**")
    receipt = page.url
    audit(page, f"{lang} receipt: received")
    deliver_all(app)
    page.goto(receipt)
    audit(page, f"{lang} receipt: forwarded")
    context.close()


@pytest.mark.parametrize("lang", ["en", "de"])
def test_upload_states(browser, site, tmp_path, lang):
    """The drop zones with files listed, one flagged, and the message of a broken upload."""
    base, _ = site
    context, page = new_page(browser, width=360)
    page.goto(f"{base}/{lang}/jobs/{JOB}/apply")
    big = filegen.make_pdf(tmp_path / "big.pdf")
    with big.open("ab") as handle:
        handle.truncate(20_000_001)
    page.set_input_files("#file-cv", [str(filegen.make_pdf(tmp_path / "cv.pdf")), str(big)])
    page.wait_for_selector(".file-item--invalid")
    audit(page, f"{lang} upload: files listed, one too large")
    page.locator(".file-item--invalid .file-item__remove").click()
    fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"))
    page.route("**/apply", lambda route: route.abort("connectionreset"))
    page.click("button[type=submit]")
    page.wait_for_selector("#upload-failed", state="visible")
    audit(page, f"{lang} upload: connection broken")
    context.close()


def test_parked_receipt_and_limits(browser, site, sandbox, tmp_path):
    base, app = site
    context, page = new_page(browser)
    sandbox.set_attributes({})
    # A file over 20 MB that gets past the browser's check (here: the form cloned without
    # its script's listeners) is stopped by the server: the 413 page.
    big = filegen.make_pdf(tmp_path / "big.pdf")
    with big.open("ab") as handle:
        handle.truncate(20_000_001)
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    page.evaluate(
        "() => { const f = document.querySelector('form.apply-form'); const c = f.cloneNode(true); c.noValidate = true; f.replaceWith(c); }"
    )
    page.set_input_files("#file-cv", str(big))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "413" in page.content()
    audit(page, "en 413")
    for i in range(3):
        page.goto(f"{base}/de/jobs/{JOB}/apply")
        page.fill("#field-first_name", "Ada")
        page.fill("#field-last_name", "Lovelace")
        page.fill("#field-email", f"ada{i}@example.com")
        page.select_option("#field-custom_attribute_1002", "friend")
        page.set_input_files("#file-cv", str(filegen.make_pdf(tmp_path / "cv.pdf")))
        page.check("#field-consent")
        page.click("button[type=submit]")
        page.wait_for_url("**/applications/**")
    deliver_all(app)
    page.reload()
    assert "genauer" in page.content() or "Aufmerksamkeit" in page.content()
    audit(page, "de receipt: needs attention")
    # The fourth application within ten minutes: 429.
    page.goto(f"{base}/en/jobs/{JOB}/apply")
    fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"), email="ada9@example.com")
    page.click("button[type=submit]")
    page.wait_for_selector("text=429")  # the answer is shown in place of the form
    audit(page, "en 429")
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_gone_page(browser, site, sandbox, lang):
    from careers.sandbox.sample_data import sample_positions

    base, app = site
    context, page = new_page(browser)
    page.goto(f"{base}/{lang}/jobs")
    app.extensions["careers"].catalogue.wait_idle()
    for code in LANGUAGES:
        board = sample_positions(code if code in ("en", "de") else "en")
        sandbox.set_positions(code, [p for p in board if p.id != JOB])
    app.extensions["careers"].catalogue.refresh_all()
    page.goto(f"{base}/{lang}/jobs/{JOB}")
    assert "410" in page.content()
    audit(page, f"{lang} 410")
    context.close()


@pytest.mark.parametrize("lang", ["en", "de", "fr"])
def test_sharing_referral_and_open_application(
    browser, make_app, sandbox, sandbox_server, tmp_path, lang
):
    """Share links (their copy buttons shown by share.js), the referral question and the
    open application with its job-alert tick (docs/referrals.md)."""
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        **every_language_env(sandbox, tmp_path),
        open_application_job="1843801",
        referral_channel="2004",
        smtp_url="smtp://127.0.0.1:2525",
        mail_from="jobs@nordlicht.example",
        public_url="http://localhost",
    )
    with live_server(app) as base:
        context, page = new_page(browser)
        for path, label in [
            (f"/{lang}/jobs/{JOB}", "detail with share links"),
            (f"/{lang}/jobs?q=zzzzqqq", "empty search with open application"),
            (f"/{lang}/jobs/{JOB}/apply?_pc=2004", "referred form"),
            (f"/{lang}/jobs/1843801/apply", "open-application form"),
        ]:
            page.goto(base + path)
            audit(page, f"{lang} {label}")
        context.close()
