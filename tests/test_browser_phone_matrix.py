"""Issue 23's five points walked as a candidate, in every language at 360 px and 1280 px (and
German in both forms of address): a filter that lands on its results, the upload control, the
short form with its time estimate, a refusal for a missing field that keeps the CV and
delivers it when sent again, and the configured form of address. axe checks the filtered
list, the upload control and the error page in each case.

One app per form of address serves every case; each case is its own client (a distinct
X-Forwarded-For from the loopback proxy the app trusts by default), so sixteen refused posts
do not run into the per-client refusal budget that a real candidate would never reach."""

from __future__ import annotations

import gettext
import hashlib
import re
from contextlib import ExitStack
from pathlib import Path

import pytest

from careers import create_app
from careers.sandbox.recruiting import DEFAULT_ATTRIBUTES, DEFAULT_RATE_LIMIT
from careers.sandbox.sample_data import sample_feeds

from . import filegen
from .applying import JOB, LANGUAGES, deliver_all, every_language_env, short_form_env
from .apps import SECRET
from .browser import audit, live_server, new_page
from .i18n_checks import address_word

pytestmark = pytest.mark.browser

CATALOGUES = Path(__file__).resolve().parent.parent / "careers" / "translations"
RED = "rgb(179, 38, 30)"
CASES = [(lang, "formal", width) for lang in LANGUAGES for width in (360, 1280)] + [
    ("de", "informal", width) for width in (360, 1280)
]
# The short default form: names, email, CV and consent required, letter and message optional.
SHORT_FIELDS = {
    "first_name",
    "last_name",
    "email",
    "cv",
    "cover-letter",
    "message",
    "consent",
}


def catalogue(lang: str, address: str) -> gettext.NullTranslations:
    """The compiled catalogue the site speaks from: informal entries over the formal ones."""
    folder = CATALOGUES / lang / "LC_MESSAGES"
    if lang == "en":
        return gettext.NullTranslations()
    with (folder / "messages.mo").open("rb") as handle:
        formal = gettext.GNUTranslations(handle)
    if address == "formal" or not (folder / "informal.mo").exists():
        return formal
    with (folder / "informal.mo").open("rb") as handle:
        informal = gettext.GNUTranslations(handle)
    informal.add_fallback(formal)
    return informal


@pytest.fixture(scope="module")
def sites(sandbox_server, tmp_path_factory):
    """One app per form of address against the session's sandbox, its boards in every
    language (the `sandbox` fixture resets it per test; this module resets it once)."""
    sandbox = sandbox_server.sandbox
    sandbox.rearm()
    sandbox.clear_faults()
    # Sixteen deliveries of two requests in under a minute: above Personio's 20 a minute,
    # which the rate-limit tests cover; here the sandbox and the app both allow more.
    sandbox.set_rate_limit((200, 60.0))
    sandbox.set_attributes(DEFAULT_ATTRIBUTES)
    for lang, positions in sample_feeds().items():
        sandbox.set_positions(lang, positions)
    folder = tmp_path_factory.mktemp("phone-matrix")
    apps = {}
    with ExitStack() as stack:
        for address in ("formal", "informal"):
            settings = {
                "personio_feed_url": f"{sandbox_server.url}/xml",
                "secret_key": SECRET,
                "data_dir": str(folder / address),
                "company_name": "Nordlicht Robotics",
                "pay_transparency": "off",
                # Sixteen candidates in a row from one test: not what this limit is about.
                "submit_rate_limit": "100/60",
                "personio_rate_limit": "200/60",
                "address": address,
                **short_form_env(sandbox_server.url, folder),
                **every_language_env(sandbox, folder),
            }
            app = create_app({f"CAREERS_{k.upper()}": v for k, v in settings.items()})
            base = stack.enter_context(live_server(app))
            apps[address] = (base, app)
        yield apps
        for _, app in apps.values():
            app.extensions["careers"].catalogue.wait_idle()
            app.extensions["careers"].feed_client.close()
    sandbox.set_rate_limit(DEFAULT_RATE_LIMIT)


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and 0 <= box["y"] < height and box["height"] > 0


