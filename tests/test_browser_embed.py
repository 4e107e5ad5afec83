"""The embed widget in a real browser, on a host page of another site (docs/embedding.md).

The career site runs on 127.0.0.1:<port>, the customer's page on localhost:<other port>:
another host name and port, so another site, and the widgets are third-party iframes.
The browser blocks third-party cookies (Safari's and Firefox's default, Chrome's in incognito
and for everyone who picks it), and everything must work anyway: the widget uses no cookies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from careers.sandbox.sample_data import sample_feeds

from . import filegen
from .applying import JOB, apply_env, deliver_all
from .browser import CHROMIUM, CHROMIUM_ARGS, live_server, require_chromium

pytestmark = pytest.mark.browser

ENGINEERING = {p.id: p.name for p in sample_feeds()["en"] if p.department == "Engineering"}
STUDENTS = {
    p.id: p.name for p in sample_feeds()["de"] if p.employment_type in {"intern", "working_student"}
}
COOKIE_PROBE = "document.cookie = 'probe=1; SameSite=None; Secure'; document.cookie"
# The widget's natural height: where its content ends, however tall the iframe is now (the
# page's own scrollHeight cannot tell, it is never less than the frame's viewport).
CONTENT_HEIGHT = """() => {
  const main = document.querySelector("main");
  const bottom = Math.max(...Array.from(main.children, (e) => e.getBoundingClientRect().bottom));
  return bottom + parseFloat(getComputedStyle(main).paddingBottom) + window.scrollY;
}"""


# -- the customer's site ------------------------------------------------------------------


class Host:
    """A second web server: the customer's pages, under names the tests choose."""

    def __init__(self, base: str, pages: dict[str, str]) -> None:
        self.port = int(base.rsplit(":", 1)[1])
        self.origin = f"http://localhost:{self.port}"  # the allowlisted host site
        self.stranger = f"http://127.0.0.1:{self.port}"  # same server, not allowlisted
        self.pages = pages


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    app = Flask("host")
    pages: dict[str, str] = {}

    @app.get("/<name>")
    def page(name: str):
        if name in pages:
            return pages[name]
        return "", 204 if name == "favicon.ico" else 404

    with live_server(app) as base:
        yield Host(base, pages)


def two_widgets(base: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme: work with us</title></head>
<body style="margin: 0 8px">
  <h1>Work with us</h1>
  <div data-careers-embed data-lang="en" data-department="Engineering"><a href="{base}/en/jobs?department=Engineering">Engineering jobs</a></div>
  <h2>Students</h2>
  <aside style="max-width: 30rem">
    <div data-careers-embed data-lang="de" data-employment_type="intern,working_student"><a href="{base}/de/jobs">Jobs für Studierende</a></div>
  </aside>
  <p>Footer of the host page</p>
  <script src="{base}/embed.js" async></script>
</body></html>"""


FORGER = """<!doctype html><html><body><script>
for (const message of %s) window.parent.postMessage(message, "*");
</script></body></html>"""


# -- the browser --------------------------------------------------------------------------


def launch(chromium, profile: Path, *, block_third_party_cookies: bool):
    """A persistent context (a normal profile, not incognito) with the cookie setting the
    user can pick in chrome://settings/cookies: 1 = block third-party cookies, 0 = allow."""
    (profile / "Default").mkdir(parents=True)
    mode = 1 if block_third_party_cookies else 0
    prefs = {
        "profile": {
            "cookie_controls_mode": mode,
            "block_third_party_cookies": block_third_party_cookies,
        }
    }
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs), encoding="utf-8")
    return chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport={"width": 1024, "height": 768},
    )


@pytest.fixture(scope="module")
def chromium(browser):
    """The shared Playwright's chromium, for profiles of our own (persistent contexts)."""
    return browser.browser_type


@pytest.fixture(scope="module")
def context(chromium, tmp_path_factory):
    """The browser for every test: third-party cookies blocked."""
    require_chromium()
    ctx = launch(chromium, tmp_path_factory.mktemp("blocked"), block_third_party_cookies=True)
    yield ctx
    ctx.close()


@dataclass
class Site:
    base: str
    app: Flask


@pytest.fixture
def site(make_app, sandbox_server, sandbox, tmp_path, host) -> Iterator[Site]:
    settings = apply_env(
        sandbox_server.url, tmp_path, frame_ancestors=host.origin, min_fill_seconds="0"
    )
    app = make_app(**settings)  # cold: the two widgets' first requests load en and de at once
    with live_server(app) as base:
        host.pages["two"] = two_widgets(base)
        yield Site(base, app)


