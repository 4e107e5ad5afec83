"""Every page is light and talks to nobody else: measured in Chromium, request by request."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from . import filegen
from .applying import JOB, LANGUAGES, apply_env, every_language_env
from .browser import BUDGET, Recorder, fill_application, live_server

pytestmark = pytest.mark.browser

SERVED: list[str] = []


@pytest.fixture
def site(make_app, sandbox, sandbox_server, tmp_path):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path), **every_language_env(sandbox, tmp_path)
    )
    inner = app.wsgi_app

    def counting(environ, start_response):
        SERVED.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app = counting
    SERVED.clear()
    with live_server(app) as base:
        yield base


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_stay_under_budget_and_first_party(browser, site, sandbox, tmp_path, lang):
    context = browser.new_context()
    page = context.new_page()
    recorder = Recorder(page)
    own = {urlsplit(site).netloc}
    pages = [
        f"/{lang}/jobs",
        f"/{lang}/jobs?department=Engineering",
        f"/{lang}/jobs/1842907",
        f"/{lang}/jobs/{JOB}/apply",
        f"/embed/{lang}/jobs",
        f"/embed/{lang}/jobs/{JOB}/apply",
        f"/{lang}/jobs/424242",
    ]
    for path in pages:
        # A first visit: a fresh cache every time, so every asset counts.
        context.clear_cookies()
        page.goto("about:blank")
        recorder.reset()
        fresh = browser.new_context()
        fresh_page = fresh.new_page()
        fresh_recorder = Recorder(fresh_page)
        fresh_page.goto(site + path)
        fresh_page.wait_for_load_state("networkidle")
        assert fresh_recorder.hosts <= own, (path, fresh_recorder.hosts)
        assert fresh_recorder.bytes < BUDGET, (path, fresh_recorder.bytes, fresh_recorder.urls)
        fresh.close()
    # Submitting an application and landing on the receipt also stays first-party.
    page.goto(f"{site}/{lang}/jobs/{JOB}/apply")
    recorder.reset()
    fill_application(page, filegen.make_pdf(tmp_path / "cv.pdf"))
    page.click("button[type=submit]")
    page.wait_for_url("**/applications/**")
    page.wait_for_load_state("networkidle")
    assert recorder.hosts <= own
    context.close()


def test_second_visit_loads_only_the_page(browser, site, sandbox):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site}/en/jobs")
    page.wait_for_load_state("networkidle")
    assert any(path.startswith("/static/") for path in SERVED)
    page.goto(f"{site}/en/jobs/1843011")  # a job page: its own script (share.js) is cached too
    page.wait_for_load_state("networkidle")
    SERVED.clear()
    page.goto(f"{site}/en/jobs/1842907")
    page.wait_for_load_state("networkidle")
    # The stylesheet and icon come from the browser cache (immutable, versioned URLs).
    assert [path for path in SERVED if path.startswith("/static/")] == []
    assert any(path.startswith("/en/jobs/1842907") for path in SERVED)
    context.close()