@pytest.mark.parametrize(("lang", "address", "width"), CASES)
def test_the_candidates_path(browser, sites, sandbox_server, tmp_path, lang, address, width):
    base, app = sites[address]
    words = catalogue(lang, address)
    client = f"198.51.100.{CASES.index((lang, address, width)) + 1}"
    context, page = new_page(browser, width=width)
    context.set_extra_http_headers({"X-Forwarded-For": client})
    label = f"{lang} {address} {width}px"

    # 1. Filtering lands on the results, the panel closed.
    page.goto(f"{base}/{lang}/jobs")
    start = page.locator("#show-jobs").inner_text()
    if width == 360:
        page.locator(".filters__panel > summary").click()
    page.locator(".facet").first.locator("input").nth(1).check()
    page.wait_for_function(f"() => document.getElementById('show-jobs').textContent !== {start!r}")
    page.locator("#show-jobs").click()
    page.wait_for_url("**#results")
    page.wait_for_load_state()
    assert page.evaluate("document.querySelector('.filters__panel').open") is False, label
    shown = page.locator(".job-list > li").count()
    assert shown >= 1, label
    assert str(shown) in page.locator("#results-heading").inner_text(), label
    page.wait_for_function(
        "() => { const r = document.getElementById('results-heading').getBoundingClientRect();"
        " return r.top >= 0 && r.top < innerHeight; }"
    )
    assert in_view(page, ".job-list > li"), label
    assert page.evaluate("document.documentElement.scrollWidth") <= width, label
    audit(page, f"{label} filtered list")

    # 5. The short form, with the estimate in the page's words.
    page.goto(f"{base}/{lang}/jobs/{JOB}/apply")
    estimate = page.locator("#form-time").inner_text()
    minutes = int(re.search(r"\d+", estimate)[0])
    expected = words.ngettext(
        "This form takes about %(num)s minute.", "This form takes about %(num)s minutes.", minutes
    ) % {"num": minutes}
    assert estimate == expected, label
    if lang != "en":
        assert "This form takes" not in estimate, label
    names = set(
        page.evaluate(
            "Array.from(document.querySelectorAll('form.apply-form [name]'))"
            ".filter(e => e.type !== 'hidden' && e.type !== 'submit' && !e.closest('.hp')).map(e => e.name)"
        )
    )
    assert names == SHORT_FIELDS, (label, names)
    required = set(
        page.evaluate(
            "Array.from(document.querySelectorAll('form.apply-form [required]'), e => e.name)"
        )
    )
    assert required == {"first_name", "last_name", "email", "cv", "consent"}, label

    # 4. The form of address (German: "Sie" or "du"), none of the other.
    if lang == "de":
        other = "informal" if address == "formal" else "formal"
        text = page.locator("main").inner_text()
        assert address_word("de", address, text) is not None, (label, text)
        assert address_word("de", other, text) is None, (label, text)

    # 2. One drop zone per document category; a chosen CV listed with name and size; a file
    # of the wrong type flagged in red beside it before anything is sent.
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    zones = page.locator(".dropzone")
    categories = page.evaluate(
        "Array.from(document.querySelectorAll('.dropzone input[type=file]'), i => i.name)"
    )
    assert zones.count() == len(categories) == len(set(categories)) == 2, (label, categories)
    cv = filegen.make_pdf(tmp_path / "Lebenslauf.pdf", text=f"Lebenslauf {label}")
    page.set_input_files("#file-cv", str(cv))
    item = page.locator(".field--file:has(#file-cv) .file-item").first
    assert item.locator(".file-item__name").inner_text() == "Lebenslauf.pdf", label
    assert re.search(r"\d\s*(kB|KB|ko|Ko)", item.inner_text()), (label, item.inner_text())
    wrong = filegen.make_shell_script(tmp_path / "run.sh")
    page.set_input_files("#file-cover-letter", str(wrong))
    error = page.locator(".field--file:has(#file-cover-letter) .file-item__error").first
    assert "run.sh" in error.inner_text(), label
    assert error.evaluate("e => getComputedStyle(e).color") == RED, label
    assert error.is_visible()
    audit(page, f"{label} upload control")
    page.locator(".field--file:has(#file-cover-letter) .file-item button").first.click()
    assert page.evaluate("document.querySelector('#file-cover-letter').files.length") == 0
    assert posts == [], label

    # 3. Sent with the last name missing: the error page keeps the CV; fixed and sent again,
    # the receipt, and the sandbox holds exactly the CV's bytes.
    page.fill("#field-first_name", "Jürgen")
    # Personio takes one application per email and job: each case is another candidate.
    page.fill("#field-email", f"juergen.{lang}.{address}.{width}@example.com")
    page.check("#field-consent")
    page.evaluate("document.querySelector('form.apply-form').noValidate = true")
    page.click("button[type=submit]")
    page.locator("#error-summary").wait_for()
    assert page.locator("#error-summary a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    ) == ["#field-last_name"], label
    kept = page.locator(".file-item--kept")
    assert kept.count() == 1, label
    assert kept.locator(".file-item__name").inner_text() == "Lebenslauf.pdf", label
    assert kept.is_visible()
    audit(page, f"{label} error page")
    if lang == "de":
        text = page.locator("main").inner_text()
        assert address_word("de", other, text) is None, (label, text)
    page.evaluate("document.querySelector('form.apply-form').noValidate = false")
    page.fill("#field-last_name", "Müller")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/{lang}/applications/**", timeout=30_000)
    before = set(sandbox_server.sandbox.received_documents)
    assert deliver_all(app) == ["delivered"], label
    [new] = [
        doc for key, doc in sandbox_server.sandbox.received_documents.items() if key not in before
    ]
    assert new.filename == "Lebenslauf.pdf", label
    assert new.sha256 == hashlib.sha256(cv.read_bytes()).hexdigest(), label
    context.close()