@pytest.fixture
def page(context):
    """A fresh tab that records every console error, from the host and from the widgets."""
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on(
        "response", lambda r: tab.errors.append(f"{r.status} {r.url}") if r.status >= 500 else None
    )
    yield tab
    tab.close()


# -- helpers ------------------------------------------------------------------------------


def widget(page, index: int):
    """The Frame inside the index-th widget."""
    handle = page.locator("iframe").nth(index).element_handle()
    frame = handle.content_frame()
    assert frame is not None
    return frame


def host_url(page) -> str:
    """The host page's address now (page.url can miss a replaceState made from a message
    handler)."""
    return page.evaluate("location.href")


def host_params(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(host_url(page)).query)


def frame_path(page, index: int) -> str:
    return urlsplit(widget(page, index).url).path


def wait_until(check, message, timeout: float = 10.0):
    """Poll a cross-origin condition (wait_for_function only sees one document at a time)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(0.05)


def heights(page, index: int) -> tuple[float, float]:
    """(height of the iframe on the host page, natural height of the page inside it)."""
    box = page.locator("iframe").nth(index).bounding_box()
    frame = widget(page, index)
    frame.wait_for_selector("main")
    return box["height"], frame.evaluate(CONTENT_HEIGHT)


def wait_fits(page, index: int) -> float:
    """The iframe is exactly as tall as its content: no inner scrollbar, no empty band."""

    def fits():
        try:
            outer, inner = heights(page, index)
        except Exception:  # the frame is between two documents
            return False
        return outer if abs(outer - inner) <= 3 else False

    return wait_until(fits, lambda: f"widget {index}: (iframe, content) = {heights(page, index)}")


def job_ids(frame) -> list[int]:
    hrefs = frame.eval_on_selector_all(".job-list > li a", "links => links.map(a => a.pathname)")
    return [int(h.rsplit("/", 1)[1].split("-", 1)[0]) for h in hrefs]


def open_host(page, host: Host, query: str = "", *, origin: str | None = None) -> None:
    page.goto(f"{origin or host.origin}/two{query}")
    page.wait_for_function("document.querySelectorAll('iframe').length === 2")


# -- tests --------------------------------------------------------------------------------


def test_two_widgets_show_their_own_jobs_and_fit_their_content(page, site, host):
    open_host(page, host)
    first, second = widget(page, 0), widget(page, 1)
    first.wait_for_selector(".job-list")
    second.wait_for_selector(".job-list")
    # Each widget shows exactly its filtered slice of the board, in its own language.
    assert sorted(job_ids(first)) == sorted(ENGINEERING)
    assert sorted(job_ids(second)) == sorted(STUDENTS)
    assert first.evaluate("document.documentElement.lang") == "en"
    assert second.evaluate("document.documentElement.lang") == "de"
    assert set(second.locator(".job-list h3").all_inner_texts()) == set(STUDENTS.values())
    assert second.locator("h1").inner_text() == "Offene Stellen"
    # The placeholders' links gave way to frames titled after them.
    assert page.locator("iframe").nth(0).get_attribute("title") == "Engineering jobs"
    assert page.locator("a[href$='/de/jobs']").count() == 0
    # Both frames grow to their content: the host page scrolls, the widgets never do.
    tall = [wait_fits(page, 0), wait_fits(page, 1)]
    assert all(h > 600 for h in tall)
    # Content that changes without a page load is followed too: in the narrow second widget
    # the filters are a disclosure (closed, so the results come first); unfold it and fold it.
    second.locator(".filters__panel > summary").click()
    assert wait_fits(page, 1) > tall[1]
    second.locator(".filters__panel > summary").click()
    assert wait_fits(page, 1) == tall[1]
    # Opening a (shorter) job and coming back resizes in both directions.
    first.locator(f".job-list a[href*='/{JOB}-']").click()
    wait_until(
        lambda: frame_path(page, 0).startswith(f"/embed/en/jobs/{JOB}-"), lambda: host_url(page)
    )
    detail = wait_fits(page, 0)
    assert detail != tall[0]
    page.go_back()
    wait_until(lambda: frame_path(page, 0) == "/embed/en/jobs", lambda: frame_path(page, 0))
    assert wait_fits(page, 0) == tall[0]
    assert page.errors == []


def test_deep_links_open_the_right_job_and_back_returns_to_the_list(page, site, host):
    open_host(page, host, f"?job={JOB}")
    first, second = widget(page, 0), widget(page, 1)
    # ?job= is the first widget's: it opens on that job, the second one on its list.
    first.wait_for_selector("h1")
    assert frame_path(page, 0).startswith(f"/embed/en/jobs/{JOB}-")
    assert first.locator("h1").inner_text() == ENGINEERING[JOB]
    second.wait_for_selector(".job-list")
    assert host_params(page) == {"job": [str(JOB)]}
    # Clicking a job in the second widget writes job2 (replaceState: no extra history entry).
    length = page.evaluate("history.length")
    target = job_ids(second)[0]
    second.locator(".job-list a").first.click()
    wait_until(
        lambda: frame_path(page, 1).startswith(f"/embed/de/jobs/{target}-"), lambda: host_url(page)
    )
    wait_until(lambda: host_params(page).get("job2") == [str(target)], lambda: host_url(page))
    assert host_params(page)["job"] == [str(JOB)]
    assert page.evaluate("history.length") == length + 1  # the frame's own navigation
    assert second.locator("h1").inner_text() == STUDENTS[target]
    # The browser's back button takes that widget back to its list and clears job2.
    page.go_back()
    wait_until(lambda: frame_path(page, 1) == "/embed/de/jobs", lambda: frame_path(page, 1))
    wait_until(lambda: "job2" not in host_params(page), lambda: host_url(page))
    assert host_params(page) == {"job": [str(JOB)]}
    assert frame_path(page, 0).startswith(f"/embed/en/jobs/{JOB}-")
    # A shared link with job2 opens the second widget on that job and leaves the first alone.
    open_host(page, host, f"?job2={target}")
    widget(page, 1).wait_for_selector("h1")
    assert frame_path(page, 1).startswith(f"/embed/de/jobs/{target}-")
    widget(page, 0).wait_for_selector(".job-list")
    assert host_params(page) == {"job2": [str(target)]}
    wait_fits(page, 0)
    wait_fits(page, 1)
    assert page.errors == []


def assert_cookies_blocked(frame) -> None:
    """A cookie the widget's own origin sets from inside the frame does not stick."""
    assert frame.evaluate(COOKIE_PROBE) == ""
    assert frame.evaluate("document.hasStorageAccess()") is False


