"""Real-browser helpers: Debian's chromium driven by Playwright, the app on a live port, and
what the browser suites measure pages with (axe-core, bytes and hosts per page)."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = (
    os.environ.get("CAREERS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
# Flags for a closed network: no background fetches to Google's hosts (see the env notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BUDGET = 60 * 1024  # bytes per page, HTML + CSS + JS + images, before any compression


def require_chromium() -> None:
    """Skip locally without chromium; in CI (CI=true) a missing browser is a failure."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM}; .ci/run should install it")
        pytest.skip("chromium not installed")


@contextmanager
def live_server(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve the app on a loopback port (a free one unless given) in a thread; yield its
    base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fill_application(page, cv_path, *, email: str = "juergen@example.com") -> None:
    """Fill the sample application form (tests/applying.py FORM) the way a candidate does."""
    page.fill("#field-first_name", "Jürgen")
    page.fill("#field-last_name", "Müller")
    page.fill("#field-email", email)
    page.select_option("#field-custom_attribute_1002", "linkedin")
    page.fill("#field-message", "Zeile 1\nZeile 2")
    page.set_input_files("#file-cv", str(cv_path))
    page.check("#field-consent")


def audit(page, label: str) -> None:
    """Run axe on the page as it is now; fail with every violation spelled out."""
    page.add_script_tag(path=str(axe_script()))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG,
    )
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
    assert violations == [], f"{label}: {json.dumps(violations, indent=1)}"


def new_page(browser, *, javascript=True, width=1280):
    # bypass_csp lets the test inject axe; the pages themselves run under their real CSP.
    context = browser.new_context(
        bypass_csp=True, java_script_enabled=javascript, viewport={"width": width, "height": 900}
    )
    return context, context.new_page()


def axe_script() -> Path:
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).with_name("axe.min.js")


class Recorder:
    """Every request a page makes, and the bytes of every answer."""

    def __init__(self, page) -> None:
        self.hosts: set[str] = set()
        self.bytes = 0
        self.urls: list[str] = []
        page.on("request", lambda request: self.hosts.add(urlsplit(request.url).netloc))
        page.on("response", self._response)

    def _response(self, response) -> None:
        self.urls.append(response.url)
        try:
            self.bytes += len(response.body())
        except Exception:  # redirects have no body
            pass

    def reset(self) -> None:
        self.hosts, self.bytes, self.urls = set(), 0, []
