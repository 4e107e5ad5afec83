"""Sharing, referrals and open applications in a real browser (docs/referrals.md): what a
candidate sees and does, with and without JavaScript, and what reaches the sandbox."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from . import filegen
from .applying import JOB, apply_env, deliver_all
from .browser import fill_application, live_server
from .servers import free_port

pytestmark = pytest.mark.browser

OPEN = 1843801  # "Open Application" on the sample board
REFERRAL = 2004  # the sandbox's "Employee referral" channel


@pytest.fixture
def site(make_app, sandbox, sandbox_server, tmp_path):
    """Mail on (the open application's job alert), so the site names its public address:
    the address it is served on, or its forms would be posts from another origin."""
    port = free_port()
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        open_application_job=str(OPEN),
        referral_channel=str(REFERRAL),
        smtp_url="smtp://127.0.0.1:2525",
        mail_from="jobs@nordlicht.example",
        public_url=f"http://127.0.0.1:{port}",
    )
    with live_server(app, port=port) as base:
        yield base, app


def test_copy_link_appears_with_javascript_and_copies_the_job_url(browser, site):
    base, _ = site
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/en/jobs/{JOB}")
    share = page.locator("section.share")
    copy = share.get_by_role("button", name="Copy link")
    assert copy.is_visible()
    copy.click()
    page.wait_for_function("document.querySelector('.share__status').textContent !== ''")
    assert share.locator(".share__status").inner_text() == "Link copied."
    canonical = page.locator("link[rel=canonical]").get_attribute("href")
    assert page.evaluate("navigator.clipboard.readText()") == canonical
    share.get_by_role("button", name="Copy referral link").click()
    assert page.evaluate("navigator.clipboard.readText()") == f"{canonical}?_pc={REFERRAL}"
    # The share links open the networks' own pages: nothing of theirs is loaded here.
    linkedin = share.get_by_role("link", name="LinkedIn (opens in a new tab)")
    assert parse_qs(urlsplit(linkedin.get_attribute("href")).query)["url"] == [canonical]
    assert errors == []  # the CSP let share.js run, and nothing broke
    context.close()


def test_without_javascript_no_copy_button_but_every_link(browser, site):
    base, _ = site
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/de/jobs/{JOB}")
    share = page.locator("section.share")
    assert share.get_by_role("button").count() == 0  # hidden: nothing to copy with
    names = [share.get_by_role("link").nth(i).inner_text() for i in range(4)]
    assert names[0] == "Per E-Mail senden" and names[-1] == "Jemanden empfehlen"
    context.close()


def test_referred_candidate_names_the_referrer_and_arrives_under_the_channel(
    browser, site, sandbox, tmp_path
):
    base, app = site
    context = browser.new_context()
    page = context.new_page()
    # The friend opens the link the employee sent, and goes on to the form.
    page.goto(f"{base}/en/jobs/{JOB}?_pc={REFERRAL}")
    page.get_by_role("link", name="Apply now").first.click()
    referrer = page.get_by_label("Who referred you?")
    assert referrer.is_visible()
    fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"))
    referrer.fill("Ada Lovelace")
    page.get_by_role("button", name="Send application").click()
    page.wait_for_url("**/applications/**")
    assert deliver_all(app) == ["delivered"]
    (received,) = sandbox.received_applications
    assert received["body"]["recruiting_channel_id"] == REFERRAL
    assert "referred_by:Ada Lovelace" in received["body"]["tags"]
    context.close()


def test_no_matching_job_leads_to_the_open_application_with_a_job_alert(
    browser, site, sandbox, tmp_path
):
    base, app = site
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{base}/en/jobs?q=astronaut")
    assert page.locator(".job-list").count() == 0
    page.get_by_role("link", name="Send an open application").click()
    assert f"/en/jobs/{OPEN}/apply" in page.url
    assert "Open Application" in page.title()
    fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"), email="anna@example.com")
    page.get_by_label("Also email me new jobs").check()
    page.get_by_role("button", name="Send application").click()
    page.wait_for_url("**/applications/**")
    mail = app.extensions["careers"].mail
    item = mail.claim_mail("test")
    assert item is not None
    assert mail.subscription(item.subscription_id).address == "anna@example.com"
    assert deliver_all(app) == ["delivered"]
    (received,) = sandbox.received_applications
    assert received["body"]["job_position_id"] == OPEN
    # And the open application itself is nowhere on the list.
    page.goto(f"{base}/en/jobs")
    assert page.locator(f".job-list a[href*='/jobs/{OPEN}']").count() == 0
    context.close()