def test_third_party_cookies_are_really_blocked_in_these_tests(
    chromium, page, site, host, tmp_path
):
    open_host(page, host)
    assert_cookies_blocked(widget(page, 0))
    # The control: the same write from the same frame sticks when the profile allows them.
    allowing = launch(chromium, tmp_path / "allowing", block_third_party_cookies=False)
    try:
        tab = allowing.new_page()
        open_host(tab, host)
        assert widget(tab, 0).evaluate(COOKIE_PROBE) == "probe=1"
    finally:
        allowing.close()


def test_an_application_sent_inside_the_iframe_reaches_personio(
    page, site, host, sandbox, tmp_path
):
    open_host(page, host, "?_pc=2001&utm_source=linkedin")
    first = widget(page, 0)
    first.wait_for_selector(".job-list")
    assert_cookies_blocked(first)
    frame = page.frame_locator("iframe >> nth=0")
    frame.locator(f".job-list a[href*='/{JOB}-']").click()
    wait_until(lambda: host_params(page).get("job") == [str(JOB)], lambda: host_url(page))
    frame.get_by_role("link", name="Apply now").first.click()
    wait_until(lambda: frame_path(page, 0) == f"/embed/en/jobs/{JOB}/apply", lambda: host_url(page))
    wait_until(lambda: host_params(page).get("job") == [f"{JOB}/apply"], lambda: host_url(page))
    wait_fits(page, 0)
    frame.locator("#field-first_name").fill("Jürgen")
    frame.locator("#field-last_name").fill("Müller")
    frame.locator("#field-email").fill("juergen@example.com")
    frame.locator("#field-custom_attribute_1002").select_option("linkedin")
    frame.locator("#file-cv").set_input_files(str(filegen.make_pdf(tmp_path / "Lebenslauf.pdf")))
    frame.locator("#field-consent").check()
    frame.get_by_role("button", name="Send application").click()
    wait_until(
        lambda: frame_path(page, 0).startswith("/embed/en/applications/"),
        lambda: frame_path(page, 0),
    )
    assert "We have received your application" in widget(page, 0).content()
    # The receipt is no job: the deep link goes, so a reload does not open the form again.
    wait_until(lambda: "job" not in host_params(page), lambda: host_url(page))
    wait_fits(page, 0)
    assert page.context.cookies() == []  # nothing was stored, by either site
    deliver_all(site.app)
    [received] = sandbox.received_applications
    body = received["body"]
    assert body["job_position_id"] == JOB
    assert body["email"] == "juergen@example.com"
    assert body["recruiting_channel_id"] == 2001
    assert body["tags"] == ["utm_source:linkedin"]
    assert page.errors == []


