"""Real-browser helpers: Debian's chromium driven by Playwright, and the app on a live port."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