def test_a_host_outside_the_allowlist_is_refused(page, site, host):
    responses = []
    page.on("response", lambda r: responses.append(r) if "/embed/" in r.url else None)
    open_host(page, host, origin=host.stranger)
    # Chromium replaces our page with its error page.
    for index in (0, 1):
        wait_until(
            lambda i=index: widget(page, i).url.startswith("chrome-error://"),
            lambda i=index: widget(page, i).url,
        )
        assert widget(page, index).locator(".job-list, main").count() == 0
    # No message from our page arrived: both frames keep the loader's default height.
    styled = page.eval_on_selector_all("iframe", "frames => frames.map((f) => f.style.height)")
    assert styled == ["600px", "600px"]
    assert {urlsplit(r.url).path for r in responses} == {"/embed/en/jobs", "/embed/de/jobs"}
    for response in responses:
        policy = response.headers["content-security-policy"]
        assert f"frame-ancestors 'self' {host.origin}" in policy
        assert host.stranger not in policy
    # Whatever reached the console (usually "Framing … violates … frame-ancestors") says why.
    assert all("frame-ancestors" in e for e in page.errors), page.errors


# Each would show if obeyed: a tiny frame, a huge one, a lost deep link, a job param of 999.
FORGED = [
    {"careers": 1, "type": "resize", "height": 5},
    {"careers": 1, "type": "navigate", "view": "page", "job": None},
    {"careers": 1, "type": "navigate", "view": "job", "job": 999},
    {"careers": 1, "type": "resize", "height": 4321},
]


def test_forged_messages_from_other_frames_change_nothing(page, site, host):
    host.pages["forger"] = FORGER % json.dumps(FORGED)
    open_host(page, host, f"?job={JOB}")
    widget(page, 0).wait_for_selector("h1")
    widget(page, 1).wait_for_selector(".job-list")
    before = [wait_fits(page, 0), wait_fits(page, 1)]
    address = host_url(page)
    # Our own listener, added after embed.js's, sees each message after embed.js has. It
    # notes which window sent it: -1 the top window, else the index of the iframe.
    page.evaluate("""() => {
      window.seen = [];
      addEventListener("message", (e) => seen.push({
        origin: e.origin,
        data: e.data,
        from: [...document.querySelectorAll("iframe")].findIndex((f) => f.contentWindow === e.source),
      }));
    }""")
    page.evaluate(
        """([forged, forger, ours]) => {
      for (const message of forged) window.postMessage(message, "*");  // the top window
      const add = (attrs) => document.body.append(Object.assign(document.createElement("iframe"), attrs));
      add({srcdoc: `<script>for (const m of ${JSON.stringify(forged)}) parent.postMessage(m, "*")</` + "script>"});
      add({src: forger});  // a page on a third origin
      add({src: ours});  // a real widget page of ours, but not one embed.js made
    }""",
        [FORGED, f"{host.stranger}/forger", f"{site.base}/embed/en/jobs/1843455"],
    )
    page.wait_for_function("""() => {
      const from = (i) => seen.filter((m) => m.from === i);
      return [-1, 2, 3].every((i) => from(i).length === 4)
        && from(4).some((m) => m.data.job === 1843455) && from(4).some((m) => m.data.type === "resize");
    }""")
    senders = page.evaluate("[...new Set(seen.map((m) => `${m.from} ${m.origin}`))].sort()")
    assert senders == sorted(
        [f"-1 {host.origin}", f"2 {host.origin}", f"3 {host.stranger}", f"4 {site.base}"]
    )
    assert host_url(page) == address
    assert [wait_fits(page, 0), wait_fits(page, 1)] == before
    styled = page.eval_on_selector_all("iframe", "frames => frames.map((f) => f.style.height)")
    assert styled == [f"{before[0]:g}px", f"{before[1]:g}px", "", "", ""]  # ours never resized
    # A widget's own frame that has left our site (a redirect, a link that escaped) is the
    # right window but the wrong origin: still ignored.
    widget(page, 1).evaluate("(url) => { location.href = url; }", f"{host.stranger}/forger")
    page.wait_for_function("seen.filter((m) => m.from === 1 && m.data.job === 999).length === 1")
    assert host_url(page) == address
    styled = page.eval_on_selector_all("iframe", "frames => frames.map((f) => f.style.height)")
    assert styled[:2] == [f"{before[0]:g}px", f"{before[1]:g}px"]
    assert page.errors == []
